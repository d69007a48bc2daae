"""PDF rendering on its own: any client name renders, with a Unicode font or the core-font fallback."""

from datetime import date
from decimal import Decimal

import pytest

from invoice_service.models import Invoice, InvoiceStatus, Party
from invoice_service.pdf import PdfFonts, render_invoice_pdf
from invoice_service.schemas import LineIn
from invoice_service.service_invoices import price
from invoice_service.settings import Settings
from invoice_service.tests.helpers import pdf_text

DEJAVU = PdfFonts(Settings.model_fields["pdf_font_regular"].default, Settings.model_fields["pdf_font_bold"].default)


def an_invoice(description: str, lines: int = 1) -> Invoice:
    content = price([LineIn(description=description, quantity="2", unit_price="10.00", tax_rate="19")] * lines,
                    None, "EUR")
    return Invoice.model_construct(
        user_id="u", number="INV-2026-0007", year=2026, client_id="c", status=InvoiceStatus.SENT,
        issue_date=date(2026, 1, 1), due_date=date(2026, 1, 31), currency="EUR", notes="", terms="",
        amount_paid=Decimal("0.00"), balance_due=content["total"], payments=[], **content)


CLIENT = Party(name="Zoë Łukasiewicz", email="zoe@example.com", address="Straße 1, Kraków")


@pytest.mark.skipif(not DEJAVU.unicode, reason="the DejaVu fonts are not installed on this machine")
def test_a_unicode_font_renders_names_in_any_latin_script():
    text = pdf_text(render_invoice_pdf(an_invoice("Übersetzung — Łódź"), client=CLIENT, sender=CLIENT,
                                       fonts=DEJAVU))
    assert "Zoë Łukasiewicz" in text and "Übersetzung — Łódź" in text


def test_without_a_unicode_font_the_core_font_keeps_what_it_can_and_never_fails():
    text = pdf_text(render_invoice_pdf(an_invoice("Übersetzung — Łódź 東京"), client=CLIENT, sender=CLIENT,
                                       fonts=PdfFonts()))
    assert "Zoë ?ukasiewicz" in text and "Übersetzung — ?ódz" in text


def test_a_long_invoice_runs_over_several_pages_with_every_line():
    invoice = an_invoice("Consulting hour", lines=80)
    pdf = render_invoice_pdf(invoice, client=CLIENT, sender=CLIENT, fonts=PdfFonts())
    text = pdf_text(pdf)
    assert text.count("Consulting hour") == 80
    assert "1,904.00" in text  # 80 * 2 * 10.00 = 1600.00 + 19 % = 304.00
