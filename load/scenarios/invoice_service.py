"""invoice_service: a freelancer's week — clients, drafts with several lines (mixed tax rates, discounts),
the invoice list, reading and printing invoices, sending, partial and final payments, voiding a draft."""

import random
from decimal import Decimal

from locust import task

from load.base import ApiUser
from load.data import CLIENT_NAMES, invoice_lines


class InvoiceUser(ApiUser):
    def on_start(self) -> None:
        super().on_start()
        self.send("PUT", "/api/business-profile", json={
            "name": f"Load Studio {self.account.user_id[-4:]}", "email": "billing@load-studio.example",
            "address": "1 Benchmark Lane, Berlin", "tax_id": "DE123456789",
            "payment_details": "IBAN DE89 3704 0044 0532 0130 00", "default_payment_terms_days": 14})
        self.client_ids: list[str] = []
        for name in random.sample(CLIENT_NAMES, k=3):
            response = self.send("POST", "/api/clients", json={
                "name": name, "email": f"accounts@{name.split()[0].lower()}.example", "address": "Main Street 1"})
            if response.status_code == 201:
                self.client_ids.append(response.json()["id"])
        self.drafts: list[str] = []
        self.invoices: list[str] = []

    @task(3)
    def create_draft(self) -> None:
        if not self.client_ids:
            return
        body = {"client_id": self.pick(self.client_ids), "currency": "EUR", "lines": invoice_lines(),
                "notes": "Thank you for your business."}
        if random.random() < 0.25:
            body["discount"] = {"kind": "amount", "value": "25.00"}
        response = self.send("POST", "/api/invoices", json=body, headers=self.idempotency_key())
        if response.status_code == 201:
            self.drafts.append(response.json()["id"])
            self.invoices.append(response.json()["id"])

    @task(5)
    def list_invoices(self) -> None:
        params = {"limit": 20, **({"status": random.choice(("draft", "sent", "paid"))} if random.random() < 0.5
                                  else {})}
        self.get("/api/invoices", name="/api/invoices", params=params)

    @task(5)
    def read_one(self) -> None:
        if self.invoices:
            self.get(f"/api/invoices/{self.pick(self.invoices)}", name="/api/invoices/{id}")

    @task(1)
    def edit_draft(self) -> None:
        if self.drafts:
            self.send("PATCH", f"/api/invoices/{self.pick(self.drafts)}", name="/api/invoices/{id}",
                      json={"lines": invoice_lines(), "terms": "Payable within 14 days."})

    @task(1)
    def print_pdf(self) -> None:
        if self.invoices:
            self.get(f"/api/invoices/{self.pick(self.invoices)}/pdf", name="/api/invoices/{id}/pdf")

    @task(1)
    def send_and_get_paid(self) -> None:
        """Send a draft, then a partial and a final payment (which emits invoice.paid)."""
        if not self.drafts:
            return
        invoice_id = self.drafts.pop(0)
        sent = self.send("POST", f"/api/invoices/{invoice_id}/send", name="/api/invoices/{id}/send")
        if sent.status_code != 200:
            return
        total = Decimal(sent.json()["total"])
        first = (total * Decimal("0.4")).quantize(Decimal("0.01"))
        for amount in (first, total - first):
            self.send("POST", f"/api/invoices/{invoice_id}/payments", name="/api/invoices/{id}/payments",
                      json={"amount": str(amount), "method": "bank_transfer", "reference": "Load test"},
                      headers=self.idempotency_key())
        self.get(f"/api/invoices/{invoice_id}/payments", name="/api/invoices/{id}/payments")

    @task(1)
    def void_a_draft(self) -> None:
        if len(self.drafts) > 3:
            self.send("POST", f"/api/invoices/{self.drafts.pop()}/void", name="/api/invoices/{id}/void")

    @task(2)
    def clients(self) -> None:
        self.get("/api/clients", name="/api/clients")
        if self.client_ids:
            self.get(f"/api/clients/{self.pick(self.client_ids)}", name="/api/clients/{id}")

    @task(1)
    def business_profile(self) -> None:
        self.get("/api/business-profile", name="/api/business-profile")
