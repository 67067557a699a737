"""Least-tax plans: raise cash, or bring a household back to its targets, at the least tax over every lens.

`plan_raise` and `plan_rebalance` build the problem (lots, methods, rates, loss rules, leakage), run the
heuristic, solve the mixed-integer program warm-started from it, explain any loss rule the plan trips
(by solving again without it), and run the plan and the naive plan through `taxpack check`, so every
plan carries the engine's own findings and tax estimate beside the planner's figures. The naive plan's
check runs in a second process while the solver works, where the machine has a core for it
(engine/core/beside.py); only its household bill comes back.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any, Mapping

import attrs

from taxpack.engine import __version__
from taxpack.engine.consequences.check import CheckResult, run_check
from taxpack.engine.consequences.serialize import _plain, to_json_dict
from taxpack.engine.core.beside import Beside
from taxpack.engine.core.collector import collector_paused
from taxpack.engine.core.errors import SemanticError
from taxpack.engine.core.household import Scenario, SpecificLot, Transaction
from taxpack.engine.core.money import money_text
from taxpack.engine.core.progress import ProgressCallback, no_progress
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.registry import PackSet
from taxpack.engine.plan.cost import PlanCost, PlanTrades, cash_left, drift, evaluate
from taxpack.engine.plan.heuristic import heuristic, naive
from taxpack.engine.plan.milp import PlanModel, Solution
from taxpack.engine.plan.problem import VALUATION_LOOKBACK_DAYS, Problem, build_problem
from taxpack.engine.plan.targets import Targets

ZERO = Decimal(0)
DEFAULT_TIME_LIMIT = 10.0
DEFAULT_GAP = Decimal(10)
NAIVE_PATIENCE = 30.0  # seconds, at least, before the naive plan's check is redone here (see _planned)
EXPLAIN_AT_MOST = 5  # loss rules tripped by a plan that get a re-solve to say what avoiding them would cost


@attrs.frozen
class WashDecision:
    """A loss rule the plan trips on purpose, and why: what the best plan that avoids it would cost more."""

    jurisdiction: str
    rule: str
    code: str
    seller: str
    security: str
    loss: Decimal  # lens currency
    currency: str
    buys: tuple[tuple[str, str], ...]
    past: tuple[str, ...]
    window_end: dt.date
    avoiding_costs_more: Decimal | None  # plan currency; None: no plan that avoids it was found
    citation: str

    def to_json_dict(self) -> dict[str, Any]:
        why = ("no plan within the band and the cash constraints avoids it" if self.avoiding_costs_more is None
               else f"the best plan that avoids it costs {money_text(self.avoiding_costs_more)} more")
        return {
            "jurisdiction": self.jurisdiction, "rule": self.rule, "code": self.code, "seller": self.seller,
            "security": self.security, "loss": money_text(self.loss), "currency": self.currency,
            "replacement_buys": [f"{s}@{a}" for a, s in self.buys], "history_buys": list(self.past),
            "window_end": self.window_end.isoformat(), "avoiding_costs_more": money_text(self.avoiding_costs_more),
            "citation": self.citation, "why": why,
        }


@attrs.frozen
class CheckedBill:
    """What a plan keeps of `taxpack check` on another plan's trades: the household's bill (the check's
    `summary.household`) and the check's exit code."""

    household: dict[str, Any]
    exit_code: int

    @classmethod
    def of(cls, check: CheckResult) -> CheckedBill:
        return cls(dict(check.household), check.exit_code)


@attrs.frozen
class Alternative:
    """Another plan of the same problem (heuristic or naive), priced the same way."""

    name: str
    trades: PlanTrades
    cost: PlanCost
    check: CheckedBill | None


