"""The limits on what taxpack reads, written once: each is far above any real household or pack, and each
stops an input that would otherwise crash, hang or exhaust the machine with a message that says where.

| limit | value | why |
|---|---|---|
| `MAX_FILE_BYTES` | 64 MiB | a file (scenario, pack, CSV, targets, prices, rates) or one JSON Lines household; a 10,000-row history is about 2 MB. A device (`/dev/zero`) or a 30 GB file is refused before it is read |
| `MAX_DEPTH` | 64 | lists and mappings nested in one another; the deepest real pack nests about 10 |
| `MAX_EXPANDED_NODES` | 200,000 | values a YAML document expands to through its aliases ("billion laughs") |
| `MAX_WHOLE_DIGITS` | 15 | digits before the decimal point of any number (below 10**15: a quadrillion units or currency units) |
| `MAX_DECIMAL_PLACES` | 20 | digits after the decimal point (after trailing zeros are dropped) |
| `EARLIEST_DATE`, `LATEST_DATE` | 1900-01-01, 2199-12-31 | every date read; date arithmetic (wash-sale windows, holding periods, rate look-back) stays inside the calendar, and each pack's own coverage (`taxpack pack list`) is narrower still |
| `MAX_RULES` | 64 | rules in one pack: the durable_rules engine refuses a ruleset of about 256 rules and fails when about 100 fire on one trade; the largest bundled pack has 5 |

docs/errors.md lists them for users; change a value here and there, nowhere else.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000
MAX_WHOLE_DIGITS = 15
MAX_DECIMAL_PLACES = 20
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
MAX_RULES = 64

NUMBER_EXPECTED = (f"a number with at most {MAX_WHOLE_DIGITS} digits before the decimal point and "
                   f"{MAX_DECIMAL_PLACES} after it")
DATE_EXPECTED = (f"a date from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}; "
                 "each pack covers a narrower range, shown by taxpack pack list")


_INT_BOUND = 10**MAX_WHOLE_DIGITS


def number_problem(value: Decimal | int, text: str | None = None) -> str | None:
    """Why `value` is outside the numbers taxpack computes with, or None when it is fine; `text`, the
    number as the user wrote it, is what the message quotes.

    Cheap for ordinary numbers (the common case costs one comparison of exponents)."""
    if isinstance(value, bool):
        return None
    shown = _short_text(text) if text is not None else _short(value)
    if isinstance(value, int):
        if -_INT_BOUND < value < _INT_BOUND:
            return None
        return f"{shown} has more than {MAX_WHOLE_DIGITS} digits before the decimal point"
    if not value.is_finite():
        return f"{shown} is not a number"
    if value.is_zero():
        return None
    if value.adjusted() >= MAX_WHOLE_DIGITS:
        return f"{shown} has more than {MAX_WHOLE_DIGITS} digits before the decimal point"
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -MAX_DECIMAL_PLACES:
        digits = value.as_tuple().digits
        trailing = len(digits) - len(tuple(_strip_trailing_zeros(digits)))
        if exponent + trailing < -MAX_DECIMAL_PLACES:
            return f"{shown} has more than {MAX_DECIMAL_PLACES} digits after the decimal point"
    return None


def digits_problem(text: str) -> str | None:
    """For the text of a whole number, before it is converted (Python refuses to convert more than 4,300
    digits, and a number this long is refused anyway)."""
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > MAX_WHOLE_DIGITS:
        return f"{_short_text(text)} has more than {MAX_WHOLE_DIGITS} digits before the decimal point"
    return None


def date_problem(day: dt.date) -> str | None:
    """Why `day` is outside the dates taxpack reads, or None."""
    if EARLIEST_DATE <= day <= LATEST_DATE:
        return None
    return f"{day.isoformat()} is outside the dates taxpack reads ({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()})"


def _strip_trailing_zeros(digits: tuple[int, ...]) -> list[int]:
    out = list(digits)
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return out


def _short(value: Decimal | int) -> str:
    try:
        return _short_text(str(value))
    except ValueError:  # a whole number too long for Python to print
        bits = value.bit_length() if isinstance(value, int) else 0
        return f"a whole number of about {int(bits * 0.30103)} digits"


def _short_text(text: str) -> str:
    """A number as the user wrote it, cut in the middle when it is very long (5,000 digits would flood the message)."""
    return text if len(text) <= 40 else f"{text[:12]}...{text[-12:]} ({len(text)} characters)"
