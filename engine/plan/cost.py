"""The planner's own price of a trade list: the household's net bill, leakage, and the loss rules it trips.

This is the function the solver minimises, evaluated exactly in `Decimal` for any trade list (the
solver's plan, the heuristic's, the naive one), so the three can be compared on equal terms: lots are
consumed as each lens's method says, each unit's gain goes to its basket of the lens's year, and
`netbill.price` computes every lens's year with `YearBill` (as `taxpack check` does) and the credits
between lenses. A loss sale that a purchase in the household would wash loses its loss for the year
(the conservative reading: the whole loss, whatever the quantity bought back). `taxpack check` then
prices the chosen plan with the full engine.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

import attrs

from taxpack.engine.consequences.household_bill import basket_items
from taxpack.engine.law.year_rules import PROCEEDS, year_rules
from taxpack.engine.plan.netbill import price
from taxpack.engine.plan.problem import PlanLot, PlanPool, Problem, WashLink

ZERO = Decimal(0)


@attrs.frozen
class PlanTrades:
    """A trade list: units sold and bought per (account, security), and the lots named for each sale."""

    sells: Mapping[tuple[str, str], Decimal] = attrs.field(factory=dict)
    buys: Mapping[tuple[str, str], Decimal] = attrs.field(factory=dict)
    lots: Mapping[tuple[str, str], tuple[tuple[str, Decimal], ...]] = attrs.field(factory=dict)  # (origin, units) per sale


@attrs.frozen
class WashHit:
    link: WashLink
    loss: Decimal  # lens currency, the loss the rule takes out of this year
    buys: tuple[tuple[str, str], ...]  # the purchases (account, security) that wash it; empty when history does
    past: tuple[str, ...]


@attrs.frozen
class PlanCost:
    tax: Decimal  # plan currency: the household's net bill of the year with the plan less without it
    tax_by_lens: Mapping[tuple[str, str], Decimal]  # (pack id, taxpayer) -> lens currency: net tax the plan adds
    gains_by_lens: Mapping[tuple[str, str], Mapping[str, Decimal]]  # per basket of the lens's year
    leakage: Decimal  # plan currency per the targets' leakage years, of the holdings after the plan
    leakage_change: Decimal
    washes: tuple[WashHit, ...]
    gross_by_lens: Mapping[tuple[str, str], Decimal] = attrs.field(factory=dict)  # lens currency, before credits
    credit_by_lens: Mapping[tuple[str, str], Decimal] = attrs.field(factory=dict)  # lens currency: credits it gives
    gross: Decimal = Decimal(0)  # plan currency
    credits: Decimal = Decimal(0)  # plan currency

    @property
    def total(self) -> Decimal:
        """What the solver minimises: tax added plus the change in leakage."""
        return self.tax + self.leakage_change


def consume(pool: PlanPool, quantity_by_account: Mapping[str, Decimal],
            named: Mapping[str, tuple[tuple[str, Decimal], ...]]) -> list[tuple[PlanLot | None, Decimal]]:
    """Which lots (and how many units of each) a lens takes for the units sold from its pool."""
    total = sum(quantity_by_account.values(), ZERO)
    if total <= 0:
        return []
    if pool.method == "average":
        return [(None, total)]
    taken: list[tuple[PlanLot | None, Decimal]] = []
    if pool.method == "specific":
        for account, qty in sorted(quantity_by_account.items()):
            lots = [l for l in pool.lots if l.account == account]
            names = named.get(account)
            if names:
                left_by_lot = {l.id: l.quantity for l in lots}
                for origin, units in names:
                    for lot in lots:
                        if lot.origin != origin or units <= 0:
                            continue
                        take = min(units, left_by_lot[lot.id])
                        if take > 0:
                            taken.append((lot, take))
                            left_by_lot[lot.id] -= take
                            units -= take
                continue
            left = qty
            for lot in sorted(lots, key=lambda l: l.acquired):  # FIFO when nothing is named
                if left <= 0:
                    break
                take = min(left, lot.quantity)
                taken.append((lot, take))
                left -= take
        return taken
    left = total
    for lot in pool.lots:  # already in the method's order
        if left <= 0:
            break
        take = min(left, lot.quantity)
        taken.append((lot, take))
        left -= take
    return taken


def evaluate(problem: Problem, trades: PlanTrades) -> PlanCost:
    """The exact price of `trades`: each lens's year with them (YearBill), credits between lenses, leakage."""
    Sale = tuple[tuple[str, str], ...]
    items: dict[tuple[str, str], list[tuple[str, Decimal, Sale, str]]] = {}  # (basket, amount, sales, security)
    losses: dict[tuple[str, str, str], Decimal] = {}  # (lens, taxpayer, security) -> loss (positive)
    for pool in problem.pools:
        if not pool.taxable:
            continue
        sold = {a: trades.sells.get((a, pool.security), ZERO) for a in pool.accounts}
        sold = {a: q for a, q in sold.items() if q > 0}
        if not sold:
            continue
        named = {a: trades.lots.get((a, pool.security), ()) for a in sold}
        out = items.setdefault((pool.lens, pool.taxpayer), [])
        taken: list[tuple[Sale, PlanLot | None, Decimal]]
        if pool.method == "average":
            taken = [(((a, pool.security),), None, q) for a, q in sorted(sold.items())]
        elif pool.method == "specific":
            taken = [(((lot.account, pool.security),), lot, q) for lot, q in consume(pool, sold, named) if lot is not None]
        else:
            everyone = tuple((a, pool.security) for a in sorted(sold))
            taken = [(everyone, lot, q) for lot, q in consume(pool, sold, named)]
        rules = year_rules(problem.books[pool.lens].pack)
        security = problem.scenario.security(pool.security)
        for sales, lot, qty in taken:
            gain = qty * pool.gain_per_unit(lot)
            term = pool.average_term if lot is None else lot.term
            held = None if lot is None else (lot.held_from or lot.acquired)
            # as check files it, with the sale price for a pack's tests on the year's sale prices
            for basket, amount in basket_items(rules, [(term, gain, held, True, qty * pool.price)], security, problem.as_of):
                out.append((basket, amount, sales, pool.security))
            if gain < 0:
                holding = (pool.lens, pool.taxpayer, pool.security)
                losses[holding] = losses.get(holding, ZERO) - gain
    washes: list[WashHit] = []
    for link in problem.wash:
        lost = losses.get((link.lens, link.seller, link.security))
        if not lost:
            continue
        buys = tuple((a, s) for a, s, _ in link.conflicts if trades.buys.get((a, s), ZERO) > 0)
        if not buys and not link.past:
            continue
        key = (link.lens, link.seller)
        items[key] = [i for i in items.get(key, []) if not (i[3] == link.security and i[1] < 0)]  # the loss no longer counts this year
        washes.append(WashHit(link, lost, buys, link.past))
        losses.pop((link.lens, link.seller, link.security))  # one rule's disallowance is enough
    bill = price(problem.years, problem.pairs, {k: [(b, a, s) for b, a, s, _ in v] for k, v in items.items()})
    gains: dict[tuple[str, str], dict[str, Decimal]] = {}
    for key, rows in items.items():
        by_basket = gains.setdefault(key, {})
        for basket, amount, _, _ in rows:
            if PROCEEDS[0] in basket:
                continue  # a basket's sale prices (BASKET#proceeds), not a gain
            by_basket[basket] = by_basket.get(basket, ZERO) + amount
    leakage_change = ZERO
    leakage = ZERO
    for (a, s), rate in problem.leakage.items():
        before = problem.holdings.get((a, s), ZERO)
        after = before - trades.sells.get((a, s), ZERO) + trades.buys.get((a, s), ZERO)
        leakage += rate * after
        leakage_change += rate * (after - before)
    lenses = {k: v for k, v in bill.lenses.items() if k in items or v.gross or v.credit}
    return PlanCost(bill.net, {k: v.net for k, v in lenses.items()}, {k: dict(sorted(v.items())) for k, v in sorted(gains.items())},
                    leakage, leakage_change, tuple(washes), {k: v.gross for k, v in lenses.items()},
                    {k: v.credit for k, v in lenses.items()}, bill.gross, bill.credits)


