"""The report exported as CSV (one view) and as an XLSX workbook (a sheet per view) holds the views' numbers."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import load_workbook

from analytics_service.tests.conftest import processed_count, snapshot
from devtools.testing.waiting import wait_until
from shared.events import ExpenseCreated

HOSTILE = "=HYPERLINK(\"http://evil.example\",\"click\")"


async def test_csv_and_xlsx_carry_the_views_numbers_and_neutralise_formulas(analytics, producer):
    stack, today = analytics, date.today()
    day = today - timedelta(days=1) if today.day > 1 else today
    events = [
        snapshot("u1", amount="12.30", occurred_date=day, category_id="c-x", category_name=HOSTILE,
                 description="@SUM(A1:A9)"),
        snapshot("u1", amount="1500", currency="JPY", occurred_date=day, category_id="c-food", category_name="Food"),
        snapshot("u1", amount="100.00", type="income", occurred_date=day, category_id="c-pay", category_name="Pay"),
    ]
    for expense in events:
        await producer.publish(ExpenseCreated(expense=expense), "u1")

    async def applied() -> bool:
        return await processed_count(stack) >= len(events)

    await wait_until(applied, message="events applied")
    api = stack.client("analytics_service", headers=stack.auth("u1"))
    params = {"from": day.isoformat(), "to": day.isoformat()}
    summary = (await api.get("/api/analytics/summary", params=params)).json()

    response = await api.get("/api/analytics/export", params={**params, "format": "csv", "view": "summary"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["currency"], r["income"], r["expense"], r["net"], r["count"]) for r in rows] == [
        (c["currency"], c["income"], c["expense"], c["net"], str(c["count"])) for c in summary["currencies"]]

    response = await api.get("/api/analytics/export", params={**params, "format": "csv", "view": "top"})
    top_rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    hostile_row = next(r for r in top_rows if r["currency"] == "EUR")
    assert hostile_row["category_name"] == "'" + HOSTILE and hostile_row["description"] == "'@SUM(A1:A9)"

    response = await api.get("/api/analytics/export", params={**params, "format": "xlsx"})
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Summary", "Categories", "Trends", "Patterns", "Top", "Insights"]
    sheet = list(workbook["Summary"].iter_rows(values_only=True))
    head = sheet[0]
    by_currency = {row[head.index("currency")]: row for row in sheet[1:]}
    for view in summary["currencies"]:
        row = by_currency[view["currency"]]
        # Money is a number in the workbook, equal to the view's decimal string.
        assert Decimal(str(row[head.index("expense")])) == Decimal(view["expense"])
        assert Decimal(str(row[head.index("income")])) == Decimal(view["income"])
    categories = list(workbook["Categories"].iter_rows(values_only=True))
    names = [row[categories[0].index("category_name")] for row in categories[1:]]
    assert "'" + HOSTILE in names and HOSTILE not in names  # stored as text, never as a formula
    assert all(cell.data_type != "f" for row in workbook["Categories"].iter_rows() for cell in row)
