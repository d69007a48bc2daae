"""Access-token verification: EdDSA (Ed25519) JWTs from user_service, keys from its JWKS (cached, rotated).

Explicit algorithm allow-list, required exp/iat/sub/iss/aud: `alg: none`, HS256-with-the-public-key,
a foreign key, a tampered payload, an expired token, a wrong issuer or audience are all refused.
"""

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from shared.errors import Problem
from shared.settings import ServiceSettings

log = logging.getLogger("shared.auth")

ALGORITHMS = ["EdDSA"]
REFETCH_MIN_INTERVAL = 10.0
REFUSAL_MEMORY_SECONDS = 30.0
UNKNOWN_KEY = "unknown signing key"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class AuthenticatedUser:
    id: str
    token_id: str
    expires_at: int


def public_key_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    key = jwt.PyJWK.from_dict(jwk, algorithm="EdDSA").key
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidToken("not an Ed25519 key")
    return key


class TokenVerifier:
    """Verifies access tokens against a static key or a JWKS URL (refetched for an unknown `kid`)."""

    def __init__(self, settings: ServiceSettings, *, static_keys: dict[str, Ed25519PublicKey] | None = None,
                 cache_size: int = 10_000) -> None:
        self.issuer, self.audience = settings.jwt_issuer, settings.jwt_audience
        self.jwks_url = settings.jwks_url
        self.cache_seconds = settings.jwks_cache_seconds
        self._keys: dict[str, Ed25519PublicKey] = dict(static_keys or {})
        self._static = static_keys is not None
        self._single: Ed25519PublicKey | None = None
        if settings.jwt_public_key:
            key = load_pem_public_key(settings.jwt_public_key.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("JWT_PUBLIC_KEY must be an Ed25519 public key")
            self._single, self._static = key, True
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        # Verified tokens, until they expire: the gateway sees the same token many times a second.
        self._verified: OrderedDict[str, AuthenticatedUser] = OrderedDict()
        # Refused tokens, briefly: a client replaying one expired or junk token costs a lookup, not a signature check.
        self._refused: OrderedDict[str, float] = OrderedDict()
        self._cache_size = cache_size

    def set_keys(self, keys: dict[str, Ed25519PublicKey]) -> None:
        self._keys = dict(keys)

    @property
    def has_keys(self) -> bool:
        """Whether any verification key is known: False while the JWKS could never be fetched, when a refusal
        means "cannot check right now" (503) rather than "bad token" (401)."""
        return self._single is not None or bool(self._keys)

    async def _refresh(self, *, force: bool) -> None:
        if self._static or not self.jwks_url:
            return
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if (force and age < REFETCH_MIN_INTERVAL) or (not force and age < self.cache_seconds):
                return
            try:
                async with httpx.AsyncClient(timeout=3.0) as client:
                    response = await client.get(self.jwks_url)
                    response.raise_for_status()
                keys = {}
                for jwk in response.json().get("keys", []):
                    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid"):
                        keys[jwk["kid"]] = public_key_from_jwk(jwk)
                self._keys = keys
                self._fetched_at = time.monotonic()
            except (httpx.HTTPError, ValueError, json.JSONDecodeError) as exc:
                log.warning("could not fetch JWKS from %s: %s", self.jwks_url, exc)
                self._fetched_at = time.monotonic() - self.cache_seconds + REFETCH_MIN_INTERVAL

    async def _key_for(self, kid: str | None) -> Ed25519PublicKey:
        if self._single is not None:
            return self._single
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)  # key rotation: a new kid appears in the JWKS
        key = self._keys.get(kid or "")
        if key is None:
            raise InvalidToken(UNKNOWN_KEY)
        return key

    async def verify(self, token: str) -> AuthenticatedUser:
        now = time.time()
        cached = self._verified.get(token)
        if cached is not None:
            if cached.expires_at > now:
                return cached
            self._verified.pop(token, None)
        refused_until = self._refused.get(token)
        if refused_until is not None and refused_until > now:
            raise InvalidToken("refused")
        try:
            return self._remember(token, await self._verify_signature(token))
        except InvalidToken as exc:
            if str(exc) != UNKNOWN_KEY:  # a key not fetched yet may appear in the JWKS: don't remember that
                self._refused[token] = now + REFUSAL_MEMORY_SECONDS
                if len(self._refused) > self._cache_size:
                    self._refused.popitem(last=False)
            raise

    def _remember(self, token: str, user: AuthenticatedUser) -> AuthenticatedUser:
        self._verified[token] = user
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return user

    async def _verify_signature(self, token: str) -> AuthenticatedUser:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") not in ALGORITHMS:
                raise InvalidToken("algorithm not allowed")
            key = await self._key_for(header.get("kid"))
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, issuer=self.issuer, audience=self.audience,
                                options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]}, leeway=5)
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        if claims.get("typ", "access") != "access" or not isinstance(claims["sub"], str):
            raise InvalidToken("not an access token")
        return AuthenticatedUser(id=claims["sub"], token_id=str(claims["jti"]), expires_at=int(claims["exp"]))


def mint_access_token(*, private_key: Ed25519PrivateKey, kid: str, user_id: str, issuer: str, audience: str,
                      ttl_seconds: int = 900) -> tuple[str, int]:
    """Sign an access token (user_service issues them; tests mint them the same way). Returns (token, exp)."""
    now = int(time.time())
    exp = now + ttl_seconds
    claims = {"sub": user_id, "iss": issuer, "aud": audience, "iat": now, "nbf": now, "exp": exp,
              "jti": uuid.uuid4().hex, "typ": "access"}
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers={"kid": kid}), exp


# tokenUrl lets /docs authorize with the OAuth2 password form that user_service's login accepts.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/login", auto_error=False)


def unauthorized(detail: str = "a valid access token is required") -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def current_user(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> AuthenticatedUser:
    """The caller, from the verified token only: never from a header, query string or body."""
    if not token:
        raise unauthorized()
    verifier: TokenVerifier = request.app.state.runtime.verifier
    try:
        return await verifier.verify(token)
    except InvalidToken:
        raise unauthorized("the access token is invalid or expired") from None


CurrentUser = Annotated[AuthenticatedUser, Depends(current_user)]
