"""Realistic request data: amounts as decimal strings per category, dates spread over months, invoice lines.

No Locust import here: the runner (seeding) and the scenarios both use it.
"""

import calendar
import random
from datetime import date, timedelta
from decimal import Decimal

# Default expense categories of expense_service, with a plausible amount range (EUR) and descriptions.
EXPENSES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "food": ("3.20", "140.00", ("Groceries", "Bakery", "Farmers market", "Lunch", "Dinner out", "Coffee")),
    "transport": ("2.40", "95.00", ("Bus ticket", "Train ticket", "Taxi", "Fuel", "Bike repair")),
    "housing": ("650.00", "1450.00", ("Rent", "Home insurance")),
    "utilities": ("25.00", "180.00", ("Electricity", "Water", "Internet", "Mobile phone")),
    "health": ("8.00", "220.00", ("Pharmacy", "Dentist", "Gym membership")),
    "entertainment": ("6.00", "85.00", ("Cinema", "Concert", "Streaming", "Board game")),
    "shopping": ("9.99", "320.00", ("Shoes", "Winter coat", "Kitchen tools", "Books")),
    "education": ("12.00", "450.00", ("Online course", "Language lessons", "Textbooks")),
    "travel": ("45.00", "900.00", ("Hotel", "Flight", "Train to the coast")),
}
INCOME: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "salary": ("2400.00", "4200.00", ("Salary",)),
    "freelance": ("150.00", "1800.00", ("Website project", "Consulting")),
    "investment": ("5.00", "240.00", ("Dividends", "Interest")),
}
PAYMENT_METHODS = ("card", "cash", "bank_transfer", "direct_debit")
TAGS = ("weekend", "family", "work", "holiday", "gift", "recurring", "treat")
CURRENCIES = ("EUR", "EUR", "EUR", "EUR", "USD", "GBP")  # mostly the default currency, some others

CLIENT_NAMES = ("Acme GmbH", "Northwind Traders", "Blue Harbour Ltd", "Studio Kettle", "Quartz & Sons")
SERVICES_SOLD = (("Consulting (hours)", "70.00", "140.00"), ("Design workshop", "400.00", "1200.00"),
                 ("Software licence", "19.99", "249.00"), ("Travel expenses", "35.00", "380.00"),
                 ("Code review (hours)", "60.00", "120.00"), ("Hosting, monthly", "9.00", "59.00"))
TAX_RATES = ("0", "7", "19", "20")


def amount_between(low: str, high: str) -> str:
    """A decimal string with two places, skewed towards the low end (most purchases are small)."""
    lo, hi = Decimal(low), Decimal(high)
    share = Decimal(str(random.random() ** 2))
    return str((lo + (hi - lo) * share).quantize(Decimal("0.01")))


def day_in_past_months(months: int = 12, today: date | None = None) -> date:
    """A day within the last `months` months, never in the future."""
    today = today or date.today()
    return today - timedelta(days=random.randrange(0, max(1, months * 30)))


def month_range(months_back: int, today: date | None = None) -> tuple[date, date]:
    """First and last day of the month `months_back` before this one."""
    today = today or date.today()
    year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
    first = date(year, month + 1, 1)
    return first, date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])


def transaction(*, months: int = 12, income_share: float = 0.1) -> dict:
    """A POST /api/expenses body."""
    kind = "income" if random.random() < income_share else "expense"
    table = INCOME if kind == "income" else EXPENSES
    category = random.choice(list(table))
    low, high, descriptions = table[category]
    body = {"type": kind, "amount": amount_between(low, high), "currency": random.choice(CURRENCIES),
            "category": category, "description": random.choice(descriptions),
            "occurred_date": day_in_past_months(months).isoformat()}
    if kind == "expense":
        body["payment_method"] = random.choice(PAYMENT_METHODS)
        if random.random() < 0.3:
            body["tags"] = random.sample(TAGS, k=random.randint(1, 2))
    return body


def csv_rows(count: int, *, months: int = 12) -> str:
    """A CSV for POST /api/expenses/import; a random reference in each description keeps rows distinct."""
    lines = ["occurred_date,type,amount,currency,category,description,payment_method"]
    for _ in range(count):
        t = transaction(months=months)
        reference = random.randrange(16**6)
        lines.append(f"{t['occurred_date']},{t['type']},{t['amount']},{t['currency']},{t['category']},"
                     f"{t['description']} #{reference:06x},{t.get('payment_method', '')}")
    return "\r\n".join(lines) + "\r\n"


def invoice_lines() -> list[dict]:
    """Two to six lines with mixed tax rates, some with a line discount."""
    lines = []
    for description, low, high in random.sample(SERVICES_SOLD, k=random.randint(2, 6)):
        line = {"description": description, "quantity": str(random.choice((1, 1, 2, 3, 4, 7.5, 10, 12))),
                "unit_price": amount_between(low, high), "tax_rate": random.choice(TAX_RATES)}
        if random.random() < 0.2:
            line["discount"] = {"kind": "percent", "value": random.choice(("5", "10", "15"))}
        lines.append(line)
    return lines


WEEKDAYS = ("monday", "saturday")


def budget_body(category_id: str | None, *, months_back: int) -> dict:
    """A POST /api/budgets body: monthly, weekly or yearly, some with rollover, starting up to months back."""
    period = random.choice((
        {"kind": "monthly", "start_day": random.choice((1, 1, 15, 25))},
        {"kind": "weekly", "start_weekday": random.choice(WEEKDAYS)},
        {"kind": "yearly", "start_month": 1, "start_day": 1},
    ))
    limit = {"monthly": "400.00", "weekly": "120.00", "yearly": "5000.00"}[period["kind"]]
    return {"name": f"{period['kind'].title()} budget", "category_id": category_id, "limit_amount": limit,
            "currency": "EUR", "period": period, "thresholds": random.choice(([80, 100], [50, 80, 100])),
            "rollover": random.random() < 0.3,
            "start_date": (date.today() - timedelta(days=30 * months_back)).isoformat()}


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
