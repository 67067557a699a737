"""Values of the packs that drifted and were corrected (issue 16): each checked against what the pack now says,
with the published figure it rests on.

- NL Box 2 first bracket: EUR 67,000 is the 2024 figure; 2025 EUR 67,804 and 2026 EUR 68,843 (Belastingplan 2026,
  secondary), top rate 33% in 2024 and 31% from 2025; indexed, so confirmed until 2026 only.
- FR social levies: 18.6% on 2025 gains rests on LFSS 2026 applying retroactively (caveat); on 2026 gains it is
  prospective, so a 2026 gain's estimate must not carry the 2025 retroactivity caveat.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from taxpack.engine.consequences.year_bill import BasketTotals, YearBill
from taxpack.engine.core.household import Taxpayer
from taxpack.engine.law.registry import find_bundled
from taxpack.engine.law.year_rules import year_rules

NL = find_bundled("nl")
FR = find_bundled("fr")


@pytest.mark.parametrize("year, band, top", [(2024, 67000, "0.33"), (2025, 67804, "0.31"), (2026, 68843, "0.31")])
def test_nl_box2_first_bracket_by_year(year: int, band: int, top: str) -> None:
    brackets = NL.value("box2.brackets", dt.date(year, 6, 30)).value
    assert [(D(b["from"]), D(b["rate"])) for b in brackets] == [(D(0), D("0.245")), (D(band), D(top))]


def test_nl_box2_band_read_for_2027_says_it_is_not_published() -> None:
    dated = NL.value("box2.brackets", NL.law_day(dt.date(2027, 3, 1)))
    assert "box2.brackets: the 2026 value applied to 2027: not yet published (confirmed until 2026-12-31)" in (dated.uncertain or "")


def _fr_caveats(day: dt.date) -> tuple[str, ...]:
    rules = year_rules(FR)
    bill = YearBill(FR, rules, Taxpayer("eva", "FR", filing_status="single", other_income={"FR": D(0)}), FR.law_day(day), "FR")
    return bill.compute({rules.baskets[0].id: BasketTotals(D(10000))}).caveats


def test_fr_2026_gain_without_the_2025_retroactivity_caveat() -> None:
    assert any("retroactively" in c for c in _fr_caveats(dt.date(2025, 6, 2)))
    caveats_2026 = _fr_caveats(dt.date(2026, 6, 2))
    assert not any("retroactively" in c for c in caveats_2026)
    # what remains is honest: the 2026 rate rests on secondary summaries of LFSS 2026
    assert any("capital_gains.rate: source confidence: secondary" in c for c in caveats_2026)


def _rule_finding(pack, rule_id: str, facts: dict):  # type: ignore[no-untyped-def]
    from taxpack.engine.rules.evaluator import get_evaluator
    from taxpack.engine.rules.explain import hit_to_finding

    hits = [h for h in get_evaluator("python").evaluate(pack, facts, pack.law_day(facts["trade.date"])) if h.rule_id == rule_id]
    assert len(hits) == 1, [h.rule_id for h in get_evaluator("python").evaluate(pack, facts, pack.law_day(facts["trade.date"]))]
    return hit_to_finding(pack, hits[0], facts)


@pytest.mark.parametrize("day, rate", [(dt.date(2025, 12, 31), "41%"), (dt.date(2026, 1, 2), "38%")])
def test_ie_fund_purchase_quotes_the_rate_in_force(day: dt.date, rate: str) -> None:
    """One rule instead of one per rate: the message quotes fund_exit_tax.rate (41% to 2025, 38% from 2026, Finance Act
    2025), the CGT rate and the 8 years; the rates' secondary sources reach the caveat."""
    ie = find_bundled("ie")
    facts = {"trade.side": "buy", "trade.date": day, "account.taxable": True, "security.kind": "etf",
             "security.country": "IE", "security.tags": (), "security.id": "VWCE"}
    finding = _rule_finding(ie, "ie.eu_fund_purchase", facts)
    assert f"exit-tax rate of {rate} in force on the trade date, not CGT at 33%" in finding.message
    assert "every 8 years" in finding.message
    assert "parameter fund_exit_tax.rate: source confidence: secondary" in (finding.caveat or "")


def test_us_messages_quote_the_days_and_the_exclusion() -> None:
    us = find_bundled("us")
    text = " ".join(str((r.get("then") or {}).get("message")) for r in us.section("rules"))
    assert "{param:qualified_dividend.max_short_holding_days}" in text and "{param:fx.personal_exclusion}" in text
    assert "60 days" not in text and "$200" not in text
