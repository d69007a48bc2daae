"""CSV format of transactions, and the streamed export.

Columns: id, occurred_date, type, amount, currency, category, description, payment_method, tags, notes,
created_at. Tags are comma-separated inside their cell. A text cell starting with = + - @ (or a tab/CR) is
written with a leading apostrophe so spreadsheets never run it as a formula; the import strips it again, so an
export re-imports to the same values.
"""

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

from bson import Decimal128

from expense_service.models import Category, Transaction
from expense_service.schemas import TransactionFilters
from expense_service.service_categories import ensure_categories
from expense_service.service_queries import build_query, sort_spec
from shared.runtime import Runtime

COLUMNS = ("id", "occurred_date", "type", "amount", "currency", "category", "description", "payment_method",
           "tags", "notes", "created_at")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TAG_SEPARATOR = ","


def guard(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unguard(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS) else text


def _day(value: Any) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat() if value else ""


def export_row(raw: dict[str, Any], names: dict[Any, str]) -> list[str]:
    """One stored transaction (raw BSON document) as CSV cells."""
    amount = raw["amount"].to_decimal() if isinstance(raw["amount"], Decimal128) else raw["amount"]
    created = raw.get("created_at")
    return [
        str(raw["_id"]), _day(raw.get("occurred_date")), raw["type"], format(amount, "f"), raw["currency"],
        guard(names.get(raw.get("category_id"), "")), guard(raw.get("description") or ""),
        guard(raw.get("payment_method") or ""), guard(TAG_SEPARATOR.join(raw.get("tags") or [])),
        guard(raw.get("notes") or ""), created.isoformat() if created else "",
    ]


async def export_csv(*, runtime: Runtime, user_id: str, filters: TransactionFilters) -> AsyncIterator[bytes]:
    """Validate the filters now (a bad one is a 422 before any byte is sent), then stream the rows."""
    await ensure_categories(runtime=runtime, user_id=user_id)
    query = await build_query(user_id=user_id, filters=filters)
    # A user's categories are few (capped), so their names are looked up once for the whole export.
    names = {raw["_id"]: raw["name"] async for raw in
             Category.get_pymongo_collection().find({"user_id": user_id}, {"name": 1})}
    return stream_rows(query=query, sort=sort_spec(filters), names=names,
                       batch_size=runtime.settings.export_batch_size)


async def stream_rows(*, query: dict[str, Any], sort: list[tuple[str, int]], names: dict[Any, str],
                      batch_size: int) -> AsyncIterator[bytes]:
    """The CSV in chunks of `batch_size` rows: at most one batch of documents and one chunk of text is held in
    memory at a time, whatever the number of transactions."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    cursor = Transaction.get_pymongo_collection().find(query, sort=sort, batch_size=batch_size)
    pending = 0
    try:
        async for raw in cursor:
            writer.writerow(export_row(raw, names))
            pending += 1
            if pending >= batch_size:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
                pending = 0
        yield buffer.getvalue().encode()
    finally:
        await cursor.close()


def export_filename(today: date) -> str:
    return f"transactions-{today.isoformat()}.csv"
