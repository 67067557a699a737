"""Tax estimates from the packs, against figures worked out by hand from the cited law.

US: 2026 thresholds from Rev. Proc. 2025-32 (single: 0% to 49,450, 15% to 545,500, 20% above);
NIIT 3.8% over $200,000 MAGI (single), IRC §1411.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from taxpack.engine.consequences.estimate import Estimator, YearGains, bracket_tax
from taxpack.engine.core.household import Taxpayer
from taxpack.engine.law.load import load_pack

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 6, 1)


def us_tax(gains: YearGains, **taxpayer: object):
    pack = load_pack(ROOT / "jurisdictions" / "us")
    person = Taxpayer(id="t", residence="US", **taxpayer)  # type: ignore[arg-type]
    return Estimator(pack, person, DAY).tax(gains)


def test_bracket_tax_stacks_on_the_base() -> None:
    brackets = [{"from": 0, "rate": 0}, {"from": 49450, "rate": Decimal("0.15")}, {"from": 545500, "rate": Decimal("0.20")}]
    # 40,000 other income + 20,000 gain: 9,450 at 0%, 10,550 at 15% = 1,582.50
    assert bracket_tax(brackets, Decimal(60000)) - bracket_tax(brackets, Decimal(40000)) == Decimal("1582.50")


def test_us_long_term_gain_stacked_on_other_income_2026_single() -> None:
    estimate = us_tax(YearGains(long=Decimal(20000)), filing_status="single", other_income={"US": Decimal(40000)})
    assert estimate.tax == Decimal("1582.50")


def test_us_niit_on_the_part_above_the_threshold() -> None:
    # other 190,000 + gain 20,000 = 210,000: LTCG all at 15% = 3,000; NIIT 3.8% x min(20,000, 10,000) = 380
    estimate = us_tax(YearGains(long=Decimal(20000)), filing_status="single", other_income={"US": Decimal(190000)})
    assert estimate.tax == Decimal("3380.000")


def test_missing_filing_status_and_income_are_named() -> None:
    estimate = us_tax(YearGains(long=Decimal(1000)))
    assert estimate.tax is None
    assert "filing_status for US" in estimate.missing and "other_income for US" in estimate.missing


def test_short_term_needs_the_marginal_rate() -> None:
    estimate = us_tax(YearGains(short=Decimal(1000)), filing_status="single", other_income={"US": Decimal(40000)})
    assert estimate.tax is None and "marginal_rate for US" in estimate.missing
    estimate = us_tax(YearGains(short=Decimal(1000)), filing_status="single", other_income={"US": Decimal(40000)}, marginal_rate={"US": Decimal("0.22")})
    assert estimate.tax == Decimal("220.00")


def test_a_net_loss_costs_nothing_and_short_losses_net_against_long_gains() -> None:
    assert us_tax(YearGains(long=Decimal(-500)), filing_status="single", other_income={"US": Decimal(40000)}).tax == 0
    # short -3,000 nets against long +13,000: 10,000 long at 15% (base 60,000 above 49,450: 10,000 taxed, 0 at 0%)
    estimate = us_tax(YearGains(short=Decimal(-3000), long=Decimal(13000)), filing_status="single",
                      other_income={"US": Decimal(60000)}, marginal_rate={"US": Decimal("0.22")})
    assert estimate.tax == Decimal("1500.00")
