"""Routing, header rewriting, request ids and streaming, against stub upstreams over real HTTP."""

import hashlib

from gateway.tests.conftest import header, start_gateway
from gateway.tests.stubs import StubUpstream


async def test_each_path_prefix_reaches_its_own_service_with_path_and_query_intact(stack, stubs):
    users, expenses = await stubs("user_service"), await stubs("expense_service")
    api = await start_gateway(stack, {"user_service": users.url, "expense_service": expenses.url})
    auth = stack.auth("user-1")

    me = await api.get("/api/users/me", headers=auth)
    listed = await api.get("/api/expenses/a%2Fb", params={"limit": "5", "q": "café & co"}, headers=auth)
    categories = await api.get("/api/categories", headers=auth)

    assert me.status_code == 200 and me.json()["service"] == "user_service"
    assert listed.json()["service"] == "expense_service"
    assert listed.json()["path"] == "/api/expenses/a/b"
    assert listed.json()["query"] == "limit=5&q=caf%C3%A9+%26+co"
    assert categories.json()["service"] == "expense_service"
    assert [r["path"] for r in users.requests] == ["/api/users/me"]


async def test_a_path_outside_every_prefix_is_a_gateway_404_and_reaches_no_service(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})

    for path in ("/api/usersx", "/api", "/api/unknown/thing"):
        response = await api.get(path, headers=stack.auth("user-1"))
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
    assert users.requests == []


async def test_a_service_without_a_configured_url_answers_503_problem(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})

    response = await api.get("/api/budgets", headers=stack.auth("user-1"))

    assert response.status_code == 503
    assert response.json()["detail"] == "the budget_service is not configured at the gateway"


async def test_identity_headers_sent_by_a_client_never_reach_a_service(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})
    token = stack.token_for("real-user")
    forged = {"X-User-Id": "admin", "X-User-Email": "boss@example.com", "X-Authenticated-User": "admin",
              "X-Authenticated-Userid": "admin", "X-Forwarded-User": "admin", "X-Remote-User": "admin",
              "Remote-User": "admin", "X-Auth-Request-User": "admin", "X-Forwarded-Host": "evil.example",
              "Forwarded": "for=10.6.6.6", "X-Real-IP": "10.6.6.6", "Authorization": f"Bearer {token}",
              "X-Custom": "kept", "Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "hop", "TE": "trailers"}

    response = await api.get("/api/users/me", headers=forged)

    assert response.status_code == 200
    received = {name for name, _ in users.requests[0]["headers"]}
    assert not received & {"x-user-id", "x-user-email", "x-authenticated-user", "x-authenticated-userid",
                           "x-forwarded-user", "x-remote-user", "remote-user", "x-auth-request-user", "forwarded",
                           "x-real-ip", "x-drop-me", "te", "connection"}
    record = users.requests[0]
    # The address uvicorn resolved (a client-sent X-Forwarded-For counts only from its trusted proxies).
    assert header(record, "x-forwarded-for") == ["127.0.0.1"]
    assert header(record, "x-forwarded-proto") == ["http"]
    assert header(record, "x-forwarded-host") == [api.base_url.netloc.decode()]
    assert header(record, "authorization") == [f"Bearer {token}"]  # forwarded unchanged: services verify again
    assert header(record, "x-custom") == ["kept"]
    assert header(record, "host") == [users.url.removeprefix("http://")]


async def test_a_request_id_is_added_forwarded_and_echoed_or_the_clients_valid_one_is_kept(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})
    auth = stack.auth("user-1")

    generated = await api.get("/api/users/me", headers=auth)
    kept = await api.get("/api/users/me", headers={**auth, "X-Request-ID": "client-id-42"})
    invalid = await api.get("/api/users/me", headers={**auth, "X-Request-ID": "bad id with spaces"})
    rejected = await api.get("/api/users/me", headers={"X-Request-ID": "client-id-43"})

    new_id = generated.headers["x-request-id"]
    assert new_id and header(users.requests[0], "x-request-id") == [new_id]
    assert generated.headers.get_list("x-request-id") == [new_id]  # the upstream's own id is not echoed too
    assert kept.headers["x-request-id"] == "client-id-42"
    assert header(users.requests[1], "x-request-id") == ["client-id-42"]
    assert invalid.headers["x-request-id"] not in ("", "bad id with spaces")
    assert header(users.requests[2], "x-request-id") == [invalid.headers["x-request-id"]]
    assert rejected.status_code == 401 and rejected.headers["x-request-id"] == "client-id-43"
    assert len({new_id, invalid.headers["x-request-id"]}) == 2


