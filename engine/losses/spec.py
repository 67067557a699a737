"""One loss rule of a pack, read once: window, who counts, what is "the same", and what happens.

The wash-sale family (US §1091, CA s.54 superficial loss, IE s.581(3), ES art. 33.5.f) differs only in
these settings; this module turns a pack's `loss_rules` entry into a typed view and computes its window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import attrs

from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.core.errors import Span
from taxpack.engine.core.household import Security
from taxpack.engine.law.pack import Pack

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


@attrs.frozen
class LossRule:
    """A `loss_rules` entry with its defaults filled in (see docs/pack-format.md, "loss_rules")."""

    index: int
    id: str
    code: str
    title: str
    source: str | None
    identity: str
    window_spec: Mapping[str, Any]
    own_accounts: str
    spouse: bool
    wrappers: Mapping[str, str]
    held_at_end: bool
    effect: str
    match_order: str
    tacking: bool
    severity: str
    applies_to: Mapping[str, Any]
    uncertain: str | None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def from_section(cls, pack: Pack, index: int, raw: Mapping[str, Any]) -> "LossRule":
        who = dict(raw.get("who") or {})
        span = None
        try:
            span = pack.span(("loss_rules", index))
        except Exception:  # a pack built without positions (tests) has no spans  # pragma: no cover
            span = None
        return cls(
            index=index,
            id=str(raw["id"]),
            code=str(raw.get("code") or raw["id"]),
            title=str(raw.get("title") or raw["id"]),
            source=raw.get("source"),
            identity=str(raw.get("identity") or "identical"),
            window_spec=dict(raw.get("window") or {}),
            own_accounts=str(who.get("own_accounts", "all")),
            spouse=bool(who.get("spouse", False)),
            wrappers=dict(sorted((who.get("wrappers") or {}).items())),
            held_at_end=bool(raw.get("held_at_end", False)),
            effect=str(raw.get("effect") or "add_to_replacement_basis"),
            match_order=str(raw.get("match_order") or "acquisition"),
            tacking=bool(raw.get("tacking", False)),
            severity=str(raw.get("severity") or "warning"),
            applies_to=dict(raw.get("applies_to") or {}),
            uncertain=raw.get("uncertain"),
            span=span,
        )

    # -- scope ---------------------------------------------------------------------------------

    def applies(self, security: Security) -> bool:
        """Does the rule cover a loss on this security (`applies_to`: listed, kinds)?"""
        listed = self.applies_to.get("listed")
        if listed is not None and bool(listed) != bool(security.listed):
            return False
        kinds = self.applies_to.get("kinds")
        if kinds is not None and security.kind not in kinds:
            return False
        return True

    # -- window --------------------------------------------------------------------------------

    @property
    def window_date(self) -> str:
        """Which date of a trade the window is measured on: `trade` (default) or `settlement`."""
        return str(self.window_spec.get("date", "trade"))

    def event_day(self, tx: Any) -> dt.date:
        """The date of a sale or a purchase as this rule's window counts it."""
        if self.window_date == "settlement" and tx.settlement_date is not None:
            return tx.settlement_date
        return tx.date

    def duration(self, pack: Pack, side: str, day: dt.date) -> Duration:
        """`before` or `after` as a Duration, reading a parameter on `day` (the pack day of the sale)."""
        value = self.window_spec.get(side, {"days": 0})
        if isinstance(value, Mapping) and set(value) == {"param"}:
            parameter = pack.parameters[value["param"]]
            resolved = pack.resolve(value, day)
            if isinstance(resolved, Mapping):
                return Duration.from_mapping(resolved, self.span)
            return Duration.of(parameter.unit, resolved, self.span)
        return Duration.from_mapping(value, self.span)

    def window(self, pack: Pack, sale_day: dt.date, pack_day: dt.date) -> Window:
        """The period in which an acquisition counts for a sale on `sale_day`.

        `before`/`after` are counted from the sale day, which is not one of them (CA: Interpretation Act
        s.27(5), CRA 2021-0896031C6: sold 1 September, the 30th day after is 1 October): 30 days either
        side is D-30 to D+30, 61 days. `exclude_sale_day: false` counts the sale day as the first day
        (D-29 to D+29). Months and years move the calendar with the rule's `month_rounding`.
        """
        before = self.duration(pack, "before", pack_day)
        after = self.duration(pack, "after", pack_day)
        rounding = self.window_spec.get("month_rounding")
        start = shift(sale_day, before, -1, rounding, self.span)
        end = shift(sale_day, after, +1, rounding, self.span)
        if self.window_spec.get("exclude_sale_day", True) is False:
            if not before.is_zero:
                start += _ONE_DAY
            if not after.is_zero:
                end -= _ONE_DAY
        return Window(start, end, before, after)
