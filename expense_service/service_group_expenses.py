"""Group expenses: record, read, edit, delete — each with the group's balances, the members' share transactions
and their events in one MongoDB transaction.

Rules: the payer and the participants are current members when named; the participants are fixed when the
expense is recorded (someone joining later owes nothing for it). The member who added an expense and the
group's owner may edit or delete it (another member: 403). A change that would move the balance of someone no
longer in the group (they left settled, were removed, or deleted their account) is refused with 409.
"""

from decimal import Decimal
from typing import Any

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from expense_service.models import ExpenseShare, Group, GroupExpense, utc_now
from expense_service.schemas_groups import (
    GroupExpenseCreate,
    GroupExpensePage,
    GroupExpensePublic,
    GroupExpenseUpdate,
    ParticipantIn,
    SharePublic,
)
from expense_service.service_categories import ensure_categories, find_category, prepare_user
from expense_service.service_group_shares import sync_share_transactions
from expense_service.service_groups import display_names, member_group
from expense_service.service_transactions import checked_amount
from expense_service.split import SplitError, SplitMode, split_amount
from shared.db import replace_at_revision
from shared.errors import Conflict, NotFound, Problem, field_problem
from shared.events import GroupExpenseAdded, GroupShare
from shared.idempotency import run_idempotent
from shared.ids import parse_object_id
from shared.money import minor_digits
from shared.outbox import Tx
from shared.runtime import Runtime
from shared.schemas import PageParams

CREATE_SCOPE = "group_expense.create"  # Idempotency-Key scope


async def expense_public(expense: GroupExpense, group: Group | None = None) -> GroupExpensePublic:
    names = await display_names([expense.payer_id, *(s.user_id for s in expense.shares)], group)
    return _public(expense, names)


def _public(expense: GroupExpense, names: dict[str, str]) -> GroupExpensePublic:
    return GroupExpensePublic(
        id=str(expense.id), group_id=str(expense.group_id), payer_id=expense.payer_id,
        payer_name=names[expense.payer_id], amount=expense.amount, currency=expense.currency,
        description=expense.description, occurred_date=expense.occurred_date, category=expense.category,
        split_mode=expense.split_mode, created_by=expense.created_by, created_at=expense.created_at,
        updated_at=expense.updated_at,
        shares=[SharePublic(user_id=s.user_id, name=names[s.user_id], value=s.value, share=s.share)
                for s in expense.shares])


def compute_shares(amount: Decimal, currency: str, mode: SplitMode,
                   participants: list[tuple[str, Decimal | None]]) -> list[ExpenseShare]:
    try:
        shares = split_amount(amount, minor_digits(currency), mode, participants)
    except SplitError as exc:
        raise field_problem(exc.field, exc.message) from None
    return [ExpenseShare(user_id=u, value=v, share=s) for (u, v), s in zip(participants, shares, strict=True)]


def apply_to_accounts(group: Group, expense: GroupExpense, sign: int) -> None:
    group.account(expense.payer_id).paid += sign * expense.amount
    for share in expense.shares:
        group.account(share.user_id).owed += sign * share.share


def _guard_former_members(group: Group, nets_before: dict[str, Decimal]) -> None:
    members = {m.user_id for m in group.members}
    for account in group.accounts:
        if account.user_id not in members and account.net != nets_before.get(account.user_id, Decimal(0)):
            raise Conflict(f"{account.user_id} is no longer in the group; a change that moves their balance "
                           f"cannot be made")


def _nets(group: Group) -> dict[str, Decimal]:
    return {a.user_id: a.net for a in group.accounts}


def _erased(group: Group) -> set[str]:
    return {f.user_id for f in group.former_members if f.reason == "deleted"}


def _require_member(group: Group, user_id: str, field: str, allowed: set[str] | None = None) -> None:
    if group.member(user_id) is None and user_id not in (allowed or set()):
        raise field_problem(field, f"{user_id} is not a member of the group")


def _check_participants(group: Group, participants: list[ParticipantIn], allowed: set[str]) -> None:
    for i, p in enumerate(participants):
        _require_member(group, p.user_id, f"participants.{i}.user_id", allowed)


async def _category_label(user_id: str, ref: str | None) -> str | None:
    """The name of the caller's expense category `ref` (an id or a name): shares are filed by name per member."""
    if ref is None:
        return None
    found = await find_category(user_id=user_id, ref=ref, kind="expense")
    if not found:
        raise field_problem("category", f"no expense category '{ref}' of yours")
    return found[0].name


