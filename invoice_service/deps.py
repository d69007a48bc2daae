"""Request dependencies shared by the routers, as Annotated aliases."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Header, Request

from invoice_service.idempotency import check_key
from invoice_service.service_lifecycle import utc_today
from shared.runtime import Runtime


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key", description="a retry with the same key and body "
                                      "creates nothing twice and answers with what the first request made")] = None,
) -> str | None:
    return check_key(key)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]
Today = Annotated[date, Depends(utc_today)]
