"""Pure calendar and rollup arithmetic (no I/O): the rules every view relies on."""

from datetime import date
from decimal import Decimal

from bson import Decimal128

from analytics_service.periods import DateRange, add_years, cover, periods
from analytics_service.rollup_set import RollupSet
from analytics_service.rollups import Contribution
from analytics_service.rollups_top import TOP_KEPT, TOP_SERVED, MonthTop, listed_inside
from analytics_service.units import decimal_rows


def test_month_periods_include_the_last_day_and_clip_to_the_range():
    buckets = periods(DateRange(date(2024, 1, 15), date(2024, 3, 31)), "month")
    assert [(p.label, p.start, p.end) for p in buckets] == [
        ("2024-01", date(2024, 1, 15), date(2024, 1, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2024-03", date(2024, 3, 1), date(2024, 3, 31)),
    ]


def test_weeks_are_iso_weeks_across_a_year_boundary():
    buckets = periods(DateRange(date(2024, 12, 28), date(2025, 1, 6)), "week")
    assert [(p.label, p.start, p.end) for p in buckets] == [
        ("2024-W52", date(2024, 12, 28), date(2024, 12, 29)),
        ("2025-W01", date(2024, 12, 30), date(2025, 1, 5)),
        ("2025-W02", date(2025, 1, 6), date(2025, 1, 6)),
    ]


def test_a_range_reads_whole_months_and_as_few_single_days_as_possible():
    # January from the 10th is mostly covered: the month minus its first nine days. April to the 5th: five days.
    whole, plus, minus = cover(DateRange(date(2024, 1, 10), date(2024, 4, 5)))
    assert whole == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    assert plus == [date(2024, 4, d) for d in range(1, 6)]
    assert minus == [date(2024, 1, d) for d in range(1, 10)]
    # Three years cost 36 month rollups and no day rollups.
    whole, plus, minus = cover(DateRange(date(2021, 1, 1), date(2023, 12, 31)))
    assert (len(whole), plus, minus) == (36, [], [])


def test_ten_years_from_a_leap_day_ends_on_the_last_day_of_february():
    assert add_years(date(2024, 2, 29), 10) == date(2034, 2, 28)
    assert DateRange(date(2024, 3, 1), date(2024, 3, 31)).previous() == DateRange(date(2024, 1, 30),
                                                                                    date(2024, 2, 29))


def test_taking_back_what_was_added_leaves_no_rollup_behind():
    lunch = Contribution("EUR", "expense", "c-food", "Food", date(2024, 5, 31), Decimal("12.35"))
    rent = Contribution("EUR", "expense", "c-rent", "Rent", date(2024, 5, 1), Decimal("800.00"))
    rollups = RollupSet("u1")
    rollups.apply(None, lunch)
    rollups.apply(None, rent)
    moved = Contribution("USD", "income", None, "", date(2024, 6, 1), Decimal("12.35"))
    rollups.apply(lunch, moved)  # an edit: subtract exactly what was added, add the new state
    writes, deletes = rollups.documents()
    assert deletes == ["u1|day|2024-05-31"]
    by_id = {doc["_id"]: doc for doc in writes}
    may = by_id["u1|month|2024-05"]
    assert (may["category_ids"], [str(a) for a in may["amounts"]], may["counts"]) == (["c-rent"], ["800.00"], [1])
    june = by_id["u1|series|2024-06"]
    assert (june["currencies"], june["types"], june["counts"][0][0]) == (["USD"], ["income"], 1)
    assert len(june["amounts"][0]) == 30 and decimal_rows(june)[0][0] == Decimal("12.35")
    rollups.apply(rent, None)
    rollups.apply(moved, None)
    writes, deletes = rollups.documents()
    # Three days; two months, each a total and a daily series; May's largest expenses (June had only
    # income); one ISO year of weeks.
    assert writes == [] and len(deletes) == 3 + 2 * 2 + 1 + 1


def test_weeks_roll_up_by_iso_year_including_week_53():
    rollups = RollupSet("u1")
    for day in (date(2026, 12, 31), date(2027, 1, 3), date(2027, 1, 4)):  # W53 of 2026 twice, then 2027-W01
        rollups.apply(None, Contribution("EUR", "expense", None, "", day, Decimal("1.50")))
    writes, _ = rollups.documents()
    weeks = {doc["period"]: doc for doc in writes if doc["kind"] == "weeks"}
    assert weeks["2026"]["counts"][0][52] == 2 and decimal_rows(weeks["2026"])[0][52] == Decimal("3.00")
    assert weeks["2027"]["counts"][0][0] == 1 and sum(weeks["2027"]["counts"][0]) == 1


def test_a_months_largest_expenses_stay_exact_through_removals_and_refill():
    first = date(2024, 5, 1)
    items = [Contribution("EUR", "expense", None, "", date(2024, 5, 1 + n % 28), Decimal(n + 1),
                          transaction_id=f"t{n:03d}") for n in range(TOP_KEPT + 10)]
    top = MonthTop(first)
    for item in items:
        top.add(item)
    assert len(top.entries["EUR"]) == TOP_KEPT and not top.complete("EUR") and top.stale() == []
    assert [e.amount for e in top.entries["EUR"][:2]] == [Decimal(TOP_KEPT + 10), Decimal(TOP_KEPT + 9)]
    largest = sorted(items, key=lambda item: -item.amount)
    for item in largest[:TOP_KEPT - TOP_SERVED]:  # the margin: still every one of the largest TOP_SERVED
        top.remove(item)
    assert top.stale() == [] and len(top.entries["EUR"]) == TOP_SERVED
    top.remove(largest[TOP_KEPT - TOP_SERVED])
    assert top.stale() == ["EUR"]  # the 100th largest may now be one the list never held
    live = largest[TOP_KEPT - TOP_SERVED + 1:]
    top.refill("EUR", live)
    assert [e.transaction_id for e in top.entries["EUR"]] == [i.transaction_id for i in live[:TOP_KEPT]]
    assert top.counts["EUR"] == len(live) and top.stale() == []


def test_a_months_largest_expenses_read_back_exactly_as_integers_or_as_decimal128():
    first = date(2024, 5, 1)
    top = MonthTop(first)
    for n in range(TOP_KEPT + 5):  # EUR with sub-cent amounts (scale 3), and JPY
        top.add(Contribution("EUR", "expense", None, "", date(2024, 5, 1 + n % 31), Decimal(n).scaleb(-3) + 1,
                             transaction_id=f"e{n:03d}"))
    for n in range(12):
        top.add(Contribution("JPY", "expense", "c1", "Food", date(2024, 5, 2 + n), Decimal(1000 + n),
                             transaction_id=f"j{n:03d}"))
    stored = {"_id": "u1|top|2024-05", **top.to_fields()}
    assert stored["scale"] == 3 and stored["amounts"][0] == 1154  # 1.154 EUR, the largest
    legacy = {key: value for key, value in stored.items() if key != "scale"}
    legacy["amounts"] = [Decimal128(entry.amount) for c in ("EUR", "JPY") for entry in top.entries[c]]
    for doc in (stored, legacy):
        assert MonthTop.from_doc(first, doc).entries == top.entries
        part = listed_inside(doc, date(2024, 5, 3), date(2024, 5, 9), 10)
        expected = {c: [e for e in top.entries[c] if date(2024, 5, 3) <= e.occurred_date <= date(2024, 5, 9)][:10]
                    for c in ("EUR", "JPY")}
        assert {c: entries for c, (entries, _) in part.items()} == expected
        # EUR lists 150 of 155 but ten of them fall inside: surely the largest; JPY lists every expense.
        assert part["EUR"][1] and part["JPY"][1]
        assert listed_inside(doc, date(2024, 5, 31), date(2024, 5, 31), 10)["EUR"][1] is False
