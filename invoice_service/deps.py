"""Request dependencies shared by the routers, as Annotated aliases."""

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from invoice_service.service_lifecycle import utc_today
from shared.runtime import Runtime


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
Today = Annotated[date, Depends(utc_today)]
