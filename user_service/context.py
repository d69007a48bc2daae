"""What user_service's domain functions work with: the runtime, its settings, the key ring, the hasher."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from pymongo.errors import OperationFailure

from shared.errors import Conflict
from shared.outbox import Tx
from shared.runtime import Runtime
from user_service.keys import KeyRing
from user_service.passwords import PasswordHasher
from user_service.settings import Settings


@dataclass(frozen=True)
class UserServiceParts:
    runtime: Runtime
    settings: Settings
    keys: KeyRing
    hasher: PasswordHasher


EXTRAS_KEY = "user_service"


def parts_of(runtime: Runtime) -> UserServiceParts:
    return runtime.extras[EXTRAS_KEY]


def _parts(request: Request) -> UserServiceParts:
    return parts_of(request.app.state.runtime)


Parts = Annotated[UserServiceParts, Depends(_parts)]


T = TypeVar("T")
WRITE_CONFLICT_ATTEMPTS = 4


async def in_transaction(parts: UserServiceParts, body: Callable[[Tx], Awaitable[T]]) -> T:
    """Run body (its writes and outbox events) in one transaction, retried a few times on a write conflict
    (two requests racing for the same document or unique key: the retry then sees the winner's commit).

    Not runtime.atomic(): the driver's with_transaction also retries network errors for up to 120 s,
    and a down database must give a fast 503, not a two-minute hang."""
    for attempt in range(1, WRITE_CONFLICT_ATTEMPTS + 1):
        try:
            async with parts.runtime.transaction() as tx:
                return await body(tx)
        except OperationFailure as exc:
            if not exc.has_error_label("TransientTransactionError"):
                raise
            if attempt == WRITE_CONFLICT_ATTEMPTS:
                raise Conflict("a concurrent change to the same account conflicted; try again") from None
            await asyncio.sleep(0.02 * attempt + random.random() * 0.03)  # let the other writer commit
    raise AssertionError("unreachable")
