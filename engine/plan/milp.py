"""The least-tax plan as a mixed-integer program, solved by HiGHS within a time limit and a money gap.

Variables: units sold per (account, security) and bought per (account, security), whole unless the
security is fractional; per lens, units taken from each open lot (free where the lens allows specific
identification, ordered where it mandates FIFO/LIFO, one pool-level average cost otherwise). The
objective is the household's net bill: per lens and taxpayer the year's tax as a function of its
baskets' nets, written as the convex hull of the cells on which it is linear (engine/plan/yearmodel.py:
offsets, carried losses, the other-income offset, allowance, brackets on other income, surtaxes), less
the credits one lens gives for another's tax, each bounded by both; see docs/planning.md.

The solver works in binary floating point: money enters it through `_num` (the one place a Decimal
becomes a float), and only quantities come back, rounded to whole units (or the security's quantum)
and priced again exactly, in Decimal, by `plan_cost` and by `taxpack check`.
"""

from __future__ import annotations

import math
import time
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Mapping, Sequence

import attrs

from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.plan.cost import PlanTrades, consume
from taxpack.engine.plan.netbill import CreditPair
from taxpack.engine.plan.problem import PlanPool, Problem
from taxpack.engine.plan.targets import Targets
from taxpack.engine.plan.yearmodel import Aff, cells, extreme

ZERO = Decimal(0)
Rooms = Mapping[tuple[str, str], Mapping[str, tuple[Decimal, Decimal]]]  # (pack id, taxpayer) -> basket -> least, greatest plan net
FRACTION = Decimal("0.000001")  # units of a fractional security are rounded to this quantum
TURNOVER_WEIGHT = Decimal("0.00001")  # a tie-breaker per unit of value traded (0.1 bp): among equal-tax plans, trade less
WASH_LOSS_WEIGHT = Decimal("0.001")  # a tie-breaker per unit of loss a loss rule takes: never wash a loss for nothing
POLISH_SECONDS = 5.0  # at most this long to settle the lots once the trades are fixed
START_SECONDS = 5.0  # at most this long (and a third of the time limit) for the start rounded from the relaxation
NEIGHBOURHOOD_SECONDS = 1.0  # at most this long for the first plan of the neighbourhood (PlanModel._tightened)
ROOM_SLACK = Decimal(1)  # money added on each side of a basket's narrowed net (PlanModel._rooms)
IMPROVE_NODES = 50  # nodes searched in the narrowed program for a better plan than one already within the gap (a node
# limit, not a time limit, so the plan does not depend on the machine's speed; the benchmark's raises needed 18-46)
IMPROVE_GAP = Decimal("0.01")  # ... to a cent
LOT_WEIGHT = Decimal("0.000001")  # a tie-breaker per unit of gain realised on a freely chosen lot


class SolverMissing(TaxpackError):
    kind = "error"


def _num(value: Decimal) -> float:
    """The boundary to the solver: a Decimal coefficient as the float HiGHS works with (see module doc)."""
    return float(value)  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal


def _highs() -> Any:
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a declared dependency of the [plan] extra
        raise SolverMissing("planning needs the HiGHS solver: pip install 'taxpack[plan]' (highspy)", None) from exc
    return highspy


