"""Idempotency-Key on creates: a retry with the same key and body gets the original 201 response back.

The same key with a different body is refused with 422 (the IETF httpapi Idempotency-Key draft's answer);
a retry racing the original while it is still in flight gets 409.
"""

import hashlib
import json
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession

from expense_service.models import IdempotencyRecord, utc_now
from shared.errors import Problem

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII, as an HTTP header value carries it


def request_hash(body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find_replay(*, user_id: str, key: str, body_hash: str) -> dict[str, Any] | None:
    """The stored response for this key, or None when the key is new; 422 when it was used for another body."""
    record = await IdempotencyRecord.get_pymongo_collection().find_one({"user_id": user_id, "key": key})
    if record is None:
        return None
    if record["request_hash"] != body_hash:
        raise Problem(422, "this Idempotency-Key was already used with a different request body",
                      errors=[{"field": "Idempotency-Key", "message": "reused with a different body"}])
    return record["response"]


async def remember(*, session: AsyncClientSession, user_id: str, key: str, body_hash: str, transaction_id: str,
                   response: dict[str, Any], ttl_hours: int) -> None:
    """Stored in the same transaction as the created record: both exist or neither."""
    now = utc_now()
    await IdempotencyRecord.get_pymongo_collection().insert_one({
        "user_id": user_id, "key": key, "request_hash": body_hash, "transaction_id": transaction_id,
        "response": response, "created_at": now, "expires_at": now + timedelta(hours=ttl_hours)},
        session=session)
