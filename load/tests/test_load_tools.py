"""The load tooling: real Locust output parsed into the printed figures, the runner's refusals, and request
data that the services' own contracts accept. Run with `.venv/bin/pytest -q load`."""

import subprocess
import sys
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from budget_service.schemas import BudgetCreate
from devtools.testing.net import port_open
from expense_service.schemas import TransactionCreate
from invoice_service.schemas import InvoiceCreate
from load import data
from load.runner import ROOT, SCENARIOS, main, parse_args, scenario_names
from load.stats import format_report, read_stats
from shared.topology import SERVICES

STUB_LOCUSTFILE = """
from locust import HttpUser, constant, task

class Probe(HttpUser):
    wait_time = constant(0.02)

    @task(3)
    def fast(self):
        self.client.get("/fast")

    @task(1)
    def missing(self):
        self.client.get("/missing")
"""


class _Stub(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/fast" else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_every_service_has_a_scenario_with_exactly_one_locust_user():
    assert scenario_names() == sorted(SERVICES)
    files = ",".join(str(SCENARIOS / f"{name}.py") for name in scenario_names())
    listed = subprocess.run([sys.executable, "-m", "locust", "-f", files, "--list"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    users = [line.strip() for line in listed.stdout.splitlines()[1:] if line.strip()]
    assert len(users) == len(SERVICES), listed.stdout


def test_a_real_locust_run_is_printed_as_requests_per_second_and_percentiles(tmp_path: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "probe.py").write_text(STUB_LOCUSTFILE)
    try:
        run = subprocess.run([sys.executable, "-m", "locust", "-f", str(tmp_path / "probe.py"), "--headless",
                              "-u", "2", "-r", "2", "-t", "2s", "--host", f"http://127.0.0.1:{server.server_port}",
                              "--csv", str(tmp_path / "probe"), "--only-summary", "--loglevel", "ERROR"],
                             capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
    assert run.returncode == 1, run.stderr  # the 404s are failures, and Locust says so

    rows = read_stats(tmp_path / "probe")
    by_name = {row.name: row for row in rows}
    assert rows[-1].name == "Aggregated"
    assert by_name["/fast"].requests > 10 and by_name["/fast"].failures == 0
    assert by_name["/missing"].failures == by_name["/missing"].requests > 0
    assert rows[-1].requests == by_name["/fast"].requests + by_name["/missing"].requests
    assert rows[-1].rps > 0 and 0 < rows[-1].p50 <= rows[-1].p95 <= rows[-1].p99
    report = format_report("stub", rows, users=2, duration=2)
    assert f"{rows[-1].rps:.1f} requests/s" in report
    assert f"p95 {rows[-1].p95:.0f} ms" in report and f"p99 {rows[-1].p99:.0f} ms" in report


def test_the_runner_says_in_one_line_which_service_is_not_running(capsys):
    offset = next(o for o in range(20_000, 50_000, 1000)
                  if not any(port_open("127.0.0.1", s.port + o) for s in SERVICES.values()))
    code = main(["budget_service", "--users", "1", "--duration", "1", "--port-offset", str(offset)])
    error = capsys.readouterr().err.strip()
    assert code != 0
    assert len(error.splitlines()) == 1
    assert "budget_service" in error and "user_service" in error and "make run" in error


def test_an_unknown_service_is_refused_with_the_list_of_scenarios(capsys):
    with pytest.raises(SystemExit) as refused:
        parse_args(["payroll_service"])
    assert refused.value.code == 2
    assert "expense_service" in capsys.readouterr().err


def test_generated_transactions_budgets_and_invoices_satisfy_the_services_contracts():
    today = date.today()
    for _ in range(300):
        transaction = TransactionCreate.model_validate(data.transaction(months=12))
        assert transaction.occurred_date <= today
        assert transaction.amount > 0 and transaction.amount.as_tuple().exponent == -2  # cents, as a person types
        BudgetCreate.model_validate(data.budget_body("a1b2c3", months_back=3))
        invoice = InvoiceCreate.model_validate({"client_id": "x", "currency": "EUR", "lines": data.invoice_lines()})
        assert 2 <= len(invoice.lines) <= 6
    months = {TransactionCreate.model_validate(data.transaction(months=12)).occurred_date.month for _ in range(300)}
    assert len(months) >= 10  # spread over the year, not bunched on one day


def test_generated_csv_rows_are_distinct_and_in_the_import_format():
    rows = data.csv_rows(50).strip().split("\r\n")
    assert rows[0] == "occurred_date,type,amount,currency,category,description,payment_method"
    assert len(set(rows[1:])) == 50
    for row in rows[1:]:
        occurred, kind, amount, currency, *_ = row.split(",")
        assert kind in {"expense", "income"} and currency in {"EUR", "USD", "GBP"}
        assert date.fromisoformat(occurred) <= date.today()
        assert amount.count(".") == 1 and len(amount.split(".")[1]) == 2
