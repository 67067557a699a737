"""The program narrowed to the plans no dearer than a known one (PlanModel._tightened) keeps the optimum.

Invariants that can fail, on random households (the strategy of test_properties: US with an IRA, DE with two
depots, a US citizen resident in Canada), rebalancing and raising cash: the neighbourhood's plan meets every
condition of the narrowed program; the narrowed program's best plan costs what the whole program's best plan
costs (each solved to a tenth of a cent); the whole program's best plan lies inside the narrowed box of every
basket's net; and the narrowed relaxation bounds the program no lower than the whole one's.
"""

from __future__ import annotations

import time
from decimal import Decimal

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from taxpack.engine.plan.heuristic import heuristic
from taxpack.engine.plan.milp import PlanModel
from taxpack.engine.plan.problem import build_problem

from .helpers import PACKS, scenario, targets
from .test_properties import households

EXACT = Decimal("0.001")


def _nets(model: PlanModel, x: list[float]) -> dict[tuple[tuple[str, str], str], float]:
    return {(key, basket): sum(coef * x[col] for col, coef in expr.items())
            for key, baskets in model.gains.items() for basket, expr in baskets.items() if expr}


def _best(model: PlanModel) -> tuple[Decimal | None, list[float] | None]:
    """The program's optimum (to EXACT) and its columns, by HiGHS alone (no start, no narrowing). Without presolve, as the
    planner runs the narrowed program: on some of these tiny households HiGHS's presolve calls a feasible program (the
    whole one included) infeasible."""
    import highspy
    import numpy as np

    h = model._load(highspy, integral=True)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("mip_abs_gap", float(EXACT))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("time_limit", 60.0)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None, None
    x = list(h.getSolution().col_value)
    return Decimal(repr(float(np.dot(model.m.cost, x)))), x


# A household the random search found (2026-12-06): HiGHS handed back a neighbourhood plan with a NaN column, which
# stopped the plan with a ValueError in `_meets` (it is now no plan, and the search goes on).
NAN_PLAN = (
    {"id": "p", "residence": "CA", "citizenship": ["US"], "filing_status": "single",
     "other_income": {"US": 30000, "CA": 90000}, "marginal_rate": {"US": "0.32", "CA": "0.2"}},
    [{"id": "c1", "owner": "p", "country": "CA", "currency": "CAD"},
     {"id": "c2", "owner": "p", "country": "US", "currency": "CAD"}],
    [{"id": s, "currency": "CAD", "country": "CA", "kind": "share"} for s in ("S1", "S2", "S3", "Y")],
    [{"id": i, "account": a, "security": s, "date": d, "side": "buy", "quantity": q, "price": p}
     for i, a, s, d, q, p in (("b1", "c1", "S2", "2026-02-22", "1", "21"), ("b2", "c1", "S2", "2026-02-22", "1", "21"),
                              ("b3", "c1", "S2", "2026-02-22", "1", "21"), ("b4", "c1", "S3", "2025-03-01", "3", "28"),
                              ("b5", "c1", "S3", "2026-01-30", "1", "20"), ("b6", "c1", "S3", "2026-01-30", "1", "20"),
                              ("b7", "c2", "S1", "2026-02-22", "1", "20"), ("b8", "c2", "S2", "2026-02-22", "6", "21"),
                              ("y1", "c1", "Y", "2024-01-02", "10", "100"))]
    + [{"id": "y2", "account": "c1", "security": "Y", "date": "2026-01-15", "side": "sell", "quantity": "10", "price": "106",
        "lots": "fifo"}],
    None,
    {"band": "0.02", "prices": {"S1": 20, "S2": 20, "S3": 20, "Y": 100}, "accounts": {"c1": {"invest": 0}},
     "targets": [{"security": "S1", "weight": "0.333333"}, {"security": "S2", "weight": "0.333333"},
                 {"security": "S3", "weight": "0.333334"}]},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(households(), st.sampled_from(["rebalance", "raise"]), st.sampled_from([Decimal("0.1"), Decimal("0.4")]))
@example(household=NAN_PLAN, kind="rebalance", share=Decimal("0.1"))
def test_narrowed_program_keeps_the_optimum(tmp_path_factory, household, kind, share):
    import highspy

    taxpayer, accounts, securities, txs, groups, goal = household
    tmp = tmp_path_factory.mktemp("h")
    sc = scenario(tmp, [taxpayer], accounts, securities, txs, groups=groups)
    t = targets(tmp, sc, goal)
    rebalance = kind == "rebalance"
    if rebalance:
        problem = build_problem(sc, PACKS, t)
    else:  # a share of the first account's value, in its currency
        account = accounts[0]["id"]
        probe = build_problem(sc, PACKS, t)
        value = sum((q * probe.prices[s] for (a, s), q in probe.holdings.items() if a == account), Decimal(0))
        rate = probe.account_rate[sc.account(account).currency]
        if value <= 0:
            return
        problem = build_problem(sc, PACKS, t, raise_amount=(value * share / rate).quantize(Decimal("0.01")), raise_account=account)
    model = PlanModel(problem, rebalance=rebalance)
    model._rounded_start(highspy, 10.0, float(EXACT))  # solves the relaxation (model.relaxed)
    if model.relaxed is None:
        event("no relaxation (no plan)")
        return
    # The smallest gap: the neighbourhood's plan is then rarely proven by the relaxation, and the box narrows.
    found = model._tightened(highspy, time.perf_counter() + 10.0, EXACT, heuristic(problem, rebalance=rebalance))
    whole, best = _best(model)
    if found is None:
        event("no plan in the neighbourhood")
        return
    narrowed, plan, _proven = found
    assert whole is not None and best is not None, "the neighbourhood found a plan the whole program does not have"
    assert narrowed._meets(plan)
    assert narrowed.relaxed is not None and narrowed.relaxed[0] >= model.relaxed[0] - 1e-6
    if narrowed is model:
        event("nothing to narrow")
        return
    event(f"narrowed ({kind})")
    # The whole program's best plan is inside the narrowed box (its cells' copies are not, its nets are).
    for (key, basket), net in _nets(model, best).items():
        lo, hi = narrowed.bounds[key][basket]
        assert float(lo) - 1e-6 <= net <= float(hi) + 1e-6, (key, basket, lo, net, hi)
    value, _ = _best(narrowed)
    assert value is not None
    assert abs(value - whole) <= 2 * EXACT + Decimal("0.000001"), (value, whole)
