"""Trends written straight to JSON from integer series (no I/O): the same answer as brute force, byte for byte
the documented Trends schema, for amounts at, finer than and far beyond int64 scale, and for series stored
before the integer encoding (Decimal128)."""

import json
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from bson import Decimal128

from analytics_service.periods import DateRange, periods
from analytics_service.rollup_set import RollupSet
from analytics_service.rollups import DailySeries, WeeklySeries
from analytics_service.schemas import Trends
from analytics_service.service import contribution_of
from analytics_service.service_trends import table_of
from analytics_service.tests.conftest import snapshot
from analytics_service.tests.oracle import Oracle
from analytics_service.units import decimal_rows, encode_rows, money_formatter
from shared.events import TransactionSnapshot

USER = "u1"
FIRST, LAST = date(2026, 11, 20), date(2028, 2, 10)  # across ISO 2026's week 53 and a leap February
RANGES = [(FIRST, LAST), (date(2026, 12, 23), date(2027, 1, 12)), (date(2027, 2, 28), date(2027, 3, 1)),
          (date(2027, 6, 15), date(2027, 6, 15)), (date(2026, 12, 28), date(2027, 1, 10))]


def history(seed: int = 7) -> tuple[list[TransactionSnapshot], RollupSet]:
    """Live transactions and the rollups their lifecycle (creates, edits, deletes) leaves."""
    rng = random.Random(seed)
    rollups, live = RollupSet(USER), []
    for n in range(600):
        currency = rng.choice(["EUR", "EUR", "JPY", "BHD"])
        amount = Decimal(rng.randint(1, 90_000)).scaleb(-{"EUR": 2, "JPY": 0, "BHD": 3}[currency])
        day = FIRST + timedelta(days=rng.randint(0, (LAST - FIRST).days))
        state = snapshot(USER, id=f"t{n:04d}", amount=str(amount), currency=currency, occurred_date=day,
                         type="income" if rng.random() < 0.25 else "expense")
        rollups.apply(None, contribution_of(state))
        roll = rng.random()
        if roll < 0.1:  # deleted
            rollups.apply(contribution_of(state), None)
            continue
        if roll < 0.25:  # edited: another amount and day
            edited = state.model_copy(update={"amount": state.amount + 1, "occurred_date": day - timedelta(days=3)})
            rollups.apply(contribution_of(state), contribution_of(edited))
            state = edited
        live.append(state)
    # Amounts finer than a cent (a producer that does not round): kept exactly, rounded only when shown.
    for n, (amount, type_) in enumerate([("0.004", "income"), ("0.008", "expense"), ("12.3456", "expense")]):
        odd = snapshot(USER, id=f"odd{n}", amount=amount, type=type_, currency="CHF",
                       occurred_date=date(2027, 6, 15) + timedelta(days=n // 2))
        rollups.apply(None, contribution_of(odd))
        live.append(odd)
    return live, rollups


def documents(rollups: RollupSet) -> dict[str, dict[str, Any]]:
    writes, _ = rollups.documents()
    return {doc["_id"]: doc for doc in writes}


def legacy(doc: dict[str, Any]) -> dict[str, Any]:
    """A series document as stored before the integer encoding: Decimal128 amounts, no scale."""
    if doc["kind"] not in ("series", "weeks"):
        return doc
    rows = [[Decimal128(value) for value in row] for row in decimal_rows(doc)]
    return {key: value for key, value in doc.items() if key != "scale"} | {"amounts": rows}


def trends_json(docs: dict[str, dict[str, Any]], granularity: str, start: date, end: date) -> bytes:
    span = DateRange(start, end)
    table = table_of(USER, granularity, span, periods(span, granularity), docs)  # type: ignore[arg-type]
    body = table.json()
    assert body == table.model().model_dump_json().encode()  # exactly what the documented schema gives
    Trends.model_validate_json(body)
    return body


@pytest.mark.parametrize("stored", ["integers", "decimal128 (before the encoding)"])
def test_trends_equal_brute_force_for_every_granularity_and_ragged_range(stored: str):
    live, rollups = history()
    docs = documents(rollups)
    if stored != "integers":
        docs = {doc_id: legacy(doc) for doc_id, doc in docs.items()}
    oracle = Oracle(live, date.today(), "UTC")
    for start, end in RANGES:
        for granularity in ("day", "week", "month"):
            answer = json.loads(trends_json(docs, granularity, start, end))
            assert answer == oracle.trends(granularity, start, end), (granularity, start, end)
    odd_days = json.loads(trends_json(docs, "day", date(2027, 6, 15), date(2027, 6, 16)))
    [chf] = [series["points"] for series in odd_days["series"] if series["currency"] == "CHF"]
    # 0.004 - 0.008 is -0.004: half up to the cent that is "-0.00", as Decimal (and the summary) write it.
    assert [(p["income"], p["expense"], p["net"], p["count"]) for p in chf] == [
        ("0.00", "0.01", "-0.00", 2), ("0.00", "12.35", "-12.35", 1)]


def test_series_store_exact_integers_and_fall_back_to_decimal128_beyond_int64():
    live, rollups = history()
    docs = documents(rollups)
    june = docs[f"{USER}|series|2027-06"]
    assert june["scale"] == 4 and all(isinstance(value, int) for row in june["amounts"] for value in row)
    january = docs[f"{USER}|series|2027-01"]
    assert january["scale"] == 3  # BHD has three decimals: EUR cents are stored as tenths of a cent
    # Read back by the write path, every amount is the exact Decimal it was.
    for first, series in rollups.series.items():
        doc = docs.get(f"{USER}|series|{first:%Y-%m}")
        if doc is not None:
            assert DailySeries.from_doc(first, doc).amounts == {k: v for k, v in series.amounts.items()
                                                                 if any(series.counts[k])}
    for year, weeks in rollups.weeks.items():
        loaded = WeeklySeries.from_doc(year, docs[f"{USER}|weeks|{year}"])
        assert all(loaded.amounts[key] == weeks.amounts[key] for key in loaded.amounts)

    precise = Decimal("12.1234567890123456789")  # as an integer of its last decimal: beyond int64
    fields = encode_rows([[precise, Decimal("1.50")]], ["EUR"])
    assert fields["scale"] is None and fields["amounts"] == [[Decimal128(precise), Decimal128("1.50")]]
    assert documents(rollups)[f"{USER}|series|2027-09"]["scale"] is not None
    big = snapshot(USER, id="big", amount=str(precise), occurred_date=date(2027, 9, 9))
    rollups.apply(None, contribution_of(big))
    assert documents(rollups)[f"{USER}|series|2027-09"]["scale"] is None
    oracle = Oracle([*live, big], date.today(), "UTC")
    for granularity in ("day", "week", "month"):
        answer = json.loads(trends_json(documents(rollups), granularity, date(2027, 9, 1), date(2027, 9, 30)))
        assert answer == oracle.trends(granularity, date(2027, 9, 1), date(2027, 9, 30))


def test_money_text_rounds_half_up_like_decimal():
    cents = money_formatter(2, "EUR")
    assert [cents(v) for v in (0, 5, -5, 1250, -100, 123456789)] == [
        "0.00", "0.05", "-0.05", "12.50", "-1.00", "1234567.89"]
    assert money_formatter(0, "JPY")(-1500) == "-1500"
    fine = money_formatter(4, "EUR")
    assert [fine(v) for v in (50, 49, -50, -40, 123456)] == ["0.01", "0.00", "-0.01", "-0.00", "12.35"]
    assert money_formatter(3, "BHD")(-1005) == "-1.005"