async def _prepare_members(runtime: Runtime, user_ids: set[str]) -> None:
    """Members' default categories exist before a share is filed (users this service has not seen yet)."""
    for user_id in sorted(user_ids):
        await ensure_categories(runtime=runtime, user_id=user_id)


async def _group_expense(group: Group, expense_id: str, session: AsyncClientSession | None = None) -> GroupExpense:
    oid = parse_object_id(expense_id, "group expense")
    expense = await GroupExpense.find_one({"_id": oid, "group_id": group.id}, session=session)
    if expense is None:
        raise NotFound("group expense")
    return expense


def _require_editor(group: Group, expense: GroupExpense, user_id: str) -> None:
    if user_id not in (expense.created_by, group.owner_id):
        raise Problem(403, "only the member who added this expense or the group's owner can change it")


async def create_group_expense(*, runtime: Runtime, user_id: str, group_id: str, data: GroupExpenseCreate,
                               idempotency_key: str | None = None) -> tuple[GroupExpensePublic, bool]:
    """The recorded expense, and whether it is the replay of an earlier request with the same key."""
    group = await member_group(group_id, user_id)
    if data.participants is None and data.split_mode != "equal":
        raise field_problem("participants", f"required for a {data.split_mode} split: who, and their values")
    amount = checked_amount(data.amount, group.currency)
    prefs = await prepare_user(runtime=runtime, user_id=user_id)  # first: the caller's categories exist
    occurred_date = data.occurred_date or prefs.today()
    payer_id = data.payer_id or user_id

    async def create(tx: Tx) -> dict[str, Any]:
        category = await _category_label(user_id, data.category)  # after the key: a retry is answered regardless
        group = await member_group(group_id, user_id, tx.session)
        _require_member(group, payer_id, "payer_id")
        participants = data.participants or [ParticipantIn(user_id=m.user_id) for m in group.members]
        _check_participants(group, participants, set())
        expense = GroupExpense(
            id=PydanticObjectId(), group_id=group.id, payer_id=payer_id, amount=amount, currency=group.currency,
            description=data.description, occurred_date=occurred_date, category=category,
            split_mode=data.split_mode, created_by=user_id,
            shares=compute_shares(amount, group.currency, data.split_mode,
                                  [(p.user_id, p.value) for p in participants]))
        await sync_share_transactions(tx, settings=runtime.settings, before=None, after=expense, recategorize=True,
                                      erased=_erased(group))
        await expense.insert(session=tx.session)
        apply_to_accounts(group, expense, +1)
        await replace_at_revision(group, tx.session)
        await tx.publish(GroupExpenseAdded(
            group_id=str(group.id), group_name=group.name, group_expense_id=str(expense.id),
            description=expense.description, amount=expense.amount, currency=expense.currency,
            payer_id=expense.payer_id, added_by=user_id, occurred_date=expense.occurred_date,
            shares=[GroupShare(user_id=s.user_id, share=s.share) for s in expense.shares]), user_id=user_id)
        return (await expense_public(expense)).model_dump(mode="json")

    named = {p.user_id for p in data.participants} if data.participants else {m.user_id for m in group.members}
    await _prepare_members(runtime, {u for u in named if group.member(u)})
    response, replayed = await run_idempotent(runtime, user_id=user_id, scope=CREATE_SCOPE, key=idempotency_key,
                                              request={"group_id": str(group.id), **data.model_dump(mode="json")},
                                              create=create)  # the group is part of the request: one key, one group
    return GroupExpensePublic.model_validate(response), replayed


async def list_group_expenses(*, user_id: str, group_id: str, page: PageParams) -> GroupExpensePage:
    group = await member_group(group_id, user_id)
    query = {"group_id": group.id}
    found = await GroupExpense.find(query).sort([("occurred_date", -1), ("_id", -1)]).skip(page.offset).limit(
        page.limit).to_list()
    total = await GroupExpense.get_pymongo_collection().count_documents(query)
    names = await display_names({u for e in found for u in (e.payer_id, *(s.user_id for s in e.shares))}, group)
    return GroupExpensePage(items=[_public(e, names) for e in found], total=total, limit=page.limit,
                            offset=page.offset)