def drift(problem: Problem, trades: PlanTrades) -> dict[str, Decimal]:
    """Each target's weight after the trades, less its target weight (untargeted holdings under their own ids)."""
    if problem.targets is None:
        return {}
    total = problem.invested_value()
    values: dict[str, Decimal] = {g.id: ZERO for g in problem.targets.groups}
    keys = set(problem.holdings) | set(trades.buys)
    for a, s in sorted(keys):
        after = problem.holdings.get((a, s), ZERO) - trades.sells.get((a, s), ZERO) + trades.buys.get((a, s), ZERO)
        group = problem.targets.group_of(s)
        gid = group.id if group else s
        values[gid] = values.get(gid, ZERO) + after * problem.prices[s]
    weights = {g.id: g.weight for g in problem.targets.groups}
    return {gid: (v / total if total else ZERO) - weights.get(gid, ZERO) for gid, v in sorted(values.items())}


def cash_left(problem: Problem, trades: PlanTrades) -> dict[str, Decimal]:
    """Per account, plan currency: cash to invest plus sales less purchases less cash to raise (>= 0 when feasible)."""
    out = {a: problem.cash.get(a, ZERO) - problem.raise_.get(a, ZERO) for a in problem.accounts}
    for (a, s), q in trades.sells.items():
        out[a] += q * problem.prices[s]
    for (a, s), q in trades.buys.items():
        out[a] -= q * problem.prices[s]
    return out
