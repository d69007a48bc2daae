"""Invoice number patterns."""

import pytest

from invoice_service.numbering import DEFAULT_PATTERN, format_number, validate_pattern


def test_default_pattern_gives_year_and_zero_padded_sequence():
    assert format_number(DEFAULT_PATTERN, year=2026, seq=1) == "INV-2026-0001"
    assert format_number(DEFAULT_PATTERN, year=2026, seq=12345) == "INV-2026-12345"


def test_custom_patterns():
    assert format_number("{year}/{seq}", year=2027, seq=7) == "2027/7"
    assert format_number("ACME #{seq:06d} {year}", year=2026, seq=42) == "ACME #000042 2026"


@pytest.mark.parametrize("pattern", [
    "INV-{seq:04d}",  # no year: the counter restarts yearly, numbers would repeat
    "INV-{year}",  # no sequence
    "{year}-{seq}-{seq}",
    "{year.__class__}-{seq}",  # no attribute access, ever
    "{year}-{seq:4d}",  # only zero padding is understood
    "INV {year} {seq} <script>",
    "",
    "X" * 65 + "{year}{seq}",
])
def test_malformed_patterns_are_refused(pattern):
    with pytest.raises(ValueError):
        validate_pattern(pattern)
