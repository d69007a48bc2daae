"""Fixtures for the notification service's tests: the service on real RabbitMQ, a MongoDB-protocol server and
an aiosmtpd SMTP server; events published onto the test's exchange exactly as a producer's relay would."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aio_pika
import pytest

from devtools.testing.smtp import SmtpServer
from devtools.testing.stack import Stack
from devtools.testing.waiting import wait_until
from notification_service.main import create_app
from shared.events import Envelope, Event
from shared.runtime import Runtime

SERVICE = "notification_service"
# Quick polling and short back-off so an outage and its recovery fit in a test; no scheduler unless asked.
# The outbox relay (this service publishes nothing) polls slowly: the shared relay can miss its cancellation
# when it lands mid-read on Python 3.11 and then holds up the service's shutdown for the harness's 10 s.
FAST = {"email_poll_seconds": 0.1, "email_retry_base_seconds": 0.2, "email_retry_max_seconds": 0.8,
        "weekly_report_enabled": False, "outbox_poll_seconds": 30.0}


class Publisher:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def _exchange(self) -> aio_pika.abc.AbstractExchange:
        if self.connection is None:
            self.connection = await aio_pika.connect_robust(self.stack.amqp_url)
            self.channel = await self.connection.channel(publisher_confirms=True)
            self.exchange = await self.channel.declare_exchange(self.stack.exchange, aio_pika.ExchangeType.TOPIC,
                                                                durable=True)
        return self.exchange

    async def publish(self, event: Event, *, user_id: str | None, occurred_at: datetime | None = None,
                      producer: str = "test") -> Envelope:
        envelope = Envelope.wrap(event, producer=producer, user_id=user_id)
        if occurred_at is not None:
            envelope = envelope.model_copy(update={"occurred_at": occurred_at})
        await self.redeliver(envelope)
        return envelope

    async def redeliver(self, envelope: Envelope) -> None:
        exchange = await self._exchange()
        body = json.dumps(envelope.model_dump(mode="json")).encode()
        await exchange.publish(aio_pika.Message(body, message_id=envelope.event_id, content_type="application/json",
                                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                               routing_key=envelope.type)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()


@dataclass
class Notifications:
    """The running service and what tests need around it."""

    stack: Stack
    smtp: SmtpServer
    events: Publisher

    @property
    def runtime(self) -> Runtime:
        return self.stack.runtime(SERVICE)

    @property
    def db(self) -> Any:
        return self.runtime.database.db

    def api(self, user_id: str):
        return self.stack.client(SERVICE, headers=self.stack.auth(user_id))

    async def mails_to(self, address: str, count: int = 1, timeout: float = 10.0) -> list:
        await wait_until(lambda: len(self.smtp.sink.to(address)) >= count, timeout=timeout,
                         message=f"{count} email(s) to {address}")
        return self.smtp.sink.to(address)

    async def count(self, collection: str, query: dict, at_least: int = 1, timeout: float = 10.0) -> int:
        async def enough() -> int | None:
            n = await self.db[collection].count_documents(query)
            return n if n >= at_least else None

        return await wait_until(enough, timeout=timeout, message=f"{at_least} × {collection} {query}")

    async def another_instance(self, **overrides: Any) -> Runtime:
        """A second service instance on the same database and queue (stopped by the caller)."""
        settings = self.stack.settings_for(SERVICE, {}, {**FAST, **overrides})
        runtime = create_app(settings).state.runtime
        await runtime.start()
        return runtime


@pytest.fixture
async def publisher(stack: Stack) -> AsyncIterator[Publisher]:
    events = Publisher(stack)
    yield events
    await events.close()


async def start(stack: Stack, smtp_server: SmtpServer, publisher: Publisher, **overrides: Any) -> Notifications:
    await stack.start(SERVICE, overrides={SERVICE: {**FAST, **overrides}})
    return Notifications(stack, smtp_server, publisher)


@pytest.fixture
async def notifications(stack: Stack, smtp_server: SmtpServer, publisher: Publisher) -> Notifications:
    return await start(stack, smtp_server, publisher)


async def seed_user(n: Notifications, user_id: str, email: str, name: str = "", timezone: str = "UTC") -> None:
    """Put a user in the service's directory the way user_service does (a profile event; no welcome mail)."""
    from shared.events import UserProfileUpdated

    await n.events.publish(UserProfileUpdated(user_id=user_id, email=email, name=name, timezone=timezone),
                           user_id=user_id, producer="user_service")
    await n.count("user_directory", {"user_id": user_id, "email": email})
