"""Sending, the sent invoice's immutability, voiding, and the overdue job."""

import base64
from datetime import date, datetime, timedelta, timezone

import pytest
from pymongo.errors import OperationFailure

from devtools.testing.waiting import wait_until
from invoice_service.service_invoices import get_invoice
from invoice_service.service_lifecycle import emit_overdue_notices
from invoice_service.tests.helpers import (
    THREE_LINES,
    add_client,
    create_invoice,
    pdf_text,
    problem_fields,
    sent_invoice,
    set_profile,
)
from shared.db import replace_at_revision
from shared.outbox import OUTBOX

NO_BACKGROUND_SCAN = {"invoice_service": {"overdue_scan_interval_seconds": 0}}


async def test_send_emits_invoice_sent_with_the_pdf_and_freezes_client_and_sender(stack):
    await stack.start("invoice_service")
    spy = await stack.spy("invoice.*")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    await set_profile(api)
    client_id = await add_client(api)
    invoice = await create_invoice(api, client_id)

    response = await api.post(f"/api/invoices/{invoice['id']}/send")

    assert response.status_code == 200, response.text
    sent = response.json()
    assert sent["status"] == "sent" and sent["sent_at"]
    [event] = await spy.wait_for("invoice.sent")
    assert event["user_id"] == "freelancer-1" and event["producer"] == "invoice_service"
    data = event["data"]
    assert (data["invoice_id"], data["number"], data["client_id"]) == (invoice["id"], "INV-2026-0001", client_id)
    assert (data["client_name"], data["client_email"]) == ("Acme Corp", "billing@acme.example")
    assert (data["total"], data["balance_due"], data["currency"]) == ("1234.40", "1234.40", "EUR")
    assert (data["issue_date"], data["due_date"], data["sender_name"]) == ("2026-03-02", "2026-04-01",
                                                                           "Ada Lovelace Consulting")
    attached = base64.b64decode(data["pdf_base64"])
    assert attached.startswith(b"%PDF-")
    text = pdf_text(attached)
    for expected in ("Design work", "Hosting", "Travel", "1,234.40", "billing@acme.example"):
        assert expected in text

    # Later edits of the client and the profile do not rewrite the sent invoice.
    await api.patch(f"/api/clients/{client_id}", json={"name": "Acme Renamed", "email": "new@acme.example"})
    await set_profile(api, name="New Business Name")
    again = (await api.get(f"/api/invoices/{invoice['id']}")).json()
    assert (again["client"]["name"], again["client"]["email"]) == ("Acme Corp", "billing@acme.example")
    assert again["sender"]["name"] == "Ada Lovelace Consulting"
    reprinted = pdf_text((await api.get(f"/api/invoices/{invoice['id']}/pdf")).content)
    assert "Acme Corp" in reprinted and "Acme Renamed" not in reprinted and "New Business Name" not in reprinted


