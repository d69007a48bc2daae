"""Budgets: create, read, list, update, delete, and the alerts they raised. Every query is scoped to the caller.

Writes run in runtime.atomic (retried on write conflicts) and take the user's lock first, like the event
handlers, so a budget created or changed while expenses stream in is checked against a consistent ledger.
"""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from budget_service.accounting import (
    check_thresholds,
    current_period,
    forget_period_states,
    lock_user,
    progress_through,
    today_for,
)
from budget_service.models import Alert, Budget
from budget_service.periods import CustomPeriod
from budget_service.progress import PeriodProgress, status_of
from budget_service.schemas import (
    AlertPage,
    AlertPublic,
    BudgetCreate,
    BudgetDetail,
    BudgetPage,
    BudgetPublic,
    BudgetUpdate,
    PeriodPage,
    PeriodPublic,
)
from budget_service.settings import Settings
from shared.errors import Conflict, NotFound, Problem, field_problem
from shared.idempotency import run_idempotent
from shared.ids import parse_object_id
from shared.money import fits_currency, minor_digits, round_money
from shared.outbox import Tx
from shared.runtime import Runtime
from shared.schemas import PageParams

# Fields whose change alters which spending a budget counts: its alert state then starts afresh.
SCOPE_FIELDS = {"category_id", "currency", "period", "start_date"}
CREATE_SCOPE = "budget.create"  # Idempotency-Key scope


def period_view(progress: PeriodProgress, budget: Budget) -> PeriodPublic:
    def money(amount: Decimal) -> Decimal:
        return round_money(amount, budget.currency)

    return PeriodPublic(
        start_date=progress.period.start, end_date=progress.period.end, limit_amount=money(progress.limit_amount),
        carried_over=money(progress.carried_over), effective_limit=money(progress.effective_limit),
        spent=money(progress.spent), remaining=money(progress.remaining), ratio=progress.ratio,
        status=status_of(progress, budget.thresholds))


def _fields(budget: Budget) -> dict:
    return {"id": str(budget.id), "name": budget.name, "category_id": budget.category_id,
            "limit_amount": round_money(budget.limit_amount, budget.currency), "currency": budget.currency,
            "period": budget.period, "thresholds": budget.thresholds, "rollover": budget.rollover,
            "start_date": budget.start_date, "created_at": budget.created_at, "updated_at": budget.updated_at}


async def summary(budget: Budget, today: date) -> BudgetPublic:
    series = await progress_through(budget, current_period(budget, today), history=False)
    return BudgetPublic(**_fields(budget), current=period_view(series[-1], budget))


async def detail(budget: Budget, today: date, *, past_shown: int) -> BudgetDetail:
    series = await progress_through(budget, current_period(budget, today))
    past = series[-2::-1]
    return BudgetDetail(**_fields(budget), current=period_view(series[-1], budget),
                        past_periods=[period_view(p, budget) for p in past[:past_shown]], past_periods_total=len(past))


def check_rules(budget: Budget, today: date, settings: Settings) -> None:
    """Rules across fields, for a new budget and for one after an update: 422 naming the field."""
    if not fits_currency(budget.limit_amount, budget.currency):
        raise field_problem("limit_amount", f"{budget.currency} allows at most {minor_digits(budget.currency)} "
                                            "decimal places")
    if isinstance(budget.period, CustomPeriod):
        if budget.rollover:
            raise field_problem("rollover", "a custom period does not recur, so nothing can roll over")
        return
    if budget.start_date > today:
        raise field_problem("start_date", "must not be in the future")
    if budget.start_date < today - timedelta(days=settings.max_history_days):
        raise field_problem("start_date", f"must be within the last {settings.max_history_days} days")


async def owned_budget(user_id: str, budget_id: str, session: AsyncClientSession | None = None) -> Budget:
    budget = await Budget.find_one({"_id": parse_object_id(budget_id, "budget"), "user_id": user_id},
                                   session=session)
    if budget is None:
        raise NotFound("budget")
    return budget


async def create_budget(*, runtime: Runtime, settings: Settings, user_id: str, data: BudgetCreate,
                        idempotency_key: str | None) -> tuple[BudgetDetail, bool]:
    """The new budget with its current period, and whether it is the replay of an earlier request with the key."""
    made: list[Budget] = []

    async def create(tx: Tx) -> dict[str, Any]:
        session = tx.session
        user = await lock_user(session, user_id)
        if user.erased:
            raise Problem(401, "this account has been deleted")
        if await Budget.find({"user_id": user_id}, session=session).count() >= settings.max_budgets_per_user:
            raise Conflict(f"a user may keep at most {settings.max_budgets_per_user} budgets")
        today = user.today
        now = datetime.now(timezone.utc)
        budget = Budget(user_id=user_id, **data.model_dump(exclude={"start_date"}), created_at=now, updated_at=now,
                        start_date=_start_date(data.period, data.start_date, today))
        check_rules(budget, today, settings)
        await budget.insert(session=session)
        # Spending already recorded this period counts at once, and may already reach a threshold.
        await _check_current_period(tx, budget, today)
        made[:] = [budget]
        return {"budget_id": str(budget.id)}  # a retry reads the budget as it is now

    made_ids, replayed = await run_idempotent(runtime, user_id=user_id, scope=CREATE_SCOPE, key=idempotency_key,
                                              request=data, create=create)
    budget = made[0] if not replayed else await Budget.find_one(
        {"_id": parse_object_id(made_ids["budget_id"]), "user_id": user_id})
    if budget is None:  # a replay, but that budget was deleted since
        raise Conflict("the budget this Idempotency-Key created has been deleted since; use a new key to create "
                       "another")
    return await detail(budget, await today_for(user_id), past_shown=settings.past_periods_in_read), replayed


