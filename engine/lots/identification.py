"""Statutory identification: the acquisitions a disposal is matched with before the pack's lot method.

Some laws say which shares a disposal is of before any lot method applies. A pack lists them, in order
of priority, under `lots.identification` (docs/lots.md#identification-rules):

- `same_day`: acquisitions in the pool on the disposal's own day, before or after it (UK TCGA 1992
  s.105(1)). All acquisitions of a day count as one (at their average cost), and so do all disposals
  of the day: each takes its share of the matched units by quantity.
- `within_before`: units still in the pool that were acquired in the `window` before the disposal,
  the disposal's day included (IE TCA 1997 s.581(1)-(2)), in the rule's `order`.
- `within_after`: acquisitions in the `window` after the disposal's day (UK s.106A(5)), earliest day
  first (`fifo`) or latest first, each day's acquisitions as one. An earlier disposal takes them before
  a later one; a `same_day` rule listed first keeps a later day's acquisitions for that day's disposals.
  Units matched this way never enter the pool (s.105(3), s.106A(5ZA)).

What is left goes to the pack's method (FIFO, the section 104 pool at average cost...). A forward match
needs the future: the replay gives the whole event list to `Identification`, which finds, for a sale,
the purchases of its pool in the window after it (and how many units same-day disposals of those days
will claim), takes their units at their own cost and rate, and holds them out of the pool when the
purchase itself is replayed. Quantities and costs are exact (`BOOK`); the last slice takes the rest.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Mapping, Sequence

import attrs

from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.core.household import Finding, Transaction
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.sections import IdentificationRule
from taxpack.engine.losses.successors import unit_factor
from taxpack.engine.lots.pool import BOOK, ZERO, Lot, Pool, Take

if TYPE_CHECKING:  # pragma: no cover
    from taxpack.engine.lots.ledger import Ledger

_RULE_WORDS = {
    "same_day": "acquired the same day",
    "within_before": "acquired in the {window} before the sale",
    "within_after": "acquired in the {window} after the sale",
}


@attrs.define(eq=False)
class _Day:
    """One pool's acquisitions on one day, as one acquisition, and who has claimed its units."""

    buys: list[Transaction]
    quantity: Decimal = ZERO
    same_day: Decimal = ZERO  # units the day's own disposals take under same_day (least of bought and sold)
    after: Decimal = ZERO  # units earlier disposals took under within_after
    lot: Lot | None = None  # the day's acquisitions as one lot, built at the first claim
    arrived: int = 0  # buys of the day already replayed
    pooled: Decimal = ZERO  # units of the day moved into the pool so far

    @property
    def claimed(self) -> bool:
        return self.same_day > 0 or self.after > 0

    @property
    def free(self) -> Decimal:
        """Units of the day neither its own disposals nor earlier ones take: they go into the pool."""
        return BOOK.subtract(BOOK.subtract(self.quantity, self.same_day), self.after)


@attrs.frozen
class Matched:
    """Units of a sale matched by one identification rule, with the acquisitions they came from."""

    rule: IdentificationRule
    takes: tuple[Take, ...]
    quantity: Decimal  # in the sale's units


