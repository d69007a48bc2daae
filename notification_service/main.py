"""The notification service: `uvicorn --factory notification_service.main:create_app`."""

from fastapi import FastAPI

from shared.app import create_service_app

from .handlers import EVENT_HANDLERS
from .mailer import Mailer
from .models import MODELS
from .routes import router
from .service_email import email_sender_loop
from .service_weekly import weekly_report_loop
from .settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(settings, title="Notification service", routers=[router], models=MODELS,
                             handlers=EVENT_HANDLERS, tasks=[email_sender_loop, weekly_report_loop])
    app.state.runtime.extras.update(settings=settings, mailer=Mailer(settings))
    return app
