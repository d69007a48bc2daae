"""Where every service listens and which path prefixes the gateway routes to it: defined here, once."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    prefixes: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return f"{self.name}.main"


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("gateway", 8000),
        ServiceSpec("user_service", 8001, ("/api/auth", "/api/users", "/.well-known")),
        ServiceSpec("expense_service", 8002, ("/api/expenses", "/api/categories", "/api/groups")),
        ServiceSpec("budget_service", 8003, ("/api/budgets",)),
        ServiceSpec("analytics_service", 8004, ("/api/analytics",)),
        ServiceSpec("notification_service", 8005, ("/api/notifications",)),
        ServiceSpec("invoice_service", 8006, ("/api/invoices", "/api/clients", "/api/business-profile")),
    )
}

BACKEND_SERVICES = tuple(name for name in SERVICES if name != "gateway")


def default_url(name: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{SERVICES[name].port}"
