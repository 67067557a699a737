"""An allowance keyed by filing status (DE saver's allowance) is resolved with the taxpayer's status.

Figures are derived by hand from §20(9) EStG (EUR 1,000 single, EUR 2,000 joint), §32d(1) EStG (25%)
and §4 SolZG (5.5% of the tax); see jurisdictions/de/tests/estimate.yaml for the derivations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from taxpack.engine.consequences.estimate import Estimator, YearGains
from taxpack.engine.core.household import Taxpayer
from taxpack.engine.law.load import load_pack

DE = Path(__file__).resolve().parent.parent / "jurisdictions" / "de"


def _tax(status: str | None, gain: str, day: dt.date):
    pack = load_pack(DE)
    taxpayer = Taxpayer(id="t", residence="DE", filing_status=status)
    return Estimator(pack, taxpayer, day).tax(YearGains(other=Decimal(gain)))


def test_single_allowance_then_flat_rate_and_surcharge() -> None:
    # 1200 - 1000 = 200 taxable; 25% = 50.00; soli 2.75
    assert _tax("single", "1200", dt.date(2025, 10, 1)).tax == Decimal("52.75")


def test_joint_allowance_is_the_married_joint_entry() -> None:
    # 2400 - 2000 = 400 taxable; 100.00 + 5.50
    assert _tax("married_joint", "2400", dt.date(2024, 11, 4)).tax == Decimal("105.50")


def test_gain_below_the_allowance_costs_nothing() -> None:
    assert _tax("single", "999.99", dt.date(2026, 3, 2)).tax == Decimal(0)


def test_missing_filing_status_is_named_not_guessed() -> None:
    estimate = _tax(None, "5000", dt.date(2026, 6, 1))
    assert estimate.tax is None
    assert estimate.missing == ("filing_status for DE",)
