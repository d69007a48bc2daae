"""Invoices, their lifecycle, payments and PDF: thin handlers over the service modules."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from invoice_service import service_invoices, service_lifecycle
from invoice_service.deps import RuntimeDep, Today
from invoice_service.models import InvoiceStatus
from invoice_service.schemas import (
    InvoiceCreate,
    InvoicePage,
    InvoicePublic,
    InvoiceUpdate,
    PaymentCreate,
    PaymentPublic,
    PaymentResult,
)
from invoice_service.totals import TOTALS_RULE
from invoice_service.views import present_invoice, present_invoices, present_one
from shared.auth import CurrentUser
from shared.idempotency import IdempotencyKey, mark_replayed
from shared.schemas import Pagination

router = APIRouter(prefix="/api/invoices", tags=["invoices"])

LIFECYCLE = """Lifecycle: draft → sent → partially_paid → paid, or void (a draft, or a sent invoice without
payments). Only a draft can be edited; a sent invoice is final (409): void it and issue a new one. Overdue is
derived: sent or partially paid, past the due date (UTC) with a balance; invoice.overdue is emitted once."""

NUMBERING = """The number comes from the business profile's pattern (default INV-{year}-{seq:04d} →
INV-2026-0001): {year} is the issue date's year, {seq} a per-user, per-year counter taken in the same
transaction as the insert, so numbers are unique and without gaps (invoices are voided, never deleted)."""

TOTALS_DOC = ("Amounts are decimal strings in the invoice currency, computed by the server:\n\n" + TOTALS_RULE
              + "\n\nLine and invoice discounts: kind `percent` (value 0–100) or `amount` (money in the invoice "
              "currency).")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InvoicePublic, summary="Create a draft invoice",
             description=f"{NUMBERING}\n\n{TOTALS_DOC}\n\n{LIFECYCLE}")
async def create_invoice(body: InvoiceCreate, user: CurrentUser, runtime: RuntimeDep, today: Today,
                         response: Response, idempotency_key: IdempotencyKey = None) -> InvoicePublic:
    invoice, created = await service_invoices.create_invoice(runtime=runtime, user_id=user.id, data=body,
                                                             idempotency_key=idempotency_key, today=today)
    mark_replayed(response, not created)
    return await present_one(user.id, invoice, today=today)


@router.get("", response_model=InvoicePage, summary="Your invoices, newest issue date first",
            description=TOTALS_DOC)
async def list_invoices(
    user: CurrentUser, page: Pagination, today: Today,
    status_: Annotated[InvoiceStatus | None, Query(alias="status")] = None,
    client_id: Annotated[str | None, Query(max_length=64)] = None,
    date_from: Annotated[date | None, Query(description="issue date on or after")] = None,
    date_to: Annotated[date | None, Query(description="issue date on or before")] = None,
    overdue: Annotated[bool | None, Query(description="true: only overdue; false: none overdue")] = None,
) -> InvoicePage:
    items, total = await service_invoices.list_invoices(
        user_id=user.id, page=page, today=today, status=status_, client_id=client_id, date_from=date_from,
        date_to=date_to, overdue=overdue)
    return InvoicePage(items=await present_invoices(user.id, items, today=today), total=total, limit=page.limit,
                       offset=page.offset)


@router.get("/{invoice_id}", response_model=InvoicePublic, summary="One invoice", description=TOTALS_DOC)
async def get_invoice(invoice_id: str, user: CurrentUser, today: Today) -> InvoicePublic:
    invoice = await service_invoices.get_invoice(user_id=user.id, invoice_id=invoice_id)
    return await present_one(user.id, invoice, today=today)


@router.patch("/{invoice_id}", response_model=InvoicePublic, summary="Edit a draft (409 once sent)",
              description=f"{LIFECYCLE}\n\n{TOTALS_DOC}")
async def update_invoice(invoice_id: str, body: InvoiceUpdate, user: CurrentUser, runtime: RuntimeDep,
                         today: Today) -> InvoicePublic:
    invoice = await service_invoices.update_invoice(runtime=runtime, user_id=user.id, invoice_id=invoice_id,
                                                    data=body)
    return await present_one(user.id, invoice, today=today)


@router.post("/{invoice_id}/send", response_model=InvoicePublic, summary="Send: emits invoice.sent with the PDF",
             description="Snapshots the client and your business profile onto the invoice (later edits do not "
                         "rewrite it) and emits invoice.sent, carrying the PDF, for the client's email. "
                         "409 unless a draft, the client has an email and the profile a name.")
async def send_invoice(invoice_id: str, user: CurrentUser, runtime: RuntimeDep, today: Today) -> InvoicePublic:
    invoice = await service_lifecycle.send_invoice(runtime=runtime, user_id=user.id, invoice_id=invoice_id)
    return present_invoice(invoice, today=today, client=invoice.client, sender=invoice.sender)


@router.post("/{invoice_id}/void", response_model=InvoicePublic, summary="Void a draft or an unpaid sent invoice",
             description=LIFECYCLE)
async def void_invoice(invoice_id: str, user: CurrentUser, runtime: RuntimeDep, today: Today) -> InvoicePublic:
    invoice = await service_invoices.void_invoice(runtime=runtime, user_id=user.id, invoice_id=invoice_id)
    return await present_one(user.id, invoice, today=today)


@router.get("/{invoice_id}/pdf", summary="The invoice as a PDF", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
async def invoice_pdf(invoice_id: str, user: CurrentUser, runtime: RuntimeDep) -> Response:
    pdf, filename = await service_lifecycle.invoice_pdf(runtime=runtime, user_id=user.id, invoice_id=invoice_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.post("/{invoice_id}/payments", status_code=status.HTTP_201_CREATED, response_model=PaymentResult,
             summary="Record a payment (partial payments allowed; overpayment 422)",
             description="The payment that brings the balance to zero marks the invoice paid and emits "
                         "invoice.paid (once). An amount above the balance due is refused with a 422 naming "
                         "`amount`. Honours Idempotency-Key.")
async def record_payment(invoice_id: str, body: PaymentCreate, user: CurrentUser, runtime: RuntimeDep, today: Today,
                         response: Response, idempotency_key: IdempotencyKey = None) -> PaymentResult:
    invoice, payment, created = await service_lifecycle.record_payment(
        runtime=runtime, user_id=user.id, invoice_id=invoice_id, data=body, idempotency_key=idempotency_key,
        today=today)
    mark_replayed(response, not created)
    return PaymentResult(payment=PaymentPublic(**payment.model_dump(), currency=invoice.currency),
                         invoice=await present_one(user.id, invoice, today=today))


@router.get("/{invoice_id}/payments", response_model=list[PaymentPublic], summary="The invoice's payments")
async def list_payments(invoice_id: str, user: CurrentUser) -> list[PaymentPublic]:
    invoice = await service_invoices.get_invoice(user_id=user.id, invoice_id=invoice_id)
    return [PaymentPublic(**p.model_dump(), currency=invoice.currency) for p in invoice.payments]
