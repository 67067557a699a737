"""Fast plans: the tax-aware heuristic that warm-starts the solver, and the naive plan it is measured against.

The heuristic does what a careful person would: rebalance inside the accounts no lens taxes first, then
sell what is still over target where it costs least tax per unit of value (lot by lot, in the order each
lens allows: losses first, then long-term gains, short-term last), and buy what is under target with the
cash each account then holds, where it leaks the least withholding. The naive plan rebalances each
account to the targets on its own and sells first-in, first-out.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from taxpack.engine.plan.cost import PlanTrades
from taxpack.engine.plan.problem import PlanLot, PlanPool, Problem

ZERO = Decimal(0)
QUANTUM = Decimal("0.000001")


class _State:
    def __init__(self, problem: Problem) -> None:
        self.p = problem
        self.held = dict(problem.holdings)
        self.cash = {a: problem.cash.get(a, ZERO) - problem.raise_.get(a, ZERO) for a in problem.accounts}
        self.sells: dict[tuple[str, str], Decimal] = {}
        self.buys: dict[tuple[str, str], Decimal] = {}
        self.named: dict[tuple[str, str], dict[str, Decimal]] = {}
        self.lot_left: dict[tuple[int, str], Decimal] = {}
        self.pools_of: dict[tuple[str, str], list[tuple[int, PlanPool]]] = {}
        for i, pool in enumerate(problem.pools):
            for a in pool.accounts:
                self.pools_of.setdefault((a, pool.security), []).append((i, pool))
            for lot in pool.lots:
                self.lot_left[(i, lot.id)] = lot.quantity
        self.loss_sold: set[tuple[str, str, str]] = set()  # (lens, seller, security) sold at a loss
        self.washed: set[tuple[str, str]] = set()  # purchases that would wash a loss sold
        self.blocked_loss: set[tuple[str, str, str]] = {(w.lens, w.seller, w.security) for w in problem.wash if w.past}
        self._order: dict[tuple[int, str], list[Any]] = {}  # (pool, account) -> [first lot maybe left, lots in order]

    # -- the next units a sale of (account, security) would take, and the tax per unit ------------

    def _next_lot(self, index: int, pool: PlanPool, account: str) -> PlanLot | None:
        """The lot a sale takes next: the pool's first lot with units left (FIFO), or the account's lot of least tax
        (specific). A lot's tax per unit does not change during the heuristic and lots only lose units, so each
        pool's order is worked out once and a pointer moves past the lots used up."""
        if pool.method == "average":
            return None
        key = (index, account if pool.method == "specific" else "")
        order = self._order.get(key)
        if order is None:
            lots = [l for l in pool.lots if pool.method != "specific" or l.account == account]
            if pool.method == "specific":  # stable: lots of equal key keep the pool's order, as min() would
                lots.sort(key=lambda l: (self._lot_tax(pool, l, self._blocked(pool, l)), l.acquired, l.id))
            order = self._order[key] = [0, lots]
        at, lots = order
        while at < len(lots) and self.lot_left[(index, lots[at].id)] <= 0:
            at += 1
        order[0] = at
        return lots[at] if at < len(lots) else None

    def _blocked(self, pool: PlanPool, lot: PlanLot | None) -> bool:
        return pool.gain_per_unit(lot) < 0 and (pool.lens, pool.taxpayer, pool.security) in self.blocked_loss

    def _lot_tax(self, pool: PlanPool, lot: PlanLot | None, blocked: bool = False) -> Decimal:
        curve = self.p.curves.get((pool.lens, pool.taxpayer))
        if curve is None or not pool.taxable:
            return ZERO
        term = pool.average_term if lot is None else lot.term
        rate = curve.rate if curve.kind == "single" else (curve.rate_short if term == "short" else curve.rate_long)
        gain = pool.gain_per_unit(lot)
        if gain < 0 and blocked:
            return Decimal("1e9")  # a loss the history already washes: sell it last
        return rate * gain * curve.to_base

    def segment(self, account: str, security: str) -> tuple[Decimal, Decimal, list[tuple[int, PlanPool, PlanLot | None]]]:
        """Units that can be sold at one tax rate, the tax per unit (plan currency), and the lots taken."""
        units = self.held.get((account, security), ZERO)
        tax = ZERO
        takes = []
        by_lens: dict[str, Decimal] = {}
        for index, pool in self.pools_of.get((account, security), []):
            if not pool.taxable:
                continue
            lot = self._next_lot(index, pool, account)
            if lot is not None:
                units = min(units, self.lot_left[(index, lot.id)])
            part = self._lot_tax(pool, lot, self._blocked(pool, lot))
            by_lens[pool.lens] = part
            tax += part
            takes.append((index, pool, lot))
        # A lens that credits another's tax on this sale pays only what is above it (the household's net bill).
        owner = self.p.scenario.account(account).owner
        for pair in self.p.pairs:
            if pair.taxpayer == owner and (account, security) in pair.shared and (pair.relief.credit == "exemption" or pair.counts_foreign):
                mine, theirs = by_lens.get(pair.crediting[0], ZERO), by_lens.get(pair.credited[0], ZERO)
                tax -= max(ZERO, mine) if pair.exemption else max(ZERO, min(mine, theirs))
        return units, tax, takes

    # -- doing ---------------------------------------------------------------------------------

    def sell(self, account: str, security: str, units: Decimal) -> Decimal:
        """Sell up to `units` (whole unless fractional), segment by segment; returns the units sold."""
        p = self.p
        frac = p.fractional(security)
        units = units if frac else units.to_integral_value(rounding=ROUND_CEILING)
        units = min(units, self.held.get((account, security), ZERO) if frac else
                    self.held.get((account, security), ZERO).to_integral_value(rounding=ROUND_FLOOR))
        done = ZERO
        while done < units:
            size, _, takes = self.segment(account, security)
            step = min(size, units - done)
            if step <= 0:
                step = units - done
            for index, pool, lot in takes:
                if lot is None:
                    if pool.gain_per_unit() < 0:
                        self.loss_sold.add((pool.lens, pool.taxpayer, pool.security))
                    continue
                left = self.lot_left[(index, lot.id)]
                take = min(step, left)
                self.lot_left[(index, lot.id)] = left - take
                if pool.gain_per_unit(lot) < 0:
                    self.loss_sold.add((pool.lens, pool.taxpayer, pool.security))
                if pool.method == "specific" and take > 0:
                    named = self.named.setdefault((account, security), {})
                    named[lot.origin] = named.get(lot.origin, ZERO) + take
            done += step
        if done > 0:
            self.held[(account, security)] = self.held.get((account, security), ZERO) - done
            self.sells[(account, security)] = self.sells.get((account, security), ZERO) + done
            self.cash[account] += done * p.prices[security]
            for w in p.wash:
                if (w.lens, w.seller, w.security) in self.loss_sold:
                    self.washed.update((a, s) for a, s, _ in w.conflicts)
        return done

    def buy(self, account: str, security: str, value: Decimal) -> Decimal:
        p = self.p
        price = p.prices[security]
        value = min(value, self.cash[account])
        if value <= 0:
            return ZERO
        units = value / price
        units = units.quantize(QUANTUM, rounding=ROUND_FLOOR) if p.fractional(security) else units.to_integral_value(rounding=ROUND_FLOOR)
        if units <= 0:
            return ZERO
        self.held[(account, security)] = self.held.get((account, security), ZERO) + units
        self.buys[(account, security)] = self.buys.get((account, security), ZERO) + units
        self.cash[account] -= units * price
        return units * price

    def cheapest_sale(self, candidates: list[tuple[str, str]]) -> tuple[str, str] | None:
        best = None
        for a, s in candidates:
            if self.held.get((a, s), ZERO) <= 0 or not self.p.may_sell(a, s):
                continue
            if not self.p.fractional(s) and self.held[(a, s)] < 1:
                continue
            _, tax, _ = self.segment(a, s)
            key = (tax / self.p.prices[s], a, s)
            if best is None or key < best[0]:
                best = (key, (a, s))
        return best[1] if best else None

    def sell_value(self, candidates: list[tuple[str, str]], value: Decimal) -> Decimal:
        """Sell about `value` (plan currency) from the candidates, cheapest tax per unit of value first."""
        sold = ZERO
        while sold < value:
            pick = self.cheapest_sale(candidates)
            if pick is None:
                break
            a, s = pick
            size, _, _ = self.segment(a, s)
            need = (value - sold) / self.p.prices[s]
            units = self.sell(a, s, min(size, need) if size > 0 else need)
            if units <= 0:
                break
            sold += units * self.p.prices[s]
        return sold

    def trades(self) -> PlanTrades:
        lots = {k: tuple(sorted((o, q) for o, q in v.items() if q > 0)) for k, v in sorted(self.named.items())}
        return PlanTrades(dict(sorted((k, v) for k, v in self.sells.items() if v > 0)),
                          dict(sorted((k, v) for k, v in self.buys.items() if v > 0)), lots)


