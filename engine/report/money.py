"""Rounding money for output: the pack states the quantum and the mode; computation stays exact until here."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

from ..packs.model import Pack

MODES = {"half_even": ROUND_HALF_EVEN, "half_up": ROUND_HALF_UP, "down": ROUND_DOWN, "up": ROUND_UP}
DEFAULT = {"quantum": Decimal("0.01"), "mode": "half_even"}


_ROUNDING: dict[str, tuple[Decimal, str]] = {}


def rounding_of(pack: Pack | None) -> tuple[Decimal, str]:
    key = pack.sha256 if pack is not None else ""
    found = _ROUNDING.get(key)  # read once per pack: an output rounds tens of thousands of amounts
    if found is None:
        spec = (pack.section("rounding") if pack is not None else None) or DEFAULT
        found = _ROUNDING[key] = (Decimal(spec.get("quantum", DEFAULT["quantum"])), MODES[spec.get("mode", "half_even")])
    return found


def round_money(value: Decimal, pack: Pack | None = None) -> Decimal:
    quantum, mode = rounding_of(pack)
    rounded = value.quantize(quantum, rounding=mode)
    return rounded + Decimal(0) if rounded != 0 else abs(rounded)  # never "-0.00"


def money_text(value: Decimal | None, pack: Pack | None = None) -> str | None:
    if value is None:
        return None
    return format(round_money(value, pack), "f")


def number_text(value: Any) -> Any:
    """Quantities and rates: exact, without trailing zeros or exponent."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    return value
