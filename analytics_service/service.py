"""The read model's write side: apply a transaction's latest state, keep the profile copy, erase a user.

Every function takes the session of the transaction it runs in (an event handler's ctx.session, or a
rebuild's swap), so the rollups, the per-transaction record and the processed-event mark commit together.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from bson import Decimal128
from pymongo import DeleteMany, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession

from analytics_service.models import Profile, Rollup, TransactionRecord
from analytics_service.periods import is_known_zone, month_end, month_start
from analytics_service.rollup_set import RollupSet
from analytics_service.rollups import (
    CategoryTotals,
    Contribution,
    DailySeries,
    WeeklySeries,
    day_id,
    month_id,
    series_id,
    to_decimal,
    top_id,
    weeks_id,
)
from analytics_service.rollups_top import MonthTop
from shared.db import stored_day
from shared.events import TransactionSnapshot

# Order of events for one transaction at the same instant: created < updated < deleted.
CREATED, UPDATED, DELETED = 0, 1, 2
DESCRIPTION_KEPT = 200  # characters of a description kept for /top


@dataclass(frozen=True)
class Version:
    """Which event of a transaction a record reflects, to refuse stale and out-of-order events.

    The snapshot's revision (expense_service adds 1 on every change; a delete carries the next one) orders
    exactly, whatever the producers' clocks say: when both sides have one, a higher revision wins, and at an
    equal revision only a delete replaces a live state (a delete wins over any revision up to its own).
    Otherwise (events from before revisions existed) the envelope's occurred_at decides, then the rank."""

    at_us: int  # the envelope's occurred_at, in microseconds since the epoch
    rank: int  # CREATED, UPDATED or DELETED
    revision: int | None = None

    def newer_than(self, other: "Version") -> bool:
        if self.revision is not None and other.revision is not None:
            return (self.revision, self.rank == DELETED) > (other.revision, other.rank == DELETED)
        return (self.at_us, self.rank) > (other.at_us, other.rank)


