"""A loss rule's window: the period around a sale in which an acquisition counts, as the rule reads on a day.

The wash-sale family (US §1091, CA s.54 superficial loss, IE s.581(3), ES art. 33.5.f) differs only in
the settings of its `loss_rules` entry, read once when the pack loads (`LossRule` in law/sections.py);
this module computes the window those settings give around one sale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.sections import LossRule

EFFECTS = ("add_to_replacement_basis", "usable_against_reacquired", "defer_until_replacement_sold")
HOLDER_STATUSES = ("counts", "permanent", "ignored", "uncertain")
_ONE_DAY = dt.timedelta(days=1)


@attrs.frozen
class Window:
    """The inclusive period around a sale in which an acquisition counts, as the rule reads on that day."""

    start: dt.date
    end: dt.date
    before: Duration
    after: Duration

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def duration(rule: LossRule, pack: Pack, side: str, day: dt.date) -> Duration:
    """The window's `before` or `after` as a Duration, reading a parameter on `day` (the pack day of the sale)."""
    value = rule.window.before if side == "before" else rule.window.after
    if isinstance(value, Mapping) and set(value) == {"param"}:
        parameter = pack.parameters[value["param"]]
        resolved = pack.resolve(value, day)
        if isinstance(resolved, Mapping):
            return Duration.from_mapping(resolved, rule.span)
        return Duration.of(parameter.unit, resolved, rule.span)
    return Duration.from_mapping(value, rule.span)


def sale_window(rule: LossRule, pack: Pack, sale_day: dt.date, pack_day: dt.date) -> Window:
    """The period in which an acquisition counts for a sale on `sale_day`.

    `before`/`after` are counted from the sale day, which is not one of them (CA: Interpretation Act
    s.27(5), CRA 2021-0896031C6: sold 1 September, the 30th day after is 1 October): 30 days either
    side is D-30 to D+30, 61 days. `exclude_sale_day: false` counts the sale day as the first day
    (D-29 to D+29). Months and years move the calendar with the rule's `month_rounding`.
    """
    before = duration(rule, pack, "before", pack_day)
    after = duration(rule, pack, "after", pack_day)
    rounding = rule.window.month_rounding
    start = shift(sale_day, before, -1, rounding, rule.span)
    end = shift(sale_day, after, +1, rounding, rule.span)
    if rule.window.exclude_sale_day is False:
        if not before.is_zero:
            start += _ONE_DAY
        if not after.is_zero:
            end -= _ONE_DAY
    return Window(start, end, before, after)
