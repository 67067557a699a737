"""Dividend withholding, dividend by dividend: what can still be reclaimed, by when, and what is lost for good.

For every dividend of the scenario paid from abroad, the rate the source country may keep is the one
`withholding.dividend_withholding` gives (the treaty's, capped by the statutory rate; a wrapper's own
treaty case). Tax withheld above that rate can be reclaimed from the source country with the form,
from the authority and before the deadline its pack names (`withholding.reclaim`); once the deadline
has passed, it is lost. Of the tax the source country may keep, what the residence country does not
credit is lost too: all of it in a wrapper outside the taxable computation (US dividends in a TFSA),
the part above the credit cap otherwise. The rest is creditable at home (the year's computation).

Money stays in the dividend's currency; every line cites the pack and the source it rests on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterable

import attrs

from taxpack.engine.consequences.serialize import finding_dict
from taxpack.engine.consequences.withholding import WithholdingCase, dividend_withholding
from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.core.household import Dividend, Finding, Scenario
from taxpack.engine.law.findings import caveat_for, make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.sections import Reclaim

ZERO = Decimal(0)
HALF_CENT = Decimal("0.005")  # below this, withholding above the treaty rate is rounding, not a claim


@attrs.frozen
class ReclaimLine:
    """One dividend from abroad: what was withheld, what the source country may keep, and what happens to the rest."""

    dividend: Dividend
    owner: str
    resident_of: str
    source_country: str
    currency: str
    gross: Decimal
    withheld: Decimal
    entitled_rate: Decimal | None  # what the source country may keep, as a share of the gross (None: not known)
    basis: str  # treaty-account | treaty | statutory | unknown
    reclaimable: Decimal  # above the entitled rate and still within the deadline
    expired: Decimal  # above the entitled rate, past the deadline: lost
    no_route: Decimal  # above the entitled rate, but the source pack names no way to reclaim it
    lost: Decimal  # within the entitled rate but not creditable at home (wrapper, above the credit cap)
    creditable: Decimal  # within the entitled rate and creditable at home
    lost_reason: str | None
    deadline: dt.date | None
    form: str | None
    authority: str | None
    findings: tuple[Finding, ...] = ()


@attrs.frozen
class CountryTotal:
    source_country: str
    currency: str
    dividends: int
    gross: Decimal
    withheld: Decimal
    reclaimable: Decimal
    expired: Decimal
    no_route: Decimal
    lost: Decimal
    creditable: Decimal
    next_deadline: dt.date | None  # the earliest deadline of what can still be reclaimed
    form: str | None
    authority: str | None


@attrs.frozen
class ReclaimReport:
    as_of: dt.date
    lines: tuple[ReclaimLine, ...]
    totals: tuple[CountryTotal, ...]
    domestic: int  # dividends paid by the taxpayer's own country of residence (nothing withheld abroad)
    packs: tuple[Pack, ...] = ()


def deadline_of(reclaim: Reclaim, paid: dt.date) -> dt.date:
    """The last day a claim can reach the authority: the pack's duration counted from its anchor."""
    rule = reclaim.deadline
    if rule.anchor == "payment_date":
        anchor = paid
    elif rule.anchor == "end_of_payment_year":
        anchor = dt.date(paid.year, 12, 31)
    elif rule.anchor == "start_of_payment_year":
        anchor = dt.date(paid.year, 1, 1)
    else:  # day_after_payment_year
        month, day = (int(part) for part in (rule.day or "12-31").split("-"))
        anchor = dt.date(paid.year + 1, month, day)
    months = 12 * (rule.years or 0) + (rule.months or 0)
    # A period in months ends on the same day of the month; where that day does not exist, on the month's last day.
    return shift(anchor, Duration(months=months), month_rounding="decreasing", span=rule.span)


