"""Helpers for user_service's tests: a running user_service and a registered, signed-in account."""

from dataclasses import dataclass

import httpx
import pytest

PASSWORD = "plum-tractor-lantern-42"


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(api: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: object) -> dict:
    response = await api.post("/api/auth/register", json={"email": email, "password": password, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def login(api: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict:
    response = await api.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


async def sign_up(api: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: object) -> Account:
    user = await register(api, email, password, **extra)
    tokens = await login(api, email, password)
    return Account(email=user["email"], password=password, user_id=user["id"],
                   access_token=tokens["access_token"], refresh_token=tokens["refresh_token"])


@pytest.fixture
async def api(stack) -> httpx.AsyncClient:
    await stack.start("user_service")
    return stack.client("user_service")
