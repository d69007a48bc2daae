"""Event handlers: expense events feed the ledger and the threshold checks; user events keep or erase data.

Each handler runs once per event inside the consumer's transaction (ctx.session); alerts and their events
are written in that transaction too (ctx.publish goes through the outbox).
"""

from datetime import datetime, timezone

from budget_service.accounting import check_thresholds, lock_user
from budget_service.ledger import (
    CREATED,
    DELETED,
    UPDATED,
    budgets_touched,
    microseconds,
    periods_to_check,
    record_transaction,
)
from budget_service.models import Alert, Budget, Contribution, PeriodState, UserState
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
from shared.idempotency import erase_user_keys


async def apply_transaction_event(snapshot: TransactionSnapshot, ctx: HandlerContext, *, rank: int) -> None:
    session = ctx.session
    user = await lock_user(session, snapshot.user_id)  # first: serialises this user's concurrent transactions
    if user.erased:
        return
    change = await record_transaction(session, snapshot, emitted_at=ctx.envelope.occurred_at, rank=rank)
    if change is None:
        return
    touched = await budgets_touched(session, change)
    if not touched:
        return
    today = user.today
    for budget, days in touched:
        for period in periods_to_check(budget, days, today):
            await check_thresholds(ctx, budget, period)


async def on_expense_created(event: ExpenseCreated, ctx: HandlerContext) -> None:
    await apply_transaction_event(event.expense, ctx, rank=CREATED)


async def on_expense_updated(event: ExpenseUpdated, ctx: HandlerContext) -> None:
    # The ledger keeps the transaction's own last state, so only `after` matters: `before` may be stale.
    await apply_transaction_event(event.after, ctx, rank=UPDATED)


async def on_expense_deleted(event: ExpenseDeleted, ctx: HandlerContext) -> None:
    await apply_transaction_event(event.expense, ctx, rank=DELETED)


async def remember_timezone(event: UserRegistered | UserProfileUpdated, ctx: HandlerContext) -> None:
    session = ctx.session
    user = await lock_user(session, event.user_id)
    as_of_us = microseconds(ctx.envelope.occurred_at)
    if not user.erased and user.timezone_as_of_us < as_of_us:  # an older profile event changes nothing
        await UserState.get_pymongo_collection().update_one(
            {"_id": event.user_id}, {"$set": {"timezone": event.timezone, "timezone_as_of_us": as_of_us}},
            session=session)


async def erase_user(event: UserDeleted, ctx: HandlerContext) -> None:
    """Budgets, ledger, alert state, alerts and the timezone of the user go; the user's state record keeps
    only an erasure mark, which turns away late events."""
    session, user_id = ctx.session, event.user_id
    await lock_user(session, user_id)
    for model in (Budget, Contribution, PeriodState, Alert):
        await model.get_pymongo_collection().delete_many({"user_id": user_id}, session=session)
    await erase_user_keys(ctx, user_id=user_id)
    await UserState.get_pymongo_collection().replace_one(
        {"_id": user_id}, {"seq": 0, "erased_at": datetime.now(timezone.utc)}, session=session)


EVENT_HANDLERS = {
    ExpenseCreated: [on_expense_created],
    ExpenseUpdated: [on_expense_updated],
    ExpenseDeleted: [on_expense_deleted],
    UserRegistered: [remember_timezone],
    UserProfileUpdated: [remember_timezone],
    UserDeleted: [erase_user],
}
