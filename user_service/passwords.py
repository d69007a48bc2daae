"""Password rules and Argon2id hashing.

Rules: 10 to 1024 characters, not one of the common passwords in common_passwords.txt (checked
case-insensitively). That list is Django 5.2's django/contrib/auth/common-passwords.txt.gz (BSD-3-Clause):
19,640 passwords from leaked-password corpora, most frequent first, lower-case.

Hashing is CPU-heavy (~150 ms at the default cost), so it runs in a worker thread: the event loop keeps serving.
"""

import asyncio
import secrets
from functools import cache
from pathlib import Path
from typing import Annotated

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import AfterValidator, StringConstraints

from shared.errors import field_problem
from user_service.settings import Settings

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip())


def is_common(password: str) -> bool:
    return password.strip().lower() in common_passwords()


def _not_common(password: str) -> str:
    if is_common(password):
        raise ValueError("is one of the most commonly used passwords; choose another")
    return password


def check_not_email(password: str, email: str, *, field: str) -> None:
    """A password equal to the account's email (or its local part) is the first thing anyone tries."""
    candidate = password.strip().lower()
    if candidate in {email.lower(), email.lower().partition("@")[0]}:
        raise field_problem(field, "must not be your email address")


# Never trimmed: spaces are part of a password. Length limits first, then the common-password check.
PasswordInput = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1,
                                                 max_length=MAX_PASSWORD_LENGTH)]
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=MIN_PASSWORD_LENGTH,
                                               max_length=MAX_PASSWORD_LENGTH), AfterValidator(_not_common)]


class PasswordHasher:
    def __init__(self, settings: Settings) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=settings.argon2_time_cost,
                                                memory_cost=settings.argon2_memory_kib,
                                                parallelism=settings.argon2_parallelism),))
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify_and_update(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one uses outdated parameters)."""
        return await asyncio.to_thread(self._hash.verify_and_update, password, password_hash)

    async def prepare(self) -> None:
        """Compute the dummy hash at start-up, so even the first unknown-email login is not faster."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))

    async def burn_time(self, password: str) -> None:
        """Verify against a dummy hash: a login for an unknown email takes as long as a wrong password."""
        await self.prepare()
        assert self._dummy_hash is not None
        await asyncio.to_thread(self._hash.verify, password, self._dummy_hash)
