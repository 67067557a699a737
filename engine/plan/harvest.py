"""Loss harvesting: which holdings could be sold at a loss today, what each would save, and what not to buy back.

A realised loss offsets this year's realised gains (what it saves now is the tax those gains would
otherwise cost), other income where the pack allows (the US $3,000), and later years' gains. What a
candidate saves this year is priced by the household's net bill, as plans are (engine/plan/netbill.py):
every lens's year with and without the sale, and the credits between lenses, so a loss that only
washes out a credit another country's tax would have received saves nothing. For each lens and pool with a loss, the
candidate is the sale that realises the most loss the lens's lot method allows, with replacement
securities outside its identity group (so no loss rule treats them as the same) and, from the pack's
loss rules, the last day on which buying back would trigger each rule.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from taxpack.engine import __version__
from taxpack.engine.consequences.serialize import _plain
from taxpack.engine.core.household import Scenario, SpecificLot, Transaction
from taxpack.engine.core.money import money_text
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.registry import PackSet
from taxpack.engine.losses.identity import equivalents
from taxpack.engine.losses.lookahead import repurchase_horizon
from taxpack.engine.lots.replay import replay
from taxpack.engine.plan.cost import PlanTrades, evaluate
from taxpack.engine.plan.problem import PlanPool, Problem, build_problem
from taxpack.engine.plan.targets import Targets

ZERO = Decimal(0)
REPLACEMENTS = 3


@attrs.frozen
class HarvestCandidate:
    jurisdiction: str
    lens: str
    taxpayer: str
    account: str
    security: str
    quantity: Decimal
    lots: tuple[tuple[str, Decimal], ...]
    method: str
    loss: Decimal  # lens currency, positive
    by_term: tuple[tuple[str, Decimal], ...]
    saving: Decimal  # lens currency: what the sale takes off this lens's net tax of the year (after credits)
    rate_value: Decimal  # lens currency: the loss at the lens's marginal rate (its worth against future gains)
    currency: str
    replacements: tuple[str, ...]
    replacement_basis: str
    horizon: tuple[dict[str, Any], ...]
    already_washed: Decimal  # lens currency: part of the loss a purchase already in the window would wash
    household_saving: Decimal = ZERO  # plan currency: what the sale takes off the household's net bill of the year
    base_currency: str = ""

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.jurisdiction, "taxpayer": self.taxpayer, "account": self.account, "security": self.security,
            "quantity": _plain(self.quantity), "method": self.method,
            "lots": [{"transaction": o, "quantity": _plain(q)} for o, q in self.lots],
            "loss": money_text(self.loss), "by_term": {t: money_text(v) for t, v in self.by_term}, "currency": self.currency,
            "saving_this_year": money_text(self.saving), "value_at_marginal_rate": money_text(self.rate_value),
            "already_washed": money_text(self.already_washed),
            "household_saving": money_text(self.household_saving), "household_currency": self.base_currency,
            "replacements": list(self.replacements), "replacement_basis": self.replacement_basis,
            "do_not_buy_back": [
                {"rule": h["rule"], "code": h["code"], "until": h["until"].isoformat(), "free_from": h["free_from"].isoformat(),
                 "accounts": list(h["accounts"]), "securities": list(h["securities"]), "outcome": h["outcome"],
                 "citation": h["citation"], "message": h["message"]}
                for h in self.horizon
            ],
        }


@attrs.frozen
class HarvestResult:
    problem: Problem
    candidates: tuple[HarvestCandidate, ...]

    def to_json_dict(self) -> dict[str, Any]:
        p = self.problem
        return {
            "taxpack": __version__, "kind": "harvest", "scenario": p.scenario.source, "as_of": p.as_of.isoformat(),
            "packs": p.packs.stamp(), "candidates": [c.to_json_dict() for c in self.candidates], "notes": list(p.notes),
        }



def _best_sale(pool: PlanPool, account: str, held: Decimal) -> tuple[Decimal, list[tuple[Any, Decimal]]]:
    """The units to sell for the largest loss the method allows, and the lots they come from."""
    if pool.method == "average":
        return (held, [(None, held)]) if pool.gain_per_unit() < 0 else (ZERO, [])
    if pool.method == "specific":
        lots = [(l, l.quantity) for l in pool.lots if l.account == account and pool.gain_per_unit(l) < 0]
        return sum((q for _, q in lots), ZERO), lots
    best_q, best_gain, running, taken, best_taken = ZERO, ZERO, ZERO, [], []
    q = ZERO
    for lot in pool.lots:  # ordered consumption: the prefix with the most negative cumulative gain
        if q + lot.quantity > held:
            break
        q += lot.quantity
        running += lot.quantity * pool.gain_per_unit(lot)
        taken.append((lot, lot.quantity))
        if running < best_gain:
            best_q, best_gain, best_taken = q, running, list(taken)
    return best_q, best_taken


def _replacements(problem: Problem, security: str, rules_identity: str, account: str) -> tuple[tuple[str, ...], str]:
    """Securities to hold instead, outside the identity group: the other members of its target group when
    the targets say which securities are interchangeable, else securities of the same kind, currency and country."""
    scenario = problem.scenario
    same = set(equivalents(scenario, security, rules_identity))
    sold = scenario.security(security)
    group = problem.targets.group_of(security) if problem.targets else None

    def usable(sid: str) -> bool:
        other = scenario.security(sid)
        return (sid not in same and sid in problem.prices and problem.targets is not None and problem.targets.may_buy(sid, account)
                and (other.identity_group is None or other.identity_group != sold.identity_group)) if problem.targets else (
                sid not in same and sid in problem.prices and (other.identity_group is None or other.identity_group != sold.identity_group))

    if group is not None:
        return tuple(sorted(m for m in group.members if usable(m))[:REPLACEMENTS]), "target group"
    options = sorted(s.id for s in scenario.securities if usable(s.id) and s.kind == sold.kind and s.currency == sold.currency
                     and s.country == sold.country)
    return tuple(options[:REPLACEMENTS]), "same kind, currency and country"


def harvest(scenario: Scenario, packs: PackSet, *, targets: Targets | None = None, fx: FxTable | None = None) -> HarvestResult:
    problem = build_problem(scenario, packs, targets, fx=fx)
    candidates = []
    for pool in problem.pools:
        if not pool.taxable:
            continue
        curve = problem.curves.get((pool.lens, pool.taxpayer))
        book = problem.books[pool.lens]
        pack = book.pack
        for account in pool.accounts:
            held = problem.holdings.get((account, pool.security), ZERO)
            if held <= 0 or not problem.may_sell(account, pool.security):
                continue
            quantity, taken = _best_sale(pool, account, held)
            if quantity <= 0:
                continue
            by_term: dict[str, Decimal] = {}
            for lot, q in taken:
                term = pool.average_term if lot is None else lot.term
                by_term[term] = by_term.get(term, ZERO) + q * pool.gain_per_unit(lot)
            loss = -sum(by_term.values(), ZERO)
            if loss <= 0:
                continue
            rate_value = ZERO
            if curve is not None:
                rate = curve.rate if curve.kind == "single" else (curve.rate_short if "short" in by_term else curve.rate_long)
                rate_value = loss * rate
            lots: tuple[tuple[str, Decimal], ...] = ()
            if pool.method == "specific":
                merged: dict[str, Decimal] = {}
                for lot, q in taken:
                    merged[lot.origin] = merged.get(lot.origin, ZERO) + q
                lots = tuple(sorted(merged.items()))
            priced = evaluate(problem, PlanTrades(sells={(account, pool.security): quantity}, lots={(account, pool.security): lots} if lots else {}))
            saving = -priced.tax_by_lens.get((pool.lens, pool.taxpayer), ZERO)
            trade = Transaction(id="harvest", account=account, security=pool.security, date=problem.as_of, side="sell",
                                quantity=quantity, price=problem.native_prices[pool.security],
                                lots=tuple(SpecificLot(o, q) for o, q in lots) if lots else None, candidate=True)
            with_trade = attrs.evolve(problem.scenario, trades=(trade,))
            sale = replay(pack, with_trade, problem.fx).sales["harvest"]
            horizon = tuple(repurchase_horizon(pack, with_trade, sale))
            identity = "substantially_identical"
            if horizon:
                identity = "identical" if all(len(h["securities"]) == 1 for h in horizon) else identity
            replacements, basis = _replacements(problem, pool.security, identity, account)
            candidates.append(HarvestCandidate(
                jurisdiction=pool.jurisdiction, lens=pool.lens, taxpayer=pool.taxpayer, account=account, security=pool.security,
                quantity=quantity, lots=lots, method=pool.method, loss=loss, by_term=tuple(sorted(by_term.items())),
                saving=saving, rate_value=rate_value, currency=pack.currency or "",
                replacements=replacements, replacement_basis=basis, horizon=horizon, already_washed=sale.disallowed,
                household_saving=-priced.tax, base_currency=problem.base,
            ))
    candidates.sort(key=lambda c: (c.jurisdiction, -c.household_saving, -c.saving, -c.loss, c.account, c.security))
    return HarvestResult(problem, tuple(candidates))

