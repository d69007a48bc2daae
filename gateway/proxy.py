"""The proxy hot path, pure ASGI: route by prefix, verify the token, rate-limit credential endpoints, rewrite
headers, stream the request and the response, turn upstream failures into fast problem+json."""

import itertools
import logging
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from starlette.types import Receive, Scope, Send

from gateway.ratelimit import MAX_PARSED_BODY, RateLimiter, emails_from_body
from gateway.routing import RouteTable
from gateway.settings import Settings
from gateway.upstream import UpstreamError
from shared.auth import InvalidToken, TokenVerifier
from shared.middleware import request_id_from, send_problem

log = logging.getLogger("gateway.proxy")

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding",
                        b"upgrade", b"proxy-authorization", b"proxy-authenticate"})
# Never forwarded from the client: framing we redo, ids and forwarding facts we set ourselves.
REQUEST_DROP = HOP_BY_HOP | {b"host", b"content-length", b"expect", b"x-request-id", b"forwarded", b"x-real-ip"}
# Identity must come from the verified token only, so anything a client could pass off as one is dropped
# (with every client X-Forwarded-*: the gateway sets For/Proto/Host itself).
IDENTITY_PREFIXES = (b"x-user", b"x-authenticated", b"x-auth-", b"x-forwarded-", b"x-remote-", b"remote-user",
                     b"x-original-user", b"x-consumer-", b"x-jwt", b"x-identity", b"x-impersonat", b"x-on-behalf")
# uvicorn adds its own date/server; the request id is ours.
RESPONSE_DROP = HOP_BY_HOP | {b"date", b"server", b"x-request-id"}
BEARER = b"bearer "


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