def event_time_us(moment: datetime) -> int:
    """Microseconds since the epoch: BSON datetimes keep only milliseconds, too coarse to order events."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def contribution_of(snapshot: TransactionSnapshot) -> Contribution:
    return Contribution(currency=snapshot.currency, type=snapshot.type, category_id=snapshot.category_id,
                        category_name=snapshot.category_name, occurred_date=snapshot.occurred_date,
                        amount=snapshot.amount, transaction_id=snapshot.id,
                        description=snapshot.description[:DESCRIPTION_KEPT])


def contribution_of_record(record: dict[str, Any] | None) -> Contribution | None:
    """What a stored record contributes now: nothing when it is absent or a tombstone."""
    if record is None or record["deleted"]:
        return None
    return Contribution(currency=record["currency"], type=record["type"], category_id=record.get("category_id"),
                        category_name=record.get("category_name", ""),
                        occurred_date=record["occurred_date"].date(), amount=to_decimal(record["amount"]),
                        transaction_id=record["transaction_id"], description=record.get("description", ""))


def version_of(record: dict[str, Any]) -> Version:
    return Version(record["event_at_us"], record["event_rank"], record.get("revision"))


def record_document(user_id: str, snapshot: TransactionSnapshot, *, deleted: bool, version: Version) -> dict[str, Any]:
    return {
        "_id": f"{user_id}|{snapshot.id}", "user_id": user_id, "transaction_id": snapshot.id, "deleted": deleted,
        "type": snapshot.type, "amount": Decimal128(snapshot.amount), "currency": snapshot.currency,
        "category_id": snapshot.category_id, "category_name": snapshot.category_name,
        "occurred_date": stored_day(snapshot.occurred_date), "description": snapshot.description[:DESCRIPTION_KEPT],
        "event_at_us": version.at_us, "event_rank": version.rank, "revision": version.revision,
    }


async def load_rollups(user_id: str, days: Iterable[date], months: Iterable[date],
                       session: AsyncClientSession | None) -> RollupSet:
    """The stored rollups of these days and months, in one read (absent ones start empty)."""
    rollups = RollupSet(user_id)
    days, months = sorted(set(days)), sorted(set(months))
    years = sorted({d.isocalendar().year for d in days})
    ids = ([day_id(user_id, d) for d in days] + [month_id(user_id, m) for m in months]
           + [series_id(user_id, m) for m in months] + [top_id(user_id, m) for m in months]
           + [weeks_id(user_id, y) for y in years])
    found = {doc["_id"]: doc async for doc in Rollup.get_pymongo_collection().find({"_id": {"$in": ids}},
                                                                                  session=session)}
    for day in days:
        rollups.days[day] = CategoryTotals.from_doc(found.get(day_id(user_id, day)))
    for first in months:
        rollups.months[first] = CategoryTotals.from_doc(found.get(month_id(user_id, first)))
        rollups.series[first] = DailySeries.from_doc(first, found.get(series_id(user_id, first)))
        rollups.tops[first] = MonthTop.from_doc(first, found.get(top_id(user_id, first)))
    for year in years:
        rollups.weeks[year] = WeeklySeries.from_doc(year, found.get(weeks_id(user_id, year)))
    return rollups


async def month_expenses(user_id: str, first: date, currency: str,
                         session: AsyncClientSession | None) -> list[Contribution]:
    """Every live expense of a month in one currency, from the per-transaction records (the date index)."""
    cursor = TransactionRecord.get_pymongo_collection().find(
        {"user_id": user_id, "occurred_date": {"$gte": stored_day(first), "$lte": stored_day(month_end(first))}},
        session=session)
    found = [contribution_of_record(doc) async for doc in cursor]
    return [item for item in found if item is not None and item.type == "expense" and item.currency == currency]


async def save_rollups(rollups: RollupSet, session: AsyncClientSession | None, *, fresh: bool = False) -> None:
    """Write the changed rollups in one round trip (empty ones are deleted). fresh: nothing is stored yet."""
    writes, deletes = rollups.documents()
    collection = Rollup.get_pymongo_collection()
    if fresh:
        if writes:
            await collection.insert_many(writes, ordered=False, session=session)
        return
    operations: list[Any] = [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in writes]
    if deletes:
        operations.append(DeleteMany({"_id": {"$in": deletes}}))
    if operations:
        await collection.bulk_write(operations, ordered=True, session=session)


async def apply_transaction_state(*, session: AsyncClientSession, user_id: str, snapshot: TransactionSnapshot,
                                  deleted: bool, version: Version) -> bool:
    """Make the read model reflect this state of the transaction, unless a newer one is applied already.

    Returns False for a stale state (not newer than the last applied one: see Version)."""
    records = TransactionRecord.get_pymongo_collection()
    record_id = f"{user_id}|{snapshot.id}"
    current = await records.find_one({"_id": record_id}, session=session)
    if current is not None and not version.newer_than(version_of(current)):
        return False
    old = contribution_of_record(current)
    new = None if deleted else contribution_of(snapshot)
    touched = [c.occurred_date for c in (old, new) if c is not None]
    rollups = await load_rollups(user_id, touched, [month_start(d) for d in touched], session)
    rollups.apply(old, new)
    await records.replace_one({"_id": record_id}, record_document(user_id, snapshot, deleted=deleted, version=version),
                              upsert=True, session=session)
    for first, currency in rollups.stale_tops():  # rare: see rollups_top; the records now hold this change
        rollups.tops[first].refill(currency, await month_expenses(user_id, first, currency, session))
    await save_rollups(rollups, session)
    return True


async def profile_of(user_id: str, session: AsyncClientSession | None = None) -> dict[str, Any]:
    found = await Profile.get_pymongo_collection().find_one({"_id": user_id}, session=session)
    return found or {"_id": user_id, "timezone": "UTC", "timezone_at_us": 0, "default_currency": None,
                     "erased": False}


async def note_profile(*, session: AsyncClientSession, user_id: str, timezone_name: str, at_us: int,
                       default_currency: str | None = None, current: dict[str, Any] | None = None) -> None:
    """Keep the newest timezone we heard of (profile events and transaction snapshots both carry it)."""
    current = current or await profile_of(user_id, session)
    if current["erased"] or current["timezone_at_us"] >= at_us or not is_known_zone(timezone_name):
        return
    if current["timezone"] == timezone_name and default_currency in (None, current.get("default_currency")):
        return  # nothing new: skip the write, so concurrent events do not conflict on the profile
    fields: dict[str, Any] = {"timezone": timezone_name, "timezone_at_us": at_us, "erased": False}
    if default_currency is not None:
        fields["default_currency"] = default_currency
    await Profile.get_pymongo_collection().update_one({"_id": user_id}, {"$set": fields}, upsert=True,
                                                      session=session)


async def erase_user(*, session: AsyncClientSession, user_id: str) -> None:
    """Delete everything held for the user; keep only a marker so in-flight events cannot recreate it."""
    for model in (Rollup, TransactionRecord):
        await model.get_pymongo_collection().delete_many({"user_id": user_id}, session=session)
    await Profile.get_pymongo_collection().replace_one(
        {"_id": user_id}, {"_id": user_id, "timezone": "UTC", "timezone_at_us": 0, "default_currency": None,
                           "erased": True}, upsert=True, session=session)