def reclaim_report(scenario: Scenario, packs: PackSet, as_of: dt.date | None = None) -> ReclaimReport:
    """Every dividend of `scenario` paid from abroad, and the totals per source country and currency."""
    day = as_of or scenario.as_of
    lines: list[ReclaimLine] = []
    domestic = 0
    used: dict[str, Pack] = {}
    for dividend in sorted(scenario.dividends, key=lambda d: (d.date, d.id)):
        line = _line(scenario, packs, dividend, day, used)
        if line is None:
            domestic += 1
        else:
            lines.append(line)
    lines.sort(key=lambda line: (line.source_country, line.dividend.date, line.dividend.id))
    return ReclaimReport(day, tuple(lines), tuple(_totals(lines)), domestic, tuple(used[k] for k in sorted(used)))


def _line(scenario: Scenario, packs: PackSet, dividend: Dividend, day: dt.date, used: dict[str, Pack]) -> ReclaimLine | None:
    account = scenario.account(dividend.account)
    taxpayer = scenario.taxpayer(account.owner)
    security = scenario.security(dividend.security)
    source = dividend.source_country or security.country
    resident = taxpayer.residence_on(dividend.date)
    if source == resident:
        return None
    currency = dividend.currency or security.currency
    gross, withheld = dividend.gross, dividend.withheld
    case = dividend_withholding(packs, attrs.evolve(security, country=source), account, taxpayer, dividend.date)
    source_pack = packs.get(source)
    findings: list[Finding] = []
    if case is None:
        # Neither a treaty row nor a pack of the source country: what it may keep is not known.
        return ReclaimLine(dividend, taxpayer.id, resident, source, currency, gross, withheld, None, "unknown",
                           ZERO, ZERO, ZERO, ZERO, ZERO, f"no pack for {source} and no treaty row {source}-{resident}: the rate it may keep is not known",
                           None, None, None, ())
    for pack in (case.pack, source_pack):
        if pack is not None:
            used[pack.id] = pack
    entitled = gross * case.rate
    excess = withheld - entitled
    if excess < HALF_CENT:
        excess = ZERO
    kept = withheld - excess
    reclaimable = expired = no_route = ZERO
    deadline = form = authority = None
    reclaim = _reclaim_rule(source_pack)
    if excess > 0:
        if reclaim is None or source_pack is None:
            no_route = excess
            if source_pack is not None:
                findings.append(make_finding(
                    source_pack, code="withholding_reclaim_route_unknown", severity="warning",
                    message=f"{_money(excess)} {currency} withheld by {source} above the {_pct(case.rate)} it may keep; pack {source_pack.id} names no way to reclaim it",
                    rule=f"{source_pack.id}.withholding", source=_section_source(source_pack), facts=_facts(dividend, case)))
        else:
            deadline = deadline_of(reclaim, dividend.date)
            form, authority = reclaim.form, reclaim.authority
            caveats = [c for c in (caveat_for(source_pack, reclaim.deadline.source, reclaim.deadline.uncertain),) if c]
            if day > deadline:
                expired = excess
                findings.append(make_finding(
                    source_pack, code="withholding_reclaim_expired", severity="warning",
                    message=f"{_money(excess)} {currency} withheld by {source} above the {_pct(case.rate)} it may keep could have been reclaimed until {deadline}: lost",
                    rule=f"{source_pack.id}.withholding.reclaim", source=reclaim.source, uncertain=reclaim.uncertain, caveats=caveats,
                    facts={**_facts(dividend, case), "reclaim.deadline": deadline}, amount=excess))
            else:
                reclaimable = excess
                findings.append(make_finding(
                    source_pack, code="withholding_reclaimable", severity="warning",
                    message=f"reclaim {_money(excess)} {currency} from {authority} with {form} by {deadline} "
                            f"({_pct(withheld / gross if gross else ZERO)} withheld, {_pct(case.rate)} allowed)",
                    rule=f"{source_pack.id}.withholding.reclaim", source=reclaim.source, uncertain=reclaim.uncertain, caveats=caveats,
                    facts={**_facts(dividend, case), "reclaim.deadline": deadline}, amount=excess))
    lost_share = case.lost_rate / case.rate if case.rate else ZERO
    lost = kept * lost_share
    lost_reason = None
    if lost > 0:
        lost_reason = ("not creditable: the account is a wrapper outside the taxable computation" if not case.creditable
                       else f"above the credit {resident} gives for foreign tax")
        if case.pack is not None:
            findings.append(make_finding(
                case.pack, code="withholding_lost", severity="warning",
                message=f"{_money(lost)} {currency} withheld by {source} is lost for good: {lost_reason}",
                rule=f"{case.pack.id}.withholding", source=case.source, uncertain=case.uncertain,
                facts=_facts(dividend, case), amount=lost))
    return ReclaimLine(dividend, taxpayer.id, resident, source, currency, gross, withheld, case.rate, case.basis,
                       reclaimable, expired, no_route, lost, kept - lost, lost_reason, deadline, form, authority, tuple(findings))