async def _check_current_period(tx: Tx, budget: Budget, today: date) -> None:
    period = current_period(budget, today)
    if period.end >= today:  # a custom range that has ended never alerts
        await check_thresholds(tx, budget, period)


def _start_date(period: object, start_date: date | None, today: date) -> date:
    if isinstance(period, CustomPeriod):
        return period.start_date
    return start_date or today


async def get_budget(*, settings: Settings, user_id: str, budget_id: str) -> BudgetDetail:
    budget = await owned_budget(user_id, budget_id)
    return await detail(budget, await today_for(user_id), past_shown=settings.past_periods_in_read)


async def list_budgets(*, user_id: str, page: PageParams, category_id: str | None) -> BudgetPage:
    query: dict = {"user_id": user_id}
    if category_id is not None:
        query["category_id"] = category_id
    total = await Budget.find(query).count()
    budgets = await Budget.find(query).sort("-created_at", "-_id").skip(page.offset).limit(page.limit).to_list()
    today = await today_for(user_id)
    return BudgetPage(items=[await summary(b, today) for b in budgets], total=total, limit=page.limit,
                      offset=page.offset)


async def list_past_periods(*, user_id: str, budget_id: str, page: PageParams) -> PeriodPage:
    budget = await owned_budget(user_id, budget_id)
    series = await progress_through(budget, current_period(budget, await today_for(user_id)))
    past = series[-2::-1]
    items = [period_view(p, budget) for p in past[page.offset:page.offset + page.limit]]
    return PeriodPage(items=items, total=len(past), limit=page.limit, offset=page.offset)


async def update_budget(*, runtime: Runtime, settings: Settings, user_id: str, budget_id: str,
                        changes: BudgetUpdate) -> BudgetDetail:
    sent = changes.model_dump(include=changes.model_fields_set)
    for field, value in sent.items():
        if value is None and field != "category_id":
            raise field_problem(field, "may not be null")

    async def body(tx: Tx) -> Budget:
        session = tx.session
        today = (await lock_user(session, user_id)).today
        budget = await owned_budget(user_id, budget_id, session)
        merged = budget.model_copy(update={k: getattr(changes, k) for k in changes.model_fields_set})
        if "period" in changes.model_fields_set and "start_date" not in changes.model_fields_set:
            merged.start_date = _start_date(merged.period, budget.start_date, today)
        elif isinstance(merged.period, CustomPeriod):
            merged.start_date = merged.period.start_date
        merged.updated_at = datetime.now(timezone.utc)
        check_rules(merged, today, settings)
        if any(getattr(merged, f) != getattr(budget, f) for f in SCOPE_FIELDS):
            await forget_period_states(session, str(budget.id))
        await merged.replace(session=session)
        await _check_current_period(tx, merged, today)
        return merged

    budget = await runtime.atomic(body)
    return await detail(budget, await today_for(user_id), past_shown=settings.past_periods_in_read)


async def delete_budget(*, runtime: Runtime, user_id: str, budget_id: str) -> None:
    async def body(tx: Tx) -> None:
        session = tx.session
        await lock_user(session, user_id)
        budget = await owned_budget(user_id, budget_id, session)
        await forget_period_states(session, str(budget.id))
        await Alert.get_pymongo_collection().delete_many({"budget_id": str(budget.id)}, session=session)
        await budget.delete(session=session)

    await runtime.atomic(body)


async def list_alerts(*, user_id: str, page: PageParams, budget_id: str | None) -> AlertPage:
    query: dict = {"user_id": user_id}
    if budget_id is not None:
        query["budget_id"] = str((await owned_budget(user_id, budget_id)).id)
    total = await Alert.find(query).count()
    alerts = await Alert.find(query).sort("-created_at", "-_id").skip(page.offset).limit(page.limit).to_list()
    items = [AlertPublic(**alert.model_dump(exclude={"id", "user_id"}), id=str(alert.id)) for alert in alerts]
    return AlertPage(items=items, total=total, limit=page.limit, offset=page.offset)
