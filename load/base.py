"""The Locust user every scenario extends: one real account per simulated user, its bearer token kept fresh.

Accounts come from the runner (LOAD_ACCOUNTS_FILE): registered and signed in through user_service before the
clock started. A token close to expiry is refreshed through user_service outside Locust's stats, so the
figures only ever show the service under test.
"""

import itertools
import json
import os
import random
import threading
import time
import uuid
from pathlib import Path

import requests
from locust import HttpUser, between

from load.accounts import Account, load_accounts

REFRESH_MARGIN_SECONDS = 60


def _think_time() -> tuple[float, float]:
    low, _, high = os.environ.get("LOAD_WAIT", "0.1,0.5").partition(",")
    return float(low), float(high or low)


class _Accounts:
    """Hands out the run's accounts, one per simulated user, round robin."""

    def __init__(self) -> None:
        self._accounts: list[Account] | None = None
        self._next = itertools.count()
        self._lock = threading.Lock()

    def take(self) -> Account:
        with self._lock:
            if self._accounts is None:
                path = os.environ.get("LOAD_ACCOUNTS_FILE")
                if not path:
                    raise RuntimeError("LOAD_ACCOUNTS_FILE is not set: run load tests with `make load SERVICE=...`")
                self._accounts = load_accounts(Path(path))
            return self._accounts[next(self._next) % len(self._accounts)]


ACCOUNTS = _Accounts()
SERVICE_URLS: dict[str, str] = json.loads(os.environ.get("LOAD_SERVICE_URLS", "{}"))


class ApiUser(HttpUser):
    abstract = True
    wait_time = between(*_think_time())

    def on_start(self) -> None:
        self.account = ACCOUNTS.take()

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header, refreshing the access token (unmeasured) when it is about to expire."""
        if self.account.expires_at - time.time() < REFRESH_MARGIN_SECONDS:
            self._refresh_token()
        return {"Authorization": f"Bearer {self.account.access_token}"}

    def _refresh_token(self) -> None:
        response = requests.post(f"{SERVICE_URLS['user_service']}/api/auth/refresh",
                                 json={"refresh_token": self.account.refresh_token}, timeout=30)
        response.raise_for_status()
        tokens = response.json()
        self.account.access_token, self.account.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.account.expires_at = time.time() + tokens["expires_in"]

    def get(self, path: str, name: str | None = None, **kwargs):
        return self.client.get(path, headers={**self.auth, **kwargs.pop("headers", {})}, name=name or path, **kwargs)

    def send(self, method: str, path: str, name: str | None = None, **kwargs):
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, name=name or path, **kwargs)

    @staticmethod
    def idempotency_key() -> dict[str, str]:
        return {"Idempotency-Key": str(uuid.uuid4())}

    @staticmethod
    def pick(items: list):
        return random.choice(items) if items else None