def _quiet(highspy: Any) -> Any:
    """A Highs instance, without the banner HiGHS prints on stdout the first time (it would corrupt JSON output)."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@attrs.define
class _Mip:
    """Columns and rows collected before one call to HiGHS."""

    lb: list[float] = attrs.field(factory=list)
    ub: list[float] = attrs.field(factory=list)
    cost: list[float] = attrs.field(factory=list)
    integer: list[int] = attrs.field(factory=list)
    names: list[str] = attrs.field(factory=list)
    rows: list[tuple[float, float, dict[int, float]]] = attrs.field(factory=list)

    def var(self, name: str, lb: float = 0.0, ub: float = float("inf"), cost: float = 0.0, integer: bool = False) -> int:  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        self.lb.append(lb)
        self.ub.append(ub)
        self.cost.append(cost)
        self.integer.append(1 if integer else 0)
        self.names.append(name)
        return len(self.lb) - 1

    def row(self, terms: Mapping[int, float], lb: float = -float("inf"), ub: float = float("inf")) -> None:  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        clean = {k: v for k, v in terms.items() if v != 0.0}
        self.rows.append((lb, ub, clean))


@attrs.frozen
class Solution:
    trades: PlanTrades
    status: str
    objective: Decimal | None
    bound: Decimal | None
    gap: Decimal | None
    seconds: float
    warm_start: bool
    washes: tuple[int, ...]  # indexes into problem.wash that the plan trips
    variables: int
    integers: int
    constraints: int
    cells: int = 0  # pieces of the lenses' years (engine/plan/yearmodel.py)
    start: str = "none"  # the start the solver was given: relaxation (rounded), heuristic or none


def _add(expr: dict[int, float], col: int, coef: float) -> None:
    expr[col] = expr.get(col, 0.0) + coef


class PlanModel:
    """Builds the MIP for a problem; `solve()` returns the plan."""

    def __init__(self, problem: Problem, *, rebalance: bool, forbid_washes: tuple[int, ...] = (), avoid_washes: bool = False,
                 raise_slack: bool = False, rooms: Rooms | None = None) -> None:
        self.p = problem
        self.raise_slack = raise_slack
        self.forbid_washes = forbid_washes
        self.avoid_washes = avoid_washes
        self.rooms = rooms  # each basket's plan net, narrowed to the plans no dearer than a known one (_tightened)
        self.relaxed: tuple[float, list[float]] | None = None  # the linear relaxation's optimum and its columns, once solved
        self.m = _Mip()
        self.sell: dict[tuple[str, str], int] = {}
        self.buy: dict[tuple[str, str], int] = {}
        self.lot_vars: dict[tuple[int, str], int] = {}  # (pool index, lot id) -> column
        self.band_rows: list[tuple[int, float]] = []  # target band rows, and what rounding their integer trades can move
        self.rebalance = rebalance
        self._build(forbid_washes, avoid_washes)

    # -- building -------------------------------------------------------------------------------------

    def _build(self, forbid: tuple[int, ...], avoid: bool) -> None:
        """The program, step by step: what may be traded, the gains it makes, the loss rules it may trip,
        the constraints (targets, cash per account, gain budgets), then the household's net bill, on the
        range of each basket's net that the constraints allow (the linear relaxation's least and greatest)."""
        targets = self.p.targets if self.rebalance else None
        self._sell_variables()
        if targets is not None:
            self._buy_variables(targets)
        self._gain_expressions()
        self._loss_rule_switches(forbid, avoid)
        if targets is not None:
            self._target_bands(targets)
        self._cash_per_account()
        if self.p.targets is not None:  # the gain budget holds for raising cash too
            self._gain_budgets(self.p.targets)
        self._narrow()
        self.decisions = len(self.m.lb)  # the columns before the years' cells: what is traded, lots, loss-rule switches
        self.offset = ZERO  # the objective's constant: minus the household's tax before the plan (plan currency)
        self.cells = 0
        self.tax_expr: dict[tuple[str, str], tuple[dict[int, float], Decimal]] = {}  # per lens: the year's tax (columns, constant)
        self.cred_expr: dict[tuple[str, str], tuple[dict[int, float], Decimal]] = {}  # ... and its creditable part
        self.credit_cols: dict[tuple[str, str], list[int]] = {}
        self.credit_bound: dict[tuple[str, str], Decimal] = {}
        self.ranges: dict[tuple[str, str], tuple[Decimal, Decimal, Decimal, Decimal]] = {}
        for key in sorted(self.p.years):
            self._year(key)
        for pair in self.p.pairs:
            self._credit(pair)

    def _narrow(self) -> None:
        """Each basket's plan net between the least and greatest the linear relaxation of the constraints allows
        (every plan the program can choose lies within): a smaller box has fewer cells and a tighter hull."""
        m = self.m
        goals = [(key, basket, expr) for key in sorted(self.gains) for basket, expr in sorted(self.gains[key].items()) if expr]
        if self.rooms is not None:
            # Narrowed already (by _tightened, on this program with an objective cutoff: inside what this would give).
            for key, basket, _expr in goals:
                room, narrowed = self.bounds[key][basket], self.rooms.get(key, {}).get(basket)
                if narrowed is not None:
                    room[0], room[1] = max(room[0], narrowed[0]), min(room[1], narrowed[1])
            return
        if not goals or not m.rows:
            return
        highspy = _highs()
        import numpy as np

        h = _quiet(highspy)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        n = len(m.lb)
        inf = highspy.kHighsInf
        h.addVars(n, np.array([max(v, -inf) for v in m.lb], dtype=np.float64), np.array([min(v, inf) for v in m.ub], dtype=np.float64))
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        lower: list[float] = []
        upper: list[float] = []
        for lo, hi, terms in m.rows:
            starts.append(len(index))
            for col in sorted(terms):
                index.append(col)
                value.append(terms[col])
            lower.append(max(lo, -inf))
            upper.append(min(hi, inf))
        h.addRows(len(m.rows), np.array(lower, dtype=np.float64), np.array(upper, dtype=np.float64), len(index),
                  np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32), np.array(value, dtype=np.float64))
        for key, basket, expr in goals:
            room = self.bounds[key][basket]
            found = _extremes(highspy, h, n, expr)
            if found is not None:
                slack = Decimal("0.01") + abs(found[1] - found[0]) * Decimal("1e-9")  # the LP's tolerance, in money
                room[0] = max(room[0], found[0] - slack)
                room[1] = min(room[1], found[1] + slack)

    def _sell_variables(self) -> None:
        """Units each account may sell of each holding (integers unless the security is fractional)."""
        p, m = self.p, self.m
        for (a, s), held in sorted(p.holdings.items()):
            if not p.may_sell(a, s) or (not self.rebalance and p.raise_.get(a, ZERO) <= 0):
                continue  # raising cash sells only in the accounts that need it
            frac = p.fractional(s)
            ub = held if frac else held.to_integral_value(rounding=ROUND_FLOOR)
            if ub <= 0:
                continue
            cost = p.prices[s] * TURNOVER_WEIGHT - p.leakage.get((a, s), ZERO)
            self.sell[(a, s)] = m.var(f"sell[{a},{s}]", 0.0, _num(ub), _num(cost), not frac)

    def _buy_variables(self, targets: Targets) -> None:
        """Units each account may buy, up to the top of the target band (rebalancing only)."""
        p, m = self.p, self.m
        total = p.invested_value()
        band = targets.band
        for a in p.accounts:
            for s in p.securities:
                if not p.may_buy(a, s):
                    continue
                group = targets.group_of(s)
                assert group is not None
                most = (group.weight + band) * total / p.prices[s]
                ub = most if p.fractional(s) else most.to_integral_value(rounding=ROUND_FLOOR)
                if ub <= 0:
                    continue
                cost = p.prices[s] * TURNOVER_WEIGHT + p.leakage.get((a, s), ZERO)
                self.buy[(a, s)] = m.var(f"buy[{a},{s}]", 0.0, _num(ub), _num(cost), not p.fractional(s))

    def _gain_expressions(self) -> None:
        """Gains per (lens, taxpayer) and term, as linear expressions. Units of a loss lot that a loss rule
        could catch are split in two: counted (their loss enters the year) and washed (their loss does not)."""
        p = self.p
        self.gains: dict[tuple[str, str], dict[str, dict[int, float]]] = {}  # per lens and taxpayer, per basket
        self.bounds: dict[tuple[str, str], dict[str, list[Decimal]]] = {}
        # per lens and taxpayer: (column, gain per unit, basket, units, the sales (account, security) it belongs to)
        self.items: dict[tuple[str, str], list[tuple[int, Decimal, str, Decimal, tuple[tuple[str, str], ...]]]] = {}
        self.washable = {(w.lens, w.seller, w.security) for w in p.wash}
        self.loss_split: dict[tuple[str, str, str], list[tuple[int, int, Decimal]]] = {}  # (counted, washed, units)
        self.split_of: dict[int, tuple[int, int, tuple[str, str, str]]] = {}  # units column -> its counted and washed parts
        self.full_vars: dict[tuple[int, str], int] = {}  # (pool index, lot id) -> "the lot before it is used up"
        for index, pool in enumerate(p.pools):
            self._pool(index, pool)

    def _loss_rule_switches(self, forbid: tuple[int, ...], avoid: bool) -> None:
        """Loss rules, as a disjunction written by disaggregation: B = 1 when the plan buys something that
        would wash a loss on this security (or the history already did, in the window). Counted loss units
        need B = 0, washed ones B = 1: counted <= units (1 - B), washed <= units B, each conflicting buy
        <= ub B. A wash costs a thousandth of the loss it washes, so the plan never washes a loss for nothing."""
        p, m = self.p, self.m
        links: dict[tuple[str, str, str], list[int]] = {}
        for i, link in enumerate(p.wash):
            links.setdefault((link.lens, link.seller, link.security), []).append(i)
        self.wash_keys: dict[tuple[str, str, str], tuple[int, list[int], list[int]]] = {}
        for key, indexes in sorted(links.items()):
            split = self.loss_split.get(key)
            if not split:
                continue
            past = any(p.wash[i].past for i in indexes)
            allowed = not avoid and not any(i in forbid for i in indexes)
            b = m.var(f"replaced[{key[0]},{key[1]},{key[2]}]", 1.0 if past else 0.0, 1.0, 0.0, True)
            # When a wash is not an option no unit may be washed: with B = 1 (a replacement bought, or one
            # already in the window) the loss lots then stay unsold.
            for counted, washed, units in split:
                m.row({counted: 1.0, b: _num(units)}, ub=_num(units))
                m.row({washed: 1.0, b: -_num(units)}, ub=0.0)
                if not allowed:
                    m.ub[washed] = 0.0
            seen: set[tuple[str, str]] = set()
            for i in indexes:
                for a, sec, _status in p.wash[i].conflicts:
                    col = self.buy.get((a, sec))
                    if col is None or (a, sec) in seen:
                        continue
                    seen.add((a, sec))
                    m.row({col: 1.0, b: -self.m.ub[col]}, ub=0.0)
            self.wash_keys[key] = (b, [w for _, w, _ in split], indexes)

    def _target_bands(self, targets: Targets) -> None:
        """Each target group ends within its band: weight - band <= value after the plan <= weight + band."""
        p, m = self.p, self.m
        total = p.invested_value()
        band = targets.band
        if total <= 0:
            return
        groups: dict[str, tuple[Decimal, list[str]]] = {g.id: (g.weight, list(g.members)) for g in targets.groups}
        for _a, s in p.holdings:
            if targets.group_of(s) is None:
                groups.setdefault(s, (ZERO, [s]))
        for _gid, (weight, members) in sorted(groups.items()):
            expr: dict[int, float] = {}
            held = ZERO
            for (a, s), q in p.holdings.items():
                if s in members:
                    held += q * p.prices[s]
                    if (a, s) in self.sell:
                        _add(expr, self.sell[(a, s)], -_num(p.prices[s]))
            for (_a, s), col in self.buy.items():
                if s in members:
                    _add(expr, col, _num(p.prices[s]))
            if weight == 0 and not expr:
                continue  # an untargeted holding that may not be sold stays as it is
            lo, hi = (weight - band) * total - held, (weight + band) * total - held
            # Rounding the relaxation's trades to whole units moves the group by less than one unit of each.
            self.band_rows.append((len(m.rows), sum(abs(v) for col, v in expr.items() if m.integer[col])))
            m.row(expr, lb=_num(lo), ub=_num(hi))

    def _cash_per_account(self) -> None:
        """Each account ends with its cash need met (raising) and never spends cash it does not have."""
        p, m = self.p, self.m
        for a in p.accounts:
            expr: dict[int, float] = {}
            for (acc, s), col in self.sell.items():
                if acc == a:
                    _add(expr, col, _num(p.prices[s]))
            for (acc, s), col in self.buy.items():
                if acc == a:
                    _add(expr, col, -_num(p.prices[s]))
            need = p.raise_.get(a, ZERO) - p.cash.get(a, ZERO)
            if not self.rebalance and expr:
                # Raise what is needed, not more: at most one unit of the dearest holding above it
                # (otherwise "least tax" would sell whole positions to net gains against losses).
                # Every unit sold is needed: removing any one would fall short (proceeds < need + the
                # cheapest price). Whole units may make that impossible; then one unit of slack is allowed.
                prices = [p.prices[s] for (acc, s) in self.sell if acc == a]
                slack = max(prices) if self.raise_slack else min(prices) * (1 - Decimal("0.000001"))
                m.row(expr, lb=_num(need), ub=_num(max(need, ZERO) + slack))
            elif expr or need > 0:
                m.row(expr, lb=_num(need))

    def _gain_budgets(self, targets: Targets) -> None:
        """The most gain the user allows per jurisdiction this year."""
        p, m = self.p, self.m
        for jurisdiction, budget in sorted(targets.gain_budget.items()):
            expr: dict[int, float] = {}
            for (lens, tp), terms in self.gains.items():
                if (lens, tp) in p.years and p.years[(lens, tp)].jurisdiction == jurisdiction:
                    for t_expr in terms.values():
                        for col, coef in t_expr.items():
                            _add(expr, col, coef)
            if expr:
                m.row(expr, ub=_num(budget))

    def _pool(self, index: int, pool: PlanPool) -> None:
        p, m = self.p, self.m
        if not pool.taxable:
            return
        sells = {a: self.sell[(a, pool.security)] for a in pool.accounts if (a, pool.security) in self.sell}
        if not sells:
            return
        key = (pool.lens, pool.taxpayer)
        gains = self.gains.setdefault(key, {})
        bounds = self.bounds.setdefault(key, {})
        items = self.items.setdefault(key, [])
        lkey = (pool.lens, pool.taxpayer, pool.security)

        def account_for(column_gain: Decimal, basket: str, col: int, units: Decimal, sales: tuple[tuple[str, str], ...]) -> None:
            if column_gain < 0 and p.years.get(key) is not None and p.years[key].year.rules.basket(basket).losses == "not_allowed":
                column_gain = ZERO  # a loss in this basket counts for nothing
            if column_gain < 0 and lkey in self.washable:
                counted = m.var(f"counted[{m.names[col]}]", 0.0, _num(units))
                washed = m.var(f"washed[{m.names[col]}]", 0.0, _num(units), _num(-column_gain * WASH_LOSS_WEIGHT))
                self.split_of[col] = (counted, washed, lkey)
                m.row({col: 1.0, counted: -1.0, washed: -1.0}, lb=0.0, ub=0.0)
                self.loss_split.setdefault(lkey, []).append((counted, washed, units))
                col = counted
            _add(gains.setdefault(basket, {}), col, _num(column_gain))
            items.append((col, column_gain, basket, units, sales))
            room = bounds.setdefault(basket, [ZERO, ZERO])
            if column_gain < 0:
                room[0] += column_gain * units
            else:
                room[1] += column_gain * units

        if pool.method == "average":
            g = pool.gain_per_unit()
            for a, col in sells.items():
                held = p.holdings.get((a, pool.security), ZERO)
                account_for(g, p.basket(index, pool, None), col, held, ((a, pool.security),))
            return
        if pool.method == "specific":
            for a, col in sells.items():
                row = {col: -1.0}
                for lot in pool.lots:
                    if lot.account != a:
                        continue
                    # A tie-break of a millionth per unit of gain: where the tax does not care which lots go
                    # (a net loss either way), take the lowest gains, so the split stays whole when rounded.
                    # Whole units per lot unless the security is fractional (a budget or band can make the
                    # best split fractional, and a rounded split can break them).
                    x = m.var(f"x[{index},{lot.id}]", 0.0, _num(lot.quantity), _num(LOT_WEIGHT * pool.gain_per_unit(lot)),
                              not p.fractional(pool.security) and lot.quantity == lot.quantity.to_integral_value())
                    self.lot_vars[(index, lot.id)] = x
                    row[x] = 1.0
                    account_for(pool.gain_per_unit(lot), p.basket(index, pool, lot), x, lot.quantity, ((a, pool.security),))
                m.row(row, lb=0.0, ub=0.0)
            return
        # Ordered consumption (FIFO/LIFO mandated): lot i+1 is touched only once lot i is used up. The
        # incremental formulation (z_i = "lot i used up") is locally ideal for this staircase.
        row = {col: -1.0 for col in sells.values()}
        previous: tuple[int, Decimal] | None = None
        for lot in pool.lots:
            x = m.var(f"x[{index},{lot.id}]", 0.0, _num(lot.quantity))
            self.lot_vars[(index, lot.id)] = x
            row[x] = 1.0
            account_for(pool.gain_per_unit(lot), p.basket(index, pool, lot), x, lot.quantity,
                        tuple((a, pool.security) for a in sorted(sells)))
            if previous is not None:
                px, pq = previous
                z = m.var(f"full[{index},{lot.id}]", 0.0, 1.0, 0.0, True)
                self.full_vars[(index, lot.id)] = z
                m.row({px: 1.0, z: -_num(pq)}, lb=0.0)  # z = 1 -> previous lot used up
                m.row({x: 1.0, z: -_num(lot.quantity)}, ub=0.0)  # this lot only once z = 1
            previous = (x, lot.quantity)
        m.row(row, lb=0.0, ub=0.0)

    # -- the household's net bill ----------------------------------------------------------------------

    def _year(self, key: tuple[str, str]) -> None:
        """The year's tax of one lens and taxpayer, exact on every cell of its computation (yearmodel.py), in the
        objective at the plan currency; its tax and creditable part kept for the credits."""
        p = self.p
        year = p.years[key]
        if not year.modelled:
            return
        inputs = self.gains.get(key, {})
        room = self.bounds.get(key, {})
        if not any(inputs.values()):
            self.tax_expr[key] = ({}, year.before)
            self.cred_expr[key] = ({}, year.creditable_before)
            self.ranges[key] = (year.before, year.before, year.creditable_before, year.creditable_before)
            return
        hull = self._hull(f"{key[0]},{key[1]}", key, inputs, room)
        if hull is None:
            return
        tax, cred, ranges = hull
        self.tax_expr[key] = (tax, ZERO)
        self.cred_expr[key] = (cred, ZERO)
        self.ranges[key] = ranges
        rate = year.to_base
        for col, coef in tax.items():
            self.m.cost[col] += _num(rate) * coef
        self.offset -= rate * year.before

    def _hull(self, name: str, key: tuple[str, str], inputs: Mapping[str, Mapping[int, float]],
              room: Mapping[str, list[Decimal]]) -> tuple[dict[int, float], dict[int, float], tuple[Decimal, Decimal, Decimal, Decimal]] | None:
        """Balas' hull of the cells of the year of `key` at its opening nets plus `inputs`: a binary per cell, a copy
        of the baskets' nets per cell (scaled by the binary), each cell's constraints on its copy. Returns the tax
        and creditable expressions and their ranges (least and greatest tax, least and greatest creditable)."""
        m = self.m
        year = self.p.years[key]
        baskets = [b.id for b in year.year.rules.baskets]
        box = {}
        for b in baskets:
            lo, hi = room.get(b, [ZERO, ZERO])
            box[b] = (year.opening.get(b, ZERO) + lo, year.opening.get(b, ZERO) + hi)
        found, missing = cells(year.year.billing, box, year.carried, year.price_at)
        if missing or not found:
            self.p.notes.append(f"{year.jurisdiction} tax of {key[1]} cannot be modelled (missing: {', '.join(missing) or 'no cell'}): "
                                "the plan counts it as 0")
            return None
        self.cells += len(found)
        tax: dict[int, float] = {}
        cred: dict[int, float] = {}
        link: dict[str, dict[int, float]] = {b: {} for b in baskets}
        pick: dict[int, float] = {}
        for k, cell in enumerate(found):
            d = m.var(f"piece[{name},{k}]", 0.0, 1.0, 0.0, True)
            pick[d] = 1.0
            copy: dict[str, int | None] = {}
            for b in baskets:
                lo, hi = box[b]
                if lo == hi:
                    copy[b] = None  # a basket the plan cannot move: its net is the constant, scaled by d
                    continue
                col = m.var(f"N[{name},{k},{b}]", -float("inf"), float("inf"))  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
                m.row({col: 1.0, d: -_num(lo)}, lb=0.0)
                m.row({col: 1.0, d: -_num(hi)}, ub=0.0)
                copy[b] = col
                link[b][col] = 1.0

            def expr(a: Aff, d: int = d, copy: dict[str, int | None] = copy) -> dict[int, float]:
                out: dict[int, float] = {}
                constant = a.const
                for b, v in a.coef.items():
                    col = copy.get(b)
                    if col is None:
                        constant += v * box[b][0]
                    else:
                        _add(out, col, _num(v))
                _add(out, d, _num(constant))
                return out

            for constraint in cell.constraints:
                m.row(expr(constraint), lb=-1e-7)
            for col, v in expr(cell.tax).items():
                _add(tax, col, v)
            for col, v in expr(cell.creditable).items():
                _add(cred, col, v)
        m.row(pick, lb=1.0, ub=1.0)
        for b in baskets:
            if not link[b]:
                continue
            row = dict(link[b])
            for col, coef in inputs.get(b, {}).items():
                _add(row, col, -coef)
            opening = _num(year.opening.get(b, ZERO))
            m.row(row, lb=opening, ub=opening)
        ranges = (extreme(found, box, "tax", 1), extreme(found, box, "tax", -1),
                  extreme(found, box, "creditable", 1), extreme(found, box, "creditable", -1))
        return tax, cred, ranges

    def _credit(self, pair: CreditPair) -> None:
        """The credit `pair.crediting` gives for `pair.credited`'s tax: c = max(0, min(limit, foreign)), with the limit
        its own creditable tax on the sales both tax (its year less its year without them) and the foreign tax the
        other lens's net on the plan, converted at as_of. Minimising pushes c up to min(limit, foreign) where that
        is positive; a binary z (the hull of {c = 0} and {0 <= c <= limit, foreign}) lets it be 0 where it is not."""
        p, m = self.p, self.m
        lk, ok = pair.crediting, pair.credited
        if lk not in self.cred_expr or ok not in self.tax_expr or not (pair.exemption or pair.counts_foreign):
            return
        year = p.years[lk]
        shared: dict[str, dict[int, float]] = {}
        rest: dict[str, dict[int, float]] = {}
        rest_room: dict[str, list[Decimal]] = {}
        for col, gain, basket, units, sales in self.items.get(lk, []):
            if sales and all(s in pair.shared for s in sales):
                _add(shared.setdefault(basket, {}), col, _num(gain))
                continue
            _add(rest.setdefault(basket, {}), col, _num(gain))
            room = rest_room.setdefault(basket, [ZERO, ZERO])
            room[0 if gain < 0 else 1] += gain * units
        if not shared:
            return
        cred, _ = self.cred_expr[lk]
        _, _, c_lo, c_hi = self.ranges[lk]
        if rest:
            hull = self._hull(f"{lk[0]},{lk[1]} without {ok[0]}", lk, rest, rest_room)
            if hull is None:
                return
            _, without, (_, _, w_lo, w_hi) = hull
        else:
            without, w_lo, w_hi = {}, year.creditable_before, year.creditable_before
        limit = dict(cred)
        for col, v in without.items():
            _add(limit, col, -v)
        limit_const = -(year.creditable_before if not rest else ZERO)  # the year without: a constant, or the hull's expression
        a_lo, a_hi = c_lo - w_hi, c_hi - w_lo
        if not rest:
            a_lo, a_hi = c_lo - year.creditable_before, c_hi - year.creditable_before
        most = a_hi
        foreign: dict[int, float] = {}
        foreign_const = ZERO
        b_lo = b_hi = ZERO
        if not pair.exemption:
            other = p.years[ok]
            tax, _ = self.tax_expr[ok]
            t_lo, t_hi, _, _ = self.ranges[ok]
            for col, v in tax.items():
                _add(foreign, col, _num(pair.fx) * v)
            for col in self.credit_cols.get(ok, []):
                _add(foreign, col, -_num(pair.fx))
            foreign_const = -other.before * pair.fx if tax else ZERO
            if not tax:  # the other lens's year does not move: its tax on the plan is 0
                t_lo = t_hi = other.before
            b_lo = (t_lo - other.before - self.credit_bound.get(ok, ZERO)) * pair.fx
            b_hi = (t_hi - other.before) * pair.fx
            most = min(most, b_hi)
        if most <= 0:
            return
        c = m.var(f"credit[{lk[0]},{lk[1]},{ok[0]}]", 0.0, _num(most), -_num(year.to_base))
        self.credit_cols.setdefault(lk, []).append(c)
        self.credit_bound[lk] = self.credit_bound.get(lk, ZERO) + most
        z = None
        if a_lo < 0 or (not pair.exemption and b_lo < 0):
            z = m.var(f"piece[credit,{lk[0]},{lk[1]},{ok[0]}]", 0.0, 1.0, 0.0, True)
            m.row({c: 1.0, z: -_num(most)}, ub=0.0)
        bounds = [(limit, limit_const, a_lo)]
        if not pair.exemption:
            bounds.append((foreign, foreign_const, b_lo))
        for expression, constant, low in bounds:
            row = {c: 1.0}
            for col, v in expression.items():
                _add(row, col, -v)
            if z is not None and low < 0:
                _add(row, z, -_num(low))
                m.row(row, ub=_num(constant - low))
            else:
                m.row(row, ub=_num(constant))

    # -- solving --------------------------------------------------------------------------------------

    def _load(self, highspy: Any, *, integral: bool, lower: Mapping[int, float] | None = None) -> Any:
        """The program in a fresh Highs instance (one thread, fixed seed): as a MIP, or its linear relaxation;
        `lower` replaces the lower side of some rows."""
        import numpy as np

        m = self.m
        h = _quiet(highspy)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        n = len(m.lb)
        inf = highspy.kHighsInf
        lb = np.array([max(v, -inf) for v in m.lb], dtype=np.float64)
        ub = np.array([min(v, inf) for v in m.ub], dtype=np.float64)
        h.addVars(n, lb, ub)
        if n:
            h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(m.cost, dtype=np.float64))
            ints = [i for i, v in enumerate(m.integer) if v]
            if ints and integral:
                h.changeColsIntegrality(len(ints), np.array(ints, dtype=np.int32),
                                        np.array([highspy.HighsVarType.kInteger] * len(ints)))
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        lows: list[float] = []
        upper: list[float] = []
        for r, (lo, hi, terms) in enumerate(m.rows):
            starts.append(len(index))
            for col in sorted(terms):
                index.append(col)
                value.append(terms[col])
            lows.append(max(lower.get(r, lo) if lower else lo, -inf))
            upper.append(min(hi, inf))
        if m.rows:
            h.addRows(len(m.rows), np.array(lows, dtype=np.float64), np.array(upper, dtype=np.float64), len(index),
                      np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32), np.array(value, dtype=np.float64))
        return h

    def _rounded_start(self, highspy: Any, seconds: float, gap: float) -> list[float] | None:
        """A start rounded from the linear relaxation (a relax-and-round heuristic) that is within `gap` of the
        relaxation's optimum (so within `gap` of the best plan: the solver proves it at once), or None.

        1. The relaxation, each target band's lower side raised by what rounding its whole-unit trades can move
           (one unit of each), so that sales rounded up and purchases rounded down still meet it; 2. the loss-rule
           switches fixed (1 where the relaxation buys any replacement, as a whole purchase would) and the FIFO
           steps fixed to the lots the relaxation used up, and the relaxation solved again, so that it sells
           the lots a mandated order really takes; 3. the program with each taxed trade between its value
           rounded down and up (FIFO sales down to none; tax-free accounts free), solved for at most `seconds`.
        Where the relaxation is that close to the program (one lens, the US lots free), the solver then proves
        the plan at the root instead of after rounds of cuts; where it is not (a weak relaxation: two lenses
        and their credits), no start is returned, and the solver starts from the heuristic as before (a
        start far from the bound was seen to lead HiGHS into a longer search)."""
        import math

        import numpy as np

        m = self.m
        deadline = time.perf_counter() + seconds
        h = self._load(highspy, integral=False)
        h.setOptionValue("time_limit", max(seconds, 0.01))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        self.relaxed = (h.getInfo().objective_function_value, list(h.getSolution().col_value))
        limit = h.getInfo().objective_function_value + gap  # no plan costs less than the relaxation
        raised = [(row, min(m.rows[row][0] + margin, m.rows[row][1])) for row, margin in self.band_rows if margin > 0]
        if raised:
            rows = np.array([r for r, _ in raised], dtype=np.int32)
            h.changeRowsBounds(len(raised), rows, np.array([lo for _, lo in raised], dtype=np.float64),
                               np.array([min(m.rows[r][1], highspy.kHighsInf) for r, _ in raised], dtype=np.float64))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
        x = list(h.getSolution().col_value)
        switches = [b for b, _, _ in self.wash_keys.values()]
        steps = list(self.full_vars.values())
        if switches or steps:
            fixed = [1.0 if x[b] > 1e-6 or m.lb[b] > 0.5 else 0.0 for b in switches] + [1.0 if x[z] > 1 - 1e-6 else 0.0 for z in steps]
            h.changeColsBounds(len(fixed), np.array(switches + steps, dtype=np.int32), np.array(fixed, dtype=np.float64),
                               np.array(fixed, dtype=np.float64))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or h.getInfo().objective_function_value > limit:
                return None
            x = list(h.getSolution().col_value)
        ordered = {self.sell[(a, pool.security)] for pool in self.p.pools if pool.taxable and pool.method not in ("specific", "average")
                   for a in pool.accounts if (a, pool.security) in self.sell}
        free = {a for a in self.p.accounts if self.p.tax_free(a)}
        cols: list[int] = []
        lows: list[float] = []
        highs: list[float] = []
        for (a, _s), col in list(self.sell.items()) + list(self.buy.items()):
            if not m.integer[col] or a in free:
                continue
            up = min(m.ub[col], float(math.ceil(x[col] - 1e-6)))
            cols.append(col)
            lows.append(0.0 if col in ordered else max(m.lb[col], float(math.floor(x[col] + 1e-6))))
            highs.append(max(up, lows[-1]))
        sub = self._load(highspy, integral=True)
        if cols:
            sub.changeColsBounds(len(cols), np.array(cols, dtype=np.int32), np.array(lows, dtype=np.float64), np.array(highs, dtype=np.float64))
        sub.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.01))
        sub.setOptionValue("mip_abs_gap", 1.0)
        sub.setOptionValue("mip_rel_gap", 0.0)
        sub.setOptionValue("objective_target", limit - 0.75 * gap)  # the first plan this close to the relaxation will do
        sub.run()
        if sub.getInfo().primal_solution_status != 2 or sub.getInfo().objective_function_value > limit:  # 2: feasible
            return None
        return list(sub.getSolution().col_value)

    def solve(self, *, time_limit: float, gap: Decimal, warm: PlanTrades | None = None, round_start: bool = True) -> Solution:
        """The plan within `gap` (money, plan currency) of the best, or the best found in `time_limit` seconds (all
        included: the start rounded from the relaxation, else a plan of its neighbourhood and the program narrowed
        to the plans no dearer than it, else the heuristic's `warm`, and the solve)."""
        highspy = _highs()
        started = time.perf_counter()
        budget = min(START_SECONDS, time_limit / 3)
        starting = round_start and any(self.m.integer)
        rounded = self._rounded_start(highspy, budget, _num(gap)) if starting else None
        if rounded is None and starting and not self.rebalance:
            # Cash raises only: a raise must land within one unit of the amount, which the rounded start's box around
            # the relaxation rarely holds. On the dual-taxed rebalances (the other case without a rounded start) the
            # narrowed relaxation proved none of five plans, and the search for P cost 5 s each.
            tightened = self._tightened(highspy, started + budget, gap, warm)
            if tightened is not None and tightened[2]:
                # Within the gap already, by the narrowed program's relaxation: up to IMPROVE_NODES nodes of the narrowed
                # program searched for a better plan (to a cent; a time cap of 0.5 s left plans up to 0.7 dearer than
                # the old solver's, varying from run to run, and the root alone one 0.14 dearer), then HiGHS confirms
                # the gap at the root, without its presolve (probing ten thousand lot
                # columns takes 1.6 s at 500 securities and finds nothing to do). Where the narrowed relaxation does
                # not prove it, the solve goes on as before (the whole program from the heuristic's start): from the
                # neighbourhood's plan on the narrowed program, HiGHS searched longer on a dual-taxed rebalance (32 s
                # against 20 s).
                model, found, _ = tightened
                left = started + budget - time.perf_counter()  # the rest of the start's time: a guard, not a limit
                # The search for a cheaper plan goes beyond the gap asked: it runs only while the plan is more than a
                # tenth of the gap above the narrowed relaxation (the measure of _tightened's step 4), so its seconds
                # scale with what was asked (the 500-security raises at the default gap of 10: 0.27-0.68 above; 0.3-1.8 s
                # of the solve saved, each plan 0 to 0.55 dearer than the search's; a smaller --gap searches as before).
                above = model._objective(found) - model.relaxed[0] if model.relaxed else None
                if left > 0 and (above is None or above > _num(gap) / 10):
                    found = model._improve(highspy, found, left)
                solution = model._run(highspy, started, time_limit, gap, found, "neighbourhood", None, presolve=False)
                if solution.objective is not None:
                    return solution
        return self._run(highspy, started, time_limit, gap, rounded, "relaxation", warm)

    def _tightened(self, highspy: Any, deadline: float, gap: Decimal,
                   warm: PlanTrades | None) -> tuple[PlanModel, list[float], bool] | None:
        """A plan from the neighbourhood of the relaxation and of the heuristic, and the program narrowed to the plans
        that cost no more than it: for when the start rounded from the relaxation finds nothing within the gap.

        The relaxation's bound is weak where a lens's year is not convex over the box of the baskets' nets: the
        US $3,000 offset makes a net loss worth the ordinary rate (24%) where a net long gain costs 15%, and the
        hull of the cells then mixes "loss at the cap" with "large gain" (a 500-security cash raise: the relaxation
        20 below the best raise, HiGHS 7-25 s closing it). A plan known to cost U shrinks that box:

        1. The program with every taxed trade the relaxation and the heuristic do not make fixed at 0 (the rest as
           they are), solved within what is left of the start's time: a plan P, of objective U (from its columns).
        2. Each basket's plan net between its least and greatest over the linear relaxation with the objective at
           most U (optimality-based narrowing, as `_narrow` but with that cutoff). Every plan that costs at most U
           lies in the narrowed box: at its columns the relaxation's objective, the least over the cells' mixtures
           at those nets, is at most its exact objective (the hull is exact at whole points), so it meets the
           cutoff. The best plan costs at most U (P is a plan), so the program over the narrowed box (fewer cells,
           and the convex envelope of a smaller box, which is tighter) has the same optimum, and its bound is a
           bound of the whole program. P is checked to lie in the box (a tolerance can only widen it).
        3. P completed in the narrowed program (its decisions fixed, the cells solved).
        4. Where the narrowed relaxation is still more than a tenth of `gap` below P, step 1 again on the narrowed
           program around its relaxation's trades and P's (that relaxation is close: its trades are the plan's).

        Returns the narrowed program (this one if nothing narrows), P's columns in it, and whether its relaxation
        already proves P within `gap`; None where there is no relaxation, no plan in the neighbourhood, or P does
        not fit (never seen: a guard)."""

        m = self.m
        if self.relaxed is None:
            return None
        x = self.relaxed[1]
        keep = {col for col in list(self.sell.values()) + list(self.buy.values()) if x[col] > 1e-6}
        start: dict[int, float] = {}
        if warm is not None:
            start = self._start(warm)
            keep |= {col for key, col in self.sell.items() if warm.sells.get(key, ZERO) > 0}
            keep |= {col for key, col in self.buy.items() if warm.buys.get(key, ZERO) > 0}
        found = self._neighbourhood(highspy, keep, start, min(deadline, time.perf_counter() + NEIGHBOURHOOD_SECONDS), _num(gap) / 10)
        if found is None:
            return None
        value = self._objective(found)  # from the columns (HiGHS may report another after a start)
        if value - self.relaxed[0] <= _num(gap):
            return self, found, True
        rooms = self._rooms(highspy, value, found)
        if rooms is None:
            return self, found, False
        notes = len(self.p.notes)
        model = PlanModel(self.p, rebalance=self.rebalance, forbid_washes=self.forbid_washes, avoid_washes=self.avoid_washes,
                          raise_slack=self.raise_slack, rooms=rooms)
        del self.p.notes[notes:]  # the same notes as this program's build already gave
        if model.decisions != self.decisions or model.m.names[:self.decisions] != m.names[:self.decisions]:
            return None
        fixed = [c for c in range(self.decisions) if m.integer[c]]
        values = [float(round(found[c])) for c in fixed]  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        completed = _settled(model._load(highspy, integral=True), fixed, values)
        if completed is None:
            return None
        relaxation = model._load(highspy, integral=False)
        relaxation.run()
        if relaxation.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        model.relaxed = (relaxation.getInfo().objective_function_value, list(relaxation.getSolution().col_value))
        cost = model._objective(completed)
        if cost - model.relaxed[0] > _num(gap) / 10:
            # 4. The narrowed relaxation is close to the program: the neighbourhood of its trades (and P's) again.
            y = model.relaxed[1]
            keep = {col for col in list(model.sell.values()) + list(model.buy.values()) if y[col] > 1e-6 or completed[col] > 1e-6}
            better = model._neighbourhood(highspy, keep, dict(enumerate(completed)), deadline, _num(gap) / 100)
            if better is not None and model._objective(better) < cost:
                completed, cost = better, model._objective(better)
        return model, completed, cost - model.relaxed[0] <= _num(gap)

    def _improve(self, highspy: Any, found: list[float], seconds: float) -> list[float]:
        """A better plan than `found` (a plan of this program), searched for in IMPROVE_NODES nodes without presolve (and
        at most `seconds`): the best to a cent if found there, else the best seen, else `found`."""
        import numpy as np

        h = self._load(highspy, integral=True)
        h.setOptionValue("presolve", "off")
        h.setOptionValue("mip_abs_gap", _num(IMPROVE_GAP))
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("mip_max_nodes", IMPROVE_NODES)
        h.setOptionValue("time_limit", seconds)
        h.setSolution(len(found), np.arange(len(found), dtype=np.int32), np.array(found, dtype=np.float64))
        h.run()
        if h.getInfo().primal_solution_status != 2:
            return found
        better = list(h.getSolution().col_value)
        if not self._meets(better) or self._objective(better) >= self._objective(found):
            return found
        return better

    def _neighbourhood(self, highspy: Any, keep: set[int], start: Mapping[int, float], deadline: float, within: float) -> list[float] | None:
        """The program with every taxed trade but those in `keep` fixed at 0, from `start`, solved to `within` (money)
        or until `deadline`: a plan (checked against the program), or None."""
        import numpy as np

        free = {a for a in self.p.accounts if self.p.tax_free(a)}
        unused = [col for (a, _s), col in list(self.sell.items()) + list(self.buy.items()) if a not in free and col not in keep]
        sub = self._load(highspy, integral=True)
        if unused:
            zeros = np.zeros(len(unused), dtype=np.float64)
            sub.changeColsBounds(len(unused), np.array(unused, dtype=np.int32), zeros, zeros)
        if start:
            sub.setSolution(len(start), np.array(list(start), dtype=np.int32), np.array(list(start.values()), dtype=np.float64))
        sub.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.01))
        sub.setOptionValue("mip_abs_gap", within)
        sub.setOptionValue("mip_rel_gap", 0.0)
        sub.run()
        if sub.getInfo().primal_solution_status != 2:  # 2: feasible
            return None
        found = list(sub.getSolution().col_value)
        return found if self._meets(found) else None

    def _objective(self, x: Sequence[float]) -> float:
        """The program's objective at columns `x`, from the columns themselves (HiGHS may report another after a start)."""
        return sum(c * v for c, v in zip(self.m.cost, x))

    def _meets(self, x: list[float], tolerance: float = 1e-6) -> bool:
        """`x` meets every bound, row and whole-unit condition of the program (to `tolerance`, scaled by each row's
        size): HiGHS's word on a plan it returns after a start is not taken for it."""
        m = self.m
        for col, value in enumerate(x):
            if not math.isfinite(value):  # HiGHS can hand back NaN for a column after an interrupted run: no plan
                return False
            if value < m.lb[col] - tolerance or value > m.ub[col] + tolerance:
                return False
            if m.integer[col] and abs(value - round(value)) > tolerance:
                return False
        for lo, hi, terms in m.rows:
            activity = sum(coef * x[col] for col, coef in terms.items())
            scale = tolerance * max(1.0, max((abs(coef * x[col]) for col, coef in terms.items()), default=0.0))
            if activity < lo - scale or activity > hi + scale:
                return False
        return True

    def _rooms(self, highspy: Any, cutoff: float, plan: list[float]) -> dict[tuple[str, str], dict[str, tuple[Decimal, Decimal]]] | None:
        """Each basket's plan net between its least and greatest over the linear relaxation with the objective at most
        `cutoff` (see `_tightened`); None when that narrows nothing, or leaves out `plan` (a guard)."""
        import numpy as np

        m = self.m
        goals = [(key, basket, expr) for key in sorted(self.gains) for basket, expr in sorted(self.gains[key].items()) if expr]
        if not goals:
            return None
        n = len(m.lb)
        everything = np.arange(n, dtype=np.int32)
        h = self._load(highspy, integral=False)
        h.setOptionValue("simplex_strategy", 4)  # primal: a new objective keeps the last basis feasible (4 times faster here)
        h.addRow(-highspy.kHighsInf, cutoff + max(0.01, 1e-9 * abs(cutoff)), n, everything, np.array(m.cost, dtype=np.float64))
        rooms: dict[tuple[str, str], dict[str, tuple[Decimal, Decimal]]] = {}
        narrower = False
        for key, basket, expr in goals:
            found = _extremes(highspy, h, n, expr)
            if found is None:
                return None
            # The best plan lies on an edge of this box (the cutoff is what it costs): a unit of money beyond it keeps
            # HiGHS's tolerances away from it (with _narrow's 0.01, HiGHS's presolve declared a feasible narrowed
            # program infeasible, tests/plan/test_tightening.py), and widens the hull by next to nothing.
            slack = ROOM_SLACK + abs(found[1] - found[0]) * Decimal("1e-9")
            lo, hi = found[0] - slack, found[1] + slack
            net = _dec_exact(sum(coef * plan[col] for col, coef in expr.items()))
            if not lo <= net <= hi:
                return None
            room = self.bounds[key][basket]
            narrower = narrower or lo > room[0] + slack or hi < room[1] - slack
            rooms.setdefault(key, {})[basket] = (max(lo, room[0]), min(hi, room[1]))  # never wider than this program's
        return rooms if narrower else None

    def _run(self, highspy: Any, started: float, time_limit: float, gap: Decimal, rounded: list[float] | None, kind: str,
             warm: PlanTrades | None, *, presolve: bool = True) -> Solution:
        """The program solved by HiGHS from `rounded` (every column; `kind` says where it comes from), else from the
        heuristic's `warm`, until the gap is proven or the time limit (counted from `started`) is reached."""
        import numpy as np

        m = self.m
        n = len(m.lb)
        h = self._load(highspy, integral=True)
        if not presolve:
            h.setOptionValue("presolve", "off")
        left = max(time_limit - (time.perf_counter() - started), time_limit / 2)
        h.setOptionValue("time_limit", float(left))  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        h.setOptionValue("mip_abs_gap", _num(gap))
        h.setOptionValue("mip_rel_gap", 0.0)
        warm_used = False
        start_kind = "none"
        if rounded is not None:
            status = h.setSolution(n, np.arange(n, dtype=np.int32), np.array(rounded, dtype=np.float64))
            warm_used = status == highspy.HighsStatus.kOk
            start_kind = kind if warm_used else start_kind
        if warm is not None and not warm_used:
            start = self._start(warm)
            cols, vals = list(start), [start[c] for c in start]
            if cols:
                status = h.setSolution(len(cols), np.array(cols, dtype=np.int32), np.array(vals, dtype=np.float64))
                warm_used = status == highspy.HighsStatus.kOk
                start_kind = "heuristic" if warm_used else start_kind
        h.run()
        seconds = time.perf_counter() - started
        model_status = h.modelStatusToString(h.getModelStatus())
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if not has_solution:
            return Solution(PlanTrades(), model_status, None, None, None, seconds, warm_used, (), n, sum(m.integer), len(m.rows), self.cells,
                            start_kind)
        x = list(h.getSolution().col_value)
        recomputed = self._objective(x)
        if warm_used and abs(recomputed - info.objective_function_value) > 1e-6 * max(1.0, abs(info.objective_function_value)):
            # HiGHS 1.16 may report a better objective than the columns it returns after a warm start
            # (the start comes back unchanged): solve again cold, and trust only a consistent answer.
            cold = self.solve(time_limit=time_limit, gap=gap, warm=None, round_start=False)
            return attrs.evolve(cold, seconds=cold.seconds + seconds)
        # Reported as what the plan adds to the household's net bill (plus leakage and tie-breaks): the solver's
        # value less the bill before the plan.
        objective = _shifted(_dec(info.objective_function_value), self.offset)
        bound = _shifted(_dec(info.mip_dual_bound), self.offset)
        x = self._polish(h, highspy, x)
        gap_value = max(ZERO, objective - bound) if objective is not None and bound is not None else None
        trades = self._trades(x)
        washes = tuple(sorted(i for b, washed, indexes in self.wash_keys.values()
                              if x[b] > 0.5 and sum(x[w] for w in washed) > 1e-6 for i in indexes))
        return Solution(trades, model_status, objective, bound, gap_value, seconds, warm_used, washes, n, sum(m.integer), len(m.rows), self.cells,
                        start_kind)

    def _start(self, warm: PlanTrades) -> dict[int, float]:
        """The warm start's value of every integer decision it fixes: units traded, units per lot (as each lens
        takes them), the FIFO steps, the loss-rule switches and the counted or washed units; HiGHS completes
        the rest (the cells, the credits), a small problem once these are known."""
        p = self.p
        start: dict[int, float] = {}
        for key, col in self.sell.items():
            start[col] = _num(warm.sells.get(key, ZERO))
        for key, col in self.buy.items():
            start[col] = _num(warm.buys.get(key, ZERO))
        replaced: dict[tuple[str, str, str], bool] = {}
        for wash_key, (b, _, indexes) in self.wash_keys.items():
            hit = any(p.wash[i].past for i in indexes) or any(
                warm.buys.get((a, sec), ZERO) > 0 for i in indexes for a, sec, _ in p.wash[i].conflicts)
            replaced[wash_key] = hit
            start[b] = 1.0 if hit else 0.0
        units: dict[int, float] = {}
        for index, pool in enumerate(p.pools):
            if not pool.taxable or pool.method == "average":
                continue
            sold = {a: warm.sells.get((a, pool.security), ZERO) for a in pool.accounts}
            taken: dict[str, Decimal] = {}
            named = {a: warm.lots.get((a, pool.security), ()) for a in pool.accounts}
            for lot, qty in consume(pool, {a: q for a, q in sold.items() if q > 0}, named):
                if lot is not None:
                    taken[lot.id] = taken.get(lot.id, ZERO) + qty
            previous = None
            for lot in pool.lots:
                lot_col = self.lot_vars.get((index, lot.id))
                if lot_col is None:
                    continue
                units[lot_col] = _num(taken.get(lot.id, ZERO))
                z = self.full_vars.get((index, lot.id))
                if z is not None and previous is not None:
                    start[z] = 1.0 if taken.get(previous.id, ZERO) >= previous.quantity else 0.0
                previous = lot
        start.update(units)
        for col, (counted, washed, lkey) in self.split_of.items():
            value = start.get(col, 0.0)
            washes = replaced.get(lkey, False)
            start[counted] = 0.0 if washes else value
            start[washed] = value if washes else 0.0
        return start

    def _polish(self, h: Any, highspy: Any, x: list[float]) -> list[float]:
        """Fix the integer decisions (units traded, FIFO steps, loss-rule choices) and solve the rest (which
        lots, how much of each, which piece of the netting) to optimality: a handful of binaries at most.

        Within the money gap the solver may stop on a split of lots that rounds badly (a fraction of a
        gain lot where the tax did not care); with the integers fixed the tie-breaks decide, exactly.
        """

        # The netting pieces stay free: fixing the piece would also fix how far a net loss may go.
        cols = [i for i, flag in enumerate(self.m.integer) if flag and not self.m.names[i].startswith("piece[")]
        if not cols:
            return x
        quantities = {col: key for key, col in list(self.sell.items()) + list(self.buy.items())}
        values = []
        for col in cols:
            key = quantities.get(col)
            if key is not None:
                values.append(_num(_quantity(x[col], self.p.fractional(key[1]))))
            else:
                values.append(float(round(x[col])))  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        settled = _settled(h, cols, values)
        return x if settled is None else settled

    def _trades(self, x: list[float]) -> PlanTrades:
        p = self.p
        sells: dict[tuple[str, str], Decimal] = {}
        buys: dict[tuple[str, str], Decimal] = {}
        for key, col in sorted(self.sell.items()):
            q = _quantity(x[col], p.fractional(key[1]), p.holdings[key])
            if q > 0:
                sells[key] = q
        for key, col in sorted(self.buy.items()):
            q = _quantity(x[col], p.fractional(key[1]))
            if q > 0:
                buys[key] = q
        lots: dict[tuple[str, str], tuple[tuple[str, Decimal], ...]] = {}
        for index, pool in enumerate(p.pools):
            if pool.method != "specific" or not pool.taxable:
                continue
            for a in pool.accounts:
                sold = sells.get((a, pool.security))
                if not sold or (a, pool.security) in lots:
                    continue
                chosen = [(lot, x[self.lot_vars[(index, lot.id)]]) for lot in pool.lots
                          if lot.account == a and (index, lot.id) in self.lot_vars]
                lots[(a, pool.security)] = _apportion(chosen, sold, p.fractional(pool.security))
        return PlanTrades(sells, buys, lots)


