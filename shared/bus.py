"""RabbitMQ through aio-pika: one robust connection per process, publisher confirms, one durable topic
exchange, one durable queue per consuming service with bounded, backed-off retries and a dead-letter queue."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

import aio_pika
from aio_pika.abc import (
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from shared.settings import ServiceSettings

log = logging.getLogger("shared.bus")

RETRY_HEADER = "x-retry-count"
MessageCallback = Callable[[AbstractIncomingMessage], Awaitable[None]]


class BrokerUnavailable(Exception):
    pass


class Bus:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.connection: AbstractRobustConnection | None = None
        self.channel: AbstractRobustChannel | None = None
        self.exchange: AbstractExchange | None = None
        self.connected = asyncio.Event()
        self._consumers: list[tuple[str, tuple[str, ...], MessageCallback]] = []
        self.on_reconnect: list[Callable[[], None]] = []  # e.g. wake the outbox relay after an outage

    @property
    def exchange_name(self) -> str:
        return self.settings.amqp_exchange

    @property
    def is_open(self) -> bool:
        return bool(self.connection and not self.connection.is_closed and self.channel
                    and not self.channel.is_closed)

    async def connect_until_ready(self) -> None:
        """Retry until the broker answers; after that aio-pika's robust connection reconnects by itself."""
        delay = 0.5
        while True:
            try:
                await self._connect()
                log.info("connected to the broker, exchange %s", self.exchange_name)
                return
            except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as exc:
                log.warning("broker not reachable yet (%s); retrying in %.1fs", exc.__class__.__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _connect(self) -> None:
        self.connection = await aio_pika.connect_robust(
            self.settings.amqp_url, timeout=5, reconnect_interval=1,
            client_properties={"connection_name": self.settings.service_name},
        )
        self.connection.reconnect_callbacks.add(self._reconnected)
        self.channel = await self.connection.channel(publisher_confirms=True)
        await self.channel.set_qos(prefetch_count=self.settings.amqp_prefetch)
        self.exchange = await self.channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        for queue_name, keys, callback in self._consumers:
            await self._declare_and_consume(queue_name, keys, callback)
        self.connected.set()

    def _reconnected(self, *_: object) -> None:
        log.info("reconnected to the broker")
        for callback in self.on_reconnect:
            callback()

    async def publish(self, routing_key: str, body: bytes, *, message_id: str,
                      headers: dict | None = None, timeout: float = 5.0) -> None:
        """Publish a persistent message and wait for the broker's confirm."""
        if not self.is_open or self.exchange is None:
            raise BrokerUnavailable("not connected to the broker")
        message = aio_pika.Message(
            body, message_id=message_id, content_type="application/json", type=routing_key,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT, headers=headers or {},
        )
        await self.exchange.publish(message, routing_key=routing_key, timeout=timeout)

    def add_consumer(self, routing_keys: Iterable[str], callback: MessageCallback) -> None:
        """Consume this service's queue; declared on (re)connect."""
        self._consumers.append((self.settings.queue_name, tuple(routing_keys), callback))

    def retry_queue_name(self, attempt: int) -> str:
        return f"{self.settings.queue_name}.retry.{attempt}"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.exchange_name}.dlx"

    async def _declare_and_consume(self, queue_name: str, keys: tuple[str, ...],
                                   callback: MessageCallback) -> None:
        assert self.channel is not None and self.exchange is not None
        dlx = await self.channel.declare_exchange(self.dead_letter_exchange, aio_pika.ExchangeType.DIRECT,
                                                  durable=True)
        dlq = await self.channel.declare_queue(f"{queue_name}.dlq", durable=True)
        await dlq.bind(dlx, routing_key=queue_name)
        queue = await self.channel.declare_queue(queue_name, durable=True, arguments={
            "x-dead-letter-exchange": self.dead_letter_exchange, "x-dead-letter-routing-key": queue_name})
        for attempt, delay_ms in enumerate(self.settings.amqp_retry_delays_ms, start=1):
            # Each retry level holds messages for its delay, then dead-letters them back to the main queue.
            await self.channel.declare_queue(self.retry_queue_name(attempt), durable=True, arguments={
                "x-message-ttl": delay_ms, "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue_name})
        for key in keys:
            await queue.bind(self.exchange, routing_key=key)
        await queue.consume(callback)

    async def retry_later(self, message: AbstractIncomingMessage) -> bool:
        """Park a failed message in the next retry level; False when its retries are spent."""
        attempt = int((message.headers or {}).get(RETRY_HEADER, 0)) + 1
        if attempt > len(self.settings.amqp_retry_delays_ms) or self.channel is None:
            return False
        headers = dict(message.headers or {})
        headers[RETRY_HEADER] = attempt
        copy = aio_pika.Message(
            message.body, message_id=message.message_id, content_type=message.content_type,
            type=message.type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, headers=headers)
        await self.channel.default_exchange.publish(copy, routing_key=self.retry_queue_name(attempt), timeout=5)
        return True

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
        self.connected.clear()
