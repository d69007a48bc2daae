"""Trends: income, spending and net per day, ISO week or month of a range, every period (empty ones as 0).

A three-year daily trend is 1,096 points per currency. Profiled (cProfile in the service, 100,000
transactions): the Decimal128 amounts cost more than anything else (server time to read them, client time
to decode and convert them), then building ~2,200 pydantic points. So this view adds up the series
rollups' exact integers (units.py) without ever making a Decimal, and writes its JSON itself
(TrendTable.json). schemas.Trends still documents the response; TrendTable.model() builds it for the
export, and the tests hold both to the same bytes.

Every granularity reads the daily series (a month's days summed, clipped to the range), except that whole
ISO weeks come from the weekly series; the clipped weeks at the range's edges come from the daily series.
"""

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from operator import add
from typing import Any

from analytics_service.periods import DateRange, Granularity, Period, add_months, parse_month_key, periods
from analytics_service.rollups import weeks_id
from analytics_service.schemas import TrendPoint, Trends, TrendSeries
from analytics_service.service_queries import (
    Docs,
    checked_range,
    context_for,
    current_month,
    fetch,
    fetch_series,
    series_of,
)
from analytics_service.units import currency_digits, money_formatter, rescale, unit_rows

KINDS = ("income", "expense")


class CurrencyTrend:
    """One currency's income and expense sums per period, in integers of 10**-scale, and their counts."""

    def __init__(self, currency: str, length: int) -> None:
        self.currency = currency
        self.scale = currency_digits(currency)
        self.amounts = {kind: [0] * length for kind in KINDS}
        self.counts = {kind: [0] * length for kind in KINDS}

    def factor(self, scale: int) -> int:
        """The multiplier that brings amounts of `scale` to this sum's scale (raised first when finer)."""
        if scale > self.scale:
            up = 10 ** (scale - self.scale)
            self.amounts = {kind: [value * up for value in values] for kind, values in self.amounts.items()}
            self.scale = scale
        return 10 ** (self.scale - scale)

    def texts(self) -> list[tuple[str, str, str, int]]:
        """(income, expense, net, count) per period, money rounded to the currency's unit as JSON text."""
        income, expense = self.amounts["income"], self.amounts["expense"]
        counts = map(add, self.counts["income"], self.counts["expense"])
        text = money_formatter(self.scale, self.currency)
        return [(text(i), text(e), text(i - e), count) for i, e, count in zip(income, expense, counts, strict=True)]


@dataclass
class TrendTable:
    granularity: Granularity
    span: DateRange
    buckets: list[Period]
    series: list[CurrencyTrend]

    def model(self) -> Trends:
        # Constructed, not validated: the values are ours, and DecimalStr would refuse a total above 10**12.
        return Trends(granularity=self.granularity, from_date=self.span.start, to_date=self.span.end, series=[
            TrendSeries(currency=trend.currency, points=[
                TrendPoint.model_construct(period=bucket.label, start_date=bucket.start, end_date=bucket.end,
                                           income=Decimal(income), expense=Decimal(expense), net=Decimal(net),
                                           count=count)
                for bucket, (income, expense, net, count) in zip(self.buckets, trend.texts(), strict=True)])
            for trend in self.series])

    def json(self) -> bytes:
        """The same bytes as self.model().model_dump_json(), written directly (labels and dates are plain
        ASCII; the currency code is escaped as pydantic would)."""
        heads = [f'{{"period":"{bucket.label}","start_date":"{bucket.start.isoformat()}",'
                 f'"end_date":"{bucket.end.isoformat()}","income":"' for bucket in self.buckets]
        series = []
        for trend in self.series:
            points = ",".join(f'{head}{income}","expense":"{expense}","net":"{net}","count":{count}}}'
                              for head, (income, expense, net, count) in zip(heads, trend.texts(), strict=True))
            series.append(f'{{"currency":{json.dumps(trend.currency, ensure_ascii=False)},"points":[{points}]}}')
        return (f'{{"granularity":"{self.granularity}","from_date":"{self.span.start.isoformat()}",'
                f'"to_date":"{self.span.end.isoformat()}","series":[{",".join(series)}]}}').encode()


