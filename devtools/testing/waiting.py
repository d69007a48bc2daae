"""Wait on a condition with a deadline: the only synchronisation tests use."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(condition: Callable[[], T | Awaitable[T]], *, timeout: float = 10.0,
                     interval: float = 0.05, message: str = "condition") -> T:
    """Poll until condition() is truthy and return its value; fail with `message` at the deadline."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        last = result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message} (last value: {last!r})")
        await asyncio.sleep(interval)
