"""Groups: create, invite code, join, leave, members, rename, balances.

Every change of a group rewrites its document under its revision (replace_at_revision): two concurrent changes of
one group — an expense recorded while a member leaves — cannot both commit; the second is retried and sees
the first. Only members see a group: anyone else gets 404, whatever the group's id.
"""

import secrets
from collections.abc import Iterable
from decimal import Decimal

from pymongo.asynchronous.client_session import AsyncClientSession

from expense_service.models import DepartureReason, FormerMember, Group, GroupMember, Profile, utc_now
from expense_service.schemas_groups import (
    BalancePublic,
    BalancesPublic,
    GroupCreate,
    GroupPage,
    GroupPublic,
    GroupSummary,
    GroupUpdate,
    InviteCodePublic,
    MemberPage,
    MemberPublic,
    TransferPublic,
)
from expense_service.split import settle_up
from shared.db import replace_at_revision
from shared.errors import Conflict, NotFound, Problem
from shared.ids import parse_object_id
from shared.money import round_money
from shared.outbox import Tx
from shared.runtime import Runtime
from shared.schemas import PageParams

INVITE_CODE_BYTES = 24  # 192 bits: unguessable
DELETED_USER = "deleted user"


def new_invite_code() -> str:
    return secrets.token_urlsafe(INVITE_CODE_BYTES)


async def member_group(group_id: str, user_id: str, session: AsyncClientSession | None = None) -> Group:
    """The group, if the user is one of its members; 404 otherwise (a non-member learns nothing)."""
    oid = parse_object_id(group_id, "group")
    group = await Group.find_one({"_id": oid, "members.user_id": user_id}, session=session)
    if group is None:
        raise NotFound("group")
    return group


def require_owner(group: Group, user_id: str, action: str) -> None:
    if group.owner_id != user_id:
        raise Problem(403, f"only the group's owner can {action}")


async def display_names(user_ids: Iterable[str], group: Group | None = None) -> dict[str, str]:
    """Display names from the profile copies; a short id for someone whose name is unknown."""
    wanted = set(user_ids)
    found = Profile.get_pymongo_collection().find({"user_id": {"$in": sorted(wanted)}}, {"user_id": 1, "name": 1})
    names = {raw["user_id"]: raw["name"] async for raw in found if raw.get("name")}
    deleted = {f.user_id for f in group.former_members if f.reason == "deleted"} if group else set()
    return {u: DELETED_USER if u in deleted else names.get(u) or short_id(u) for u in wanted}


def short_id(user_id: str) -> str:
    return f"user {user_id[-8:]}"


def _members(group: Group, names: dict[str, str]) -> list[MemberPublic]:
    return [MemberPublic(user_id=m.user_id, name=names[m.user_id], joined_at=m.joined_at,
                         is_owner=m.user_id == group.owner_id, balance=_money(group.net(m.user_id), group))
            for m in group.members]


def _money(amount: Decimal, group: Group) -> Decimal:
    return round_money(amount, group.currency)


async def group_public(group: Group, user_id: str) -> GroupPublic:
    names = await display_names([m.user_id for m in group.members])
    return GroupPublic(id=str(group.id), name=group.name, currency=group.currency, owner_id=group.owner_id,
                       invite_code=group.invite_code, members=_members(group, names),
                       my_balance=_money(group.net(user_id), group), created_at=group.created_at,
                       updated_at=group.updated_at)


async def create_group(*, runtime: Runtime, user_id: str, data: GroupCreate) -> GroupPublic:
    now = utc_now()
    group = Group(name=data.name, currency=data.currency, owner_id=user_id, invite_code=new_invite_code(),
                  members=[GroupMember(user_id=user_id, joined_at=now)], created_at=now, updated_at=now)
    await group.insert()
    return await group_public(group, user_id)


async def list_groups(*, user_id: str, page: PageParams) -> GroupPage:
    query = {"members.user_id": user_id}
    found = await Group.find(query).sort([("created_at", -1), ("_id", -1)]).skip(page.offset).limit(
        page.limit).to_list()
    total = await Group.get_pymongo_collection().count_documents(query)
    items = [GroupSummary(id=str(g.id), name=g.name, currency=g.currency, owner_id=g.owner_id,
                          member_count=len(g.members), my_balance=_money(g.net(user_id), g),
                          created_at=g.created_at, updated_at=g.updated_at) for g in found]
    return GroupPage(items=items, total=total, limit=page.limit, offset=page.offset)


async def get_group(*, user_id: str, group_id: str) -> GroupPublic:
    return await group_public(await member_group(group_id, user_id), user_id)


async def rename_group(*, runtime: Runtime, user_id: str, group_id: str, data: GroupUpdate) -> GroupPublic:
    async def body(tx: Tx) -> Group:
        group = await member_group(group_id, user_id, tx.session)
        require_owner(group, user_id, "rename it")
        if group.name != data.name:
            group.name = data.name
            await replace_at_revision(group, tx.session)
        return group

    return await group_public(await runtime.atomic(body), user_id)


async def regenerate_invite_code(*, runtime: Runtime, user_id: str, group_id: str) -> InviteCodePublic:
    """A new code; the old one stops working at once."""
    async def body(tx: Tx) -> str:
        group = await member_group(group_id, user_id, tx.session)
        require_owner(group, user_id, "replace the invite code")
        group.invite_code = new_invite_code()
        await replace_at_revision(group, tx.session)
        return group.invite_code

    return InviteCodePublic(invite_code=await runtime.atomic(body))


