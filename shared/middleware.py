"""Pure-ASGI middleware shared by every service and the gateway: request id, access log, body limit."""

import json
import logging
import re
import time
import uuid
from collections import Counter
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PROBLEM_JSON, problem_body
from shared.logs import request_id_var

log = logging.getLogger("access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds {limit} bytes")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


async def send_problem(send: Send, status: int, detail: str, *, instance: str,
                       extra_headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(problem_body(status, detail, instance=instance)).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
        *extra_headers]})
    await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: Counter | None = None) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes
        self.metrics = metrics if metrics is not None else Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        token = request_id_var.set(request_id)
        rid_header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500, "sent": False}
        try:
            length = _content_length(scope["headers"])
            if length is not None and length > self.max_body_bytes:
                status["code"] = 413
                await send_problem(send, 413, f"the request body exceeds {self.max_body_bytes} bytes",
                                   instance=scope["path"], extra_headers=[rid_header])
                return
            received = 0

            async def limited_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        raise BodyTooLarge(self.max_body_bytes)
                return message

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status["code"], status["sent"] = message["status"], True
                    message["headers"] = [*message.get("headers", []), rid_header]
                await send(message)

            await self.app(scope, limited_receive, send_with_id)
        finally:
            elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
            self.metrics[(scope["method"], status["code"])] += 1
            self.metrics[("_duration_ms_sum", 0)] += elapsed_ms
            if log.isEnabledFor(logging.INFO):
                log.info("%s %s %s", scope["method"], scope["path"], status["code"], extra={
                    "method": scope["method"], "path": scope["path"], "status": status["code"],
                    "duration_ms": elapsed_ms})
            request_id_var.reset(token)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def render_metrics(service: str, metrics: Counter) -> str:
    lines = ["# TYPE http_requests_total counter"]
    for (method, code), count in sorted(metrics.items(), key=str):
        if method.startswith("_"):
            continue
        lines.append(f'http_requests_total{{service="{service}",method="{method}",status="{code}"}} {count}')
    lines.append("# TYPE http_request_duration_ms_sum counter")
    lines.append(f'http_request_duration_ms_sum{{service="{service}"}} {metrics[("_duration_ms_sum", 0)]}')
    return "\n".join(lines) + "\n"
