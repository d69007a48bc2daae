"""Sending, payments and the overdue job: each state change and its event in one transaction."""

import asyncio
import base64
import logging
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from bson import ObjectId

from invoice_service.models import Client, Invoice, InvoiceStatus, Party, Payment, utcnow
from invoice_service.pdf import PdfFonts, render_invoice_pdf
from invoice_service.schemas import PaymentCreate
from invoice_service.service_clients import client_party, get_profile, sender_party
from invoice_service.service_invoices import get_invoice, overdue_condition
from shared.db import replace_at_revision
from shared.errors import Conflict, field_problem
from shared.events import InvoiceOverdue, InvoicePaid, InvoiceSent
from shared.idempotency import run_idempotent
from shared.money import fits_currency
from shared.outbox import Tx
from shared.runtime import Runtime

log = logging.getLogger("invoice_service.lifecycle")

PAYMENT_SCOPE = "payment.create"  # Idempotency-Key scope; the invoice id is part of the request
MAX_PAYMENTS = 100  # per invoice: keeps the document and its payment list bounded


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def fonts_of(runtime: Runtime) -> PdfFonts:
    settings = runtime.settings
    return PdfFonts(regular=getattr(settings, "pdf_font_regular", None), bold=getattr(settings, "pdf_font_bold", None))


def event_fields(invoice: Invoice) -> dict[str, Any]:
    """The common part of every invoice.* event (shared.events._InvoiceEvent)."""
    client = invoice.client or Party(name="")
    return {"invoice_id": str(invoice.id), "number": invoice.number, "client_id": invoice.client_id,
            "client_name": client.name, "client_email": client.email, "currency": invoice.currency,
            "total": invoice.total, "balance_due": invoice.balance_due, "issue_date": invoice.issue_date,
            "due_date": invoice.due_date}


async def send_invoice(*, runtime: Runtime, user_id: str, invoice_id: str) -> Invoice:
    """draft → sent: snapshot client and sender, render the PDF, emit invoice.sent carrying it."""
    fonts = fonts_of(runtime)

    async def body(tx: Tx) -> Invoice:
        invoice = await get_invoice(user_id=user_id, invoice_id=invoice_id, session=tx.session)
        if invoice.status != InvoiceStatus.DRAFT:
            raise Conflict(f"invoice {invoice.number} is {invoice.status.value}; only a draft can be sent")
        client = await Client.find_one({"_id": ObjectId(invoice.client_id), "user_id": user_id},
                                       session=tx.session)
        if client is None:
            raise Conflict("the invoice's client no longer exists; choose another client first")
        if not client.email:
            raise Conflict(f"client {client.name} has no email address; add one before sending")
        profile = await get_profile(user_id=user_id, session=tx.session)
        if not profile.name:
            raise Conflict("set your business profile (PUT /api/business-profile) before sending invoices")
        invoice.client, invoice.sender = client_party(client), sender_party(profile)
        invoice.status, invoice.sent_at = InvoiceStatus.SENT, utcnow()
        pdf = render_invoice_pdf(invoice, client=invoice.client, sender=invoice.sender, fonts=fonts)
        await replace_at_revision(invoice, tx.session)
        await tx.publish(InvoiceSent(**event_fields(invoice), sender_name=profile.name,
                                     pdf_base64=base64.b64encode(pdf).decode()), user_id=user_id)
        return invoice

    return await runtime.atomic(body)


async def invoice_pdf(*, runtime: Runtime, user_id: str, invoice_id: str) -> tuple[bytes, str]:
    """The PDF and a file name; a draft shows the client and profile as they are now."""
    invoice = await get_invoice(user_id=user_id, invoice_id=invoice_id)
    client, sender = invoice.client, invoice.sender
    if client is None:
        found = await Client.find_one({"_id": ObjectId(invoice.client_id), "user_id": user_id})
        client = client_party(found) if found else None
    if sender is None:
        sender = sender_party(await get_profile(user_id=user_id))
    pdf = render_invoice_pdf(invoice, client=client, sender=sender, fonts=fonts_of(runtime))
    return pdf, re.sub(r"[^A-Za-z0-9._-]+", "_", invoice.number) + ".pdf"


