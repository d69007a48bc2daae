"""The read model's rollups in memory: pure data and arithmetic, no I/O.

Every change goes through rollup_set.RollupSet, which combines these.

Five kinds of rollup per user, all exact, in one collection so that a change reads and writes all it touches
in one round trip each:
- "day": totals per (currency, type, category), for the loose days at the edges of a range;
- "month": the same per (currency, type, category), so a range costs its months, not its days;
- "series": a month's daily totals per (currency, type) without categories, for trends, patterns, insights;
- "weeks": an ISO year's weekly totals per (currency, type), so weekly trends read a few documents a year;
- "top": a month's largest expenses per currency (rollups_top.py), for /top.
Amounts are Decimals in memory. In MongoDB "series", "weeks" and "top" (thousands of amounts per query)
store them as exact integers with a scale (units.py); "day" and "month" store Decimal128.
Rows are stored as parallel arrays rather than nested sub-documents: measured on SecantusDB, every nested
container and every Decimal128 costs server time on each read, and reads dominate.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bson import Decimal128

from analytics_service.periods import days_in_month, month_key
from analytics_service.units import decimal_rows, encode_rows

ZERO = Decimal(0)
RowKey = tuple[str, str, str | None]  # (currency, type, category_id)
SeriesKey = tuple[str, str]  # (currency, type)


@dataclass(frozen=True)
class Contribution:
    """What one live transaction adds to the rollups."""

    currency: str
    type: str  # "expense" | "income"
    category_id: str | None
    category_name: str
    occurred_date: date
    amount: Decimal
    transaction_id: str = ""  # for the lists of largest expenses
    description: str = ""


_COEFFICIENT_HIGH_BITS = (1 << 49) - 1


def to_decimal(value: Any) -> Decimal:
    """Decimal128 → Decimal, exactly (same digits and exponent). bson's to_decimal() is about 4 times slower, and
    a three-year query converts thousands of amounts."""
    if not isinstance(value, Decimal128):
        return Decimal(value)
    bid = value.bid  # IEEE 754-2008 BID, little endian
    high = int.from_bytes(bid[8:], "little")
    if (high >> 61) & 0b11 == 0b11:  # infinity, NaN or the rare large-coefficient form: let bson decode it
        return value.to_decimal()
    coefficient = ((high & _COEFFICIENT_HIGH_BITS) << 64) | int.from_bytes(bid[:8], "little")
    exponent = ((high >> 49) & 0x3FFF) - 6176
    return Decimal(f"{'-' if high >> 63 else ''}{coefficient}E{exponent}")


def day_id(user_id: str, day: date) -> str:
    return f"{user_id}|day|{day.isoformat()}"


def month_id(user_id: str, first: date) -> str:
    return f"{user_id}|month|{month_key(first)}"


def series_id(user_id: str, first: date) -> str:
    return f"{user_id}|series|{month_key(first)}"


def weeks_id(user_id: str, iso_year: int) -> str:
    return f"{user_id}|weeks|{iso_year:04d}"


def top_id(user_id: str, first: date) -> str:
    return f"{user_id}|top|{month_key(first)}"


class CategoryTotals:
    """Amount and count per (currency, type, category) over one day or one month."""

    def __init__(self) -> None:
        self.amounts: dict[RowKey, Decimal] = {}
        self.counts: dict[RowKey, int] = {}
        self.names: dict[RowKey, str] = {}

    def add(self, item: Contribution, sign: int) -> None:
        key = (item.currency, item.type, item.category_id)
        self.amounts[key] = self.amounts.get(key, ZERO) + sign * item.amount
        self.counts[key] = self.counts.get(key, 0) + sign
        if sign > 0 and item.category_name:
            self.names[key] = item.category_name  # the latest name a transaction brought wins

    def merge(self, other: "CategoryTotals", sign: int = 1) -> None:
        """Add (or, sign -1, take away) another period's totals. Queries merge in date order, so newer
        names win."""
        for key, amount in other.amounts.items():
            self.amounts[key] = self.amounts.get(key, ZERO) + sign * amount
            self.counts[key] = self.counts.get(key, 0) + sign * other.counts[key]
        if sign > 0:
            self.names.update(other.names)

    def rows(self) -> Iterable[tuple[RowKey, Decimal, int]]:
        for key, count in self.counts.items():
            if count:
                yield key, self.amounts[key], count

    def is_empty(self) -> bool:
        return not any(self.counts.values())

    def to_fields(self) -> dict[str, list[Any]]:
        rows = sorted(self.rows(), key=lambda row: (row[0][0], row[0][1], row[0][2] or ""))
        return {
            "currencies": [key[0] for key, _, _ in rows],
            "types": [key[1] for key, _, _ in rows],
            "category_ids": [key[2] for key, _, _ in rows],
            "category_names": [self.names.get(key, "") for key, _, _ in rows],
            "amounts": [Decimal128(amount) for _, amount, _ in rows],
            "counts": [count for _, _, count in rows],
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> "CategoryTotals":
        totals = cls()
        if doc:
            for currency, type_, category_id, name, amount, count in zip(
                    doc["currencies"], doc["types"], doc["category_ids"], doc["category_names"], doc["amounts"],
                    doc["counts"], strict=True):
                key = (currency, type_, category_id)
                totals.amounts[key] = to_decimal(amount)
                totals.counts[key] = count
                if name:
                    totals.names[key] = name
        return totals


class Series:
    """Amount and count per (currency, type) at each of `length` positions, without categories."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.amounts: dict[SeriesKey, list[Decimal]] = {}
        self.counts: dict[SeriesKey, list[int]] = {}

    def position(self, day: date) -> int:
        raise NotImplementedError

    def add(self, item: Contribution, sign: int) -> None:
        key = (item.currency, item.type)
        if key not in self.amounts:
            self.amounts[key] = [ZERO] * self.length
            self.counts[key] = [0] * self.length
        index = self.position(item.occurred_date)
        self.amounts[key][index] += sign * item.amount
        self.counts[key][index] += sign

    def live_keys(self) -> list[SeriesKey]:
        return sorted(key for key, counts in self.counts.items() if any(counts))

    def is_empty(self) -> bool:
        return not self.live_keys()

    def to_fields(self) -> dict[str, Any]:
        """Amounts as exact integers with the document's scale (units.py): what trends read fast."""
        keys = self.live_keys()
        return {
            "currencies": [key[0] for key in keys],
            "types": [key[1] for key in keys],
            **encode_rows([self.amounts[key] for key in keys], {key[0] for key in keys}),
            "counts": [list(self.counts[key]) for key in keys],
        }

    def load(self, doc: Mapping[str, Any] | None) -> None:
        if doc:
            for currency, type_, amounts, counts in zip(doc["currencies"], doc["types"], decimal_rows(doc),
                                                        doc["counts"], strict=True):
                self.amounts[(currency, type_)] = amounts
                self.counts[(currency, type_)] = list(counts)


class DailySeries(Series):
    """One month, day by day: position 0 is the 1st."""

    def __init__(self, first: date) -> None:
        super().__init__(days_in_month(first))
        self.first = first

    def position(self, day: date) -> int:
        return day.day - 1

    @classmethod
    def from_doc(cls, first: date, doc: Mapping[str, Any] | None) -> "DailySeries":
        series = cls(first)
        series.load(doc)
        return series


class WeeklySeries(Series):
    """One ISO year, week by week (Monday to Sunday): position 0 is week 1; a year has 52 or 53."""

    def __init__(self, year: int) -> None:
        super().__init__(53)
        self.year = year

    def position(self, day: date) -> int:
        return day.isocalendar().week - 1

    @classmethod
    def from_doc(cls, year: int, doc: Mapping[str, Any] | None) -> "WeeklySeries":
        series = cls(year)
        series.load(doc)
        return series
