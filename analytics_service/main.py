"""analytics_service: the read model of where the money goes, fed by expense events."""

from fastapi import FastAPI

from analytics_service.handlers import EVENT_HANDLERS
from analytics_service.models import MODELS
from analytics_service.routes import router
from analytics_service.settings import Settings
from shared.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # It publishes nothing: the bus is for its consumer only.
    return create_service_app(settings, title="Analytics service", routers=[router], models=MODELS,
                              handlers=EVENT_HANDLERS, publishes=False)
