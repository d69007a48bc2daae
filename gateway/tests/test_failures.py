"""A failing upstream is a fast problem+json from the gateway: refused → 503, too slow → 504, broken → 502."""

import time

from gateway.tests.conftest import start_gateway
from gateway.tests.stubs import BrokenUpstream


async def test_a_stopped_service_is_a_503_problem_well_within_the_connect_timeout(stack, stubs):
    users, expenses = await stubs("user_service"), await stubs("expense_service")
    api = await start_gateway(stack, {"user_service": users.url, "expense_service": expenses.url},
                              upstream_connect_timeout=2.0)
    auth = stack.auth("user-1")
    assert (await api.get("/api/expenses", headers=auth)).status_code == 200
    await expenses.stop()

    started = time.monotonic()
    response = await api.get("/api/expenses", headers=auth)
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "the expense_service is unavailable; try again shortly"
    assert response.headers["retry-after"] == "5"
    assert elapsed < 2.0
    assert (await api.get("/api/users/me", headers=auth)).status_code == 200  # the others are unaffected


async def test_a_slow_service_is_a_504_at_its_own_timeout_while_other_requests_flow(stack, stubs):
    users, expenses = await stubs("user_service"), await stubs("expense_service")
    api = await start_gateway(stack, {"user_service": users.url, "expense_service": expenses.url},
                              upstream_read_timeout=30.0, upstream_timeouts={"expense_service": 0.6})
    auth = stack.auth("user-1")

    started = time.monotonic()
    slow = await api.get("/api/expenses/slow", headers=auth)
    elapsed = time.monotonic() - started
    expenses.release.set()
    after = await api.get("/api/expenses", headers=auth)

    assert slow.status_code == 504
    assert slow.json()["title"] == "Gateway Timeout"
    assert 0.55 <= elapsed < 3.0
    assert after.status_code == 200 and after.json()["path"] == "/api/expenses"


async def test_a_response_that_is_not_http_is_a_502(stack):
    broken = await BrokenUpstream().start()
    try:
        api = await start_gateway(stack, {"user_service": broken.url})
        response = await api.get("/api/users/me", headers=stack.auth("user-1"))
    finally:
        await broken.stop()

    assert response.status_code == 502
    assert response.json()["detail"] == "the user_service sent no valid response"
