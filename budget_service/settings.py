"""Budget service settings (environment variables on top of the shared ones)."""

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "budget_service"
    max_budgets_per_user: int = 200  # bounds the work one expense event can cause
    past_periods_in_read: int = 12  # a budget read embeds this many past periods; /periods pages the rest
    max_history_days: int = 1830  # how far back a budget's start_date may reach (about five years)
