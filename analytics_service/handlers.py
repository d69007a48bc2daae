"""Event handlers: expense events feed the read model; user events keep the profile copy or erase the user.

The shared consumer runs each handler once per event_id, inside a transaction (ctx.session) together
with the processed-event record. Ordering is our job: every transaction's last applied version (the
snapshot's revision, else the event time; see service.Version) is kept, so a stale or out-of-order event
changes nothing.
"""

import logging

from analytics_service.service import (
    CREATED,
    DELETED,
    UPDATED,
    Version,
    apply_transaction_state,
    erase_user,
    event_time_us,
    note_profile,
    profile_of,
)
from shared.consumer import HandlerContext
from shared.events import (
    ExpenseCreated,
    ExpenseDeleted,
    ExpenseUpdated,
    TransactionSnapshot,
    UserDeleted,
    UserProfileUpdated,
    UserRegistered,
)

log = logging.getLogger("analytics_service.handlers")


async def _apply(snapshot: TransactionSnapshot, ctx: HandlerContext, *, deleted: bool, rank: int) -> None:
    at_us = event_time_us(ctx.envelope.occurred_at)
    profile = await profile_of(snapshot.user_id, ctx.session)
    if profile["erased"]:
        return  # the user is gone; an event still in flight must not bring data back
    await note_profile(session=ctx.session, user_id=snapshot.user_id, timezone_name=snapshot.timezone, at_us=at_us,
                       current=profile)
    applied = await apply_transaction_state(session=ctx.session, user_id=snapshot.user_id, snapshot=snapshot,
                                            deleted=deleted, version=Version(at_us, rank, snapshot.revision))
    if not applied:
        log.info("stale %s for transaction %s ignored", ctx.envelope.type, snapshot.id,
                 extra={"event_id": ctx.envelope.event_id})


async def on_expense_created(event: ExpenseCreated, ctx: HandlerContext) -> None:
    await _apply(event.expense, ctx, deleted=False, rank=CREATED)


async def on_expense_updated(event: ExpenseUpdated, ctx: HandlerContext) -> None:
    # `before` is not needed: we subtract what we applied last, which is what `before` should be anyway.
    await _apply(event.after, ctx, deleted=False, rank=UPDATED)


async def on_expense_deleted(event: ExpenseDeleted, ctx: HandlerContext) -> None:
    await _apply(event.expense, ctx, deleted=True, rank=DELETED)


async def on_user_profile(event: UserRegistered | UserProfileUpdated, ctx: HandlerContext) -> None:
    await note_profile(session=ctx.session, user_id=event.user_id, timezone_name=event.timezone,
                       at_us=event_time_us(ctx.envelope.occurred_at), default_currency=event.default_currency)


async def on_user_deleted(event: UserDeleted, ctx: HandlerContext) -> None:
    await erase_user(session=ctx.session, user_id=event.user_id)


EVENT_HANDLERS = {
    ExpenseCreated: [on_expense_created],
    ExpenseUpdated: [on_expense_updated],
    ExpenseDeleted: [on_expense_deleted],
    UserRegistered: [on_user_profile],
    UserProfileUpdated: [on_user_profile],
    UserDeleted: [on_user_deleted],
}
