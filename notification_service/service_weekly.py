"""Scheduling the weekly report: a background pass, repeated, queues each user's report for last week once
their Monday morning has come, exactly once per user and ISO week even with several instances running."""

import asyncio
import logging
from datetime import datetime, timedelta

from pymongo.errors import DuplicateKeyError

from shared.outbox import Tx
from shared.runtime import Runtime

from . import messages
from .catalogue import WEEKLY_REPORT
from .models import UserContact, WeeklyReportRun, utcnow
from .service import notify, zone
from .service_email import raise_if_cancelled
from .service_preferences import channels_for
from .service_reports import build_weekly_report, previous_week
from .settings import Settings

log = logging.getLogger("notification_service.weekly")

BATCH = 200
RUN_RETENTION = timedelta(days=120)


def due_week(now: datetime, tz_name: str, send_hour: int) -> str | None:
    """The ISO week whose report is due at `now` for a user in this timezone: last week, from the send hour
    on Monday (local time) onwards; None early on Monday, before it is due."""
    local = now.astimezone(zone(tz_name))
    if local.weekday() == 0 and local.hour < send_hour:
        return None
    return previous_week(local.date())


async def send_weekly_report(runtime: Runtime, *, user: UserContact, week: str, now: datetime) -> bool:
    """Claim (user, week) and queue the report in one transaction; False when another pass claimed it."""
    settings: Settings = runtime.settings  # type: ignore[assignment]
    report = await build_weekly_report(user_id=user.user_id, week=week,
                                       top_categories=settings.weekly_report_top_categories)
    channels = await channels_for(user_id=user.user_id, kind=WEEKLY_REPORT.name)
    if not report.has_activity:
        outcome = "no_activity"  # nothing to say: no mail for a quiet week
    elif channels.email or channels.in_app:
        outcome = "queued"
    else:
        outcome = "disabled"

    async def claim_and_queue(tx: Tx) -> None:
        # The unique (user_id, week) index makes this insert the claim: a second pass fails here and its
        # whole transaction, email included, is discarded.
        await WeeklyReportRun(user_id=user.user_id, week=week, outcome=outcome,
                              purge_after=now + RUN_RETENTION).insert(session=tx.session)
        if outcome == "queued":
            await notify(session=tx.session, user_id=user.user_id, kind=WEEKLY_REPORT.name,
                         message=messages.weekly_report(report, user.name), data={"week": week})

    try:
        await runtime.atomic(claim_and_queue)
    except DuplicateKeyError:
        return False
    return outcome == "queued"


async def run_weekly_report_pass(runtime: Runtime, *, now: datetime | None = None) -> int:
    """One scheduling pass at `now`: every user whose last-week report is due and unclaimed gets it.
    Returns how many reports this pass queued."""
    settings: Settings = runtime.settings  # type: ignore[assignment]
    now = now or utcnow()
    queued, last_id = 0, None
    while True:
        query: dict = {"deleted_at": None}
        if last_id is not None:
            query["_id"] = {"$gt": last_id}
        users = await UserContact.find(query, sort=[("_id", 1)], limit=BATCH).to_list()
        if not users:
            return queued
        last_id = users[-1].id
        due = {u.user_id: week for u in users
               if (week := due_week(now, u.timezone, settings.weekly_report_send_hour))}
        claimed = {(run["user_id"], run["week"]) async for run in WeeklyReportRun.get_pymongo_collection().find(
            {"user_id": {"$in": list(due)}, "week": {"$in": sorted(set(due.values()))}},
            projection={"user_id": 1, "week": 1})}
        for user in users:
            week = due.get(user.user_id)
            if not week or (user.user_id, week) in claimed:
                continue
            try:
                queued += await send_weekly_report(runtime, user=user, week=week, now=now)
            except Exception as exc:  # one user's failure must not hold back everyone after them
                log.warning("weekly report for user %s, %s failed: %s: %s", user.user_id, week,
                            exc.__class__.__name__, exc)


async def weekly_report_loop(runtime: Runtime) -> None:
    """Background task: a scheduling pass every `weekly_report_check_seconds`."""
    settings: Settings = runtime.settings  # type: ignore[assignment]
    if not settings.weekly_report_enabled:
        return
    runtime.extras.setdefault("weekly_report_passes", 0)
    while True:
        try:
            queued = await run_weekly_report_pass(runtime)
            log.log(logging.INFO if queued else logging.DEBUG, "weekly report pass done: %s queued", queued)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("weekly report pass failed: %s: %s", exc.__class__.__name__, exc)
        runtime.extras["weekly_report_passes"] += 1  # observable progress (tests wait on it, never sleep)
        raise_if_cancelled()
        await asyncio.sleep(settings.weekly_report_check_seconds)
