"""Invoices: numbering, pricing, drafts (create, edit, void), reading and listing."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from invoice_service.models import (
    OPEN_STATUSES,
    Discount,
    Invoice,
    InvoiceCounter,
    InvoiceStatus,
    Line,
    TaxLine,
    utcnow,
)
from invoice_service.numbering import format_number
from invoice_service.schemas import InvoiceCreate, InvoiceUpdate
from invoice_service.service_clients import get_client, get_profile
from invoice_service.totals import DiscountInput, LineInput, TotalsError, compute_totals
from shared.db import replace_at_revision, stored_day
from shared.errors import Conflict, NotFound, field_problem
from shared.idempotency import run_idempotent
from shared.ids import parse_object_id
from shared.money import MAX_AMOUNT, fits_currency, round_money
from shared.outbox import Tx
from shared.runtime import Runtime
from shared.schemas import PageParams

CREATE_SCOPE = "invoice.create"  # Idempotency-Key scope


class PricedLine(Protocol):
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount: Any  # an object with .kind and .value, or None


def price(lines: Sequence[PricedLine], discount: Any, currency: str) -> dict[str, Any]:
    """Lines, discount and totals as stored on the invoice, computed by totals.compute_totals."""
    for i, line in enumerate(lines):
        if line.discount is not None and line.discount.kind == "amount" and \
                not fits_currency(line.discount.value, currency):
            raise field_problem(f"lines.{i}.discount.value", f"has more decimals than {currency} allows")
    if discount is not None and discount.kind == "amount" and not fits_currency(discount.value, currency):
        raise field_problem("discount.value", f"has more decimals than {currency} allows")
    inputs = [LineInput(quantity=line.quantity, unit_price=line.unit_price, tax_rate=line.tax_rate,
                        discount=_discount_input(line.discount)) for line in lines]
    try:
        totals = compute_totals(inputs, _discount_input(discount), currency)
    except TotalsError as exc:
        raise field_problem(exc.field, exc.message) from None
    if totals.total > MAX_AMOUNT:
        raise field_problem("lines", "the invoice total is too large")
    return {
        "lines": [Line(description=line.description, quantity=line.quantity, unit_price=line.unit_price,
                       tax_rate=line.tax_rate, discount=_discount(line.discount), net=t.net,
                       discount_share=t.discount_share, taxable=t.taxable)
                  for line, t in zip(lines, totals.lines, strict=True)],
        "discount": _discount(discount),
        "subtotal": totals.subtotal, "discount_total": totals.discount_total,
        "tax_lines": [TaxLine(rate=t.rate, base=t.base, tax=t.tax) for t in totals.tax_lines],
        "tax_total": totals.tax_total, "total": totals.total,
    }


def _discount_input(discount: Any) -> DiscountInput | None:
    return None if discount is None else DiscountInput(kind=discount.kind, value=discount.value)


def _discount(discount: Any) -> Discount | None:
    return None if discount is None else Discount(kind=discount.kind, value=discount.value)


def resolve_due_date(issue_date: date, due_date: date | None, terms_days: int | None,
                     default_terms_days: int) -> tuple[date, int | None]:
    if due_date is not None:
        if due_date < issue_date:
            raise field_problem("due_date", "must be on or after the issue date")
        return due_date, None
    days = default_terms_days if terms_days is None else terms_days
    return issue_date + timedelta(days=days), days


async def next_sequence(*, user_id: str, year: int, session: AsyncClientSession) -> int:
    """The next number of the user's year, in the caller's transaction: an aborted creation gives it back."""
    counter = await InvoiceCounter.get_pymongo_collection().find_one_and_update(
        {"_id": f"{user_id}:{year}"},
        {"$inc": {"seq": 1}, "$setOnInsert": {"user_id": user_id, "year": year}},
        upsert=True, return_document=ReturnDocument.AFTER, session=session)
    return int(counter["seq"])


async def create_invoice(*, runtime: Runtime, user_id: str, data: InvoiceCreate, idempotency_key: str | None,
                         today: date) -> tuple[Invoice, bool]:
    """A numbered draft; (invoice, False) when the Idempotency-Key names an earlier creation."""
    made: list[Invoice] = []

    async def create(tx: Tx) -> dict[str, Any]:
        # Read after the key is checked: a retry gets the invoice it made whatever changed since.
        client = await get_client(user_id=user_id, client_id=data.client_id, field="client_id", session=tx.session)
        profile = await get_profile(user_id=user_id, session=tx.session)
        issue_date = data.issue_date or today
        due_date, terms_days = resolve_due_date(issue_date, data.due_date, data.payment_terms_days,
                                                profile.default_payment_terms_days)
        content = price(data.lines, data.discount, data.currency)
        seq = await next_sequence(user_id=user_id, year=issue_date.year, session=tx.session)
        invoice = Invoice(
            user_id=user_id, number=format_number(profile.number_pattern, year=issue_date.year, seq=seq),
            year=issue_date.year, client_id=str(client.id), issue_date=issue_date, due_date=due_date,
            payment_terms_days=terms_days, currency=data.currency, notes=data.notes, terms=data.terms,
            amount_paid=round_money(Decimal(0), data.currency), balance_due=content["total"], **content)
        await invoice.insert(session=tx.session)
        made[:] = [invoice]
        return {"invoice_id": str(invoice.id)}  # a retry reads the invoice as it is now

    try:
        made_ids, replayed = await run_idempotent(runtime, user_id=user_id, scope=CREATE_SCOPE,
                                                  key=idempotency_key, request=data, create=create)
    except DuplicateKeyError as exc:
        raise Conflict("that invoice number is already taken: the number pattern was changed to one that "
                       "repeats an earlier number; choose a different pattern") from exc
    if replayed:
        return await get_invoice(user_id=user_id, invoice_id=made_ids["invoice_id"]), False
    return made[0], True


async def get_invoice(*, user_id: str, invoice_id: str, session: AsyncClientSession | None = None) -> Invoice:
    oid = parse_object_id(invoice_id, "invoice")
    invoice = await Invoice.find_one({"_id": oid, "user_id": user_id}, session=session)
    if invoice is None:
        raise NotFound("invoice")
    return invoice


def overdue_condition(today: date) -> dict[str, Any]:
    """Sent, past due and still owing (both open statuses owe a balance)."""
    return {"status": {"$in": [s.value for s in OPEN_STATUSES]}, "due_date": {"$lt": stored_day(today)}}


async def list_invoices(*, user_id: str, page: PageParams, today: date, status: InvoiceStatus | None = None,
                        client_id: str | None = None, date_from: date | None = None, date_to: date | None = None,
                        overdue: bool | None = None) -> tuple[list[Invoice], int]:
    if date_from and date_to and date_to < date_from:
        raise field_problem("date_to", "must be on or after date_from")
    conditions: list[dict[str, Any]] = [{"user_id": user_id}]
    if status is not None:
        conditions.append({"status": status.value})
    if client_id is not None:
        conditions.append({"client_id": client_id})
    issue_range: dict[str, datetime] = {}
    if date_from is not None:
        issue_range["$gte"] = stored_day(date_from)
    # Half-open: SecantusDB may drop a $lte bound's own value under a compound index. The calendar's last day
    # bounds nothing (and has no next day).
    if date_to is not None and date_to < date.max:
        issue_range["$lt"] = stored_day(date_to + timedelta(days=1))
    if issue_range:
        conditions.append({"issue_date": issue_range})
    if overdue is True:
        conditions.append(overdue_condition(today))
    elif overdue is False:
        conditions.append({"$nor": [overdue_condition(today)]})
    query = Invoice.find({"$and": conditions})
    total = await query.count()
    items = await query.sort("-issue_date", "-number").skip(page.offset).limit(page.limit).to_list()
    return items, total


def _require_draft(invoice: Invoice, action: str) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(f"invoice {invoice.number} is {invoice.status.value}; only a draft can be {action}. "
                       "A sent invoice is final: void it and issue a new one")


async def update_invoice(*, runtime: Runtime, user_id: str, invoice_id: str, data: InvoiceUpdate) -> Invoice:
    given = data.model_fields_set
    for name in ("client_id", "issue_date", "currency", "lines"):
        if name in given and getattr(data, name) is None:
            raise field_problem(name, "cannot be null")
    if "client_id" in given:
        await get_client(user_id=user_id, client_id=data.client_id or "", field="client_id")

    async def body(tx: Tx) -> Invoice:
        invoice = await get_invoice(user_id=user_id, invoice_id=invoice_id, session=tx.session)
        _require_draft(invoice, "edited")
        if data.issue_date is not None and data.issue_date.year != invoice.year:
            raise field_problem("issue_date", f"must stay in {invoice.year}: number {invoice.number} belongs to it")
        issue_date = data.issue_date or invoice.issue_date
        if data.due_date is not None or data.payment_terms_days is not None:
            invoice.due_date, invoice.payment_terms_days = resolve_due_date(
                issue_date, data.due_date, data.payment_terms_days, 0)
        elif invoice.payment_terms_days is not None:
            invoice.due_date = issue_date + timedelta(days=invoice.payment_terms_days)
        elif invoice.due_date < issue_date:
            raise field_problem("issue_date", "must be on or before the due date")
        invoice.issue_date = issue_date
        invoice.client_id = data.client_id or invoice.client_id
        invoice.currency = data.currency or invoice.currency
        invoice.notes = invoice.notes if "notes" not in given else data.notes or ""
        invoice.terms = invoice.terms if "terms" not in given else data.terms or ""
        lines = data.lines if data.lines is not None else invoice.lines
        discount = data.discount if "discount" in given else invoice.discount
        for name, value in price(lines, discount, invoice.currency).items():
            setattr(invoice, name, value)
        invoice.balance_due = invoice.total - invoice.amount_paid
        await replace_at_revision(invoice, tx.session)
        return invoice

    return await runtime.atomic(body)


async def void_invoice(*, runtime: Runtime, user_id: str, invoice_id: str) -> Invoice:
    async def body(tx: Tx) -> Invoice:
        invoice = await get_invoice(user_id=user_id, invoice_id=invoice_id, session=tx.session)
        if invoice.status == InvoiceStatus.VOID:
            raise Conflict(f"invoice {invoice.number} is already void")
        if invoice.amount_paid > 0:
            raise Conflict(f"invoice {invoice.number} has payments recorded; it cannot be voided")
        invoice.status, invoice.voided_at = InvoiceStatus.VOID, utcnow()
        await replace_at_revision(invoice, tx.session)
        return invoice

    return await runtime.atomic(body)
