"""Gateway settings: the upstreams (from shared.topology), timeouts, rate limits, CORS, body limit."""

from pydantic import BaseModel, ConfigDict, Field

from shared.settings import ServiceSettings
from shared.topology import BACKEND_SERVICES, default_url

PUBLIC_PATHS = (
    "POST /api/auth/register", "POST /api/auth/login", "POST /api/auth/refresh",
    "POST /api/auth/password/forgot", "POST /api/auth/password/reset",
    "POST /api/auth/logout",  # authenticated by the refresh token in its body; works after the access token expired
    "GET /.well-known/jwks.json", "GET /health", "GET /healthz", "GET /readyz", "GET /docs", "GET /openapi.json",
)


class RateRule(BaseModel):
    """At most `per_email` attempts for one email and `per_address` from one client address per window."""

    model_config = ConfigDict(frozen=True)
    path: str
    per_email: int
    per_address: int
    window_seconds: float = 60.0


class Settings(ServiceSettings):
    service_name: str = "gateway"
    amqp_url: str = ""  # the gateway talks to no broker

    # Every backend's base URL; a service missing here answers 503 at the gateway.
    service_urls: dict[str, str] = Field(default_factory=lambda: {name: default_url(name) for name in BACKEND_SERVICES})
    # "METHOD /path" (exact) that pass without an access token; services still decide what they allow.
    public_paths: tuple[str, ...] = PUBLIC_PATHS

    upstream_connect_timeout: float = 2.0
    upstream_read_timeout: float = 30.0  # waiting for the response head, and between body chunks
    upstream_timeouts: dict[str, float] = {}  # per service: read timeout overriding the default
    upstream_keepalive_seconds: float = 4.0  # below uvicorn's 5 s, so an idle upstream never closes under us
    upstream_max_idle: int = 128  # idle keep-alive connections kept per upstream
    upstream_client: str = "native"  # "native" (asyncio protocol + httptools) or "aiohttp"; see bench/gateway.py
    access_log: bool = False  # one INFO line per proxied request (services log each request anyway)

    cors_origins: list[str] = []
    rate_limits: tuple[RateRule, ...] = (
        RateRule(path="/api/auth/login", per_email=10, per_address=30),
        RateRule(path="/api/auth/register", per_email=5, per_address=20),
        RateRule(path="/api/auth/password/forgot", per_email=5, per_address=20),
    )

    health_timeout_seconds: float = 1.5
    openapi_cache_seconds: float = 30.0

    def read_timeout(self, service: str) -> float:
        return self.upstream_timeouts.get(service, self.upstream_read_timeout)
