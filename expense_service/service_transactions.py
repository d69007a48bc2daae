"""Transactions (income and expense): create, read, update, delete — each change and its event in one
MongoDB transaction through the outbox."""

from decimal import Decimal
from typing import Any

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from expense_service.models import Category, Transaction, utc_now
from expense_service.schemas import TransactionCreate, TransactionPublic, TransactionUpdate
from expense_service.service_categories import category_names, prepare_user, resolve_category, touch_category
from shared.errors import Conflict, NotFound, field_problem
from shared.events import ExpenseCreated, ExpenseDeleted, ExpenseUpdated, TransactionSnapshot
from shared.idempotency import run_idempotent
from shared.ids import parse_object_id
from shared.money import fits_currency, minor_digits, round_money
from shared.outbox import Tx
from shared.runtime import Runtime

CREATE_SCOPE = "transaction.create"  # Idempotency-Key scope


def snapshot(transaction: Transaction, *, category_name: str, timezone: str) -> TransactionSnapshot:
    return TransactionSnapshot(
        id=str(transaction.id), user_id=transaction.user_id, type=transaction.type, amount=transaction.amount,
        currency=transaction.currency, category_id=str(transaction.category_id), category_name=category_name,
        occurred_date=transaction.occurred_date, description=transaction.description,
        payment_method=transaction.payment_method, tags=list(transaction.tags), group_id=transaction.group_id,
        group_expense_id=transaction.group_expense_id, invoice_id=transaction.invoice_id, timezone=timezone,
        created_at=transaction.created_at, revision=transaction.revision, updated_at=transaction.updated_at)


def to_public(transaction: Transaction, category_name: str) -> TransactionPublic:
    return TransactionPublic(
        id=str(transaction.id), type=transaction.type, amount=transaction.amount, currency=transaction.currency,
        category_id=str(transaction.category_id), category=category_name, description=transaction.description,
        occurred_date=transaction.occurred_date, payment_method=transaction.payment_method,
        tags=list(transaction.tags), notes=transaction.notes, invoice_id=transaction.invoice_id,
        group_id=transaction.group_id, group_expense_id=transaction.group_expense_id,
        created_at=transaction.created_at, updated_at=transaction.updated_at)


def checked_amount(amount: Decimal, currency: str, field: str = "amount") -> Decimal:
    """The amount at the currency's minor unit; 422 when it has more decimals than the currency allows."""
    if not fits_currency(amount, currency):
        raise field_problem(field, f"{currency} amounts have at most {minor_digits(currency)} decimal places")
    return round_money(amount, currency)


async def record_transaction(tx: Tx, *, transaction: Transaction, category: Category, timezone: str) -> None:
    """Insert a new transaction and its expense.created event (API, CSV import, paid invoices, group shares)."""
    await touch_category(session=tx.session, category=category)
    await transaction.insert(session=tx.session)
    await tx.publish(ExpenseCreated(expense=snapshot(transaction, category_name=category.name, timezone=timezone)),
                     user_id=transaction.user_id)


async def replace_transaction(tx: Tx, *, before: Transaction, after: Transaction, old_category_name: str,
                              category: Category | None, timezone: str) -> bool:
    """Store `after` (a changed copy of `before`) as the next revision with its expense.updated event.
    `category` is the new category when it changed. False, and nothing written, when nothing changed."""
    new_name = category.name if category else old_category_name
    old_snapshot = snapshot(before, category_name=old_category_name, timezone=timezone)
    if snapshot(after, category_name=new_name, timezone=timezone) == old_snapshot and after.notes == before.notes:
        return False
    after.revision, after.updated_at = before.revision + 1, utc_now()
    if category is not None:
        await touch_category(session=tx.session, category=category)
    await after.replace(session=tx.session)
    await tx.publish(ExpenseUpdated(before=old_snapshot,
                                    after=snapshot(after, category_name=new_name, timezone=timezone)),
                     user_id=after.user_id)
    return True


async def remove_transaction(tx: Tx, *, transaction: Transaction, category_name: str, timezone: str) -> None:
    """Delete the transaction; its expense.deleted event carries the next revision."""
    await Transaction.get_pymongo_collection().delete_one({"_id": transaction.id}, session=tx.session)
    gone = transaction.model_copy(update={"revision": transaction.revision + 1, "updated_at": utc_now()})
    await tx.publish(ExpenseDeleted(expense=snapshot(gone, category_name=category_name, timezone=timezone)),
                     user_id=transaction.user_id)


