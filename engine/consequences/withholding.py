"""Withholding on dividends, and the part of it a household loses for good (leakage).

A dividend paid by a company of one country to a resident of another suffers the source country's
withholding: its statutory rate, cut by the treaty between the two, with account cases that matter
for asset location (US dividends in an RRSP: 0%, treaty Art. XXI; in a TFSA: 15%, lost). Tax
withheld in a taxable account is usually credited at home; in a wrapper that is not taxable, it is lost,
unless the holder is a citizen the source country taxes anyway (a US citizen's TFSA): a treaty account
case's `citizens` entry says so (`own_tax`), and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from taxpack.engine.core.household import Account, Security, Taxpayer
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.sections import Withholding

ZERO = Decimal(0)


@attrs.frozen
class WithholdingCase:
    """The withholding rate on a security's dividends in one account, and how much of it is lost."""

    source_country: str
    resident_of: str
    wrapper: str
    rate: Decimal
    lost_rate: Decimal
    creditable: bool
    pack: Pack | None
    source: str | None
    uncertain: str | None
    basis: str  # treaty-account | treaty-account-citizen | treaty | statutory | domestic
    relief: str | None = None  # at_source | refund: how the treaty rate is obtained
    statutory: Decimal | None = None


def _credit_cap(home: Pack | None, day: dt.date) -> Decimal | None:
    """The share of gross foreign income the home country credits (CA s.126: 15% on property income)."""
    if home is None:
        return None
    section = home.sections.foreign_tax_credit
    if section is None or section.method != "credit" or section.cap_rate is None:
        return None
    return Decimal(home.resolve(section.cap_rate, home.law_day(day)))


def _withheld(treaty_cap: Decimal, statutory: Decimal | None) -> Decimal:
    """A treaty caps the source country's tax; it never raises it above the statutory rate (FR 12.8% < 15%)."""
    return treaty_cap if statutory is None else min(treaty_cap, statutory)


def _statutory(packs: PackSet, source_country: str, day: dt.date) -> tuple[Decimal | None, Pack | None, Withholding | None]:
    pack = packs.get(source_country)
    if pack is None:
        return None, None, None
    section = pack.sections.withholding
    if section is None or section.dividends_non_resident is None:
        return None, pack, section
    return Decimal(pack.resolve(section.dividends_non_resident, pack.law_day(day))), pack, section


def _lost(rate: Decimal, creditable: bool, cap: Decimal | None) -> Decimal:
    if not creditable:
        return rate
    if cap is not None and rate > cap:
        return rate - cap  # above the credit cap: at best deductible, not credited
    return ZERO


def dividend_withholding(packs: PackSet, security: Security, account: Account, taxpayer: Taxpayer, day: dt.date) -> WithholdingCase | None:
    """The dividend withholding a holding suffers, or None when nothing is known to be withheld."""
    source_country = security.country
    resident = taxpayer.residence_on(day)
    if source_country == resident:
        return None
    home = packs.get(resident)
    home_wrapper = home.sections.wrapper(account.wrapper) if home and account.wrapper != "taxable" else None
    in_wrapper = home_wrapper is not None and home_wrapper.taxable is False
    cap = _credit_cap(home, day)
    statutory, source_pack, section = _statutory(packs, source_country, day)
    for treaty in packs.treaties:
        for row in treaty.sections.treaties or ():
            if row.source_country != source_country or row.resident_of != resident or not row.in_force(day):
                continue
            case = row.accounts.get(account.wrapper)
            basis = "treaty-account"
            if case is not None and case.citizens is not None and source_country in taxpayer.citizenship:
                case, basis = case.citizens, "treaty-account-citizen"
            if case is not None and case.dividends is not None:
                rate = _withheld(Decimal(treaty.resolve(case.dividends, day)), statutory)
                creditable = bool(case.creditable if case.creditable is not None else not in_wrapper)
                # A citizen the source country taxes anyway: what it withholds is a payment of that tax, not a cost.
                lost = ZERO if case.own_tax else _lost(rate, creditable, cap)
                return WithholdingCase(source_country, resident, account.wrapper, rate, lost, creditable,
                                       treaty, case.source, case.uncertain or row.uncertain, basis, row.relief, statutory)
            rate = _withheld(Decimal(treaty.resolve(row.dividends, day)), statutory)
            creditable = not in_wrapper
            return WithholdingCase(source_country, resident, account.wrapper, rate, _lost(rate, creditable, cap), creditable,
                                   treaty, row.source, row.uncertain, "treaty", row.relief, statutory)
    if statutory is None or source_pack is None or section is None:
        return None
    rate = statutory
    creditable = not in_wrapper
    return WithholdingCase(source_country, resident, account.wrapper, rate, _lost(rate, creditable, cap), creditable,
                           source_pack, section.source, section.uncertain, "statutory", None, statutory)

