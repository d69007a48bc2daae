"""A budget's spending from the ledger, and the threshold check that runs in the transaction of each change.

Crossing detection is atomic: every transaction that changes a user's ledger or budgets first bumps that
user's UserState record, so concurrent transactions of one user (concurrent handlers, two service instances,
an API call) conflict there and the driver retries the losers; each retry sees the ledger and the
PeriodState as the winner left them. An alert and its event are written in that same transaction (outbox).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bson import Decimal128
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from budget_service.models import Alert, Budget, Contribution, PeriodState, UserState
from budget_service.periods import Period, period_containing, periods_through
from budget_service.progress import (
    PeriodProgress,
    crossing,
    event_class_for,
    progress_series,
    reached_thresholds,
)
from shared.db import stored_day
from shared.money import round_money
from shared.outbox import Tx


@dataclass(frozen=True)
class LockedUser:
    timezone: str | None
    timezone_as_of_us: int
    erased: bool

    @property
    def today(self) -> date:
        return datetime.now(zone(self.timezone)).date()


async def lock_user(session: AsyncClientSession, user_id: str) -> LockedUser:
    """Serialise this transaction with every other one about the same user (see the module docstring);
    returns what the service knows of the user, read in the same round trip."""
    state = await UserState.get_pymongo_collection().find_one_and_update(
        {"_id": user_id}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER, session=session)
    return LockedUser(timezone=state.get("timezone"), timezone_as_of_us=state.get("timezone_as_of_us", 0),
                      erased=state.get("erased_at") is not None)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def today_for(user_id: str) -> date:
    """Today in the user's timezone (learnt from user events), UTC when unknown."""
    state = await UserState.get_pymongo_collection().find_one({"_id": user_id}, projection={"timezone": 1})
    return datetime.now(zone(state.get("timezone") if state else None)).date()


def first_period(budget: Budget) -> Period:
    return period_containing(budget.period, budget.start_date)


def current_period(budget: Budget, today: date) -> Period:
    """The period holding today; the first period while the budget has not started yet."""
    first = first_period(budget)
    period = period_containing(budget.period, today)
    return first if period.start < first.start else period


async def daily_spending(budget: Budget, first_day: date, last_day: date,
                         session: AsyncClientSession | None = None) -> dict[date, Decimal]:
    """Expense totals per day in the budget's currency (and category), income and deletions excluded."""
    match: dict = {"user_id": budget.user_id, "currency": budget.currency, "kind": "expense", "deleted": False,
                   # half-open: clear of a SecantusDB quirk that can drop a $lte bound on compound indexes
                   "occurred_date": {"$gte": stored_day(first_day), "$lt": stored_day(last_day + timedelta(days=1))}}
    if budget.category_id is not None:
        match["category_id"] = budget.category_id
    cursor = await Contribution.get_pymongo_collection().aggregate(
        [{"$match": match}, {"$group": {"_id": "$occurred_date", "spent": {"$sum": "$amount"}}}], session=session)
    return {row["_id"].date(): row["spent"].to_decimal() for row in await cursor.to_list()}


async def progress_through(budget: Budget, last: Period, *, session: AsyncClientSession | None = None,
                           history: bool = True) -> list[PeriodProgress]:
    """Progress of the budget's periods up to `last`. Without rollover and history only `last` is computed."""
    if not budget.rollover and not history:
        periods = [last]
    else:
        periods = periods_through(budget.period, first_period(budget).start, last.start)
    daily = await daily_spending(budget, periods[0].start, periods[-1].end, session)
    return progress_series(periods, daily, limit_amount=budget.limit_amount, rollover=budget.rollover)


def _state_id(budget: Budget, period: Period) -> str:
    return f"{budget.id}:{period.key}"


async def category_name_of(budget: Budget, session: AsyncClientSession | None = None) -> str | None:
    """The category's name as the newest transaction in it calls it (names live in expense_service)."""
    if budget.category_id is None:
        return None
    latest = await Contribution.find({"user_id": budget.user_id, "category_id": budget.category_id},
                                     session=session).sort("-as_of_us").limit(1).to_list()
    return (latest[0].category_name or None) if latest else None


async def check_thresholds(tx: Tx, budget: Budget, period: Period) -> list[Alert]:
    """Recompute the period's spending, alert each threshold newly reached (once), re-arm those fallen under.

    Must run inside a transaction that has called lock_user for the budget's owner."""
    session = tx.session
    progress = (await progress_through(budget, period, session=session, history=False))[-1]
    reached = sorted(reached_thresholds(progress.spent, progress.effective_limit, budget.thresholds))
    now = datetime.now(timezone.utc)
    # One round trip: write the new state, get the previous one (what had alerted before this change).
    previous = await PeriodState.get_pymongo_collection().find_one_and_update(
        {"_id": _state_id(budget, period)},
        {"$set": {"user_id": budget.user_id, "budget_id": str(budget.id), "period_start": stored_day(period.start),
                  "period_end": stored_day(period.end), "spent": Decimal128(progress.spent),
                  "effective_limit": Decimal128(progress.effective_limit), "alerted": reached, "updated_at": now}},
        upsert=True, return_document=ReturnDocument.BEFORE, session=session)
    change = crossing(previous["alerted"] if previous else [], set(reached))
    alerts: list[Alert] = []
    if not change.newly_reached:
        return alerts
    category_name = await category_name_of(budget, session)
    spent = round_money(progress.spent, budget.currency)
    limit = round_money(progress.effective_limit, budget.currency)
    for threshold in change.newly_reached:
        event_class = event_class_for(threshold)
        alert = Alert(user_id=budget.user_id, budget_id=str(budget.id), budget_name=budget.name,
                      category_id=budget.category_id, period_start=period.start, period_end=period.end,
                      threshold_percent=threshold, spent=spent, limit_amount=limit, currency=budget.currency,
                      event_type=event_class.ROUTING_KEY if event_class else None, created_at=now)
        await alert.insert(session=session)
        alerts.append(alert)
        if event_class is not None:
            await tx.publish(event_class(
                budget_id=str(budget.id), budget_name=budget.name, category_id=budget.category_id,
                category_name=category_name, period_start=period.start, period_end=period.end,
                threshold_percent=threshold, limit_amount=limit, spent=spent, currency=budget.currency,
            ), user_id=budget.user_id)
    return alerts


async def forget_period_states(session: AsyncClientSession, budget_id: str) -> None:
    await PeriodState.find(PeriodState.budget_id == budget_id, session=session).delete(session=session)
