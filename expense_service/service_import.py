"""CSV import: every row validated first, all-or-nothing, duplicates of earlier imports skipped.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first transaction row 2. Each imported
row stores a fingerprint of its content (with an ordinal, so two identical rows of one file are both kept);
a unique index on (user_id, import_fingerprint) makes re-importing a file — even concurrently — a no-op.
A row whose `id` is one of the user's transactions (a re-imported export) is a duplicate too.
"""

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError

from expense_service.models import Category, Transaction
from expense_service.schemas import CurrencyTotals, ImportReport, TransactionCreate, totals_from_sums
from expense_service.service_categories import name_key, prepare_user, touch_category
from expense_service.service_csv import COLUMNS, TAG_SEPARATOR, unguard
from expense_service.service_profiles import UserPrefs
from expense_service.service_transactions import checked_amount, snapshot
from shared.errors import Conflict, Problem
from shared.events import ExpenseCreated
from shared.outbox import Tx
from shared.runtime import Runtime

HEADER_ALIASES = {"date": "occurred_date"}
REQUIRED_COLUMNS = ("occurred_date", "type", "amount")
IGNORED_COLUMNS = ("id", "created_at")  # written by the export; `id` only serves to spot duplicates
SCAN_BATCH = 2000
INSERT_CHUNK = 1000


class RowError(Exception):
    def __init__(self, *problems: tuple[str, str]) -> None:
        super().__init__(problems)
        self.problems = problems  # (field, message) pairs


@dataclass
class ParsedRow:
    row: int
    transaction: Transaction
    category: Category
    source_id: str | None


@dataclass
class CategoryIndex:
    """The user's categories, loaded once for the whole file (a user has at most a few hundred)."""

    by_id: dict[str, Category] = field(default_factory=dict)
    by_name: dict[tuple[str, str], Category] = field(default_factory=dict)

    @classmethod
    async def load(cls, user_id: str) -> "CategoryIndex":
        index = cls()
        for category in await Category.find({"user_id": user_id}).to_list():
            index.by_id[str(category.id)] = category
            index.by_name[(category.kind, category.name_key)] = category
        return index

    def resolve(self, ref: str | None, kind: str) -> Category:
        found = self.by_id.get(ref or "") or self.by_name.get((kind, name_key(ref or "other")))
        if found is None or found.kind != kind:
            raise RowError(("category", f"no {kind} category '{ref or 'other'}' of this user"))
        return found


def problem(errors: list[dict[str, Any]], total: int, detail: str | None = None) -> Problem:
    return Problem(422, detail or f"{total} error(s) in the file; nothing was imported", errors=errors)


