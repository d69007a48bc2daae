"""An expense_service whose MongoDB is unreachable says so: /readyz 503 and fast 503 problem+json on its main read
and write, never a hang; once the database is back, so is the service (and nothing was half-written)."""

import time
from urllib.parse import urlparse

from devtools.testing.net import TcpProxy
from devtools.testing.waiting import wait_until
from expense_service.tests.helpers import EXPENSES, client, start

LUNCH = {"type": "expense", "amount": "12.50", "currency": "EUR", "description": "Lunch"}


async def test_an_unreachable_database_gives_fast_503s_on_list_and_create_then_recovers(stack):
    mongo = urlparse(stack.mongo_url)
    proxy = await TcpProxy(mongo.hostname or "127.0.0.1", mongo.port or 27017).start()
    try:
        await start(stack, mongodb_url=mongo._replace(netloc=f"127.0.0.1:{proxy.port}").geturl())
        api = client(stack, "alice")
        assert (await api.post(EXPENSES, json=LUNCH)).status_code == 201

        proxy.cut()
        ready = await api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["mongodb"] is False
        for method, body in [("GET", None), ("POST", {**LUNCH, "description": "Dinner"})]:
            started = time.monotonic()
            response = await api.request(method, EXPENSES, json=body)
            assert response.status_code == 503, (method, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert time.monotonic() - started < 5, f"{method} took too long to fail"

        proxy.restore()
        await wait_until(lambda: _ready(api), timeout=20, message="ready again")
        listed = (await api.get(EXPENSES)).json()
        assert [t["description"] for t in listed["items"]] == ["Lunch"]
    finally:
        await proxy.stop()


async def _ready(api) -> bool:
    return (await api.get("/readyz")).status_code == 200
