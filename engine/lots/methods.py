"""Lot identification: which lots a sale consumes, and which method a jurisdiction lets it use.

FIFO, LIFO, HIFO and LOFO order the open lots; specific identification names them; average cost
(Canada's ACB, France's PMP, Italy) sells at the pool's average per-unit cost. The pack says which
methods are allowed, which is the default and which, if any, is mandatory.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Sequence

import attrs

from taxpack.engine.law.sections import Lots

ORDERED_METHODS = ("fifo", "lifo", "hifo", "lofo")


@attrs.frozen
class MethodChoice:
    """The method a lens applies to a sale, and why it differs from the one asked for (if it does)."""

    requested: str | None  # a method name, "specific", or None when the trade named none
    used: str
    overridden: bool = False
    reason: str = ""


def requested_method(lots: Any) -> str | None:
    if lots is None:
        return None
    return lots if isinstance(lots, str) else "specific"


def choose_method(section: Lots, requested: str | None, security_kind: str) -> MethodChoice:
    """Apply the pack's `lots` section to what the trade asked for."""
    methods, default, mandatory, average_kinds = section.methods, section.default, section.mandatory, section.average_kinds
    if mandatory:
        if requested is not None and requested != mandatory:
            return MethodChoice(requested, mandatory, True, f"the law makes {mandatory} mandatory")
        return MethodChoice(requested, mandatory)
    if requested is None:
        return MethodChoice(None, default)
    if requested not in methods:
        return MethodChoice(requested, default, True, f"{requested} is not allowed (allowed: {', '.join(methods)})")
    if requested == "average" and average_kinds is not None and security_kind not in average_kinds:
        return MethodChoice(requested, default, True, f"average cost is allowed only for {', '.join(average_kinds)}, not for a {security_kind}")
    return MethodChoice(requested, requested)


def order_lots(lots: Sequence[Any], method: str, unit_cost: Callable[[Any], Decimal]) -> list[Any]:
    """Lots in the order a method consumes them. Ties fall back to acquisition order (then creation)."""
    if method in ("fifo", "average"):
        return sorted(lots, key=lambda lot: (lot.acquired, lot.seq))
    if method == "lifo":
        return sorted(lots, key=lambda lot: (lot.acquired, lot.seq), reverse=True)
    if method == "hifo":
        return sorted(lots, key=lambda lot: (-unit_cost(lot), lot.acquired, lot.seq))
    if method == "lofo":
        return sorted(lots, key=lambda lot: (unit_cost(lot), lot.acquired, lot.seq))
    raise ValueError(f"unknown lot method {method}")  # pragma: no cover - methods are validated by the schema
