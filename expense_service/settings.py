"""expense_service settings: environment variables on top of the shared base."""

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "expense_service"
    # CSV imports arrive as request bodies: larger than the platform default, still bounded.
    max_body_bytes: int = 5 * 1024 * 1024

    # Used until the user's profile (user.registered / user.profile_updated) has been seen.
    default_currency: str = "EUR"
    default_timezone: str = "UTC"

    export_batch_size: int = 500  # documents held in memory at a time while streaming a CSV export
    import_max_rows: int = 10_000
    import_max_reported_errors: int = 100
    max_categories_per_user: int = 200
    max_group_members: int = 50  # participants of a group expense are at most the members
