"""`make load SERVICE=<name> USERS=<n> DURATION=<s>`: check the stack, create accounts, seed, run Locust
headless against the one service, print the figures, delete the accounts."""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from load import accounts as account_store
from load.seed import SEEDERS
from load.stats import format_report, read_exceptions, read_failures, read_stats
from shared.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "load" / "scenarios"
REPORTS = ROOT / "load-reports"


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.py") if p.stem in SERVICES)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__)
    parser.add_argument("service", nargs="?", default="", help=f"one of: {', '.join(scenario_names())}")
    parser.add_argument("--users", type=int, default=10, help="concurrent simulated users (default 10)")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load (default 30)")
    parser.add_argument("--host", default=os.environ.get("LOAD_HOST", "127.0.0.1"), help="where the stack listens")
    parser.add_argument("--port-offset", type=int, default=int(os.environ.get("LOAD_PORT_OFFSET", "0")),
                        help="added to every port (an ephemeral stack listens at +100)")
    parser.add_argument("--wait", default=os.environ.get("LOAD_WAIT", "0.1,0.5"),
                        help="think time between a user's requests, min,max seconds (default 0.1,0.5)")
    parser.add_argument("--keep-users", action="store_true", help="keep the load accounts and their data")
    args = parser.parse_args(argv)
    if args.service not in scenario_names():
        parser.error(f"SERVICE must be one of: {', '.join(scenario_names())} (got {args.service!r})")
    if args.users < 1 or args.duration < 1:
        parser.error("USERS and DURATION must be at least 1")
    return args


def service_url(name: str, host: str, offset: int = 0) -> str:
    return f"http://{host}:{SERVICES[name].port + offset}"


def not_running(names: list[str], urls: dict[str, str]) -> list[str]:
    """The services among `names` that do not answer their liveness probe."""
    down = []
    with httpx.Client(timeout=2.0) as client:
        for name in names:
            try:
                if client.get(f"{urls[name]}/healthz").status_code != 200:
                    down.append(name)
            except httpx.HTTPError:
                down.append(name)
    return down


def run_locust(args: argparse.Namespace, urls: dict[str, str], accounts_file: Path, csv_prefix: Path) -> int:
    REPORTS.mkdir(exist_ok=True)
    command = [sys.executable, "-m", "locust", "-f", str(SCENARIOS / f"{args.service}.py"), "--headless",
               "--users", str(args.users), "--spawn-rate", str(args.users), "--run-time", f"{args.duration}s",
               "--host", urls[args.service], "--csv", str(csv_prefix), "--html", str(REPORTS / f"{args.service}.html"),
               "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), LOAD_ACCOUNTS_FILE=str(accounts_file), LOAD_WAIT=args.wait,
               LOAD_SERVICE_URLS=json.dumps(urls))
    # Locust's own end-of-run table is long; the figures that matter are printed from its CSV below.
    completed = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    if completed.returncode not in (0, 1):  # 1: some requests failed (reported below); anything else: broken
        print(completed.stderr[-3000:], file=sys.stderr)
    return completed.returncode


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    urls = {name: service_url(name, args.host, args.port_offset) for name in SERVICES}
    needed, seeder = SEEDERS.get(args.service, ((), None))
    required = [args.service, "user_service", *needed]
    down = not_running(list(dict.fromkeys(required)), urls)
    if down:
        print(f"load: {', '.join(down)} not running at {', '.join(urls[n] for n in down)} — start the stack with "
              f"`make run` first", file=sys.stderr)
        return 2

    print(f"load: {args.service} at {urls[args.service]}: registering {args.users} users through user_service",
          flush=True)
    accounts = asyncio.run(account_store.create_accounts(urls["user_service"], args.users))
    with tempfile.TemporaryDirectory(prefix="load-") as scratch:
        try:
            if seeder is not None:
                print(f"load: {asyncio.run(seeder(urls, accounts, args.service))}", flush=True)
            accounts_file = Path(scratch) / "accounts.json"
            account_store.save_accounts(accounts, accounts_file)
            print(f"load: {args.users} users for {args.duration} s (think time {args.wait} s)", flush=True)
            csv_prefix = Path(scratch) / args.service
            code = run_locust(args, urls, accounts_file, csv_prefix)
            if not Path(f"{csv_prefix}_stats.csv").exists():
                print(f"load: Locust produced no stats (exit code {code})", file=sys.stderr)
                return 1
            rows = read_stats(csv_prefix)
            print(format_report(args.service, rows, users=args.users, duration=args.duration))
            failures = read_failures(csv_prefix)
            for failure in failures[:20]:
                print(f"  failure: {failure}")
            exceptions = read_exceptions(csv_prefix)
            for exception in exceptions[:20]:
                print(f"  scenario error: {exception}")
            print(f"load: HTML report: {(REPORTS / f'{args.service}.html').relative_to(ROOT)}")
        finally:
            if not args.keep_users:
                deleted = asyncio.run(account_store.delete_accounts(urls["user_service"], accounts))
                print(f"load: deleted {deleted} of {len(accounts)} load accounts (their data is erased by "
                      f"user.deleted)")
    return 1 if rows[-1].failures or exceptions else 0
