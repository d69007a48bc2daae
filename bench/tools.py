"""What every bench section needs: the load generator (wrk), nginx as a baseline, child processes, tables."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools.testing.net import free_port, port_open

ROOT = Path(__file__).resolve().parent.parent
APT_PACKAGES = {"wrk": "wrk", "nginx": "nginx-light"}
SBIN = ("/usr/sbin", "/sbin")


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def ensure_binaries(*names: str) -> dict[str, str]:
    """Paths of the tools; installs missing ones from Debian (apt-get) when allowed to, else says how."""
    missing = [name for name in names if find_binary(name) is None]
    if missing:
        packages = [APT_PACKAGES[name] for name in missing]
        command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise SystemExit(f"[bench] missing {', '.join(missing)}: install with `sudo {' '.join(command)}`")
        say(f"installing {', '.join(packages)} with apt-get (needed: {', '.join(missing)})")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if subprocess.run(command, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True)
            result = subprocess.run(command, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(f"[bench] `{' '.join(command)}` failed:\n{result.stderr[-2000:]}")
    paths = {name: find_binary(name) for name in names}
    if not all(paths.values()):
        raise SystemExit(f"[bench] still missing: {[n for n, p in paths.items() if not p]}")
    return paths  # type: ignore[return-value]


class Children:
    """Child processes of one bench section, each logging to its own file; all stopped on exit."""

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        self.running: list[tuple[str, subprocess.Popen]] = []
        self.cleanups: list[Callable[[], object]] = []  # run after the children stop (databases, brokers)
        self.pids: dict[str, int] = {}  # base URL → pid of the process serving it

    def start(self, name: str, argv: Sequence[str], *, env: dict[str, str] | None = None, port: int | None = None,
              timeout: float = 30.0) -> subprocess.Popen:
        with open(self.workdir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the descriptor
            child = subprocess.Popen(list(argv), cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log,
                                     stderr=subprocess.STDOUT)
        self.running.append((name, child))
        if port is not None:
            deadline = time.monotonic() + timeout
            while not port_open("127.0.0.1", port, timeout=0.2):
                if child.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"[bench] {name} did not start; its log:\n{self.log_tail(name)}")
                time.sleep(0.1)
        return child

    def uvicorn(self, name: str, target: str, *, env: dict[str, str] | None = None, factory: bool = True) -> str:
        """Run an ASGI app as its own uvicorn process, configured like production; returns its URL."""
        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", *(["--factory"] if factory else []), target, "--host", "127.0.0.1",
                "--port", str(port), "--no-access-log", "--loop", "uvloop", "--http", "httptools",
                "--log-level", "warning"]
        url = f"http://127.0.0.1:{port}"
        self.pids[url] = self.start(name, argv, env=env, port=port).pid
        return url

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop_all(self) -> None:
        for _, child in reversed(self.running):
            if child.poll() is None:
                child.terminate()
        for _, child in reversed(self.running):
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        self.running.clear()
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        self.cleanups.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def children() -> Iterator[Children]:
    running = Children()
    try:
        yield running
    finally:
        running.stop_all()


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream app {{ server {upstream}; keepalive 128; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $proxy_host;
            proxy_set_header X-Request-ID $request_id;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def start_nginx(running: Children, nginx: str, upstream_url: str, name: str = "nginx") -> str:
    """nginx as a non-daemon child: one worker (like the one gateway process), keep-alive upstream pool."""
    port = free_port()
    folder = running.workdir / name
    folder.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, upstream=upstream_url.removeprefix("http://"), port=port))
    url = f"http://127.0.0.1:{port}"
    running.pids[url] = running.start(
        name, [nginx, "-c", str(conf), "-p", str(folder), "-e", str(folder / "nginx-error.log")], port=port).pid
    return url


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (nginx's worker), from /proc.

    CPU time per request does not depend on what else runs on the machine, unlike requests per second."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int  # socket errors and non-2xx/3xx answers: a fast error is not a result
    cpu_us_per_request: float | None = None  # of the process answering wrk (gateway, nginx or the upstream)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(text: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not match:
        raise ValueError(f"no {percentile}% latency in wrk output:\n{text}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(wrk: str, url: str, *, connections: int, seconds: float, headers: dict[str, str] | None = None,
            threads: int = 1, pid: int | None = None) -> WrkResult:
    """One wrk run; with `pid`, also that process's CPU time per request over the run."""
    argv = [wrk, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
            "--timeout", "5s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    cpu_before = cpu_seconds(pid) if pid else 0.0
    output = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    cpu_used = cpu_seconds(pid) - cpu_before if pid else 0.0
    failures = 0
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        failures += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        failures += sum(int(g) for g in match.groups())
    total = re.search(r"(\d+) requests in", output)
    requests = int(total.group(1)) if total else 0
    return WrkResult(requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
                     p50_ms=_latency(output, "50"), p99_ms=_latency(output, "99"), requests=requests,
                     failures=failures, cpu_us_per_request=cpu_used / requests * 1e6 if pid and requests else None)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(row))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
