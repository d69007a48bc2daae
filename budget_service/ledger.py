"""The ledger of contributions: expense_service's transactions as their newest event describes them.

One record per transaction id. An event older than the record (a stale update, a create arriving after its
update, anything after a delete) changes nothing, so out-of-order delivery cannot corrupt the ledger; the
same event applied twice changes nothing either. "Older" is decided by the snapshots' revisions when both
carry one (exact, whatever the producers' clocks), else by the events' emission times (supersedes).
Spending is always recomputed from the ledger, so an update that moves a transaction to another category,
date, amount or currency corrects exactly the budgets involved.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime

from pymongo.asynchronous.client_session import AsyncClientSession

from budget_service.accounting import current_period, first_period
from budget_service.models import Budget, Contribution
from budget_service.periods import EARLIEST_DATE, LATEST_DATE, Period, period_containing
from shared.events import TransactionSnapshot

log = logging.getLogger("budget_service.ledger")

CREATED, UPDATED, DELETED = 0, 1, 2  # rank of an event kind, the tie-break between equal emission times


def microseconds(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


@dataclass(frozen=True)
class LedgerChange:
    before: Contribution | None  # the counted version before this event (None: absent or deleted)
    after: Contribution | None  # the counted version after it (None: deleted)

    @property
    def user_id(self) -> str:
        record = self.after or self.before
        assert record is not None
        return record.user_id

    def moves_spending(self) -> bool:
        def key(c: Contribution | None) -> tuple | None:
            if c is None or c.kind != "expense":
                return None
            return c.amount, c.currency, c.category_id, c.occurred_date
        return key(self.before) != key(self.after)


def supersedes(snapshot: TransactionSnapshot, *, as_of_us: int, rank: int, existing: Contribution) -> bool:
    """Whether this event's state replaces the ledger record. With a revision on both sides, a higher revision
    wins and, at an equal one, only a delete replaces a live state (a delete wins up to its own revision);
    otherwise (events from before revisions) the later emission time wins, then delete > update > create."""
    if snapshot.revision is not None and existing.revision is not None:
        return (snapshot.revision, rank == DELETED) > (existing.revision, existing.deleted)
    return (as_of_us, rank) > (existing.as_of_us, existing.rank)


async def record_transaction(session: AsyncClientSession, snapshot: TransactionSnapshot, *, emitted_at: datetime,
                             rank: int) -> LedgerChange | None:
    """Apply one event's snapshot to the ledger; None when the event is stale, repeated or foreign."""
    as_of_us = microseconds(emitted_at)
    existing = await Contribution.get(snapshot.id, session=session)
    if existing is not None:
        if existing.user_id != snapshot.user_id:
            log.warning("transaction %s arrived for another user; ignored", snapshot.id)
            return None
        if not supersedes(snapshot, as_of_us=as_of_us, rank=rank, existing=existing):
            return None
    record = Contribution(
        id=snapshot.id, user_id=snapshot.user_id, kind=snapshot.type, amount=snapshot.amount,
        currency=snapshot.currency.upper(), category_id=snapshot.category_id, category_name=snapshot.category_name,
        occurred_date=snapshot.occurred_date, deleted=rank == DELETED, as_of_us=as_of_us, rank=rank,
        revision=snapshot.revision)
    await record.save(session=session)
    before = existing if existing is not None and not existing.deleted else None
    return LedgerChange(before=before, after=None if record.deleted else record)


async def budgets_touched(session: AsyncClientSession, change: LedgerChange) -> list[tuple[Budget, set[date]]]:
    """The user's budgets that count the transaction before or after the change, with the days concerned."""
    versions = [c for c in (change.before, change.after) if c is not None and c.kind == "expense"]
    if not versions or not change.moves_spending():
        return []
    currencies = sorted({c.currency for c in versions})
    budgets = await Budget.find({"user_id": change.user_id, "currency": {"$in": currencies}},
                                session=session).to_list()
    touched = []
    for budget in budgets:
        days = {c.occurred_date for c in versions if c.currency == budget.currency
                and (budget.category_id is None or budget.category_id == c.category_id)}
        if days:
            touched.append((budget, days))
    return touched


def periods_to_check(budget: Budget, days: set[date], today: date) -> list[Period]:
    """The periods whose alerts a change on these days can move. A period that has ended never alerts; with
    rollover, a change in an earlier period moves the current period's effective limit, so that one is checked."""
    first = first_period(budget)
    periods: set[Period] = set()
    for day in days:
        if not (EARLIEST_DATE <= day <= LATEST_DATE) or day < first.start:
            continue
        period = period_containing(budget.period, day)
        if not period.contains(day):  # outside a custom range
            continue
        if period.end >= today:
            periods.add(period)
        elif budget.rollover:
            periods.add(current_period(budget, today))
    return sorted(periods)