class Sums:
    """Per currency, what a range's rollups add to each period; a currency appears once it has a transaction
    inside the range."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.by_currency: dict[str, CurrencyTrend] = {}

    def of(self, currency: str) -> CurrencyTrend:
        if currency not in self.by_currency:
            self.by_currency[currency] = CurrencyTrend(currency, self.length)
        return self.by_currency[currency]

    def add_days(self, doc: dict[str, Any], window: DateRange, *, first_bucket_day: date | None = None,
                 bucket: int | None = None) -> None:
        """Add a daily series document's days inside the window: day by day from the bucket of
        first_bucket_day on (day granularity), or all of them into one bucket."""
        first = parse_month_key(doc["period"])
        lo, hi = max(0, (window.start - first).days), (window.end - first).days + 1
        scale, rows = unit_rows(doc)
        for currency, type_, amounts, counts in zip(doc["currencies"], doc["types"], rows, doc["counts"],
                                                    strict=True):
            inside = counts[lo:hi]
            if not any(inside):
                continue
            trend, kind = self.of(currency), "income" if type_ == "income" else "expense"
            factor = trend.factor(scale)
            values, tally = trend.amounts[kind], trend.counts[kind]
            if bucket is None:
                assert first_bucket_day is not None
                at = (first - first_bucket_day).days + lo
                end = at + len(inside)
                values[at:end] = map(add, values[at:end], rescale(amounts[lo:hi], factor))
                tally[at:end] = map(add, tally[at:end], inside)
            else:
                values[bucket] += sum(amounts[lo:hi]) * factor
                tally[bucket] += sum(inside)

    def add_weeks(self, doc: dict[str, Any], year: int, bucket_of: dict[date, int]) -> None:
        """Add a weekly series document's weeks that are buckets of their own (whole weeks of the range)."""
        first_monday = date.fromisocalendar(year, 1, 1)
        scale, rows = unit_rows(doc)
        for currency, type_, amounts, counts in zip(doc["currencies"], doc["types"], rows, doc["counts"],
                                                    strict=True):
            used = [(bucket_of[monday], week) for week in range(len(counts))
                    if counts[week] and (monday := first_monday + timedelta(weeks=week)) in bucket_of]
            if not used:
                continue
            trend, kind = self.of(currency), "income" if type_ == "income" else "expense"
            factor = trend.factor(scale)
            for bucket, week in used:
                trend.amounts[kind][bucket] += amounts[week] * factor
                trend.counts[kind][bucket] += counts[week]

    def sorted(self) -> list[CurrencyTrend]:
        return [self.by_currency[currency] for currency in sorted(self.by_currency)]


def default_trend_range(today: date) -> DateRange:
    """The current month and the eleven before it, through the current month's last day."""
    this_month = current_month(today)
    return DateRange(add_months(this_month.start, -11), this_month.end)


def week_buckets(buckets: list[Period]) -> tuple[dict[date, int], list[tuple[int, DateRange]]]:
    """({Monday: index} of the whole weeks, [(index, days)] of the weeks the range clips)."""
    whole = {bucket.start: index for index, bucket in enumerate(buckets) if (bucket.end - bucket.start).days == 6}
    edges = [(index, DateRange(bucket.start, bucket.end)) for index, bucket in enumerate(buckets)
             if bucket.start not in whole]
    return whole, edges


def week_rollup_ids(user_id: str, buckets: list[Period]) -> list[str]:
    whole, edges = week_buckets(buckets)
    years = sorted({monday.isocalendar().year for monday in whole})
    return [weeks_id(user_id, year) for year in years] + [i for _, edge in edges for i in series_of(user_id, edge)]


def table_of(user_id: str, granularity: Granularity, span: DateRange, buckets: list[Period], docs: Docs) -> TrendTable:
    """The trends from the rollups (pure): the daily series of the span's months, and for weeks the weekly
    series of their ISO years and the daily series of the clipped edge weeks."""
    sums = Sums(len(buckets))
    if granularity == "week":
        whole, edges = week_buckets(buckets)
        for year in sorted({monday.isocalendar().year for monday in whole}):
            if (doc := docs.get(weeks_id(user_id, year))) is not None:
                sums.add_weeks(doc, year, whole)
        for index, edge in edges:
            for doc_id in series_of(user_id, edge):
                if (doc := docs.get(doc_id)) is not None:
                    sums.add_days(doc, edge, bucket=index)
    else:
        for index, doc_id in enumerate(series_of(user_id, span)):
            if (doc := docs.get(doc_id)) is not None:
                if granularity == "day":
                    sums.add_days(doc, span, first_bucket_day=span.start)
                else:
                    sums.add_days(doc, span, bucket=index)
    return TrendTable(granularity, span, buckets, sums.sorted())


async def trend_table(*, user_id: str, granularity: Granularity, start: date | None, end: date | None) -> TrendTable:
    context = await context_for(user_id)
    span = checked_range(start, end, default_trend_range(context.today))
    buckets = periods(span, granularity)
    if granularity == "week":
        docs = await fetch(week_rollup_ids(user_id, buckets))
    else:
        docs = await fetch_series(user_id, span)
    return table_of(user_id, granularity, span, buckets, docs)


async def trends(*, user_id: str, granularity: Granularity, start: date | None, end: date | None) -> Trends:
    """The trends as their pydantic model (the export reads it); the route writes TrendTable.json()."""
    return (await trend_table(user_id=user_id, granularity=granularity, start=start, end=end)).model()
