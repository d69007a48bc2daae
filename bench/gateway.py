"""Gateway section: what the gateway costs over calling a service directly, with nginx as the yardstick.

Every upstream, the gateway and nginx run as their own processes (like production); wrk loads them from
outside. Two upstreams: a trivial ASGI app (the proxy's own cost in full) and, when it exists, the real
user_service GET /api/users/me with a real token on SecantusDB (what a client actually sees).
"""

import json
import os
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.tools import ROOT, Children, WrkResult, children, ensure_binaries, run_wrk, say, start_nginx, table
from devtools.testing.infra import LOCAL_AMQP_URL, SecantusProcess, amqp_host_port
from devtools.testing.net import port_open
from shared.auth import mint_access_token

CONNECTIONS = (1, 8, 32)
TARGETS = ("direct", "gateway", "nginx")
PATH = "/api/users/me"
MIN_THROUGHPUT_RATIO, MAX_ADDED_P99_MS = 0.8, 5.0
ROUNDS = 3  # each point is the median of this many interleaved runs


@dataclass
class Scenario:
    title: str
    urls: dict[str, str]  # direct, gateway, nginx
    headers: dict[str, str]
    alternatives: dict[str, str] = field(default_factory=dict)  # gateway on another upstream client
    pids: dict[str, int] = field(default_factory=dict)  # base URL → the process serving it
    results: dict[tuple[int, str], WrkResult] = field(default_factory=dict)


def _pem(key: Ed25519PrivateKey, private: bool) -> str:
    if private:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def gateway_env(upstream: str, *, public_key: str | None = None, jwks_url: str | None = None,
                client: str = "native") -> dict[str, str]:
    env = {"SERVICE_NAME": "gateway", "LOG_LEVEL": "WARNING", "ENVIRONMENT": "development",
           "SERVICE_URLS": json.dumps({"user_service": upstream}), "UPSTREAM_CLIENT": client}
    if public_key:
        env["JWT_PUBLIC_KEY"] = public_key
    if jwks_url:
        env["JWKS_URL"] = jwks_url
    return env


def trivial_scenario(running: Children, nginx: str) -> Scenario:
    key = Ed25519PrivateKey.generate()
    upstream = running.uvicorn("trivial-upstream", "bench.upstreams:create_app")
    public = _pem(key, private=False)
    token, _ = mint_access_token(private_key=key, kid="bench", user_id="bench-user", issuer="expense-tracker",
                                 audience="expense-tracker-api", ttl_seconds=3600)
    return Scenario(
        title="trivial ASGI upstream (static JSON): the proxy's own cost in full",
        urls={"direct": upstream, "nginx": start_nginx(running, nginx, upstream),
              "gateway": running.uvicorn("gateway", "gateway.main:create_app", env=gateway_env(upstream,
                                                                                              public_key=public))},
        headers={"Authorization": f"Bearer {token}"},
        alternatives={"aiohttp": running.uvicorn("gateway-aiohttp", "gateway.main:create_app",
                                                 env=gateway_env(upstream, public_key=public, client="aiohttp"))},
        pids=running.pids)


def user_service_scenario(running: Children, nginx: str) -> Scenario | None:
    if not (ROOT / "user_service" / "main.py").exists():
        say("user_service is not in this checkout: the real-endpoint rows are skipped")
        return None
    mongo = SecantusProcess().start()
    running.cleanups.append(mongo.stop)
    amqp_url = os.environ.get("AMQP_URL", LOCAL_AMQP_URL)
    tag = f"bench{os.getpid()}"
    env = {"SERVICE_NAME": "user_service", "LOG_LEVEL": "WARNING", "ENVIRONMENT": "development",
           "MONGODB_URL": mongo.url, "MONGODB_DB": f"{tag}_user_service", "AMQP_URL": amqp_url,
           "AMQP_EXCHANGE": f"tracker.events.{tag}", "AMQP_QUEUE_PREFIX": f"{tag}.",
           "JWT_PRIVATE_KEY": _pem(Ed25519PrivateKey.generate(), private=True), "JWT_KEY_ID": "bench-1"}
    if not port_open(*amqp_host_port(amqp_url)):
        say(f"no RabbitMQ at {amqp_url}: user_service runs without its broker (events stay in its outbox)")
        env["STARTUP_WAIT_SECONDS"] = "2"
    else:
        running.cleanups.append(lambda: _delete_exchanges(amqp_url, env["AMQP_EXCHANGE"]))
    service = running.uvicorn("user_service", "user_service.main:create_app", env=env)
    credentials = {"email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
                   "password": f"Bench-{secrets.token_urlsafe(12)}-9!"}
    with httpx.Client(base_url=service, timeout=20) as client:
        registered = client.post("/api/auth/register", json={**credentials, "name": "Bench User"})
        login = client.post("/api/auth/login", json=credentials)
    if registered.status_code != 201 or login.status_code != 200:
        say(f"user_service register/login failed ({registered.status_code}, {login.status_code}): "
            f"{registered.text[:200]} {login.text[:200]}; real-endpoint rows skipped")
        return None
    jwks = f"{service}/.well-known/jwks.json"
    return Scenario(
        title="user_service GET /api/users/me (real token, SecantusDB): what a client sees",
        urls={"direct": service, "nginx": start_nginx(running, nginx, service, name="nginx-user"),
              "gateway": running.uvicorn("gateway-user", "gateway.main:create_app",
                                         env=gateway_env(service, jwks_url=jwks))},
        headers={"Authorization": f"Bearer {login.json()['access_token']}"}, pids=running.pids)


