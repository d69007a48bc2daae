"""The largest expenses of a month, per currency: what /top reads instead of the transactions.

Each month keeps its TOP_KEPT largest expenses per currency (sorted: amount, then the later day, then the
id) and how many expenses that currency has in the month. An add is an insert; a remove drops the entry.
When removals leave fewer than TOP_SERVED entries while the month holds more expenses, the list is stale:
its owner refills it from the month's transactions (rare: it takes TOP_KEPT - TOP_SERVED removals of
listed expenses in one month). Amounts are stored as exact integers with a scale (units.py). Pure data,
no I/O.
"""

from bisect import insort
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from analytics_service.rollups import Contribution
from analytics_service.units import amount_of, encode_amounts

TOP_SERVED = 100  # the most /top ever returns (its limit's cap)
TOP_KEPT = 150  # kept per month and currency: a margin of removals before a refill


@dataclass(frozen=True)
class TopEntry:
    transaction_id: str
    amount: Decimal
    occurred_date: date
    category_id: str | None
    category_name: str
    description: str

    @property
    def rank(self) -> tuple[Decimal, int, str]:
        """Sort key: largest amount first, then the later day, then the id (so ties are stable)."""
        return -self.amount, -self.occurred_date.toordinal(), self.transaction_id

    @classmethod
    def of(cls, item: Contribution) -> "TopEntry":
        return cls(item.transaction_id, item.amount, item.occurred_date, item.category_id, item.category_name,
                   item.description)


class MonthTop:
    def __init__(self, first: date) -> None:
        self.first = first
        self.entries: dict[str, list[TopEntry]] = {}  # currency → sorted by rank
        self.counts: dict[str, int] = {}  # currency → expenses in the month, listed or not

    def add(self, item: Contribution) -> None:
        entries = self.entries.setdefault(item.currency, [])
        entry = TopEntry.of(item)
        if len(entries) < TOP_KEPT or entry.rank < entries[-1].rank:
            insort(entries, entry, key=lambda listed: listed.rank)
            del entries[TOP_KEPT:]
        self.counts[item.currency] = self.counts.get(item.currency, 0) + 1

    def remove(self, item: Contribution) -> None:
        entries = self.entries.get(item.currency, [])
        self.entries[item.currency] = [e for e in entries if e.transaction_id != item.transaction_id]
        self.counts[item.currency] = self.counts.get(item.currency, 0) - 1

    def stale(self) -> list[str]:
        """Currencies whose list no longer surely holds the month's TOP_SERVED largest expenses."""
        return sorted(currency for currency, count in self.counts.items()
                      if len(self.entries.get(currency, [])) < min(count, TOP_SERVED))

    def refill(self, currency: str, expenses: Iterable[Contribution]) -> None:
        """Rebuild one currency's list from every live expense of the month in that currency."""
        entries = sorted((TopEntry.of(item) for item in expenses), key=lambda entry: entry.rank)
        self.counts[currency] = len(entries)
        self.entries[currency] = entries[:TOP_KEPT]

    def complete(self, currency: str) -> bool:
        """True when the list holds every expense of the month in that currency."""
        return len(self.entries.get(currency, [])) == self.counts.get(currency, 0)

    def is_empty(self) -> bool:
        return not any(self.counts.values())

    def to_fields(self) -> dict[str, list[Any]]:
        currencies = sorted(c for c, count in self.counts.items() if count)
        rows = [(currency, entry) for currency in currencies for entry in self.entries.get(currency, [])]
        return {
            "counted_currencies": currencies,
            "expense_counts": [self.counts[c] for c in currencies],
            "currencies": [currency for currency, _ in rows],
            "transaction_ids": [entry.transaction_id for _, entry in rows],
            **encode_amounts([entry.amount for _, entry in rows], currencies),
            "dates": [entry.occurred_date.isoformat() for _, entry in rows],
            "category_ids": [entry.category_id for _, entry in rows],
            "category_names": [entry.category_name for _, entry in rows],
            "descriptions": [entry.description for _, entry in rows],
        }

    @classmethod
    def from_doc(cls, first: date, doc: Mapping[str, Any] | None) -> "MonthTop":
        top = cls(first)
        if doc:
            top.counts = dict(zip(doc["counted_currencies"], doc["expense_counts"], strict=True))
            for currency, transaction_id, amount, day, category_id, name, description in zip(
                    doc["currencies"], doc["transaction_ids"], doc["amounts"], doc["dates"], doc["category_ids"],
                    doc["category_names"], doc["descriptions"], strict=True):
                top.entries.setdefault(currency, []).append(TopEntry(
                    transaction_id, amount_of(doc, amount), date.fromisoformat(day), category_id, name, description))
        return top


def listed_inside(doc: Mapping[str, Any] | None, start: date, end: date,
                  limit: int) -> dict[str, tuple[list[TopEntry], bool]]:
    """Per currency listed in a month's document: its largest expenses dated from start to end (at most
    `limit`, largest first), and whether they surely are that part of the month's largest `limit` (the list
    holds every expense of the month, or `limit` of the listed ones fall inside). Builds only the entries it
    keeps: a three-year /top needs 10 of each month's 300, and building all of them cost 28 ms."""
    if not doc:
        return {}
    first_day, last_day = start.isoformat(), end.isoformat()  # ISO dates compare as text
    listed = Counter(doc["currencies"])
    counts = dict(zip(doc["counted_currencies"], doc["expense_counts"], strict=True))
    kept: dict[str, list[TopEntry]] = {currency: [] for currency in listed}
    for index, (currency, day) in enumerate(zip(doc["currencies"], doc["dates"], strict=True)):
        entries = kept[currency]
        if len(entries) < limit and first_day <= day <= last_day:
            entries.append(TopEntry(doc["transaction_ids"][index], amount_of(doc, doc["amounts"][index]),
                                    date.fromisoformat(day), doc["category_ids"][index],
                                    doc["category_names"][index], doc["descriptions"][index]))
    return {currency: (entries, listed[currency] == counts.get(currency, 0) or len(entries) >= limit)
            for currency, entries in kept.items()}

