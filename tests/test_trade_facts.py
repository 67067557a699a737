"""Facts the engine computes for pack rules: days to the next ex-dividend date, foreign property cost.

US: §1(h)(11)(B)(iii) - a buy 18 days before an ex-dividend date must be held more than 60 days in the
121-day window, so the rule warns; 90 days ahead it does not. CA: s.233.3 / T1135 - above $100,000 of
specified foreign property cost the form is due; the threshold is the pack's parameter.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

from taxpack.engine.consequences.check import run_check
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set


def scenario(tmp_path: Path, ex_dates: str, held: int, price: str = "300") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(f"""
        taxpack: 1
        as_of: 2026-03-02
        taxpayers: [{{id: al, residence: CA, citizenship: [US], filing_status: single}}]
        accounts:
          - {{id: brk, owner: al, country: US, currency: USD}}
          - {{id: tfsa, owner: al, country: CA, currency: CAD, wrapper: tfsa}}
        securities:
          - {{id: VTI, currency: USD, country: US, kind: etf, ex_dividend_dates: {ex_dates}}}
        transactions:
          - {{id: b1, account: brk, security: VTI, date: 2025-01-10, side: buy, quantity: {held}, price: {price}}}
          - {{id: b2, account: tfsa, security: VTI, date: 2025-01-10, side: buy, quantity: 1000, price: {price}}}
        trades:
          - {{id: t1, account: brk, security: VTI, date: 2026-03-02, side: buy, quantity: 10, price: {price}}}
        """).lstrip(), encoding="utf-8")
    return path


def findings(path: Path) -> dict[str, dict[str, object]]:
    result = run_check(load_scenario(path), pack_set())
    (trade,) = result.trades
    return {c.jurisdiction: {f.code: f for f in c.findings} for c in trade.consequences}


def test_a_buy_18_days_before_an_ex_dividend_date_warns(tmp_path: Path) -> None:
    found = findings(scenario(tmp_path, "[2026-03-20, 2026-06-20]", 10))["US"]
    assert "qualified_dividend_holding" in found
    assert found["qualified_dividend_holding"].facts["trade.days_to_ex_dividend"] == 18


def test_no_warning_when_the_next_ex_date_is_far_or_unknown(tmp_path: Path) -> None:
    assert "qualified_dividend_holding" not in findings(scenario(tmp_path, "[2026-06-20]", 10))["US"]
    assert "qualified_dividend_holding" not in findings(scenario(tmp_path, "[]", 10))["US"]


def test_t1135_counts_taxable_foreign_property_only(tmp_path: Path) -> None:
    # 400 + 10 VTI in the taxable account at 300 USD: about 165,000 CAD of cost, above $100,000.
    # The 1,000 VTI in the TFSA do not count (a registered plan is not specified foreign property here).
    above = findings(scenario(tmp_path, "[]", 400))["CA"]
    assert "t1135" in above
    cost = above["t1135"].facts["household.foreign_property_cost"]
    assert Decimal(100000) < cost < Decimal(200000)
    below = findings(scenario(tmp_path, "[]", 100))["CA"]  # 110 VTI: about 45,000 CAD
    assert "t1135" not in below
