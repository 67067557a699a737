"""Year-section features the new packs rely on, on a small pack written here (numbers by hand)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

from taxpack.engine.consequences.household_bill import basket_items
from taxpack.engine.consequences.year_bill import BasketTotals, YearBill
from taxpack.engine.core.household import Security, Taxpayer
from taxpack.engine.law.load import load_pack
from taxpack.engine.law.year_rules import year_rules

PACK = """
format: 1
kind: jurisdiction
id: xa
jurisdiction: XA
title: Test pack
version: 1.0.0
currency: EUR
coverage: {from: 2024-01-01, to: 2026-12-31}
sources:
  act-1: {citation: "Test Act s.1", confidence: verified}
scope: {source: act-1, residents: true}
holding_period: {source: act-1, rule: none}
lots: {source: act-1, pool_scope: account, methods: [fifo], default: fifo}
fx: {source: act-1, legs: each_leg_own_date, date: trade, missing_rate: error}
capital_gains:
  source: act-1
  allowance: 1000
  estimate: {method: flat, rate: 0.25}
year:
  source: act-1
  allowance_threshold: true
  baskets:
    - {id: old, title: held 15 years or more, held: {from: {years: 15}}, tax: {method: flat, rate: 0}}
    - {id: mid, title: held 5 to 15 years, held: {from: {years: 5}, until: {years: 15}}, tax: {method: flat, rate: 0.15}}
    - {id: funds, title: equity funds, kinds: [etf], inclusion: 0.7}
    - {id: rest, title: other gains}
"""


def _pack(tmp_path: Path):
    (tmp_path / "pack.yaml").write_text(PACK, encoding="utf-8")
    return load_pack(tmp_path / "pack.yaml")


def test_baskets_by_holding_period_calendar_years(tmp_path: Path) -> None:
    rules = year_rules(_pack(tmp_path))
    share = Security("S", "EUR", "XA", "share")
    sold = dt.date(2026, 3, 1)
    items = basket_items(rules, [("none", D(100), dt.date(2011, 3, 1)), ("none", D(200), dt.date(2011, 3, 2)),
                                 ("none", D(400), dt.date(2021, 3, 1)), ("none", D(800), dt.date(2021, 3, 2))], share, sold)
    # 15 years to the day is "at least 15 years"; a day less is the 5-15 band; 5 years to the day likewise.
    assert items == [("mid", D(600)), ("old", D(100)), ("rest", D(800))]


def test_inclusion_per_basket_and_a_threshold_that_is_not_an_allowance(tmp_path: Path) -> None:
    pack = _pack(tmp_path)
    billing = YearBill(pack, year_rules(pack), Taxpayer("p", "XA"), dt.date(2026, 3, 1), "XA")
    under = billing.compute({"funds": BasketTotals(D(1000))})
    assert under.tax == 0  # 700 taxable, under the threshold of 1,000
    over = billing.compute({"funds": BasketTotals(D(1000)), "rest": BasketTotals(D(400))})
    assert over.taxable == {"old": 0, "mid": 0, "funds": D(700), "rest": D(400)}  # 1,100 > 1,000: all of it
    assert over.tax == D(1100) * D("0.25")