@attrs.frozen
class PlanResult:
    kind: str  # raise | rebalance
    problem: Problem
    trades: tuple[Transaction, ...]
    plan: PlanTrades
    cost: PlanCost
    solution: Solution
    check: CheckResult
    heuristic: Alternative
    naive: Alternative
    washes: tuple[WashDecision, ...]
    notes: tuple[str, ...]
    time_limit: float
    gap_limit: Decimal

    @property
    def saving(self) -> Decimal:
        return self.naive.cost.total - self.cost.total

    @property
    def exit_code(self) -> int:
        return self.check.exit_code

    @property
    def proven(self) -> bool:
        """The solver proved the plan within the gap asked for: HiGHS stopped on the gap ("Optimal"), or the objective
        less the bound (each to the cent) is at most `gap_limit` (a time limit reached just after)."""
        s = self.solution
        return s.objective is not None and (s.status == "Optimal" or (s.gap is not None and s.gap <= self.gap_limit))

    def proof_note(self) -> str | None:
        """What the output says when the plan is not proven (never shown as if it were); None when it is."""
        if self.proven:
            return None
        s = self.solution
        cur = self.problem.base
        if s.gap is None:
            return (f"not proven: the solver stopped ({s.status}, time limit {self.time_limit:g} s) without a bound on the best "
                    "plan: how much cheaper a plan could be is not known (a longer time limit may prove one)")
        return (f"not proven: the solver stopped ({s.status}, time limit {self.time_limit:g} s) with this plan "
                f"{money_text(s.gap)} {cur} above the least any plan could cost (bound {money_text(s.bound)}), more than the "
                f"gap asked for ({money_text(self.gap_limit)}): a plan up to {money_text(s.gap)} {cur} cheaper may exist "
                "(a longer time limit or a wider gap gives a proven plan)")

    def engine_tax(self, check: CheckResult | CheckedBill | None = None) -> Decimal | None:
        """`taxpack check`'s household net bill of the trades (`summary.household.net_tax`), in the plan currency."""
        return _engine_tax(self.problem, (check or self.check).household)

    def to_json_dict(self, *, timing: bool = False) -> dict[str, Any]:
        p = self.problem
        s = self.solution
        value = p.holdings_value()
        data: dict[str, Any] = {
            "taxpack": __version__,
            "kind": self.kind,
            "scenario": p.scenario.source,
            "as_of": p.as_of.isoformat(),
            "packs": p.packs.stamp(),
            "currency": p.base,
            "household_value": money_text(value),
            "trades": [_trade_dict(t) for t in self.trades],
            "tax": _cost_dict(self.cost, p),
            "engine_tax": money_text(self.engine_tax()),
            "household": _household(self.check.household),
            "solver": {
                "cells": s.cells,
                "status": s.status, "objective": money_text(s.objective), "bound": money_text(s.bound), "gap": money_text(s.gap),
                "gap_limit": money_text(self.gap_limit), "time_limit": self.time_limit, "warm_start": s.warm_start, "start": s.start,
                "variables": s.variables, "integers": s.integers, "constraints": s.constraints,
            },
            "naive": {"trades": _plan_rows(self.naive.trades), "tax": _cost_dict(self.naive.cost, p),
                      "engine_tax": money_text(_engine_tax(p, self.naive.check.household) if self.naive.check else None),
                      "household": _household(self.naive.check.household) if self.naive.check else None},
            "heuristic": {"tax": _cost_dict(self.heuristic.cost, p)},
            "saving": money_text(self.saving),
            "saving_bp": money_text(self.saving / value * 10000 if value else ZERO),
            "washes": [w.to_json_dict() for w in self.washes],
            "cash_left": {a: money_text(v) for a, v in sorted(cash_left(p, self.plan).items())},
            "drift": {g: _plain(v.quantize(Decimal("0.0001"))) for g, v in drift(p, self.plan).items()},
            "band": _plain(p.targets.band) if p.targets and self.kind == "rebalance" else None,
            "check": to_json_dict(self.check),
            "notes": list(self.notes) + [n for n in (self.proof_note(),) if n],
            "exit_code": self.exit_code,
        }
        if timing:
            data["solver"]["seconds"] = round(s.seconds, 3)
        return data



