"""Attacks on user_service directly: forged tokens, identity headers, stolen refresh tokens, login probing,
password-reset tokens, key rotation."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devtools.testing.stack import TEST_KID
from shared.auth import TokenVerifier, mint_access_token
from shared.settings import ServiceSettings
from user_service.context import parts_of
from user_service.service_tokens import request_password_reset
from user_service.tests.conftest import PASSWORD, login, register, sign_up

ISSUER, AUDIENCE = "expense-tracker", "expense-tracker-api"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(user_id: str) -> dict:
    now = int(time.time())
    return {"sub": user_id, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 600,
            "jti": "j1", "typ": "access"}


def unsigned(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def forged_tokens(keys, user_id: str, other_user_id: str) -> dict[str, str]:
    def mint(key=keys.private_key, **kw) -> str:
        args = {"private_key": key, "kid": TEST_KID, "user_id": user_id, "issuer": ISSUER, "audience": AUDIENCE}
        return mint_access_token(**(args | kw))[0]

    hs256_input = unsigned({"alg": "HS256", "typ": "JWT", "kid": TEST_KID}, claims_for(user_id))
    hs256_signature = hmac.new(keys.public_pem.encode(), hs256_input.encode(), hashlib.sha256).digest()
    header, _, signature = mint().split(".")
    tampered_claims = b64(json.dumps(claims_for(other_user_id)).encode())
    return {
        "alg none": unsigned({"alg": "none", "typ": "JWT", "kid": TEST_KID}, claims_for(user_id)) + ".",
        "HS256 keyed with the public key": f"{hs256_input}.{b64(hs256_signature)}",
        "wrong issuer": mint(issuer="someone-else"),
        "wrong audience": mint(audience="another-api"),
        "expired": mint(ttl_seconds=-120),
        "tampered payload": f"{header}.{tampered_claims}.{signature}",
        "another Ed25519 key": mint(key=Ed25519PrivateKey.generate()),
        "not a JWT": "definitely-not-a-token",
    }


async def test_forged_and_invalid_access_tokens_are_refused(api, keys):
    victim = await sign_up(api, "ivy@example.com")
    attacker = await sign_up(api, "jack@example.com")
    assert (await api.get("/api/users/me", headers=victim.auth)).status_code == 200  # the real token works
    for what, token in forged_tokens(keys, attacker.user_id, victim.user_id).items():
        response = await api.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, what
        assert response.headers["content-type"] == "application/problem+json", what
        assert response.headers["www-authenticate"] == "Bearer", what
    refresh_as_access = await api.get("/api/users/me", headers={"Authorization": f"Bearer {victim.refresh_token}"})
    assert refresh_as_access.status_code == 401


async def test_a_client_sent_user_id_header_changes_nothing(api):
    alice = await sign_up(api, "kim@example.com")
    mallory = await sign_up(api, "lee@example.com")
    me = await api.get("/api/users/me", headers={**mallory.auth, "X-User-Id": alice.user_id})
    assert me.json()["id"] == mallory.user_id
    changed = await api.patch("/api/users/me", headers={**mallory.auth, "X-User-Id": alice.user_id},
                              json={"name": "pwned"})
    assert changed.json()["id"] == mallory.user_id
    assert (await api.get("/api/users/me", headers=alice.auth)).json()["name"] == ""
    assert (await api.get("/api/users/me", headers={"X-User-Id": alice.user_id})).status_code == 401


async def test_a_failed_login_does_not_tell_whether_the_email_exists(api):
    await register(api, "max@example.com")
    unknown = await api.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    wrong = await api.post("/api/auth/login", json={"email": "max@example.com", "password": "wrong-password-9"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"]


async def test_refresh_rotates_and_reuse_of_a_rotated_token_revokes_the_family(api):
    account = await sign_up(api, "ned@example.com")
    other_device = await login(api, account.email)

    first = await api.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != account.refresh_token
    assert (await api.get("/api/users/me",
                          headers={"Authorization": f"Bearer {rotated['access_token']}"})).status_code == 200
    second = await api.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert second.status_code == 200
    newest = second.json()["refresh_token"]

    # The first token, already rotated, comes back (a copy was stolen): the whole family dies.
    replay = await api.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert replay.status_code == 401 and replay.headers["content-type"] == "application/problem+json"
    assert (await api.post("/api/auth/refresh", json={"refresh_token": newest})).status_code == 401
    # Another sign-in of the same account is its own family and keeps working.
    assert (await api.post("/api/auth/refresh",
                           json={"refresh_token": other_device["refresh_token"]})).status_code == 200


async def test_logout_revokes_that_sign_in_only(api):
    account = await sign_up(api, "oli@example.com")
    other_device = await login(api, account.email)
    assert (await api.post("/api/auth/logout", json={"refresh_token": account.refresh_token})).status_code == 204
    assert (await api.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})).status_code == 401
    assert (await api.post("/api/auth/refresh",
                           json={"refresh_token": other_device["refresh_token"]})).status_code == 200
    assert (await api.post("/api/auth/logout", json={"refresh_token": "unknown-token"})).status_code == 204


async def test_password_reset_token_is_emitted_only_for_real_accounts_and_works_once(api, stack):
    account = await sign_up(api, "pam@example.com", name="Pam")
    spy = await stack.spy("user.password_reset_requested")
    unknown = await api.post("/api/auth/password/forgot", json={"email": "ghost@example.com"})
    known = await api.post("/api/auth/password/forgot", json={"email": "PAM@example.com"})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    [event] = await spy.wait_for("user.password_reset_requested")  # only the real account's, in order
    assert event["data"]["email"] == "pam@example.com" and event["data"]["name"] == "Pam"
    token = event["data"]["reset_token"]

    new_password = "saffron-bicycle-meadow-3"
    weak = await api.post("/api/auth/password/reset", json={"token": token, "new_password": "password1234"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    used = await api.post("/api/auth/password/reset", json={"token": token, "new_password": new_password})
    assert used.status_code == 204
    again = await api.post("/api/auth/password/reset", json={"token": token, "new_password": "another-pass-99x"})
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "token"

    assert (await api.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})).status_code == 401
    assert (await api.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})).status_code == 401
    await login(api, account.email, new_password)


async def test_an_expired_or_superseded_password_reset_token_is_refused(api, stack):
    account = await sign_up(api, "quinn@example.com")
    parts = parts_of(stack.runtime("user_service"))
    expired = await request_password_reset(parts=parts, email=account.email, lifetime=timedelta(seconds=-1))
    response = await api.post("/api/auth/password/reset", json={"token": expired, "new_password": "lilac-ferry-91x"})
    assert response.status_code == 400

    older = await request_password_reset(parts=parts, email=account.email)
    newer = await request_password_reset(parts=parts, email=account.email)
    assert (await api.post("/api/auth/password/reset",
                           json={"token": older, "new_password": "lilac-ferry-91x"})).status_code == 400
    assert (await api.post("/api/auth/password/reset",
                           json={"token": newer, "new_password": "lilac-ferry-91x"})).status_code == 204
    await login(api, account.email, "lilac-ferry-91x")


async def test_jwks_publishes_the_keys_that_verify_issued_tokens_including_retired_ones(stack, keys):
    retired_key = Ed25519PrivateKey.generate()
    retired_pem = retired_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    urls = await stack.start("user_service", overrides={"user_service": {
        "jwt_retired_public_keys": {"retired-1": retired_pem}}})
    api = stack.client("user_service")
    account = await sign_up(api, "rex@example.com")

    jwks = (await api.get("/.well-known/jwks.json")).json()
    assert {k["kid"] for k in jwks["keys"]} == {TEST_KID, "retired-1"}
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in jwks["keys"])

    # What the gateway and every other service do: verify with the keys fetched from the JWKS.
    verifier = TokenVerifier(ServiceSettings(jwks_url=f"{urls['user_service']}/.well-known/jwks.json"))
    assert (await verifier.verify(account.access_token)).id == account.user_id

    def signed_by_retired(kid: str) -> dict[str, str]:
        token, _ = mint_access_token(private_key=retired_key, kid=kid, user_id=account.user_id, issuer=ISSUER,
                                     audience=AUDIENCE)
        return {"Authorization": f"Bearer {token}"}

    assert (await api.get("/api/users/me", headers=signed_by_retired("retired-1"))).status_code == 200
    assert (await api.get("/api/users/me", headers=signed_by_retired(TEST_KID))).status_code == 401


async def test_two_simultaneous_refreshes_with_one_token_cannot_both_win(api):
    account = await sign_up(api, "sid@example.com")
    body = {"refresh_token": account.refresh_token}
    first, second = await asyncio.gather(api.post("/api/auth/refresh", json=body),
                                         api.post("/api/auth/refresh", json=body))
    statuses = sorted([first.status_code, second.status_code])
    assert statuses in ([200, 401], [401, 401]), statuses
    # Whoever lost presented a token that was already rotated: the family is gone, the winner's token too.
    for response in (first, second):
        if response.status_code == 200:
            again = await api.post("/api/auth/refresh", json={"refresh_token": response.json()["refresh_token"]})
            assert again.status_code == 401
