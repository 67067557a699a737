"""Small households whose least-tax plan can be worked out by hand; the planner must find exactly it.

Rates come from the bundled packs: DE 25% Abgeltungsteuer plus 5.5% Solidaritätszuschlag on it
(EStG §32d(1), SolZG §3-4: 0.25 x 1.055 = 0.26375 per euro above the EUR 1,000 saver's allowance,
EStG §20(9)); US short-term gains at the taxpayer's marginal rate (here 22%), long-term at 15% for a
single filer with 80,000 of other income (Rev. Proc. 2025-32: 15% from 49,450), no NIIT below 200,000.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from taxpack.engine.plan.cost import evaluate
from taxpack.engine.plan.planning import plan_raise, plan_rebalance

from .helpers import PACKS, buy, scenario, sell, targets

DE_RATE = Decimal("0.26375")


def _de(tmp_path, extra_lots=()):
    return scenario(
        tmp_path,
        [{"id": "hans", "residence": "DE", "citizenship": ["DE"], "filing_status": "single"}],
        [{"id": "d1", "owner": "hans", "country": "DE", "currency": "EUR"},
         {"id": "d2", "owner": "hans", "country": "DE", "currency": "EUR"}],
        [{"id": "SAP", "currency": "EUR", "country": "DE", "kind": "share"},
         {"id": "ALV", "currency": "EUR", "country": "DE", "kind": "share"},
         {"id": "BAS", "currency": "EUR", "country": "DE", "kind": "share"}],
        [
            # 3,000 of gains realised in January: the allowance is used up, every further euro costs 26.375 cents.
            buy("x1", "d1", "BAS", "2024-03-01", 10, 100), sell("x2", "d1", "BAS", "2026-01-15", 10, 400),
            *extra_lots,
        ],
    )


def test_de_fifo_is_ordered_consumption(tmp_path):
    """FIFO is mandatory per depot (EStG §20(4) sentence 7): raising 750 at 150 sells 5 units of the OLD lot
    (gain 5 x 50 = 250, tax 250 x 0.26375 = 65.9375), although the newer lot would give a loss. The loss lot
    in the other depot cannot pay for cash needed in d1."""
    sc = _de(tmp_path, [buy("b1", "d1", "SAP", "2024-01-10", 10, 100), buy("b2", "d1", "SAP", "2025-06-01", 10, 200),
                        buy("b3", "d2", "SAP", "2025-06-01", 10, 200)])
    t = targets(tmp_path, sc, {"targets": [{"security": "SAP", "weight": 1}], "prices": {"SAP": 150, "ALV": 100, "BAS": 400}})
    result = plan_raise(sc, PACKS, Decimal(750), "d1", targets=t, gap=Decimal("0.01"))
    assert [(tr.side, tr.account, tr.security, tr.quantity) for tr in result.trades] == [("sell", "d1", "SAP", Decimal(5))]
    assert result.cost.tax == 250 * DE_RATE
    lots = [c.lots for tr in result.check.trades for c in tr.consequences]
    assert [(m.lot, m.quantity) for m in lots[0]] == [("b1", Decimal(5))]


def test_de_harvest_inside_band(tmp_path):
    """d1: 10 SAP bought at 50, d2: 10 SAP bought at 200; price 150; 10 ALV at 100 in d1. Value 4,000; targets
    50/50 with a 2-point band leave SAP between 1,920 and 2,080, i.e. 13 units (1,950). Germany has no
    wash-sale rule, so the least tax sells all 10 loss units of d2 (loss 500), buys 3 SAP back and 10 ALV
    with the 1,500 (1,450 spent); tax -500 x 0.26375 = -131.875 against this year's gains. Selling in d1
    would realise gains of 100 a unit instead."""
    sc = _de(tmp_path, [buy("b1", "d1", "SAP", "2020-01-10", 10, 50), buy("b2", "d2", "SAP", "2025-06-01", 10, 200),
                        buy("b3", "d1", "ALV", "2025-06-01", 10, 100)])
    t = targets(tmp_path, sc, {"band": 0.02, "targets": [{"security": "SAP", "weight": 0.5}, {"security": "ALV", "weight": 0.5}],
                               "prices": {"SAP": 150, "ALV": 100, "BAS": 400}})
    result = plan_rebalance(sc, PACKS, t, gap=Decimal("0.01"))
    assert result.cost.tax == -500 * DE_RATE
    assert result.plan.sells == {("d2", "SAP"): Decimal(10)}
    assert result.plan.buys.get(("d2", "SAP")) == Decimal(3)
    assert sum(q for (a, s), q in result.plan.buys.items() if s == "ALV") == Decimal(10)
    # The naive plan (each depot to 50/50 on its own, FIFO) sells 2 SAP of d1 (gain 200) and 5 of d2 (loss 250).
    assert result.naive.cost.tax == -50 * DE_RATE
    assert result.saving == (-50 - -500) * DE_RATE


def _us(tmp_path, lots, extra_securities=(), groups=None, accounts=None, taxpayers=None):
    return scenario(
        tmp_path,
        taxpayers or [{"id": "al", "residence": "US", "citizenship": ["US"], "filing_status": "single",
                       "other_income": {"US": 80000}, "marginal_rate": {"US": "0.22"}}],
        accounts or [{"id": "tx", "owner": "al", "country": "US", "currency": "USD"}],
        [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf", "identity_group": "total"},
         {"id": "AAPL", "currency": "USD", "country": "US", "kind": "share"}, *extra_securities],
        [
            # 1,000 of short-term gain realised in January (bought October 2025, sold January 2026).
            buy("a1", "tx", "AAPL", "2025-10-01", 10, 100), sell("a2", "tx", "AAPL", "2026-01-20", 10, 200),
            *lots,
        ],
        groups=groups or [{"id": "total", "level": "substantially_identical", "confidence": "medium"}],
    )


US_LOTS = [
    buy("A", "tx", "VTI", "2024-01-10", 10, 50),   # long, +50 a unit at 100
    buy("B", "tx", "VTI", "2025-12-01", 10, 130),  # short, -30
    buy("C", "tx", "VTI", "2026-01-05", 10, 90),   # short, +10
    buy("D", "tx", "VTI", "2024-02-01", 10, 160),  # long, -60
]


@pytest.mark.parametrize("amount, lots, added", [
    # 10 units: D's long loss (-600) nets against the year's short gain (1,000): 0.22 x 400 - 0.22 x 1,000 = -132.
    # (B would save only 0.22 x 300 = 66; A would cost 0.15 x 500 = 75.)
    (1000, {"D": Decimal(10)}, Decimal("-132")),
    # 20 units: D and B: short 1,000 - 300 = 700, long -600, net 100 short: 0.22 x 100 - 220 = -198.
    # (D and A: long -100 against short 1,000: 0.22 x 900 - 220 = -22.)
    (2000, {"B": Decimal(10), "D": Decimal(10)}, Decimal("-198")),
])
def test_us_specific_identification_and_netting(tmp_path, amount, lots, added):
    sc = _us(tmp_path, US_LOTS)
    t = targets(tmp_path, sc, {"targets": [{"security": "VTI", "weight": 1}], "prices": {"VTI": 100, "AAPL": 200}})
    result = plan_raise(sc, PACKS, Decimal(amount), "tx", targets=t, gap=Decimal("0.01"))
    assert result.cost.tax == added
    (trade,) = result.trades
    assert {l.transaction: l.quantity for l in trade.lots} == lots
    # taxpack check computes the same lots under the US lens.
    (consequence,) = [c for c in result.check.trades[0].consequences if c.jurisdiction == "US"]
    assert sorted((m.lot, m.quantity) for m in consequence.lots) == sorted(lots.items())


def test_netting_model_matches_the_estimator(tmp_path):
    """The planner's split curve is the Estimator's netting (§1222): check on a grid of short/long results."""
    from taxpack.engine.plan.problem import build_problem, split_tax

    sc = _us(tmp_path, US_LOTS)
    problem = build_problem(sc, PACKS, None)
    curve = problem.curves[("us", "al")]
    assert (curve.rate_short, curve.rate_long) == (Decimal("0.22"), Decimal("0.15"))
    for s in (-700, -100, 0, 300, 1200):
        for l in (-900, -300, 0, 500):
            expected = split_tax(Decimal(s), Decimal(l), Decimal("0.22"), Decimal("0.15"))
            net_s, net_l = Decimal(s), Decimal(l)
            if net_s < 0 < net_l:
                assert expected == Decimal("0.15") * max(0, net_s + net_l)
            elif net_l < 0 < net_s:
                assert expected == Decimal("0.22") * max(0, net_s + net_l)


def _wash_household(tmp_path, spouse_ira_buy=False):
    taxpayers = [{"id": "al", "residence": "US", "citizenship": ["US"], "filing_status": "single", "spouse": "bo",
                  "other_income": {"US": 80000}, "marginal_rate": {"US": "0.22"}},
                 {"id": "bo", "residence": "US", "citizenship": ["US"], "filing_status": "single", "spouse": "al",
                  "other_income": {"US": 80000}, "marginal_rate": {"US": "0.22"}}]
    accounts = [{"id": "tx", "owner": "al", "country": "US", "currency": "USD"},
                {"id": "ira", "owner": "bo", "country": "US", "currency": "USD", "wrapper": "ira"}]
    extra = [{"id": "ITOT", "currency": "USD", "country": "US", "kind": "etf", "identity_group": "total"},
             {"id": "SCHB", "currency": "USD", "country": "US", "kind": "etf"},
             {"id": "BND", "currency": "USD", "country": "US", "kind": "etf"}]
    lots = [buy("v1", "tx", "VTI", "2025-12-01", 10, 150), buy("n1", "tx", "BND", "2025-12-01", 20, 100)]
    if spouse_ira_buy:
        lots.append(buy("i1", "ira", "ITOT", "2026-02-20", 1, 100))
    return _us(tmp_path, lots, extra, accounts=accounts, taxpayers=taxpayers)


PRICES = {"VTI": 100, "ITOT": 100, "SCHB": 100, "BND": 100, "AAPL": 200}


def test_harvest_into_a_security_outside_the_identity_group(tmp_path):
    """VTI bought at 150 is worth 100 (short loss 500); BND is flat. Targets: US equity (VTI, ITOT, SCHB) 50%,
    BND 50% of 3,000. The least tax sells all VTI (tax -0.22 x 500 = -110 against the year's short gain)
    and buys SCHB, which is in no identity group with VTI; buying VTI or ITOT back would be a wash sale."""
    sc = _wash_household(tmp_path)
    t = targets(tmp_path, sc, {"band": 0.02, "targets": [{"group": "us", "members": ["VTI", "ITOT", "SCHB"], "weight": 0.5},
                                                         {"security": "BND", "weight": 0.5}], "prices": PRICES})
    result = plan_rebalance(sc, PACKS, t, gap=Decimal("0.01"))
    assert result.cost.tax == Decimal("-110")
    assert result.plan.sells[("tx", "VTI")] == 10
    assert not any(s in ("VTI", "ITOT") for (_, s) in result.plan.buys)
    assert not [f for f in result.check.findings if f.code == "wash_sale"]
    assert result.washes == ()


def test_no_harvest_when_only_substantially_identical_replacements(tmp_path):
    """With SCHB restricted, every replacement is VTI or ITOT: selling VTI at a loss and buying either back
    would only defer the loss (and cost the tie-break), so the least-tax plan keeps VTI: tax 0, no wash."""
    sc = _wash_household(tmp_path)
    t = targets(tmp_path, sc, {"band": 0.02, "restricted": ["SCHB"],
                               "targets": [{"group": "us", "members": ["VTI", "ITOT", "SCHB"], "weight": 0.5},
                                           {"security": "BND", "weight": 0.5}], "prices": PRICES})
    result = plan_rebalance(sc, PACKS, t, gap=Decimal("0.01"))
    assert result.cost.tax == 0
    assert not [f for f in result.check.findings if f.code == "wash_sale"]


def test_a_wash_the_plan_cannot_avoid_is_explained(tmp_path):
    """The spouse's IRA bought ITOT nine days ago: any loss sale of VTI is a wash (§1091, spouse, Rev. Rul.
    2008-5 for the IRA). Raising 1,000 in tx with BND on the do-not-sell list forces the VTI sale; the plan
    says no plan avoids it, and taxpack check flags the wash."""
    sc = _wash_household(tmp_path, spouse_ira_buy=True)
    t = targets(tmp_path, sc, {"do_not_sell": ["BND"], "targets": [{"security": "VTI", "weight": 1}], "prices": PRICES})
    result = plan_raise(sc, PACKS, Decimal(1000), "tx", targets=t, gap=Decimal("0.01"))
    assert result.plan.sells == {("tx", "VTI"): Decimal(10)}
    (decision,) = result.washes
    assert decision.code == "wash_sale" and decision.security == "VTI" and decision.past == ("i1",)
    assert decision.avoiding_costs_more is None
    assert [f for f in result.check.findings if f.code == "wash_sale"]


def test_asset_location_puts_us_dividends_in_the_rrsp(tmp_path):
    """A Canadian resident with 10,000 CAD to invest in each of a TFSA and an RRSP, half in a US ETF and half
    in a Canadian one: US withholding on dividends is 0% in an RRSP (treaty Art. XXI(2)) and 15% lost in a
    TFSA, Canadian dividends suffer none: the least leakage buys VTI only in the RRSP and XIC in the TFSA."""
    sc = scenario(
        tmp_path,
        [{"id": "cam", "residence": "CA", "citizenship": ["CA"], "marginal_rate": {"CA": "0.43"}}],
        [{"id": "tfsa", "owner": "cam", "country": "CA", "currency": "CAD", "wrapper": "tfsa"},
         {"id": "rrsp", "owner": "cam", "country": "CA", "currency": "CAD", "wrapper": "rrsp"}],
        [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf", "dividend_yield": "0.02"},
         {"id": "XIC", "currency": "CAD", "country": "CA", "kind": "etf", "dividend_yield": "0.02"}],
        [],
    )
    t = targets(tmp_path, sc, {"band": 0.05, "targets": [{"security": "VTI", "weight": 0.5}, {"security": "XIC", "weight": 0.5}],
                               "prices": {"VTI": 100, "XIC": 40}, "accounts": {"tfsa": {"invest": 10000}, "rrsp": {"invest": 10000}}})
    result = plan_rebalance(sc, PACKS, t, gap=Decimal("0.01"))
    assert set(result.plan.buys) <= {("rrsp", "VTI"), ("tfsa", "XIC"), ("rrsp", "XIC")}
    assert ("tfsa", "VTI") not in result.plan.buys
    assert result.cost.leakage == 0
    assert result.problem.leakage[("tfsa", "VTI")] > 0  # the TFSA would leak: the choice was not free


def test_planner_cost_of_the_plan_is_what_the_solver_minimised(tmp_path):
    """The exact Decimal evaluation of the solver's plan (the household's net bill it adds) is its objective,
    tie-breaks aside (0.1 bp of the 2,000 traded: 0.02)."""
    sc = _us(tmp_path, US_LOTS)
    t = targets(tmp_path, sc, {"targets": [{"security": "VTI", "weight": 1}], "prices": {"VTI": 100, "AAPL": 200}})
    result = plan_raise(sc, PACKS, Decimal(2000), "tx", targets=t, gap=Decimal("0.01"))
    cost = evaluate(result.problem, result.plan)
    assert result.solution.objective is not None
    assert abs(result.solution.objective - cost.total) <= Decimal("0.01") + Decimal("0.02") + Decimal("0.01")


def test_gain_budget_caps_the_net_gain_of_a_lens(tmp_path):
    """With 30,000 of other income a single filer's long-term gains are taxed at 0% (below 49,450), so the
    least tax raises 1,000 from lot A (long, +500, no tax) rather than C (short, +100, 0.22 x 100 = 22).
    A US gain budget of 200 allows at most 2 units of A (2 x 50 + 8 x 10 = 180; 3 of A would be 220): the
    plan sells 2 of A and 8 of C and pays 0.22 x 80 = 17.60 (whole units per lot: 2.5 of A is not a sale)."""
    taxpayers = [{"id": "al", "residence": "US", "citizenship": ["US"], "filing_status": "single",
                  "other_income": {"US": 30000}, "marginal_rate": {"US": "0.22"}}]
    lots = [buy("A", "tx", "VTI", "2024-01-10", 10, 50), buy("C", "tx", "VTI", "2026-01-05", 10, 90)]
    sc = scenario(tmp_path, taxpayers, [{"id": "tx", "owner": "al", "country": "US", "currency": "USD"}],
                  [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf"}], lots)
    free = targets(tmp_path, sc, {"targets": [{"security": "VTI", "weight": 1}], "prices": {"VTI": 100}})
    result = plan_raise(sc, PACKS, Decimal(1000), "tx", targets=free, gap=Decimal("0.01"))
    assert result.cost.tax == 0 and {l.transaction for l in result.trades[0].lots} == {"A"}
    capped = targets(tmp_path, sc, {"targets": [{"security": "VTI", "weight": 1}], "prices": {"VTI": 100}, "gain_budget": {"US": 200}})
    result = plan_raise(sc, PACKS, Decimal(1000), "tx", targets=capped, gap=Decimal("0.01"))
    assert result.cost.tax == Decimal("17.6")
    assert {l.transaction: l.quantity for l in result.trades[0].lots} == {"A": Decimal(2), "C": Decimal(8)}


def test_two_lenses_on_one_account(tmp_path):
    """A US citizen resident in Canada sells RY (a Canadian share, so no PFIC) from a Canadian account: Canada at average cost
    (s.47: (200 + 440) / 20 = 32 CAD a unit, so 8 CAD of gain a unit whatever is named, half of it taxed
    at 40%: 1.60 CAD a unit), the US by the lots named (at 1 CAD = 0.80 USD: lot L1 cost 16 USD, long,
    +16 USD a unit at 15%; lot L2 cost 35.20 USD, short, -3.20 a unit). Raising 400 CAD sells 10 units and
    Canada takes 16 CAD either way. Naming L2 gives the US a net capital loss of 32 USD, deducted from
    ordinary income at the 22% marginal rate (§1211(b)): -7.04 USD = -8.80 CAD, and nothing to credit; 7.20
    CAD in all. The naive plan (FIFO) sells L1: 24 USD of US tax, less the credit for Canada's 16 CAD =
    12.80 USD (treaty art. XXIV(4), the limit is the US tax of 24): 11.20 USD = 14 CAD, 30 CAD in all."""
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,quote,rate\n" + "".join(f"{d},CAD,USD,0.80\n" for d in ("2020-01-10", "2025-12-01", "2026-03-02")),
                     encoding="utf-8")
    from taxpack.engine.inputs.scenario import load_scenario

    from .helpers import write

    data = {"taxpack": 1, "as_of": "2026-03-02",
            "taxpayers": [{"id": "cam", "residence": "CA", "citizenship": ["US"], "filing_status": "single",
                           "other_income": {"US": 80000, "CA": 80000}, "marginal_rate": {"US": "0.22", "CA": "0.40"}}],
            "accounts": [{"id": "ca-tx", "owner": "cam", "country": "CA", "currency": "CAD"}],
            "securities": [{"id": "RY", "currency": "CAD", "country": "CA", "kind": "share"}],
            "transactions": [buy("L1", "ca-tx", "RY", "2020-01-10", 10, 20), buy("L2", "ca-tx", "RY", "2025-12-01", 10, 44)],
            "fx": {"rates": "rates.csv"}}
    sc = load_scenario(write(tmp_path, "scenario.yaml", data))
    t = targets(tmp_path, sc, {"targets": [{"security": "RY", "weight": 1}], "prices": {"RY": 40}})
    result = plan_raise(sc, PACKS, Decimal(400), "ca-tx", targets=t, gap=Decimal("0.01"))
    assert result.problem.base == "CAD"
    assert {l.transaction: l.quantity for l in result.trades[0].lots} == {"L2": Decimal(10)}
    assert result.cost.tax_by_lens[("ca", "cam")] == Decimal("16")
    assert result.cost.tax_by_lens[("us", "cam")] == Decimal("-7.04")
    assert result.cost.tax == Decimal("7.20")
    assert result.naive.cost.gross_by_lens[("us", "cam")] == Decimal("24")
    assert result.naive.cost.credit_by_lens[("us", "cam")] == Decimal("12.80")
    assert result.naive.cost.tax == Decimal("30")


@pytest.mark.parametrize("fractional", [True, False])
def test_whole_units_unless_the_security_is_fractional(tmp_path, fractional):
    """1,000 USD to invest, all in VTI at 300, within 0.1 point of a 100% target: at least 999 USD invested,
    i.e. 3.33 units if the security trades in fractions (the least trade inside the band); whole units
    cannot get within the band (3 units are 90%), and the planner says no plan meets the constraints."""
    from taxpack.engine.core.errors import SemanticError

    sc = scenario(tmp_path, [{"id": "al", "residence": "US", "citizenship": ["US"], "filing_status": "single",
                              "other_income": {"US": 80000}, "marginal_rate": {"US": "0.22"}}],
                  [{"id": "tx", "owner": "al", "country": "US", "currency": "USD"}],
                  [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf", "fractional": fractional}], [])
    t = targets(tmp_path, sc, {"band": 0.001, "targets": [{"security": "VTI", "weight": 1}], "prices": {"VTI": 300},
                               "accounts": {"tx": {"invest": 1000}}})
    if not fractional:
        with pytest.raises(SemanticError, match="no plan meets the constraints"):
            plan_rebalance(sc, PACKS, t, gap=Decimal("0.01"))
        return
    result = plan_rebalance(sc, PACKS, t, gap=Decimal("0.01"))
    (units,) = result.plan.buys.values()
    assert Decimal(999) <= units * 300 <= Decimal(1000)
    assert units != units.to_integral_value()
