"""The totals rule on its own (pure arithmetic, no I/O)."""

from decimal import Decimal as D

import pytest

from invoice_service.totals import DiscountInput, LineInput, TotalsError, allocate, compute_totals


def test_worked_example_rounds_per_line_then_allocates_discount_then_taxes_per_rate():
    lines = [
        LineInput(quantity=D("12.5"), unit_price=D("80.00"), tax_rate=D("20")),
        LineInput(quantity=D("3"), unit_price=D("19.99"), tax_rate=D("10"),
                  discount=DiscountInput("percent", D("10"))),
        LineInput(quantity=D("1"), unit_price=D("45.50"), tax_rate=D("0"), discount=DiscountInput("amount", D("5.50"))),
    ]
    totals = compute_totals(lines, DiscountInput("percent", D("5")), "EUR")
    # nets: 1000.00; 59.97 - 5.997 = 53.973 -> 53.97; 45.50 - 5.50 = 40.00
    assert [t.net for t in totals.lines] == [D("1000.00"), D("53.97"), D("40.00")]
    assert totals.subtotal == D("1093.97")
    assert totals.discount_total == D("54.70")  # 5 % of 1093.97 = 54.6985 -> 54.70
    assert [t.discount_share for t in totals.lines] == [D("50.00"), D("2.70"), D("2.00")]
    assert [(t.rate, t.base, t.tax) for t in totals.tax_lines] == [
        (D("20"), D("950.00"), D("190.00")), (D("10"), D("51.27"), D("5.13")), (D("0"), D("38.00"), D("0.00"))]
    assert totals.total == D("1234.40")


def test_allocation_residue_goes_to_the_largest_line_so_shares_sum_to_the_discount():
    # 0.10 over three equal lines: 0.0333.. rounds to 0.03 each (0.09); the missing cent goes to the first.
    assert allocate(D("0.10"), [D("1.00"), D("1.00"), D("1.00")], "EUR") == [D("0.04"), D("0.03"), D("0.03")]
    assert allocate(D("0.10"), [D("1.00"), D("5.00"), D("1.00")], "EUR") == [D("0.01"), D("0.08"), D("0.01")]


def test_tax_is_rounded_per_rate_not_per_line():
    # Three lines of 0.15 at 10 %: per line 0.015 -> 0.02 each (0.06); per rate 0.45 * 10 % = 0.045 -> 0.05.
    lines = [LineInput(quantity=D(1), unit_price=D("0.15"), tax_rate=D("10")) for _ in range(3)]
    totals = compute_totals(lines, None, "EUR")
    assert totals.tax_total == D("0.05")
    assert totals.total == D("0.50")


def test_rates_written_differently_are_one_tax_line():
    lines = [LineInput(quantity=D(1), unit_price=D("10"), tax_rate=D("20")),
             LineInput(quantity=D(1), unit_price=D("10"), tax_rate=D("20.000"))]
    assert len(compute_totals(lines, None, "EUR").tax_lines) == 1


def test_zero_decimal_currency_rounds_to_whole_units():
    lines = [LineInput(quantity=D("1.5"), unit_price=D("333"), tax_rate=D("10"))]  # 499.5 -> 500
    totals = compute_totals(lines, None, "JPY")
    assert (totals.subtotal, totals.tax_total, totals.total) == (D("500"), D("50"), D("550"))


def test_half_up_rounding_of_a_line():
    lines = [LineInput(quantity=D("0.5"), unit_price=D("0.05"), tax_rate=D("0"))]  # 0.025 -> 0.03 (half up)
    assert compute_totals(lines, None, "EUR").total == D("0.03")


def test_discounts_larger_than_what_they_reduce_are_refused_naming_the_field():
    line = LineInput(quantity=D(1), unit_price=D("10"), tax_rate=D(0), discount=DiscountInput("amount", D("11")))
    with pytest.raises(TotalsError) as line_error:
        compute_totals([line], None, "EUR")
    assert line_error.value.field == "lines.0.discount.value"
    plain = LineInput(quantity=D(1), unit_price=D("10"), tax_rate=D(0))
    with pytest.raises(TotalsError) as invoice_error:
        compute_totals([plain], DiscountInput("amount", D("10.01")), "EUR")
    assert invoice_error.value.field == "discount.value"


def test_a_full_discount_leaves_nothing_to_tax():
    lines = [LineInput(quantity=D(3), unit_price=D("3.33"), tax_rate=D("20")),
             LineInput(quantity=D(1), unit_price=D("0.01"), tax_rate=D("5"))]
    totals = compute_totals(lines, DiscountInput("percent", D("100")), "EUR")
    assert [t.taxable for t in totals.lines] == [D("0.00"), D("0.00")]
    assert totals.total == D("0.00")