def _dec(value: float | None) -> Decimal | None:
    """A figure the solver reports (objective, bound), to the cent: for display, never re-used as money."""
    if value is None or value != value or abs(value) == float("inf"):  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        return None
    return Decimal(repr(value)).quantize(Decimal("0.01"))


def _settled(h: Any, cols: list[int], values: list[float]) -> list[float] | None:
    """The loaded program `h` with the columns `cols` fixed at `values`, the rest solved to optimality (within
    POLISH_SECONDS): its columns, or None where HiGHS finds no plan."""
    import numpy as np

    if cols:
        fixed = np.array(values, dtype=np.float64)
        h.changeColsBounds(len(cols), np.array(cols, dtype=np.int32), fixed, fixed)
    h.setOptionValue("mip_abs_gap", 1e-6)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("time_limit", POLISH_SECONDS)
    h.run()
    if h.getInfo().primal_solution_status != 2:  # 2: feasible
        return None
    return list(h.getSolution().col_value)


def _extremes(highspy: Any, h: Any, n: int, expr: Mapping[int, float]) -> list[Decimal] | None:
    """The least and the greatest of the linear expression `expr` (column -> coefficient) over the loaded program
    `h` of `n` columns (its objective replaced), or None where HiGHS does not solve one to optimality."""
    import numpy as np

    everything = np.arange(n, dtype=np.int32)
    found = []
    for sense in (1.0, -1.0):
        cost = np.zeros(n, dtype=np.float64)
        for col, coef in expr.items():
            cost[col] = sense * coef
        h.changeColsCost(n, everything, cost)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        found.append(_dec_exact(sense * h.getInfo().objective_function_value))
    return found