def _cost_dict(cost: PlanCost, problem: Problem) -> dict[str, Any]:
    """The household's net bill of a plan (plan currency) and, per lens and taxpayer, gross, credit and net (lens currency)."""
    lenses = []
    for (lens, tp), net in sorted(cost.tax_by_lens.items()):
        year = problem.years.get((lens, tp))
        lenses.append({"lens": lens, "jurisdiction": year.jurisdiction if year else lens, "taxpayer": tp,
                       "currency": year.currency if year else None, "gross": money_text(cost.gross_by_lens.get((lens, tp))),
                       "credit": money_text(cost.credit_by_lens.get((lens, tp))), "tax": money_text(net)})
    return {
        "total": money_text(cost.tax),
        "gross": money_text(cost.gross),
        "credits": money_text(cost.credits),
        "by_lens": lenses,
        "leakage_change": money_text(cost.leakage_change),
        "loss_rules_tripped": len(cost.washes),
    }


def _household(h: Mapping[str, Any]) -> dict[str, Any]:
    """taxpack check's household bill of the trades: currency, gross, credits, net (summary.household)."""
    return {"currency": h.get("currency"), "gross_tax": h.get("gross_tax"), "credits": h.get("credits"), "net_tax": h.get("net_tax")}


def _plan_rows(trades: PlanTrades) -> list[dict[str, Any]]:
    rows = [{"side": "sell", "account": a, "security": s, "quantity": _plain(q)} for (a, s), q in sorted(trades.sells.items())]
    rows += [{"side": "buy", "account": a, "security": s, "quantity": _plain(q)} for (a, s), q in sorted(trades.buys.items())]
    return rows


def _trade_dict(t: Transaction) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "side": t.side, "account": t.account, "security": t.security,
                           "quantity": _plain(t.quantity), "price": _plain(t.price), "date": t.date.isoformat()}
    if isinstance(t.lots, tuple):
        out["lots"] = [{"transaction": l.transaction, "quantity": _plain(l.quantity)} for l in t.lots]
    elif t.lots:
        out["lots"] = t.lots
    return out


def _engine_tax(problem: Problem, household: Mapping[str, Any]) -> Decimal | None:
    """check's household net bill (its base currency) in the plan currency; None when an estimate is missing."""
    net = household.get("net_tax")
    if net is None:
        return None
    currency = household.get("currency") or problem.base
    rate = Decimal(1) if currency == problem.base else problem.fx.rate(currency, problem.base, problem.as_of, missing="nearest_earlier", max_lookback_days=VALUATION_LOOKBACK_DAYS).rate
    return Decimal(net) * rate


def to_transactions(problem: Problem, trades: PlanTrades, *, prefix: str = "plan", method: str | None = None) -> tuple[Transaction, ...]:
    """The plan as candidate trades on `as_of`: sales first (so purchases never feed a sale), then purchases."""
    out = []
    n = 0
    specific_accounts = {(a, p.security) for p in problem.pools if p.method == "specific" and p.taxable for a in p.accounts}
    for (a, s), q in sorted(trades.sells.items()):
        n += 1
        named = trades.lots.get((a, s))
        lots: Any = None
        if named and (a, s) in specific_accounts:
            lots = tuple(SpecificLot(origin, units) for origin, units in named)
        elif method:
            lots = method
        out.append(Transaction(id=f"{prefix}-{n}", account=a, security=s, date=problem.as_of, side="sell", quantity=q,
                               price=problem.native_prices[s], lots=lots, candidate=True))
    for (a, s), q in sorted(trades.buys.items()):
        n += 1
        out.append(Transaction(id=f"{prefix}-{n}", account=a, security=s, date=problem.as_of, side="buy", quantity=q,
                               price=problem.native_prices[s], candidate=True))
    return tuple(out)


def check_trades(problem: Problem, trades: tuple[Transaction, ...], *, rules_backend: str | None = None) -> CheckResult:
    scenario = attrs.evolve(problem.scenario, trades=trades)
    return run_check(scenario, problem.packs, rules_backend=rules_backend, fx=problem.fx)


