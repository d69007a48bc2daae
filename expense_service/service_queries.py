"""Listing transactions: typed filters → a MongoDB query, sorting, pagination, per-currency totals."""

import asyncio
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bson import Decimal128

from expense_service.models import Transaction
from expense_service.schemas import (
    EARLIEST_DATE,
    LATEST_DATE,
    CurrencyTotals,
    TransactionFilters,
    TransactionPage,
    totals_from_sums,
)
from expense_service.service_categories import category_names, ensure_categories, find_category
from expense_service.service_transactions import to_public
from shared.db import stored_day
from shared.errors import field_problem
from shared.runtime import Runtime
from shared.schemas import PageParams

SORT_FIELDS = {"date": "occurred_date", "amount": "amount", "created": "created_at"}
ONE_MS = timedelta(milliseconds=1)


def date_bounds(first: date | None, last: date | None) -> dict[str, datetime]:
    """Inclusive calendar-day bounds, written as exclusive ones one millisecond (BSON's resolution) outside:
    the same set of days, and SecantusDB drops boundary values of $gte/$lte on a date in a compound index."""
    bounds = {}
    if first is not None and first > EARLIEST_DATE:
        bounds["$gt"] = stored_day(first) - ONE_MS
    if last is not None and last < LATEST_DATE:
        bounds["$lt"] = stored_day(last) + ONE_MS
    return bounds


async def build_query(*, user_id: str, filters: TransactionFilters) -> dict[str, Any]:
    """The MongoDB filter for the caller's transactions; every value typed, the search text escaped."""
    query: dict[str, Any] = {"user_id": user_id}
    if filters.type is not None:
        query["type"] = filters.type
    if filters.category:
        ids = set()
        for ref in filters.category:
            found = await find_category(user_id=user_id, ref=ref, kind=filters.type)
            if not found:
                raise field_problem("category", f"no category '{ref}' of this user")
            ids.update(c.id for c in found)
        query["category_id"] = {"$in": sorted(ids)}
    if filters.currency is not None:
        query["currency"] = filters.currency
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise field_problem("date_to", "must not be before date_from")
    dates = date_bounds(filters.date_from, filters.date_to)
    if dates:
        query["occurred_date"] = dates
    if filters.amount_min is not None and filters.amount_max is not None and filters.amount_min > filters.amount_max:
        raise field_problem("amount_max", "must not be below amount_min")
    amounts = {op: Decimal128(value) for op, value in (("$gte", filters.amount_min), ("$lte", filters.amount_max))
               if value is not None}
    if amounts:
        query["amount"] = amounts
    if filters.tag is not None:
        query["tags"] = filters.tag
    if filters.q is not None:
        query["description"] = {"$regex": re.escape(filters.q), "$options": "i"}
    return query


def sort_spec(filters: TransactionFilters) -> list[tuple[str, int]]:
    direction = 1 if filters.order == "asc" else -1
    return [(SORT_FIELDS[filters.sort], direction), ("_id", direction)]


async def totals_for(query: dict[str, Any]) -> tuple[list[CurrencyTotals], int]:
    """Income, expense and net per currency over everything the query matches (summed in MongoDB), and how
    many transactions that is: the group counts give the total, so no separate count is needed."""
    pipeline = [{"$match": query},
                {"$group": {"_id": {"currency": "$currency", "type": "$type"},
                            "sum": {"$sum": "$amount"}, "count": {"$sum": 1}}}]
    cursor = await Transaction.get_pymongo_collection().aggregate(pipeline)
    sums: dict[tuple[str, str], tuple[Decimal, int]] = {}
    async for row in cursor:
        currency, kind = row["_id"]["currency"], row["_id"]["type"]
        total = row["sum"].to_decimal() if isinstance(row["sum"], Decimal128) else Decimal(row["sum"])
        sums[(currency, kind)] = (total, row["count"])
    return totals_from_sums(sums), sum(count for _, count in sums.values())


async def list_transactions(*, runtime: Runtime, user_id: str, filters: TransactionFilters,
                            page: PageParams) -> TransactionPage:
    await ensure_categories(runtime=runtime, user_id=user_id)
    query = await build_query(user_id=user_id, filters=filters)
    found = Transaction.find(query).sort(sort_spec(filters)).skip(page.offset).limit(page.limit).to_list()
    items, (totals, total) = await asyncio.gather(found, totals_for(query))
    names = await category_names(user_id=user_id, ids={t.category_id for t in items})
    return TransactionPage(items=[to_public(t, names.get(t.category_id, "")) for t in items], total=total,
                           limit=page.limit, offset=page.offset, totals=totals)
