"""gateway: the same reads a dashboard makes, through the gateway (token check, routing, streaming proxy).
Every routed service behind it must be running too; expense_service gets a year of seeded transactions."""

import random

from locust import task

from load.base import ApiUser
from load.data import month_range


class GatewayUser(ApiUser):
    @task(4)
    def profile(self) -> None:
        self.get("/api/users/me", name="/api/users/me")

    @task(6)
    def expenses_of_a_month(self) -> None:
        first, last = month_range(random.randrange(0, 12))
        self.get("/api/expenses", name="/api/expenses?date_from&date_to",
                 params={"date_from": first.isoformat(), "date_to": last.isoformat(), "limit": 50})

    @task(3)
    def budgets(self) -> None:
        self.get("/api/budgets", name="/api/budgets")

    @task(4)
    def unread_notifications(self) -> None:
        self.get("/api/notifications/unread-count", name="/api/notifications/unread-count")

    @task(2)
    def summary(self) -> None:
        self.get("/api/analytics/summary", name="/api/analytics/summary")

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="/health")
