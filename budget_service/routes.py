"""/api/budgets: thin handlers, parse → service → schema."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from budget_service import service
from budget_service.schemas import (
    CURRENCY_NOTE,
    AlertPage,
    BudgetCreate,
    BudgetDetail,
    BudgetPage,
    BudgetUpdate,
    CategoryId,
    PeriodPage,
)
from budget_service.settings import Settings
from shared.auth import CurrentUser
from shared.idempotency import IdempotencyKey, mark_replayed
from shared.runtime import Runtime
from shared.schemas import Pagination


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _settings(request: Request) -> Settings:
    return request.app.state.settings


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
SettingsDep = Annotated[Settings, Depends(_settings)]

router = APIRouter(prefix="/api/budgets", tags=["budgets"])


@router.get("/alerts", response_model=AlertPage, summary="Alerts raised by the caller's budgets, newest first")
async def list_alerts(user: CurrentUser, page: Pagination,
                      budget_id: Annotated[str | None, Query(description="only this budget's alerts")] = None,
                      ) -> AlertPage:
    return await service.list_alerts(user_id=user.id, page=page, budget_id=budget_id)


@router.post("", status_code=201, response_model=BudgetDetail, summary="Create a budget",
             description=CURRENCY_NOTE)
async def create_budget(body: BudgetCreate, user: CurrentUser, runtime: RuntimeDep, settings: SettingsDep,
                        response: Response, idempotency_key: IdempotencyKey = None) -> BudgetDetail:
    created, replayed = await service.create_budget(runtime=runtime, settings=settings, user_id=user.id, data=body,
                                                    idempotency_key=idempotency_key)
    mark_replayed(response, replayed)
    return created


@router.get("", response_model=BudgetPage, summary="The caller's budgets with their current period, newest first")
async def list_budgets(user: CurrentUser, page: Pagination,
                       category_id: Annotated[CategoryId | None, Query()] = None) -> BudgetPage:
    return await service.list_budgets(user_id=user.id, page=page, category_id=category_id)


@router.get("/{budget_id}", response_model=BudgetDetail,
            summary="A budget: its current period (spent, remaining, ratio, status) and recent past periods",
            description=CURRENCY_NOTE)
async def get_budget(budget_id: str, user: CurrentUser, settings: SettingsDep) -> BudgetDetail:
    return await service.get_budget(settings=settings, user_id=user.id, budget_id=budget_id)


@router.get("/{budget_id}/periods", response_model=PeriodPage, summary="A budget's past periods, newest first")
async def list_past_periods(budget_id: str, user: CurrentUser, page: Pagination) -> PeriodPage:
    return await service.list_past_periods(user_id=user.id, budget_id=budget_id, page=page)


@router.patch("/{budget_id}", response_model=BudgetDetail, summary="Change a budget (only the fields sent)")
async def update_budget(budget_id: str, body: BudgetUpdate, user: CurrentUser, runtime: RuntimeDep,
                        settings: SettingsDep) -> BudgetDetail:
    return await service.update_budget(runtime=runtime, settings=settings, user_id=user.id, budget_id=budget_id,
                                       changes=body)


@router.delete("/{budget_id}", status_code=204, response_class=Response, summary="Delete a budget and its alerts")
async def delete_budget(budget_id: str, user: CurrentUser, runtime: RuntimeDep) -> Response:
    await service.delete_budget(runtime=runtime, user_id=user.id, budget_id=budget_id)
    return Response(status_code=204)
