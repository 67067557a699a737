"""Properties: the solver's objective is the exact price of its plan, and that plan never costs more than
the heuristic's or the naive plan's.

The program models the household's net bill exactly (each lens's year as YearBill computes it, the
credits between lenses), so the objective of the plan it returns is the plan's exact price (engine/plan/
cost.py, in Decimal) within the proven gap and the tie-breaks. The heuristic's and the naive plan are
feasible points of the program whenever they keep every account's cash and every target within the
band, so a solver proven within its gap can only be cheaper (allowing for the gap, and for the
tie-breaks the objective adds: 0.1 bp of value traded and a thousandth of any loss a loss rule takes).
Households are random: a US resident (specific identification, short/long netting, the $3,000 offset,
wash sales across a taxable account and an IRA), a German resident (FIFO per depot, allowance), or a US
citizen resident in Canada (average cost for Canada, lots for the US, the US crediting Canada's tax),
with random lots, prices, targets, cash and gains realised earlier in the year.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxpack.engine.plan.cost import cash_left, drift, evaluate
from taxpack.engine.plan.heuristic import heuristic, naive
from taxpack.engine.plan.milp import TURNOVER_WEIGHT, WASH_LOSS_WEIGHT, PlanModel
from taxpack.engine.plan.problem import build_problem

from .helpers import PACKS, buy, scenario, sell, targets

GAP = Decimal("0.01")
SECURITIES = ["S1", "S2", "S3"]


@st.composite
def households(draw):
    country = draw(st.sampled_from(["US", "DE", "CA"]))
    n_sec = draw(st.integers(2, 3))
    secs = SECURITIES[:n_sec]
    if country == "US":
        accounts = [{"id": "tx", "owner": "p", "country": "US", "currency": "USD"},
                    {"id": "ira", "owner": "p", "country": "US", "currency": "USD", "wrapper": "ira"}]
        taxpayer = {"id": "p", "residence": "US", "citizenship": ["US"], "filing_status": "single",
                    "other_income": {"US": draw(st.sampled_from([30000, 80000, 250000]))}, "marginal_rate": {"US": "0.32"}}
        currency = "USD"
    elif country == "CA":
        accounts = [{"id": "c1", "owner": "p", "country": "CA", "currency": "CAD"},
                    {"id": "c2", "owner": "p", "country": "US", "currency": "CAD"}]
        taxpayer = {"id": "p", "residence": "CA", "citizenship": ["US"], "filing_status": "single",
                    "other_income": {"US": draw(st.sampled_from([30000, 80000, 250000])), "CA": 90000},
                    "marginal_rate": {"US": "0.32", "CA": draw(st.sampled_from(["0.2", "0.45"]))}}
        currency = "CAD"
    else:
        accounts = [{"id": "d1", "owner": "p", "country": "DE", "currency": "EUR"},
                    {"id": "d2", "owner": "p", "country": "DE", "currency": "EUR"}]
        taxpayer = {"id": "p", "residence": "DE", "citizenship": ["DE"], "filing_status": "single"}
        currency = "EUR"
    group = draw(st.booleans())  # S1 and S2 substantially identical (wash sales between them)
    securities = [{"id": s, "currency": currency, "country": country, "kind": "share" if country == "CA" else "etf",
                   **({"identity_group": "g"} if group and s in ("S1", "S2") else {})} for s in secs]
    securities.append({"id": "Y", "currency": currency, "country": country, "kind": "share"})
    txs = []
    n = 0
    for account in accounts:
        for s in secs:
            for _ in range(draw(st.integers(0, 3))):
                n += 1
                day = dt.date(2026, 2, 27) - dt.timedelta(days=draw(st.integers(5, 900)))
                txs.append(buy(f"b{n}", account["id"], s, day.isoformat(), draw(st.integers(1, 30)), draw(st.integers(20, 200))))
    ytd = draw(st.integers(0, 5000))
    if ytd:
        txs += [buy("y1", accounts[0]["id"], "Y", "2024-01-02", 10, 100),
                sell("y2", accounts[0]["id"], "Y", "2026-01-15", 10, 100 + ytd // 10)]
    weights = [draw(st.integers(1, 10)) for _ in secs]
    total = sum(weights)
    parts = [(Decimal(w) / total).quantize(Decimal("0.000001")) for w in weights]
    parts[-1] = Decimal(1) - sum(parts[:-1])
    prices = {s: draw(st.integers(20, 200)) for s in secs}
    prices["Y"] = 100
    cash = {accounts[draw(st.integers(0, 1))]["id"]: {"invest": draw(st.integers(0, 3000))}}
    band = draw(st.sampled_from(["0.02", "0.05", "0.1"]))
    groups = [{"id": "g", "level": "substantially_identical", "confidence": "medium"}] if group else None
    return taxpayer, accounts, securities, txs, groups, {"band": band, "prices": prices, "accounts": cash,
                                                          "targets": [{"security": s, "weight": str(w)} for s, w in zip(secs, parts)]}


def _feasible(problem, trades) -> bool:
    return all(v >= 0 for v in cash_left(problem, trades).values()) and \
        all(abs(v) <= problem.targets.band for v in drift(problem, trades).values())


def _allowance(problem, trades, cost) -> Decimal:
    traded = sum((q * problem.prices[s] for (a, s), q in list(trades.sells.items()) + list(trades.buys.items())), Decimal(0))
    return GAP + TURNOVER_WEIGHT * traded + WASH_LOSS_WEIGHT * sum((w.loss for w in cost.washes), Decimal(0)) + Decimal("0.01")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(households())
def test_plan_never_costs_more_than_heuristic_or_naive(tmp_path_factory, household):
    taxpayer, accounts, securities, txs, groups, goal = household
    tmp = tmp_path_factory.mktemp("h")
    sc = scenario(tmp, [taxpayer], accounts, securities, txs, groups=groups)
    t = targets(tmp, sc, goal)
    problem = build_problem(sc, PACKS, t)
    h = heuristic(problem)
    nv = naive(problem)
    solution = PlanModel(problem, rebalance=True).solve(time_limit=30, gap=GAP, warm=h)
    others = [(name, trades, evaluate(problem, trades)) for name, trades in (("heuristic", h), ("naive", nv))
              if _feasible(problem, trades)]
    if others:
        assert solution.objective is not None, f"the solver found no plan although the {others[0][0]} plan is feasible"
    if solution.objective is None:
        return
    assert solution.status == "Optimal"
    plan_cost = evaluate(problem, solution.trades)
    assert solution.objective is not None and solution.gap is not None
    assert abs(plan_cost.total - solution.objective) <= solution.gap + _allowance(problem, solution.trades, plan_cost), \
        (solution.objective, plan_cost)
    for name, trades, cost in others:
        assert plan_cost.total <= cost.total + _allowance(problem, trades, cost), (name, plan_cost, cost)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(households())
def test_rounded_start_is_a_plan_of_the_program_within_the_gap(tmp_path_factory, household):
    """The start rounded from the relaxation, when there is one, meets every bound, row and whole-unit condition of
    the program, and costs at most the relaxation's optimum plus the gap: what the solver is told it may accept."""
    import highspy

    taxpayer, accounts, securities, txs, groups, goal = household
    tmp = tmp_path_factory.mktemp("h")
    sc = scenario(tmp, [taxpayer], accounts, securities, txs, groups=groups)
    problem = build_problem(sc, PACKS, targets(tmp, sc, goal))
    model = PlanModel(problem, rebalance=True)
    start = model._rounded_start(highspy, 10.0, 10.0)
    if start is None:
        return
    m = model.m
    for col, value in enumerate(start):
        assert m.lb[col] - 1e-6 <= value <= m.ub[col] + 1e-6, (m.names[col], value)
        if m.integer[col]:
            assert abs(value - round(value)) <= 1e-6, (m.names[col], value)
    for lo, hi, terms in m.rows:
        activity = sum(coef * start[col] for col, coef in terms.items())
        scale = 1e-6 * max(1.0, *(abs(coef) for coef in terms.values()))
        assert lo - scale <= activity <= hi + scale, ({m.names[c]: start[c] for c in terms}, lo, hi)
    relaxation = model._load(highspy, integral=False)
    relaxation.run()
    assert sum(c * v for c, v in zip(m.cost, start)) <= relaxation.getInfo().objective_function_value + 10.0 + 1e-6