async def get_group_expense(*, user_id: str, group_id: str, expense_id: str) -> GroupExpensePublic:
    group = await member_group(group_id, user_id)
    return await expense_public(await _group_expense(group, expense_id), group)


def _edited(expense: GroupExpense, group: Group, sent: dict[str, Any], changes: GroupExpenseUpdate,
            category: str | None) -> GroupExpense:
    """The expense as the PATCH would leave it (shares recomputed when amount, mode or participants change)."""
    updated = expense.model_copy(deep=True, update={
        k: sent[k] for k in ("description", "occurred_date", "payer_id") if k in sent})
    if "category" in sent:
        updated.category = category
    if "payer_id" in sent:
        _require_member(group, updated.payer_id, "payer_id", {expense.payer_id})
    if not {"amount", "split_mode", "participants"} & sent.keys():
        return updated
    updated.amount = checked_amount(sent.get("amount", expense.amount), expense.currency)
    updated.split_mode = sent.get("split_mode", expense.split_mode)
    if changes.participants is not None:
        _check_participants(group, changes.participants, {s.user_id for s in expense.shares})
        participants = [(p.user_id, p.value) for p in changes.participants]
    elif updated.split_mode == "equal":
        participants = [(s.user_id, None) for s in expense.shares]
    elif updated.split_mode == expense.split_mode:
        participants = [(s.user_id, s.value) for s in expense.shares]
    else:
        raise field_problem("participants", f"a change to a {updated.split_mode} split needs the participants "
                                            "with their values")
    updated.shares = compute_shares(updated.amount, expense.currency, updated.split_mode, participants)
    return updated


def _same(a: GroupExpense, b: GroupExpense) -> bool:
    fields = ("payer_id", "amount", "description", "occurred_date", "category", "split_mode")
    return all(getattr(a, f) == getattr(b, f) for f in fields) and \
        [(s.user_id, s.value, s.share) for s in a.shares] == [(s.user_id, s.value, s.share) for s in b.shares]


async def update_group_expense(*, runtime: Runtime, user_id: str, group_id: str, expense_id: str,
                               changes: GroupExpenseUpdate) -> GroupExpensePublic:
    """Apply the fields sent; the balances and every member's share transaction follow. No change, no event."""
    sent = changes.model_dump(exclude_unset=True)
    group = await member_group(group_id, user_id)
    _require_editor(group, await _group_expense(group, expense_id), user_id)
    await ensure_categories(runtime=runtime, user_id=user_id)
    category = await _category_label(user_id, sent.get("category"))
    if changes.participants:
        await _prepare_members(runtime, {p.user_id for p in changes.participants if group.member(p.user_id)})

    async def body(tx: Tx) -> GroupExpensePublic:
        group = await member_group(group_id, user_id, tx.session)
        expense = await _group_expense(group, expense_id, tx.session)
        _require_editor(group, expense, user_id)
        updated = _edited(expense, group, sent, changes, category)
        if _same(expense, updated):
            return await expense_public(expense, group)
        nets_before = _nets(group)
        apply_to_accounts(group, expense, -1)
        apply_to_accounts(group, updated, +1)
        _guard_former_members(group, nets_before)
        await sync_share_transactions(tx, settings=runtime.settings, before=expense, after=updated,
                                      recategorize=updated.category != expense.category, erased=_erased(group))
        updated.revision, updated.updated_at = expense.revision + 1, utc_now()
        await updated.replace(session=tx.session)
        await replace_at_revision(group, tx.session)
        return await expense_public(updated, group)

    return await runtime.atomic(body)


async def delete_group_expense(*, runtime: Runtime, user_id: str, group_id: str, expense_id: str) -> None:
    async def body(tx: Tx) -> None:
        group = await member_group(group_id, user_id, tx.session)
        expense = await _group_expense(group, expense_id, tx.session)
        _require_editor(group, expense, user_id)
        nets_before = _nets(group)
        apply_to_accounts(group, expense, -1)
        _guard_former_members(group, nets_before)
        await sync_share_transactions(tx, settings=runtime.settings, before=expense, after=None,
                                      recategorize=False, erased=_erased(group))
        await GroupExpense.get_pymongo_collection().delete_one({"_id": expense.id}, session=tx.session)
        await replace_at_revision(group, tx.session)

    await runtime.atomic(body)
