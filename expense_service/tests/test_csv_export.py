"""CSV export: 10,000 transactions streamed in many chunks with bounded memory; the file round-trips."""

import csv
import io
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from beanie import PydanticObjectId

from expense_service.models import Transaction
from expense_service.tests.helpers import EXPENSES, client, start
from shared.money import round_money

ROWS = 10_000
BATCH = 100
FILLER = ("Receipt kept in the shoebox; ask about the deposit. " * 5).strip()  # ~260 characters: 3.7 MB
TRICKY = ['Dinner, "La Table"', "=HYPERLINK(\"http://evil\")", "two\nlines", "naïve café ☕", "-5 discount", "@home"]


async def seed(api, user_id: str, count: int) -> list[Transaction]:
    """Store transactions directly (the HTTP path is exercised elsewhere; this only fills the database)."""
    categories = (await api.get("/api/categories", params={"limit": 100})).json()["items"]
    expense_ids = [PydanticObjectId(c["id"]) for c in categories if c["kind"] == "expense"]
    income_ids = [PydanticObjectId(c["id"]) for c in categories if c["kind"] == "income"]
    created = datetime(2024, 6, 1, tzinfo=timezone.utc)
    docs = []
    for i in range(count):
        kind = "income" if i % 7 == 0 else "expense"
        currency = ("EUR", "USD", "JPY")[i % 3]
        amount = round_money(Decimal(i % 9000 + 1) / (1 if currency == "JPY" else 100), currency)
        docs.append(Transaction(
            id=PydanticObjectId(), user_id=user_id, type=kind, amount=amount, currency=currency,
            category_id=(income_ids if kind == "income" else expense_ids)[i % 5],
            description=f"{TRICKY[i % len(TRICKY)]} #{i}", occurred_date=date(2024, 1, 1) + timedelta(days=i % 366),
            payment_method="card" if i % 2 else None, tags=["a", "b,c"[0:1]] if i % 4 == 0 else [],
            notes=("+" if i % 10 == 0 else "") + FILLER, created_at=created + timedelta(seconds=i),
            updated_at=created + timedelta(seconds=i)))
    for first in range(0, count, 2000):
        await Transaction.insert_many(docs[first:first + 2000])
    return docs


async def test_export_of_10000_streams_in_bounded_memory_and_round_trips(stack, tmp_path):
    await start(stack, export_batch_size=BATCH)
    api = client(stack, "alice")
    docs = await seed(api, "alice", ROWS)
    names = {c["id"]: c["name"] for c in (await api.get("/api/categories", params={"limit": 100})).json()["items"]}

    bad_filter = await api.get(f"{EXPENSES}/export.csv", params={"category": "no such category"})
    assert bad_filter.status_code == 422 and bad_filter.json()["errors"][0]["field"] == "category"

    target = tmp_path / "export.csv"
    chunks = size = 0
    tracemalloc.start()
    try:
        async with api.stream("GET", f"{EXPENSES}/export.csv", params={"sort": "created", "order": "asc"}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
            assert "attachment" in r.headers["content-disposition"]
            with target.open("wb") as out:
                async for chunk in r.aiter_raw():
                    chunks += 1
                    size += len(chunk)
                    out.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Built whole, the file alone would be `size` bytes of live memory (plus the rows it was built from);
    # streamed, the peak is a batch of rows and one chunk of text beside the fixed costs of serving a request.
    assert size > 3_000_000 and chunks >= 20, (size, chunks)
    assert peak < size / 2, f"peak {peak} bytes while streaming {size} bytes"

    text = target.read_bytes().decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == ROWS
    for doc, row in zip(docs, rows, strict=True):
        assert row["id"] == str(doc.id) and row["occurred_date"] == doc.occurred_date.isoformat()
        assert Decimal(row["amount"]) == doc.amount and row["currency"] == doc.currency and row["type"] == doc.type
        assert row["category"] == names[str(doc.category_id)]
        description = row["description"][1:] if row["description"][:2] in ("'=", "'-", "'@") else row["description"]
        assert description == doc.description
        assert row["tags"] == ",".join(doc.tags) and row["notes"].lstrip("'") == doc.notes
    assert rows[1]["description"].startswith("'=HYPERLINK")  # a spreadsheet shows text, never runs a formula

    # The whole export re-imported into the same account: every row is recognised, nothing doubles.
    again = await api.post(f"{EXPENSES}/import", params={"dry_run": "true"}, content=text,
                           headers={"content-type": "text/csv"}, timeout=60)
    assert again.status_code == 200, again.text[:500]
    assert again.json()["imported"] == 0 and again.json()["duplicates"] == ROWS

    # A slice of it imported into another account comes out the same (ids and timestamps aside).
    head = "".join(text.splitlines(keepends=True)[:1]) + "".join(
        csv_line(row) for row in rows[:300])
    bob = client(stack, "bob")
    imported = await bob.post(f"{EXPENSES}/import", content=head, headers={"content-type": "text/csv"})
    assert imported.status_code == 200 and imported.json()["imported"] == 300, imported.text[:500]
    bob_rows = list(csv.DictReader(io.StringIO((await bob.get(f"{EXPENSES}/export.csv", params={
        "sort": "date", "order": "asc"})).text, newline="")))
    content = ("occurred_date", "type", "amount", "currency", "category", "description", "payment_method", "tags",
               "notes")

    def key(row: dict) -> tuple:
        return tuple(row[c] for c in content)

    assert sorted(map(key, bob_rows)) == sorted(map(key, rows[:300]))


def csv_line(row: dict) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(row.values())
    return buffer.getvalue()
