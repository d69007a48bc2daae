"""One ledger: each participant's share of a group expense is that member's own expense transaction.

Written in the caller's MongoDB transaction together with the group expense, with expense.created / .updated /
.deleted through the outbox, so budgets and analytics see exactly each member's share. A zero share has no
transaction. A member whose account was deleted has none either (their data was erased).
"""

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from expense_service.models import Category, ExpenseShare, GroupExpense, Transaction
from expense_service.service_categories import find_category
from expense_service.service_profiles import user_prefs
from expense_service.service_transactions import record_transaction, remove_transaction, replace_transaction
from expense_service.settings import Settings
from shared.outbox import Tx

OTHER = "other"


async def share_category(*, user_id: str, name: str | None, session: AsyncClientSession) -> Category:
    """The member's expense category of that name (any case), else their 'other' — created again if they
    deleted it, since a share must be filed somewhere."""
    for ref in (name, OTHER) if name else (OTHER,):
        found = await find_category(user_id=user_id, ref=ref, kind="expense", session=session)
        if found:
            return found[0]
    category = Category(user_id=user_id, kind="expense", name=OTHER, name_key=OTHER, default_key=OTHER)
    await category.insert(session=session)
    return category


async def _category_name(category_id: PydanticObjectId, session: AsyncClientSession) -> str:
    raw = await Category.get_pymongo_collection().find_one({"_id": category_id}, {"name": 1}, session=session)
    return raw["name"] if raw else ""


def _share_transaction(expense: GroupExpense, share: ExpenseShare, category: Category) -> Transaction:
    return Transaction(id=PydanticObjectId(), user_id=share.user_id, type="expense", amount=share.share,
                       currency=expense.currency, category_id=category.id, description=expense.description,
                       occurred_date=expense.occurred_date, group_id=str(expense.group_id),
                       group_expense_id=str(expense.id))


async def sync_share_transactions(tx: Tx, *, settings: Settings, before: GroupExpense | None,
                                  after: GroupExpense | None, recategorize: bool, erased: set[str]) -> None:
    """Bring the members' share transactions from `before` (None: a new expense) to `after` (None: deleted),
    setting each share's transaction_id on `after`. With `recategorize` every share is filed again under the
    expense's category; otherwise a member keeps the category they filed their share under. `erased`: users
    whose accounts were deleted (nothing of theirs is written)."""
    session = tx.session
    previous = {s.user_id: s.transaction_id for s in (before.shares if before else []) if s.transaction_id}
    for share in after.shares if after else []:
        transaction_id = previous.pop(share.user_id, None)
        share.transaction_id = None
        if share.share <= 0 or share.user_id in erased:
            if transaction_id is not None:
                previous[share.user_id] = transaction_id  # removed below
            continue
        timezone = (await user_prefs(settings=settings, user_id=share.user_id, session=session)).timezone
        if transaction_id is None:
            category = await share_category(user_id=share.user_id, name=after.category, session=session)
            transaction = _share_transaction(after, share, category)
            await record_transaction(tx, transaction=transaction, category=category, timezone=timezone)
            share.transaction_id = transaction.id
            continue
        share.transaction_id = transaction_id
        current = await Transaction.find_one({"_id": transaction_id, "user_id": share.user_id}, session=session)
        if current is None:  # erased with the member's account: never written again
            continue
        category = None
        if recategorize:
            category = await share_category(user_id=share.user_id, name=after.category, session=session)
        updated = current.model_copy(update={
            "amount": share.share, "currency": after.currency, "occurred_date": after.occurred_date,
            "description": after.description, "category_id": category.id if category else current.category_id})
        await replace_transaction(tx, before=current, after=updated, timezone=timezone,
                                  old_category_name=await _category_name(current.category_id, session),
                                  category=category if category and category.id != current.category_id else None)
    for user_id, transaction_id in previous.items():
        current = await Transaction.find_one({"_id": transaction_id, "user_id": user_id}, session=session)
        if current is not None:
            timezone = (await user_prefs(settings=settings, user_id=user_id, session=session)).timezone
            await remove_transaction(tx, transaction=current, timezone=timezone,
                                     category_name=await _category_name(current.category_id, session))
