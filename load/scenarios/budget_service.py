"""budget_service: a handful of budgets per user (monthly per category, weekly, yearly with rollover), read
with their current and past periods, the alerts, edits, and the occasional short-lived budget."""

import random
import secrets

from locust import task

from load.base import ApiUser
from load.data import EXPENSES, budget_body


class BudgetUser(ApiUser):
    def on_start(self) -> None:
        super().on_start()
        # Category ids as expense_service would hand them out: one stable id per category name and user.
        self.categories = {name: secrets.token_hex(12) for name in EXPENSES}
        self.budget_ids: list[str] = []
        for name in ("food", "transport", None):
            body = budget_body(self.categories[name] if name else None, months_back=random.randrange(0, 6))
            response = self.send("POST", "/api/budgets", json=body, headers=self.idempotency_key())
            if response.status_code == 201:
                self.budget_ids.append(response.json()["id"])

    @task(6)
    def read_one(self) -> None:
        if self.budget_ids:
            self.get(f"/api/budgets/{self.pick(self.budget_ids)}", name="/api/budgets/{id}")

    @task(4)
    def list_all(self) -> None:
        self.get("/api/budgets", name="/api/budgets")

    @task(1)
    def list_for_a_category(self) -> None:
        self.get("/api/budgets", name="/api/budgets?category_id",
                 params={"category_id": self.categories["food"]})

    @task(2)
    def past_periods(self) -> None:
        if self.budget_ids:
            self.get(f"/api/budgets/{self.pick(self.budget_ids)}/periods", name="/api/budgets/{id}/periods",
                     params={"limit": 12})

    @task(2)
    def alerts(self) -> None:
        self.get("/api/budgets/alerts", name="/api/budgets/alerts")

    @task(1)
    def raise_the_limit(self) -> None:
        if self.budget_ids:
            self.send("PATCH", f"/api/budgets/{self.pick(self.budget_ids)}", name="/api/budgets/{id}",
                      json={"limit_amount": f"{random.randint(100, 900)}.00"})

    @task(1)
    def short_lived_budget(self) -> None:
        category = random.choice(list(self.categories))
        response = self.send("POST", "/api/budgets", json=budget_body(self.categories[category], months_back=0))
        if response.status_code == 201:
            self.send("DELETE", f"/api/budgets/{response.json()['id']}", name="/api/budgets/{id}")
