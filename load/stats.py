"""Locust's CSV stats, read and printed: requests per second and p50/p95/p99, per endpoint and overall."""

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    method: str
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    average: float


def _number(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def read_stats(csv_prefix: Path) -> list[Row]:
    """Rows of <prefix>_stats.csv; the last is Locust's 'Aggregated' line."""
    with open(f"{csv_prefix}_stats.csv", newline="") as handle:
        return [Row(method=r["Type"], name=r["Name"], requests=int(r["Request Count"]),
                    failures=int(r["Failure Count"]), rps=_number(r["Requests/s"]), p50=_number(r["50%"]),
                    p95=_number(r["95%"]), p99=_number(r["99%"]), average=_number(r["Average Response Time"]))
                for r in csv.DictReader(handle)]


def read_failures(csv_prefix: Path) -> list[str]:
    path = Path(f"{csv_prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return [f"{r['Occurrences']}x {r['Method']} {r['Name']}: {r['Error']}" for r in csv.DictReader(handle)]


def read_exceptions(csv_prefix: Path) -> list[str]:
    """Errors raised inside a scenario's tasks (a bug in the scenario, not a failed request)."""
    path = Path(f"{csv_prefix}_exceptions.csv")
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return [f"{r['Count']}x {r['Message']} at {r['Traceback'].strip().splitlines()[-1] if r['Traceback'] else '?'}"
                for r in csv.DictReader(handle)]


def format_report(service: str, rows: list[Row], *, users: int, duration: int) -> str:
    width = max([len(f"{r.method} {r.name}") for r in rows] + [20])
    lines = [f"{'endpoint':<{width}}  {'reqs':>7}  {'fail':>5}  {'req/s':>8}  {'p50 ms':>7}  {'p95 ms':>7}  "
             f"{'p99 ms':>7}"]
    for r in rows:
        label = "all endpoints" if r.name == "Aggregated" else f"{r.method} {r.name}"
        if r.name == "Aggregated":
            lines.append("-" * len(lines[0]))
        lines.append(f"{label:<{width}}  {r.requests:>7}  {r.failures:>5}  {r.rps:>8.1f}  {r.p50:>7.0f}  "
                     f"{r.p95:>7.0f}  {r.p99:>7.0f}")
    total = rows[-1]
    lines.append(f"{service}: {users} users, {duration} s: {total.rps:.1f} requests/s, p50 {total.p50:.0f} ms, "
                 f"p95 {total.p95:.0f} ms, p99 {total.p99:.0f} ms, {total.requests} requests, "
                 f"{total.failures} failed")
    return "\n".join(lines)