class Proxy:
    def __init__(self, settings: Settings, *, routes: RouteTable, clients: dict[str, Any],
                 verifier: TokenVerifier, metrics: Counter) -> None:
        self.routes, self.clients, self.verifier, self.metrics = routes, clients, verifier, metrics
        self.max_body = settings.max_body_bytes
        self.public = frozenset(tuple(entry.split(" ", 1)) for entry in settings.public_paths)
        self.limiter = RateLimiter(settings.rate_limits)
        self.access_log = settings.access_log
        # Request ids need to be unique, not secret: a random per-process prefix and a counter cost nothing.
        self._id_prefix, self._id_counter = secrets.token_hex(6), itertools.count(1)

    def _new_request_id(self) -> str:
        return f"{self._id_prefix}{next(self._id_counter):08x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service: str) -> None:
        started = time.perf_counter() if self.access_log else 0.0
        status = await self._handle(scope, receive, send, service)
        self.metrics[(scope["method"], status)] += 1
        if self.access_log:
            log.info("%s %s %s", scope["method"], scope["path"], status, extra={
                "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)})

    async def _handle(self, scope: Scope, receive: Receive, send: Send, service: str) -> int:
        path, method = scope["path"], scope["method"]
        authorization = content_type = client_host = None
        content_length = -1
        forward: list[tuple[bytes, bytes]] = []
        connection_tokens: bytes | None = None
        client_request_id = False
        for name, value in scope["headers"]:
            if name in REQUEST_DROP or name.startswith(IDENTITY_PREFIXES):
                if name == b"x-request-id":
                    client_request_id = True
                elif name == b"host":
                    client_host = value
                elif name == b"content-length":
                    content_length = int(value) if value.isdigit() else -1
                elif name == b"connection":
                    connection_tokens = value
                continue
            if name == b"authorization":
                authorization = value
            elif name == b"content-type" and content_type is None:  # the first, as the services read it
                content_type = value
            forward.append((name, value))
        if connection_tokens:  # headers the client marked hop-by-hop go no further either
            named = {token.strip().lower() for token in connection_tokens.split(b",")}
            forward = [(n, v) for n, v in forward if n not in named]
        request_id = (request_id_from(scope["headers"]) if client_request_id else self._new_request_id()).encode()
        id_header = (b"x-request-id", request_id)
        client = scope.get("client")
        address = client[0] if client else "unknown"
        forward += ((b"x-request-id", request_id), (b"x-forwarded-for", address.encode()),
                    (b"x-forwarded-proto", scope["scheme"].encode()))
        if client_host:
            forward.append((b"x-forwarded-host", client_host))

        # No `Connection: close` on a 413: uvicorn then reads and discards the rest of the body, so the client
        # finishes sending and reads the answer, instead of meeting a reset connection mid-upload.
        if content_length > self.max_body:
            return await self._problem(send, 413, f"the request body exceeds {self.max_body} bytes", path, id_header)
        if (method, path) not in self.public:
            if authorization is None or authorization[:7].lower() != BEARER:
                return await self._problem(send, 401, "a valid access token is required", path, id_header,
                                           (b"www-authenticate", b"Bearer"))
            try:
                await self.verifier.verify(authorization[7:].strip().decode("latin-1"))
            except (InvalidToken, UnicodeError):
                if not self.verifier.has_keys:  # user_service's JWKS never answered: no token can be checked
                    return await self._problem(send, 503, "access tokens cannot be verified right now; try again "
                                               "shortly", path, id_header, (b"retry-after", b"10"))
                return await self._problem(send, 401, "the access token is invalid or expired", path, id_header,
                                           (b"www-authenticate", b"Bearer"))

        message = await receive()
        if message["type"] == "http.disconnect":
            return 499
        body: bytes = message.get("body", b"")
        stream: AsyncIterator[bytes] | None = None
        rule_path = path if method == "POST" and path in self.limiter.rules else None
        try:
            if message.get("more_body"):
                if rule_path is not None:  # credential bodies are read whole: the email decides the limit
                    body = b"".join([piece async for piece in self._rest_of_body(body, receive)])
                else:
                    stream = self._rest_of_body(body, receive)
                    body = b""
            elif len(body) > self.max_body:
                raise BodyTooLarge
            if rule_path is not None:
                if len(body) > MAX_PARSED_BODY:
                    return await self._problem(send, 413, f"a credential request is at most {MAX_PARSED_BODY} bytes",
                                               path, id_header)
                emails = emails_from_body(body, content_type or b"")
                if len(emails) > 1:
                    return await self._problem(send, 400, "the request names more than one account", path,
                                               id_header)
                retry_after = self.limiter.attempt(rule_path, address=address, now=time.monotonic(),
                                                   email=next(iter(emails), None))
                if retry_after:
                    return await self._problem(send, 429, "too many attempts; try again later", path, id_header,
                                               (b"retry-after", str(retry_after).encode()))

            upstream = self.clients.get(service)
            if upstream is None:
                return await self._problem(send, 503, f"the {service} is not configured at the gateway", path,
                                           id_header)
            target = scope.get("raw_path") or path.encode()
            if scope["query_string"]:
                target += b"?" + scope["query_string"]
            exchange = await upstream.send(method.encode(), target, forward, body, stream)
        except BodyTooLarge:
            return await self._problem(send, 413, f"the request body exceeds {self.max_body} bytes", path, id_header)
        except ClientGone:
            return 499
        except UpstreamError as exc:
            log.warning("upstream %s failed: %s: %s", service, type(exc).__name__, exc)
            extra = [(b"retry-after", b"5")] if exc.status == 503 else []
            return await self._problem(send, exc.status, _upstream_detail(service, exc), path, id_header, *extra)
        return await self._respond(send, exchange, id_header, service)

    async def _respond(self, send: Send, exchange: Any, id_header: tuple[bytes, bytes], service: str) -> int:
        headers = [(name, value) for name, value in exchange.headers if name not in RESPONSE_DROP]
        headers.append(id_header)
        status = exchange.status
        body = exchange.take_whole_body()
        ok = False
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            if body is not None:
                await send({"type": "http.response.body", "body": body})
            else:
                while (chunk := await exchange.read_chunk()) is not None:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
            ok = True
        except UpstreamError as exc:
            # The head is already out: all that is left is to cut the response short, so the client sees it.
            log.warning("upstream %s failed mid-response: %s", service, exc)
        finally:
            exchange.finish(ok=ok)
        return status

    async def _rest_of_body(self, first: bytes, receive: Receive) -> AsyncIterator[bytes]:
        received = len(first)
        if received > self.max_body:
            raise BodyTooLarge
        if first:
            yield first
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body:
                raise BodyTooLarge
            if chunk:
                yield chunk
            if not message.get("more_body"):
                return

    @staticmethod
    async def _problem(send: Send, status: int, detail: str, path: str, *headers: tuple[bytes, bytes]) -> int:
        await send_problem(send, status, detail, instance=path, extra_headers=list(headers))
        return status


def _upstream_detail(service: str, exc: UpstreamError) -> str:
    if exc.status == 503:
        return f"the {service} is unavailable; try again shortly"
    if exc.status == 504:
        return f"the {service} did not answer in time ({exc})"
    return f"the {service} sent no valid response"

