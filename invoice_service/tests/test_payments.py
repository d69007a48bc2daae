"""Payments: partial, paying in full (invoice.paid once), overpayment, idempotent retries."""

import asyncio

from devtools.testing.waiting import wait_until
from invoice_service.tests.helpers import add_client, create_invoice, problem_fields, sent_invoice
from shared.outbox import OUTBOX


async def test_two_partial_payments_make_it_paid_and_emit_exactly_one_invoice_paid(stack):
    await stack.start("invoice_service")
    spy = await stack.spy("invoice.*")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    invoice = await sent_invoice(api)  # total 1234.40 EUR
    url = f"/api/invoices/{invoice['id']}/payments"

    first = await api.post(url, json={"amount": "600.00", "paid_date": "2026-03-20", "method": "bank_transfer"})
    assert first.status_code == 201, first.text
    after_first = first.json()["invoice"]
    assert (after_first["status"], after_first["amount_paid"], after_first["balance_due"]) == (
        "partially_paid", "600.00", "634.40")

    second = await api.post(url, json={"amount": "634.40", "paid_date": "2026-03-28", "method": "card",
                                       "reference": "txn-42"})
    assert second.status_code == 201, second.text
    paid = second.json()["invoice"]
    assert (paid["status"], paid["amount_paid"], paid["balance_due"], paid["paid_date"]) == (
        "paid", "1234.40", "0.00", "2026-03-28")
    assert [p["amount"] for p in paid["payments"]] == ["600.00", "634.40"]

    [event] = await spy.wait_for("invoice.paid")
    data = event["data"]
    assert (data["invoice_id"], data["number"], data["client_id"]) == (invoice["id"], invoice["number"],
                                                                       invoice["client_id"])
    assert (data["total"], data["balance_due"], data["currency"], data["paid_date"]) == (
        "1234.40", "0.00", "EUR", "2026-03-28")
    assert (data["client_name"], data["client_email"]) == ("Acme Corp", "billing@acme.example")
    assert event["user_id"] == "freelancer-1"

    # A later event, published after anything the payments wrote: still exactly one invoice.paid.
    barrier = await create_invoice(api, invoice["client_id"])
    await api.post(f"/api/invoices/{barrier['id']}/send")
    await wait_until(lambda: any(e["data"]["invoice_id"] == barrier["id"] for e in spy.of_type("invoice.sent")),
                     message="the barrier event")
    assert len(spy.of_type("invoice.paid")) == 1
    runtime = stack.runtime("invoice_service")
    assert await runtime.database.db[OUTBOX].count_documents({"routing_key": "invoice.paid"}) == 1
    after_paid = await api.post(url, json={"amount": "0.01"})
    assert after_paid.status_code == 422 and problem_fields(after_paid) == ["amount"]


async def test_an_overpayment_is_refused_with_422_naming_amount_even_when_racing(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    invoice = await sent_invoice(api)
    url = f"/api/invoices/{invoice['id']}/payments"

    over = await api.post(url, json={"amount": "1234.41"})
    assert over.status_code == 422
    assert problem_fields(over) == ["amount"]
    assert "exceeds the balance due of 1234.40 EUR" in over.json()["detail"]

    # Two concurrent payments that only fit one at a time: one is recorded, the other refused.
    racing = await asyncio.gather(api.post(url, json={"amount": "1000.00"}), api.post(url, json={"amount": "1000.00"}))
    assert sorted(r.status_code for r in racing) == [201, 422]
    current = (await api.get(f"/api/invoices/{invoice['id']}")).json()
    assert (current["amount_paid"], current["balance_due"], current["status"]) == ("1000.00", "234.40",
                                                                                   "partially_paid")


async def test_a_retried_payment_with_the_same_idempotency_key_is_recorded_once(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    invoice = await sent_invoice(api)
    url = f"/api/invoices/{invoice['id']}/payments"
    body = {"amount": "100.00", "paid_date": "2026-03-05"}
    key = {"Idempotency-Key": "pay-2026-03-05-a"}

    responses = await asyncio.gather(*(api.post(url, json=body, headers=key) for _ in range(4)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["payment"]["id"] for r in responses}) == 1
    retried = await api.post(url, json=body, headers=key)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json()["payment"]["id"] == responses[0].json()["payment"]["id"]

    payments = (await api.get(url)).json()
    assert [(p["amount"], p["currency"]) for p in payments] == [("100.00", "EUR")]
    assert (await api.get(f"/api/invoices/{invoice['id']}")).json()["balance_due"] == "1134.40"

    different = await api.post(url, json={**body, "amount": "200.00"}, headers=key)
    assert different.status_code == 422 and problem_fields(different) == ["Idempotency-Key"]
    unkeyed = await api.post(url, json=body)
    assert unkeyed.status_code == 201  # without a key, the same body is a second payment
    assert unkeyed.json()["invoice"]["balance_due"] == "1034.40"


async def test_payments_are_refused_on_drafts_in_another_currency_or_with_too_many_decimals(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    draft = await create_invoice(api, await add_client(api))
    assert (await api.post(f"/api/invoices/{draft['id']}/payments", json={"amount": "1.00"})).status_code == 409

    invoice = await sent_invoice(api)
    url = f"/api/invoices/{invoice['id']}/payments"
    wrong_currency = await api.post(url, json={"amount": "1.00", "currency": "USD"})
    assert wrong_currency.status_code == 422 and problem_fields(wrong_currency) == ["currency"]
    fractions = await api.post(url, json={"amount": "1.005"})
    assert fractions.status_code == 422 and problem_fields(fractions) == ["amount"]
    negative = await api.post(url, json={"amount": "-5"})
    assert negative.status_code == 422 and problem_fields(negative) == ["amount"]
    as_float = await api.post(url, json={"amount": 12.5})
    assert as_float.status_code == 422 and problem_fields(as_float) == ["amount"]
    future = await api.post(url, json={"amount": "1.00", "paid_date": "2999-01-01"})
    assert future.status_code == 422 and problem_fields(future) == ["paid_date"]
    assert (await api.get(url)).json() == []
