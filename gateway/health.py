"""GET /health: every service's /readyz, asked concurrently with a short timeout, rolled up into one answer."""

import asyncio
from typing import Any

import httpx


async def service_readiness(client: httpx.AsyncClient, name: str, url: str, timeout: float) -> dict[str, Any]:
    try:
        response = await client.get(f"{url}/readyz", timeout=timeout)
    except httpx.TimeoutException:
        return {"status": "timeout", "detail": f"no answer within {timeout:g}s"}
    except httpx.HTTPError as exc:
        return {"status": "unreachable", "detail": type(exc).__name__}
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    checks = payload.get("checks", {}) if isinstance(payload, dict) else {}
    ready = response.status_code == 200
    return {"status": "ready" if ready else "unavailable", "checks": checks}


async def roll_up(client: httpx.AsyncClient, service_urls: dict[str, str], timeout: float) -> tuple[bool, dict]:
    """(all ready, {service: its status}); a service that does not answer in time counts as not ready."""
    names = list(service_urls)
    results = await asyncio.gather(*(service_readiness(client, n, service_urls[n], timeout) for n in names))
    services = dict(zip(names, results, strict=True))
    ready = all(result["status"] == "ready" for result in results)
    return ready, {"status": "ready" if ready else "degraded", "services": services}
