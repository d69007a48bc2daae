"""notification_service: the bell icon (unread count, newest notifications), reading them, channel
preferences, and weekly report previews of recent weeks."""

import random
from datetime import date, timedelta

from locust import task

from load.base import ApiUser
from load.data import iso_week

NOTIFICATION_TYPES = ("welcome", "budget_threshold_80", "budget_exceeded", "invoice_paid", "invoice_overdue")


class NotificationUser(ApiUser):
    def on_start(self) -> None:
        super().on_start()
        self.seen_ids: list[str] = []

    @task(8)
    def unread_count(self) -> None:
        self.get("/api/notifications/unread-count", name="/api/notifications/unread-count")

    @task(5)
    def newest(self) -> None:
        params = {"limit": 20, **({"unread": "true"} if random.random() < 0.5 else {})}
        response = self.get("/api/notifications", name="/api/notifications", params=params)
        if response.status_code == 200:
            self.seen_ids = [n["id"] for n in response.json()["items"]]

    @task(2)
    def open_one(self) -> None:
        if self.seen_ids:
            notification_id = self.pick(self.seen_ids)
            self.get(f"/api/notifications/{notification_id}", name="/api/notifications/{id}")
            self.send("POST", f"/api/notifications/{notification_id}/read", name="/api/notifications/{id}/read")

    @task(1)
    def mark_all_read(self) -> None:
        self.send("POST", "/api/notifications/read-all", name="/api/notifications/read-all")

    @task(2)
    def preferences(self) -> None:
        self.get("/api/notifications/preferences", name="/api/notifications/preferences")

    @task(1)
    def change_preferences(self) -> None:
        kind = random.choice(NOTIFICATION_TYPES)
        self.send("PUT", "/api/notifications/preferences", name="/api/notifications/preferences",
                  json={"types": {kind: {"email": random.random() < 0.5}}})

    @task(1)
    def weekly_report(self) -> None:
        week = iso_week(date.today() - timedelta(weeks=random.randint(1, 8)))
        self.send("POST", "/api/notifications/reports/weekly/preview", json={"week": week},
                  name="/api/notifications/reports/weekly/preview")
