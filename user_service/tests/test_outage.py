"""A user_service whose MongoDB is unreachable says so: /readyz 503 and a fast 503 problem+json, never a hang."""

import time
from urllib.parse import urlparse

from devtools.testing.net import TcpProxy
from devtools.testing.waiting import wait_until
from user_service.tests.conftest import PASSWORD, sign_up


async def test_an_unreachable_database_gives_readyz_503_and_fast_503_answers_then_recovers(stack):
    mongo = urlparse(stack.mongo_url)
    proxy = await TcpProxy(mongo.hostname or "127.0.0.1", mongo.port or 27017).start()
    try:
        proxied = mongo._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        await stack.start("user_service", overrides={"user_service": {"mongodb_url": proxied}})
        api = stack.client("user_service")
        account = await sign_up(api, "wes@example.com")
        assert (await api.get("/readyz")).status_code == 200

        proxy.cut()
        ready = await api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["mongodb"] is False
        for method, path, body in [("POST", "/api/auth/login", {"email": account.email, "password": PASSWORD}),
                                   ("GET", "/api/users/me", None)]:
            started = time.monotonic()
            response = await api.request(method, path, json=body, headers=account.auth)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert time.monotonic() - started < 5, f"{path} took too long to fail"

        proxy.restore()
        await wait_until(lambda: _ready(api), timeout=20, message="ready again")
        assert (await api.get("/api/users/me", headers=account.auth)).status_code == 200
    finally:
        await proxy.stop()


async def _ready(api) -> bool:
    return (await api.get("/readyz")).status_code == 200
