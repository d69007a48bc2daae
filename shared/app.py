"""The common FastAPI factory every service is built with."""

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from beanie import Document
from beanie.exceptions import CollectionWasNotInitialized
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from shared.auth import TokenVerifier
from shared.consumer import EventHandlers
from shared.errors import install_error_handlers, problem_response
from shared.logs import configure_logging
from shared.middleware import RequestContextMiddleware, render_metrics
from shared.runtime import Runtime, Task
from shared.settings import ServiceSettings


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Ready: MongoDB and the broker reachable")
    async def readyz(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.readiness()
        ready = all(checks.values())
        return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                            status_code=200 if ready else 503)

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> PlainTextResponse:
        return PlainTextResponse(render_metrics(request.app.title, request.app.state.metrics))

    return router


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    models: Sequence[type[Document]] = (),
    handlers: EventHandlers | None = None,
    tasks: Sequence[Task] = (),
    on_start: Sequence[Task] = (),
    verifier: TokenVerifier | None = None,
    publishes: bool = True,
) -> FastAPI:
    """A service app: lifespan opening Mongo/Beanie, the bus, outbox relay and consumers; problem+json errors;
    request ids and JSON logs; /healthz, /readyz, /metrics."""
    configure_logging(settings.service_name, settings.log_level)
    runtime = Runtime(settings, models=models, handlers=handlers, tasks=tasks, on_start=on_start,
                      verifier=verifier, publishes=publishes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, version="1.0.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.metrics = Counter()
    install_error_handlers(app)

    @app.exception_handler(CollectionWasNotInitialized)
    async def _not_ready(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(503, "the service is starting; its database is not ready yet",
                                instance=request.url.path, headers={"Retry-After": "2"})

    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes,
                       metrics=app.state.metrics)
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    return app