async def test_upstream_response_headers_pass_through_but_its_hop_by_hop_and_server_headers_do_not(stack, stubs):
    users = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": users.url})

    response = await api.get("/api/users/me", headers=stack.auth("user-1"))

    assert response.headers["x-upstream"] == "user_service"
    assert response.headers.get_list("server") == ["uvicorn"]  # the gateway's own, once


async def test_request_bodies_arrive_intact_whole_or_streamed_in_chunks(stack, stubs):
    expenses = await stubs("expense_service")
    api = await start_gateway(stack, {"expense_service": expenses.url})
    auth = stack.auth("user-1")
    payload = bytes(range(256)) * 2048  # 512 KiB

    async def chunks():
        for start in range(0, len(payload), 50_000):
            yield payload[start:start + 50_000]

    whole = await api.post("/api/expenses/import", content=payload, headers=auth)
    streamed = await api.post("/api/expenses/import", content=chunks(), headers=auth)
    small = await api.post("/api/expenses", json={"amount": "12.50", "currency": "EUR"}, headers=auth)

    digest = hashlib.sha256(payload).hexdigest()
    assert whole.json()["body_sha256"] == digest and whole.json()["body_length"] == len(payload)
    assert streamed.json()["body_sha256"] == digest
    assert small.json()["body_length"] == len(b'{"amount":"12.50","currency":"EUR"}')
    assert header(expenses.requests[2], "content-type") == ["application/json"]


async def test_streamed_and_large_responses_arrive_whole(stack, stubs):
    expenses = await stubs("expense_service")
    api = await start_gateway(stack, {"expense_service": expenses.url})
    auth = stack.auth("user-1")

    streamed = await api.get("/api/expenses/stream", headers=auth)
    big = await api.get("/api/expenses/big", headers=auth)
    head = await api.head("/api/expenses/stream", headers=auth)
    after_head = await api.get("/api/expenses/stream", headers=auth)

    assert streamed.text == "".join(f"part {i};" for i in range(5))
    assert big.content == b"".join(bytes([i]) * 65536 for i in range(64))
    assert head.status_code == 200 and head.content == b""
    assert after_head.text == streamed.text


async def test_an_upstream_restart_between_requests_is_invisible_to_clients(stack, stubs):
    first = await stubs("user_service")
    api = await start_gateway(stack, {"user_service": first.url})
    auth = stack.auth("user-1")
    assert (await api.get("/api/users/me", headers=auth)).status_code == 200

    await first.stop()  # the gateway's pooled keep-alive connection to it is now dead
    second = await StubUpstream("user_service", port=first.port).start()
    try:
        again = await api.get("/api/users/me", headers=auth)
    finally:
        await second.stop()

    assert again.status_code == 200
    assert len(second.requests) == 1


async def test_an_answer_given_before_the_whole_body_was_sent_reaches_the_client(stack, stubs):
    expenses = await stubs("expense_service")
    api = await start_gateway(stack, {"expense_service": expenses.url})
    auth = stack.auth("user-1")

    async def chunks():
        for _ in range(12):
            yield b"e" * 65536

    early = await api.post("/api/expenses/early", content=chunks(), headers=auth)
    after = await api.post("/api/expenses/import", content=chunks(), headers=auth)

    assert early.status_code == 413 and early.json() == {"detail": "too large for me"}
    assert after.status_code == 200 and after.json()["body_length"] == 12 * 65536


async def test_the_measured_alternative_aiohttp_client_proxies_the_same(stack, stubs):
    users, expenses = await stubs("user_service"), await stubs("expense_service")
    api = await start_gateway(stack, {"user_service": users.url, "expense_service": expenses.url},
                              upstream_client="aiohttp")
    auth = stack.auth("user-1")
    payload = b"a" * 300_000

    me = await api.get("/api/users/me?x=%2F", headers={**auth, "X-User-Id": "admin"})
    posted = await api.post("/api/expenses/import", content=payload, headers=auth)
    streamed = await api.get("/api/expenses/stream", headers=auth)
    await users.stop()
    down = await api.get("/api/users/me", headers=auth)

    assert me.status_code == 200 and me.json()["query"] == "x=%2F"
    assert "x-user-id" not in me.json()["headers"]
    assert posted.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()
    assert streamed.text == "".join(f"part {i};" for i in range(5))
    assert down.status_code == 503
