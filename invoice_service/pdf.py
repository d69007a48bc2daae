"""The invoice as a PDF (fpdf2, pure Python): sender, client, every line, tax per rate and the totals."""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF, FontFace, XPos, YPos

from invoice_service.models import Invoice, Party

CORE_ENCODING = "windows-1252"


@dataclass(frozen=True)
class PdfFonts:
    """A TrueType family when both files exist; else the core font Helvetica (Latin-1 only)."""

    regular: str | None = None
    bold: str | None = None

    @property
    def unicode(self) -> bool:
        return bool(self.regular and self.bold and Path(self.regular).is_file() and Path(self.bold).is_file())


def money(amount: Decimal) -> str:
    return format(amount, ",f")


def number(value: Decimal) -> str:
    """A quantity or rate without trailing zeros: 12.50 → 12.5, 20.000 → 20."""
    return format(value.normalize(), "f")


class InvoicePdf:
    def __init__(self, fonts: PdfFonts) -> None:
        self.pdf = FPDF(format="A4")
        self.unicode = fonts.unicode
        if self.unicode:
            self.pdf.add_font("Body", "", fonts.regular)
            self.pdf.add_font("Body", "B", fonts.bold)
            self.family = "Body"
        else:
            self.family = "Helvetica"
            self.pdf.core_fonts_encoding = CORE_ENCODING  # adds € “ ” — … to Latin-1
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        # Core fonts cover Windows-1252 only: keep what exists there, transliterate the rest (Ł → ?, é stays).
        return "".join(ch if _encodable(ch) else _transliterate(ch) for ch in value)

    def font(self, size: float, *, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def line(self, value: str, *, size: float = 10, bold: bool = False, align: str = "L", height: float = 5) -> None:
        self.font(size, bold=bold)
        self.pdf.multi_cell(0, height, self.text(value), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def party(self, heading: str, party: Party | None) -> None:
        self.line(heading, size=9, bold=True)
        if party is None:
            self.line("-", size=9)
            return
        self.line(party.name, size=10, bold=True)
        for value in (party.address, party.email or "", f"Tax ID: {party.tax_id}" if party.tax_id else ""):
            if value:
                self.line(value, size=9)

    def render(self, invoice: Invoice, *, client: Party | None, sender: Party | None) -> bytes:
        pdf = self.pdf
        pdf.set_title(self.text(f"Invoice {invoice.number}"))
        pdf.set_author(self.text(sender.name if sender else ""))
        self.line("INVOICE", size=20, bold=True, height=10)
        self.line(f"Number: {invoice.number}", bold=True)
        self.line(f"Issue date: {invoice.issue_date.isoformat()}    Due date: {invoice.due_date.isoformat()}")
        if invoice.status.value != "draft":
            self.line(f"Status: {invoice.status.value.replace('_', ' ')}", size=9)
        pdf.ln(4)
        self.party("FROM", sender)
        pdf.ln(3)
        self.party("BILL TO", client)
        pdf.ln(5)
        self.lines_table(invoice)
        pdf.ln(4)
        self.totals(invoice)
        for heading, body in (("Notes", invoice.notes), ("Terms", invoice.terms),
                              ("Payment details", sender.payment_details if sender else "")):
            if body:
                pdf.ln(3)
                self.line(heading, size=9, bold=True)
                self.line(body, size=9)
        return bytes(pdf.output())

    def lines_table(self, invoice: Invoice) -> None:
        self.font(9)
        headings = ("Description", "Qty", "Unit price", "Tax %", "Discount", f"Net ({invoice.currency})")
        with self.pdf.table(col_widths=(70, 16, 26, 16, 24, 28), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT",
                            "RIGHT", "RIGHT"), headings_style=FontFace(emphasis="BOLD"), line_height=5,
                            borders_layout="HORIZONTAL_LINES") as table:
            table.row([self.text(h) for h in headings])
            for line in invoice.lines:
                if line.discount is None:
                    discount = ""
                elif line.discount.kind == "percent":
                    discount = f"{number(line.discount.value)} %"
                else:
                    discount = money(line.discount.value)
                table.row([self.text(line.description), number(line.quantity), money(line.unit_price),
                           number(line.tax_rate), discount, money(line.net)])

    def totals(self, invoice: Invoice) -> None:
        rows: list[tuple[str, str, bool]] = [("Subtotal", money(invoice.subtotal), False)]
        if invoice.discount is not None:
            label = "Discount"
            if invoice.discount.kind == "percent":
                label += f" ({number(invoice.discount.value)} %)"
            rows.append((label, f"-{money(invoice.discount_total)}", False))
        for tax in invoice.tax_lines:
            rows.append((f"Tax {number(tax.rate)} % on {money(tax.base)}", money(tax.tax), False))
        rows.append((f"Total ({invoice.currency})", money(invoice.total), True))
        if invoice.amount_paid:
            rows.append(("Amount paid", money(invoice.amount_paid), False))
        rows.append((f"Balance due ({invoice.currency})", money(invoice.balance_due), True))
        for label, amount, bold in rows:
            self.font(10, bold=bold)
            self.pdf.cell(140, 6, self.text(label), align="R")
            self.pdf.cell(40, 6, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _encodable(ch: str) -> bool:
    try:
        ch.encode(CORE_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def _transliterate(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch)
    kept = "".join(c for c in decomposed if _encodable(c) and not unicodedata.combining(c))
    return kept or "?"


def render_invoice_pdf(invoice: Invoice, *, client: Party | None, sender: Party | None, fonts: PdfFonts) -> bytes:
    return InvoicePdf(fonts).render(invoice, client=client, sender=sender)