def _dec_exact(value: float) -> Decimal:
    return Decimal(repr(value))


def _shifted(value: Decimal | None, offset: Decimal) -> Decimal | None:
    return None if value is None else (value + offset).quantize(Decimal("0.01"))


def _quantity(value: float, fractional: bool, most: Decimal | None = None) -> Decimal:
    q = Decimal(repr(value))
    q = q.quantize(FRACTION) if fractional else q.quantize(Decimal(1))
    q = max(ZERO, q)
    return min(q, most) if most is not None else q


def _apportion(chosen: list[tuple[Any, float]], total: Decimal, fractional: bool) -> tuple[tuple[str, Decimal], ...]:
    """Whole units per lot that add up to `total`, closest to the solver's split (largest remainders)."""
    quantum = FRACTION if fractional else Decimal(1)
    parts = []
    for lot, value in chosen:
        raw = max(ZERO, Decimal(repr(value)))
        floor = min(lot.quantity, (raw / quantum).to_integral_value(rounding=ROUND_FLOOR) * quantum)
        parts.append([lot, floor, raw - floor])
    left = total - sum((p[1] for p in parts), ZERO)
    for part in sorted(parts, key=lambda p: (-p[2], p[0].acquired, p[0].id)):
        if left <= 0:
            break
        room = part[0].quantity - part[1]
        add = min(room, quantum if left >= quantum else left)
        part[1] += add
        left -= add
    for part in sorted(parts, key=lambda p: (p[0].unit_cost * -1, p[0].acquired)):  # any rest: highest cost first
        if left <= 0:
            break
        add = min(part[0].quantity - part[1], left)
        part[1] += add
        left -= add
    by_origin: dict[str, Decimal] = {}
    for lot, q, _ in parts:
        if q > 0:
            by_origin[lot.origin] = by_origin.get(lot.origin, ZERO) + q
    return tuple(sorted(by_origin.items(), key=lambda kv: kv[0]))
