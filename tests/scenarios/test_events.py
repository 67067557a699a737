"""Dividends (inline or from a file), corporate actions, cost adjustments and cost pools load exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from taxpack.engine.core.household import Ratio
from taxpack.engine.inputs.scenario import load_scenario
from tests.expected import REPO_ROOT

GOOD = REPO_ROOT / "tests" / "scenarios" / "good"


def test_events_load() -> None:
    s = load_scenario(GOOD / "events.yaml")
    d1, d2 = s.dividends
    assert (d1.gross, d1.withheld, d1.currency, d1.date) == (Decimal("25.00"), Decimal(0), "CAD", dt.date(2025, 3, 31))
    assert (d2.gross, d2.currency, d2.note) == (Decimal("40.00"), None, "quarterly")
    assert str(d2.span).endswith("tests/scenarios/good/events_dividends.yaml:2:3")  # errors point into the included file
    split, spin, rename, roc = s.corporate_actions
    assert split.ratio == Ratio(Decimal(2), Decimal(1)) and split.ratio.factor == 2 and split.account is None
    assert (spin.new_security, spin.fmv_old, spin.fmv_new, spin.ratio.factor) == ("SPIN", Decimal("18.00"), Decimal("8.00"), Decimal("0.25"))
    assert (rename.type, rename.new_security) == ("identifier_change", "ACME2")
    assert roc.amount_per_share == Decimal("0.25")
    (adj,) = s.cost_adjustments
    assert (adj.amount, adj.jurisdictions, adj.reason.startswith("T3 2025 box 21")) == (Decimal("150.00"), ("CA",), True)
    (pool,) = s.cost_pools
    assert s.cost_pool("esop-2026-01") is pool and pool.reason == "employee_option"
    assert s.transactions[1].pool == "esop-2026-01" and s.trades[0].pool == "esop-2026-01"