def _solve(problem: Problem, *, rebalance: bool, time_limit: float, gap: Decimal, warm: PlanTrades,
           forbid: tuple[int, ...] = ()) -> Solution:
    avoid = bool(problem.targets and problem.targets.wash_sales == "avoid")
    model = PlanModel(problem, rebalance=rebalance, forbid_washes=forbid, avoid_washes=avoid)
    solution = model.solve(time_limit=time_limit, gap=gap, warm=warm)
    if solution.objective is None and not rebalance:
        # No set of whole units lands within one unit of the amount: allow one unit of the dearest holding.
        model = PlanModel(problem, rebalance=rebalance, forbid_washes=forbid, avoid_washes=avoid, raise_slack=True)
        solution = model.solve(time_limit=time_limit, gap=gap, warm=warm)
    return solution


def _plan(problem: Problem, kind: str, *, time_limit: float, gap: Decimal, rules_backend: str | None, check_naive: bool,
          parallel: bool = True, progress: ProgressCallback = no_progress) -> PlanResult:
    rebalance = kind == "rebalance"
    with collector_paused():  # the problem and both checks stay alive to the end: nothing for the collector to free
        progress("heuristic and naive plans", None, None)
        h_trades = heuristic(problem, rebalance=rebalance)
        h_cost = evaluate(problem, h_trades)
        n_trades = naive(problem, rebalance=rebalance)
        n_cost = evaluate(problem, n_trades)

        def naive_check() -> CheckedBill | None:
            if not check_naive:
                return None
            naive_trades = to_transactions(problem, n_trades, prefix="naive", method="fifo")
            return CheckedBill.of(check_trades(problem, naive_trades, rules_backend=rules_backend))

        # The naive plan is known now: its check runs beside the solver (a second process, where the machine allows).
        with Beside(naive_check, fork=parallel and check_naive) as naive_checked:
            return _planned(problem, kind, time_limit=time_limit, gap=gap, rules_backend=rules_backend, progress=progress,
                            heuristic_plan=Alternative("heuristic", h_trades, h_cost, None), naive_plan=(n_trades, n_cost),
                            naive_checked=naive_checked)


def _planned(problem: Problem, kind: str, *, time_limit: float, gap: Decimal, rules_backend: str | None, progress: ProgressCallback,
             heuristic_plan: Alternative, naive_plan: tuple[PlanTrades, PlanCost], naive_checked: Beside[CheckedBill | None]) -> PlanResult:
    rebalance = kind == "rebalance"
    h_trades = heuristic_plan.trades
    progress(f"solving (time limit {time_limit:g} s)", None, None)
    solution = _solve(problem, rebalance=rebalance, time_limit=time_limit, gap=gap, warm=h_trades)
    notes = list(problem.notes)
    if solution.objective is None and "time limit" in solution.status.lower():
        raise SemanticError(f"no plan found within the time limit of {time_limit:g} s ({solution.status})", None,
                            "a longer --time-limit")
    if solution.objective is None:
        raise SemanticError(
            f"no plan meets the constraints ({solution.status}): " + (
                "the drift band, cash per account, do-not-sell list and gain budget cannot all hold" if rebalance
                else "the holdings that may be sold in the account cannot raise that much"), None,
            "a wider band, more cash, fewer holdings on the do-not-sell list, or a smaller amount")
    plan = solution.trades
    cost = evaluate(problem, plan)
    washes = []
    explained = cost.washes[:EXPLAIN_AT_MOST]
    for done, hit in enumerate(explained):
        progress("pricing the loss rules the plan trips", done, len(explained))
        index = problem.wash.index(hit.link)
        other = _solve(problem, rebalance=rebalance, time_limit=time_limit, gap=gap, warm=h_trades, forbid=(index,))
        more = None
        if other.objective is not None:
            more = max(ZERO, evaluate(problem, other.trades).total - cost.total)
        link = hit.link
        washes.append(WashDecision(link.jurisdiction, link.rule, link.code, link.seller, link.security, hit.loss,
                                   problem.curves[(link.lens, link.seller)].currency if (link.lens, link.seller) in problem.curves else "",
                                   hit.buys, hit.past, link.window_end, more, link.citation))
    trades = to_transactions(problem, plan)
    progress("checking the plan", None, None)
    started = time.perf_counter()
    check = check_trades(problem, trades, rules_backend=rules_backend)
    # The naive check is about as big as this one and started long before: a child that has not answered after five
    # times as long (and at least half a minute) is stuck, not slow; the check is then done here.
    patience = max(NAIVE_PATIENCE, 5 * (time.perf_counter() - started))
    n_trades, n_cost = naive_plan
    return PlanResult(kind, problem, trades, plan, cost, solution, check, heuristic_plan,
                      Alternative("naive", n_trades, n_cost, naive_checked.result(timeout=patience)), tuple(washes), tuple(notes),
                      time_limit, gap)


