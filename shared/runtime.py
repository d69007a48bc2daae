"""A service's running parts: database, bus, outbox relay, consumer, token verifier, background tasks."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

from beanie import Document
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.auth import TokenVerifier
from shared.bus import Bus
from shared.consumer import PROCESSED, EventConsumer, EventHandlers
from shared.db import Database
from shared.idempotency import create_idempotency_indexes
from shared.outbox import OutboxRelay, Tx, create_outbox_indexes
from shared.settings import ServiceSettings

log = logging.getLogger("shared.runtime")
T = TypeVar("T")
Task = Callable[["Runtime"], Awaitable[None]]


async def _processed_indexes(db: AsyncDatabase) -> None:
    await db[PROCESSED].create_indexes([IndexModel([("event_id", ASCENDING)])])


async def _finish_cancelled(task: asyncio.Task) -> None:
    """Wait for a cancelled task to end. Python 3.11's asyncio.wait_for can lose a cancellation that races a
    completing operation (pymongo's async I/O uses it): the task then runs on, so cancel again until it ends."""
    while not task.done():
        await asyncio.wait([task], timeout=0.5)
        if not task.done():
            task.cancel()
    with suppress(asyncio.CancelledError, Exception):
        task.result()


class Runtime:
    def __init__(self, settings: ServiceSettings, *, models: Sequence[type[Document]] = (),
                 handlers: EventHandlers | None = None, tasks: Sequence[Task] = (),
                 on_start: Sequence[Task] = (), verifier: TokenVerifier | None = None,
                 publishes: bool = True) -> None:
        self.settings = settings
        self.models, self.handlers = models, handlers or {}
        self.tasks, self.on_start = tasks, on_start
        self.publishes = publishes
        self.verifier = verifier or TokenVerifier(settings)
        self.extras: dict[str, Any] = {}  # service-specific parts (mailer, key ring, ...)
        self._running: list[asyncio.Task] = []
        self.database: Database
        self.bus: Bus
        self.relay: OutboxRelay
        self.consumer: EventConsumer | None = None

    async def start(self) -> None:
        s = self.settings
        self.database = Database(s, self.models)
        self.database.on_ready(create_outbox_indexes)
        self.database.on_ready(_processed_indexes)
        self.database.on_ready(create_idempotency_indexes)  # Idempotency-Key records (shared.idempotency)
        self.bus = Bus(s)
        self.relay = OutboxRelay(self.database.db, self.bus, poll_seconds=s.outbox_poll_seconds,
                                 lease_seconds=s.outbox_lease_seconds)
        self.bus.on_reconnect.append(self.relay.wake)
        if self.handlers:
            self.consumer = EventConsumer(database=self.database, bus=self.bus, handlers=self.handlers,
                                          producer=s.service_name, services=self.extras,
                                          after_commit=self.relay.wake)
            self.consumer.attach()
        for hook in self.on_start:
            await hook(self)
        self.spawn(self.database.init_until_ready(), "database")
        if self.publishes or self.handlers:
            self.spawn(self.bus.connect_until_ready(), "bus")
            self.spawn(self._after_db(self.relay.run), "outbox-relay")
        for task in self.tasks:
            self.spawn(self._after_db(lambda task=task: task(self)), getattr(task, "__name__", "task"))
        # Serve as soon as the dependencies answer, but never wait forever: /readyz tells the rest.
        with suppress(TimeoutError):
            await asyncio.wait_for(self._dependencies_ready(), s.startup_wait_seconds)

    async def _dependencies_ready(self) -> None:
        await self.database.ready.wait()
        if self.publishes or self.handlers:
            await self.bus.connected.wait()

    async def _after_db(self, run: Callable[[], Awaitable[None]]) -> None:
        await self.database.ready.wait()
        await run()

    def spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        task.set_name(f"{self.settings.service_name}:{name}")
        task.add_done_callback(self._report_crash)
        self._running.append(task)
        return task

    @staticmethod
    def _report_crash(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s crashed", task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        for task in self._running:
            task.cancel()
        for task in self._running:
            await _finish_cancelled(task)
        self._running.clear()
        with suppress(Exception):
            await self.bus.close()
        with suppress(Exception):
            await self.database.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One MongoDB transaction with its outbox events; the relay wakes once it commits."""
        async with self.database.session_transaction() as session:
            tx = Tx(session, self.database.db, self.settings.service_name)
            yield tx
        if tx.emitted:
            self.relay.wake()

    async def atomic(self, body: Callable[[Tx], Awaitable[T]]) -> T:
        """Like transaction(), but the driver retries the whole body on transient errors (write conflicts)."""
        holder: list[Tx] = []

        async def run(session: AsyncClientSession) -> T:
            tx = Tx(session, self.database.db, self.settings.service_name)
            holder[:] = [tx]
            return await body(tx)

        result = await self.database.run_transaction(run)
        if holder and holder[0].emitted:
            self.relay.wake()
        return result

    async def readiness(self) -> dict[str, bool]:
        checks = {"mongodb": await self.database.ping()}
        if self.publishes or self.handlers:
            checks["broker"] = self.bus.is_open
        return checks
