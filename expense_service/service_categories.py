"""Categories: the default set every user gets (exactly once), user-defined ones, and resolving a reference.

Deleting a category that transactions still use is refused (409): the user moves them first. Renaming never
touches transactions, which reference the category by id.
"""

from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError, DuplicateKeyError

from expense_service.models import Category, Profile, Transaction, TransactionType, utc_now
from expense_service.schemas import CategoryCreate, CategoryPage, CategoryPublic, CategoryUpdate
from expense_service.service_profiles import UserPrefs, user_prefs
from shared.errors import Conflict, NotFound, Problem, field_problem
from shared.ids import parse_object_id
from shared.runtime import Runtime
from shared.schemas import PageParams

DEFAULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "expense": ("food", "transport", "housing", "utilities", "health", "entertainment", "shopping", "education",
                "travel", "other"),
    "income": ("salary", "freelance", "investment", "gift", "other"),
}
DUPLICATE_KEY = 11000
SEEDED_CACHE_MAX = 100_000


def name_key(name: str) -> str:
    """Names compare case-insensitively and ignore repeated inner whitespace."""
    return " ".join(name.split()).casefold()


def to_public(category: Category) -> CategoryPublic:
    return CategoryPublic(id=str(category.id), kind=category.kind, name=category.name,
                          is_default=category.default_key is not None, created_at=category.created_at,
                          updated_at=category.updated_at)


async def seed_default_categories(*, user_id: str, session: AsyncClientSession | None = None) -> None:
    """Create the default set; idempotent. Concurrent first requests race on the unique (user, kind, name_key)
    index, so each default exists exactly once."""
    now = utc_now()
    ops = [UpdateOne({"user_id": user_id, "kind": kind, "name_key": name},
                     {"$setOnInsert": {"name": name, "default_key": name, "created_at": now, "updated_at": now,
                                       "last_used_at": None}}, upsert=True)
           for kind, names in DEFAULT_CATEGORIES.items() for name in names]
    try:
        await Category.get_pymongo_collection().bulk_write(ops, ordered=False, session=session)
    except BulkWriteError as exc:
        lost_races = all(e.get("code") == DUPLICATE_KEY for e in exc.details.get("writeErrors", []))
        if session is not None or not lost_races:
            raise
    profiles = Profile.get_pymongo_collection()
    marker = {"$set": {"categories_seeded": True, "updated_at": now}}
    try:
        await profiles.update_one({"user_id": user_id}, marker, upsert=True, session=session)
    except DuplicateKeyError:
        if session is not None:
            raise
        await profiles.update_one({"user_id": user_id}, marker)  # a concurrent request created the profile


async def prepare_user(*, runtime: Runtime, user_id: str) -> UserPrefs:
    """The user's preferences, with the default categories created on first use (for users whose
    registration this service never saw)."""
    prefs = await user_prefs(settings=runtime.settings, user_id=user_id)
    seeded: set[str] = runtime.extras.setdefault("seeded_users", set())
    if user_id not in seeded:
        if not prefs.categories_seeded:
            await seed_default_categories(user_id=user_id)
        if len(seeded) >= SEEDED_CACHE_MAX:
            seeded.clear()
        seeded.add(user_id)
    return prefs


async def ensure_categories(*, runtime: Runtime, user_id: str) -> None:
    """prepare_user() for callers that need only the categories to exist: no read once this process has seen
    the user (the list and read paths are hot)."""
    if user_id not in runtime.extras.get("seeded_users", ()):
        await prepare_user(runtime=runtime, user_id=user_id)


def forget_user(extras: dict[str, Any], user_id: str) -> None:
    extras.get("seeded_users", set()).discard(user_id)


async def find_category(*, user_id: str, ref: str, kind: TransactionType | None,
                        session: AsyncClientSession | None = None) -> list[Category]:
    """Categories of the user that `ref` names: an id, else a name (any case) of the given kind or both kinds."""
    if ObjectId.is_valid(ref):
        found = await Category.find_one({"_id": ObjectId(ref), "user_id": user_id}, session=session)
        if found is not None:
            return [found]
    query: dict[str, Any] = {"user_id": user_id, "name_key": name_key(ref)}
    if kind is not None:
        query["kind"] = kind
    return await Category.find(query, session=session).to_list()


