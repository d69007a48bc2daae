"""Insights: plain statements, each with its numbers and the rule that produced it, computed with pandas.

Every window is judged from "today" in the user's timezone:
- this month so far (month to date), the last complete month and the one before it, the last 90 days.
Money stays exact (Decimal objects in the frames); the outlier rule, a statistic, works in floats.
"""

import statistics
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from analytics_service.periods import WEEKEND, DateRange, add_months, days_in_month, month_key
from analytics_service.rollups import ZERO
from analytics_service.schemas import Insight, Insights
from analytics_service.service_queries import (
    category_totals,
    context_for,
    current_month,
    daily_totals,
    fetch,
    money,
    parts_of,
    per_day,
    ratio,
    series_of,
    spending_by_category,
)

RECENT_DAYS = 90
Z_THRESHOLD = 3.5
Z_SCALE = 0.6745
MIN_SPENDING_DAYS = 7
MAX_CHANGES, MAX_UNUSUAL_DAYS = 3, 3


def percent(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f}%"


def category_frame(windows: dict[str, Any]) -> pd.DataFrame:
    """One row per (window, currency, category) of spending."""
    rows = [{"window": name, "currency": currency, "category_id": category_id or "", "category_name": label,
             "amount": amount}
            for name, totals in windows.items()
            for currency, entries in spending_by_category(totals).items()
            for category_id, label, amount, _ in entries]
    return pd.DataFrame(rows, columns=["window", "currency", "category_id", "category_name", "amount"])


def top_categories(frame: pd.DataFrame, span: DateRange) -> list[Insight]:
    out = []
    month = frame[frame["window"] == "month_to_date"]
    totals = month.groupby("currency")["amount"].sum()
    ranked = month.sort_values(["currency", "amount", "category_id"], ascending=[True, False, True], kind="stable")
    for best in ranked.drop_duplicates("currency").itertuples():
        currency, total = best.currency, totals[best.currency]
        share = ratio(best.amount, total)
        out.append(Insight(
            kind="top_category", currency=currency,
            statement=(f"{best.category_name} is your top spending category this month: "
                       f"{money(best.amount, currency)} {currency}, {share * 100:.1f}% of "
                       f"{money(total, currency)} {currency}."),
            rule=f"largest spending category from {span.start} to {span.end} (month to date); share = category / total",
            numbers={"category_id": best.category_id or None, "category_name": best.category_name,
                     "amount": str(money(best.amount, currency)), "total": str(money(total, currency)),
                     "share": str(share), "from_date": span.start.isoformat(), "to_date": span.end.isoformat()}))
    return out


def category_changes(frame: pd.DataFrame, last: date, before: date) -> list[Insight]:
    out = []
    months = frame[frame["window"].isin(["last_month", "month_before"])]
    if months.empty:
        return out
    keys = ["currency", "category_id"]
    table = months.pivot(index=keys, columns="window", values="amount").reindex(
        columns=["last_month", "month_before"]).astype(object)
    table = table.where(table.notna(), ZERO)
    # "last_month" sorts before "month_before": the later month's name wins.
    table["name"] = months.sort_values("window", kind="stable").drop_duplicates(keys).set_index(keys)["category_name"]
    table["change"] = table["last_month"] - table["month_before"]
    table = table[table["change"] != ZERO]
    table["size"] = table["change"].map(abs)
    table = table.reset_index().sort_values(["currency", "size", "category_id"], ascending=[True, False, True],
                                            kind="stable")
    for row in table.groupby("currency", sort=False).head(MAX_CHANGES).itertuples():
        currency, change_ratio = row.currency, ratio(row.change, row.month_before)
        direction = "rose" if row.change > 0 else "fell"
        out.append(Insight(
            kind="category_change", currency=currency,
            statement=(f"{row.name} {direction} by {money(abs(row.change), currency)} {currency} in "
                       f"{month_key(last)}: {money(row.last_month, currency)} against "
                       f"{money(row.month_before, currency)} in {month_key(before)} ({percent(change_ratio)})."),
            rule=(f"spending per category, {month_key(last)} against {month_key(before)}; "
                  f"the {MAX_CHANGES} largest absolute changes"),
            numbers={"category_id": row.category_id or None, "category_name": row.name,
                     "month": month_key(last), "previous_month": month_key(before),
                     "amount": str(money(row.last_month, currency)),
                     "previous_amount": str(money(row.month_before, currency)),
                     "change": str(money(row.change, currency)),
                     "change_ratio": None if change_ratio is None else str(change_ratio)}))
    return out


def daily_frame(daily: dict[str, dict[date, Any]], span: DateRange) -> pd.DataFrame:
    """Spending per day (rows, every day of the span) and currency (columns); days without any are 0."""
    columns: dict[str, list[Decimal]] = {}
    for currency, days in sorted(daily.items()):
        column = columns[currency] = [ZERO] * span.days
        for day, totals in days.items():
            column[(day - span.start).days] = totals.expense
    return pd.DataFrame(columns, index=pd.date_range(span.start, span.end, freq="D"), dtype=object)


