"""Export of the report: one view as CSV, or every view as an XLSX workbook (one sheet per view).

Text a user typed (category names, descriptions) is neutralised against spreadsheet formula injection;
money goes out as exact decimals (numbers in the workbook, decimal strings in the CSV).
"""

import csv
import io
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from analytics_service.periods import Granularity
from analytics_service.service_insights import insights
from analytics_service.service_trends import trends
from analytics_service.service_views import categories, patterns, summary, top_expenses
from shared.money import CURRENCY_DIGITS

View = Literal["summary", "categories", "trends", "patterns", "top", "insights"]
VIEWS: tuple[View, ...] = ("summary", "categories", "trends", "patterns", "top", "insights")
EXPORT_TOP_LIMIT = 100
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
Table = tuple[list[str], list[list[Any]]]


def safe_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


async def summary_table(user_id: str, start: date | None, end: date | None, granularity: Granularity) -> Table:
    view = await summary(user_id=user_id, start=start, end=end)
    head = ["from_date", "to_date", "currency", "income", "expense", "net", "savings_rate", "count", "income_count",
            "expense_count", "average_daily_expense", "average_daily_income"]
    rows = [[view.from_date, view.to_date, c.currency, c.income, c.expense, c.net, c.savings_rate, c.count,
             c.income_count, c.expense_count, c.average_daily_expense, c.average_daily_income]
            for c in view.currencies]
    return head, rows


async def categories_table(user_id: str, start: date | None, end: date | None, granularity: Granularity) -> Table:
    view = await categories(user_id=user_id, start=start, end=end)
    head = ["currency", "rank", "category_id", "category_name", "amount", "count", "share", "previous_amount",
            "change", "change_ratio"]
    rows = [[c.currency, r.rank, r.category_id, r.category_name, r.amount, r.count, r.share, r.previous_amount,
             r.change, r.change_ratio] for c in view.currencies for r in c.categories]
    return head, rows


async def trends_table(user_id: str, start: date | None, end: date | None, granularity: Granularity) -> Table:
    view = await trends(user_id=user_id, granularity=granularity, start=start, end=end)
    head = ["currency", "period", "start_date", "end_date", "income", "expense", "net", "count"]
    rows = [[s.currency, p.period, p.start_date, p.end_date, p.income, p.expense, p.net, p.count]
            for s in view.series for p in s.points]
    return head, rows


async def patterns_table(user_id: str, start: date | None, end: date | None, granularity: Granularity) -> Table:
    view = await patterns(user_id=user_id, start=start, end=end)
    head = ["currency", "group", "key", "name", "total", "days", "average"]
    rows: list[list[Any]] = []
    for c in view.currencies:
        rows += [[c.currency, "weekday", w.weekday, w.name, w.total, w.days, w.average] for w in c.by_weekday]
        rows += [[c.currency, "day_of_month", d.day, str(d.day), d.total, d.days, d.average]
                 for d in c.by_day_of_month]
        w = c.weekend_vs_weekday
        rows += [[c.currency, "weekend", 0, "Saturday–Sunday", w.weekend_total, w.weekend_days, w.weekend_average],
                 [c.currency, "weekday", 0, "Monday–Friday", w.weekday_total, w.weekday_days, w.weekday_average]]
    return head, rows


async def top_table(user_id: str, start: date | None, end: date | None, granularity: Granularity) -> Table:
    view = await top_expenses(user_id=user_id, limit=EXPORT_TOP_LIMIT, start=start, end=end)
    head = ["currency", "rank", "id", "occurred_date", "category_name", "amount", "description"]
    rows = [[c.currency, rank, i.id, i.occurred_date, i.category_name, i.amount, i.description]
            for c in view.currencies for rank, i in enumerate(c.items, start=1)]
    return head, rows


async def insights_table(user_id: str, start: date | None, end: date | None, granularity: Granularity) -> Table:
    view = await insights(user_id=user_id)
    head = ["currency", "kind", "statement", "rule"]
    return head, [[i.currency, i.kind, i.statement, i.rule] for i in view.insights]


TABLES: dict[View, Callable[..., Any]] = {
    "summary": summary_table, "categories": categories_table, "trends": trends_table,
    "patterns": patterns_table, "top": top_table, "insights": insights_table,
}


def to_csv(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(head)
    for row in rows:
        writer.writerow(["" if v is None else format(v, "f") if isinstance(v, Decimal) else safe_cell(v)
                         for v in row])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheet apps read UTF-8


RATIO_COLUMNS = {"savings_rate", "share", "change_ratio"}


def to_xlsx(sheets: dict[str, Table]) -> bytes:
    workbook = Workbook(write_only=True)
    for title, (head, rows) in sheets.items():
        sheet = workbook.create_sheet(title=title.capitalize())
        sheet.append(head)
        currency_column = head.index("currency") if "currency" in head else None
        for row in rows:
            digits = CURRENCY_DIGITS.get(row[currency_column], 2) if currency_column is not None else 2
            cells = []
            for name, value in zip(head, row, strict=True):
                if isinstance(value, Decimal):
                    # Money stays an exact number, shown to the currency's minor unit; ratios to four places.
                    cell = WriteOnlyCell(sheet, value=value)
                    places = 4 if name in RATIO_COLUMNS else digits
                    cell.number_format = "0." + "0" * places if places else "0"
                    cells.append(cell)
                else:
                    cells.append(safe_cell(value))
            sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def export_report(*, user_id: str, format: Literal["csv", "xlsx"], view: View, start: date | None,
                        end: date | None, granularity: Granularity) -> tuple[bytes, str, str]:
    """(content, media type, file name)."""
    if format == "csv":
        head, rows = await TABLES[view](user_id, start, end, granularity)
        return to_csv(head, rows), "text/csv; charset=utf-8", f"analytics-{view}.csv"
    sheets = {name: await TABLES[name](user_id, start, end, granularity) for name in VIEWS}
    return (to_xlsx(sheets), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "analytics-report.xlsx")
