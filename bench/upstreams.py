"""A trivial upstream: the cheapest possible ASGI answer, so the proxy's own cost shows in full."""

import json

from starlette.types import Receive, Scope, Send

PROFILE = json.dumps({"id": "6650f0c2a1b2c3d4e5f60718", "email": "bench@example.com", "name": "Bench User",
                      "default_currency": "EUR", "timezone": "UTC"}).encode()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(PROFILE)).encode())]


async def trivial_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": PROFILE})


def create_app() -> object:
    return trivial_app
