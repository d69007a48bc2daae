"""The measured alternative upstream client: aiohttp.ClientSession with a tuned keep-alive connector.

Not the default (settings.upstream_client = "native" is): bench/gateway.py runs both so the choice can be
re-checked on any machine. Same interface as gateway.upstream.NativeClient.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable

import aiohttp
from yarl import URL

from gateway.upstream import UpstreamBroken, UpstreamTimeout, UpstreamUnavailable


class AiohttpExchange:
    __slots__ = ("headers", "read_timeout", "response", "status")

    def __init__(self, response: aiohttp.ClientResponse, read_timeout: float) -> None:
        self.response, self.read_timeout = response, read_timeout
        self.status = response.status
        self.headers = [(name.lower(), value) for name, value in response.raw_headers]

    def take_whole_body(self) -> bytes | None:
        return None

    def read_chunk(self) -> Awaitable[bytes | None]:
        return self._read()

    async def _read(self) -> bytes | None:
        try:
            data = await asyncio.wait_for(self.response.content.readany(), self.read_timeout)
        except TimeoutError:
            raise UpstreamTimeout(f"no answer within {self.read_timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise UpstreamBroken(str(exc)) from None
        return data or None

    def finish(self, *, ok: bool) -> None:
        if ok:
            self.response.release()
        else:
            self.response.close()


class AiohttpClient:
    def __init__(self, url: str, *, connect_timeout: float, read_timeout: float, keepalive_seconds: float,
                 max_idle: int) -> None:
        self.base = url.rstrip("/")
        self.read_timeout = read_timeout
        self.timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout)
        self.connector_options = {"limit": 0, "keepalive_timeout": keepalive_seconds, "ttl_dns_cache": 300}
        self.session: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(**self.connector_options), timeout=self.timeout,
                auto_decompress=False, skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
                cookie_jar=aiohttp.DummyCookieJar())
        return self.session

    async def send(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes | None,
                   stream: AsyncIterator[bytes] | None) -> AiohttpExchange:
        try:
            response = await self._session().request(
                method.decode(), URL(self.base + target.decode("latin-1"), encoded=True),
                headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
                data=stream if stream is not None else body, allow_redirects=False)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise UpstreamTimeout(f"no answer within {self.read_timeout:g}s") from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamUnavailable(str(exc)) from None
        except aiohttp.ClientError as exc:
            raise UpstreamBroken(str(exc)) from None
        return AiohttpExchange(response, self.read_timeout)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
