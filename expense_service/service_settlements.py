"""Settle-up payments between members: recorded, listed, undone — the group's balances follow in the same
transaction. Only a party to a payment records or undoes it. Someone no longer in the group can still be paid
what they are owed (or pay what they owe), never more: their balance only moves towards zero.
"""

from decimal import Decimal
from typing import Any

from beanie import PydanticObjectId

from expense_service.models import Group, Settlement
from expense_service.schemas_groups import SettlementCreate, SettlementPage, SettlementPublic
from expense_service.service_groups import display_names, member_group
from expense_service.service_transactions import checked_amount
from shared.db import replace_at_revision
from shared.errors import Conflict, NotFound, Problem, field_problem
from shared.idempotency import run_idempotent
from shared.ids import parse_object_id
from shared.outbox import Tx
from shared.runtime import Runtime
from shared.schemas import PageParams

CREATE_SCOPE = "settlement.create"  # Idempotency-Key scope


def _public(settlement: Settlement, names: dict[str, str]) -> SettlementPublic:
    return SettlementPublic(id=str(settlement.id), group_id=str(settlement.group_id),
                            from_user=settlement.from_user, from_name=names[settlement.from_user],
                            to_user=settlement.to_user, to_name=names[settlement.to_user], amount=settlement.amount,
                            currency=settlement.currency, recorded_by=settlement.recorded_by,
                            created_at=settlement.created_at)


def _apply(group: Group, settlement: Settlement, sign: int) -> None:
    group.account(settlement.from_user).sent += sign * settlement.amount
    group.account(settlement.to_user).received += sign * settlement.amount


def _guard_former_parties(group: Group, settlement: Settlement, nets_before: dict[str, Decimal]) -> None:
    """A former member's balance may only shrink towards zero, never grow or flip."""
    for user_id in (settlement.from_user, settlement.to_user):
        if group.member(user_id) is not None:
            continue
        old, new = nets_before.get(user_id, Decimal(0)), group.net(user_id)
        if not (min(old, Decimal(0)) <= new <= max(old, Decimal(0))):
            raise Conflict(f"{user_id} is no longer in the group: a payment with them may only square what is "
                           f"still open ({old} {group.currency})")


def _require_party(settlement_from: str, settlement_to: str, user_id: str, action: str) -> None:
    if user_id not in (settlement_from, settlement_to):
        raise Problem(403, f"only the payer or the payee can {action} a settlement")


async def record_settlement(*, runtime: Runtime, user_id: str, group_id: str, data: SettlementCreate,
                            idempotency_key: str | None = None) -> tuple[SettlementPublic, bool]:
    group = await member_group(group_id, user_id)
    _require_party(data.from_user, data.to_user, user_id, "record")
    if data.from_user == data.to_user:
        raise field_problem("to_user", "must differ from from_user")
    amount = checked_amount(data.amount, group.currency)

    async def create(tx: Tx) -> dict[str, Any]:
        group = await member_group(group_id, user_id, tx.session)
        known = {m.user_id for m in group.members} | {f.user_id for f in group.former_members}
        for field in ("from_user", "to_user"):
            if getattr(data, field) not in known:
                raise field_problem(field, f"{getattr(data, field)} has never been in the group")
        settlement = Settlement(id=PydanticObjectId(), group_id=group.id, from_user=data.from_user,
                                to_user=data.to_user, amount=amount, currency=group.currency, recorded_by=user_id)
        nets_before = {a.user_id: a.net for a in group.accounts}
        _apply(group, settlement, +1)
        _guard_former_parties(group, settlement, nets_before)
        await settlement.insert(session=tx.session)
        await replace_at_revision(group, tx.session)
        names = await display_names([settlement.from_user, settlement.to_user], group)
        return _public(settlement, names).model_dump(mode="json")

    response, replayed = await run_idempotent(runtime, user_id=user_id, scope=CREATE_SCOPE, key=idempotency_key,
                                              request={"group_id": str(group.id), **data.model_dump(mode="json")},
                                              create=create)  # the group is part of the request: one key, one group
    return SettlementPublic.model_validate(response), replayed


async def list_settlements(*, user_id: str, group_id: str, page: PageParams) -> SettlementPage:
    group = await member_group(group_id, user_id)
    query = {"group_id": group.id}
    found = await Settlement.find(query).sort([("created_at", -1), ("_id", -1)]).skip(page.offset).limit(
        page.limit).to_list()
    total = await Settlement.get_pymongo_collection().count_documents(query)
    names = await display_names({u for s in found for u in (s.from_user, s.to_user)}, group)
    return SettlementPage(items=[_public(s, names) for s in found], total=total, limit=page.limit,
                          offset=page.offset)


async def delete_settlement(*, runtime: Runtime, user_id: str, group_id: str, settlement_id: str) -> None:
    """Undo a payment recorded by mistake: only a party to it; the balances go back."""
    oid = parse_object_id(settlement_id, "settlement")

    async def body(tx: Tx) -> None:
        group = await member_group(group_id, user_id, tx.session)
        settlement = await Settlement.find_one({"_id": oid, "group_id": group.id}, session=tx.session)
        if settlement is None:
            raise NotFound("settlement")
        _require_party(settlement.from_user, settlement.to_user, user_id, "undo")
        nets_before = {a.user_id: a.net for a in group.accounts}
        _apply(group, settlement, -1)
        _guard_former_parties(group, settlement, nets_before)
        await Settlement.get_pymongo_collection().delete_one({"_id": settlement.id}, session=tx.session)
        await replace_at_revision(group, tx.session)

    await runtime.atomic(body)
