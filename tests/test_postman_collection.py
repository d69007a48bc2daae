"""The Postman collection stays true: its structure covers every route, and newman runs it green against the
whole stack started as real processes (devtools.devstack.ephemeral_stack: in-memory SecantusDB, its own exchange
and queues, shifted ports), exactly as `make postman` runs it against `make run`."""

import asyncio
import importlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from devtools.devstack import ephemeral_stack
from devtools.testing.net import port_open
from devtools.testing.waiting import wait_until
from shared.topology import BACKEND_SERVICES, SERVICES

ROOT = Path(__file__).resolve().parent.parent
COLLECTION_FILE = ROOT / "postman_collection.json"
NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
SCHEMA_V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
UNROUTED_ON_PURPOSE = {("GET", "/api/no-such-thing")}  # the gateway's own 404 check
STACK_START_SECONDS = 60
NEWMAN_SECONDS = 90


def load_collection() -> dict[str, Any]:
    return json.loads(COLLECTION_FILE.read_text())


def requests_of(items: list[dict[str, Any]], trail: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    """Every request in folder order, named by its folder path."""
    found = []
    for item in items:
        if "item" in item:
            found += requests_of(item["item"], (*trail, item["name"]))
        else:
            found.append((" / ".join((*trail, item["name"])), item))
    return found


def request_path(item: dict[str, Any]) -> str:
    url = item["request"]["url"]
    if isinstance(url, str):
        return "/" + url.removeprefix("{{baseUrl}}").split("?")[0].lstrip("/")
    return "/" + "/".join(url["path"])


def service_routes() -> set[tuple[str, str]]:
    """(METHOD, path template) of every route the gateway exposes: its own, and each service's under its prefixes."""
    routes: set[tuple[str, str]] = set()
    gateway = importlib.import_module("gateway.main").create_app()
    for route in gateway.api.routes:
        if isinstance(route, APIRoute):
            routes |= {(method, route.path) for method in route.methods if method != "HEAD"}
    for name in BACKEND_SERVICES:
        app = importlib.import_module(SERVICES[name].module).create_app()
        for path, operations in app.openapi()["paths"].items():
            if any(path == p or path.startswith(p.rstrip("/") + "/") for p in SERVICES[name].prefixes):
                routes |= {(method.upper(), path) for method in operations}
    return routes


def route_for(method: str, path: str, routes: set[tuple[str, str]]) -> tuple[str, str] | None:
    """The most specific route (most literal segments) a collection request hits; `{{var}}` fills a parameter."""
    segments = path.strip("/").split("/")
    best, best_literals = None, -1
    for route_method, template in routes:
        parts = template.strip("/").split("/")
        if route_method != method or len(parts) != len(segments):
            continue
        literals = 0
        for part, segment in zip(parts, segments, strict=True):
            if re.fullmatch(r"\{[^}]+\}", part):
                continue
            if part != segment:
                break
            literals += 1
        else:
            if literals > best_literals:
                best, best_literals = (route_method, template), literals
    return best


def test_the_collection_is_a_valid_postman_v2_1_collection_with_a_base_url_variable():
    collection = load_collection()
    assert collection["info"]["schema"] == SCHEMA_V21
    assert collection["info"]["name"] and collection["info"]["_postman_id"]
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    assert variables["baseUrl"].startswith("http://")
    requests = requests_of(collection["item"])
    assert len({item["id"] for _, item in requests}) == len(requests), "request ids must be unique"
    for name, item in requests:
        request = item["request"]
        assert request["method"] in {"GET", "POST", "PUT", "PATCH", "DELETE"}, name
        raw = request["url"] if isinstance(request["url"], str) else request["url"]["raw"]
        assert raw.startswith("{{baseUrl}}/"), f"{name}: every request goes through {{{{baseUrl}}}}"
        if request.get("body", {}).get("mode") == "raw":
            content_types = [h["value"] for h in request["header"] if h["key"].lower() == "content-type"]
            assert content_types, f"{name}: a raw body needs its Content-Type"
            if content_types[0] == "application/json":
                json.loads(request["body"]["raw"])  # variables sit inside JSON strings: still valid JSON


def test_every_request_has_a_test_script_asserting_its_status():
    for name, item in requests_of(load_collection()["item"]):
        scripts = [e["script"]["exec"] for e in item.get("event", []) if e["listen"] == "test"]
        assert scripts, f"{name} has no test script"
        source = "\n".join(line for script in scripts for line in script)
        assert "pm.test(" in source, f"{name} asserts nothing"
        assert "pm.response.to.have.status(" in source, f"{name} does not assert its status"


def test_every_route_of_every_service_is_in_the_collection_and_every_request_hits_a_route():
    routes = service_routes()
    assert len(routes) > 40  # the services' routes were really read
    covered: set[tuple[str, str]] = set()
    for name, item in requests_of(load_collection()["item"]):
        method, path = item["request"]["method"], request_path(item)
        route = route_for(method, path, routes)
        if route is None:
            assert (method, path) in UNROUTED_ON_PURPOSE, f"{name}: {method} {path} matches no route of any service"
            continue
        covered.add(route)
    missing = sorted(routes - covered, key=lambda r: (r[1], r[0]))
    assert not missing, "routes with no request in postman_collection.json:\n" + "\n".join(
        f"  {m} {p}" for m, p in missing)


def test_the_run_is_self_contained_unique_user_and_account_deleted_last():
    requests = requests_of(load_collection()["item"])
    register = next(item for _, item in requests if request_path(item) == "/api/auth/register")
    prerequest = "\n".join(line for event in register["event"] if event["listen"] == "prerequest"
                           for line in event["script"]["exec"])
    assert "Date.now()" in prerequest and "email" in prerequest  # a fresh email per run
    last_method, last_path = requests[-1][1]["request"]["method"], request_path(requests[-1][1])
    assert (last_method, last_path) == ("DELETE", "/api/users/me")


def _free_offset() -> int:
    """+100 as documented; a higher one only when another run already holds those ports."""
    for offset in range(100, 1000, 100):
        if not any(port_open("127.0.0.1", spec.port + offset) for spec in SERVICES.values()):
            return offset
    pytest.fail("no free block of ports 8100-8906 for the ephemeral stack", pytrace=False)


def _newman_failures(report_file: Path) -> str:
    if not report_file.exists():
        return "(newman wrote no JSON report)"
    run = json.loads(report_file.read_text())["run"]
    lines = [f"{f['source'].get('name', '?')}: {f['error'].get('test') or f['error'].get('name')}: "
             f"{f['error'].get('message')}" for f in run["failures"]]
    stats = {k: (v["total"], v["failed"]) for k, v in run["stats"].items()}
    return f"stats (total, failed): {stats}\n" + "\n".join(lines)


async def test_newman_runs_the_collection_green_against_the_whole_stack():
    node = shutil.which("node")
    if node is None or not NEWMAN.exists():
        pytest.fail("node and newman are required for the Postman run: install Node.js 18+, then `make install` "
                    "(npm ci installs newman 6.2.2 from package-lock.json)", pytrace=False)
    stack = ephemeral_stack(port_offset=_free_offset())
    report_file = stack.var / "newman-report.json"
    try:
        await asyncio.to_thread(stack.start)
        gateway = stack.url("gateway")
        async with httpx.AsyncClient(timeout=2.0) as client:
            async def healthy() -> bool:
                try:
                    return (await client.get(f"{gateway}/health")).status_code == 200
                except httpx.HTTPError:
                    return False
            try:
                await wait_until(healthy, timeout=STACK_START_SECONDS, interval=0.25, message="the gateway's /health")
            except AssertionError:
                logs = {name: (stack.var / f"{name}.log").read_text()[-1500:] for name, _ in stack.children}
                pytest.fail(f"the stack did not become healthy; logs in {stack.var}:\n{json.dumps(logs, indent=1)}",
                            pytrace=False)
        process = await asyncio.create_subprocess_exec(
            str(NEWMAN), "run", str(COLLECTION_FILE), "--env-var", f"baseUrl={gateway}",
            "--reporters", "cli,json", "--reporter-json-export", str(report_file), "--color", "off",
            "--timeout-request", "30000",
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), NEWMAN_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()
            pytest.fail(f"newman did not finish within {NEWMAN_SECONDS}s", pytrace=False)
    finally:
        await asyncio.to_thread(stack.stop)
    summary = output.decode(errors="replace")
    assert process.returncode == 0, (
        f"newman exited with {process.returncode}\n{_newman_failures(report_file)}\n\n"
        f"--- newman output (tail) ---\n{summary[-6000:]}\n(service logs: {stack.var})")
    shutil.rmtree(stack.var, ignore_errors=True)  # kept above for the logs when the run failed
