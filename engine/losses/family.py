"""The wash-sale family: a loss is limited when the same (or an equivalent) security comes back in a window.

One mechanism, configured by each pack's `loss_rules`: US §1091 (disallowed, added to the replacement's
basis), CA s.54 superficial loss (denied in proportion, added to the substitute's ACB), IE s.581(3)
(usable only against a gain on the reacquired shares), ES art. 33.5.f (deferred until the replacement is
sold). `LossRuleSet(pack, scenario, ledger, events)` is built by the replay; `on_sale(sale, index)` runs
for every sale at position `index` of `events`, so it sees the executed history, the candidate trades and
the purchases that follow the sale. See docs/loss-rules.md for the algorithm.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import heapq
from decimal import Decimal
from typing import Any, Iterator, Sequence

import attrs

from taxpack.engine.core.household import Finding, Scenario, Transaction
from taxpack.engine.core.money import money_text
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.sections import LossRule
from taxpack.engine.losses.holders import HolderView, holder_view
from taxpack.engine.losses.identity import IdentityMatch, equivalents, weakest
from taxpack.engine.losses.spec import Window, sale_window
from taxpack.engine.losses.successors import successors, unit_factor

ZERO = Decimal(0)
ONE = Decimal(1)
_NO_TIME = dt.timedelta(0)
_SETTLEMENT_SLACK = dt.timedelta(days=31)  # how far a purchase's settlement may trail its trade date
_EFFECT_WORDS = {
    "add_to_replacement_basis": "added to the basis of",
    "usable_against_reacquired": "usable only against a gain on",
    "defer_until_replacement_sold": "deferred until the sale of",
}
_OUTCOME_OF_EFFECT = {
    "add_to_replacement_basis": "deferred",
    "usable_against_reacquired": "restricted",
    "defer_until_replacement_sold": "deferred_until_sold",
}


@attrs.define
class LossUnits:
    """The loss-bearing part of one slice of a sale, and how much of it is still unmatched."""

    take_index: int
    take: Any  # engine.lots.pool.Take
    quantity: Decimal
    loss: Decimal  # remaining loss on `quantity` units (exact; per unit = loss / quantity)


@attrs.frozen
class Candidate:
    """A purchase in the window that may replace the units sold."""

    tx: Transaction
    index: int
    view: HolderView
    identity: IdentityMatch
    capacity: Decimal
    past: bool
    pool_key: tuple[str, ...]
    origin: str | None = None  # the lots to adjust, when not the purchase's own (an average pool's cost is shared)

    @property
    def target(self) -> str:
        return self.origin or self.tx.id


@attrs.frozen
class WashPair:
    """Units of a loss sale matched with units of a replacement, and what happened to that part of the loss."""

    rule: str
    sale: str
    sold_lot: str
    sold_quantity: Decimal
    replacement: str
    account: str
    security: str
    date: dt.date
    quantity: Decimal
    amount: Decimal
    outcome: str  # deferred | lost | restricted | deferred_until_sold
    holding_from: dt.date | None = None
    identity: IdentityMatch | None = None
    caveat: str | None = None


@attrs.define
class LossOutcome:
    """What the loss rules did to one sale."""

    sale: str
    disallowed: Decimal = ZERO
    released: Decimal = ZERO
    pairs: list[WashPair] = attrs.field(factory=list)


def qty(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _used(lot: Any) -> bool:
    """Has a loss rule already matched these units as a replacement? (a replacement absorbs one loss)."""
    return any(a.get("loss_rule") for a in lot.adjustments)


class LossRuleSet:
    """The pack's loss rules, applied sale by sale during a replay."""

    def __init__(self, pack: Pack, scenario: Scenario, ledger: Any, events: Sequence[Transaction]) -> None:
        self.pack = pack
        self.scenario = scenario
        self.ledger = ledger
        self.events = list(events)
        self.rules: tuple[LossRule, ...] = pack.sections.loss_rules or ()
        self.buys: dict[str, list[tuple[dt.date, int]]] = {}
        self.reserved: dict[str, Decimal] = {}  # future buy -> units already matched to an earlier loss
        self.deferrals: dict[str, list[Any]] = {}  # id -> [amount left, units left, rule, sale]
        self.outcomes: dict[str, LossOutcome] = {}
        self._seq = 0
        self._views: dict[tuple[int, str, str], HolderView] = {}
        self._windows: dict[tuple[int, dt.date, dt.date], Window] = {}
        self.exhausted: set[int] = set()  # purchases with no unit left to absorb a loss
        # Per security and pool: the moves in date order with the running quantity ("held at the end of the window"
        # is a binary search), and the purchases in date order with an account of the pool (CA's P, acquired in the window)
        self.holdings: dict[str, dict[tuple[str, ...], tuple[list[tuple[dt.date, int]], list[Decimal], str]]] = {}
        self.pool_buys: dict[str, dict[tuple[str, ...], tuple[list[tuple[dt.date, int]], str]]] = {}
        self.buy_position: dict[int, int] = {}
        self.position: dict[str, int] = {}
        self.skip: dict[str, list[int]] = {}
        self._indexed = False  # the indexes below are built by the first sale a rule looks at (`_index`)

    def _index(self) -> None:
        """Index the events for the rules, once: purchases per security in date order, and per security and pool the
        moves with the running quantity ("held at the end of the window" is a binary search) and the purchases.

        Built when a rule first looks at a sale at a loss: a replay of purchases only (a plan's history) needs none.
        The events are in date order (replay.event_order), so rows appended by event index are already sorted.
        """
        self._indexed = True
        events, scenario = self.events, self.scenario
        pool_key, account_of = self.ledger.pool_key, scenario.account
        buys = self.buys
        moves: dict[tuple[str, tuple[str, ...]], list[tuple[dt.date, int, Decimal, str]]] = {}
        pool_buys: dict[tuple[str, tuple[str, ...]], list[tuple[dt.date, int]]] = {}
        keys: dict[tuple[str, str], tuple[str, ...]] = {}  # (account, security) -> pool: worked out once per pair
        for j, tx in enumerate(events):
            security = tx.security
            pair = (tx.account, security)
            key = keys.get(pair)
            if key is None:
                key = keys[pair] = pool_key(account_of(tx.account), security)
            if tx.side == "buy":
                row = (tx.date, j)
                buys.setdefault(security, []).append(row)
                pool_buys.setdefault((security, key), []).append(row)
                moves.setdefault((security, key), []).append((tx.date, j, tx.quantity, tx.account))
            else:
                moves.setdefault((security, key), []).append((tx.date, j, -tx.quantity, tx.account))
        self.buy_position = {j: n for rows in buys.values() for n, (_, j) in enumerate(rows)}
        self.position = {events[j].id: j for j in self.buy_position}
        self.skip = {security: list(range(len(rows) + 1)) for security, rows in buys.items()}
        actions = bool(scenario.corporate_actions)
        for (security, key), moved in moves.items():
            running, cumulative = ZERO, []
            for n, move in enumerate(moved):
                if actions and n and running:  # a split between two moves changes the units held (corporate actions)
                    running *= unit_factor(scenario, security, security, move[3], moved[n - 1][0], move[0])
                running += move[2]
                cumulative.append(running)
            self.holdings.setdefault(security, {})[key] = ([(r[0], r[1]) for r in moved], cumulative, moved[0][3])
        for (security, key), prow in pool_buys.items():
            self.pool_buys.setdefault(security, {})[key] = (prow, events[prow[0][1]].account)

    # -- entry point ---------------------------------------------------------------------------

    def on_sale(self, sale: Any, index: int) -> None:
        """Apply every loss rule to the sale at `events[index]`: release what its lots carry, limit its loss."""
        outcome = LossOutcome(sale.tx.id)
        if self.deferrals:  # only units carrying a deferred loss release anything
            self._release(sale, outcome)
        if self.rules and sale.taxable:
            units = self._loss_units(sale)
            if units:
                security = self.scenario.security(sale.tx.security)
                if not self._indexed:
                    self._index()
                for rule in self.rules:
                    if not any(u.quantity > 0 for u in units):
                        break
                    if rule.applies(security):
                        self._apply(rule, sale, index, units, outcome)
        sale.disallowed += outcome.disallowed
        if outcome.released:
            # the ledger's convention: `released` is added to the gain, so a released loss is negative
            sale.released -= outcome.released
        self.outcomes[sale.tx.id] = outcome

    # -- the loss ------------------------------------------------------------------------------

    @staticmethod
    def _loss_units(sale: Any) -> list[LossUnits]:
        """Slices sold at a loss, in the order the shares were acquired (Reg. §1.1091-1(c)); gains are never touched."""
        units = [LossUnits(i, take, take.quantity, -match.gain)
                 for i, (take, match) in enumerate(zip(sale.takes, sale.matches)) if match.gain < 0 and take.quantity > 0]
        units.sort(key=lambda u: (u.take.acquired, u.take.lot.seq, u.take_index))
        return units

    def sold_on(self, tx: Transaction) -> dt.date:
        """The sale date holding periods count to (the pack's `holding_period.date`), used for tacking."""
        if self.ledger.holding.date == "settlement" and tx.settlement_date is not None:
            return tx.settlement_date
        return tx.date

    # -- replacements --------------------------------------------------------------------------

    def _live(self, security: str, n: int) -> int:
        """The first position at or after `n` in the security's purchases that is not exhausted (path-compressed)."""
        skip = self.skip[security]
        root = n
        while skip[root] != root:
            root = skip[root]
        while skip[n] != root:
            skip[n], n = root, skip[n]
        return root

    def _rows(self, rows: list[tuple[dt.date, int]], rule: LossRule, window: Window, sale_day: dt.date,
              index: int, live: str | None = None) -> Iterator[tuple[dt.date, int]]:
        """Purchases (date, event index) in the window, in order; a side of zero length keeps only the other side.

        With `live` (a security), purchases already exhausted are jumped over without being looked at.
        """
        # purchases are indexed by trade date; settlement comes on or after it, so widen the search and filter
        settlement = rule.window.date == "settlement"
        lo = bisect.bisect_left(rows, (window.start - (_SETTLEMENT_SLACK if settlement else _NO_TIME), -1))
        hi = bisect.bisect_right(rows, (window.end, len(self.events)))
        n = lo
        while n < hi:
            if live is not None:
                n = self._live(live, n)
                if n >= hi:
                    break
            day, j = rows[n]
            n += 1
            if settlement:
                day = rule.event_day(self.events[j])
                if not window.contains(day):
                    continue
            if day == sale_day and ((j < index and window.before.is_zero) or (j > index and window.after.is_zero)):
                continue  # e.g. IE "within 4 weeks after": a purchase earlier on the sale day is not after it
            yield day, j

    def _candidates(self, rule: LossRule, window: Window, sale_day: dt.date, index: int, seller: str,
                    matching: dict[str, IdentityMatch], sold_origins: set[str]) -> Iterator[Candidate]:
        """Replacement candidates in order of acquisition, lazily: matching stops when the loss is used up."""
        def stream(security: str, identity: IdentityMatch) -> Iterator[tuple[dt.date, int, IdentityMatch]]:
            for day, j in self._rows(self.buys.get(security, []), rule, window, sale_day, index, live=security):
                yield day, j, identity

        streams = [stream(security, identity) for security, identity in matching.items()]
        for _, j, identity in heapq.merge(*streams, key=lambda r: (r[0], r[1])):
            if j in self.exhausted:
                continue
            tx = self.events[j]
            if tx.id in sold_origins:
                continue  # the sold shares and those bought with them in one purchase are not replacements
            view = self.view(rule, seller, tx.account)
            if view.status == "ignored":
                continue
            past = j < index
            capacity = self._capacity(tx, past)
            if capacity <= 0:
                # units only ever leave a purchase (sold, or matched): it never comes back
                self.exhausted.add(j)
                position = self.buy_position[j]
                self.skip[tx.security][position] = position + 1
                continue
            yield Candidate(tx, j, view, identity, capacity, past, self.ledger.pool_key(self.scenario.account(tx.account), tx.security))

    def _capacity(self, tx: Transaction, past: bool) -> Decimal:
        """Units of a purchase still able to absorb a loss: held now (or still to come) and not yet matched."""
        if not past:
            return tx.quantity - self.reserved.get(tx.id, ZERO)
        key = self.ledger.lot_owner.get(tx.id)
        if key is None:
            return ZERO
        pool = self.ledger.pools[key]
        return sum((lot.quantity for lot in pool.of_origin(tx.id) if lot.quantity > 0 and not _used(lot)), ZERO)

    def view(self, rule: LossRule, seller: str, account_id: str) -> HolderView:
        key = (rule.index, seller, account_id)
        found = self._views.get(key)
        if found is None:
            found = self._views[key] = holder_view(rule, self.pack, self.scenario, seller, self.scenario.account(account_id))
        return found

    def _factor(self, security: str, account: str, start: dt.date, end: dt.date) -> Decimal:
        """Units of `security` one unit held on `start` has become by `end` (splits in between)."""
        return unit_factor(self.scenario, security, security, account, start, end)

    def _in_sale_units(self, sold: str, tx: Transaction, sale_day: dt.date, quantity: Decimal) -> Decimal:
        """`quantity` units of purchase `tx` as units of the sold security on the sale day (splits and exchanges in between)."""
        if tx.date > sale_day:
            return quantity / unit_factor(self.scenario, sold, tx.security, tx.account, sale_day, tx.date)
        return quantity * unit_factor(self.scenario, tx.security, sold, tx.account, tx.date, sale_day)

    def _held_at_end(self, rule: LossRule, window: Window, seller: str,
                     matching: dict[str, IdentityMatch], sale_day: dt.date) -> tuple[Decimal, dict[tuple[str, ...], Decimal]]:
        """Units the seller and the persons the rule counts hold at the end of the window, per pool."""
        per_pool: dict[tuple[str, ...], Decimal] = {}
        for security in matching:
            for key, (rows, cumulative, account_id) in self.holdings.get(security, {}).items():
                if self.view(rule, seller, account_id).status == "ignored":
                    continue  # a pool belongs to one holder, seen the same way for all its accounts
                hi = bisect.bisect_right(rows, (window.end, len(self.events)))
                if hi:
                    # in units of the sold security on the sale day (a split inside the window changes the count)
                    held = cumulative[hi - 1] * unit_factor(self.scenario, security, security, account_id, rows[hi - 1][0], window.end)
                    per_pool[key] = per_pool.get(key, ZERO) + held / self._factor(security, account_id, sale_day, window.end)
        per_pool = {k: v for k, v in sorted(per_pool.items()) if v > 0}
        return sum(per_pool.values(), ZERO), per_pool

    # -- applying one rule ---------------------------------------------------------------------

    def _window(self, rule: LossRule, sale_day: dt.date, pack_day: dt.date) -> Window:
        """The rule's window around a sale on `sale_day` (parameters read on `pack_day`): worked out once per day."""
        key = (rule.index, sale_day, pack_day)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = sale_window(rule, self.pack, sale_day, pack_day)
        return window

    def _apply(self, rule: LossRule, sale: Any, index: int, units: list[LossUnits], outcome: LossOutcome) -> None:
        tx = sale.tx
        sale_day = rule.event_day(tx)
        window = self._window(rule, sale_day, self.ledger.pack.law_day(tx.date))
        seller = self.scenario.account(tx.account).owner
        # the security itself, its identity group, and what corporate actions made of it (or it was made from)
        matching = {**successors(self.pack, self.scenario, tx.security, rule.identity), **equivalents(self.scenario, tx.security, rule.identity)}
        sold_origins = {take.lot.origin for take in sale.takes}
        loss_before = sum((u.loss for u in units), ZERO)
        quantity_before = sum((u.quantity for u in units), ZERO)
        held: Decimal | None = None
        held_by_pool: dict[tuple[str, ...], Decimal] = {}
        if rule.held_at_end:
            held, held_by_pool = self._held_at_end(rule, window, seller, matching, sale_day)
        pairs: list[WashPair] = []
        formula: str | None = None
        sold_on = self.sold_on(tx)
        self.split_by: set[tuple[str, ...]] = set()
        if rule.match_order == "proportional":
            formula = self._proportional(rule, sale, sold_on, index, window, seller, matching, units, held, held_by_pool, pairs)
        else:
            candidates = self._candidates(rule, window, sale_day, index, seller, matching, sold_origins)
            self._by_acquisition(rule, sale, sold_on, units, candidates, held, pairs)
        if not pairs:
            return
        amount = sum((p.amount for p in pairs), ZERO)
        outcome.disallowed += amount
        outcome.pairs.extend(pairs)
        # The messages are written when read: most sales replayed are history, whose findings nobody shows.
        sale.add_finding(lambda: self._finding(rule, sale, window, pairs, loss_before, quantity_before, held, formula))
        if rule.split_uncertain and len(self.split_by) > 1:
            holders = len(self.split_by)
            sale.add_finding(lambda: self._split_finding(rule, pairs, amount, holders))

    def _by_acquisition(self, rule: LossRule, sale: Any, sale_day: dt.date, units: list[LossUnits],
                        candidates: Iterator[Candidate], held: Decimal | None, pairs: list[WashPair]) -> None:
        """US §1091(b)-(c): sold shares and replacements paired in order of acquisition, share for share."""
        limit = sum((u.quantity for u in units), ZERO)
        if held is not None:
            limit = min(limit, held)
        if limit <= 0:
            return
        cand: Candidate | None = None
        capacity = ZERO
        scale = ONE
        for u in units:
            while u.quantity > 0 and limit > 0:
                if cand is None or capacity <= 0:
                    cand = next(candidates, None)
                    if cand is None:
                        return
                    # A future purchase counts in sale-day units: 200 bought after a 2-for-1 split replace 100 sold.
                    scale = ONE if cand.past else unit_factor(self.scenario, sale.tx.security, cand.tx.security, cand.tx.account, sale_day, cand.tx.date)
                    capacity = cand.capacity / scale
                q = min(u.quantity, capacity, limit)
                amount = u.loss if q == u.quantity else u.loss * q / u.quantity
                u.quantity -= q
                u.loss -= amount
                capacity -= q
                limit -= q
                pairs.append(self._effect(rule, sale, sale_day, cand, q * scale, q, amount, u.take))

    def _proportional(self, rule: LossRule, sale: Any, sale_day: dt.date, index: int, window: Window, seller: str,
                      matching: dict[str, IdentityMatch], units: list[LossUnits], held: Decimal | None,
                      held_by_pool: dict[tuple[str, ...], Decimal], pairs: list[WashPair]) -> str | None:
        """CA s.54 / IT-456R para 12: denied = least of (S sold, P acquired in the window, H held at its end) / S x loss.

        Affiliated holders count as one person; the denied loss goes to the holders of substituted property
        at the end of the period in proportion to what each acquired in the window and still holds then.
        """
        # P per pool: purchases in the window by the persons the rule counts (no lot exclusion: pools have no lots)
        bought: dict[tuple[str, ...], list[tuple[int, Decimal]]] = {}
        for security in matching:
            for key, (rows, account_id) in self.pool_buys.get(security, {}).items():
                view = self.view(rule, seller, account_id)
                if view.status == "ignored":
                    continue
                for _, j in self._rows(rows, rule, window, sale_day, index):
                    bought.setdefault(key, []).append((j, self._in_sale_units(sale.tx.security, self.events[j], sale_day, self.events[j].quantity)))
        sold = sum((u.quantity for u in units), ZERO)
        loss = sum((u.loss for u in units), ZERO)
        acquired = sum((q for rows in bought.values() for _, q in rows), ZERO)
        k = min(sold, acquired) if held is None else min(sold, acquired, held)
        formula = (f"min(S={qty(sold)}, P={qty(acquired)}" + (f", H={qty(held)}" if held is not None else "")
                   + f") / S = {qty(k)}/{qty(sold)}")
        if k <= 0:
            return formula
        denied = loss if k == sold else loss * k / sold
        left = denied
        for n, u in enumerate(units):  # reduce the loss units proportionally; the last takes the remainder
            part = left if n == len(units) - 1 else u.loss * k / sold
            u.quantity -= u.quantity * k / sold
            u.loss -= part
            left -= part
        weights: dict[tuple[str, ...], Decimal] = {}
        for key, units_bought in sorted(bought.items()):
            total = sum((q for _, q in units_bought), ZERO)
            weights[key] = total if held is None else min(total, held_by_pool.get(key, ZERO))
        if sum(weights.values(), ZERO) <= 0:
            weights = dict(held_by_pool)
        weights = {key: w for key, w in sorted(weights.items()) if w > 0}
        total_weight = sum(weights.values(), ZERO)
        left = denied
        keys = list(weights)
        for n, key in enumerate(keys):
            share = left if n == len(keys) - 1 else denied * weights[key] / total_weight
            left -= share
            targets = self._targets(rule, seller, key, bought.get(key, []), index)
            if not targets:
                continue
            units_total = sum((w for _, _, w in targets), ZERO)
            rest = share
            for m, (cand, q, w) in enumerate(targets):
                part = rest if m == len(targets) - 1 else share * w / units_total
                rest -= part
                pairs.append(self._effect(rule, sale, sale_day, cand, q, k * part / denied, part, None, shown=w))
        self.split_by = {key for key, rows in bought.items() if sum((q for _, q in rows), ZERO) > 0}
        return formula

    def _targets(self, rule: LossRule, seller: str, key: tuple[str, ...], bought: list[tuple[int, Decimal]],
                 index: int) -> list[tuple[Candidate, Decimal, Decimal]]:
        """Where a holder's share of a denied loss goes: the substituted property it acquired in the window.

        An average-cost pool (CA) has one cost for all its units, so the share bought before the sale goes
        into the pool now and the share bought after it waits for that purchase; a pool of lots spreads it
        over the purchases still held. Each target is (candidate, units to adjust, weight): the units are
        all the open (or coming) units of that purchase, so the ledger applies the whole amount.
        """
        pool = self.ledger.pools.get(key)
        past = [(j, q) for j, q in bought if j < index]
        future = [(j, q) for j, q in bought if j > index]
        out: list[tuple[Candidate, Decimal, Decimal]] = []

        def cand(j: int, origin: str | None = None) -> Candidate:
            tx = self.events[j]
            return Candidate(tx, j, self.view(rule, seller, tx.account), IdentityMatch(tx.security, "identical", "high"),
                             ZERO, j < index, key, origin)

        lot = next(iter(pool.open_lots()), None) if pool is not None else None
        if pool is not None and pool.average:
            held_past = min(sum((q for _, q in past), ZERO), pool.quantity)
            if held_past > 0 and lot is not None:
                units = sum((l.quantity for l in pool.of_origin(lot.origin)), ZERO)
                out.append((cand(past[0][0], lot.origin), units, held_past))
            if future:
                first = future[0][0]
                out.append((cand(first), self.events[first].quantity, sum((q for _, q in future), ZERO)))
        else:
            for j, _q in past:
                open_units = sum((l.quantity for l in pool.of_origin(self.events[j].id)), ZERO) if pool else ZERO
                if open_units > 0:
                    out.append((cand(j), open_units, open_units))
            out.extend((cand(j), q, q) for j, q in future)
        if not out and lot is not None and lot.origin in self.position:
            # this holder bought nothing in the window that it still has, yet holds identical property at the
            # end (the weights fell back to holdings): its open units carry the addition
            units = sum((l.quantity for l in pool.of_origin(lot.origin)), ZERO)
            out.append((cand(self.position[lot.origin]), units, units))
        return out

    def _effect(self, rule: LossRule, sale: Any, sale_day: dt.date, cand: Candidate, quantity: Decimal,
                sold_quantity: Decimal, amount: Decimal, take: Any, shown: Decimal | None = None) -> WashPair:
        """Carry `amount` of the loss onto `quantity` units of the replacement, or lose it for good."""
        status = cand.view.effective
        note: dict[str, Any] = {"loss_rule": rule.id, "sale": sale.tx.id}
        holding_from = None
        if status == "permanent":
            outcome = "lost"
            self.ledger.adjust(cand.target, quantity, ZERO, None, {**note, "outcome": outcome, "lost": amount})
        elif rule.effect == "add_to_replacement_basis":
            outcome = "deferred"
            if rule.tacking and take is not None:
                # §1223(3): the replacement's holding period includes the days the sold shares were held
                holding_from = cand.tx.date - (sale_day - take.holding_from)
            self.ledger.adjust(cand.target, quantity, amount, holding_from, {**note, "outcome": outcome})
        else:
            outcome = _OUTCOME_OF_EFFECT[rule.effect]
            self._seq += 1
            deferral = f"{rule.id}#{self._seq}"
            self.deferrals[deferral] = [amount, quantity, rule, sale.tx.id]
            self.ledger.adjust(cand.target, quantity, ZERO, None,
                               {**note, "outcome": outcome, "effect": rule.effect, "deferral": deferral, "deferred_loss": amount})
        if not cand.past:
            self.reserved[cand.target] = self.reserved.get(cand.target, ZERO) + quantity
        caveat = cand.view.reason if cand.view.status == "uncertain" else None
        return WashPair(rule.id, sale.tx.id, take.lot.id if take is not None else "", sold_quantity, cand.tx.id, cand.tx.account,
                        cand.tx.security, cand.tx.date, quantity if shown is None else shown, amount, outcome, holding_from,
                        cand.identity, caveat)

    # -- releasing deferred losses -----------------------------------------------------------------

    def _release(self, sale: Any, outcome: LossOutcome) -> None:
        """A sale of units that carry a deferred loss (ES) or a restricted loss (IE) lets it out."""
        released: dict[str, list[Any]] = {}
        for take, match in zip(sale.takes, sale.matches):
            room = match.gain if match.gain > 0 else ZERO
            for note in take.adjustments:
                deferral = note.get("deferral")
                entry = self.deferrals.get(deferral) if deferral else None
                if entry is None or entry[1] <= 0:
                    continue
                amount_left, units_left, rule, origin_sale = entry
                q = min(take.quantity, units_left)
                part = amount_left if q == units_left else amount_left * q / units_left
                entry[0], entry[1] = amount_left - part, units_left - q
                usable, stranded = part, ZERO
                if rule.effect == "usable_against_reacquired":
                    usable = min(part, room)
                    room -= usable
                    stranded = part - usable
                row = released.setdefault(rule.id, [rule, ZERO, ZERO, set()])
                row[1] += usable
                row[2] += stranded
                row[3].add(origin_sale)
        for rule_id in sorted(released):
            rule, usable, stranded, origins = released[rule_id]
            outcome.released += usable
            sale.add_finding(functools.partial(self._release_finding, rule, sale, usable, stranded, sorted(origins)))

    # -- findings ------------------------------------------------------------------------------

    def _finding(self, rule: LossRule, sale: Any, window: Window, pairs: list[WashPair], loss: Decimal,
                 quantity: Decimal, held: Decimal | None, formula: str | None) -> Finding:
        pack = self.pack
        cur = self.ledger.currency
        total = sum((p.amount for p in pairs), ZERO)
        lost = sum((p.amount for p in pairs if p.outcome == "lost"), ZERO)
        kept = total - lost
        identity = weakest([p.identity for p in pairs if p.identity is not None])
        replacements = []
        for p in pairs:
            replacements.append({
                "transaction": p.replacement, "account": p.account, "security": p.security, "date": p.date,
                "quantity": p.quantity, "amount": p.amount, "outcome": p.outcome,
                **({"holding_from": p.holding_from} if p.holding_from else {}),
                **({"identity_group": p.identity.group, "identity_level": p.identity.level,
                    "identity_confidence": p.identity.confidence} if p.identity and p.identity.group else {}),
            })
        listed = "; ".join(f"{p.replacement} ({p.account}, {p.date.isoformat()}, {qty(p.quantity)} {p.security}"
                           f"{', lost for good' if p.outcome == 'lost' else ''})" for p in pairs)
        message = (f"{rule.title}: loss of {money_text(loss, pack, grouped=True)} {cur} on {qty(quantity)} {sale.tx.security}; "
                   f"{money_text(total, pack, grouped=True)} {cur} disallowed")
        if formula:
            message += f" ({formula})"
        parts = []
        if kept:
            parts.append(f"{money_text(kept, pack, grouped=True)} {_EFFECT_WORDS[rule.effect]} the replacement")
        if lost:
            parts.append(f"{money_text(lost, pack, grouped=True)} lost for good (replacement in a tax-exempt account)")
        if parts:
            message += ": " + ", ".join(parts)
        message += f"; window {window.start.isoformat()} to {window.end.isoformat()}; replacements: {listed}"
        caveats = [rule.uncertain] if rule.uncertain else []
        if identity is not None and identity.group is not None and identity.confidence != "high":
            caveats.append(f"{sale.tx.security} and {identity.security} are matched through identity group "
                           f"'{identity.group}' ({identity.level}, confidence {identity.confidence})")
        caveats.extend(sorted({p.caveat for p in pairs if p.caveat}))
        facts: dict[str, Any] = {
            "loss_rule.id": rule.id,
            "loss_rule.effect": rule.effect,
            "loss_rule.window_start": window.start,
            "loss_rule.window_end": window.end,
            "sale.loss": loss,
            "sale.loss_quantity": quantity,
            "loss.disallowed": total,
            "loss.deferred": kept,
            "loss.lost": lost,
            "replacements": replacements,
            "identity.confidence": identity.confidence if identity else "high",
            "identity.level": identity.level if identity else "identical",
        }
        if held is not None:
            facts["loss_rule.held_at_end"] = held
        if formula:
            facts["loss_rule.formula"] = formula
        return make_finding(pack, code=rule.code, severity=rule.severity, message=message, rule=rule.id, source=rule.source,
                            facts=facts, amount=total, uncertain="; ".join(caveats) or None)

    def _split_finding(self, rule: LossRule, pairs: list[WashPair], total: Decimal, holders: int) -> Finding:
        """Several holders acquired in the period and share the denied loss: how it is split is a reading (the pack's caveat)."""
        cur, pack = self.ledger.currency, self.pack
        shares: dict[str, Decimal] = {}
        for pair in pairs:
            shares[pair.account] = shares.get(pair.account, ZERO) + pair.amount
        listed = ", ".join(f"{account} {money_text(amount, pack, grouped=True)}" for account, amount in shares.items())
        message = (f"{rule.title}: {holders} affiliated holders acquired identical property in the period; the "
                   f"{money_text(total, pack, grouped=True)} {cur} disallowed is shared by what each acquired and still holds at its end: {listed}")
        return make_finding(pack, code=f"{rule.code}_split", severity="info", message=message, rule=rule.id,
                            source=rule.split_source or rule.source, facts={"loss_rule.id": rule.id, "loss.disallowed": total,
                                                                            "loss_rule.holders": holders},
                            amount=total, uncertain=rule.split_uncertain)

    def _release_finding(self, rule: LossRule, sale: Any, usable: Decimal, stranded: Decimal, origins: list[str]) -> Finding:
        cur = self.ledger.currency
        pack = self.pack
        message = (f"{rule.title}: {money_text(usable, pack, grouped=True)} {cur} of loss deferred from sale {', '.join(origins)} "
                   f"is released into this sale")
        if stranded:
            message += (f"; {money_text(stranded, pack, grouped=True)} {cur} could only be set against a gain on these shares and this "
                        "disposal has none, so it stays unusable")
        return make_finding(pack, code=rule.code, severity="info", message=message, rule=rule.id, source=rule.source,
                            facts={"loss_rule.id": rule.id, "loss.released": usable, "loss.stranded": stranded,
                                   "loss_rule.from_sales": origins},
                            amount=usable, uncertain=rule.uncertain)
