"""Transactional outbox: a state change and its events commit together; a relay publishes them.

The relay publishes with confirms and only then marks a record sent, so a broker outage delays events
and a crash between publishing and marking re-publishes (consumers are idempotent on event_id).
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.bus import Bus
from shared.events import Envelope, Event
from shared.logs import request_id_var

log = logging.getLogger("shared.outbox")

OUTBOX = "outbox"
SENT_RETENTION = timedelta(days=7)


async def create_outbox_indexes(db: AsyncDatabase) -> None:
    await db[OUTBOX].create_indexes([
        IndexModel([("sent_at", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel([("purge_after", ASCENDING)], expireAfterSeconds=0),
    ])


class Tx:
    """A unit of work: one MongoDB transaction and the events it emits."""

    def __init__(self, session: AsyncClientSession, db: AsyncDatabase, producer: str) -> None:
        self.session, self.db, self.producer = session, db, producer
        self.emitted: list[Envelope] = []

    async def publish(self, event: Event, *, user_id: str | None,
                      correlation_id: str | None = None) -> Envelope:
        envelope = Envelope.wrap(event, producer=self.producer, user_id=user_id,
                                 correlation_id=correlation_id or request_id_var.get())
        await self.db[OUTBOX].insert_one({
            "_id": envelope.event_id, "routing_key": envelope.type,
            "envelope": envelope.model_dump(mode="json"), "created_at": envelope.occurred_at,
            "sent_at": None, "lease_until": None, "attempts": 0,
        }, session=self.session)
        self.emitted.append(envelope)
        return envelope

    async def publish_many(self, events: Sequence[Event], *, user_id: str | None,
                           correlation_id: str | None = None) -> list[Envelope]:
        """publish() for many events of one user in a single insert (bulk imports): one round trip, not N."""
        envelopes = [Envelope.wrap(event, producer=self.producer, user_id=user_id,
                                   correlation_id=correlation_id or request_id_var.get()) for event in events]
        if envelopes:
            await self.db[OUTBOX].insert_many([{
                "_id": envelope.event_id, "routing_key": envelope.type,
                "envelope": envelope.model_dump(mode="json"), "created_at": envelope.occurred_at,
                "sent_at": None, "lease_until": None, "attempts": 0,
            } for envelope in envelopes], session=self.session)
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
        published = 0
        while True:
            now = datetime.now(timezone.utc)
            pending = await self.collection.find(
                {"sent_at": None, "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]},
                sort=[("created_at", ASCENDING)], limit=self.batch,
            ).to_list()
            if not pending:
                return published
            for record in pending:
                if await self._publish_one(record):
                    published += 1

    async def _publish_one(self, record: dict) -> bool:
        now = datetime.now(timezone.utc)
        claimed = await self.collection.find_one_and_update(
            {"_id": record["_id"], "sent_at": None,
             "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]},
            {"$set": {"lease_until": now + timedelta(seconds=self.lease_seconds)}, "$inc": {"attempts": 1}},
        )
        if claimed is None:  # another relay instance has it
            return False
        body = json.dumps(claimed["envelope"]).encode()
        await self.bus.publish(claimed["routing_key"], body, message_id=claimed["_id"])
        if self.after_publish is not None:
            await self.after_publish(claimed)
        sent_at = datetime.now(timezone.utc)
        await self.collection.update_one({"_id": claimed["_id"]}, {"$set": {
            "sent_at": sent_at, "lease_until": None, "purge_after": sent_at + SENT_RETENTION}})
        return True
