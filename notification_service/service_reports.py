"""The weekly report's data: a per-user daily rollup kept from expense events, the budget alerts raised, and
the report built from them for one ISO week in the user's timezone."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from bson import Decimal128
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.errors import field_problem
from shared.events import BudgetExceeded, BudgetThreshold80, TransactionSnapshot

from .models import BudgetAlert, DailyRollup, utcnow
from .schemas import BudgetStatus, CategorySpending, CurrencyTotals, WeeklyReport
from .service import contact_of, zone

ROLLUP_RETENTION = timedelta(days=400)  # rollups serve previews of past weeks for about a year
ALERT_RETENTION = timedelta(days=400)
UNCATEGORISED = "Uncategorised"


# --- consumption ----------------------------------------------------------------------------------

async def apply_transaction(*, session: AsyncClientSession, snapshot: TransactionSnapshot, sign: int) -> None:
    """Add (+1) or remove (-1) one transaction from its day's bucket. Additive, so events in any order net out
    (a delete before its create leaves a negative bucket that the create brings back to zero)."""
    day = snapshot.occurred_date
    key = {"user_id": snapshot.user_id, "occurred_date": day.isoformat(), "type": snapshot.type,
           "currency": snapshot.currency, "category_key": snapshot.category_id or ""}
    update: dict = {"$inc": {"total": Decimal128(str(snapshot.amount * sign)), "transactions": sign},
                    "$set": {"purge_after": datetime.combine(day, time(), tzinfo=timezone.utc) + ROLLUP_RETENTION}}
    if sign > 0 and snapshot.category_name:
        update["$set"]["category_name"] = snapshot.category_name
    await DailyRollup.get_pymongo_collection().update_one(key, update, upsert=True, session=session)


async def record_budget_alert(*, session: AsyncClientSession, user_id: str,
                              event: BudgetThreshold80 | BudgetExceeded, raised_at: datetime) -> None:
    await BudgetAlert(
        user_id=user_id, budget_id=event.budget_id, budget_name=event.budget_name,
        category_name=event.category_name,
        status="exceeded" if isinstance(event, BudgetExceeded) else "threshold_80",
        period_start=event.period_start.isoformat(), period_end=event.period_end.isoformat(),
        limit_amount=event.limit_amount, spent=event.spent, currency=event.currency, raised_at=raised_at,
        purge_after=raised_at + ALERT_RETENTION,
    ).insert(session=session)


# --- the report -----------------------------------------------------------------------------------

def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# Transactions are dated 1900-2199 (expense_service); weeks at the ends of the calendar would overflow date and
# datetime arithmetic (9999-W52 ends after date.max; 0001-W01 starts before year 1 in UTC for zones east of it).
FIRST_YEAR, LAST_YEAR = 1900, 2199


def week_bounds(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week such as 2026-W05; a week that does not exist is a 422."""
    try:
        year, number = week.split("-W")
        if not FIRST_YEAR <= int(year) <= LAST_YEAR:
            raise ValueError(week)
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        message = f"must be an existing ISO week such as 2026-W05, in the years {FIRST_YEAR} to {LAST_YEAR}"
        raise field_problem("week", message) from None
    return monday, monday + timedelta(days=6)


def previous_week(local_day: date) -> str:
    return iso_week(local_day - timedelta(days=7))


async def build_weekly_report(*, user_id: str, week: str | None = None, now: datetime | None = None,
                              top_categories: int = 5) -> WeeklyReport:
    """The user's income, spending, top categories and budget alerts for one ISO week (default: last week
    in the user's timezone)."""
    contact = await contact_of(user_id)
    tz_name = contact.timezone if contact else "UTC"
    tz = zone(tz_name)
    week = week or previous_week((now or utcnow()).astimezone(tz).date())
    start, end = week_bounds(week)

    income: dict[str, Decimal] = defaultdict(Decimal)
    spending: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    categories: dict[tuple[str, str], list] = {}
    # A half-open range: SecantusDB drops the $lte bound's own value when a longer compound index serves it.
    days = {"$gte": start.isoformat(), "$lt": (end + timedelta(days=1)).isoformat()}
    rollups = DailyRollup.get_pymongo_collection().find({"user_id": user_id, "occurred_date": days})
    async for row in rollups:
        currency, total = row["currency"], row["total"].to_decimal()
        counts[currency] += row["transactions"]
        if row["type"] == "income":
            income[currency] += total
            continue
        spending[currency] += total
        entry = categories.setdefault((currency, row["category_key"]), [Decimal(0), 0, ""])
        entry[0] += total
        entry[1] += row["transactions"]
        entry[2] = entry[2] or row.get("category_name", "")

    totals = [
        CurrencyTotals(currency=c, income=income[c], spending=spending[c], net=income[c] - spending[c],
                       transactions=counts[c])
        for c in sorted(counts) if counts[c] or income[c] or spending[c]
    ]
    top: list[CategorySpending] = []
    for currency in sorted({c for c, _ in categories}):
        ranked = sorted(((k, v) for (c, k), v in categories.items() if c == currency and v[0] > 0),
                        key=lambda item: (-item[1][0], item[1][2]))
        top += [CategorySpending(category_id=key or None, category_name=name or UNCATEGORISED, currency=currency,
                                 amount=amount, transactions=count)
                for key, (amount, count, name) in ranked[:top_categories]]

    return WeeklyReport(week=week, start_date=start, end_date=end, timezone=tz.key, totals=totals,
                        top_categories=top, budgets=await _budget_statuses(user_id, start, end, tz))


async def _budget_statuses(user_id: str, start: date, end: date, tz) -> list[BudgetStatus]:
    """Alerts raised during the week (local midnight to midnight), the worst one per budget period."""
    since = datetime.combine(start, time(), tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=tz)
    worst: dict[tuple[str, str], BudgetAlert] = {}
    severity = {"threshold_80": 1, "exceeded": 2}
    alerts = BudgetAlert.find({"user_id": user_id, "raised_at": {"$gte": since, "$lt": until}},
                              sort=[("raised_at", 1)])
    async for alert in alerts:
        key = (alert.budget_id, alert.period_start)
        if key not in worst or severity[alert.status] >= severity[worst[key].status]:
            worst[key] = alert
    return [BudgetStatus(budget_id=a.budget_id, budget_name=a.budget_name, category_name=a.category_name,
                         status=a.status, spent=a.spent, limit_amount=a.limit_amount, currency=a.currency,
                         period_start=date.fromisoformat(a.period_start), period_end=date.fromisoformat(a.period_end),
                         raised_at=a.raised_at)
            for a in sorted(worst.values(), key=lambda a: a.raised_at)]