async def test_a_sent_invoice_cannot_be_edited_or_resent_only_voided_and_reissued(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    invoice = await sent_invoice(api)

    edit = await api.patch(f"/api/invoices/{invoice['id']}", json={"notes": "changed"})
    assert edit.status_code == 409
    assert edit.headers["content-type"].startswith("application/problem+json")
    assert "void it and issue a new one" in edit.json()["detail"]
    assert (await api.post(f"/api/invoices/{invoice['id']}/send")).status_code == 409

    voided = await api.post(f"/api/invoices/{invoice['id']}/void")
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    assert (await api.post(f"/api/invoices/{invoice['id']}/void")).status_code == 409
    payment = await api.post(f"/api/invoices/{invoice['id']}/payments", json={"amount": "10.00"})
    assert payment.status_code == 409

    reissued = await create_invoice(api, invoice["client_id"])
    assert reissued["number"] == "INV-2026-0002"  # the void one keeps its number: no gap, no reuse


async def test_sending_needs_a_client_email_and_a_business_profile(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    no_email = await add_client(api, email=None)
    invoice = await create_invoice(api, no_email)

    without_profile = await api.post(f"/api/invoices/{invoice['id']}/send")
    assert without_profile.status_code == 409
    await set_profile(api)
    without_email = await api.post(f"/api/invoices/{invoice['id']}/send")
    assert without_email.status_code == 409 and "no email address" in without_email.json()["detail"]
    assert (await api.get(f"/api/invoices/{invoice['id']}")).json()["status"] == "draft"


async def test_overdue_job_emits_invoice_overdue_once_per_invoice_even_when_run_twice(stack):
    await stack.start("invoice_service", overrides=NO_BACKGROUND_SCAN)
    spy = await stack.spy("invoice.*")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    runtime = stack.runtime("invoice_service")
    await set_profile(api)
    client_id = await add_client(api)
    one_line = THREE_LINES[:1]
    due_soon = await create_invoice(api, client_id, issue_date="2026-03-01", due_date="2026-03-31", lines=one_line)
    due_later = await create_invoice(api, client_id, issue_date="2026-03-01", due_date="2026-04-30", lines=one_line)
    paid = await create_invoice(api, client_id, issue_date="2026-03-01", due_date="2026-03-15", lines=one_line)
    draft = await create_invoice(api, client_id, issue_date="2026-03-01", due_date="2026-03-15", lines=one_line)
    for invoice in (due_soon, due_later, paid):
        assert (await api.post(f"/api/invoices/{invoice['id']}/send")).status_code == 200
    paying = await api.post(f"/api/invoices/{paid['id']}/payments", json={"amount": paid["total"],
                                                                          "paid_date": "2026-03-10"})
    assert paying.status_code == 201

    first = await emit_overdue_notices(runtime=runtime, today=date(2026, 4, 1))
    second = await emit_overdue_notices(runtime=runtime, today=date(2026, 4, 1))
    assert (first, second) == (1, 0)
    later = await emit_overdue_notices(runtime=runtime, today=date(2026, 5, 1))
    rerun = await emit_overdue_notices(runtime=runtime, today=date(2026, 5, 2))
    assert (later, rerun) == (1, 0)

    # Barrier: an event written after the scans; the relay publishes in commit order.
    barrier = await create_invoice(api, client_id, lines=one_line)
    await api.post(f"/api/invoices/{barrier['id']}/send")
    await wait_for_number(spy, "invoice.sent", barrier["number"])
    overdue = spy.of_type("invoice.overdue")
    assert sorted(e["data"]["invoice_id"] for e in overdue) == sorted([due_soon["id"], due_later["id"]])
    assert draft["id"] not in {e["data"]["invoice_id"] for e in overdue}
    assert {e["data"]["balance_due"] for e in overdue} == {due_soon["balance_due"]}
    assert await runtime.database.db[OUTBOX].count_documents({"routing_key": "invoice.overdue"}) == 2


async def wait_for_number(spy, routing_key: str, number: str) -> None:
    await wait_until(lambda: any(e["data"]["number"] == number for e in spy.of_type(routing_key)),
                     timeout=15, message=f"{routing_key} for {number}")


async def test_the_background_job_notices_an_overdue_invoice_on_its_own(stack):
    await stack.start("invoice_service", overrides={"invoice_service": {"overdue_scan_interval_seconds": 0.3}})
    spy = await stack.spy("invoice.overdue")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    past = datetime.now(timezone.utc).date() - timedelta(days=40)
    invoice = await sent_invoice(api, issue_date=past.isoformat(), due_date=(past + timedelta(days=10)).isoformat())

    [event] = await spy.wait_for("invoice.overdue")
    assert event["data"]["invoice_id"] == invoice["id"]
    assert (await api.get(f"/api/invoices/{invoice['id']}")).json()["is_overdue"] is True


async def test_a_client_used_by_a_draft_cannot_be_deleted(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    client_id = await add_client(api)
    invoice = await create_invoice(api, client_id)
    refused = await api.delete(f"/api/clients/{client_id}")
    assert refused.status_code == 409 and problem_fields(refused) == []
    await api.post(f"/api/invoices/{invoice['id']}/void")
    assert (await api.delete(f"/api/clients/{client_id}")).status_code == 204
    assert (await api.get(f"/api/clients/{client_id}")).status_code == 404


async def test_a_stale_invoice_write_is_refused_as_a_transient_error_so_its_transaction_is_retried(stack):
    await stack.start("invoice_service")
    api = stack.client("invoice_service", headers=stack.auth("freelancer-1"))
    invoice = await create_invoice(api, await add_client(api))
    stale = await get_invoice(user_id="freelancer-1", invoice_id=invoice["id"])
    fresh = await get_invoice(user_id="freelancer-1", invoice_id=invoice["id"])
    fresh.notes = "written first"
    await replace_at_revision(fresh, None)

    stale.notes = "written from an outdated copy"
    with pytest.raises(OperationFailure) as refused:
        await replace_at_revision(stale, None)

    assert refused.value.has_error_label("TransientTransactionError")  # with_transaction retries the body
    assert (await api.get(f"/api/invoices/{invoice['id']}")).json()["notes"] == "written first"