def read_table(content: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise problem([{"row": None, "field": "file", "message": "must be UTF-8 text"}], 1,
                      f"the file is not UTF-8 (byte {exc.start})") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise problem([{"row": None, "field": "file", "message": str(exc)}], 1, f"not a CSV file: {exc}") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise problem([{"row": 1, "field": "file", "message": "a header row is required"}], 1)
    header = [HEADER_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in records[0]]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    duplicated = [h for h, n in Counter(header).items() if n > 1]
    errors = ([{"row": 1, "field": h or "(empty)", "message": "unknown column"} for h in unknown]
              + [{"row": 1, "field": c, "message": "required column missing"} for c in missing]
              + [{"row": 1, "field": h, "message": "column appears twice"} for h in duplicated])
    if errors:
        raise problem(errors, len(errors), f"the header row is not valid; columns: {', '.join(COLUMNS)}")
    return header, records[1:]


def parse_row(number: int, header: list[str], cells: list[str], *, user_id: str, prefs: UserPrefs,
              categories: CategoryIndex) -> ParsedRow:
    if len(cells) > len(header):
        raise RowError(("row", f"{len(cells)} cells but {len(header)} columns"))
    values = {column: unguard(cell.strip()) for column, cell in zip(header, cells, strict=False) if cell.strip()}
    if "occurred_date" not in values:
        raise RowError(("occurred_date", "required"))
    payload: dict[str, Any] = {k: v for k, v in values.items() if k not in IGNORED_COLUMNS and k != "tags"}
    if "tags" in values:
        payload["tags"] = [t for t in values["tags"].split(TAG_SEPARATOR) if t.strip()]
    try:
        data = TransactionCreate.model_validate(payload)
    except ValidationError as exc:
        raise RowError(*[(str(e["loc"][0]) if e["loc"] else "row", e["msg"]) for e in exc.errors()]) from None
    currency = data.currency or prefs.default_currency
    try:
        amount = checked_amount(data.amount, currency)
    except Problem as exc:
        raise RowError(("amount", exc.errors[0]["message"] if exc.errors else exc.detail)) from None
    category = categories.resolve(data.category, data.type)
    transaction = Transaction(
        id=PydanticObjectId(), user_id=user_id, type=data.type, amount=amount, currency=currency,
        category_id=category.id, description=data.description, occurred_date=data.occurred_date,
        payment_method=data.payment_method, tags=data.tags, notes=data.notes)
    source_id = values.get("id")
    return ParsedRow(number, transaction, category, source_id if source_id and ObjectId.is_valid(source_id) else None)


def fingerprint_rows(rows: list[ParsedRow]) -> None:
    """Content hash plus an ordinal among identical rows of the same file."""
    seen: Counter[str] = Counter()
    for parsed in rows:
        t = parsed.transaction
        content = "\x1f".join([t.occurred_date.isoformat(), t.type, format(t.amount, "f"), t.currency,
                               str(t.category_id), t.description, t.payment_method or "", ",".join(sorted(t.tags)),
                               t.notes])
        t.import_fingerprint = hashlib.sha256(f"{content}\x1e{seen[content]}".encode()).hexdigest()
        seen[content] += 1


async def split_duplicates(user_id: str, rows: list[ParsedRow]) -> tuple[list[ParsedRow], int]:
    """Rows not imported before. One pass over the user's transactions (id and fingerprint only), keeping just
    the matches: memory follows the file, not the user's history. (Portable; an $in lookup would be the obvious
    query, but SecantusDB answers a large $in in tens of seconds.)"""
    fingerprints = {r.transaction.import_fingerprint for r in rows}
    source_ids = {ObjectId(r.source_id) for r in rows if r.source_id}
    seen_fingerprints, seen_ids = set(), set()
    cursor = Transaction.get_pymongo_collection().find(
        {"user_id": user_id}, {"_id": 1, "import_fingerprint": 1}, batch_size=SCAN_BATCH)
    async for raw in cursor:
        if raw["_id"] in source_ids:
            seen_ids.add(raw["_id"])
        if raw.get("import_fingerprint") in fingerprints:
            seen_fingerprints.add(raw["import_fingerprint"])
    fresh = [r for r in rows if r.transaction.import_fingerprint not in seen_fingerprints
             and not (r.source_id and ObjectId(r.source_id) in seen_ids)]
    return fresh, len(rows) - len(fresh)


def _totals(rows: list[ParsedRow]) -> list[CurrencyTotals]:
    sums: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for parsed in rows:
        t = parsed.transaction
        total, count = sums.get((t.currency, t.type), (Decimal(0), 0))
        sums[(t.currency, t.type)] = (total + t.amount, count + 1)
    return totals_from_sums(sums)


async def import_csv(*, runtime: Runtime, user_id: str, content: bytes, dry_run: bool) -> ImportReport:
    settings = runtime.settings
    prefs = await prepare_user(runtime=runtime, user_id=user_id)
    header, records = read_table(content)
    if len(records) > settings.import_max_rows:
        raise problem([{"row": None, "field": "file", "message": f"at most {settings.import_max_rows} rows"}], 1,
                      f"the file has {len(records)} rows; import at most {settings.import_max_rows} at a time")
    categories = await CategoryIndex.load(user_id)
    rows: list[ParsedRow] = []
    errors: list[dict[str, Any]] = []
    error_rows = 0
    for number, cells in enumerate(records, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        try:
            rows.append(parse_row(number, header, cells, user_id=user_id, prefs=prefs, categories=categories))
        except RowError as exc:
            error_rows += 1
            for field_name, message in exc.problems:
                if len(errors) < settings.import_max_reported_errors:
                    errors.append({"row": number, "field": field_name, "message": message})
    if error_rows:
        raise problem(errors, error_rows, f"{error_rows} row(s) have errors; nothing was imported")
    fingerprint_rows(rows)
    for attempt in range(2):
        fresh, duplicates = await split_duplicates(user_id, rows)
        report = ImportReport(dry_run=dry_run, rows=len(rows), imported=len(fresh), duplicates=duplicates,
                              totals=_totals(fresh))
        if dry_run or not fresh:
            return report
        try:
            await runtime.atomic(lambda tx, fresh=fresh: _insert(tx, fresh, prefs.timezone))
            return report
        except DuplicateKeyError:
            if attempt:  # a concurrent import of overlapping rows won twice in a row
                raise Conflict("another import of these rows is in progress; retry shortly") from None
    raise AssertionError("unreachable")


async def _insert(tx: Tx, rows: list[ParsedRow], timezone: str) -> None:
    """Every row and its expense.created event in one transaction: all of the file or none of it."""
    for category in {id(r.category): r.category for r in rows}.values():
        await touch_category(session=tx.session, category=category)
    # In slices, so no single database call runs long; still one transaction.
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        await Transaction.insert_many([r.transaction for r in chunk], session=tx.session)
        events = [ExpenseCreated(expense=snapshot(r.transaction, category_name=r.category.name, timezone=timezone))
                  for r in chunk]
        await tx.publish_many(events, user_id=chunk[0].transaction.user_id)
