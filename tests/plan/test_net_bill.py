"""The planner minimises the household's net bill: each lens's year as check computes it, credits between lenses.

Invariants that can fail: the cells of the year model give YearBill's tax at every point; the solver's
objective is the exact price of its plan; a US citizen resident in Canada sells where the US credit
absorbs the US tax; the US $3,000 offset makes a small loss worth the marginal rate; a carried loss makes
gains up to it free. Rates are the bundled packs' (US 2026: long-term 15% from 49,450 for a single filer,
Rev. Proc. 2025-32; NIIT 3.8% above 200,000, §1411; CA half of a gain taxed at the marginal rate, s.38;
DE 25% plus 5.5% Solidaritätszuschlag, EUR 1,000 allowance).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from taxpack.engine.consequences.household_bill import HouseholdBill
from taxpack.engine.consequences.year_bill import BasketTotals
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.plan.cost import PlanTrades, evaluate
from taxpack.engine.plan.harvest import harvest
from taxpack.engine.plan.planning import plan_raise
from taxpack.engine.plan.yearmodel import cells, each_point

from .helpers import PACKS, buy, scenario, targets, write

DAY = dt.date(2026, 3, 2)


def _household(tmp_path, **extra):
    data = {"id": "p", "residence": "US", "citizenship": ["US"], "filing_status": "single",
            "other_income": {"US": 150000}, "marginal_rate": {"US": "0.24"}, **extra}
    return scenario(tmp_path, [data], [{"id": "tx", "owner": "p", "country": "US", "currency": "USD"}],
                    [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf"}], [])


@pytest.mark.parametrize("pack_id, extra, box", [
    # US: short/long netting both ways, the $3,000 offset, long-term brackets crossing 15% -> 20%, NIIT from 200,000.
    ("us", {}, {"short": (Decimal(-80000), Decimal(120000)), "long": (Decimal(-90000), Decimal(500000))}),
    # ... married filing separately: a $1,500 offset and NIIT from 125,000.
    ("us", {"filing_status": "married_separate"}, {"short": (Decimal(-9000), Decimal(9000)), "long": (Decimal(-9000), Decimal(30000))}),
    # DE: the share-loss pot, other losses against shares, the allowance (other first), the surcharge.
    ("de", {"residence": "DE", "citizenship": ["DE"]}, {"shares": (Decimal(-5000), Decimal(6000)), "other": (Decimal(-4000), Decimal(3000))}),
    # CA: one basket, half of a net gain taxed.
    ("ca", {"residence": "CA", "marginal_rate": {"CA": "0.4341"}}, {"all": (Decimal(-5000), Decimal(8000))}),
])
def test_every_cell_gives_year_bills_tax(tmp_path, pack_id, extra, box):
    """At every point of a grid over the box, every cell that holds the point prices it as YearBill.compute does."""
    sc = _household(tmp_path, **extra)
    pack = PACKS.get(pack_id.upper())
    ly = HouseholdBill(sc, PACKS, None).lens_year(pack, sc.taxpayers[0], DAY)  # type: ignore[arg-type]
    box = {b.id: box.get(b.id, (Decimal(0), Decimal(0))) for b in ly.rules.baskets}  # baskets not named stay empty
    found, missing = cells(ly.billing, box)
    assert not missing and found
    checked = 0
    for point in each_point(box, 12):
        totals = {b: BasketTotals(max(Decimal(0), v), min(Decimal(0), v)) for b, v in point.items()}
        bill = ly.billing.compute(totals)
        holding = [c for c in found if all(k.at(point) >= Decimal("-1e-9") for k in c.constraints)]
        assert holding, point
        for cell in holding:
            assert abs(cell.tax.at(point) - bill.tax) < Decimal("1e-6"), (point, cell.tax.at(point), bill.tax)
            assert abs(cell.creditable.at(point) - bill.creditable) < Decimal("1e-6")
        checked += 1
    assert checked == 13 ** sum(1 for lo, hi in box.values() if lo != hi)


def _dual(tmp_path):
    """Cam, a US citizen resident in Canada, with a US brokerage account: VTI bought in 2020 at 100 USD (1 USD =
    1.25 CAD), ITOT bought in December 2025 at 96.25 USD (1 USD = 1.60 CAD); both are worth 110 USD today
    (1 USD = 1.40 CAD). Per unit: VTI gains 10 USD long (US 15% = 1.50 USD = 2.10 CAD) and 29 CAD (Canada
    taxes half at 40%: 5.80 CAD); ITOT gains 13.75 USD short (US 32% = 4.40 USD = 6.16 CAD) and 0 CAD.
    The US credits the Canadian tax up to its own (treaty art. XXIV(4)), so a unit costs the household the
    larger of the two: 5.80 CAD for VTI, 6.16 CAD for ITOT; a sum of both countries' taxes would put VTI at
    7.90 and ITOT at 6.16."""
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,quote,rate\n2020-01-10,USD,CAD,1.25\n2025-12-01,USD,CAD,1.60\n2026-03-02,USD,CAD,1.40\n",
                     encoding="utf-8")
    data = {"taxpack": 1, "as_of": "2026-03-02",
            "taxpayers": [{"id": "cam", "residence": "CA", "citizenship": ["US"], "filing_status": "single",
                           "other_income": {"US": 80000, "CA": 80000}, "marginal_rate": {"US": "0.32", "CA": "0.40"}}],
            "accounts": [{"id": "us-tx", "owner": "cam", "country": "US", "currency": "USD"}],
            "securities": [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf"},
                           {"id": "ITOT", "currency": "USD", "country": "US", "kind": "etf"}],
            "transactions": [buy("A", "us-tx", "VTI", "2020-01-10", 10, 100), buy("B", "us-tx", "ITOT", "2025-12-01", 10, "96.25")],
            "fx": {"rates": "rates.csv"}}
    return load_scenario(write(tmp_path, "scenario.yaml", data))


def test_a_us_citizen_in_canada_sells_where_the_credit_absorbs_the_us_tax(tmp_path):
    sc = _dual(tmp_path)
    t = targets(tmp_path, sc, {"targets": [{"security": "VTI", "weight": "0.5"}, {"security": "ITOT", "weight": "0.5"}],
                               "prices": {"VTI": 110, "ITOT": 110}})
    result = plan_raise(sc, PACKS, Decimal(1100), "us-tx", targets=t, gap=Decimal("0.01"))
    problem = result.problem
    # Every split of the ten units, priced exactly: the plan is the cheapest of them.
    splits = {k: evaluate(problem, PlanTrades(sells={k_: v for k_, v in (((("us-tx", "VTI"), Decimal(k)), (("us-tx", "ITOT"), Decimal(10 - k)))) if v}))
              for k in range(11)}
    best = min(cost.tax for cost in splits.values())
    assert result.cost.tax == best
    assert splits[10].tax == Decimal("58.00")  # all VTI: Canada's 58 CAD, the US's 21 CAD all credited
    assert splits[0].tax == Decimal("61.60")  # all ITOT: Canada taxes nothing, the US 44 USD
    assert splits[10].credit_by_lens[("us", "cam")] == Decimal("15.00")  # the whole US tax: 10 x 1.50 USD
    # The plan sells VTI, where the credit absorbs the US tax, though the sum of the two countries' taxes is
    # larger there (79 CAD against 61.60).
    assert result.plan.sells.get(("us-tx", "VTI"), 0) > 0
    assert result.cost.tax < splits[0].tax
    # The solver's objective is the exact price (within the gap and the tie-breaks).
    assert abs(result.solution.objective - result.cost.tax) <= Decimal("0.05")
    # ... and taxpack check, run on the plan, finds the same household net bill.
    assert Decimal(result.check.household["net_tax"]) == result.cost.tax


def test_the_3000_offset_makes_a_small_loss_worth_the_marginal_rate(tmp_path):
    """No gains this year: a short-term loss of 1,000 reduces ordinary income (§1211(b)) and saves 24% of it;
    of a loss of 5,000 only 3,000 count this year (720). A lot at no gain saves nothing: the plan sells the loss."""
    sc = scenario(tmp_path, [{"id": "p", "residence": "US", "citizenship": ["US"], "filing_status": "single",
                              "other_income": {"US": 150000}, "marginal_rate": {"US": "0.24"}}],
                  [{"id": "tx", "owner": "p", "country": "US", "currency": "USD"}],
                  [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf"},
                   {"id": "BND", "currency": "USD", "country": "US", "kind": "etf"}],
                  [buy("L", "tx", "VTI", "2025-12-01", 10, 200), buy("F", "tx", "VTI", "2025-12-02", 10, 100),
                   buy("Z", "tx", "BND", "2025-12-01", 100, 100)])
    t = targets(tmp_path, sc, {"targets": [{"security": "VTI", "weight": "0.5"}, {"security": "BND", "weight": "0.5"}],
                               "prices": {"VTI": 100, "BND": 100}})
    result = plan_raise(sc, PACKS, Decimal(1000), "tx", targets=t, gap=Decimal("0.01"))
    assert result.cost.tax == Decimal("-240")
    assert {l.transaction for l in result.trades[0].lots} == {"L"}
    big = evaluate(result.problem, PlanTrades(sells={("tx", "VTI"): Decimal(10)}, lots={("tx", "VTI"): (("L", Decimal(10)),)}))
    assert big.tax == Decimal("-240")
    more = scenario(tmp_path, [{"id": "p", "residence": "US", "citizenship": ["US"], "filing_status": "single",
                                "other_income": {"US": 150000}, "marginal_rate": {"US": "0.24"}}],
                    [{"id": "tx", "owner": "p", "country": "US", "currency": "USD"}],
                    [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf"}], [buy("L", "tx", "VTI", "2025-12-01", 10, 600)])
    candidates = harvest(more, PACKS, targets=targets(tmp_path, more, {"targets": [{"security": "VTI", "weight": 1}], "prices": {"VTI": 100}}))
    (candidate,) = candidates.candidates
    assert candidate.loss == Decimal(5000)
    assert candidate.household_saving == Decimal(720)  # 3,000 x 24%: the rest carries forward


def test_a_carried_loss_makes_gains_up_to_it_free(tmp_path):
    """Hans carries a share-pot loss of 4,000 from 2025 (§20(6) EStG): share gains of up to 4,000 plus the EUR
    1,000 allowance cost nothing this year; each euro beyond costs 26.375 cents."""
    sc = scenario(tmp_path, [{"id": "hans", "residence": "DE", "citizenship": ["DE"], "filing_status": "single",
                              "carry_forward": {"DE": [{"basket": "shares", "amount": 4000, "year": 2025}]}}],
                  [{"id": "d1", "owner": "hans", "country": "DE", "currency": "EUR"}],
                  [{"id": "SAP", "currency": "EUR", "country": "DE", "kind": "share"}],
                  [buy("b1", "d1", "SAP", "2020-01-10", 100, 50)])
    t = targets(tmp_path, sc, {"targets": [{"security": "SAP", "weight": 1}], "prices": {"SAP": 150}})
    result = plan_raise(sc, PACKS, Decimal(7500), "d1", targets=t, gap=Decimal("0.01"))  # 50 units: a gain of 5,000
    assert result.cost.tax == 0
    more = evaluate(result.problem, PlanTrades(sells={("d1", "SAP"): Decimal(70)}))  # a gain of 7,000
    assert more.tax == Decimal("2000") * Decimal("0.26375")
