"""Body size limit, rate limits on the credential endpoints, CORS."""

import hashlib

import httpx

from gateway.settings import RateRule
from gateway.tests.conftest import start_gateway

TEN_MB = 10 * 1024 * 1024


async def test_a_10_mb_body_is_refused_with_413_before_any_upstream_is_touched(stack, stubs):
    expenses = await stubs("expense_service")
    api = await start_gateway(stack, {"expense_service": expenses.url})

    response = await api.post("/api/expenses/import", content=b"x" * TEN_MB, headers=stack.auth("user-1"))

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "the request body exceeds 1048576 bytes"
    assert expenses.requests == []


async def test_a_chunked_body_growing_past_the_limit_is_cut_off_with_413(stack, stubs):
    expenses = await stubs("expense_service")
    api = await start_gateway(stack, {"expense_service": expenses.url}, max_body_bytes=200_000)

    async def endless_chunks():
        for _ in range(100):  # 6.4 MB if nobody stopped it
            yield b"y" * 65536

    response = await api.post("/api/expenses/import", content=endless_chunks(), headers=stack.auth("user-1"))

    assert response.status_code == 413
    assert expenses.requests == []  # the upstream never received a whole request


async def test_the_11th_login_in_a_minute_for_one_email_is_refused_with_429_and_retry_after(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})
    body = {"email": "Victim@Example.com", "password": "guess"}

    answers = [await api.post("/api/auth/login", json=body) for _ in range(10)]
    eleventh = await api.post("/api/auth/login", json={**body, "email": "victim@example.com "})
    other_email = await api.post("/api/auth/login", json={"email": "someone@example.com", "password": "x"})

    assert [a.status_code for a in answers] == [200] * 10
    assert eleventh.status_code == 429
    assert eleventh.headers["content-type"] == "application/problem+json"
    assert 1 <= int(eleventh.headers["retry-after"]) <= 60
    assert other_email.status_code == 200
    assert len(users.requests) == 11  # the refused attempt never reached user_service
    # The bodies were read to find the email, and still forwarded byte for byte.
    sent = httpx.Request("POST", "http://x", json=body).content
    assert all(r["body"] == sent for r in users.requests[:10])


async def test_the_oauth2_password_form_counts_towards_the_same_email(stack, stubs):
    users = await stubs("user_service")
    rules = (RateRule(path="/api/auth/login", per_email=2, per_address=100),)
    api = await start_gateway(stack, {"user_service": users.url}, rate_limits=rules)

    await api.post("/api/auth/login", json={"email": "a@example.com", "password": "x"})
    await api.post("/api/auth/login", data={"username": "A@example.com", "password": "x"})
    third = await api.post("/api/auth/login", data={"username": "a@example.com", "password": "x"})

    assert third.status_code == 429
    assert users.requests[1]["body"] == b"username=A%40example.com&password=x"


async def test_one_address_trying_many_emails_is_limited_too(stack, stubs):
    users = await stubs("user_service")
    rules = (RateRule(path="/api/auth/register", per_email=5, per_address=3),)
    api = await start_gateway(stack, {"user_service": users.url}, rate_limits=rules)

    answers = [await api.post("/api/auth/register", json={"email": f"u{i}@example.com", "password": "x"})
               for i in range(4)]
    without_email = await api.post("/api/auth/register", content=b"not json",
                                   headers={"Content-Type": "application/json"})

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert without_email.status_code == 429
    assert "retry-after" in answers[3].headers


async def test_cors_preflight_is_answered_for_an_allowed_origin_without_a_token_or_an_upstream(stack, stubs):
    expenses = await stubs("expense_service")
    api = await start_gateway(stack, {"expense_service": expenses.url}, cors_origins=["https://app.example"])
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"}

    allowed = await api.options("/api/expenses", headers=preflight)
    foreign = await api.options("/api/expenses", headers={**preflight, "Origin": "https://evil.example"})
    refused = await api.get("/api/expenses", headers={"Origin": "https://app.example"})
    served = await api.get("/api/expenses", headers={"Origin": "https://app.example", **stack.auth("user-1")})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert foreign.status_code == 400 and "access-control-allow-origin" not in foreign.headers
    # Errors made by the gateway carry CORS headers too, so the SPA can read them.
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "https://app.example"
    assert served.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in served.headers["access-control-expose-headers"].lower()
    assert len(expenses.requests) == 1


async def test_a_body_just_under_the_limit_passes_whole(stack, stubs):
    expenses = await stubs("expense_service")
    api = await start_gateway(stack, {"expense_service": expenses.url}, max_body_bytes=300_000)
    payload = b"z" * 300_000

    response = await api.post("/api/expenses/import", content=payload, headers=stack.auth("user-1"))

    assert response.status_code == 200
    assert response.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()


async def test_every_way_user_service_reads_a_login_counts_towards_its_email(stack, stubs):
    # user_service reads a body without a Content-Type as JSON, the first of repeated Content-Types, the last of
    # repeated form fields, splits forms on ";" too and skips any JSON whitespace: none of these may dodge the
    # limit of the victim's email.
    users = await stubs("user_service")
    rules = (RateRule(path="/api/auth/login", per_email=1, per_address=100),)
    api = await start_gateway(stack, {"user_service": users.url}, rate_limits=rules)
    form = {"content-type": "application/x-www-form-urlencoded"}
    dodges = [
        {"content": b'{"email": "VICTIM@example.com", "password": "x"}'},
        {"content": b'{"email": "VICTIM@example.com", "password": "x"}',
         "headers": [("content-type", "application/json"), ("content-type", "text/plain")]},
        {"content": b"username=decoy%40example.com&username=VICTIM%40example.com&password=x", "headers": form},
        {"content": b"username=decoy%40example.com;username=VICTIM%40example.com&password=x", "headers": form},
        {"content": b"email=decoy%40example.com&username=VICTIM%40example.com&password=x", "headers": form},
        {"content": b'{"email": "decoy@example.com", "email": "VICTIM@example.com", "password": "x"}',
         "headers": {"content-type": "application/json"}},
        {"content": b'{"email": "VICTIM@example.com", "password": "x"' + b" " * 20_000 + b"}",
         "headers": {"content-type": "application/json"}},
    ]
    for i, dodge in enumerate(dodges):
        victim = f"victim{i}@example.com"
        first = await api.post("/api/auth/login", json={"email": victim, "password": "x"})
        dodge["content"] = dodge["content"].replace(b"VICTIM", f"victim{i}".encode())
        second = await api.post("/api/auth/login", **dodge)
        assert first.status_code == 200
        assert second.status_code in (400, 413, 429), (dodge, second.status_code)
        assert second.headers["content-type"] == "application/problem+json"
    assert len(users.requests) == len(dodges)  # only the first login for each victim reached user_service


async def test_odd_credential_bodies_are_passed_on_not_a_500(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})
    for content, content_type in [(b"[" * 10_000, "application/json"),
                                  (b"&".join(b"f%d=1" % i for i in range(100)), "application/x-www-form-urlencoded"),
                                  (b"\xff\xfe{", "application/json")]:
        response = await api.post("/api/auth/login", content=content, headers={"content-type": content_type})
        assert response.status_code == 200, (content[:20], response.text)  # the stub's answer: it got through