def weekend_against_weekday(frame: pd.DataFrame, span: DateRange) -> list[Insight]:
    out = []
    weekend_mask = frame.index.day_of_week.isin(sorted(WEEKEND))
    weekend_days, weekday_days = int(weekend_mask.sum()), int((~weekend_mask).sum())
    weekend_totals, weekday_totals = frame[weekend_mask].sum(), frame[~weekend_mask].sum()
    for currency in frame.columns:
        weekend_total, weekday_total = Decimal(weekend_totals[currency]), Decimal(weekday_totals[currency])
        if not weekend_total and not weekday_total:
            continue
        # A 90-day window always holds both kinds of day, so neither average is None.
        weekend_avg = per_day(weekend_total, weekend_days, currency)
        weekday_avg = per_day(weekday_total, weekday_days, currency)
        times = ratio(weekend_avg, weekday_avg) if weekend_avg is not None and weekday_avg is not None else None
        out.append(Insight(
            kind="weekend_vs_weekday", currency=currency,
            statement=(f"Over the last {span.days} days you spent {weekend_avg} {currency} per weekend day and "
                       f"{weekday_avg} {currency} per weekday"
                       + (f" ({times:.2f}×)." if times is not None else ".")),
            rule=(f"average spending per calendar day, Saturday–Sunday against Monday–Friday, "
                  f"{span.start} to {span.end}"),
            numbers={"weekend_total": str(money(weekend_total, currency)), "weekend_days": weekend_days,
                     "weekend_average": str(weekend_avg), "weekday_total": str(money(weekday_total, currency)),
                     "weekday_days": weekday_days, "weekday_average": str(weekday_avg),
                     "ratio": None if times is None else str(times)}))
    return out


def unusual_days(frame: pd.DataFrame, span: DateRange) -> list[Insight]:
    """Every currency at once: days without spending are left out (NaN), the rest scored."""
    out: list[Insight] = []
    if frame.empty:
        return out
    spent = frame.astype(float).where(frame != ZERO)
    median = spent.median()
    mad = (spent - median).abs().median()
    scores = Z_SCALE * (spent - median) / mad
    enough = spent.count()
    for currency in frame.columns:
        if enough[currency] < MIN_SPENDING_DAYS or not mad[currency] > 0:
            continue
        column = scores[currency]
        flagged = column[column > Z_THRESHOLD].sort_values(ascending=False, kind="stable").head(MAX_UNUSUAL_DAYS)
        typical = money(statistics.median([v for v in frame[currency] if v]), currency)
        for moment, score in flagged.items():
            amount = money(frame.at[moment, currency], currency)
            out.append(Insight(
                kind="unusual_day", currency=currency,
                statement=(f"Unusual spending on {moment.date()}: {amount} {currency}, against "
                           f"{typical} {currency} on a typical spending day (modified z-score {score:.1f})."),
                rule=(f"modified z-score {Z_SCALE}·(x − median)/MAD > {Z_THRESHOLD} over the days with spending, "
                      f"{span.start} to {span.end} (at least {MIN_SPENDING_DAYS} such days)"),
                numbers={"date": moment.date().isoformat(), "amount": str(amount), "median": str(typical),
                         "z_score": f"{score:.2f}"}))
    return out


def month_end_projection(frame: pd.DataFrame, today: date, last: date) -> list[Insight]:
    out = []
    elapsed, length = today.day, days_in_month(today)
    sums = frame.groupby(["currency", "window"])["amount"].sum()
    for currency in sorted(set(frame["currency"])):
        so_far = sums.get((currency, "month_to_date"), ZERO)
        last_total = sums.get((currency, "last_month"), ZERO)
        if not so_far and not last_total:
            continue
        projected = money(so_far * length / elapsed, currency)
        change_ratio = ratio(projected - last_total, last_total)
        out.append(Insight(
            kind="month_end_projection", currency=currency,
            statement=(f"At this pace you will spend about {projected} {currency} this month "
                       f"({money(so_far, currency)} in the first {elapsed} of {length} days), "
                       f"{percent(change_ratio)} against {money(last_total, currency)} {currency} "
                       f"in {month_key(last)}."),
            rule="run rate: month-to-date spending ÷ days elapsed × days in the month, against last month's total",
            numbers={"month_to_date": str(money(so_far, currency)), "days_elapsed": elapsed, "days_in_month": length,
                     "projected": str(projected), "last_month": str(money(last_total, currency)),
                     "change": str(money(projected - last_total, currency)),
                     "change_ratio": None if change_ratio is None else str(change_ratio)}))
    return out


async def insights(*, user_id: str) -> Insights:
    context = await context_for(user_id)
    today = context.today
    month_to_date = DateRange(today.replace(day=1), today)
    last = add_months(month_to_date.start, -1)
    before = add_months(month_to_date.start, -2)
    recent = DateRange(today - timedelta(days=RECENT_DAYS - 1), today)
    windows = {"month_to_date": parts_of(user_id, month_to_date), "last_month": parts_of(user_id, current_month(last)),
               "month_before": parts_of(user_id, current_month(before))}
    docs = await fetch([doc_id for signs in windows.values() for doc_id in signs] + series_of(user_id, recent))
    totals = {name: category_totals(docs, signs) for name, signs in windows.items()}
    daily = daily_totals(docs, user_id, recent)
    categories = category_frame(totals)
    days = daily_frame(daily, recent)
    found = (top_categories(categories, month_to_date) + category_changes(categories, last, before)
             + weekend_against_weekday(days, recent) + unusual_days(days, recent)
             + month_end_projection(categories, today, last))
    order = ["top_category", "category_change", "weekend_vs_weekday", "unusual_day", "month_end_projection"]
    found.sort(key=lambda insight: (insight.currency, order.index(insight.kind)))  # stable within a kind
    return Insights(as_of_date=today, timezone=context.timezone, insights=found)
