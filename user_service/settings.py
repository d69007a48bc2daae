"""user_service settings: the shared base plus the signing key, token lifetimes and password hashing cost."""

from pydantic import Field

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "user_service"

    # PEM of the Ed25519 key that signs access tokens. A secret: required in production; in development and
    # test an ephemeral key is generated when it is missing (tokens then die with the process).
    jwt_private_key: str | None = None
    jwt_key_id: str = "key-1"
    # Key rotation: public keys (kid → PEM) of retired signing keys whose tokens are still accepted and
    # published in the JWKS until those tokens have expired.
    jwt_retired_public_keys: dict[str, str] = Field(default_factory=dict)

    access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    refresh_token_ttl_days: int = Field(default=14, ge=1, le=90)
    # A refresh-token family (one login) ends this long after the login, however often it is rotated.
    refresh_session_max_days: int = Field(default=60, ge=1, le=365)
    password_reset_ttl_seconds: int = Field(default=1800, ge=60, le=86400)

    # Argon2id cost (pwdlib / argon2-cffi defaults: RFC 9106 low-memory profile). Raising them makes
    # verify_and_update re-hash old passwords on the next successful login.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8192)
    argon2_parallelism: int = Field(default=4, ge=1)

    def secret_fields(self) -> tuple[str, ...]:
        return (*super().secret_fields(), "jwt_private_key")
