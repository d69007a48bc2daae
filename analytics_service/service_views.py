"""The views: summary, category ranking, patterns and the largest expenses of a range (trends: service_trends)."""

from collections import defaultdict
from datetime import date, timedelta

from analytics_service.models import TransactionRecord
from analytics_service.periods import (
    WEEKDAY_NAMES,
    WEEKEND,
    DateRange,
    month_end,
)
from analytics_service.rollups import ZERO, top_id
from analytics_service.rollups_top import TopEntry, listed_inside
from analytics_service.schemas import (
    CategoryRank,
    CategoryRanking,
    CategoryShare,
    CurrencyCategories,
    CurrencyPatterns,
    CurrencySummary,
    CurrencyTop,
    DayOfMonthTotal,
    Patterns,
    Summary,
    TopExpense,
    TopExpenses,
    WeekdayTotal,
    WeekendComparison,
)
from analytics_service.service import contribution_of_record
from analytics_service.service_queries import (
    NO_SHARE,
    category_label,
    checked_range,
    context_for,
    current_month,
    fetch,
    load_category_totals,
    load_daily_totals,
    money,
    per_day,
    ratio,
    spending_by_category,
    totals_by_currency,
)
from shared.db import stored_day


async def summary(*, user_id: str, start: date | None, end: date | None) -> Summary:
    context = await context_for(user_id)
    span = checked_range(start, end, current_month(context.today))
    elapsed = span.elapsed(context.today)
    elapsed_days = elapsed.days if elapsed else 0
    totals = await load_category_totals(user_id, span)
    spending = spending_by_category(totals)
    currencies = []
    for currency, entry in totals_by_currency(totals).items():
        categories = [
            CategoryShare(category_id=category_id, category_name=name, amount=money(amount, currency), count=count,
                          share=ratio(amount, entry.expense) or NO_SHARE)
            for category_id, name, amount, count in spending.get(currency, [])
        ]
        currencies.append(CurrencySummary(
            currency=currency, income=money(entry.income, currency), expense=money(entry.expense, currency),
            net=money(entry.income - entry.expense, currency),
            savings_rate=ratio(entry.income - entry.expense, entry.income),
            count=entry.income_count + entry.expense_count, income_count=entry.income_count,
            expense_count=entry.expense_count,
            average_daily_expense=per_day(entry.expense, elapsed_days, currency),
            average_daily_income=per_day(entry.income, elapsed_days, currency),
            categories=categories))
    return Summary(from_date=span.start, to_date=span.end, days=span.days, elapsed_days=elapsed_days,
                   timezone=context.timezone, currencies=currencies)


async def categories(*, user_id: str, start: date | None, end: date | None) -> CategoryRanking:
    context = await context_for(user_id)
    span = checked_range(start, end, current_month(context.today))
    previous = span.previous()
    now = spending_by_category(await load_category_totals(user_id, span))
    before = spending_by_category(await load_category_totals(user_id, previous))
    currencies = []
    for currency in sorted(set(now) | set(before)):
        current_rows = now.get(currency, [])
        previous_by_id = {row[0]: row for row in before.get(currency, [])}
        total = sum((row[2] for row in current_rows), ZERO)
        previous_total = sum((row[2] for row in previous_by_id.values()), ZERO)
        # Categories that had spending only before still rank (at zero), so a drop to nothing shows.
        rows = list(current_rows) + [(cid, name, ZERO, 0) for cid, name, _, _ in before.get(currency, [])
                                     if cid not in {row[0] for row in current_rows}]
        ranked = []
        for rank, (category_id, name, amount, count) in enumerate(rows, start=1):
            was = previous_by_id[category_id][2] if category_id in previous_by_id else ZERO
            ranked.append(CategoryRank(
                rank=rank, category_id=category_id, category_name=name, amount=money(amount, currency), count=count,
                share=ratio(amount, total) or NO_SHARE, previous_amount=money(was, currency),
                change=money(amount - was, currency), change_ratio=ratio(amount - was, was)))
        currencies.append(CurrencyCategories(currency=currency, total=money(total, currency),
                                             previous_total=money(previous_total, currency), categories=ranked))
    return CategoryRanking(from_date=span.start, to_date=span.end, previous_from_date=previous.start,
                           previous_to_date=previous.end, currencies=currencies)