def plan_raise(scenario: Scenario, packs: PackSet, amount: Decimal, account: str, *, targets: Targets | None = None,
               time_limit: float = DEFAULT_TIME_LIMIT, gap: Decimal = DEFAULT_GAP, rules_backend: str | None = None,
               fx: FxTable | None = None, check_naive: bool = True, parallel: bool = True,
               progress: ProgressCallback = no_progress) -> PlanResult:
    """The cheapest sales in `account` that raise `amount` (in the account's currency). `parallel`: the naive
    plan's check may run in a second process while the solver works (engine/core/beside.py says when it does)."""
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    if account not in {a.id for a in scenario.accounts}:
        raise SemanticError(f"account '{account}' is not in the scenario", None, "an account id of the scenario")
    if amount <= 0:
        raise SemanticError(f"the amount to raise is {amount}", None, "a positive amount")
    progress("reading the household", None, None)
    with collector_paused():  # one pause for the build and the plan: the build's lots are not scanned in between
        problem = build_problem(scenario, packs, targets, fx=fx, raise_amount=amount, raise_account=account)
        return _plan(problem, "raise", time_limit=time_limit, gap=gap, rules_backend=rules_backend, check_naive=check_naive,
                     parallel=parallel, progress=progress)


def plan_rebalance(scenario: Scenario, packs: PackSet, targets: Targets, *, time_limit: float = DEFAULT_TIME_LIMIT,
                   gap: Decimal = DEFAULT_GAP, rules_backend: str | None = None, fx: FxTable | None = None,
                   check_naive: bool = True, parallel: bool = True, progress: ProgressCallback = no_progress) -> PlanResult:
    """Trades across all accounts that bring every target within the band at the least total tax (`parallel`: as in
    plan_raise)."""
    progress("reading the household", None, None)
    with collector_paused():  # as in plan_raise
        problem = build_problem(scenario, packs, targets, fx=fx)
        return _plan(problem, "rebalance", time_limit=time_limit, gap=gap, rules_backend=rules_backend, check_naive=check_naive,
                     parallel=parallel, progress=progress)


def band_curve(scenario: Scenario, packs: PackSet, targets: Targets, bands: list[Decimal], *, time_limit: float = DEFAULT_TIME_LIMIT,
               gap: Decimal = DEFAULT_GAP, fx: FxTable | None = None, progress: ProgressCallback = no_progress) -> list[dict[str, Any]]:
    """Planner tax of the least-tax plan and of the naive plan for each drift band (for the plot)."""
    rows = []
    for done, band in enumerate(bands):
        progress("solving each drift band for the plot", done, len(bands))
        problem = build_problem(scenario, packs, targets.with_band(band), fx=fx)
        h_trades = heuristic(problem)
        solution = _solve(problem, rebalance=True, time_limit=time_limit, gap=gap, warm=h_trades)
        naive_cost = evaluate(problem, naive(problem))
        plan_cost = evaluate(problem, solution.trades) if solution.objective is not None else None
        rows.append({"band": band, "tax": plan_cost.tax if plan_cost else None, "total": plan_cost.total if plan_cost else None,
                     "naive": naive_cost.tax})
    return rows
