"""`harvest`: the loss each lens's lot method lets a household realise today, what it saves, and its window."""

from __future__ import annotations

from decimal import Decimal

from taxpack.engine.plan.harvest import harvest
from taxpack.engine.plan.targets import Targets

from .helpers import PACKS, buy, scenario, sell


def test_fifo_harvest_sells_the_prefix_with_the_most_loss(tmp_path):
    """FIFO depot (EStG §20(4) sentence 7): lots at 100, 300 and 140, price 150. Selling 10 realises +500,
    20 realise 500 - 1,500 = -1,000, 30 realise -900: the candidate is 20 units, loss 1,000, which saves
    1,000 x 0.26375 = 263.75 against the 3,000 of gains already realised this year (allowance used).
    Germany has no wash-sale rule, so nothing forbids buying back."""
    sc = scenario(
        tmp_path,
        [{"id": "hans", "residence": "DE", "citizenship": ["DE"], "filing_status": "single"}],
        [{"id": "d1", "owner": "hans", "country": "DE", "currency": "EUR"}],
        [{"id": "SAP", "currency": "EUR", "country": "DE", "kind": "share"}, {"id": "BAS", "currency": "EUR", "country": "DE", "kind": "share"}],
        [buy("x1", "d1", "BAS", "2024-03-01", 10, 100), sell("x2", "d1", "BAS", "2026-01-15", 10, 400),
         buy("b1", "d1", "SAP", "2020-01-10", 10, 100), buy("b2", "d1", "SAP", "2023-01-10", 10, 300),
         buy("b3", "d1", "SAP", "2024-01-10", 10, 140)],
    )
    result = harvest(sc, PACKS, targets=Targets(prices={"SAP": Decimal(150), "BAS": Decimal(400)}))
    (candidate,) = result.candidates
    assert (candidate.security, candidate.quantity, candidate.loss) == ("SAP", Decimal(20), Decimal(1000))
    assert candidate.saving == Decimal("263.75")
    assert candidate.horizon == ()


def test_us_harvest_names_the_loss_lots_and_the_wash_sale_window(tmp_path):
    """Lots at 50 (gain) and 130 (loss) at a price of 100: the candidate names only the loss lot (specific
    identification), 10 x 30 = 300 of short-term loss; §1091's window runs 30 days after the sale (to
    2026-04-01), and SCHB, in no identity group with VTI, is offered in its place."""
    sc = scenario(
        tmp_path,
        [{"id": "al", "residence": "US", "citizenship": ["US"], "filing_status": "single",
          "other_income": {"US": 80000}, "marginal_rate": {"US": "0.22"}}],
        [{"id": "tx", "owner": "al", "country": "US", "currency": "USD"}],
        [{"id": "VTI", "currency": "USD", "country": "US", "kind": "etf", "identity_group": "total"},
         {"id": "ITOT", "currency": "USD", "country": "US", "kind": "etf", "identity_group": "total"},
         {"id": "SCHB", "currency": "USD", "country": "US", "kind": "etf"}],
        [buy("A", "tx", "VTI", "2024-01-10", 10, 50), buy("B", "tx", "VTI", "2025-12-01", 10, 130)],
        groups=[{"id": "total", "level": "substantially_identical", "confidence": "medium"}],
    )
    result = harvest(sc, PACKS, targets=Targets(prices={"VTI": Decimal(100), "ITOT": Decimal(100), "SCHB": Decimal(30)}))
    (candidate,) = result.candidates
    assert candidate.lots == (("B", Decimal(10)),)
    assert candidate.by_term == (("short", Decimal(-300)),)
    assert candidate.replacements == ("SCHB",)
    assert {h["until"].isoformat() for h in candidate.horizon} == {"2026-04-01"}
    assert {s for h in candidate.horizon for s in h["securities"]} == {"ITOT", "VTI"}
    # No gains this year: the net capital loss of 300 reduces ordinary income (§1211(b), up to 3,000) at the
    # 22% marginal rate, so it saves 66 this year, as much as its worth at the marginal rate.
    assert candidate.saving == Decimal("66") and candidate.household_saving == Decimal("66")
    assert candidate.rate_value == Decimal("66")
