"""API contracts of /api/groups: groups, members, group expenses, balances and settlements."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from expense_service.models import DepartureReason
from expense_service.schemas import CategoryRef, OccurredDate
from expense_service.split import SplitMode
from shared.money import Currency, DecimalStr, PositiveAmount
from shared.schemas import Page, StrictModel, refuse_null

GROUP_NAME_MAX = 100
GROUP_DESCRIPTION_MAX = 200
USER_ID_MAX = 200
INVITE_CODE_MAX = 100

GroupName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=GROUP_NAME_MAX,
                                             pattern=r"^[^\x00-\x1f\x7f]+$")]
UserId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=USER_ID_MAX)]
ExpenseDescription = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                      max_length=GROUP_DESCRIPTION_MAX)]
InviteCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=INVITE_CODE_MAX)]


# --- groups and members ---------------------------------------------------------------------------

class GroupCreate(StrictModel):
    name: GroupName
    currency: Currency = Field(description="ISO 4217; every amount of the group is in it")


class GroupUpdate(StrictModel):
    name: GroupName


class GroupJoin(StrictModel):
    invite_code: InviteCode


class MemberPublic(BaseModel):
    user_id: str
    name: str = Field(description="display name from the user's profile, else a short form of the id")
    joined_at: datetime
    is_owner: bool
    balance: DecimalStr = Field(description="net position in the group: positive = is owed, negative = owes")


class MemberPage(Page[MemberPublic]):
    pass


class GroupPublic(BaseModel):
    id: str
    name: str
    currency: str
    owner_id: str
    invite_code: str | None = Field(description="share it to invite people; the owner can replace it")
    members: list[MemberPublic]
    my_balance: DecimalStr
    created_at: datetime
    updated_at: datetime


class GroupSummary(BaseModel):
    id: str
    name: str
    currency: str
    owner_id: str
    member_count: int
    my_balance: DecimalStr
    created_at: datetime
    updated_at: datetime


class GroupPage(Page[GroupSummary]):
    pass


class InviteCodePublic(BaseModel):
    invite_code: str


# --- group expenses -------------------------------------------------------------------------------

class ParticipantIn(StrictModel):
    user_id: UserId
    value: DecimalStr | None = Field(None, description="exact: the amount; percent: the percentage; shares: the "
                                                       "weight; equal: leave it out")


Participants = Annotated[list[ParticipantIn], Field(min_length=1, max_length=100)]


class GroupExpenseCreate(StrictModel):
    amount: PositiveAmount
    description: ExpenseDescription
    payer_id: UserId | None = Field(None, description="a member; default: the caller")
    occurred_date: OccurredDate | None = Field(None, description="default: today in the caller's timezone")
    category: CategoryRef | None = Field(None, description="a category name; each participant's share goes in "
                                                           "their own category of that name, else their 'other'")
    split_mode: SplitMode = "equal"
    participants: Participants | None = Field(None, description="a subset of the members; default: every "
                                                                "current member (equal split only)")


class GroupExpenseUpdate(StrictModel):
    """PATCH: only the fields sent change. Shares are recomputed when amount, split_mode or participants change;
    `category: null` files every share under the member's 'other'."""

    amount: PositiveAmount | None = None
    description: ExpenseDescription | None = None
    payer_id: UserId | None = None
    occurred_date: OccurredDate | None = None
    category: CategoryRef | None = None
    split_mode: SplitMode | None = None
    participants: Participants | None = None

    _no_null = field_validator("amount", "description", "payer_id", "occurred_date", "split_mode", "participants",
                               mode="before")(refuse_null)


class SharePublic(BaseModel):
    user_id: str
    name: str
    value: DecimalStr | None
    share: DecimalStr


class GroupExpensePublic(BaseModel):
    id: str
    group_id: str
    payer_id: str
    payer_name: str
    amount: DecimalStr
    currency: str
    description: str
    occurred_date: date
    category: str | None
    split_mode: SplitMode
    shares: list[SharePublic]
    created_by: str
    created_at: datetime
    updated_at: datetime


class GroupExpensePage(Page[GroupExpensePublic]):
    pass


# --- balances and settlements ---------------------------------------------------------------------

class BalancePublic(BaseModel):
    user_id: str
    name: str
    is_member: bool
    departed: DepartureReason | None = Field(None, description="why a former member is no longer in the group")
    paid: DecimalStr
    owed: DecimalStr
    sent: DecimalStr
    received: DecimalStr
    net: DecimalStr = Field(description="paid - owed + sent - received: positive = is owed, negative = owes")


class TransferPublic(BaseModel):
    from_user: str
    from_name: str
    to_user: str
    to_name: str
    amount: DecimalStr


class BalancesPublic(BaseModel):
    group_id: str
    currency: str
    balances: list[BalancePublic]
    transfers: list[TransferPublic] = Field(description="a fewest-steps way to settle everything "
                                                        "(at most one less than the people involved)")


class SettlementCreate(StrictModel):
    from_user: UserId
    to_user: UserId
    amount: PositiveAmount


class SettlementPublic(BaseModel):
    id: str
    group_id: str
    from_user: str
    from_name: str
    to_user: str
    to_name: str
    amount: DecimalStr
    currency: str
    recorded_by: str
    created_at: datetime


class SettlementPage(Page[SettlementPublic]):
    pass
