"""The signing key: a required secret in production, an ephemeral key (with a warning) in development."""

import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from shared.auth import TokenVerifier
from user_service.keys import KeyRing
from user_service.settings import Settings

PRODUCTION = {"environment": "production", "amqp_url": "amqp://tracker:s3cret@rabbitmq:5672/"}


def private_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize("value", [None, "", "change-me"])
def test_production_refuses_to_start_without_a_real_signing_key(value):
    with pytest.raises(ValidationError, match="JWT_PRIVATE_KEY"):
        Settings(**PRODUCTION, jwt_private_key=value)


def test_development_without_a_key_signs_with_an_ephemeral_one_and_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="user_service.keys"):
        ring = KeyRing.from_settings(Settings(environment="development", jwt_private_key=None))
    assert "ephemeral" in caplog.text
    assert [k["kid"] for k in ring.jwks()["keys"]] == ["key-1"]


async def test_a_one_line_pem_from_an_environment_variable_signs_tokens_its_jwks_verifies():
    key = Ed25519PrivateKey.generate()
    one_line = private_pem(key).strip().replace("\n", "\\n")
    settings = Settings(**PRODUCTION, jwt_private_key=one_line, jwt_key_id="prod-2")
    ring = KeyRing.from_settings(settings)
    token, _ = ring.mint(user_id="u1", issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl_seconds=60)
    [jwk] = ring.jwks()["keys"]
    assert jwk["kid"] == "prod-2" and "d" not in jwk  # never the private part
    verifier = TokenVerifier(settings, static_keys=ring.public_keys())
    assert (await verifier.verify(token)).id == "u1"


def test_a_signing_key_that_is_not_ed25519_is_refused():
    p256 = private_pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(ValueError, match="Ed25519"):
        KeyRing.from_settings(Settings(environment="test", jwt_private_key=p256))