async def record_payment(*, runtime: Runtime, user_id: str, invoice_id: str, data: PaymentCreate,
                         idempotency_key: str | None, today: date) -> tuple[Invoice, Payment, bool]:
    """A (partial) payment; the one that clears the balance marks it paid and emits invoice.paid.
    Returns (invoice, payment, created): created is False when the Idempotency-Key replays an earlier one."""
    if data.paid_date is not None and data.paid_date > today + timedelta(days=1):
        raise field_problem("paid_date", "cannot be in the future")

    made: list[tuple[Invoice, Payment]] = []

    async def create(tx: Tx) -> dict[str, Any]:
        invoice = await get_invoice(user_id=user_id, invoice_id=invoice_id, session=tx.session)
        if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            raise Conflict(f"invoice {invoice.number} is {invoice.status.value}; payments are recorded on sent "
                           "invoices only")
        if len(invoice.payments) >= MAX_PAYMENTS:
            raise Conflict(f"invoice {invoice.number} already has {MAX_PAYMENTS} payments")
        currency = invoice.currency
        if data.currency is not None and data.currency != currency:
            raise field_problem("currency", f"must be the invoice's currency, {currency}")
        if not fits_currency(data.amount, currency):
            raise field_problem("amount", f"has more decimals than {currency} allows")
        if data.amount > invoice.balance_due:
            raise field_problem("amount", f"{data.amount} {currency} exceeds the balance due of "
                                          f"{invoice.balance_due} {currency}; overpayments are refused")
        payment = Payment(id=str(ObjectId()), amount=data.amount, paid_date=data.paid_date or today,
                          method=data.method, reference=data.reference)
        invoice.payments.append(payment)
        invoice.amount_paid = invoice.amount_paid + data.amount
        invoice.balance_due = invoice.total - invoice.amount_paid
        if invoice.balance_due == 0:
            invoice.status, invoice.paid_date = InvoiceStatus.PAID, payment.paid_date
            await tx.publish(InvoicePaid(**event_fields(invoice), paid_date=payment.paid_date), user_id=user_id)
        else:
            invoice.status = InvoiceStatus.PARTIALLY_PAID
        await replace_at_revision(invoice, tx.session)
        made[:] = [(invoice, payment)]
        return {"invoice_id": str(invoice.id), "payment_id": payment.id}  # a retry reads them as they are now

    made_ids, replayed = await run_idempotent(
        runtime, user_id=user_id, scope=PAYMENT_SCOPE, key=idempotency_key, create=create,
        request={"invoice_id": invoice_id, **data.model_dump(mode="json")})
    if not replayed:
        return *made[0], True
    invoice = await get_invoice(user_id=user_id, invoice_id=made_ids["invoice_id"])
    return invoice, next(p for p in invoice.payments if p.id == made_ids["payment_id"]), False


async def emit_overdue_notices(*, runtime: Runtime, today: date) -> int:
    """Emit invoice.overdue for every invoice past due on `today` not yet notified; returns how many.
    Once per invoice, ever: the mark and the event commit together, conditional on no mark yet."""
    candidates = Invoice.get_pymongo_collection().find(
        {**overdue_condition(today), "overdue_notified_at": None}, projection={"_id": 1})
    emitted = 0
    async for candidate in candidates:
        try:
            if await runtime.atomic(lambda tx, oid=candidate["_id"]: _mark_overdue(tx, oid, today)):
                emitted += 1
        except Exception:  # one bad invoice must not stop the others; the next scan retries it
            log.exception("overdue notice failed for invoice %s", candidate["_id"])
    return emitted


async def _mark_overdue(tx: Tx, invoice_id: ObjectId, today: date) -> bool:
    invoice = await Invoice.find_one({"_id": invoice_id, **overdue_condition(today), "overdue_notified_at": None},
                                     session=tx.session)
    if invoice is None or invoice.balance_due <= Decimal(0):
        return False
    invoice.overdue_notified_at = utcnow()
    await replace_at_revision(invoice, tx.session)
    await tx.publish(InvoiceOverdue(**event_fields(invoice)), user_id=invoice.user_id)
    return True


async def overdue_scan_loop(runtime: Runtime) -> None:
    """The daily job, run every overdue_scan_interval_seconds (and once at start-up)."""
    interval = float(getattr(runtime.settings, "overdue_scan_interval_seconds", 0))
    if interval <= 0:
        return
    while True:
        try:
            count = await emit_overdue_notices(runtime=runtime, today=utc_today())
            if count:
                log.info("emitted %d invoice.overdue event(s)", count)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("overdue scan failed; retrying at the next interval")
        await asyncio.sleep(interval)
