"""invoice_service: clients, business profile, numbered invoices, payments, PDFs and invoice events."""

from fastapi import FastAPI

from invoice_service.handlers import EVENT_HANDLERS
from invoice_service.models import MODELS
from invoice_service.routes_clients import clients_router, profile_router
from invoice_service.routes_invoices import router as invoices_router
from invoice_service.service_lifecycle import overdue_scan_loop
from invoice_service.settings import Settings
from shared.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(settings, title="Invoice service",
                              routers=[clients_router, profile_router, invoices_router], models=MODELS,
                              handlers=EVENT_HANDLERS, tasks=[overdue_scan_loop])
