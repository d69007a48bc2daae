"""Event consumption: parse the envelope, run each handler exactly once per event.

Idempotency: a processed-event record, unique on (handler, event_id), is written in the same transaction
as the handler's side effects, so a redelivered event changes nothing. A message that cannot be parsed
goes straight to the dead-letter queue; a handler that fails is retried with back-off, then dead-lettered.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from shared.bus import Bus
from shared.db import Database
from shared.events import EVENT_TYPES, Envelope, Event
from shared.logs import request_id_var
from shared.outbox import Tx

log = logging.getLogger("shared.consumer")

PROCESSED = "processed_events"


class HandlerContext(Tx):
    """What a handler gets beside its event: the transaction (session, publish) and the envelope."""

    def __init__(self, session: AsyncClientSession, database: Database, producer: str,
                 envelope: Envelope, services: Mapping[str, Any]) -> None:
        super().__init__(session, database.db, producer)
        self.envelope = envelope
        self.database = database
        self.services = services  # the runtime's extras (settings, mailer, ...)

    async def publish(self, event: Event, *, user_id: str | None = None,
                      correlation_id: str | None = None) -> Envelope:
        return await super().publish(
            event, user_id=user_id if user_id is not None else self.envelope.user_id,
            correlation_id=correlation_id or self.envelope.correlation_id or self.envelope.event_id)


Handler = Callable[[Any, HandlerContext], Awaitable[None]]
EventHandlers = Mapping[type[Event], Sequence[Handler]]


def handler_key(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


class EventConsumer:
    def __init__(self, *, database: Database, bus: Bus, handlers: EventHandlers, producer: str,
                 services: Mapping[str, Any], after_commit: Callable[[], None] | None = None) -> None:
        self.database, self.bus, self.producer, self.services = database, bus, producer, services
        self.handlers = {cls.ROUTING_KEY: list(hs) for cls, hs in handlers.items()}
        self.after_commit = after_commit

    def attach(self) -> None:
        self.bus.add_consumer(self.handlers.keys(), self.on_message)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = Envelope.model_validate_json(message.body)
            event_cls = EVENT_TYPES[envelope.type]
            event = event_cls.model_validate(envelope.data)
        except (ValidationError, KeyError, ValueError) as exc:
            log.error("poison message %s dead-lettered: %s", message.message_id, exc.__class__.__name__)
            await message.reject(requeue=False)
            return
        token = request_id_var.set(envelope.correlation_id)
        try:
            await self.database.ready.wait()
            for handler in self.handlers.get(envelope.type, []):
                await self.handle_once(handler, envelope, event)
            await message.ack()
        except Exception:
            log.exception("handler failed for %s", envelope.type,
                          extra={"event_id": envelope.event_id, "event_type": envelope.type})
            if await self.bus.retry_later(message):
                await message.ack()
            else:
                log.error("retries spent; event %s dead-lettered", envelope.event_id)
                await message.reject(requeue=False)
        finally:
            request_id_var.reset(token)

    async def handle_once(self, handler: Handler, envelope: Envelope, event: Event) -> bool:
        """Run the handler unless it already ran for this event; True when it ran now."""
        record_id = f"{handler_key(handler)}:{envelope.event_id}"
        processed = self.database.db[PROCESSED]
        if await processed.find_one({"_id": record_id}, projection={"_id": 1}):
            return False
        contexts: list[HandlerContext] = []

        async def body(session: AsyncClientSession) -> None:
            await processed.insert_one({"_id": record_id, "event_id": envelope.event_id,
                                        "handler": handler_key(handler),
                                        "processed_at": datetime.now(timezone.utc)}, session=session)
            ctx = HandlerContext(session, self.database, self.producer, envelope, self.services)
            contexts.append(ctx)
            await handler(event, ctx)

        try:
            await self.database.run_transaction(body)
        except DuplicateKeyError:
            if await processed.find_one({"_id": record_id}, projection={"_id": 1}):
                return False  # a concurrent redelivery won the race
            raise
        if self.after_commit and contexts and contexts[-1].emitted:
            self.after_commit()
        return True
