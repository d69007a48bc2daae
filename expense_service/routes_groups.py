"""HTTP routes of /api/groups: parse → call the service → return the schema. Non-members get 404 throughout."""

from fastapi import APIRouter, Response, status

from expense_service.routes import RuntimeDep
from expense_service.schemas_groups import (
    BalancesPublic,
    GroupCreate,
    GroupExpenseCreate,
    GroupExpensePage,
    GroupExpensePublic,
    GroupExpenseUpdate,
    GroupJoin,
    GroupPage,
    GroupPublic,
    GroupUpdate,
    InviteCodePublic,
    MemberPage,
    SettlementCreate,
    SettlementPage,
    SettlementPublic,
)
from expense_service.service_group_expenses import (
    create_group_expense,
    delete_group_expense,
    get_group_expense,
    list_group_expenses,
    update_group_expense,
)
from expense_service.service_groups import (
    create_group,
    get_group,
    group_balances,
    join_group,
    leave_group,
    list_groups,
    list_members,
    regenerate_invite_code,
    remove_member,
    rename_group,
)
from expense_service.service_settlements import delete_settlement, list_settlements, record_settlement
from shared.auth import CurrentUser
from shared.idempotency import IdempotencyKey, mark_replayed
from shared.schemas import Pagination

groups = APIRouter(prefix="/api/groups", tags=["groups"])
OWNER_ONLY = {403: {"description": "only the group's owner may do this"}}
UNSETTLED = {409: {"description": "the balance is not settled"}}


@groups.post("", status_code=status.HTTP_201_CREATED, response_model=GroupPublic)
async def create(body: GroupCreate, user: CurrentUser, runtime: RuntimeDep, response: Response) -> GroupPublic:
    group = await create_group(runtime=runtime, user_id=user.id, data=body)
    response.headers["Location"] = f"/api/groups/{group.id}"
    return group


@groups.get("", response_model=GroupPage)
async def list_(user: CurrentUser, page: Pagination) -> GroupPage:
    """The caller's groups, newest first, with the caller's balance in each."""
    return await list_groups(user_id=user.id, page=page)


@groups.post("/join", response_model=GroupPublic, responses={404: {"description": "unknown or replaced code"}})
async def join(body: GroupJoin, user: CurrentUser, runtime: RuntimeDep) -> GroupPublic:
    return await join_group(runtime=runtime, user_id=user.id, invite_code=body.invite_code)


@groups.get("/{group_id}", response_model=GroupPublic)
async def get(group_id: str, user: CurrentUser) -> GroupPublic:
    return await get_group(user_id=user.id, group_id=group_id)


@groups.patch("/{group_id}", response_model=GroupPublic, responses=OWNER_ONLY)
async def rename(group_id: str, body: GroupUpdate, user: CurrentUser, runtime: RuntimeDep) -> GroupPublic:
    return await rename_group(runtime=runtime, user_id=user.id, group_id=group_id, data=body)


@groups.post("/{group_id}/invite-code", response_model=InviteCodePublic, responses=OWNER_ONLY)
async def new_invite_code(group_id: str, user: CurrentUser, runtime: RuntimeDep) -> InviteCodePublic:
    """A new invite code; the old one stops working."""
    return await regenerate_invite_code(runtime=runtime, user_id=user.id, group_id=group_id)


@groups.get("/{group_id}/members", response_model=MemberPage)
async def members(group_id: str, user: CurrentUser, page: Pagination) -> MemberPage:
    return await list_members(user_id=user.id, group_id=group_id, page=page)


@groups.delete("/{group_id}/members/{member_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={**OWNER_ONLY, **UNSETTLED})
async def remove(group_id: str, member_id: str, user: CurrentUser, runtime: RuntimeDep) -> None:
    await remove_member(runtime=runtime, user_id=user.id, group_id=group_id, member_id=member_id)


@groups.post("/{group_id}/leave", status_code=status.HTTP_204_NO_CONTENT, responses=UNSETTLED)
async def leave(group_id: str, user: CurrentUser, runtime: RuntimeDep) -> None:
    await leave_group(runtime=runtime, user_id=user.id, group_id=group_id)


@groups.get("/{group_id}/balances", response_model=BalancesPublic)
async def balances(group_id: str, user: CurrentUser) -> BalancesPublic:
    return await group_balances(user_id=user.id, group_id=group_id)


@groups.post("/{group_id}/expenses", status_code=status.HTTP_201_CREATED, response_model=GroupExpensePublic)
async def create_expense(group_id: str, body: GroupExpenseCreate, user: CurrentUser, runtime: RuntimeDep,
                         response: Response, idempotency_key: IdempotencyKey = None) -> GroupExpensePublic:
    created, replayed = await create_group_expense(runtime=runtime, user_id=user.id, group_id=group_id, data=body,
                                                   idempotency_key=idempotency_key)
    mark_replayed(response, replayed)
    response.headers["Location"] = f"/api/groups/{group_id}/expenses/{created.id}"
    return created


@groups.get("/{group_id}/expenses", response_model=GroupExpensePage)
async def list_expenses(group_id: str, user: CurrentUser, page: Pagination) -> GroupExpensePage:
    return await list_group_expenses(user_id=user.id, group_id=group_id, page=page)


@groups.get("/{group_id}/expenses/{expense_id}", response_model=GroupExpensePublic)
async def get_expense(group_id: str, expense_id: str, user: CurrentUser) -> GroupExpensePublic:
    return await get_group_expense(user_id=user.id, group_id=group_id, expense_id=expense_id)


@groups.patch("/{group_id}/expenses/{expense_id}", response_model=GroupExpensePublic,
              responses={403: {"description": "neither the member who added it nor the owner"}})
async def update_expense(group_id: str, expense_id: str, body: GroupExpenseUpdate, user: CurrentUser,
                         runtime: RuntimeDep) -> GroupExpensePublic:
    return await update_group_expense(runtime=runtime, user_id=user.id, group_id=group_id, expense_id=expense_id,
                                      changes=body)


@groups.delete("/{group_id}/expenses/{expense_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={403: {"description": "neither the member who added it nor the owner"}})
async def delete_expense(group_id: str, expense_id: str, user: CurrentUser, runtime: RuntimeDep) -> None:
    await delete_group_expense(runtime=runtime, user_id=user.id, group_id=group_id, expense_id=expense_id)


@groups.post("/{group_id}/settlements", status_code=status.HTTP_201_CREATED, response_model=SettlementPublic,
             responses={403: {"description": "the caller is not a party to the payment"}})
async def settle(group_id: str, body: SettlementCreate, user: CurrentUser, runtime: RuntimeDep, response: Response,
                 idempotency_key: IdempotencyKey = None) -> SettlementPublic:
    created, replayed = await record_settlement(runtime=runtime, user_id=user.id, group_id=group_id, data=body,
                                                idempotency_key=idempotency_key)
    mark_replayed(response, replayed)
    return created


@groups.get("/{group_id}/settlements", response_model=SettlementPage)
async def list_settlements_(group_id: str, user: CurrentUser, page: Pagination) -> SettlementPage:
    return await list_settlements(user_id=user.id, group_id=group_id, page=page)


@groups.delete("/{group_id}/settlements/{settlement_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={403: {"description": "the caller is not a party to the payment"}})
async def undo_settlement(group_id: str, settlement_id: str, user: CurrentUser, runtime: RuntimeDep) -> None:
    await delete_settlement(runtime=runtime, user_id=user.id, group_id=group_id, settlement_id=settlement_id)