class Identification:
    """The pack's identification rules over one replay of a household (built by `Ledger.prepare`)."""

    def __init__(self, ledger: "Ledger", events: Sequence[Transaction]) -> None:
        self.ledger = ledger
        self.rules: tuple[IdentificationRule, ...] = ledger.lots_section.identification
        kinds = {rule.rule: rule for rule in self.rules}
        self.same_day_rule = kinds.get("same_day")
        self.before_rule = kinds.get("within_before")
        self.after_rule = kinds.get("within_after")
        self.days: dict[tuple[str, ...], dict[dt.date, _Day]] = {}
        self.day_list: dict[tuple[str, ...], list[dt.date]] = {}
        self.same_day_sale: dict[str, Decimal] = {}  # sale id -> units it takes under same_day
        self.buy_day: dict[str, tuple[tuple[str, ...], dt.date]] = {}
        if self.same_day_rule is None and self.after_rule is None:
            return  # within_before reads the pool as it is: nothing to look ahead for
        sold: dict[tuple[tuple[str, ...], dt.date], list[Transaction]] = {}
        for tx in events:
            key = ledger.tx_pool_key(tx, ledger.scenario.account(tx.account))
            if tx.side == "buy":
                day = self.days.setdefault(key, {}).setdefault(tx.date, _Day([]))
                day.buys.append(tx)
                day.quantity = BOOK.add(day.quantity, tx.quantity)
                self.buy_day[tx.id] = (key, tx.date)
            else:
                sold.setdefault((key, tx.date), []).append(tx)
        for key, days in self.days.items():
            self.day_list[key] = sorted(days)
        if self.same_day_rule is not None:
            for (key, date), sales in sold.items():
                bought = self.days.get(key, {}).get(date)
                if bought is None:
                    continue
                total = sum((tx.quantity for tx in sales), ZERO)
                bought.same_day = min(total, bought.quantity)
                # The day's disposals are one disposal (s.105(1)(a)): each takes its share of the matched units by quantity.
                left = bought.same_day
                for n, tx in enumerate(sales):
                    part = left if n == len(sales) - 1 else bought.same_day * tx.quantity / total
                    if part > 0:
                        self.same_day_sale[tx.id] = part
                    left = BOOK.subtract(left, part)

    # -- purchases -------------------------------------------------------------------------------

    def on_buy(self, tx: Transaction, pool: Pool, whole: Lot) -> Lot | None:
        """Called by `Ledger.buy` with the purchase as one lot: the part the pool receives (None: all of it
        as `whole`, nothing claimed; a lot of 0 units when the identification rules take the whole purchase)."""
        where = self.buy_day.get(tx.id)
        if where is None:
            return None
        day = self.days[where[0]][where[1]]
        if not day.claimed:
            return None
        day.arrived += 1
        lot = self._day_lot(where[0], where[1])
        if day.arrived == len(day.buys):
            part = BOOK.subtract(day.free, day.pooled)
        else:
            part = day.free * tx.quantity / day.quantity
        day.pooled = BOOK.add(day.pooled, part)
        cost, native = _slice(lot, part)
        return Lot(id=tx.id, origin=tx.id, seq=whole.seq, owner=whole.owner, account=whole.account, security=whole.security,
                   acquired=whole.acquired, quantity=part, cost=cost, cost_native=native, native_currency=whole.native_currency,
                   rate=whole.rate, holding_from=whole.holding_from)

    def _day_lot(self, key: tuple[str, ...], date: dt.date) -> Lot:
        """The day's acquisitions in this pool as one lot (s.105(1)(a)): units and cost of every buy, each at its own rate."""
        day = self.days[key][date]
        if day.lot is None:
            parts = [self.ledger.new_lot(tx) for tx in day.buys]
            first = parts[0]
            native: Decimal | None = ZERO
            for part in parts:
                if native is not None and part.cost_native is not None and part.native_currency == first.native_currency:
                    native = BOOK.add(native, part.cost_native)
                else:
                    native = None
            ident = "+".join(tx.id for tx in day.buys)
            day.lot = Lot(id=ident, origin=first.origin, seq=first.seq, owner=first.owner, account=first.account,
                          security=first.security, acquired=date, quantity=day.quantity,
                          cost=sum((p.cost for p in parts), ZERO), cost_native=native, native_currency=first.native_currency,
                          rate=first.rate, holding_from=date)
        return day.lot

    # -- sales -------------------------------------------------------------------------------------

    def match(self, tx: Transaction, key: tuple[str, ...], pool: Pool) -> list[Matched]:
        """The units of sale `tx` the rules match, rule by rule (what is left goes to the lot method)."""
        out: list[Matched] = []
        left = tx.quantity
        for rule in self.rules:
            if left <= 0:
                break
            if rule.rule == "same_day":
                units = self.same_day_sale.get(tx.id, ZERO)
                if units > 0:
                    day = self.days[key][tx.date]
                    take = self._take_day(day, key, tx.date, units, units)
                    out.append(Matched(rule, (take,), units))
                    left = BOOK.subtract(left, units)
            elif rule.rule == "within_before":
                matched = self._before(rule, tx, pool, left)
                if matched is not None:
                    out.append(matched)
                    left = BOOK.subtract(left, matched.quantity)
            else:
                matched = self._after(rule, tx, key, left)
                if matched is not None:
                    out.append(matched)
                    left = BOOK.subtract(left, matched.quantity)
        return out

    def window(self, rule: IdentificationRule, day: dt.date) -> Duration:
        """The rule's window as a duration, reading a parameter on the pack's day for `day`."""
        pack = self.ledger.pack
        value = rule.window
        if isinstance(value, Mapping) and set(value) == {"param"}:
            resolved = pack.resolve(value, pack.law_day(day))
            if isinstance(resolved, Mapping):
                return Duration.from_mapping(resolved, rule.span)
            return Duration.of(pack.parameters[value["param"]].unit, resolved, rule.span)
        return Duration.from_mapping(value, rule.span)

    def _before(self, rule: IdentificationRule, tx: Transaction, pool: Pool, wanted: Decimal) -> Matched | None:
        if pool.average:
            return None  # a pool on average cost has no lot costs of its own to identify (refused at load when mandatory)
        start = shift(tx.date, self.window(rule, tx.date), -1, None, rule.span)
        recent = [lot for lot in pool.open_lots() if start <= lot.acquired <= tx.date]
        if not recent:
            return None
        recent.sort(key=lambda lot: (lot.acquired, lot.seq), reverse=rule.order == "lifo")
        plan: list[tuple[str, Decimal]] = []
        left = wanted
        for lot in recent:
            part = min(left, lot.quantity)
            plan.append((lot.origin, part))
            left = BOOK.subtract(left, part)
            if left == 0:
                break
        quantity = BOOK.subtract(wanted, left)
        # Named by origin, a lot split by a loss rule is found in its parts; sorted so the pool takes them in the rule's order.
        takes = pool.take("fifo", quantity, _merge(plan), tx.span)
        return Matched(rule, tuple(takes), quantity)

    def _after(self, rule: IdentificationRule, tx: Transaction, key: tuple[str, ...], wanted: Decimal) -> Matched | None:
        dates = self.day_list.get(key)
        if not dates:
            return None
        end = shift(tx.date, self.window(rule, tx.date), +1, None, rule.span)
        first = bisect.bisect_right(dates, tx.date)
        last = bisect.bisect_right(dates, end)
        chosen = dates[first:last]
        if rule.order == "lifo":
            chosen = chosen[::-1]
        takes: list[Take] = []
        left = wanted
        for date in chosen:
            day = self.days[key][date]
            available = day.free
            if available <= 0:
                continue
            factor = unit_factor(self.ledger.scenario, tx.security, tx.security, tx.account, tx.date, date)
            want = left * factor
            got = min(want, available)
            sale_units = left if got == want else got / factor
            day.after = BOOK.add(day.after, got)
            takes.append(self._take_day(day, key, date, got, sale_units))
            left = BOOK.subtract(left, sale_units)
            if left <= 0:
                break
        if not takes:
            return None
        return Matched(rule, tuple(takes), BOOK.subtract(wanted, left))

    def _take_day(self, day: _Day, key: tuple[str, ...], date: dt.date, units: Decimal, sale_units: Decimal) -> Take:
        """`units` of the day's acquisitions (in that day's units), for `sale_units` of the sale."""
        lot = self._day_lot(key, date)
        cost, native = _slice(lot, units)
        return Take(lot, sale_units, cost, native, lot.holding_from, lot.acquired)

    # -- explanation -------------------------------------------------------------------------------

    def finding(self, tx: Transaction, matched: Matched, method: str, rest: Decimal) -> Finding:
        """What one rule did to a sale, citing the rule's source (and its uncertainty)."""
        pack = self.ledger.pack
        rule = matched.rule
        window = str(self.window(rule, tx.date)) if rule.window is not None else ""
        words = _RULE_WORDS[rule.rule].format(window=window)
        lots = ", ".join(f"{take.lot.id} of {take.acquired.isoformat()}" for take in matched.takes)
        order = "" if rule.rule == "same_day" else (" (latest first)" if rule.order == "lifo" else " (earliest first)")
        tail = f"; the other {_plain(rest)} by {method}" if rest > 0 else ""
        message = (f"{_plain(matched.quantity)} of the {_plain(tx.quantity)} units sold are identified with units {words}"
                   f"{order}: {lots}{tail}")
        return make_finding(pack, code="lot_identification", severity="info", message=message,
                            rule=f"{pack.id}.lots.identification.{rule.rule}", source=rule.source or self.ledger.lots_section.source,
                            facts={"trade.identification_rule": rule.rule, "trade.identified_quantity": matched.quantity},
                            uncertain=rule.uncertain)


def _slice(lot: Lot, part: Decimal) -> tuple[Decimal, Decimal | None]:
    """Take `part` units out of a lot held apart from the pools: their cost and native cost (the last part takes the rest)."""
    if part == lot.quantity:
        cost, native = lot.cost, lot.cost_native
    else:
        cost = lot.cost * part / lot.quantity if lot.quantity else ZERO
        native = lot.cost_native * part / lot.quantity if lot.cost_native is not None and lot.quantity else None
    lot.quantity = BOOK.subtract(lot.quantity, part)
    lot.cost = BOOK.subtract(lot.cost, cost)
    if lot.cost_native is not None and native is not None:
        lot.cost_native = BOOK.subtract(lot.cost_native, native)
    return cost, native


def _merge(plan: list[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    """One line per origin (a lot named twice counts once with the sum), in the order first named."""
    merged: dict[str, Decimal] = {}
    for origin, qty in plan:
        merged[origin] = BOOK.add(merged.get(origin, ZERO), qty)
    return list(merged.items())


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text
