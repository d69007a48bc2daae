"""Sliding-window rate limits on the credential endpoints, per client address and per email.

In memory, per gateway process: several gateway replicas would each count on their own, so a deployment with
more than one needs a shared store (Redis INCR/ZSET) behind the same interface.
"""

import json
import math
from collections import deque
from urllib.parse import parse_qs

from gateway.settings import RateRule

MAX_PARSED_BODY = 16_384  # credential bodies are tiny; larger ones are only limited per address
SWEEP_EVERY = 1024


class SlidingWindow:
    """At most `limit` hits per key within any `window` seconds (an exact sliding log; limits are small)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.hits: dict[str, deque[float]] = {}
        self._calls = 0

    def wait_needed(self, key: str, now: float) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        hits = self.hits.get(key)
        if hits is None:
            return 0.0
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            return 0.0
        return hits[0] + self.window - now

    def record(self, key: str, now: float) -> None:
        self.hits.setdefault(key, deque()).append(now)
        self._calls += 1
        if self._calls % SWEEP_EVERY == 0:  # forget keys that have been quiet for a whole window
            stale = [k for k, hits in self.hits.items() if not hits or hits[-1] <= now - self.window]
            for k in stale:
                del self.hits[k]


class RateLimiter:
    def __init__(self, rules: tuple[RateRule, ...]) -> None:
        self.rules = {rule.path: rule for rule in rules}
        self.by_email = {r.path: SlidingWindow(r.per_email, r.window_seconds) for r in rules}
        self.by_address = {r.path: SlidingWindow(r.per_address, r.window_seconds) for r in rules}

    def attempt(self, path: str, *, address: str, email: str | None, now: float) -> int:
        """Count an attempt; returns 0 when allowed, else the Retry-After seconds (the attempt is not counted)."""
        by_address, by_email = self.by_address[path], self.by_email[path]
        wait = by_address.wait_needed(address, now)
        if email is not None:
            wait = max(wait, by_email.wait_needed(email, now))
        if wait > 0:
            return max(1, math.ceil(wait))
        by_address.record(address, now)
        if email is not None:
            by_email.record(email, now)
        return 0


def email_from_body(body: bytes, content_type: bytes) -> str | None:
    """The email (or OAuth2 form `username`) a credential request is about, normalised; None if there is none."""
    if not body or len(body) > MAX_PARSED_BODY:
        return None
    media_type = content_type.split(b";", 1)[0].strip().lower()
    value: object = None
    if media_type == b"application/json" or media_type.endswith(b"+json"):
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if isinstance(data, dict):
            value = data.get("email") or data.get("username")
    elif media_type == b"application/x-www-form-urlencoded":
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=50)
        value = (form.get("email") or form.get("username") or [None])[0]
    if isinstance(value, str) and value.strip():
        return value.strip().lower()
    return None
