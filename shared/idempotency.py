"""Idempotency-Key on writes that create money records: a retried request creates nothing twice.

One record per (user, scope, key) in the service's own `idempotency_keys` collection, claimed first in the
same transaction as what it stands for: both exist or neither. Then:
- the same key with the same request gets the stored response back (replayed);
- the same key with a different request is a 422 naming Idempotency-Key (the IETF httpapi draft's answer);
- a concurrent duplicate runs into the winner's claim on the unique index, waits for it to commit and gets its
  response; 409 "in progress" when the winner has not committed within `wait_seconds`.
A key is remembered for `ttl_hours`, by default the IDEMPOTENCY_TTL_HOURS setting (24; a TTL index removes
expired records, and one not yet removed is ignored).

    created, replayed = await run_idempotent(runtime, user_id=user.id, scope="expense.create", key=key,
                                             request=body, create=insert_expense)   # create(tx) -> JSON dict
"""

import asyncio
import hashlib
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any

from bson import ObjectId
from fastapi import Header, Response
from pydantic import AfterValidator, BaseModel, WithJsonSchema
from pydantic_core import PydanticCustomError
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from shared.errors import Problem, field_problem
from shared.outbox import Tx

if TYPE_CHECKING:
    from shared.runtime import Runtime

IDEMPOTENCY_COLLECTION = "idempotency_keys"
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Printable ASCII, as an HTTP header value carries it; spaces inside only (the header parser trims the ends).
KEY_PATTERN = r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$"
_KEY = re.compile(KEY_PATTERN)
# Before this module, expense_service kept its keys in this collection unique on (user_id, key), unscoped.
_LEGACY_INDEXES = ("one_record_per_key",)

Create = Callable[[Tx], Awaitable[dict[str, Any]]]


async def create_idempotency_indexes(db: AsyncDatabase) -> None:
    """Registered by the runtime for every service (Database.on_ready), like the outbox's indexes."""
    collection = db[IDEMPOTENCY_COLLECTION]
    async for index in await collection.list_indexes():
        if index["name"] in _LEGACY_INDEXES:
            await collection.drop_index(index["name"])
    await collection.create_indexes([
        IndexModel([("user_id", ASCENDING), ("scope", ASCENDING), ("key", ASCENDING)], unique=True,
                   name="one_record_per_scoped_key"),
        IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0),
    ])


def _valid_key(value: str) -> str:
    if len(value) > MAX_KEY_LENGTH or not _KEY.match(value):
        raise PydanticCustomError("idempotency_key", f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return value


IdempotencyKey = Annotated[
    Annotated[str, AfterValidator(_valid_key),
              WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                              "pattern": KEY_PATTERN})] | None,
    Header(alias=HEADER, description="A retry with the same key and the same body creates nothing twice and gets "
                                     f"the first response back (header `{REPLAYED_HEADER}: true`); the same key "
                                     "with another body is a 422. Keys are per user, kept for 24 hours."),
]
"""`idempotency_key: IdempotencyKey = None` in a route: a malformed key is a 422 naming Idempotency-Key."""


def mark_replayed(response: Response, replayed: bool) -> None:
    if replayed:
        response.headers[REPLAYED_HEADER] = "true"


def request_hash(request: BaseModel | Mapping[str, Any]) -> str:
    """The request's fingerprint: its canonical JSON (defaults filled in, keys sorted)."""
    payload = request.model_dump(mode="json") if isinstance(request, BaseModel) else request
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _KeyClaimed(Exception):
    """Another request holds the key: committed (duplicate key) or still in flight (write conflict)."""


async def _stored_response(runtime: "Runtime", *, user_id: str, scope: str, key: str,
                           fingerprint: str) -> dict[str, Any] | None:
    collection = runtime.database.db[IDEMPOTENCY_COLLECTION]
    record = await collection.find_one({"user_id": user_id, "scope": scope, "key": key})
    if record is None:
        return None
    now = datetime.now(timezone.utc)
    if record["expires_at"] <= now:  # the TTL monitor has not removed it yet: the key is free again
        await collection.delete_one({"_id": record["_id"], "expires_at": {"$lte": now}})
        return None
    if record["request_hash"] != fingerprint:
        raise field_problem(HEADER, "this key was already used for a different request")
    return record["response"]


async def run_idempotent(runtime: "Runtime", *, user_id: str, scope: str, key: str | None,
                         request: BaseModel | Mapping[str, Any], create: Create, ttl_hours: float | None = None,
                         wait_seconds: float = 10.0) -> tuple[dict[str, Any], bool]:
    """Run `create(tx)` in one transaction (runtime.atomic) unless this user already made this request with this
    key in this scope; returns (response, replayed). `create` returns the JSON-ready dict a retry gets back (the
    response itself, or the ids to read it again). Without a key, `create` simply runs."""
    if key is None:
        return await runtime.atomic(create), False
    fingerprint = request_hash(request)
    records = runtime.database.db[IDEMPOTENCY_COLLECTION]
    kept_for = timedelta(hours=runtime.settings.idempotency_ttl_hours if ttl_hours is None else ttl_hours)

    async def body(tx: Tx) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        claim = {"_id": ObjectId(), "user_id": user_id, "scope": scope, "key": key, "request_hash": fingerprint,
                 "response": None, "created_at": now, "expires_at": now + kept_for}
        try:  # first write of the transaction: a duplicate stops here, before doing any work
            await records.insert_one(claim, session=tx.session)
        except OperationFailure as exc:
            if isinstance(exc, DuplicateKeyError) or exc.has_error_label("TransientTransactionError"):
                raise _KeyClaimed from exc
            raise
        response = await create(tx)
        await records.update_one({"_id": claim["_id"]}, {"$set": {"response": response}}, session=tx.session)
        return response

    deadline = time.monotonic() + wait_seconds
    attempt = 0
    while True:
        stored = await _stored_response(runtime, user_id=user_id, scope=scope, key=key, fingerprint=fingerprint)
        if stored is not None:
            return stored, True
        if attempt and time.monotonic() >= deadline:
            raise Problem(409, f"a request with this {HEADER} is in progress; retry shortly",
                          headers={"Retry-After": "1"})
        try:
            return await runtime.atomic(body), False
        except _KeyClaimed:
            attempt += 1
        await asyncio.sleep(random.uniform(0, min(0.01 * 2**attempt, 0.25)))  # back off while the winner commits


async def erase_user_keys(tx: Tx, *, user_id: str) -> None:
    """On user.deleted (a handler's ctx is a Tx): the user's keys and stored responses go with their data."""
    await tx.db[IDEMPOTENCY_COLLECTION].delete_many({"user_id": user_id}, session=tx.session)
