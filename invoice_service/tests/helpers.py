"""Shared set-up for invoice_service tests: a sender profile, a client, and the worked three-line invoice."""

import io
from typing import Any

import httpx
from pypdf import PdfReader

# The worked example of the totals rule (the arithmetic is spelled out in test_invoices.py).
THREE_LINES: list[dict[str, Any]] = [
    {"description": "Design work", "quantity": "12.5", "unit_price": "80.00", "tax_rate": "20"},
    {"description": "Hosting", "quantity": "3", "unit_price": "19.99", "tax_rate": "10",
     "discount": {"kind": "percent", "value": "10"}},
    {"description": "Travel", "quantity": "1", "unit_price": "45.50", "tax_rate": "0",
     "discount": {"kind": "amount", "value": "5.50"}},
]
FIVE_PERCENT_OFF = {"kind": "percent", "value": "5"}


async def set_profile(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Ada Lovelace Consulting", "email": "ada@example.com", "address": "1 Analytical Row, London",
            "tax_id": "GB123456789", "payment_details": "IBAN GB33BUKB20201555555555", **overrides}
    response = await api.put("/api/business-profile", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def add_client(api: httpx.AsyncClient, **overrides: Any) -> str:
    body = {"name": "Acme Corp", "email": "billing@acme.example", "address": "5 Main St, Springfield",
            "tax_id": "US-99-1234567", **overrides}
    response = await api.post("/api/clients", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def create_invoice(api: httpx.AsyncClient, client_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"client_id": client_id, "issue_date": "2026-03-02", "due_date": "2026-04-01", "currency": "EUR",
            "lines": THREE_LINES, "discount": FIVE_PERCENT_OFF, "notes": "Thank you!", **overrides}
    response = await api.post("/api/invoices", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def sent_invoice(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """Profile, client, invoice, sent: the starting point of payment and overdue tests."""
    await set_profile(api)
    client_id = await add_client(api)
    invoice = await create_invoice(api, client_id, **overrides)
    response = await api.post(f"/api/invoices/{invoice['id']}/send")
    assert response.status_code == 200, response.text
    return response.json()


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [error["field"] for error in response.json().get("errors", [])]
