"""Budget service: budgets per category and period, fed by expense events, alerting at thresholds."""

from fastapi import FastAPI

from budget_service.handlers import EVENT_HANDLERS
from budget_service.models import MODELS
from budget_service.routes import router
from budget_service.settings import Settings
from shared.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(settings, title="Budget service", routers=[router], models=MODELS,
                              handlers=EVENT_HANDLERS)