def _reclaim_rule(pack: Pack | None) -> Reclaim | None:
    if pack is None or pack.sections.withholding is None:
        return None
    return pack.sections.withholding.reclaim


def _section_source(pack: Pack) -> str | None:
    section = pack.sections.withholding
    return section.source if section is not None else None


def _facts(dividend: Dividend, case: WithholdingCase) -> dict[str, object]:
    return {"dividend.id": dividend.id, "dividend.date": dividend.date, "dividend.gross": dividend.gross,
            "dividend.withheld": dividend.withheld, "withholding.allowed_rate": case.rate, "withholding.basis": case.basis}


def _totals(lines: Iterable[ReclaimLine]) -> list[CountryTotal]:
    groups: dict[tuple[str, str], list[ReclaimLine]] = {}
    for line in lines:
        groups.setdefault((line.source_country, line.currency), []).append(line)
    totals = []
    for (country, currency), group in sorted(groups.items()):
        def total(name: str, group: list[ReclaimLine] = group) -> Decimal:
            return sum((getattr(line, name) for line in group), ZERO)
        open_deadlines = [line.deadline for line in group if line.reclaimable > 0 and line.deadline is not None]
        routes = [line for line in group if line.form]
        totals.append(CountryTotal(
            country, currency, len(group), total("gross"), total("withheld"), total("reclaimable"), total("expired"), total("no_route"),
            total("lost"), total("creditable"), min(open_deadlines) if open_deadlines else None,
            routes[0].form if routes else None, routes[0].authority if routes else None))
    return totals


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def _pct(rate: Decimal) -> str:
    return format((rate * 100).quantize(Decimal("0.001")).normalize(), "f") + "%"


# ---------------------------------------------------------------------------------------------
# The JSON form: the stable contract every other format reads
# ---------------------------------------------------------------------------------------------


def report_json(report: ReclaimReport) -> dict[str, object]:
    """Amounts as decimal strings to the cent, dates ISO; the lines by source country and date, then the totals."""
    def money(value: Decimal | None) -> str | None:
        return None if value is None else _money(value)

    return {
        "as_of": report.as_of.isoformat(),
        "packs": [{"id": p.id, "version": p.version, "sha256": p.sha256} for p in report.packs],
        "domestic_dividends": report.domestic,
        "countries": [
            {"source_country": t.source_country, "currency": t.currency, "dividends": t.dividends, "gross": money(t.gross),
             "withheld": money(t.withheld), "reclaimable": money(t.reclaimable), "expired": money(t.expired), "no_route": money(t.no_route),
             "lost": money(t.lost), "creditable": money(t.creditable),
             "next_deadline": t.next_deadline.isoformat() if t.next_deadline else None, "form": t.form, "authority": t.authority}
            for t in report.totals
        ],
        "dividends": [
            {"id": line.dividend.id, "account": line.dividend.account, "security": line.dividend.security, "date": line.dividend.date.isoformat(),
             "owner": line.owner, "resident_of": line.resident_of, "source_country": line.source_country, "currency": line.currency,
             "gross": money(line.gross), "withheld": money(line.withheld),
             "allowed_rate": format(line.entitled_rate.normalize(), "f") if line.entitled_rate is not None else None, "basis": line.basis,
             "reclaimable": money(line.reclaimable), "expired": money(line.expired), "no_route": money(line.no_route),
             "lost": money(line.lost), "lost_reason": line.lost_reason, "creditable": money(line.creditable),
             "deadline": line.deadline.isoformat() if line.deadline else None, "form": line.form, "authority": line.authority,
             "findings": [finding_dict(f, None, explain=False) for f in line.findings]}
            for line in report.lines
        ],
    }
