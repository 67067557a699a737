"""Sales around a planned or past move of residence: the findings `taxpack check` adds to them.

A sale just before leaving may escape a step-up on arrival or fall under an exit tax; a sale after
arriving may be taxed on value the country left already taxed; a sale after leaving may end a deferral.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.core.household import Finding, Scenario, Transaction
from taxpack.engine.core.money import percent_text
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.sections import ArrivalBasis
from taxpack.engine.lots.lens import Lens


def residence_findings(trade: Transaction, lens: Lens, scenario: Scenario, packs: PackSet, *,
                       gain: Decimal | None = None) -> list[Finding]:
    """Findings on a sale whose tax depends on which side of a residence change it falls.

    Only on the residence lens (one set per trade). `gain` is the lens's gain on the sale, if known.
    """
    if trade.side != "sell" or lens.basis != "residence":
        return []
    account = scenario.account(trade.account)
    taxpayer = scenario.taxpayer(account.owner)
    changes = sorted(taxpayer.residence_changes, key=lambda c: c.date)
    if not changes:
        return []
    findings: list[Finding] = []
    here = lens.jurisdiction
    upcoming = next((c for c in changes if c.date > trade.date), None)
    past = [c for c in changes if c.date <= trade.date]
    last = past[-1] if past else None

    if upcoming is not None and upcoming.to != here and (gain is None or gain > 0):
        findings.extend(_before_move(trade, lens, upcoming, packs, gain))
    if last is not None and last.to == here and _held_before(scenario, trade, last.date):
        origin = taxpayer.residence_on(last.date - dt.timedelta(days=1))
        findings.extend(_after_arrival(trade, lens, last, origin, packs))
    if last is not None:
        origin = taxpayer.residence_on(last.date - dt.timedelta(days=1))
        if origin != here and _held_before(scenario, trade, last.date):
            findings.extend(_trailing(trade, last, origin, packs, gain))
    return findings


def _held_before(scenario: Scenario, trade: Transaction, day: dt.date) -> bool:
    """Did the account hold this security (a buy of it) before `day`?"""
    return any(tx.side == "buy" and tx.account == trade.account and tx.security == trade.security and tx.date < day
               for tx in scenario.transactions)


def _step_up(pack: Pack | None) -> ArrivalBasis | None:
    section = pack.sections.arrival if pack is not None else None
    return section if section is not None and section.step_up else None


def _before_move(trade: Transaction, lens: Lens, move: Any, packs: PackSet, gain: Decimal | None) -> list[Finding]:
    dest = packs.get(move.to)
    step = _step_up(dest)
    if dest is None or step is None:
        return []
    days = (move.date - trade.date).days
    leaving = lens.pack
    exit_tax = leaving.sections.exit_tax
    applies = exit_tax.applies if exit_tax is not None else None
    cited = leaving.citation(exit_tax.source if exit_tax is not None else None)
    scope_text = "" if step.scope == "all" else " (substantial holdings only)"
    if applies is False:
        tail = (f"{lens.jurisdiction} has no exit tax ({cited}): selling after the move would "
                f"leave the gain accrued so far untaxed by both")
        severity = "warning"
    elif exit_tax is not None and exit_tax.deemed_disposal == "all" and not exit_tax.threshold and not exit_tax.who:
        tail = f"{lens.jurisdiction}'s exit tax would tax the same gain at departure anyway ({cited})"
        severity = "info"
    else:
        tail = (f"whether {lens.jurisdiction}'s exit tax would catch this holding depends on its tests and thresholds "
                f"({cited}); `taxpack exit` shows whether it does")
        severity = "info"
    message = (f"sold {days} days before the move to {move.to} on {move.date.isoformat()}: {move.to} takes property held on "
               f"arrival at its value then{scope_text}, so this gain would not be taxed there; {tail}")
    return [make_finding(dest, code="sale_before_move_step_up", severity=severity, message=message,
                         rule=f"{dest.id}.arrival", source=step.source, uncertain=step.uncertain, amount=gain,
                         facts={"move.date": move.date, "move.to": move.to, "days_before_move": days,
                                "leaving": lens.jurisdiction, "leaving.exit_tax": applies})]


def _after_arrival(trade: Transaction, lens: Lens, move: Any, origin: str, packs: PackSet) -> list[Finding]:
    pack = lens.pack
    section = pack.sections.arrival
    facts = {"arrival.date": move.date, "arrival.from": origin, "security.id": trade.security}
    if section is not None and section.step_up:
        scope_text = "" if section.scope == "all" else " if it is a substantial holding"
        return [make_finding(pack, code="cost_not_stepped_up", severity="warning",
                             message=(f"{trade.security} was held before arriving in {lens.jurisdiction} on {move.date.isoformat()}: "
                                      f"its cost here is its value on arrival{scope_text}, not the purchase cost used in this gain; "
                                      f"`taxpack exit SCENARIO --date {move.date.isoformat()} --to {lens.jurisdiction}` gives that cost"),
                             rule=f"{pack.id}.arrival", source=section.source, uncertain=section.uncertain, facts=facts)]
    after = section.after_exit_tax if section is not None else None
    origin_pack = packs.get(origin)
    origin_exit = origin_pack.sections.exit_tax if origin_pack is not None else None
    out: list[Finding] = []
    if after is not None and (after.origins is None or origin in after.origins):
        what = "may elect" if after.election else "may take"
        only = ""
        if after.holding_threshold:
            only = f" (only a holding of at least {percent_text(pack.resolve(after.holding_threshold, pack.coverage_from))} of the company)"
        out.append(make_finding(pack, code="arrival_exit_value", severity="info",
                                message=(f"{trade.security} was held before arriving from {origin} on {move.date.isoformat()}: if {origin} "
                                         f"taxed it at departure, the taxpayer {what} its value then as the cost here{only} "
                                         f"({pack.citation(after.source)}); the gain shown uses the purchase cost"),
                                rule=f"{pack.id}.arrival", source=after.source, facts=facts))
        if not (after.holding_threshold or after.kinds):
            return out
    if origin_exit is not None and origin_exit.applies:
        source = section.source if section is not None else None
        return out + [make_finding(pack, code="double_tax_risk", severity="warning",
                             message=(f"{trade.security} was held before arriving from {origin} on {move.date.isoformat()}: {origin}'s "
                                      f"exit tax may have taxed the gain to then, and {lens.jurisdiction} keeps the purchase cost "
                                      f"({pack.citation(source)}), so that part of the gain may be taxed twice"),
                             rule=f"{pack.id}.arrival", source=source, uncertain=section.uncertain if section is not None else None, facts=facts)]
    return out


def _trailing(trade: Transaction, move: Any, origin: str, packs: PackSet, gain: Decimal | None) -> list[Finding]:
    pack = packs.get(origin)
    if pack is None:
        return []
    section = pack.sections.exit_tax
    if section is None:
        return []
    out = []
    facts = {"departure.date": move.date, "departure.from": origin, "security.id": trade.security}
    ends = section.deferral_ends_on_sale
    if section.applies and ends:
        within = ends.get("years") if isinstance(ends, Mapping) else None
        limit = _add_years(move.date, int(within)) if within else None
        if limit is None or trade.date < limit:
            when = f" within {within} years of leaving" if within else ""
            deferral = section.deferral
            out.append(make_finding(pack, code="exit_tax_deferral_ends", severity="info",
                                    message=(f"if {origin}'s exit tax on {trade.security} was deferred when leaving on "
                                             f"{move.date.isoformat()}, this sale{when} ends the deferral and the tax falls due"),
                                    rule=f"{pack.id}.exit_tax", source=(deferral.source if deferral is not None else None) or section.source,
                                    facts=facts))
    carry = section.loss_carryback
    if section.applies and carry is not None and gain is not None and gain < 0:
        out.append(make_finding(pack, code="exit_tax_loss_carryback", severity="info",
                                message=(f"a loss on this sale of property {origin} deemed sold on leaving ({move.date.isoformat()}) may be "
                                         f"carried back against the departure gain"),
                                rule=f"{pack.id}.exit_tax", source=carry.source, facts=facts))
    temporary = section.temporary_non_residence
    if temporary is not None:
        years = int(temporary.absence_under_years)
        if years and trade.date < _add_years(move.date, years):
            out.append(make_finding(pack, code="temporary_non_residence", severity="warning",
                                    message=(f"sold within {years} years of leaving {origin} ({move.date.isoformat()}): if the holding is "
                                             f"large enough and the taxpayer returns within {years} years, {origin} taxes this gain on "
                                             f"return as if made before leaving"),
                                    rule=f"{pack.id}.exit_tax", source=temporary.source, facts=facts))
    return out


def _add_years(day: dt.date, years: int) -> dt.date:
    return shift(day, Duration(years=years), +1, "decreasing")
