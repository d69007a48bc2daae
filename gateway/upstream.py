"""The proxy's upstream HTTP/1.1 client: an asyncio protocol with the httptools (llhttp) response parser and a
keep-alive pool per upstream.

Chosen by measurement (bench/gateway.py): a whole proxied request costs a few dozen microseconds of Python here,
against several times that through aiohttp.ClientSession (see gateway/upstream_aiohttp.py, kept as the
measured alternative). It speaks only what the gateway needs: one request at a time per connection, bodies
framed by Content-Length or chunked, responses framed by Content-Length, chunked or connection close.
"""

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httptools

HIGH_WATER = 256 * 1024  # buffered response bytes before reading from the upstream pauses
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE"})


class UpstreamError(Exception):
    status = 502


class UpstreamUnavailable(UpstreamError):
    """Nothing listens there (connection refused, unreachable host)."""

    status = 503


class UpstreamTimeout(UpstreamError):
    status = 504


class UpstreamBroken(UpstreamError):
    """A malformed response, or the connection closed before the response was complete."""

    status = 502


class ClosedBeforeAnswer(UpstreamBroken):
    """Closed before a single byte came back: on a reused keep-alive connection, safe to retry once."""


class Connection(asyncio.Protocol):
    """One keep-alive connection; the proxy drives one exchange at a time on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.keep_alive = False
        self.idle_since = 0.0
        self.reading_paused = False
        self.write_paused = False
        self.drain_waiter: asyncio.Future | None = None
        self.reset(head_only=False)

    def reset(self, *, head_only: bool) -> None:
        self.head_only = head_only
        self.keep_alive = False  # known only once this response is complete
        self.reusable = True  # False when the request went out incomplete
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_done = False
        self.complete = False
        self.until_close = False
        self.informational = False
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.received_any = False
        self.error: UpstreamError | None = None
        self.waiter: asyncio.Future | None = None

    # -- protocol callbacks --------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.fail(UpstreamBroken(f"malformed response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete and self.error is None:
            if self.head_done and self.until_close:
                self.complete = True  # a response framed by closing the connection
            elif self.received_any:
                self.error = UpstreamBroken("the connection closed mid-response")
            else:
                self.error = ClosedBeforeAnswer("the connection closed before any response")
        self.wake()
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    # -- parser callbacks ----------------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:  # 1xx: an interim response, the real one follows
            self.informational, self.headers = True, []
            return
        self.status, self.head_done = status, True
        if self.head_only:
            self.complete = True  # a HEAD response has no body; the connection is not reused after it
        else:
            self.until_close = status not in (204, 304) and not any(
                name in (b"content-length", b"transfer-encoding") for name, _ in self.headers)
        self.wake()

    def on_body(self, body: bytes) -> None:
        if self.head_only:
            return
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self.wake()

    def on_message_complete(self) -> None:
        if self.informational:
            self.informational = False
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive() and not self.head_only
        self.wake()

    # -- used by the proxy ---------------------------------------------------------------------------
    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fail(self, error: UpstreamError) -> None:
        if self.error is None:
            self.error = error
        self.close()
        self.wake()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _timed_out(self, timeout: float) -> None:
        self.fail(UpstreamTimeout(f"no answer within {timeout:g}s"))

    async def _wait(self, timeout: float) -> None:
        self.waiter = self.loop.create_future()
        timer = self.loop.call_later(timeout, self._timed_out, timeout)
        try:
            await self.waiter
        finally:
            timer.cancel()
            self.waiter = None

    def write(self, data: bytes) -> None:
        if self.closed or self.transport is None or self.transport.is_closing():
            raise self.error or ClosedBeforeAnswer("the connection closed before the request was sent")
        self.transport.write(data)

    async def drain(self) -> None:
        if self.write_paused and not self.closed:
            self.drain_waiter = self.loop.create_future()
            await self.drain_waiter
            self.drain_waiter = None

    async def wait_head(self, timeout: float) -> None:
        while not self.head_done and self.error is None:
            await self._wait(timeout)
        if self.error is not None and not self.head_done:
            raise self.error

    async def read_chunk(self, timeout: float) -> bytes | None:
        """The next piece of the body, or None once the response is complete."""
        while True:
            if self.chunks:
                chunks, self.chunks, self.buffered = self.chunks, [], 0
                if self.reading_paused and self.transport is not None:
                    self.reading_paused = False
                    self.transport.resume_reading()
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            if self.complete:
                return None
            if self.error is not None:
                raise self.error
            await self._wait(timeout)

    def take_whole_body(self) -> bytes | None:
        """The complete body when it has already arrived (the usual case for API responses), else None."""
        if not self.complete or self.reading_paused:
            return None
        chunks, self.chunks, self.buffered = self.chunks, [], 0
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class UpstreamPool:
    """Keep-alive connections to one upstream (most recently used first, so the warm ones stay warm)."""

    def __init__(self, url: str, *, connect_timeout: float, keepalive_seconds: float, max_idle: int) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream URL must be http://host[:port], not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.host_header = parts.netloc.encode()
        self.connect_timeout, self.keepalive_seconds, self.max_idle = connect_timeout, keepalive_seconds, max_idle
        self.idle: list[Connection] = []
        self.loop: asyncio.AbstractEventLoop | None = None

    async def acquire(self) -> tuple[Connection, bool]:
        """(connection, reused)."""
        loop = self.loop
        if loop is None:  # asked once: get_running_loop() costs a getpid() system call on every call
            loop = self.loop = asyncio.get_running_loop()
        now = loop.time()
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed and now - conn.idle_since < self.keepalive_seconds:
                return conn, True
            conn.close()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: Connection(loop), self.host, self.port), self.connect_timeout)
        except TimeoutError:
            raise UpstreamTimeout(f"no connection within {self.connect_timeout:g}s") from None
        except OSError as exc:
            raise UpstreamUnavailable(exc.strerror or str(exc)) from None
        return conn, False

    def release(self, conn: Connection) -> None:
        if (conn.complete and conn.keep_alive and conn.reusable and not conn.head_only and not conn.closed
                and not conn.chunks and len(self.idle) < self.max_idle):
            conn.idle_since = conn.loop.time()
            self.idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


class NativeExchange:
    """One request/response on a pooled connection, as the proxy sees it."""

    __slots__ = ("conn", "pool", "read_timeout")

    def __init__(self, pool: UpstreamPool, conn: Connection, read_timeout: float) -> None:
        self.pool, self.conn, self.read_timeout = pool, conn, read_timeout

    @property
    def status(self) -> int:
        return self.conn.status

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return self.conn.headers

    def take_whole_body(self) -> bytes | None:
        return self.conn.take_whole_body()

    def read_chunk(self) -> "asyncio.Future[bytes | None] | object":
        return self.conn.read_chunk(self.read_timeout)

    def finish(self, *, ok: bool) -> None:
        if ok:
            self.pool.release(self.conn)
        else:
            self.conn.close()


class NativeClient:
    def __init__(self, url: str, *, connect_timeout: float, read_timeout: float, keepalive_seconds: float,
                 max_idle: int) -> None:
        self.pool = UpstreamPool(url, connect_timeout=connect_timeout, keepalive_seconds=keepalive_seconds,
                                 max_idle=max_idle)
        self.read_timeout = read_timeout

    async def send(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes | None,
                   stream: AsyncIterator[bytes] | None) -> NativeExchange:
        """Send a request: `body` when it is whole, else `stream` (sent chunked). Returns once the head is in."""
        head = [method, b" ", target, b" HTTP/1.1\r\nhost: ", self.pool.host_header, b"\r\n"]
        for name, value in headers:
            head += (name, b": ", value, b"\r\n")
        if stream is not None:
            head.append(b"transfer-encoding: chunked\r\n\r\n")
        elif body or method not in IDEMPOTENT:
            head += (b"content-length: ", b"%d" % len(body or b""), b"\r\n\r\n")
        else:
            head.append(b"\r\n")
        request_head = b"".join(head)
        retry = stream is None and method in IDEMPOTENT
        while True:
            conn, reused = await self.pool.acquire()
            conn.reset(head_only=method == b"HEAD")
            try:
                if stream is None:
                    conn.write(request_head + body if body and len(body) < 65536 else request_head)
                    if body and len(body) >= 65536:
                        conn.write(body)
                else:
                    conn.write(request_head)
                    async for piece in stream:
                        if conn.head_done:  # answered before the whole body went (its own 413, a 401): stop
                            conn.reusable = False
                            break
                        if piece:
                            conn.write(b"%x\r\n%b\r\n" % (len(piece), piece))
                            await conn.drain()
                    else:
                        conn.write(b"0\r\n\r\n")
                await conn.wait_head(self.read_timeout)
            except ClosedBeforeAnswer:
                conn.close()
                if reused and retry:  # a stale keep-alive connection: the request never reached the upstream
                    retry = False
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            return NativeExchange(self.pool, conn, self.read_timeout)

    async def close(self) -> None:
        self.pool.close()
