"""Fixtures for analytics_service: the service on the real stack, and a producer that publishes like
expense_service and user_service do (its own Runtime's transaction().publish, through the real broker)."""

import json
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from bson import ObjectId

from shared.events import Envelope, Event, TransactionSnapshot
from shared.runtime import Runtime
from shared.settings import ServiceSettings


def snapshot(user_id: str, *, amount: str, currency: str = "EUR", type: str = "expense",
             category_id: str | None = "c-food", category_name: str = "Food", occurred_date: date,
             timezone_name: str = "UTC", id: str | None = None, description: str = "") -> TransactionSnapshot:
    return TransactionSnapshot(id=id or str(ObjectId()), user_id=user_id, type=type, amount=Decimal(amount),
                               currency=currency, category_id=category_id, category_name=category_name,
                               occurred_date=occurred_date, timezone=timezone_name, description=description,
                               created_at=datetime.now(timezone.utc))


class Producer:
    """Publishes events through a real outbox and broker, or raw (hand-made envelopes, redeliveries)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.sent: list[Envelope] = []

    async def publish(self, event: Event, user_id: str) -> Envelope:
        async with self.runtime.transaction() as tx:
            envelope = await tx.publish(event, user_id=user_id)
        self.sent.append(envelope)
        return envelope

    async def publish_raw(self, envelope: Envelope) -> None:
        """Straight onto the broker, bypassing the outbox: for out-of-order and redelivered copies."""
        await self.runtime.bus.publish(envelope.type, json.dumps(envelope.model_dump(mode="json")).encode(),
                                       message_id=envelope.event_id)


@pytest.fixture
async def producer(stack) -> AsyncIterator[Producer]:
    settings = ServiceSettings(
        service_name="expense_service", environment="test", mongodb_url=stack.mongo_url,
        mongodb_db=stack.database_name("producer"), amqp_url=stack.amqp_url, amqp_exchange=stack.exchange,
        amqp_queue_prefix=stack.queue_prefix, outbox_poll_seconds=0.2)
    runtime = Runtime(settings)
    await runtime.start()
    try:
        yield Producer(runtime)
    finally:
        await runtime.stop()


@pytest.fixture
async def analytics(stack):
    await stack.start("analytics_service")
    return stack


async def processed_count(stack) -> int:
    return await stack.runtime("analytics_service").database.db["processed_events"].count_documents({})
