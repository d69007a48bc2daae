"""Access-token verification (pure logic, a static key: no HTTP)."""

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import InvalidToken, TokenVerifier, mint_access_token
from shared.settings import ServiceSettings

KEY = Ed25519PrivateKey.generate()
SETTINGS = ServiceSettings()


def verifier() -> TokenVerifier:
    return TokenVerifier(SETTINGS, static_keys={"k1": KEY.public_key()})


def token(user_id: str = "u1", ttl: int = 900, key: Ed25519PrivateKey = KEY, kid: str = "k1") -> str:
    return mint_access_token(private_key=key, kid=kid, user_id=user_id, issuer=SETTINGS.jwt_issuer,
                             audience=SETTINGS.jwt_audience, ttl_seconds=ttl)[0]


async def test_a_valid_token_names_its_user_and_a_forged_one_is_refused():
    check = verifier()
    assert (await check.verify(token("alice"))).id == "alice"
    with pytest.raises(InvalidToken):
        await check.verify(token("mallory", key=Ed25519PrivateKey.generate()))
    with pytest.raises(InvalidToken):
        await check.verify(token(ttl=-60))  # expired beyond the 5 s leeway


async def test_a_refused_token_is_remembered_so_replaying_it_skips_the_signature_check(monkeypatch):
    check = verifier()
    expired = token(ttl=-60)
    checked: list[str] = []
    real = check._verify_signature

    async def counting(raw: str):
        checked.append(raw)
        return await real(raw)

    monkeypatch.setattr(check, "_verify_signature", counting)
    for _ in range(5):
        with pytest.raises(InvalidToken):
            await check.verify(expired)
    assert len(checked) == 1


async def test_a_token_signed_by_a_key_not_yet_known_is_not_remembered_as_refused():
    check = verifier()
    rotated = Ed25519PrivateKey.generate()
    fresh = token(key=rotated, kid="k2")
    with pytest.raises(InvalidToken):
        await check.verify(fresh)
    check.set_keys({"k1": KEY.public_key(), "k2": rotated.public_key()})  # the JWKS now lists the new key
    assert (await check.verify(fresh)).expires_at > time.time()
