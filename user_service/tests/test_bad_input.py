"""Bad input gets a 4xx problem+json that names the problem — never a 500."""

import asyncio
from urllib.parse import urlparse

import httpx

from user_service.tests.conftest import PASSWORD, sign_up

PROBLEM = "application/problem+json"


def fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [e["field"] for e in response.json().get("errors", [])]


async def test_malformed_json_is_refused_naming_the_problem(api):
    for path in ("/api/auth/register", "/api/auth/login", "/api/auth/refresh"):
        response = await api.post(path, content=b'{"email": "a@example.com", ',
                                  headers={"content-type": "application/json"})
        assert response.status_code == 422, path
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["type"] == "json_invalid", response.text


async def test_wrong_types_are_refused_naming_each_field(api):
    response = await api.post("/api/auth/register", json={"email": 42, "password": ["x"], "timezone": 3})
    assert response.status_code == 422
    assert set(fields(response)) == {"email", "password", "timezone"}
    login = await api.post("/api/auth/login", json={"email": "a@example.com", "password": {"$ne": ""}})
    assert login.status_code == 422 and fields(login) == ["password"]
    as_form = await api.post("/api/auth/login", data={"username": "a@example.com"})
    assert as_form.status_code == 422 and fields(as_form) == ["password"]


async def test_overlong_strings_are_refused_naming_the_field(api):
    cases = {
        "email": {"email": "a" * 300 + "@example.com", "password": PASSWORD},
        "password": {"email": "b@example.com", "password": "x" * 1025},
        "name": {"email": "c@example.com", "password": PASSWORD, "name": "n" * 101},
        "timezone": {"email": "d@example.com", "password": PASSWORD, "timezone": "Europe/" + "x" * 100},
    }
    for field, body in cases.items():
        response = await api.post("/api/auth/register", json=body)
        assert response.status_code == 422 and field in fields(response), field
    refresh = await api.post("/api/auth/refresh", json={"refresh_token": "r" * 10_000})
    assert refresh.status_code == 422 and fields(refresh) == ["refresh_token"]


async def test_unknown_fields_are_refused_naming_them(api):
    response = await api.post("/api/auth/register", json={"email": "e@example.com", "password": PASSWORD,
                                                          "is_admin": True})
    assert response.status_code == 422 and fields(response) == ["is_admin"]
    account = await sign_up(api, "f@example.com")
    patch = await api.patch("/api/users/me", headers=account.auth, json={"email": "other@example.com"})
    assert patch.status_code == 422 and fields(patch) == ["email"]
    money = await api.patch("/api/users/me", headers=account.auth, json={"monthly_income": 1234.5})
    assert money.status_code == 422 and fields(money) == ["monthly_income"]


async def test_a_currency_sent_as_a_json_array_or_object_is_refused_naming_it_not_a_500(api):
    account = await sign_up(api, "g@example.com")
    for currency in ([], ["EUR"], {}, {"$ne": ""}):
        register = await api.post("/api/auth/register", json={"email": "h@example.com", "password": PASSWORD,
                                                               "default_currency": currency})
        assert register.status_code == 422 and fields(register) == ["default_currency"], register.text
        patch = await api.patch("/api/users/me", headers=account.auth, json={"default_currency": currency})
        assert patch.status_code == 422 and fields(patch) == ["default_currency"], patch.text


async def test_a_10_mb_body_is_refused_with_413_whether_announced_or_streamed(api, stack):
    # Announced: refused from the headers, before the body is read (so a raw socket, which can read the
    # answer without first pushing 10 MB into a connection the server is closing).
    url = urlparse(stack.services["user_service"].url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(b"POST /api/auth/register HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 10485760\r\n\r\n" + b"x" * 65536)
    await writer.drain()
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode().lower()
    writer.close()
    assert head.startswith("http/1.1 413") and f"content-type: {PROBLEM}" in head, head

    async def chunks():
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    streamed = await api.post("/api/auth/login", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.headers["content-type"] == PROBLEM


async def test_a_login_in_an_unsupported_media_type_is_a_415(api):
    response = await api.post("/api/auth/login", content=b"email=a", headers={"content-type": "text/plain"})
    assert response.status_code == 415 and response.headers["content-type"] == PROBLEM
    # Multipart too: the gateway's per-email limit reads JSON and urlencoded forms (OAuth2's password grant), so a
    # multipart login would slip past it.
    account = await sign_up(api, "m@example.com")
    fields_only = "".join(f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                          for name, value in (("username", account.email), ("password", PASSWORD))) + "--b--\r\n"
    multipart = await api.post("/api/auth/login", content=fields_only.encode(),
                               headers={"content-type": "multipart/form-data; boundary=b"})
    assert multipart.status_code == 415 and multipart.headers["content-type"] == PROBLEM
