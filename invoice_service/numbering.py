"""Invoice number patterns: `INV-{year}-{seq:04d}` → `INV-2026-0001`.

A pattern is literal text with two placeholders: `{year}` (four digits, required, because the counter restarts
every year) and `{seq}` or `{seq:0Nd}` (the per-year sequence, zero-padded to N digits). It is parsed here
rather than handed to str.format, so a stored pattern can never reach attributes of the values.
"""

import re

DEFAULT_PATTERN = "INV-{year}-{seq:04d}"
MAX_PATTERN_LENGTH = 64

_TOKEN = re.compile(r"\{(year|seq)(?::0([1-9])d)?\}")
_LITERAL = re.compile(r"[A-Za-z0-9 ._/#-]*")


def validate_pattern(pattern: str) -> str:
    """The pattern if it is well-formed, else ValueError saying why."""
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"must be 1 to {MAX_PATTERN_LENGTH} characters")
    seen: list[str] = []
    position = 0
    for match in _TOKEN.finditer(pattern):
        _check_literal(pattern[position:match.start()])
        name, width = match.group(1), match.group(2)
        if name == "year" and width:
            raise ValueError("{year} takes no width")
        seen.append(name)
        position = match.end()
    _check_literal(pattern[position:])
    if seen.count("seq") != 1 or seen.count("year") != 1:
        raise ValueError("must contain {year} and {seq} (or {seq:04d}) exactly once each")
    return pattern


def _check_literal(text: str) -> None:
    if not _LITERAL.fullmatch(text):
        raise ValueError("may only hold letters, digits, spaces, . _ / # - and the placeholders {year}, {seq:0Nd}")


def format_number(pattern: str, *, year: int, seq: int) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(1) == "year":
            return f"{year:04d}"
        width = int(match.group(2) or 1)
        return f"{seq:0{width}d}"

    return _TOKEN.sub(substitute, pattern)