async def join_group(*, runtime: Runtime, user_id: str, invite_code: str) -> GroupPublic:
    """Join by invite code (joining again changes nothing). An unknown or replaced code is a 404."""
    limit = runtime.settings.max_group_members

    async def body(tx: Tx) -> Group:
        group = await Group.find_one({"invite_code": invite_code}, session=tx.session)
        if group is None:
            raise NotFound("invite code")
        if group.member(user_id) is None:
            if len(group.members) >= limit:
                raise Conflict(f"a group has at most {limit} members")
            group.members.append(GroupMember(user_id=user_id, joined_at=utc_now()))
            group.former_members = [f for f in group.former_members if f.user_id != user_id]
            await replace_at_revision(group, tx.session)
        return group

    return await group_public(await runtime.atomic(body), user_id)


def depart(group: Group, user_id: str, reason: DepartureReason) -> None:
    """Take the user out of the members (or re-mark a former member); ownership passes to the longest-standing
    member left, and a group nobody is left in keeps its history but no longer takes anyone in."""
    group.members = [m for m in group.members if m.user_id != user_id]
    group.former_members = [f for f in group.former_members if f.user_id != user_id]
    group.former_members.append(FormerMember(user_id=user_id, left_at=utc_now(), reason=reason))
    if group.owner_id == user_id and group.members:
        group.owner_id = min(group.members, key=lambda m: (m.joined_at, m.user_id)).user_id
    if not group.members:
        group.invite_code = None


def _require_settled(group: Group, user_id: str, who: str) -> None:
    net = group.net(user_id)
    if net != 0:
        owes = f"owes {_money(-net, group)}" if net < 0 else f"is owed {_money(net, group)}"
        raise Conflict(f"{who} {owes} {group.currency} in this group; settle up first")


async def leave_group(*, runtime: Runtime, user_id: str, group_id: str) -> None:
    async def body(tx: Tx) -> None:
        group = await member_group(group_id, user_id, tx.session)
        _require_settled(group, user_id, "you")
        depart(group, user_id, "left")
        await replace_at_revision(group, tx.session)

    await runtime.atomic(body)


async def remove_member(*, runtime: Runtime, user_id: str, group_id: str, member_id: str) -> None:
    """The owner removes a member whose balance is settled (409 otherwise); leaving is how one removes oneself."""
    async def body(tx: Tx) -> None:
        group = await member_group(group_id, user_id, tx.session)
        require_owner(group, user_id, "remove members")
        if member_id == user_id:
            raise Conflict("the owner leaves the group with POST /api/groups/{id}/leave")
        if group.member(member_id) is None:
            raise NotFound("member")
        _require_settled(group, member_id, "the member")
        depart(group, member_id, "removed")
        await replace_at_revision(group, tx.session)

    await runtime.atomic(body)


async def leave_groups_of_deleted_user(*, user_id: str, session: AsyncClientSession) -> None:
    """A deleted account leaves every group at once, settled or not: the others keep the shared history (the
    expenses and payments it took part in), shown as "deleted user", and its open balance stays visible so the
    others can square it among themselves or record what they paid or received outside the app. Ownership passes
    to the longest-standing member; a group with nobody left keeps no invite code."""
    query = {"$or": [{"members.user_id": user_id}, {"former_members.user_id": user_id}]}
    for group in await Group.find(query, session=session).to_list():
        depart(group, user_id, "deleted")  # also marks a former member: nothing of theirs is written again
        await replace_at_revision(group, session)


async def list_members(*, user_id: str, group_id: str, page: PageParams) -> MemberPage:
    group = await member_group(group_id, user_id)
    names = await display_names([m.user_id for m in group.members])
    members = _members(group, names)
    return MemberPage(items=members[page.offset:page.offset + page.limit], total=len(members), limit=page.limit,
                      offset=page.offset)


async def group_balances(*, user_id: str, group_id: str) -> BalancesPublic:
    """Everyone's position (members, and former members still owed or owing), and the transfers that settle it."""
    group = await member_group(group_id, user_id)
    current = {m.user_id for m in group.members}
    departed = {f.user_id: f.reason for f in group.former_members}
    shown = [group.account(u) for u in current | {a.user_id for a in group.accounts if a.net != 0}]
    names = await display_names([a.user_id for a in shown], group)
    order = {m.user_id: i for i, m in enumerate(group.members)}
    shown.sort(key=lambda a: (order.get(a.user_id, len(order)), a.user_id))
    balances = [BalancePublic(user_id=a.user_id, name=names[a.user_id], is_member=a.user_id in current,
                              departed=None if a.user_id in current else departed.get(a.user_id),
                              paid=_money(a.paid, group), owed=_money(a.owed, group), sent=_money(a.sent, group),
                              received=_money(a.received, group), net=_money(a.net, group)) for a in shown]
    transfers = [TransferPublic(from_user=t.from_user, from_name=names[t.from_user], to_user=t.to_user,
                                to_name=names[t.to_user], amount=_money(t.amount, group))
                 for t in settle_up({a.user_id: a.net for a in shown})]
    return BalancesPublic(group_id=str(group.id), currency=group.currency, balances=balances, transfers=transfers)
