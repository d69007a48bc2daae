"""Run real services in the test's event loop, each a uvicorn server on its own socket.

Every test gets fresh databases, a fresh exchange and fresh queue names (all carry the test's id).
"""

import asyncio
import contextlib
import importlib
import json
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pymongo import AsyncMongoClient

from devtools.testing.waiting import wait_until
from shared.auth import mint_access_token
from shared.topology import SERVICES

TEST_KID = "test-key-1"
TEST_RETRY_DELAYS_MS = (100, 300, 600)  # fast back-off, so dead-lettering happens within a test


@dataclass
class TestKeys:
    private_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def private_pem(self) -> str:
        return self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode()

    @property
    def public_pem(self) -> str:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass
class RunningService:
    name: str
    url: str
    app: Any
    server: uvicorn.Server
    task: asyncio.Task

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime


class EventSpy:
    """A queue of the test's own, bound to the exchange: what was really published, in the real envelope."""

    def __init__(self, amqp_url: str, exchange: str, keys: Iterable[str]) -> None:
        self.amqp_url, self.exchange_name, self.keys = amqp_url, exchange, tuple(keys)
        self.messages: list[dict[str, Any]] = []
        self.raw: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def start(self) -> "EventSpy":
        self.connection = await aio_pika.connect_robust(self.amqp_url)
        channel = await self.connection.channel()
        exchange = await channel.declare_exchange(self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        self.queue = await channel.declare_queue(f"spy.{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True)
        for key in self.keys:
            await self.queue.bind(exchange, routing_key=key)
        await self.queue.consume(self._on_message, no_ack=True)
        return self

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        self.raw.append(message)
        self.messages.append(json.loads(message.body))

    def of_type(self, routing_key: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == routing_key]

    async def wait_for(self, routing_key: str, count: int = 1, timeout: float = 15.0) -> list[dict[str, Any]]:
        await wait_until(lambda: len(self.of_type(routing_key)) >= count, timeout=timeout,
                         message=f"{count} × {routing_key}")
        return self.of_type(routing_key)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.connection.close()


class Stack:
    def __init__(self, *, mongo_url: str, amqp_url: str, keys: TestKeys, smtp: tuple[str, int] | None = None) -> None:
        self.test_id = uuid.uuid4().hex[:10]
        self.mongo_url, self.amqp_url, self.keys, self.smtp = mongo_url, amqp_url, keys, smtp
        self.exchange = f"tracker.events.t{self.test_id}"
        self.queue_prefix = f"t{self.test_id}."
        self.services: dict[str, RunningService] = {}
        self.spies: list[EventSpy] = []
        self._clients: list[httpx.AsyncClient] = []

    def database_name(self, service: str) -> str:
        return f"t{self.test_id}_{service}"

    def settings_for(self, name: str, urls: dict[str, str], overrides: dict[str, Any]) -> Any:
        settings_cls = importlib.import_module(f"{name}.settings").Settings
        values: dict[str, Any] = {
            "service_name": name, "environment": "test", "log_level": "WARNING",
            "mongodb_url": self.mongo_url, "mongodb_db": self.database_name(name),
            "amqp_url": self.amqp_url, "amqp_exchange": self.exchange, "amqp_queue_prefix": self.queue_prefix,
            "amqp_retry_delays_ms": TEST_RETRY_DELAYS_MS, "outbox_poll_seconds": 0.2, "outbox_lease_seconds": 2.0,
            "startup_wait_seconds": 10.0,
            "jwt_private_key": self.keys.private_pem, "jwt_key_id": TEST_KID,
            "service_urls": urls,
        }
        if "user_service" in urls:
            values["jwks_url"] = f"{urls['user_service']}/.well-known/jwks.json"
        else:
            values["jwt_public_key"] = self.keys.public_pem
        if self.smtp is not None:
            values.update(smtp_host=self.smtp[0], smtp_port=self.smtp[1])
        values.update(overrides)
        fields = settings_cls.model_fields
        return settings_cls(**{k: v for k, v in values.items() if k in fields})

    async def start(self, *names: str, overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, str]:
        """Start services (the gateway last, once it knows every upstream); returns their base URLs."""
        overrides = overrides or {}
        sockets: dict[str, socket.socket] = {}
        for name in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", 0))
            sockets[name] = sock
        urls = {name: s.url for name, s in self.services.items()}
        urls.update({name: f"http://127.0.0.1:{sock.getsockname()[1]}" for name, sock in sockets.items()})
        for name in sorted(names, key=lambda n: (n == "gateway", n != "user_service")):
            await self._run(name, urls, sockets[name], overrides.get(name, {}))
        return {name: urls[name] for name in names}

    async def _run(self, name: str, urls: dict[str, str], sock: socket.socket, overrides: dict[str, Any]) -> None:
        settings = self.settings_for(name, urls, overrides)
        app = importlib.import_module(SERVICES[name].module).create_app(settings)
        config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False,
                                timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        await wait_until(lambda: server.started or task.done(), timeout=30, message=f"{name} to start")
        if task.done():
            task.result()  # raises the start-up error
        self.services[name] = RunningService(name, urls[name], app, server, task)

    async def stop_service(self, name: str) -> None:
        service = self.services.pop(name)
        service.server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(service.task, 10)

    def client(self, name: str = "gateway", **kwargs: Any) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.services[name].url, timeout=kwargs.pop("timeout", 15.0), **kwargs)
        self._clients.append(client)
        return client

    def token_for(self, user_id: str, ttl_seconds: int = 900) -> str:
        """An access token minted exactly as user_service mints them (for services tested on their own)."""
        token, _ = mint_access_token(private_key=self.keys.private_key, kid=TEST_KID, user_id=user_id,
                                     issuer="expense-tracker", audience="expense-tracker-api",
                                     ttl_seconds=ttl_seconds)
        return token

    def auth(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for(user_id)}"}

    async def spy(self, *routing_keys: str) -> EventSpy:
        spy = await EventSpy(self.amqp_url, self.exchange, routing_keys or ("#",)).start()
        self.spies.append(spy)
        return spy

    def runtime(self, name: str) -> Any:
        return self.services[name].runtime

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
        for name in list(self.services):
            await self.stop_service(name)
        for spy in self.spies:
            await spy.stop()
        await self._cleanup()

    async def _cleanup(self) -> None:
        client: AsyncMongoClient = AsyncMongoClient(self.mongo_url, serverSelectionTimeoutMS=2000)
        try:
            for db_name in await client.list_database_names():
                if db_name.startswith(f"t{self.test_id}_"):
                    await client.drop_database(db_name)
        except Exception:
            pass
        finally:
            await client.close()
        with contextlib.suppress(Exception):
            connection = await aio_pika.connect(self.amqp_url, timeout=5)
            async with connection:
                channel = await connection.channel()
                for name in self._declared_queues():
                    with contextlib.suppress(Exception):
                        await channel.queue_delete(name)
                    channel = await connection.channel() if channel.is_closed else channel
                for exchange in (self.exchange, f"{self.exchange}.dlx"):
                    with contextlib.suppress(Exception):
                        await channel.exchange_delete(exchange)
                    channel = await connection.channel() if channel.is_closed else channel

    def _declared_queues(self) -> list[str]:
        names = []
        for service in SERVICES:
            base = f"{self.queue_prefix}{service}"
            names += [base, f"{base}.dlq"] + [f"{base}.retry.{i}" for i in range(1, len(TEST_RETRY_DELAYS_MS) + 1)]
        return names
