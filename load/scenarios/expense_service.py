"""expense_service: browse and filter a year of transactions, record new ones, edit, delete, export, import."""

import random

from locust import task

from load.base import ApiUser
from load.data import EXPENSES, csv_rows, month_range, transaction


class ExpenseUser(ApiUser):
    def on_start(self) -> None:
        super().on_start()
        self.own_ids: list[str] = []

    @task(6)
    def list_a_month(self) -> None:
        first, last = month_range(random.randrange(0, 12))
        self.get("/api/expenses", name="/api/expenses?date_from&date_to",
                 params={"date_from": first.isoformat(), "date_to": last.isoformat(), "limit": 50})

    @task(3)
    def list_by_category_largest_first(self) -> None:
        self.get("/api/expenses", name="/api/expenses?category&sort=amount",
                 params={"type": "expense", "category": random.choice(list(EXPENSES)), "sort": "amount",
                         "order": "desc", "limit": 20})

    @task(1)
    def search_descriptions(self) -> None:
        self.get("/api/expenses", name="/api/expenses?q", params={"q": random.choice(("market", "ticket", "rent"))})

    @task(5)
    def record(self) -> None:
        headers = self.idempotency_key() if random.random() < 0.5 else {}
        response = self.send("POST", "/api/expenses", json=transaction(months=12), headers=headers)
        if response.status_code == 201:
            self.own_ids.append(response.json()["id"])

    @task(4)
    def read_one(self) -> None:
        if self.own_ids:
            self.get(f"/api/expenses/{self.pick(self.own_ids)}", name="/api/expenses/{id}")

    @task(1)
    def edit_one(self) -> None:
        if self.own_ids:
            self.send("PATCH", f"/api/expenses/{self.pick(self.own_ids)}", name="/api/expenses/{id}",
                      json={"notes": "split with a friend", "tags": ["shared"]})

    @task(1)
    def delete_one(self) -> None:
        if len(self.own_ids) > 5:
            expense_id = self.own_ids.pop(random.randrange(len(self.own_ids)))
            self.send("DELETE", f"/api/expenses/{expense_id}", name="/api/expenses/{id}")

    @task(1)
    def categories(self) -> None:
        self.get("/api/categories", name="/api/categories?kind", params={"kind": "expense", "limit": 100})

    @task(1)
    def export_a_quarter(self) -> None:
        first, _ = month_range(3)
        self.get("/api/expenses/export.csv", name="/api/expenses/export.csv",
                 params={"date_from": first.isoformat()})

    @task(1)
    def import_a_statement(self) -> None:
        self.send("POST", "/api/expenses/import", data=csv_rows(random.randint(5, 15), months=2).encode(),
                  headers={"Content-Type": "text/csv"})
