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


GROUPS = "/api/groups"


async def group_of(stack: Any, owner: str, *members: str, currency: str = "EUR", name: str = "Flat") -> dict:
    """A group `owner` created, which `members` joined with its invite code (in that order)."""
    created = await client(stack, owner).post(GROUPS, json={"name": name, "currency": currency})
    assert created.status_code == 201, created.text
    group = created.json()
    for member in members:
        joined = await client(stack, member).post(f"{GROUPS}/join", json={"invite_code": group["invite_code"]})
        assert joined.status_code == 200, joined.text
        group = joined.json()
    return group


async def balances(api: Any, group_id: str) -> dict:
    response = await api.get(f"{GROUPS}/{group_id}/balances")
    assert response.status_code == 200, response.text
    return response.json()


def nets(sheet: dict) -> dict[str, str]:
    return {b["user_id"]: b["net"] for b in sheet["balances"]}
