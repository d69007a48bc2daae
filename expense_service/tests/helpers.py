"""Test helpers: publish an event the way another service's outbox relay would, read the service's data."""

import json
from typing import Any

import aio_pika

from shared.events import Envelope, Event

EXPENSES = "/api/expenses"


async def publish_event(stack: Any, event: Event, *, user_id: str | None, producer: str = "test",
                        envelope: Envelope | None = None) -> Envelope:
    """Publish on the test's exchange (a real broker); returns the envelope so a test can redeliver it."""
    envelope = envelope or Envelope.wrap(event, producer=producer, user_id=user_id)
    connection = await aio_pika.connect(stack.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(stack.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(aio_pika.Message(json.dumps(envelope.model_dump(mode="json")).encode(),
                                                message_id=envelope.event_id, content_type="application/json"),
                               routing_key=envelope.type)
    return envelope


def db(stack: Any) -> Any:
    """The service's own MongoDB database (to check what is really stored)."""
    return stack.runtime("expense_service").database.db


async def start(stack: Any, **overrides: Any) -> None:
    await stack.start("expense_service", overrides={"expense_service": overrides} if overrides else None)


def client(stack: Any, user_id: str) -> Any:
    return stack.client("expense_service", headers=stack.auth(user_id))
