"""Withholding by wrapper: the treaty table's account cases (jurisdictions/treaties/pack.yaml) and Irish DWT.

- US dividends in a TFSA (RESP, FHSA) of a Canadian resident who is not a US person: 15% withheld, lost
  (the plan is not an Art. XXI(2) trust and, untaxed, credits nothing).
- The same TFSA of a US citizen living in Canada: a US person gives the broker a W-9 and nothing is withheld;
  what a broker withholds anyway is the citizen's own US tax, credited on the 1040. Nothing is lost.
- RRSP: 0% under Art. XXI(2) for both.
- Irish dividends to individuals resident in an EU state or a treaty country: 0% at source on a V2A
  declaration (Revenue, DWT exemptions for non-residents), not the treaty's 15%.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from taxpack.engine.consequences.withholding import dividend_withholding
from taxpack.engine.core.household import Account, Security, Taxpayer
from taxpack.engine.law.registry import pack_set

DAY = dt.date(2026, 3, 2)
PACKS = pack_set(None)
VTI = Security("VTI", "USD", "US", kind="etf")
CANADIAN = Taxpayer("marie", "CA", citizenship=("CA",))
US_CITIZEN = Taxpayer("amy", "CA", citizenship=("US",))
DUAL = Taxpayer("sam", "CA", citizenship=("CA", "US"))


def _case(taxpayer: Taxpayer, wrapper: str, security: Security = VTI, country: str = "CA"):  # type: ignore[no-untyped-def]
    account = Account(f"{taxpayer.id}-{wrapper}", taxpayer.id, country, "CAD", wrapper)
    return dividend_withholding(PACKS, security, account, taxpayer, DAY)


@pytest.mark.parametrize("wrapper", ["tfsa", "resp", "fhsa"])
def test_a_canadians_tfsa_loses_the_15_percent(wrapper: str) -> None:
    case = _case(CANADIAN, wrapper)
    assert (case.rate, case.lost_rate, case.basis) == (Decimal("0.15"), Decimal("0.15"), "treaty-account")


@pytest.mark.parametrize("taxpayer", [US_CITIZEN, DUAL], ids=["us-citizen", "dual-citizen"])
@pytest.mark.parametrize("wrapper", ["tfsa", "resp", "fhsa"])
def test_a_us_citizens_tfsa_loses_nothing(taxpayer: Taxpayer, wrapper: str) -> None:
    case = _case(taxpayer, wrapper)
    assert (case.rate, case.lost_rate, case.basis) == (Decimal(0), Decimal(0), "treaty-account-citizen")
    assert case.source == "us-person-own-tax" and "W-9" in (case.uncertain or "")


@pytest.mark.parametrize("taxpayer", [CANADIAN, US_CITIZEN], ids=["canadian", "us-citizen"])
def test_an_rrsp_is_exempt_for_both(taxpayer: Taxpayer) -> None:
    case = _case(taxpayer, "rrsp")
    assert (case.rate, case.lost_rate) == (Decimal(0), Decimal(0))


def test_a_taxable_account_is_credited_in_canada_for_both() -> None:
    for taxpayer in (CANADIAN, US_CITIZEN):
        case = _case(taxpayer, "taxable")
        assert (case.rate, case.lost_rate, case.creditable) == (Decimal("0.15"), Decimal(0), True)


@pytest.mark.parametrize("residence", ["US", "CA", "DE", "FR", "ES", "IT", "NL"])
def test_irish_dividends_bear_no_dwt_for_a_treaty_or_eu_resident_with_a_declaration(residence: str) -> None:
    ryanair = Security("RYA", "EUR", "IE")
    holder = Taxpayer("h", residence)
    case = _case(holder, "taxable", ryanair, residence)
    assert case.rate == Decimal(0) and case.lost_rate == Decimal(0)
    assert case.statutory == Decimal(0)
