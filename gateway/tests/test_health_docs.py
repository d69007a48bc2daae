"""GET /health rolls up every service's readiness; /openapi.json and /docs merge every service's API."""

import time
from urllib.parse import urlparse

from devtools.testing.net import TcpProxy
from devtools.testing.waiting import wait_until
from gateway.tests.conftest import start_gateway


async def test_health_is_200_when_every_service_is_ready_and_503_naming_the_ones_that_are_not(stack, stubs):
    users, expenses = await stubs("user_service"), await stubs("expense_service")
    budgets = await stubs("budget_service")
    api = await start_gateway(stack, {"user_service": users.url, "expense_service": expenses.url,
                                      "budget_service": budgets.url}, health_timeout_seconds=1.0)
    healthy = await api.get("/health")
    alive, ready = await api.get("/healthz"), await api.get("/readyz")  # the gateway's own

    expenses.ready = False
    await budgets.stop()
    started = time.monotonic()
    degraded = await api.get("/health")
    elapsed = time.monotonic() - started

    assert alive.status_code == 200 and ready.status_code == 200
    assert healthy.status_code == 200
    assert healthy.json()["status"] == "ready"
    assert set(healthy.json()["services"]) == {"user_service", "expense_service", "budget_service"}
    assert degraded.status_code == 503
    services = degraded.json()["services"]
    assert services["user_service"]["status"] == "ready"
    assert services["expense_service"] == {"status": "unavailable", "checks": {"mongodb": False}}
    assert services["budget_service"]["status"] == "unreachable"
    assert elapsed < 2.0


async def test_health_shows_user_service_not_ready_once_its_mongodb_is_cut_off(stack):
    mongo = urlparse(stack.mongo_url)
    proxy = await TcpProxy(mongo.hostname or "127.0.0.1", mongo.port or 27017).start()
    try:
        proxied = mongo._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        await stack.start("user_service", "gateway", overrides={
            "user_service": {"mongodb_url": proxied, "mongodb_timeout_ms": 500},
            "gateway": {"health_timeout_seconds": 2.0}})
        api = stack.client("gateway")
        assert (await api.get("/health")).status_code == 200

        proxy.cut()
        health = await api.get("/health")

        assert health.status_code == 503
        user_service = health.json()["services"]["user_service"]
        assert user_service["status"] == "unavailable"
        assert user_service["checks"]["mongodb"] is False
    finally:
        await proxy.stop()


def stub_openapi(title: str, paths: dict, schemas: dict) -> dict:
    return {"openapi": "3.1.0", "info": {"title": title, "version": "1"}, "paths": paths,
            "components": {"schemas": schemas}, "tags": [{"name": title}]}


async def test_openapi_merges_every_services_routed_paths_and_keeps_clashing_schemas_apart(stack, stubs):
    users, expenses = await stubs("user_service"), await stubs("expense_service")
    invoices = await stubs("invoice_service")
    page_ref = {"$ref": "#/components/schemas/Page"}
    users.openapi = stub_openapi("users", {
        "/api/users/me": {"get": {"responses": {"200": {"content": {"application/json": {"schema": page_ref}}}}}},
        "/healthz": {"get": {"responses": {}}},
    }, {"Page": {"type": "object", "title": "users page"}})
    expenses.openapi = stub_openapi("expenses", {
        "/api/expenses": {"get": {"responses": {"200": {"content": {"application/json": {"schema": page_ref}}}}}},
    }, {"Page": {"type": "object", "title": "expenses page"}})
    await invoices.stop()
    api = await start_gateway(stack, {"user_service": users.url, "expense_service": expenses.url,
                                      "invoice_service": invoices.url})

    document = (await api.get("/openapi.json")).json()
    docs = await api.get("/docs")

    assert set(document["paths"]) == {"/health", "/api/users/me", "/api/expenses"}
    schemas = document["components"]["schemas"]
    assert schemas["Page"]["title"] == "users page"
    assert schemas["expense_service.Page"]["title"] == "expenses page"

    def schema_of(path: str) -> dict:
        return document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]

    assert schema_of("/api/users/me") == {"$ref": "#/components/schemas/Page"}
    assert schema_of("/api/expenses") == {"$ref": "#/components/schemas/expense_service.Page"}
    assert document["info"]["x-unavailable-services"] == ["invoice_service"]
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "/openapi.json" in docs.text


async def test_openapi_shows_the_real_user_service_api_and_fills_in_a_service_that_comes_back(stack, stubs):
    late = await stubs("expense_service")
    late.openapi = stub_openapi("expenses", {"/api/expenses": {"get": {"responses": {}}}}, {})
    port = late.port
    await late.stop()
    await stack.start("user_service")
    api = await start_gateway(stack, {"user_service": stack.services["user_service"].url,
                                      "expense_service": f"http://127.0.0.1:{port}"})

    first = (await api.get("/openapi.json")).json()
    back = await stubs("expense_service", port=port)
    back.openapi = late.openapi

    assert {"/api/auth/login", "/api/auth/register", "/api/users/me", "/.well-known/jwks.json"} <= set(first["paths"])
    assert "/readyz" not in first["paths"]
    assert first["info"]["x-unavailable-services"] == ["expense_service"]

    async def expenses_listed() -> bool:
        return "/api/expenses" in (await api.get("/openapi.json")).json()["paths"]

    await wait_until(expenses_listed, timeout=10, interval=0.5, message="the returning service in /openapi.json")
