"""A batch of changes to one user's rollups: the one code path every change takes.

An event handler loads the few rollups a change touches, applies it and saves them; seeding and rebuilds
apply a whole history to an empty RollupSet and write it at once. Pure: no I/O.
"""

from datetime import date
from typing import Any

from analytics_service.periods import month_key, month_start
from analytics_service.rollups import (
    CategoryTotals,
    Contribution,
    DailySeries,
    WeeklySeries,
    day_id,
    month_id,
    series_id,
    top_id,
    weeks_id,
)
from analytics_service.rollups_top import MonthTop


class RollupSet:
    """One user's rollups that a batch of changes touches; tracks which ones changed."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.days: dict[date, CategoryTotals] = {}
        self.months: dict[date, CategoryTotals] = {}
        self.series: dict[date, DailySeries] = {}
        self.weeks: dict[int, WeeklySeries] = {}
        self.tops: dict[date, MonthTop] = {}
        self.changed_days: set[date] = set()
        self.changed_months: set[date] = set()
        self.changed_years: set[int] = set()

    def _add(self, item: Contribution, sign: int) -> None:
        day, first = item.occurred_date, month_start(item.occurred_date)
        self.days.setdefault(day, CategoryTotals()).add(item, sign)
        self.months.setdefault(first, CategoryTotals()).add(item, sign)
        self.series.setdefault(first, DailySeries(first)).add(item, sign)
        year = day.isocalendar().year
        self.weeks.setdefault(year, WeeklySeries(year)).add(item, sign)
        if item.type == "expense":
            top = self.tops.setdefault(first, MonthTop(first))
            top.add(item) if sign > 0 else top.remove(item)
        self.changed_days.add(day)
        self.changed_months.add(first)
        self.changed_years.add(year)

    def apply(self, old: Contribution | None, new: Contribution | None) -> None:
        """Replace what a transaction contributed (old, as last applied) by what it contributes now."""
        if old is not None:
            self._add(old, -1)
        if new is not None:
            self._add(new, +1)

    def stale_tops(self) -> list[tuple[date, str]]:
        """(month, currency) lists of largest expenses that must be refilled from the transactions."""
        return [(first, currency) for first in sorted(self.changed_months) if first in self.tops
                for currency in self.tops[first].stale()]

    def documents(self) -> tuple[list[dict[str, Any]], list[str]]:
        """The changed rollups as documents to write, and the ids of those that now hold nothing."""
        write: list[dict[str, Any]] = []
        delete: list[str] = []

        def emit(doc_id: str, kind: str, period: str, empty: bool, fields: dict[str, Any]) -> None:
            if empty:
                delete.append(doc_id)
            else:
                write.append({"_id": doc_id, "user_id": self.user_id, "kind": kind, "period": period, **fields})

        for day in sorted(self.changed_days):
            totals = self.days[day]
            emit(day_id(self.user_id, day), "day", day.isoformat(), totals.is_empty(),
                 totals.to_fields() if not totals.is_empty() else {})
        for first in sorted(self.changed_months):
            totals, series = self.months[first], self.series[first]
            empty = totals.is_empty()
            emit(month_id(self.user_id, first), "month", month_key(first), empty,
                 {} if empty else totals.to_fields())
            emit(series_id(self.user_id, first), "series", month_key(first), empty,
                 {} if empty else series.to_fields())
        for first in sorted(self.changed_months & self.tops.keys()):  # only months an expense touched
            top = self.tops[first]
            emit(top_id(self.user_id, first), "top", month_key(first), top.is_empty(),
                 {} if top.is_empty() else top.to_fields())
        for year in sorted(self.changed_years):
            weeks = self.weeks[year]
            emit(weeks_id(self.user_id, year), "weeks", f"{year:04d}", weeks.is_empty(),
                 {} if weeks.is_empty() else weeks.to_fields())
        return write, delete
