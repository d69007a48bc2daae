"""Idempotency-Key on writes that create money records: a retried request returns what the first one made.

The record is inserted in the same transaction as what it stands for, under a unique (user, scope, key)
index: two concurrent requests with one key make one thing; the loser finds the winner's record.
Reusing a key for a different request is a 422 (as the IETF Idempotency-Key draft advises).
"""

import hashlib
import json
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from invoice_service.models import IdempotencyRecord
from shared.errors import field_problem

MAX_KEY_LENGTH = 200


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise field_problem("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable characters")
    return key


def request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def find_previous(*, user_id: str, scope: str, key: str | None, fingerprint: str,
                        session: AsyncClientSession | None = None) -> IdempotencyRecord | None:
    """The record of an earlier request with this key, if any; 422 when that request was a different one."""
    if key is None:
        return None
    record = await IdempotencyRecord.find_one({"user_id": user_id, "scope": scope, "key": key}, session=session)
    if record is not None and record.request_hash != fingerprint:
        raise field_problem("Idempotency-Key", "this key was already used for a different request")
    return record


async def remember(*, user_id: str, scope: str, key: str | None, fingerprint: str, invoice_id: str,
                   payment_id: str | None = None, session: AsyncClientSession) -> None:
    if key is None:
        return
    await IdempotencyRecord(user_id=user_id, scope=scope, key=key, request_hash=fingerprint,
                            invoice_id=invoice_id, payment_id=payment_id).insert(session=session)