def default_pattern_range(today: date) -> DateRange:
    return DateRange(today - timedelta(days=364), today)


async def patterns(*, user_id: str, start: date | None, end: date | None) -> Patterns:
    context = await context_for(user_id)
    span = checked_range(start, end, default_pattern_range(context.today))
    weekday_days = [0] * 7
    month_days = [0] * 31
    for day in span:
        weekday_days[day.weekday()] += 1
        month_days[day.day - 1] += 1
    weekend_days = sum(weekday_days[i] for i in WEEKEND)
    currencies = []
    for currency, days in sorted((await load_daily_totals(user_id, span)).items()):
        by_weekday = [ZERO] * 7
        by_month_day = [ZERO] * 31
        for day, totals in days.items():
            by_weekday[day.weekday()] += totals.expense
            by_month_day[day.day - 1] += totals.expense
        weekend = sum((by_weekday[i] for i in WEEKEND), ZERO)
        weekday = sum(by_weekday, ZERO) - weekend
        weekend_average = per_day(weekend, weekend_days, currency)
        weekday_average = per_day(weekday, span.days - weekend_days, currency)
        currencies.append(CurrencyPatterns(
            currency=currency,
            by_weekday=[WeekdayTotal(weekday=i + 1, name=WEEKDAY_NAMES[i], total=money(by_weekday[i], currency),
                                     days=weekday_days[i], average=per_day(by_weekday[i], weekday_days[i], currency))
                        for i in range(7)],
            by_day_of_month=[DayOfMonthTotal(day=i + 1, total=money(by_month_day[i], currency), days=month_days[i],
                                             average=per_day(by_month_day[i], month_days[i], currency))
                             for i in range(31)],
            weekend_vs_weekday=WeekendComparison(
                weekend_total=money(weekend, currency), weekend_days=weekend_days, weekend_average=weekend_average,
                weekday_total=money(weekday, currency), weekday_days=span.days - weekend_days,
                weekday_average=weekday_average,
                ratio=(ratio(weekend_average, weekday_average)
                       if weekend_average is not None and weekday_average is not None else None))))
    return Patterns(from_date=span.start, to_date=span.end, currencies=currencies)


async def top_expenses(*, user_id: str, limit: int, start: date | None, end: date | None) -> TopExpenses:
    """From each month's list of largest expenses (rollups_top): a month the range covers partly keeps the
    listed expenses inside the range, which are its largest there; only when too few of them are listed
    are that part's days read from the per-transaction records (the range then covers few of its days)."""
    context = await context_for(user_id)
    span = checked_range(start, end, current_month(context.today))
    months = span.months()
    docs = await fetch([top_id(user_id, first) for first in months])
    found: dict[str, list[TopEntry]] = defaultdict(list)
    for first in months:
        inside = DateRange(max(first, span.start), min(month_end(first), span.end))
        for currency, (listed, sure) in listed_inside(docs.get(top_id(user_id, first)), inside.start, inside.end,
                                                      limit).items():
            found[currency] += listed if sure else (await expenses_between(user_id, inside, currency))[:limit]
    currencies = []
    for currency, entries in sorted(found.items()):
        if not entries:
            continue
        entries.sort(key=lambda entry: entry.rank)
        currencies.append(CurrencyTop(currency=currency, items=[
            TopExpense(id=e.transaction_id, amount=money(e.amount, currency), currency=currency,
                       category_id=e.category_id, category_name=category_label(e.category_id, e.category_name),
                       occurred_date=e.occurred_date, description=e.description)
            for e in entries[:limit]]))
    return TopExpenses(from_date=span.start, to_date=span.end, limit=limit, currencies=currencies)


async def expenses_between(user_id: str, span: DateRange, currency: str) -> list[TopEntry]:
    """Every live expense of the span in one currency, largest first (the records' date index)."""
    cursor = TransactionRecord.get_pymongo_collection().find(
        {"user_id": user_id, "occurred_date": {"$gte": stored_day(span.start), "$lte": stored_day(span.end)}})
    items = [item async for doc in cursor if (item := contribution_of_record(doc)) is not None
             and item.type == "expense" and item.currency == currency]
    return sorted((TopEntry.of(item) for item in items), key=lambda entry: entry.rank)
