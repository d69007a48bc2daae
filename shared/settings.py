"""Base settings every service extends: pydantic-settings, read from environment variables."""

from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development"}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = "development"
    log_level: str = "INFO"

    mongodb_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongodb_db: str | None = None  # defaults to the service name
    mongodb_timeout_ms: int = 2000

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    amqp_exchange: str = "tracker.events"
    amqp_queue_prefix: str = ""  # tests isolate their queues with it
    amqp_prefetch: int = 16
    # Back-off before each redelivery of a failed event; after the last one it is dead-lettered.
    amqp_retry_delays_ms: tuple[int, ...] = (500, 2000, 10000, 30000, 60000)

    jwt_issuer: str = "expense-tracker"
    jwt_audience: str = "expense-tracker-api"
    jwks_url: str | None = "http://127.0.0.1:8001/.well-known/jwks.json"
    jwt_public_key: str | None = None  # PEM; takes precedence over the JWKS URL
    jwks_cache_seconds: int = 300

    max_body_bytes: int = 1_048_576
    outbox_poll_seconds: float = 1.0
    outbox_lease_seconds: float = 15.0
    startup_wait_seconds: float = 10.0  # how long start-up waits for MongoDB and the broker before serving
    idempotency_ttl_hours: float = 24  # how long an Idempotency-Key is remembered (shared.idempotency)

    @property
    def database_name(self) -> str:
        return self.mongodb_db or self.service_name

    @property
    def queue_name(self) -> str:
        return f"{self.amqp_queue_prefix}{self.service_name}"

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> "ServiceSettings":
        if self.environment == "production":
            for name in self.secret_fields():
                value = getattr(self, name)
                if isinstance(value, SecretStr):
                    value = value.get_secret_value()
                if value is None or str(value).strip().lower() in PLACEHOLDER_SECRETS:
                    raise ValueError(f"{name.upper()} must be set to a real secret in production")
            if "guest:guest@" in self.amqp_url:
                raise ValueError("AMQP_URL must not use the guest account in production")
        return self

    def secret_fields(self) -> tuple[str, ...]:
        """Names of fields that must hold a real secret in production; services extend it."""
        return ()
