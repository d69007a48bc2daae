"""The gateway refuses every kind of bad access token itself, before any upstream is touched."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devtools.testing.stack import TEST_KID
from gateway.tests.conftest import start_gateway
from shared.auth import mint_access_token


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**changes: object) -> dict:
    now = int(time.time())
    return {"sub": "user-1", "iss": "expense-tracker", "aud": "expense-tracker-api", "iat": now, "nbf": now,
            "exp": now + 600, "jti": "j1", "typ": "access", **changes}


def unsigned(header: dict, payload: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"


def bad_tokens(stack) -> dict[str, str]:
    good = stack.token_for("user-1")
    head, _payload, signature = good.split(".")
    hs256 = unsigned({"alg": "HS256", "typ": "JWT", "kid": TEST_KID}, claims())
    mac = hmac.new(stack.keys.public_pem.encode(), hs256.encode(), hashlib.sha256).digest()

    def minted(key=stack.keys.private_key, **kwargs) -> str:
        options = {"issuer": "expense-tracker", "audience": "expense-tracker-api", **kwargs}
        return mint_access_token(private_key=key, kid=TEST_KID, user_id="user-1", **options)[0]

    return {
        "alg none": unsigned({"alg": "none", "typ": "JWT"}, claims()) + ".",
        "HS256 signed with the public key": f"{hs256}.{b64(mac)}",
        "wrong issuer": minted(issuer="someone-else"),
        "wrong audience": minted(audience="another-api"),
        "expired": minted(ttl_seconds=-120),
        "tampered payload": f"{head}.{b64(json.dumps(claims(sub='admin')).encode())}.{signature}",
        "foreign key": minted(key=Ed25519PrivateKey.generate()),
        "garbage": "not-a-jwt",
    }


KINDS = ["alg none", "HS256 signed with the public key", "wrong issuer", "wrong audience", "expired",
         "tampered payload", "foreign key", "garbage"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_bad_token_is_refused_with_401_and_no_upstream_sees_the_request(stack, stubs, kind):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})

    response = await api.get("/api/users/me", headers={"Authorization": f"Bearer {bad_tokens(stack)[kind]}"})

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "the access token is invalid or expired"
    assert users.requests == []


async def test_a_missing_or_non_bearer_authorization_is_refused_without_reaching_a_service(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})

    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"},
                    {"Authorization": f"Token {stack.token_for('user-1')}"}):
        response = await api.get("/api/users/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["status"] == 401
    assert users.requests == []


async def test_a_valid_token_passes_and_the_scheme_is_case_insensitive(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})

    response = await api.get("/api/users/me", headers={"Authorization": f"bearer {stack.token_for('user-1')}"})

    assert response.status_code == 200
    assert len(users.requests) == 1


async def test_credential_endpoints_and_the_jwks_are_reachable_without_a_token(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})
    public = [("POST", "/api/auth/register"), ("POST", "/api/auth/login"), ("POST", "/api/auth/refresh"),
              ("POST", "/api/auth/password/forgot"), ("POST", "/api/auth/password/reset"),
              ("POST", "/api/auth/logout"), ("GET", "/.well-known/jwks.json")]

    for method, path in public:
        response = await api.request(method, path, json={"email": "a@example.com"} if method == "POST" else None)
        assert response.status_code == 200, (method, path)
    assert [(r["method"], r["path"]) for r in users.requests] == public
    # The same paths with another method, and every other auth path, still need a token.
    for method, path in (("GET", "/api/auth/login"), ("PATCH", "/api/users/me")):
        assert (await api.request(method, path)).status_code == 401


async def test_while_the_key_set_cannot_be_fetched_tokens_get_503_not_a_misleading_401(stack, stubs):
    users = await stubs("user_service")
    jwks = await stubs("user_service")
    await jwks.stop()  # user_service's JWKS does not answer
    api = await start_gateway(stack, {"user_service": users.url}, jwt_public_key=None,
                              jwks_url=f"{jwks.url}/.well-known/jwks.json")

    response = await api.get("/api/users/me", headers=stack.auth("user-1"))

    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    assert users.requests == []
