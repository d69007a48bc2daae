"""RFC 9457 problem+json: the one error shape of every service and of the gateway."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure, ServerSelectionTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("shared.errors")

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Problem(Exception):
    """Raise from service code to answer with a problem+json of this status."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.title, self.type = status, detail, title, type_
        self.errors, self.headers = errors, headers


class NotFound(Problem):
    def __init__(self, what: str = "resource") -> None:
        super().__init__(404, f"{what} not found")


class Conflict(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(409, detail)


def field_problem(field: str, message: str, status: int = 422) -> Problem:
    """A 422 naming one field, for domain rules that pydantic cannot express."""
    return Problem(status, f"{field}: {message}", errors=[{"field": field, "message": message}])


def problem_body(status: int, detail: str, *, instance: str = "", title: str | None = None,
                 type_: str = "about:blank", errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type_, "title": title or TITLES.get(status, "Error"), "status": status,
        "detail": detail, "instance": instance,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(status: int, detail: str, *, instance: str = "", headers: dict[str, str] | None = None,
                     **kwargs: Any) -> JSONResponse:
    return JSONResponse(problem_body(status, detail, instance=instance, **kwargs), status_code=status,
                        media_type=PROBLEM_JSON, headers=headers)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        out.append({"field": _field_name(err.get("loc", ())), "message": err.get("msg", "invalid"),
                    "type": err.get("type", "value_error"), "in": str((err.get("loc") or ["body"])[0])})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, instance=request.url.path, title=exc.title,
                                type_=exc.type, errors=exc.errors, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid request"
        return problem_response(422, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
        return problem_response(exc.status_code, detail, instance=request.url.path,
                                headers=getattr(exc, "headers", None))

    @app.exception_handler(DuplicateKeyError)
    async def _duplicate(request: Request, exc: DuplicateKeyError) -> JSONResponse:
        # A unique index held against a concurrent or repeated write the service did not anticipate.
        return problem_response(409, "that already exists", instance=request.url.path)

    @app.exception_handler(OperationFailure)
    async def _operation_failure(request: Request, exc: OperationFailure) -> JSONResponse:
        if exc.has_error_label("TransientTransactionError"):
            return problem_response(409, "a concurrent change conflicted with this one; try again",
                                    instance=request.url.path, headers={"Retry-After": "1"})
        log.error("database operation failed on %s: %s", request.url.path, exc.code)
        return problem_response(500, "an unexpected error occurred", instance=request.url.path)

    @app.exception_handler(ServerSelectionTimeoutError)
    @app.exception_handler(ConnectionFailure)
    async def _db_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return problem_response(503, "the database is unavailable; try again shortly",
                                instance=request.url.path, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never a stack trace to the client; the log keeps it, tied to the request id.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "an unexpected error occurred", instance=request.url.path)