def _needs(problem: Problem, held: dict[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    """Per target group (untargeted holdings by id): value to buy (+) or sell (-) to reach its target."""
    assert problem.targets is not None
    total = problem.invested_value()
    values: dict[str, Decimal] = {g.id: ZERO for g in problem.targets.groups}
    for (_a, s), q in held.items():
        group = problem.targets.group_of(s)
        gid = group.id if group else s
        values[gid] = values.get(gid, ZERO) + q * problem.prices[s]
    weights = {g.id: g.weight for g in problem.targets.groups}
    return {gid: weights.get(gid, ZERO) * total - v for gid, v in sorted(values.items())}


def _members(problem: Problem, gid: str) -> list[str]:
    assert problem.targets is not None
    for g in problem.targets.groups:
        if g.id == gid:
            return list(g.members)
    return [gid]


def heuristic(problem: Problem, *, rebalance: bool = True) -> PlanTrades:
    """A good plan, fast: a warm start for the solver and a bound it must beat."""
    st = _State(problem)
    for a in problem.accounts:  # cash to raise: cheapest sales in that account
        if st.cash[a] < 0:
            st.sell_value([(acc, s) for (acc, s) in sorted(problem.holdings) if acc == a], -st.cash[a])
    if not rebalance or problem.targets is None:
        return st.trades()
    band_value = problem.targets.band * problem.invested_value()
    needs = _needs(problem, st.held)
    # Only targets outside the band move, all the way to their target.
    active = {g: v for g, v in needs.items() if abs(v) > band_value or (v < 0 and not any(g2.id == g for g2 in problem.targets.groups))}
    tax_free = [a for a in problem.accounts if problem.tax_free(a)]
    taxed = [a for a in problem.accounts if a not in tax_free]

    def sell_group(gid: str, accounts: list[str], value: Decimal) -> Decimal:
        members = _members(problem, gid)
        return st.sell_value([(a, s) for a in accounts for s in members if (a, s) in problem.holdings], value)

    def buy_group(gid: str, accounts: list[str], value: Decimal) -> Decimal:
        bought = ZERO
        members = _members(problem, gid)
        options = sorted(((problem.leakage.get((a, s), ZERO) / problem.prices[s], a, s) for a in accounts for s in members
                          if problem.may_buy(a, s) and (a, s) not in st.washed), key=lambda t: t)
        for _, a, s in options:
            if bought >= value:
                break
            bought += st.buy(a, s, value - bought)
        return bought

    for a in tax_free:  # 1. inside the untaxed accounts: sell what is over, buy what is under
        for gid, need in sorted(active.items()):
            if need < 0:
                active[gid] += sell_group(gid, [a], -need)
        for gid, need in sorted(active.items()):
            if need > 0:
                active[gid] -= buy_group(gid, [a], need)
    for gid, need in sorted(active.items()):  # 2. what is still over, where the tax is least
        if need < 0:
            active[gid] += sell_group(gid, taxed + tax_free, -need)
    for gid, need in sorted(active.items()):  # 3. what is still under, with the cash the accounts hold
        if need > 0:
            active[gid] -= buy_group(gid, problem.accounts, need)
    return st.trades()


def naive(problem: Problem, *, rebalance: bool = True) -> PlanTrades:
    """Each account on its own: raise its cash pro rata, or bring it to the targets; sales first-in, first-out."""
    sells: dict[tuple[str, str], Decimal] = {}
    buys: dict[tuple[str, str], Decimal] = {}
    for a in problem.accounts:
        held = {s: q for (acc, s), q in problem.holdings.items() if acc == a}
        value = sum((q * problem.prices[s] for s, q in held.items()), ZERO)
        cash = problem.cash.get(a, ZERO) - problem.raise_.get(a, ZERO)
        if not rebalance or problem.targets is None:
            if cash < 0 and value > 0:
                share = min(Decimal(1), -cash / value)
                for s, q in sorted(held.items()):
                    if not problem.may_sell(a, s):
                        continue
                    units = q * share
                    units = units.quantize(QUANTUM, rounding=ROUND_CEILING) if problem.fractional(s) else units.to_integral_value(rounding=ROUND_CEILING)
                    units = min(units, q if problem.fractional(s) else q.to_integral_value(rounding=ROUND_FLOOR))
                    if units > 0:
                        sells[(a, s)] = units
            continue
        total = value + cash
        for g in problem.targets.groups:
            want = g.weight * total
            have = sum((held.get(s, ZERO) * problem.prices[s] for s in g.members), ZERO)
            if have > want:
                left = have - want
                for s in g.members:
                    if left <= 0 or held.get(s, ZERO) <= 0 or not problem.may_sell(a, s):
                        continue
                    units = min(held[s], left / problem.prices[s])
                    units = units.quantize(QUANTUM, rounding=ROUND_CEILING) if problem.fractional(s) else units.to_integral_value(rounding=ROUND_CEILING)
                    units = min(units, held[s] if problem.fractional(s) else held[s].to_integral_value(rounding=ROUND_FLOOR))
                    if units > 0:
                        sells[(a, s)] = units
                        cash += units * problem.prices[s]
                        left -= units * problem.prices[s]
        for s, q in sorted(held.items()):
            if problem.targets.group_of(s) is None and problem.may_sell(a, s):
                units = q if problem.fractional(s) else q.to_integral_value(rounding=ROUND_FLOOR)
                if units > 0:
                    sells[(a, s)] = units
                    cash += units * problem.prices[s]
        for g in problem.targets.groups:
            want = g.weight * total
            have = sum((held.get(s, ZERO) * problem.prices[s] for s in g.members), ZERO)
            if have >= want:
                continue
            options = [s for s in g.members if problem.may_buy(a, s)]
            if not options:
                continue
            s = options[0]
            spend = min(want - have, cash)
            units = spend / problem.prices[s]
            units = units.quantize(QUANTUM, rounding=ROUND_FLOOR) if problem.fractional(s) else units.to_integral_value(rounding=ROUND_FLOOR)
            if units > 0:
                buys[(a, s)] = units
                cash -= units * problem.prices[s]
    return PlanTrades(dict(sorted(sells.items())), dict(sorted(buys.items())), {})
