"""Rebuild one user's read model from expense_service, the source of truth.

The caller's own bearer token is forwarded (never a service credential), so expense_service scopes the
list to the caller. The new rollups are built in memory with the same code path events use, then swapped
in one transaction. Events processed while the rebuild was reading are kept where they are newer than
what the list showed, and tombstones stay, so a late event still cannot resurrect a deleted transaction.
"""

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError
from pymongo import DeleteMany, ReplaceOne

from analytics_service.models import Rollup, TransactionRecord
from analytics_service.rollup_set import RollupSet
from analytics_service.schemas import RebuildResult
from analytics_service.service import (
    UPDATED,
    Version,
    contribution_of,
    contribution_of_record,
    event_time_us,
    profile_of,
    record_document,
    save_rollups,
    version_of,
)
from analytics_service.settings import Settings
from shared.errors import Problem
from shared.events import TransactionSnapshot
from shared.money import DecimalStr
from shared.outbox import Tx
from shared.runtime import Runtime

PAGE_SIZE = 100


class ListedTransaction(BaseModel):
    """One item of expense_service's GET /api/expenses, the fields a rebuild needs."""

    model_config = ConfigDict(extra="ignore")
    id: str
    type: Literal["expense", "income"]
    amount: DecimalStr
    currency: str
    category_id: str | None = None
    category: str | dict[str, Any] | None = None  # the category's name (or an object with a name)
    category_name: str | None = None
    occurred_date: date
    description: str | None = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    revision: int | None = None  # used when the list carries it: then events and the list compare exactly

    @property
    def name(self) -> str:
        if self.category_name:
            return self.category_name
        if isinstance(self.category, dict):
            return str(self.category.get("name") or "")
        return self.category or ""


class ListedPage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[ListedTransaction]
    total: int


@dataclass(frozen=True)
class Fetched:
    snapshot: TransactionSnapshot
    version: Version


def unavailable(detail: str) -> Problem:
    return Problem(503, detail, headers={"Retry-After": "5"})


async def fetch_transactions(*, settings: Settings, token: str, user_id: str, timezone_name: str,
                             started_us: int) -> dict[str, Fetched]:
    base_url = settings.service_urls.get("expense_service")
    if not base_url:
        raise unavailable("rebuilding is not available: expense_service is not configured")
    fetched: dict[str, Fetched] = {}
    offset = 0
    timeout = httpx.Timeout(settings.expense_service_timeout_seconds, connect=2.0)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as client:
        while True:
            try:
                response = await client.get("/api/expenses", params={"limit": PAGE_SIZE, "offset": offset},
                                            headers={"Authorization": f"Bearer {token}"})
            except httpx.HTTPError:
                raise unavailable("expense_service is unavailable; try again shortly") from None
            if response.status_code >= 500:
                raise unavailable(f"expense_service answered {response.status_code}; try again shortly")
            if response.status_code != 200:
                raise Problem(502, f"expense_service refused the transaction list ({response.status_code})")
            try:
                page = ListedPage.model_validate_json(response.content)
            except ValidationError:
                raise Problem(502, "expense_service returned a transaction list of an unexpected shape") from None
            for item in page.items:
                stamp = item.updated_at or item.created_at
                fetched[item.id] = Fetched(
                    TransactionSnapshot(id=item.id, user_id=user_id, type=item.type, amount=item.amount,
                                        currency=item.currency.upper(), category_id=item.category_id,
                                        category_name=item.name, occurred_date=item.occurred_date,
                                        description=item.description or "", timezone=timezone_name),
                    Version(event_time_us(stamp) if stamp else started_us, UPDATED, item.revision))
            offset += len(page.items)
            if len(fetched) > settings.rebuild_max_transactions:
                raise Problem(422, "the history is too long to rebuild in one request")
            if not page.items or offset >= page.total:
                return fetched


def merge(user_id: str, fetched: dict[str, Fetched], current: dict[str, dict[str, Any]],
          started_us: int) -> tuple[list[dict[str, Any]], RollupSet]:
    """The records to keep and the rollups they add up to. Per transaction the newer state wins: the list's,
    or an event's applied after the rebuild began; a tombstone stays; a record the list no longer holds and
    no later event touched is gone."""
    records: list[dict[str, Any]] = []
    rollups = RollupSet(user_id)
    for transaction_id in sorted(set(fetched) | set(current)):
        listed, stored = fetched.get(transaction_id), current.get(transaction_id)
        if stored is not None and (
                (listed is None and (stored["deleted"] or version_of(stored).at_us > started_us))
                or (listed is not None and version_of(stored).newer_than(listed.version))):
            records.append(stored)
            rollups.apply(None, contribution_of_record(stored))
        elif listed is not None:
            records.append(record_document(user_id, listed.snapshot, deleted=False, version=listed.version))
            rollups.apply(None, contribution_of(listed.snapshot))
    return records, rollups


async def rebuild(*, runtime: Runtime, settings: Settings, user_id: str, token: str) -> RebuildResult:
    # One rebuild per user at a time (per instance): a second one would only redo the same work.
    running: set[str] = runtime.extras.setdefault("rebuilds_running", set())
    if user_id in running:
        raise Problem(409, "a rebuild of your analytics is already running", headers={"Retry-After": "5"})
    running.add(user_id)
    try:
        return await _rebuild(runtime=runtime, settings=settings, user_id=user_id, token=token)
    finally:
        running.discard(user_id)


async def _rebuild(*, runtime: Runtime, settings: Settings, user_id: str, token: str) -> RebuildResult:
    profile = await profile_of(user_id)
    if profile["erased"]:
        raise Problem(409, "this account has been deleted")
    started_us = event_time_us(datetime.now(timezone.utc))
    fetched = await fetch_transactions(settings=settings, token=token, user_id=user_id,
                                       timezone_name=profile["timezone"], started_us=started_us)

    async def swap(tx: Tx) -> RebuildResult:
        if (await profile_of(user_id, tx.session))["erased"]:
            raise Problem(409, "this account has been deleted")
        records_collection = TransactionRecord.get_pymongo_collection()
        current = {doc["transaction_id"]: doc
                   async for doc in records_collection.find({"user_id": user_id}, session=tx.session)}
        records, rollups = merge(user_id, fetched, current, started_us)
        # Rollups are few (a day or a month each): replaced wholesale. Records only where they differ, so
        # the usual rebuild of a mostly right model stays a small transaction.
        await Rollup.get_pymongo_collection().delete_many({"user_id": user_id}, session=tx.session)
        await save_rollups(rollups, tx.session, fresh=True)
        kept = {record["_id"] for record in records}
        operations: list[Any] = [ReplaceOne({"_id": record["_id"]}, record, upsert=True) for record in records
                                 if current.get(record["transaction_id"]) != record]
        gone = [doc["_id"] for doc in current.values() if doc["_id"] not in kept]
        if gone:
            operations.append(DeleteMany({"_id": {"$in": gone}}))
        if operations:
            await records_collection.bulk_write(operations, ordered=False, session=tx.session)
        return RebuildResult(transactions=sum(1 for r in records if not r["deleted"]),
                             days=sum(1 for d in rollups.days.values() if not d.is_empty()),
                             months=sum(1 for m in rollups.months.values() if not m.is_empty()),
                             rebuilt_at=datetime.now(timezone.utc))

    return await runtime.atomic(swap)
