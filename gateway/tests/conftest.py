"""Fixtures for the gateway's tests: stub upstreams on real sockets and a gateway routed to them."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from devtools.testing.stack import Stack
from gateway.tests.stubs import StubUpstream


@pytest.fixture
async def stubs() -> AsyncIterator[Callable[..., Awaitable[StubUpstream]]]:
    started: list[StubUpstream] = []

    async def start(name: str, **kwargs: Any) -> StubUpstream:
        stub = await StubUpstream(name, **kwargs).start()
        started.append(stub)
        return stub

    yield start
    for stub in started:
        await stub.stop()


async def start_gateway(stack: Stack, service_urls: dict[str, str], **settings: Any) -> httpx.AsyncClient:
    """The gateway routed to `service_urls` (the services not named there answer 503 at the gateway)."""
    await stack.start("gateway", overrides={"gateway": {"service_urls": service_urls, **settings}})
    return stack.client("gateway")


def header(record: dict[str, Any], name: str) -> list[str]:
    """Every value of one header as an upstream received it."""
    return [value for key, value in record["headers"] if key == name.lower()]
