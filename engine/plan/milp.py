"""The least-tax plan as a mixed-integer program, solved by HiGHS within a time limit and a money gap.

Variables: units sold per (account, security) and bought per (account, security), whole unless the
security is fractional; per lens, units taken from each open lot (free where the lens allows specific
identification, ordered where it mandates FIFO/LIFO, one pool-level average cost otherwise); the tax of
each lens and taxpayer. The US netting of short- and long-term results is written as the convex hull of
its four linear pieces (Balas), so the relaxation stays tight; see docs/planning.md for the derivation.

The solver works in binary floating point: money enters it through `_num` (the one place a Decimal
becomes a float), and only quantities come back, rounded to whole units (or the security's quantum)
and priced again exactly, in Decimal, by `plan_cost` and by `taxpack check`.
"""

from __future__ import annotations

import time
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Mapping

import attrs

from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.plan.cost import PlanTrades
from taxpack.engine.plan.problem import PlanPool, Problem, TaxCurve
from taxpack.engine.plan.targets import Targets

ZERO = Decimal(0)
FRACTION = Decimal("0.000001")  # units of a fractional security are rounded to this quantum
TURNOVER_WEIGHT = Decimal("0.00001")  # a tie-breaker per unit of value traded (0.1 bp): among equal-tax plans, trade less
WASH_LOSS_WEIGHT = Decimal("0.001")  # a tie-breaker per unit of loss a loss rule takes: never wash a loss for nothing
POLISH_SECONDS = 5.0  # at most this long to settle the lots once the trades are fixed
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


def _add(expr: dict[int, float], col: int, coef: float) -> None:
    expr[col] = expr.get(col, 0.0) + coef


