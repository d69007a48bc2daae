"""invoice_service settings (environment variables on top of the shared base)."""

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "invoice_service"
    # The overdue scan is idempotent (one invoice.overdue per invoice, ever), so running it hourly rather than
    # once a day only makes it catch up sooner after downtime. 0 disables the background loop.
    overdue_scan_interval_seconds: float = 3600.0
    # A TrueType family for PDFs (regular + bold) so most scripts render; without it, the PDF core font
    # Helvetica is used and characters outside Windows-1252 are transliterated (or shown as "?").
    pdf_font_regular: str | None = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    pdf_font_bold: str | None = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
