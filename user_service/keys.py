"""The signing key ring: the current Ed25519 private key and the retired public keys still trusted (rotation)."""

import logging
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from jwt.algorithms import OKPAlgorithm

from shared.auth import mint_access_token
from user_service.settings import Settings

log = logging.getLogger("user_service.keys")


def _pem(text: str) -> bytes:
    # Environment variables often carry a PEM on one line with literal "\n".
    return text.strip().replace("\\n", "\n").encode()


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = load_pem_private_key(_pem(pem), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("JWT_PRIVATE_KEY must be an Ed25519 private key (PEM)")
    return key


def load_public_key(pem: str) -> Ed25519PublicKey:
    key = load_pem_public_key(_pem(pem))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("retired JWT keys must be Ed25519 public keys (PEM)")
    return key


@dataclass(frozen=True)
class KeyRing:
    signing_key: Ed25519PrivateKey
    kid: str
    retired: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> "KeyRing":
        if settings.jwt_private_key:
            signing_key = load_private_key(settings.jwt_private_key)
        elif settings.environment == "production":  # the settings validator refuses this already
            raise ValueError("JWT_PRIVATE_KEY must be set in production")
        else:
            log.warning("JWT_PRIVATE_KEY is not set: signing with an ephemeral key; tokens will not survive "
                        "a restart and other processes cannot share it")
            signing_key = Ed25519PrivateKey.generate()
        retired = {kid: load_public_key(pem) for kid, pem in settings.jwt_retired_public_keys.items()
                   if kid != settings.jwt_key_id}
        return cls(signing_key=signing_key, kid=settings.jwt_key_id, retired=retired)

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key a token may be verified with: the current one and the retired ones."""
        return {**self.retired, self.kid: self.signing_key.public_key()}

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        keys = []
        for kid, key in self.public_keys().items():
            jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})
        return {"keys": keys}

    def mint(self, *, user_id: str, issuer: str, audience: str, ttl_seconds: int) -> tuple[str, int]:
        return mint_access_token(private_key=self.signing_key, kid=self.kid, user_id=user_id, issuer=issuer,
                                 audience=audience, ttl_seconds=ttl_seconds)
