"""The API gateway: a pure-ASGI proxy for every routed prefix, a small FastAPI app for everything else
(/health, /healthz, /readyz, /docs, /openapi.json, /metrics), CORS around both.

Not a Mongo service: it builds its own app rather than shared.app.create_service_app. Run it with
`uvicorn --factory gateway.main:create_app --loop uvloop --http httptools`.
"""

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.docs import MergedOpenAPI
from gateway.health import roll_up
from gateway.proxy import Proxy
from gateway.routing import RouteTable
from gateway.settings import Settings
from gateway.upstream import NativeClient
from shared.auth import TokenVerifier
from shared.errors import install_error_handlers
from shared.logs import configure_logging
from shared.middleware import RequestContextMiddleware, render_metrics
from shared.topology import SERVICES

EXPOSED_HEADERS = ["X-Request-ID", "Retry-After", "Location", "WWW-Authenticate", "Content-Disposition"]


def upstream_clients(settings: Settings) -> dict[str, Any]:
    """One keep-alive client per routed service that has a URL."""
    if settings.upstream_client == "aiohttp":
        from gateway.upstream_aiohttp import AiohttpClient as client_class
    else:
        client_class = NativeClient
    return {
        name: client_class(url, connect_timeout=settings.upstream_connect_timeout,
                           read_timeout=settings.read_timeout(name),
                           keepalive_seconds=settings.upstream_keepalive_seconds, max_idle=settings.upstream_max_idle)
        for name, url in settings.service_urls.items() if name in SERVICES and SERVICES[name].prefixes
    }


class GatewayApp:
    """The ASGI entry point: routed paths go straight to the proxy, the rest to the FastAPI app."""

    def __init__(self, api: FastAPI, routes: RouteTable, proxy: Proxy, cors_origins: list[str]) -> None:
        self.api, self.routes, self.proxy = api, routes, proxy
        self.state = api.state
        self.entry: ASGIApp = self.dispatch
        if cors_origins:
            self.entry = CORSMiddleware(
                self.dispatch, allow_origins=cors_origins, allow_credentials=False, max_age=600,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key", "Accept"],
                expose_headers=EXPOSED_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.entry(scope, receive, send)

    async def dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            service = self.routes.match(scope["path"])
            if service is not None:
                await self.proxy(scope, receive, send, service)
                return
        await self.api(scope, receive, send)


def create_app(settings: Settings | None = None) -> GatewayApp:
    settings = settings or Settings()
    configure_logging(settings.service_name, settings.log_level)
    verifier = TokenVerifier(settings)
    clients = upstream_clients(settings)
    backends = {name: settings.service_urls[name] for name in clients}
    metrics: Counter = Counter()
    light = httpx.AsyncClient(timeout=settings.health_timeout_seconds)  # /health, /docs: light calls

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for client in clients.values():
                await client.close()
            await light.aclose()

    api = FastAPI(title="API gateway", version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    api.state.settings, api.state.metrics, api.state.verifier = settings, metrics, verifier
    install_error_handlers(api)
    api.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    openapi = MergedOpenAPI(light, backends, cache_seconds=settings.openapi_cache_seconds,
                            timeout=settings.health_timeout_seconds)

    @api.get("/health", tags=["gateway"])
    async def health() -> JSONResponse:
        ready, body = await roll_up(light, backends, settings.health_timeout_seconds)
        return JSONResponse(body, status_code=200 if ready else 503)

    @api.get("/healthz", tags=["gateway"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", tags=["gateway"])
    async def readyz() -> JSONResponse:
        keys = await signing_keys_available(light, settings)
        return JSONResponse({"status": "ready" if keys else "unavailable", "checks": {"jwks": keys}},
                            status_code=200 if keys else 503)

    @api.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> JSONResponse:
        return JSONResponse(await openapi.document())

    @api.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Expense tracker API",
                                   swagger_ui_parameters={"persistAuthorization": True})

    @api.get("/metrics", include_in_schema=False)
    async def metrics_text(request: Request) -> PlainTextResponse:
        return PlainTextResponse(render_metrics("gateway", metrics))

    proxy = Proxy(settings, routes=RouteTable(), clients=clients, verifier=verifier, metrics=metrics)
    return GatewayApp(api, proxy.routes, proxy, settings.cors_origins)


async def signing_keys_available(client: httpx.AsyncClient, settings: Settings) -> bool:
    """The gateway is ready when it can verify tokens: a configured key, or a JWKS that answers with keys."""
    if settings.jwt_public_key:
        return True
    if not settings.jwks_url:
        return False
    try:
        response = await client.get(settings.jwks_url)
        return response.status_code == 200 and bool(response.json().get("keys"))
    except (httpx.HTTPError, ValueError, AttributeError):
        return False