async def resolve_category(*, user_id: str, ref: str | None, kind: TransactionType, field: str = "category",
                           session: AsyncClientSession | None = None) -> Category:
    """The category a transaction of `kind` goes in; 'other' when none is given. 422 naming the field otherwise."""
    if ref is None:
        found = await find_category(user_id=user_id, ref="other", kind=kind, session=session)
        if found:
            return found[0]
        raise field_problem(field, f"required: the user has no '{kind}' category named 'other'")
    found = await find_category(user_id=user_id, ref=ref, kind=None, session=session)
    matching = [c for c in found if c.kind == kind]
    if matching:
        return matching[0]
    if found:
        raise field_problem(field, f"'{found[0].name}' is an {found[0].kind} category; "
                                   f"an {kind} needs an {kind} category")
    raise field_problem(field, f"no category '{ref}' of this user")


async def touch_category(*, session: AsyncClientSession, category: Category, field: str = "category") -> None:
    """Mark the category used inside the transaction: a concurrent delete of it then conflicts with this write,
    so no transaction is ever left pointing at a deleted category."""
    result = await Category.get_pymongo_collection().update_one(
        {"_id": category.id, "user_id": category.user_id}, {"$set": {"last_used_at": utc_now()}}, session=session)
    if result.matched_count == 0:
        raise field_problem(field, "the category was deleted meanwhile")


async def category_names(*, user_id: str, ids: set[Any]) -> dict[Any, str]:
    if not ids:
        return {}
    found = Category.get_pymongo_collection().find({"_id": {"$in": list(ids)}, "user_id": user_id}, {"name": 1})
    return {raw["_id"]: raw["name"] async for raw in found}


async def list_categories(*, runtime: Runtime, user_id: str, kind: TransactionType | None,
                          page: PageParams) -> CategoryPage:
    await ensure_categories(runtime=runtime, user_id=user_id)
    query: dict[str, Any] = {"user_id": user_id}
    if kind is not None:
        query["kind"] = kind
    found = Category.find(query).sort([("kind", 1), ("name_key", 1)])
    items = await found.skip(page.offset).limit(page.limit).to_list()
    total = await Category.find(query).count()
    return CategoryPage(items=[to_public(c) for c in items], total=total, limit=page.limit, offset=page.offset)


async def get_category(*, runtime: Runtime, user_id: str, category_id: str) -> CategoryPublic:
    await ensure_categories(runtime=runtime, user_id=user_id)
    return to_public(await _owned(user_id, category_id))


async def _owned(user_id: str, category_id: str, session: AsyncClientSession | None = None) -> Category:
    oid = parse_object_id(category_id, "category")
    category = await Category.find_one({"_id": oid, "user_id": user_id}, session=session)
    if category is None:
        raise NotFound("category")
    return category


async def create_category(*, runtime: Runtime, user_id: str, data: CategoryCreate) -> CategoryPublic:
    await ensure_categories(runtime=runtime, user_id=user_id)
    limit = runtime.settings.max_categories_per_user
    if await Category.find({"user_id": user_id}).count() >= limit:
        raise Conflict(f"a user has at most {limit} categories; delete unused ones first")
    category = Category(user_id=user_id, kind=data.kind, name=" ".join(data.name.split()),
                        name_key=name_key(data.name))
    try:
        await category.insert()
    except DuplicateKeyError:
        raise _name_taken(data.kind, data.name) from None
    return to_public(category)


def _name_taken(kind: str, name: str) -> Problem:
    return Problem(409, f"an {kind} category named '{name}' exists already",
                   errors=[{"field": "name", "message": "already taken"}])


async def rename_category(*, runtime: Runtime, user_id: str, category_id: str,
                          data: CategoryUpdate) -> CategoryPublic:
    category = await _owned(user_id, category_id)
    category.name, category.name_key = " ".join(data.name.split()), name_key(data.name)
    category.updated_at = utc_now()
    try:
        await Category.get_pymongo_collection().update_one(
            {"_id": category.id, "user_id": user_id},
            {"$set": {"name": category.name, "name_key": category.name_key, "updated_at": category.updated_at}})
    except DuplicateKeyError:
        raise _name_taken(category.kind, data.name) from None
    return to_public(category)


async def delete_category(*, runtime: Runtime, user_id: str, category_id: str) -> None:
    """Refused with 409 while transactions use the category; the check and the delete are one transaction."""

    async def body(tx: Any) -> None:
        category = await _owned(user_id, category_id, tx.session)
        in_use = await Transaction.get_pymongo_collection().count_documents(
            {"user_id": user_id, "category_id": category.id}, session=tx.session)
        if in_use:
            raise Conflict(f"{in_use} transaction(s) use this category; move them to another category first")
        await Category.get_pymongo_collection().delete_one({"_id": category.id}, session=tx.session)

    await runtime.atomic(body)
