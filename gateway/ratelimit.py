"""Sliding-window rate limits on the credential endpoints, per client address and per email.

In memory, per gateway process: several gateway replicas would each count on their own, so a deployment with
more than one needs a shared store (Redis INCR/ZSET) behind the same interface.
"""

import json
import math
import re
from collections import deque
from urllib.parse import unquote_plus

from gateway.settings import RateRule

MAX_PARSED_BODY = 16_384  # credential bodies are tiny: larger ones are refused (JSON whitespace would hide them)
SWEEP_EVERY = 1024
CREDENTIAL_FIELDS = ("email", "username")


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


def emails_from_body(body: bytes, content_type: bytes) -> set[str]:
    """Every email (or OAuth2 form `username`) a credential request names, normalised; empty if there is none.

    Read the way user_service reads it, so no variant dodges the per-email limit: a body without a media type is
    JSON; in JSON every top-level `email`/`username`, repeated keys too (the service keeps the last); in a form
    every `username`/`email` value, split on "&" and ";" (the service's parser splits on both and keeps a repeated
    field's last value). More than one email is an ambiguous request for the caller to refuse."""
    if not body or len(body) > MAX_PARSED_BODY:
        return set()
    media_type = content_type.split(b";", 1)[0].strip().lower()
    values: list[object] = []
    if not media_type or media_type == b"application/json" or media_type.endswith(b"+json"):
        objects: list[list[tuple[str, object]]] = []

        def keep(pairs: list[tuple[str, object]]) -> dict[str, object]:
            objects.append(pairs)  # innermost first: the top-level object comes last
            return dict(pairs)

        try:
            document = json.loads(body, object_pairs_hook=keep)
        except (ValueError, RecursionError):
            return set()
        if isinstance(document, dict):
            values = [value for key, value in objects[-1] if key in CREDENTIAL_FIELDS]
    elif media_type == b"application/x-www-form-urlencoded":
        for pair in re.split(r"[&;]", body.decode("utf-8", "replace")):
            name, _, value = pair.partition("=")
            if unquote_plus(name) in CREDENTIAL_FIELDS:
                values.append(unquote_plus(value))
    return {value.strip().lower() for value in values if isinstance(value, str) and value.strip()}
