"""Events this service consumes. Each handler runs once per event, its writes in ctx.session (shared consumer)."""

import logging

from beanie import PydanticObjectId

from expense_service.models import Category, Profile, Transaction
from expense_service.service_categories import find_category, forget_user, seed_default_categories
from expense_service.service_groups import leave_groups_of_deleted_user
from expense_service.service_profiles import apply_profile, user_prefs, valid_currency, valid_timezone
from expense_service.service_transactions import record_transaction
from shared.consumer import HandlerContext
from shared.events import InvoicePaid, UserDeleted, UserProfileUpdated, UserRegistered
from shared.idempotency import erase_user_keys
from shared.money import CURRENCY_DIGITS, round_money

log = logging.getLogger("expense_service.handlers")


async def on_user_registered(event: UserRegistered, ctx: HandlerContext) -> None:
    await _store_profile(event, ctx)
    prefs = await user_prefs(settings=ctx.services["settings"], user_id=event.user_id, session=ctx.session)
    if not prefs.categories_seeded:
        await seed_default_categories(user_id=event.user_id, session=ctx.session)


async def on_profile_updated(event: UserProfileUpdated, ctx: HandlerContext) -> None:
    await _store_profile(event, ctx)


async def _store_profile(event: UserRegistered | UserProfileUpdated, ctx: HandlerContext) -> None:
    settings = ctx.services["settings"]
    await apply_profile(session=ctx.session, user_id=event.user_id,
                        default_currency=valid_currency(event.default_currency, settings.default_currency),
                        timezone=valid_timezone(event.timezone, settings.default_timezone),
                        as_of=ctx.envelope.occurred_at, name=event.name)


async def on_user_deleted(event: UserDeleted, ctx: HandlerContext) -> None:
    """Erase everything of the user: transactions (their shares of group expenses too), categories, profile copy,
    idempotency records — and end their group memberships (see leave_groups_of_deleted_user)."""
    for model in (Transaction, Category, Profile):
        await model.get_pymongo_collection().delete_many({"user_id": event.user_id}, session=ctx.session)
    await erase_user_keys(ctx, user_id=event.user_id)
    await leave_groups_of_deleted_user(user_id=event.user_id, session=ctx.session)
    forget_user(ctx.services, event.user_id)


async def on_invoice_paid(event: InvoicePaid, ctx: HandlerContext) -> None:
    """Record the paid invoice as income, once per invoice: the unique (user_id, invoice_id) index stops a second
    delivery, even one with another event_id; its retry then finds the transaction and does nothing."""
    user_id = ctx.envelope.user_id
    if not user_id:
        log.error("invoice.paid %s without an owner (envelope user_id); ignored", event.invoice_id)
        return
    existing = await Transaction.get_pymongo_collection().find_one(
        {"user_id": user_id, "invoice_id": event.invoice_id}, {"_id": 1}, session=ctx.session)
    if existing is not None or event.currency not in CURRENCY_DIGITS or event.total <= 0:
        return
    prefs = await user_prefs(settings=ctx.services["settings"], user_id=user_id, session=ctx.session)
    if not prefs.categories_seeded:  # an owner whose registration this service never saw
        await seed_default_categories(user_id=user_id, session=ctx.session)
    category = await _freelance_category(user_id, ctx)
    client = f" — {event.client_name}" if event.client_name else ""
    transaction = Transaction(
        id=PydanticObjectId(), user_id=user_id, type="income", amount=round_money(event.total, event.currency),
        currency=event.currency, category_id=category.id, description=f"Invoice {event.number}{client}"[:500],
        occurred_date=event.paid_date, invoice_id=event.invoice_id)
    await record_transaction(ctx, transaction=transaction, category=category, timezone=prefs.timezone)


async def _freelance_category(user_id: str, ctx: HandlerContext) -> Category:
    """The user's 'freelance' income category — the seeded one even if renamed — created if need be."""
    seeded = await Category.find_one({"user_id": user_id, "kind": "income", "default_key": "freelance"},
                                     session=ctx.session)
    if seeded is not None:
        return seeded
    found = await find_category(user_id=user_id, ref="freelance", kind="income", session=ctx.session)
    if found:
        return found[0]
    category = Category(user_id=user_id, kind="income", name="freelance", name_key="freelance",
                        default_key="freelance")
    await category.insert(session=ctx.session)
    return category


EVENT_HANDLERS = {
    UserRegistered: [on_user_registered],
    UserProfileUpdated: [on_profile_updated],
    UserDeleted: [on_user_deleted],
    InvoicePaid: [on_invoice_paid],
}
