"""Fixtures for every test: real MongoDB-protocol server, real RabbitMQ, real SMTP, real HTTP."""

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import pytest

from devtools.testing.infra import provide_amqp, provide_mongodb
from devtools.testing.smtp import SmtpServer
from devtools.testing.stack import Stack, TestKeys


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[dict[str, str]]:
    with ExitStack() as resources:
        mongo_url, mongo_how = provide_mongodb(resources)
        try:
            amqp_url, amqp_how = provide_amqp(resources)
        except RuntimeError as exc:
            pytest.fail(str(exc), pytrace=False)
        print(f"\n[infra] MongoDB via {mongo_how}: {mongo_url}; RabbitMQ via {amqp_how}")
        yield {"mongo_url": mongo_url, "amqp_url": amqp_url}


@pytest.fixture(scope="session")
def keys() -> TestKeys:
    return TestKeys()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
async def stack(infrastructure: dict[str, str], keys: TestKeys, request: pytest.FixtureRequest) -> AsyncIterator[Stack]:
    smtp = None
    if "smtp_server" in request.fixturenames:
        server: SmtpServer = request.getfixturevalue("smtp_server")
        smtp = (server.host, server.port)
    running = Stack(mongo_url=infrastructure["mongo_url"], amqp_url=infrastructure["amqp_url"], keys=keys, smtp=smtp)
    yield running
    await running.close()
