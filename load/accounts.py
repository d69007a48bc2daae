"""Real accounts for a load run: registered and signed in through user_service, deleted afterwards.

Runs in the runner process (plain httpx, no Locust/gevent): nothing here is measured.
"""

import asyncio
import json
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

PASSWORD_WORDS = ("amber", "lantern", "harbour", "cobalt", "meadow", "saffron", "tundra", "velvet")
CONCURRENCY = 4  # Argon2 hashing dominates: more in flight only queues on user_service's CPU


@dataclass
class Account:
    email: str
    password: str
    user_id: str
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds when the access token expires


class AccountError(RuntimeError):
    pass


def new_password() -> str:
    return "-".join(secrets.choice(PASSWORD_WORDS) for _ in range(3)) + f"-{secrets.randbelow(10_000)}"


async def _sign_in(client: httpx.AsyncClient, email: str, password: str, user_id: str) -> Account:
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    if response.status_code != 200:
        raise AccountError(f"login of {email} failed: {response.status_code} {response.text[:200]}")
    tokens = response.json()
    return Account(email=email, password=password, user_id=user_id, access_token=tokens["access_token"],
                   refresh_token=tokens["refresh_token"], expires_at=time.time() + tokens["expires_in"])


async def _register(client: httpx.AsyncClient, run_id: str, index: int) -> Account:
    email, password = f"load.{run_id}.{index}@example.com", new_password()
    response = await client.post("/api/auth/register", json={
        "email": email, "password": password, "name": f"Load user {index}", "default_currency": "EUR",
        "timezone": "UTC"})
    if response.status_code != 201:
        raise AccountError(f"registration of {email} failed: {response.status_code} {response.text[:200]}")
    return await _sign_in(client, email, password, response.json()["id"])


async def create_accounts(user_service_url: str, count: int) -> list[Account]:
    """`count` fresh accounts (unique emails for this run), each signed in."""
    run_id = f"{int(time.time())}{secrets.token_hex(3)}"
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(index: int) -> Account:
        async with limit:
            return await _register(client, run_id, index)

    async with httpx.AsyncClient(base_url=user_service_url, timeout=60) as client:
        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def delete_accounts(user_service_url: str, accounts: list[Account]) -> int:
    """Delete every load account (user.deleted then erases its data in every service); returns how many."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(account: Account) -> bool:
        async with limit:
            fresh = await _sign_in(client, account.email, account.password, account.user_id)
            response = await client.request("DELETE", "/api/users/me", json={"current_password": account.password},
                                            headers={"Authorization": f"Bearer {fresh.access_token}"})
            return response.status_code == 204

    async with httpx.AsyncClient(base_url=user_service_url, timeout=60) as client:
        results = await asyncio.gather(*(one(a) for a in accounts), return_exceptions=True)
    return sum(1 for r in results if r is True)


def save_accounts(accounts: list[Account], path: Path) -> None:
    path.write_text(json.dumps([asdict(a) for a in accounts]))
    path.chmod(0o600)


def load_accounts(path: Path) -> list[Account]:
    return [Account(**raw) for raw in json.loads(path.read_text())]