async def create_transaction(*, runtime: Runtime, user_id: str, data: TransactionCreate,
                             idempotency_key: str | None = None) -> tuple[TransactionPublic, bool]:
    """The created transaction, and whether it is the replay of an earlier request with the same key."""
    prefs = await prepare_user(runtime=runtime, user_id=user_id)
    currency = data.currency or prefs.default_currency
    occurred_date = data.occurred_date or prefs.today()

    async def create(tx: Tx) -> dict[str, Any]:
        # Checked here, after the key: a retry of a request that succeeded gets its answer whatever changed since.
        amount = checked_amount(data.amount, currency)
        category = await resolve_category(user_id=user_id, ref=data.category, kind=data.type, session=tx.session)
        transaction = Transaction(
            id=PydanticObjectId(), user_id=user_id, type=data.type, amount=amount, currency=currency,
            category_id=category.id, description=data.description, occurred_date=occurred_date,
            payment_method=data.payment_method, tags=data.tags, notes=data.notes)
        await record_transaction(tx, transaction=transaction, category=category, timezone=prefs.timezone)
        return to_public(transaction, category.name).model_dump(mode="json")

    response, replayed = await run_idempotent(runtime, user_id=user_id, scope=CREATE_SCOPE, key=idempotency_key,
                                              request=data, create=create)
    return TransactionPublic.model_validate(response), replayed


async def _owned(user_id: str, transaction_id: str, session: AsyncClientSession | None = None) -> Transaction:
    oid = parse_object_id(transaction_id, "expense")
    transaction = await Transaction.find_one({"_id": oid, "user_id": user_id}, session=session)
    if transaction is None:
        raise NotFound("expense")
    return transaction


async def _category_name(user_id: str, category_id: Any) -> str:
    return (await category_names(user_id=user_id, ids={category_id})).get(category_id, "")


async def get_transaction(*, user_id: str, transaction_id: str) -> TransactionPublic:
    transaction = await _owned(user_id, transaction_id)
    return to_public(transaction, await _category_name(user_id, transaction.category_id))


async def update_transaction(*, runtime: Runtime, user_id: str, transaction_id: str,
                             changes: TransactionUpdate) -> TransactionPublic:
    """Apply the fields sent; expense.updated carries the snapshots before and after. No change, no event."""
    parse_object_id(transaction_id, "expense")
    prefs = await prepare_user(runtime=runtime, user_id=user_id)
    sent = changes.model_dump(exclude_unset=True)

    async def body(tx: Tx) -> TransactionPublic:
        transaction = await _owned(user_id, transaction_id, tx.session)
        old_name = await _category_name(user_id, transaction.category_id)
        new_type = sent.get("type", transaction.type)
        category: Category | None = None
        if "category" in sent:
            category = await resolve_category(user_id=user_id, ref=sent["category"], kind=new_type,
                                              session=tx.session)
        elif new_type != transaction.type:
            raise field_problem("category", f"changing the type to {new_type} needs a category of that type")
        currency = sent.get("currency", transaction.currency)
        amount = checked_amount(sent.get("amount", transaction.amount), currency)
        updated = transaction.model_copy(update={
            "type": new_type, "amount": amount, "currency": currency,
            "category_id": category.id if category else transaction.category_id,
            **{k: sent[k] for k in ("description", "occurred_date", "payment_method", "tags", "notes") if k in sent},
        })
        _guard_group_share(transaction, updated)
        if not await replace_transaction(tx, before=transaction, after=updated, old_category_name=old_name,
                                         category=category, timezone=prefs.timezone):
            return to_public(transaction, old_name)
        return to_public(updated, category.name if category else old_name)

    return await runtime.atomic(body)


def _guard_group_share(transaction: Transaction, updated: Transaction | None) -> None:
    """A share of a group expense follows its group expense: only the member's own filing of it (category, tags,
    notes, payment method) changes here; amount, currency, date, description and deleting it are 409."""
    if transaction.group_expense_id is None:
        return
    locked = ("type", "amount", "currency", "occurred_date", "description")
    if updated is None or any(getattr(updated, f) != getattr(transaction, f) for f in locked):
        raise Conflict(f"this is your share of a group expense: edit or delete it through "
                       f"/api/groups/{transaction.group_id}/expenses/{transaction.group_expense_id}")


async def delete_transaction(*, runtime: Runtime, user_id: str, transaction_id: str) -> None:
    parse_object_id(transaction_id, "expense")
    prefs = await prepare_user(runtime=runtime, user_id=user_id)

    async def body(tx: Tx) -> None:
        transaction = await _owned(user_id, transaction_id, tx.session)
        _guard_group_share(transaction, None)
        name = await _category_name(user_id, transaction.category_id)
        await remove_transaction(tx, transaction=transaction, category_name=name, timezone=prefs.timezone)

    await runtime.atomic(body)
