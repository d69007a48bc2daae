"""Transactional outbox: a state change and its events commit together; a relay publishes them.

The relay publishes with confirms and only then marks a record sent, so a broker outage delays events
and a crash between publishing and marking re-publishes (consumers are idempotent on event_id).
"""

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.bus import Bus
from shared.events import EVENT_TYPES, Envelope, Event
from shared.logs import request_id_var

log = logging.getLogger("shared.outbox")

OUTBOX = "outbox"
SENT_RETENTION = timedelta(days=7)


NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)  # lease_until of a record nobody has claimed


async def create_outbox_indexes(db: AsyncDatabase) -> None:
    # Only unsent records carry `pending`, so the relay's queries stay small however many sent records are kept.
    await db[OUTBOX].create_indexes([
        IndexModel([("pending", ASCENDING), ("created_at", ASCENDING)], sparse=True),
        IndexModel([("lease_token", ASCENDING)], sparse=True),
        IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0),
    ])


REDACTED = "[redacted]"


def _sensitive_fields(record: dict) -> tuple[str, ...]:
    event_cls = EVENT_TYPES.get(record["routing_key"])
    return event_cls.SENSITIVE_FIELDS if event_cls is not None else ()


def outbox_record(envelope: Envelope) -> dict:
    return {"_id": envelope.event_id, "routing_key": envelope.type, "envelope": envelope.model_dump(mode="json"),
            "created_at": envelope.occurred_at, "sent_at": None, "pending": True, "lease_until": NEVER, "attempts": 0}


class Tx:
    """A unit of work: one MongoDB transaction and the events it emits."""

    def __init__(self, session: AsyncClientSession, db: AsyncDatabase, producer: str) -> None:
        self.session, self.db, self.producer = session, db, producer
        self.emitted: list[Envelope] = []

    async def publish(self, event: Event, *, user_id: str | None,
                      correlation_id: str | None = None) -> Envelope:
        (envelope,) = await self.publish_many([event], user_id=user_id, correlation_id=correlation_id)
        return envelope

    async def publish_many(self, events: Sequence[Event], *, user_id: str | None,
                           correlation_id: str | None = None) -> list[Envelope]:
        """Write events of one user to the outbox in this transaction: one round trip for a bulk import."""
        envelopes = [Envelope.wrap(event, producer=self.producer, user_id=user_id,
                                   correlation_id=correlation_id or request_id_var.get()) for event in events]
        if len(envelopes) == 1:
            await self.db[OUTBOX].insert_one(outbox_record(envelopes[0]), session=self.session)
        elif envelopes:
            await self.db[OUTBOX].insert_many([outbox_record(e) for e in envelopes], session=self.session)
        self.emitted.extend(envelopes)
        return envelopes


class OutboxRelay:
    def __init__(self, db: AsyncDatabase, bus: Bus, *, poll_seconds: float = 1.0,
                 lease_seconds: float = 15.0, batch: int = 100) -> None:
        self.collection = db[OUTBOX]
        self.bus = bus
        self.poll_seconds, self.lease_seconds, self.batch = poll_seconds, lease_seconds, batch
        self._wake = asyncio.Event()
        # Test hook: runs after a confirmed publish and before the record is marked sent.
        self.after_publish: Callable[[dict], Awaitable[None]] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        await self.bus.connected.wait()
        delay = self.poll_seconds
        while True:
            # Python 3.11's wait_for can swallow a cancellation that races a finishing driver call: honour it.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            try:
                await self.drain()
                delay = self.poll_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database outage: back off, never drop
                log.warning("outbox relay paused: %s: %s", exc.__class__.__name__, exc)
                delay = min(max(delay * 2, 0.5), 5)
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
            self._wake.clear()

    async def drain(self) -> int:
        """Publish every pending record, a batch at a time, oldest first; returns how many were published."""
        published = 0
        while True:
            batch = await self._claim_batch()
            if not batch:
                return published
            published += await self._publish_batch(batch)

    async def _claim_batch(self) -> list[dict]:
        # Plain, index-friendly operations: a single-key filter, then claims by _id (cheap on every server).
        now = datetime.now(timezone.utc)
        candidates = await self.collection.find(
            {"pending": True, "lease_until": {"$lt": now}}, projection={"_id": 1, "lease_until": 1},
            sort=[("pending", ASCENDING), ("created_at", ASCENDING)], limit=self.batch).to_list()
        if not candidates:
            return []
        # A lease token marks what this relay claimed; a record another instance claimed first is left out.
        token = uuid.uuid4().hex
        lease = {"$set": {"lease_until": now + timedelta(seconds=self.lease_seconds), "lease_token": token},
                 "$inc": {"attempts": 1}}
        await self.collection.bulk_write(
            [UpdateOne({"_id": c["_id"], "pending": True, "lease_until": c["lease_until"]}, lease)
             for c in candidates], ordered=False)
        claimed = await self.collection.find({"lease_token": token}).to_list()
        return sorted(claimed, key=lambda r: r["created_at"])

    async def _publish_batch(self, batch: list[dict]) -> int:
        # Confirms are awaited together: one broker round trip for the batch, order of publishing kept.
        results = await asyncio.gather(*(
            self.bus.publish(r["routing_key"], json.dumps(r["envelope"]).encode(), message_id=r["_id"])
            for r in batch), return_exceptions=True)
        confirmed = [r for r, result in zip(batch, results, strict=True) if not isinstance(result, BaseException)]
        if self.after_publish is not None:
            for record in confirmed:
                await self.after_publish(record)
        sent_at = datetime.now(timezone.utc)
        sent = {"$set": {"sent_at": sent_at, "purge_after": sent_at + SENT_RETENTION},
                "$unset": {"pending": "", "lease_token": ""}}
        secret = [r for r in confirmed if _sensitive_fields(r)]
        if secret:  # e.g. a reset token: the kept copy must not be a working credential
            await self.collection.bulk_write([UpdateOne({"_id": r["_id"]}, {"$set": {
                f"envelope.data.{name}": REDACTED for name in _sensitive_fields(r)}}) for r in secret])
        if len(confirmed) == len(batch):
            await self.collection.update_many({"lease_token": batch[0]["lease_token"]}, sent)
            return len(batch)
        # Some failed: mark the confirmed ones, release the rest so they go as soon as the broker is back.
        release = {"$set": {"lease_until": NEVER}, "$unset": {"lease_token": ""}}
        confirmed_ids = {r["_id"] for r in confirmed}
        await self.collection.bulk_write(
            [UpdateOne({"_id": r["_id"]}, sent if r["_id"] in confirmed_ids else release) for r in batch],
            ordered=False)
        raise next(result for result in results if isinstance(result, BaseException))
