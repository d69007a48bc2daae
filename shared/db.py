"""MongoDB through PyMongo's async client and Beanie 2; transactions that carry their outbox events."""

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import date, datetime, timezone
from datetime import time as dtime
from typing import TypeVar

from beanie import Document, init_beanie
from beanie.exceptions import DocumentNotFound
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError

from shared.settings import ServiceSettings

log = logging.getLogger("shared.db")
T = TypeVar("T")


class Database:
    """One client per process; Beanie documents bound to this service's database."""

    def __init__(self, settings: ServiceSettings, models: Sequence[type[Document]]) -> None:
        self.settings = settings
        self.models = list(models)
        timeout = settings.mongodb_timeout_ms
        self.client: AsyncMongoClient = AsyncMongoClient(
            settings.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=timeout,
            connectTimeoutMS=timeout, socketTimeoutMS=max(timeout * 5, 10000), uuidRepresentation="standard",
        )
        self.db: AsyncDatabase = self.client[settings.database_name]
        self.ready = asyncio.Event()
        self._setup: list[Callable[[AsyncDatabase], Awaitable[None]]] = []

    def on_ready(self, setup: Callable[[AsyncDatabase], Awaitable[None]]) -> None:
        """Register index creation for raw collections (outbox, processed events, ...)."""
        self._setup.append(setup)

    async def init(self) -> None:
        await init_beanie(database=self.db, document_models=self.models)
        for setup in self._setup:
            await setup(self.db)
        self.ready.set()

    async def init_until_ready(self) -> None:
        """Keep trying: a service starts even while MongoDB is down, and answers /readyz 503 until it is up."""
        delay = 0.5
        while True:
            try:
                await self.init()
                log.info("database %s ready", self.db.name)
                return
            except PyMongoError as exc:
                log.warning("database not reachable yet (%s); retrying in %.1fs", exc.__class__.__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def ping(self) -> bool:
        try:
            await asyncio.wait_for(self.client.admin.command("ping"), self.settings.mongodb_timeout_ms / 1000)
            return self.ready.is_set()
        except (PyMongoError, TimeoutError):
            return False

    @asynccontextmanager
    async def session_transaction(self) -> AsyncIterator[AsyncClientSession]:
        async with self.client.start_session() as session, await session.start_transaction():
            yield session

    async def run_transaction(self, body: Callable[[AsyncClientSession], Awaitable[T]],
                              *, retry_seconds: float = 10.0) -> T:
        """Run body in a transaction; on a write conflict run it again (with jittered back-off) until
        retry_seconds have passed. Unlike the driver's with_transaction, a network error is not retried for
        two minutes: a down database surfaces at once (the app answers 503)."""
        deadline = time.monotonic() + retry_seconds
        attempt = 0
        while True:
            attempt += 1
            async with self.client.start_session() as session:
                try:
                    await session.start_transaction()
                    result = await body(session)
                    await self._commit(session)
                    return result
                except OperationFailure as exc:
                    if session.in_transaction:
                        with suppress(PyMongoError):
                            await session.abort_transaction()
                    if not exc.has_error_label("TransientTransactionError") or time.monotonic() > deadline:
                        raise
                except BaseException:
                    if session.in_transaction:
                        with suppress(PyMongoError):
                            await session.abort_transaction()
                    raise
            await asyncio.sleep(random.uniform(0, min(0.005 * 2**attempt, 0.25)))  # let the winner commit

    @staticmethod
    async def _commit(session: AsyncClientSession) -> None:
        for attempt in range(3):
            try:
                await session.commit_transaction()
                return
            except PyMongoError as exc:
                if not exc.has_error_label("UnknownTransactionCommitResult") or attempt == 2:
                    raise

    async def close(self) -> None:
        await self.client.close()


def stored_day(day: date) -> datetime:
    """A calendar day as Beanie stores a `date` (midnight UTC): for hand-written queries and updates."""
    return datetime.combine(day, dtime.min, tzinfo=timezone.utc)


def write_conflict(what: str) -> OperationFailure:
    """A transient error, as the server raises for a write conflict: run_transaction retries the whole body."""
    return OperationFailure(f"the {what} changed concurrently", code=112,
                            details={"errorLabels": ["TransientTransactionError"], "codeName": "WriteConflict"})


async def replace_at_revision(document: Document, session: AsyncClientSession | None) -> None:
    """Optimistic concurrency for a document with `revision` and `updated_at`: replace it only if nobody wrote
    it since it was read; else raise a write conflict so the transaction runs again on fresh data."""
    expected = document.revision
    document.revision, document.updated_at = expected + 1, datetime.now(timezone.utc)
    try:
        await type(document).find_one({"_id": document.id, "revision": expected}, session=session).replace_one(
            document, session=session)
    except DocumentNotFound:
        raise write_conflict(type(document).__name__.lower()) from None
