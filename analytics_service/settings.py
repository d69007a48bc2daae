"""analytics_service settings: the shared base plus where expense_service answers (for rebuilds)."""

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "analytics_service"
    # One event at a time per instance: a user's events all touch the same month rollups, and concurrent
    # transactions on one document abort and retry. Measured on SecantusDB with one user's events:
    # 5.5 ms per event one at a time, 10.6 ms at 4 in flight, 31 ms at 16. Scale out with instances.
    amqp_prefetch: int = 1
    # {"expense_service": "http://127.0.0.1:8002"}; the harness and the dev launcher fill it.
    service_urls: dict[str, str] = {}
    # A rebuild reads the caller's transactions page by page; each call gets this long before a fast 503.
    expense_service_timeout_seconds: float = 10.0
    # Largest history a rebuild will read (pages of 100); beyond it the rebuild is refused, not truncated.
    rebuild_max_transactions: int = 500_000
