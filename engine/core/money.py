"""Money as people read it: rounded as the pack says, only when shown; computation stays exact.

A pack states its rounding (`rounding: {quantum: 0.01, mode: half_even}`); every amount a report or a
message shows goes through `money_text` with that pack (or its `Rounding`). Amounts no single pack
rounds (a plan's total over several lenses, a solver's bound) use `DISPLAY`, to the cent, half-even.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Context, Decimal
from typing import Any, Protocol, Union

import attrs

MODES = {"half_even": ROUND_HALF_EVEN, "half_up": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}
# Rounding to a quantum needs room for every digit of the result: under the default 28 digits, an amount
# of 10**27 or more cannot be shown to the cent and quantize() raises. Inputs are limited to 15 digits
# before the point (core/limits.py), so products of a few of them fit here; the digits are the same.
_WIDE = Context(prec=80)
_ZERO = Decimal(0)


@attrs.frozen
class Rounding:
    """How a jurisdiction rounds amounts it shows: to a quantum (0.01, 1) with a mode."""

    quantum: Decimal = Decimal("0.01")
    mode: str = "half_even"

    def round(self, value: Decimal) -> Decimal:
        rounded = value.quantize(self.quantum, rounding=MODES[self.mode], context=_WIDE)
        return _WIDE.add(rounded, _ZERO) if rounded else abs(rounded)  # never "-0.00"


DISPLAY = Rounding()


class Rounded(Protocol):
    """Anything that knows its rounding: a pack, or a Rounding itself."""

    @property
    def rounding(self) -> Rounding: ...


RoundingRule = Union[Rounding, Rounded, None]


def rounding_of(rule: RoundingRule) -> Rounding:
    if rule is None:
        return DISPLAY
    if isinstance(rule, Rounding):
        return rule
    return rule.rounding


def round_money(value: Decimal, rule: RoundingRule = None) -> Decimal:
    return rounding_of(rule).round(value)


def money_text(value: Decimal | None, rule: RoundingRule = None, *, grouped: bool = False) -> str | None:
    """`value` rounded as `rule` says, in plain digits (`grouped`: with thousands separators)."""
    if value is None:
        return None
    return format(rounding_of(rule).round(value), ",f" if grouped else "f")


def percent_text(rate: Any) -> str:
    """A rate as a percentage, exact: 0.26375 -> '26.375%'."""
    return format((Decimal(rate) * 100).normalize(), "f") + "%"


def number_text(value: Any) -> Any:
    """Quantities and rates: exact, without trailing zeros or exponent."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return value
