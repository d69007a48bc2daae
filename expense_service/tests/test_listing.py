"""Filters, sorts, pagination and per-currency totals, checked against a brute-force computation."""

import random
from datetime import date, timedelta
from decimal import Decimal

from expense_service.tests.helpers import EXPENSES, client, start

DESCRIPTIONS = ["Coffee at Joe's", "coffee beans", "Rent (50%) share", "a.*b literal", "Salary March", "Groceries",
                "Train to Lyon"]
TAGS = ["trip", "work", "family"]


def build_transactions(rng: random.Random, custom_category: str) -> list[dict]:
    rows = []
    for i in range(48):
        kind = "income" if i % 5 == 0 else "expense"
        currency = ["EUR", "USD", "JPY"][i % 3]
        cents = rng.choice([0, 0, rng.randint(1, 99)]) if currency != "JPY" else 0
        whole = rng.choice([10, 50, rng.randint(1, 400)])  # exact boundary values appear
        amount = f"{whole}.{cents:02d}" if currency != "JPY" else str(whole * 100)
        categories = ["salary", "freelance", "gift"] if kind == "income" else ["food", "transport", custom_category]
        rows.append({
            "type": kind, "amount": amount, "currency": currency, "category": rng.choice(categories),
            "description": rng.choice(DESCRIPTIONS), "occurred_date": str(date(2024, 1, 1) + timedelta(days=i % 40)),
            "tags": rng.sample(TAGS, rng.randint(0, 2)),
        })
    return rows


def matches(t: dict, f: dict, category_ids: dict[str, str]) -> bool:
    if "type" in f and t["type"] != f["type"]:
        return False
    if "category" in f and t["category_id"] not in {category_ids.get(c.lower(), c) for c in f["category"]}:
        return False
    if "currency" in f and t["currency"] != f["currency"]:
        return False
    if "date_from" in f and t["occurred_date"] < f["date_from"]:
        return False
    if "date_to" in f and t["occurred_date"] > f["date_to"]:
        return False
    if "amount_min" in f and Decimal(t["amount"]) < Decimal(f["amount_min"]):
        return False
    if "amount_max" in f and Decimal(t["amount"]) > Decimal(f["amount_max"]):
        return False
    if "tag" in f and f["tag"].lower() not in t["tags"]:
        return False
    return not ("q" in f and f["q"].lower() not in t["description"].lower())


def expected_order(items: list[dict], f: dict) -> list[str]:
    field = {"date": "occurred_date", "amount": "amount", "created": "created_at"}[f.get("sort", "date")]
    key = (lambda t: (Decimal(t["amount"]), t["id"])) if field == "amount" else (lambda t: (t[field], t["id"]))
    return [t["id"] for t in sorted(items, key=key, reverse=f.get("order", "desc") == "desc")]


def expected_totals(items: list[dict]) -> list[dict]:
    out = []
    for currency in sorted({t["currency"] for t in items}):
        mine = [t for t in items if t["currency"] == currency]
        income = sum((Decimal(t["amount"]) for t in mine if t["type"] == "income"), Decimal(0))
        expense = sum((Decimal(t["amount"]) for t in mine if t["type"] == "expense"), Decimal(0))
        out.append({"currency": currency, "income": income, "expense": expense, "net": income - expense,
                    "count": len(mine)})
    return out


async def fetch_all(api, params: dict, limit: int) -> tuple[list[str], dict]:
    ids, offset, first = [], 0, None
    while True:
        r = await api.get(EXPENSES, params={**params, "limit": limit, "offset": offset})
        assert r.status_code == 200, r.text
        page = r.json()
        first = first or page
        assert page["limit"] == limit and page["offset"] == offset and page["total"] == first["total"]
        assert page["totals"] == first["totals"]  # totals cover the filtered set, whatever the page
        ids += [t["id"] for t in page["items"]]
        offset += limit
        if offset >= page["total"]:
            return ids, first


async def test_filters_sorts_pages_and_totals_match_a_brute_force_computation(stack):
    await start(stack)
    api = client(stack, "alice")
    custom = (await api.post("/api/categories", json={"kind": "expense", "name": "Pets"})).json()
    created = []
    for body in build_transactions(random.Random(20240301), "Pets"):
        r = await api.post(EXPENSES, json=body)
        assert r.status_code == 201, r.text
        created.append(r.json())
    # Someone else's data never shows up in alice's lists or totals.
    await client(stack, "bob").post(EXPENSES, json={"type": "expense", "amount": "10.00", "description": "coffee"})
    categories = (await api.get("/api/categories", params={"limit": 100})).json()["items"]
    category_ids = {c["name"].lower(): c["id"] for c in categories if c["kind"] == "expense"}
    category_ids.update({c["name"].lower(): c["id"] for c in categories
                         if c["kind"] == "income" and c["name"].lower() not in category_ids})

    cases = [
        {},
        {"type": "expense"},
        {"type": "income", "sort": "amount", "order": "asc"},
        {"category": ["FOOD", "Transport"], "sort": "created", "order": "asc"},
        {"category": [custom["id"]]},
        {"date_from": "2024-01-10", "date_to": "2024-01-20", "sort": "date", "order": "asc"},
        {"amount_min": "10.00", "amount_max": "50", "sort": "amount"},
        {"amount_min": "10", "currency": "EUR"},
        {"tag": "Trip"},
        {"q": "COFFEE"},
        {"q": "(50%)"},
        {"q": ".*"},  # a literal, not a pattern: only "a.*b literal" matches
        {"currency": "JPY", "type": "expense", "sort": "amount", "order": "desc"},
        {"type": "expense", "tag": "work", "date_to": "2024-01-31", "q": "e", "sort": "created"},
    ]
    for f in cases:
        wanted = [t for t in created if matches(t, f, category_ids)]
        ids, page = await fetch_all(api, f, limit=7)
        assert page["total"] == len(wanted), f
        assert ids == expected_order(wanted, f), f
        totals = [{**t, "income": Decimal(t["income"]), "expense": Decimal(t["expense"]), "net": Decimal(t["net"])}
                  for t in page["totals"]]
        assert totals == expected_totals(wanted), f
    assert any(matches(t, {"q": ".*"}, category_ids) for t in created)
    assert not [t for t in created if matches(t, {"q": ".*"}, category_ids) and "a.*b" not in t["description"]]

    # Past the end: no items, the same total; JPY totals carry no decimals, EUR two.
    r = (await api.get(EXPENSES, params={"offset": 500})).json()
    assert r["items"] == [] and r["total"] == len(created)
    by_currency = {t["currency"]: t for t in r["totals"]}
    assert "." not in by_currency["JPY"]["expense"] and by_currency["EUR"]["expense"].split(".")[1].isdigit()
    assert len(by_currency["EUR"]["expense"].split(".")[1]) == 2