class PlanModel:
    """Builds the MIP for a problem; `solve()` returns the plan."""

    def __init__(self, problem: Problem, *, rebalance: bool, forbid_washes: tuple[int, ...] = (), avoid_washes: bool = False,
                 raise_slack: bool = False, netting: str = "hull") -> None:
        self.p = problem
        self.raise_slack = raise_slack
        self.netting = netting  # "hull" (default) or "bigm": the textbook alternative, kept to measure against
        self.m = _Mip()
        self.sell: dict[tuple[str, str], int] = {}
        self.buy: dict[tuple[str, str], int] = {}
        self.lot_vars: dict[tuple[int, str], int] = {}  # (pool index, lot id) -> column
        self.rebalance = rebalance
        self._build(forbid_washes, avoid_washes)

    # -- building -------------------------------------------------------------------------------------

    def _build(self, forbid: tuple[int, ...], avoid: bool) -> None:
        """The program, step by step: what may be traded, the gains it makes, the loss rules it may trip,
        the tax on those gains, then the constraints (targets, cash per account, gain budgets)."""
        targets = self.p.targets if self.rebalance else None
        self._sell_variables()
        if targets is not None:
            self._buy_variables(targets)
        self._gain_expressions()
        self._loss_rule_switches(forbid, avoid)
        for key, curve in sorted(self.p.curves.items()):
            self._tax(key, curve)
        if targets is not None:
            self._target_bands(targets)
        self._cash_per_account()
        if self.p.targets is not None:  # the gain budget holds for raising cash too
            self._gain_budgets(self.p.targets)

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
        self.gains: dict[tuple[str, str], dict[str, dict[int, float]]] = {}
        self.bounds: dict[tuple[str, str], dict[str, list[Decimal]]] = {}
        self.washable = {(w.lens, w.seller, w.security) for w in p.wash}
        self.loss_split: dict[tuple[str, str, str], list[tuple[int, int, Decimal]]] = {}  # (counted, washed, units)
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
            m.row(expr, lb=_num(lo), ub=_num(hi))

    def _cash_per_account(self) -> None:
        """Each account ends with its cash need met (raising) and never spends cash it does not have."""
        p, m = self.p, self.m
        for a in p.accounts:
            expr = {}
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
            expr = {}
            for (lens, tp), terms in self.gains.items():
                if p.curves.get((lens, tp)) and p.curves[(lens, tp)].jurisdiction == jurisdiction:
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
        bounds = self.bounds.setdefault(key, {t: [ZERO, ZERO] for t in ("short", "long", "none")})
        lkey = (pool.lens, pool.taxpayer, pool.security)

        def account_for(column_gain: Decimal, term: str, col: int, units: Decimal) -> None:
            if column_gain < 0 and lkey in self.washable:
                counted = m.var(f"counted[{m.names[col]}]", 0.0, _num(units))
                washed = m.var(f"washed[{m.names[col]}]", 0.0, _num(units), _num(-column_gain * WASH_LOSS_WEIGHT))
                m.row({col: 1.0, counted: -1.0, washed: -1.0}, lb=0.0, ub=0.0)
                self.loss_split.setdefault(lkey, []).append((counted, washed, units))
                col = counted
            _add(gains.setdefault(term, {}), col, _num(column_gain))
            if column_gain < 0:
                bounds[term][0] += column_gain * units
            else:
                bounds[term][1] += column_gain * units

        if pool.method == "average":
            g = pool.gain_per_unit()
            for a, col in sells.items():
                held = p.holdings.get((a, pool.security), ZERO)
                account_for(g, pool.average_term, col, held)
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
                    account_for(pool.gain_per_unit(lot), lot.term, x, lot.quantity)
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
            account_for(pool.gain_per_unit(lot), lot.term, x, lot.quantity)
            if previous is not None:
                px, pq = previous
                z = m.var(f"full[{index},{lot.id}]", 0.0, 1.0, 0.0, True)
                m.row({px: 1.0, z: -_num(pq)}, lb=0.0)  # z = 1 -> previous lot used up
                m.row({x: 1.0, z: -_num(lot.quantity)}, ub=0.0)  # this lot only once z = 1
            previous = (x, lot.quantity)
        m.row(row, lb=0.0, ub=0.0)

    def _tax(self, key: tuple[str, str], curve: TaxCurve) -> None:
        m = self.m
        terms = self.gains.get(key, {})
        if curve.kind == "none" or not terms:
            return
        base = _num(curve.to_base)
        if curve.kind == "single":
            t = m.var(f"tax[{key[0]},{key[1]}]", 0.0, float("inf"), base)  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
            row = {t: 1.0}
            for expr in terms.values():
                for col, coef in expr.items():
                    _add(row, col, -_num(curve.rate) * coef)
            ytd = curve.ytd_short + curve.ytd_long + curve.ytd_other
            m.row(row, lb=_num(curve.rate * (ytd - curve.allowance)))
            return
        # Split (US §1222 netting): S = ytd short + short gains; L = ytd long + long and untermed gains.
        # tax(S, L) is linear on four cones: S,L >= 0 | S <= 0 <= L, S+L >= 0 | L <= 0 <= S, S+L >= 0 | S+L <= 0.
        # Each piece k gets its own copy (S_k, L_k) scaled by a binary d_k (Balas' convex hull of the union).
        b = self.bounds[key]
        s_lo = curve.ytd_short + b["short"][0]
        s_hi = curve.ytd_short + b["short"][1]
        l_lo = curve.ytd_long + curve.ytd_other + b["long"][0] + b["none"][0]
        l_hi = curve.ytd_long + curve.ytd_other + b["long"][1] + b["none"][1]
        s_lo, l_lo = min(s_lo, ZERO), min(l_lo, ZERO)
        s_hi, l_hi = max(s_hi, ZERO), max(l_hi, ZERO)
        rs, rl = _num(curve.rate_short * curve.to_base), _num(curve.rate_long * curve.to_base)
        if self.netting == "bigm":
            self._tax_bigm(key, curve, terms, s_lo, s_hi, l_lo, l_hi, rs, rl)
            return
        pieces = [
            # (S range, L range, extra: sign of S+L (1: >= 0, -1: <= 0, 0: none), cost of S, cost of L)
            ((0, 1), (0, 1), 0, rs, rl),
            ((1, 0), (0, 1), 1, rl, rl),
            ((0, 1), (1, 0), 1, rs, rs),
            ((1, 1), (1, 1), -1, 0.0, 0.0),
        ]
        s_row = {}
        l_row = {}
        d_row = {}
        name = f"{key[0]},{key[1]}"
        for k, ((s_neg, s_pos), (l_neg, l_pos), sign, cs, cl) in enumerate(pieces):
            d = m.var(f"piece[{name},{k}]", 0.0, 1.0, 0.0, True)
            sk = m.var(f"S[{name},{k}]", -float("inf"), float("inf"), cs)  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
            lk = m.var(f"L[{name},{k}]", -float("inf"), float("inf"), cl)  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
            d_row[d] = 1.0
            s_row[sk] = 1.0
            l_row[lk] = 1.0
            m.row({sk: 1.0, d: -(_num(s_hi) if s_pos else 0.0)}, ub=0.0)
            m.row({sk: 1.0, d: -(_num(s_lo) if s_neg else 0.0)}, lb=0.0)
            m.row({lk: 1.0, d: -(_num(l_hi) if l_pos else 0.0)}, ub=0.0)
            m.row({lk: 1.0, d: -(_num(l_lo) if l_neg else 0.0)}, lb=0.0)
            if sign > 0:
                m.row({sk: 1.0, lk: 1.0}, lb=0.0)
            elif sign < 0:
                m.row({sk: 1.0, lk: 1.0}, ub=0.0)
        m.row(d_row, lb=1.0, ub=1.0)
        s_total = dict(s_row)
        for col, coef in terms.get("short", {}).items():
            _add(s_total, col, -coef)
        m.row(s_total, lb=_num(curve.ytd_short), ub=_num(curve.ytd_short))
        l_total = dict(l_row)
        for term in ("long", "none"):
            for col, coef in terms.get(term, {}).items():
                _add(l_total, col, -coef)
        ytd_l = curve.ytd_long + curve.ytd_other
        m.row(l_total, lb=_num(ytd_l), ub=_num(ytd_l))

    def _tax_bigm(self, key: tuple[str, str], curve: TaxCurve, terms: dict[str, dict[int, float]], s_lo: Decimal, s_hi: Decimal,
                  l_lo: Decimal, l_hi: Decimal, rs: float, rl: float) -> None:
        """The same four pieces with big-M constraints (M from the same bounds): for comparison only."""
        m = self.m
        name = f"{key[0]},{key[1]}"
        S = m.var(f"S[{name}]", _num(s_lo), _num(s_hi))
        L = m.var(f"L[{name}]", _num(l_lo), _num(l_hi))
        t = m.var(f"tax[{name}]", 0.0, float("inf"), 1.0)  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        for var, term_names, ytd in ((S, ("short",), curve.ytd_short), (L, ("long", "none"), curve.ytd_long + curve.ytd_other)):
            row = {var: 1.0}
            for term in term_names:
                for col, coef in terms.get(term, {}).items():
                    _add(row, col, -coef)
            m.row(row, lb=_num(ytd), ub=_num(ytd))
        ms = _num(max(-s_lo, s_hi))
        ml = _num(max(-l_lo, l_hi))
        msl = ms + ml
        mt = max(rs, rl) * msl * 2
        d = [m.var(f"piece[{name},{k}]", 0.0, 1.0, 0.0, True) for k in range(4)]
        m.row({c: 1.0 for c in d}, lb=1.0, ub=1.0)
        m.row({S: 1.0, d[0]: -ms}, lb=-ms)           # piece 1: S >= 0
        m.row({L: 1.0, d[0]: -ml}, lb=-ml)           #          L >= 0
        m.row({S: 1.0, d[1]: ms}, ub=ms)             # piece 2: S <= 0
        m.row({L: 1.0, d[1]: -ml}, lb=-ml)           #          L >= 0
        m.row({S: 1.0, L: 1.0, d[1]: -msl}, lb=-msl)  #          S + L >= 0
        m.row({S: 1.0, d[2]: -ms}, lb=-ms)           # piece 3: S >= 0
        m.row({L: 1.0, d[2]: ml}, ub=ml)             #          L <= 0
        m.row({S: 1.0, L: 1.0, d[2]: -msl}, lb=-msl)  #          S + L >= 0
        m.row({S: 1.0, L: 1.0, d[3]: msl}, ub=msl)   # piece 4: S + L <= 0
        m.row({t: 1.0, S: -rs, L: -rl, d[0]: -mt}, lb=-mt)
        m.row({t: 1.0, S: -rl, L: -rl, d[1]: -mt}, lb=-mt)
        m.row({t: 1.0, S: -rs, L: -rs, d[2]: -mt}, lb=-mt)

    # -- solving --------------------------------------------------------------------------------------

    def solve(self, *, time_limit: float, gap: Decimal, warm: PlanTrades | None = None) -> Solution:
        highspy = _highs()
        import numpy as np

        m = self.m
        h = _quiet(highspy)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("time_limit", float(time_limit))  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        h.setOptionValue("mip_abs_gap", _num(gap))
        h.setOptionValue("mip_rel_gap", 0.0)
        n = len(m.lb)
        inf = highspy.kHighsInf
        lb = np.array([max(v, -inf) for v in m.lb], dtype=np.float64)
        ub = np.array([min(v, inf) for v in m.ub], dtype=np.float64)
        h.addVars(n, lb, ub)
        if n:
            h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(m.cost, dtype=np.float64))
            ints = [i for i, v in enumerate(m.integer) if v]
            if ints:
                h.changeColsIntegrality(len(ints), np.array(ints, dtype=np.int32),
                                        np.array([highspy.HighsVarType.kInteger] * len(ints)))
        starts, index, value, lower, upper = [], [], [], [], []
        for lo, hi, terms in m.rows:
            starts.append(len(index))
            for col in sorted(terms):
                index.append(col)
                value.append(terms[col])
            lower.append(max(lo, -inf))
            upper.append(min(hi, inf))
        if m.rows:
            h.addRows(len(m.rows), np.array(lower, dtype=np.float64), np.array(upper, dtype=np.float64), len(index),
                      np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32), np.array(value, dtype=np.float64))
        warm_used = False
        if warm is not None:
            cols, vals = [], []
            for key, col in self.sell.items():
                cols.append(col)
                vals.append(_num(warm.sells.get(key, ZERO)))
            for key, col in self.buy.items():
                cols.append(col)
                vals.append(_num(warm.buys.get(key, ZERO)))
            if cols:
                status = h.setSolution(len(cols), np.array(cols, dtype=np.int32), np.array(vals, dtype=np.float64))
                warm_used = status == highspy.HighsStatus.kOk
        started = time.perf_counter()
        h.run()
        seconds = time.perf_counter() - started
        model_status = h.modelStatusToString(h.getModelStatus())
        info = h.getInfo()
        has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if not has_solution:
            return Solution(PlanTrades(), model_status, None, None, None, seconds, warm_used, (), n, sum(m.integer), len(m.rows))
        x = list(h.getSolution().col_value)
        recomputed = sum(c * v for c, v in zip(m.cost, x))
        if warm_used and abs(recomputed - info.objective_function_value) > 1e-6 * max(1.0, abs(info.objective_function_value)):
            # HiGHS 1.16 may report a better objective than the columns it returns after a warm start
            # (the start comes back unchanged): solve again cold, and trust only a consistent answer.
            cold = self.solve(time_limit=time_limit, gap=gap, warm=None)
            return attrs.evolve(cold, seconds=cold.seconds + seconds)
        objective = _dec(info.objective_function_value)
        bound = _dec(info.mip_dual_bound)
        x = self._polish(h, highspy, x)
        gap_value = max(ZERO, objective - bound) if bound is not None else None
        trades = self._trades(x)
        washes = tuple(sorted(i for b, washed, indexes in self.wash_keys.values()
                              if x[b] > 0.5 and sum(x[w] for w in washed) > 1e-6 for i in indexes))
        return Solution(trades, model_status, objective, bound, gap_value, seconds, warm_used, washes, n, sum(m.integer), len(m.rows))

    def _polish(self, h: Any, highspy: Any, x: list[float]) -> list[float]:
        """Fix the integer decisions (units traded, FIFO steps, loss-rule choices) and solve the rest (which
        lots, how much of each, which piece of the netting) to optimality: a handful of binaries at most.

        Within the money gap the solver may stop on a split of lots that rounds badly (a fraction of a
        gain lot where the tax did not care); with the integers fixed the tie-breaks decide, exactly.
        """
        import numpy as np

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
        h.changeColsBounds(len(cols), np.array(cols, dtype=np.int32), np.array(values, dtype=np.float64), np.array(values, dtype=np.float64))
        h.setOptionValue("mip_abs_gap", 1e-6)
        h.setOptionValue("mip_rel_gap", 0.0)
        h.setOptionValue("time_limit", POLISH_SECONDS)
        h.run()
        if h.getInfo().primal_solution_status != 2:
            return x
        return list(h.getSolution().col_value)

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
                q = sells.get((a, pool.security))
                if not q or (a, pool.security) in lots:
                    continue
                chosen = [(lot, x[self.lot_vars[(index, lot.id)]]) for lot in pool.lots
                          if lot.account == a and (index, lot.id) in self.lot_vars]
                lots[(a, pool.security)] = _apportion(chosen, q, p.fractional(pool.security))
        return PlanTrades(sells, buys, lots)


def _dec(value: float | None) -> Decimal | None:
    """A figure the solver reports (objective, bound), to the cent: for display, never re-used as money."""
    if value is None or value != value or abs(value) == float("inf"):  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal
        return None
    return Decimal(repr(value)).quantize(Decimal("0.01"))


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
