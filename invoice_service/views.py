"""Invoices as the API shows them: the sent snapshot, or for a draft the client and profile as they are now."""

from collections.abc import Sequence
from datetime import date

from bson import ObjectId

from invoice_service.models import OPEN_STATUSES, Client, Invoice, Party
from invoice_service.schemas import InvoicePublic, PartyPublic, PaymentPublic
from invoice_service.service_clients import client_party, get_profile, sender_party


def is_overdue(invoice: Invoice, today: date) -> bool:
    return invoice.status in OPEN_STATUSES and invoice.due_date < today and invoice.balance_due > 0


def present_invoice(invoice: Invoice, *, today: date, client: Party | None, sender: Party | None) -> InvoicePublic:
    data = invoice.model_dump(exclude={"client", "sender", "payments", "id"})
    return InvoicePublic(
        **data, id=str(invoice.id), is_overdue=is_overdue(invoice, today),
        client=PartyPublic.model_validate(client.model_dump()) if client else None,
        sender=PartyPublic.model_validate(sender.model_dump()) if sender else None,
        payments=[PaymentPublic(**p.model_dump(), currency=invoice.currency) for p in invoice.payments],
    )


async def live_parties(user_id: str, invoices: Sequence[Invoice]) -> tuple[dict[str, Party], Party | None]:
    """Current client and sender data for the drafts among invoices (one query each)."""
    drafts = [inv for inv in invoices if inv.client is None]
    if not drafts:
        return {}, None
    ids = [ObjectId(inv.client_id) for inv in drafts if ObjectId.is_valid(inv.client_id)]
    clients = await Client.find({"_id": {"$in": ids}, "user_id": user_id}).to_list()
    profile = await get_profile(user_id=user_id)
    return {str(c.id): client_party(c) for c in clients}, sender_party(profile)


async def present_invoices(user_id: str, invoices: Sequence[Invoice], *, today: date) -> list[InvoicePublic]:
    clients, sender = await live_parties(user_id, invoices)
    return [present_invoice(inv, today=today, client=inv.client or clients.get(inv.client_id),
                            sender=inv.sender or sender) for inv in invoices]


async def present_one(user_id: str, invoice: Invoice, *, today: date) -> InvoicePublic:
    return (await present_invoices(user_id, [invoice], today=today))[0]
