"""Two service instances — this test's and a second process on the same database and queue — share the
work and still send every email, and every user's weekly report, exactly once."""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from pydantic import SecretStr

from devtools.testing.net import free_port
from devtools.testing.waiting import wait_until
from shared.events import BudgetExceeded, ExpenseCreated, TransactionSnapshot

from .conftest import FAST, SERVICE, seed_user, start

ROOT = Path(__file__).resolve().parents[2]
USERS = [f"u{i}" for i in range(6)]
SCHEDULER = {"weekly_report_enabled": True, "weekly_report_check_seconds": 0.2, "weekly_report_send_hour": 0}


def environment(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB", "AMQP", "SMTP"))}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[name.upper()] = json.dumps(value) if isinstance(value, list | tuple | dict) else str(value)
    return env


def launch(settings, port: int, log_path: Path) -> subprocess.Popen:
    """The service as production runs it (uvicorn --factory), in its own process, logging to a file."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", f"{SERVICE}.main:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=environment(settings), stdout=log, stderr=subprocess.STDOUT)


async def test_two_instances_send_each_email_and_each_weekly_report_once(stack, smtp_server, publisher, tmp_path):
    n = await start(stack, smtp_server, publisher, **SCHEDULER)
    settings = stack.settings_for(SERVICE, {}, {**FAST, **SCHEDULER, "log_level": "DEBUG"})
    port, log_path = free_port(), tmp_path / "second-instance.log"
    second = launch(settings, port, log_path)
    try:
        async def second_ready() -> bool:
            assert second.poll() is None, log_path.read_text()[-2000:]
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(second_ready, timeout=30, message="the second instance ready")

        # Spending last week (before the users are known, so no pass sees them without it), then the users,
        # then a budget alert each: both instances consume, send and schedule.
        last_week = (datetime.now(timezone.utc) - timedelta(days=7)).date()
        for i, user in enumerate(USERS):
            await publisher.publish(ExpenseCreated(expense=TransactionSnapshot(
                id=f"e{i}", user_id=user, type="expense", amount=f"{10 + i}.50", currency="EUR",
                occurred_date=last_week)), user_id=user)
        await n.count("processed_events", {"handler": {"$regex": "count_created"}}, at_least=len(USERS))
        for user in USERS:
            await seed_user(n, user, f"{user}@example.com")
        for user in USERS:
            await publisher.publish(BudgetExceeded(
                budget_id=f"b-{user}", budget_name="Food", period_start=last_week, period_end=last_week,
                threshold_percent=100, limit_amount="10.00", spent="12.00", currency="EUR"), user_id=user)
        for user in USERS:
            await n.mails_to(f"{user}@example.com", count=2, timeout=20)

        # Let both schedulers run a few more passes over the already-claimed week.
        def passes_of_second() -> int:
            return log_path.read_text().count("weekly report pass done")

        mine, theirs = n.runtime.extras["weekly_report_passes"], passes_of_second()
        await wait_until(lambda: n.runtime.extras["weekly_report_passes"] >= mine + 3
                         and passes_of_second() >= theirs + 3, timeout=15, message="three more passes each")

        for i, user in enumerate(USERS):
            subjects = sorted(m.subject for m in smtp_server.sink.to(f"{user}@example.com"))
            assert subjects[0] == "Budget exceeded: Food" and subjects[1].startswith("Your weekly report"), subjects
            assert len(subjects) == 2, subjects
            [report] = [m for m in smtp_server.sink.to(f"{user}@example.com") if "weekly" in m.subject]
            assert f"spending {10 + i}.50" in report.text()
        assert await n.db["weekly_reports"].count_documents({"outcome": "queued"}) == len(USERS)
        assert await n.db["emails"].count_documents({"status": "sent"}) == 2 * len(USERS)
    finally:
        second.terminate()
        second.wait(10)