def _delete_exchanges(amqp_url: str, exchange: str) -> None:
    import asyncio

    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect(amqp_url, timeout=5)
        async with connection:
            channel = await connection.channel()
            for name in (exchange, f"{exchange}.dlx"):
                await channel.exchange_delete(name)

    asyncio.run(delete())


def median_of(results: list[WrkResult]) -> WrkResult:
    """Median of each figure over the rounds (failures summed): one disturbed round does not move it."""
    cpu = [r.cpu_us_per_request for r in results if r.cpu_us_per_request is not None]
    return WrkResult(requests_per_second=statistics.median(r.requests_per_second for r in results),
                     p50_ms=statistics.median(r.p50_ms for r in results),
                     p99_ms=statistics.median(r.p99_ms for r in results),
                     requests=sum(r.requests for r in results), failures=sum(r.failures for r in results),
                     cpu_us_per_request=statistics.median(cpu) if cpu else None)


def measure(scenario: Scenario, wrk: str, seconds: float) -> None:
    with httpx.Client(timeout=10) as client:
        for target, url in {**scenario.urls, **scenario.alternatives}.items():
            answer = client.get(url + PATH, headers=scenario.headers)
            if answer.status_code != 200:
                raise SystemExit(f"[bench] {target} answers {answer.status_code} to GET {PATH}: {answer.text[:300]}")
    for url in [*scenario.urls.values(), *scenario.alternatives.values()]:
        run_wrk(wrk, url + PATH, connections=8, seconds=1, headers=scenario.headers)  # warm-up
    for connections in CONNECTIONS:
        # At 32 connections the alternative upstream clients join the rounds: the client choice, re-measured.
        targets = {target: scenario.urls[target] for target in TARGETS}
        if connections == max(CONNECTIONS):
            targets.update({f"gateway ({label} client)": url for label, url in scenario.alternatives.items()})
        rounds: dict[str, list[WrkResult]] = {target: [] for target in targets}
        for _ in range(ROUNDS):  # short runs, round-robin: a noisy neighbour hits every target alike
            for target, url in targets.items():
                rounds[target].append(run_wrk(wrk, url + PATH, connections=connections, seconds=seconds / ROUNDS,
                                              headers=scenario.headers, pid=scenario.pids.get(url)))
        for target in targets:
            result = scenario.results[(connections, target)] = median_of(rounds[target])
            say(f"{connections:>2} conns  {target:<24} {result.requests_per_second:>8.0f} req/s  "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  cpu {_cpu(result)} us/req")


def _cpu(result: WrkResult) -> str:
    return "-" if result.cpu_us_per_request is None else f"{result.cpu_us_per_request:.0f}"


def report(scenario: Scenario) -> str:
    results = scenario.results
    rows = []
    for (connections, target), r in results.items():
        rows.append([connections, target, f"{r.requests_per_second:.0f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}",
                     _cpu(r), r.failures])
    ratios = []
    for c in CONNECTIONS:
        direct, gateway, nginx = (results[(c, t)] for t in TARGETS)
        ratios.append([c, f"{gateway.requests_per_second / direct.requests_per_second:.2f}",
                       f"{gateway.requests_per_second / nginx.requests_per_second:.2f}",
                       f"{nginx.requests_per_second / direct.requests_per_second:.2f}",
                       f"{gateway.p99_ms - direct.p99_ms:+.2f}", f"{nginx.p99_ms - direct.p99_ms:+.2f}"])
    throughput = results[(32, "gateway")].requests_per_second / results[(32, "direct")].requests_per_second
    added = results[(8, "gateway")].p99_ms - results[(8, "direct")].p99_ms
    lines = [
        f"\n=== gateway: {scenario.title}",
        table(["conns", "target", "req/s", "p50 ms", "p99 ms", "cpu us/req", "errors"], rows),
        "cpu us/req: CPU time of the process wrk talks to (direct: the upstream; gateway, nginx: the proxy alone)",
        "",
        table(["conns", "gateway/direct", "gateway/nginx", "nginx/direct", "added p99 gw ms", "added p99 nginx ms"],
              ratios),
        "",
        f"target: gateway/direct at 32 conns >= {MIN_THROUGHPUT_RATIO}: {throughput:.2f} "
        f"{'met' if throughput >= MIN_THROUGHPUT_RATIO else 'NOT met'}; "
        f"added p99 at 8 conns <= {MAX_ADDED_P99_MS:g} ms: {added:+.2f} ms "
        f"{'met' if added <= MAX_ADDED_P99_MS else 'NOT met'}",
    ]
    if any(r.failures for r in results.values()):
        lines.append("WARNING: some requests failed (errors column): those figures are not comparable")
    return "\n".join(lines)


def run(*, seconds: float) -> None:
    binaries = ensure_binaries("wrk", "nginx")
    cores = os.cpu_count()
    say(f"gateway section: {cores} cores, load average {os.getloadavg()[0]:.2f}; {seconds:g} s per point "
        f"(median of {ROUNDS} interleaved runs), "
        f"connections {', '.join(map(str, CONNECTIONS))}; one wrk thread, one gateway process, one nginx worker")
    started = time.monotonic()
    reports = []
    for build in (trivial_scenario, user_service_scenario):
        with children() as running:  # each scenario's processes stop before the next one starts
            scenario = build(running, binaries["nginx"])
            if scenario is None:
                continue
            say(f"measuring: {scenario.title}")
            measure(scenario, binaries["wrk"], seconds)
            reports.append(report(scenario))
    print("\n".join(reports), flush=True)
    say(f"gateway section took {time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.2f} "
        f"(other work on this machine shares the {cores} cores and moves every figure)")
