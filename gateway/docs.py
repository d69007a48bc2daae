"""/openapi.json and /docs: the OpenAPI documents of every service, merged, cached briefly.

Only the paths the gateway routes to a service are taken from it (its /healthz, /readyz stay internal).
A component that two services name differently is renamed `<service>.<Name>` and its references rewritten.
A service that is down is left out and named in `info.x-unavailable-services`; the result is then cached
for a few seconds only, so it fills in as soon as the service is back.
"""

import asyncio
import copy
import time
from typing import Any

import httpx

from shared.topology import SERVICES

PARTIAL_CACHE_SECONDS = 3.0
GATEWAY_PATHS = {
    "/health": {"get": {"tags": ["gateway"], "summary": "Readiness of every service, rolled up",
                        "responses": {"200": {"description": "every service is ready"},
                                      "503": {"description": "at least one service is not ready"}},
                        "security": []}},
}


def _owned(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in renames:
                out[key] = f"{value.rpartition('/')[0]}/{renames[value]}"
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def merge(documents: dict[str, dict[str, Any]], unavailable: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Expense tracker API", "version": "1.0.0",
                 "description": "Every service behind the gateway. Authorize with a Bearer access token from "
                                "POST /api/auth/login.",
                 "x-unavailable-services": unavailable},
        "paths": copy.deepcopy(GATEWAY_PATHS),
        "components": {},
        "tags": [{"name": "gateway"}],
    }
    seen_tags = {"gateway"}
    for service, document in documents.items():
        components = document.get("components", {})
        renames: dict[str, str] = {}
        for section, entries in components.items():
            target = merged["components"].setdefault(section, {})
            for name, definition in entries.items():
                if name in target and target[name] != definition:
                    renames[f"#/components/{section}/{name}"] = f"{service}.{name}"
        document = _rewrite_refs(document, renames) if renames else document
        for section, entries in document.get("components", {}).items():
            target = merged["components"][section]
            for name, definition in entries.items():
                key = renames.get(f"#/components/{section}/{name}", name)
                target.setdefault(key, definition)
        prefixes = SERVICES[service].prefixes
        for path, operations in document.get("paths", {}).items():
            if _owned(path, prefixes):
                merged["paths"].setdefault(path, {}).update(operations)
        for tag in document.get("tags", []):
            if tag.get("name") not in seen_tags:
                seen_tags.add(tag.get("name"))
                merged["tags"].append(tag)
    return merged


class MergedOpenAPI:
    def __init__(self, client: httpx.AsyncClient, service_urls: dict[str, str], *, cache_seconds: float,
                 timeout: float) -> None:
        self.client, self.timeout, self.cache_seconds = client, timeout, cache_seconds
        self.service_urls = {name: url for name, url in service_urls.items() if SERVICES.get(name) and
                             SERVICES[name].prefixes}
        self._cached: dict[str, Any] | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def _fetch(self, name: str, url: str) -> dict[str, Any] | None:
        try:
            response = await self.client.get(f"{url}/openapi.json", timeout=self.timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        return document if isinstance(document, dict) else None

    async def document(self) -> dict[str, Any]:
        async with self._lock:
            if self._cached is not None and time.monotonic() < self._expires:
                return self._cached
            names = list(self.service_urls)
            fetched = await asyncio.gather(*(self._fetch(n, self.service_urls[n]) for n in names))
            documents = {n: d for n, d in zip(names, fetched, strict=True) if d is not None}
            unavailable = [n for n in names if n not in documents]
            self._cached = merge(documents, unavailable)
            self._expires = time.monotonic() + (PARTIAL_CACHE_SECONDS if unavailable else self.cache_seconds)
            return self._cached
