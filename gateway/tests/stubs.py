"""Stub upstreams for the gateway's tests: real HTTP servers (uvicorn on their own sockets) that record what
reaches them and answer by path: an echo, a slow answer, a streamed answer, a big answer, /readyz, /openapi.json."""

import asyncio
import contextlib
import hashlib
import json
import socket
from typing import Any

import uvicorn

from devtools.testing.waiting import wait_until


class StubUpstream:
    def __init__(self, name: str, *, port: int = 0) -> None:
        self.name, self.port = name, port
        self.requests: list[dict[str, Any]] = []  # every request that arrived whole
        self.ready = True
        self.openapi: dict[str, Any] | None = None
        self.release = asyncio.Event()  # lets the /slow answers finish
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def app(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"].endswith("/early"):  # answers without reading the body, as a service's own 413 would
            await self._json(send, 413, {"detail": "too large for me"})
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the request never arrived whole
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        if path == "/readyz":
            status = 200 if self.ready else 503
            await self._json(send, status, {"status": "ready" if self.ready else "unavailable",
                                            "checks": {"mongodb": self.ready}})
            return
        if path == "/openapi.json" and self.openapi is not None:
            await self._json(send, 200, self.openapi)
            return
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
        self.requests.append({"method": scope["method"], "path": path, "query": scope["query_string"].decode(),
                              "headers": headers, "body": body})
        if path.endswith("/slow"):
            await self.release.wait()
        if path.endswith("/stream"):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            for i in range(5):
                await send({"type": "http.response.body", "body": f"part {i};".encode(), "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if path.endswith("/big"):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/octet-stream")]})
            for i in range(64):
                await send({"type": "http.response.body", "body": bytes([i]) * 65536, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        await self._json(send, 200, {
            "service": self.name, "method": scope["method"], "path": path, "query": scope["query_string"].decode(),
            "headers": dict(headers), "body_length": len(body), "body_sha256": hashlib.sha256(body).hexdigest()},
            extra=[(b"x-upstream", self.name.encode()), (b"server", b"stub"), (b"x-request-id", b"upstream-own-id")])

    @staticmethod
    async def _json(send: Any, status: int, payload: Any, extra: list[tuple[bytes, bytes]] = ()) -> None:
        body = json.dumps(payload).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})

    async def start(self) -> "StubUpstream":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, interface="asgi3", lifespan="on", log_level="warning", access_log=False,
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.task = asyncio.ensure_future(self.server.serve(sockets=[sock]))
        await wait_until(lambda: self.server.started or self.task.done(), message=f"stub {self.name} to start")
        return self

    async def stop(self) -> None:
        self.release.set()
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 5)
        self.server = self.task = None


class BrokenUpstream:
    """Answers every request with bytes that are not HTTP."""

    def __init__(self) -> None:
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"THIS IS NOT HTTP\r\n\r\n")
        await writer.drain()
        writer.close()

    async def start(self) -> "BrokenUpstream":
        self.server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
