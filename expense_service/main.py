"""expense_service: transactions (income and expense), categories, CSV import/export, shared-expense groups.

uvicorn --factory expense_service.main:create_app
"""

from fastapi import FastAPI

from expense_service.handlers import EVENT_HANDLERS
from expense_service.models import MODELS
from expense_service.routes import categories, expenses
from expense_service.routes_groups import groups
from expense_service.settings import Settings
from shared.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(settings, title="Expense service", routers=[expenses, categories, groups], models=MODELS,
                             handlers=EVENT_HANDLERS)
    app.state.runtime.extras.update(settings=settings, seeded_users=set())
    return app
