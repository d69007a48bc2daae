"""Events invoice_service consumes."""

from invoice_service.models import BusinessProfile, Client, Invoice, InvoiceCounter
from shared.consumer import HandlerContext
from shared.events import UserDeleted
from shared.idempotency import erase_user_keys

ERASED_ON_USER_DELETION = (Client, BusinessProfile, Invoice, InvoiceCounter)


async def erase_user_data(event: UserDeleted, ctx: HandlerContext) -> None:
    """The user is gone: their clients, profile, invoices (with payments), counters and idempotency records."""
    for model in ERASED_ON_USER_DELETION:
        await ctx.db[model.get_collection_name()].delete_many({"user_id": event.user_id}, session=ctx.session)
    await erase_user_keys(ctx, user_id=event.user_id)


EVENT_HANDLERS = {UserDeleted: [erase_user_data]}
