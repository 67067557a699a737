"""Moving country: the exit tax of the country left, the cost on arrival, and trades timed around the move.

`simulate_exit` values the taxpayer's holdings the day before the move and runs the leaving country's
exit tax and the destination's arrival rule over them (`taxpack exit`); `--compare` sets the tax of
selling each holding before the move against selling it just after. `residence_findings` flags, in
`taxpack check`, trades whose outcome depends on which side of a planned move they fall.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

import attrs

from .. import __version__
from .arrival import Arrival, ArrivalCost, arrival
from ..errors import EvaluationError, SemanticError
from ..estimate import Estimate, Estimator, YearGains
from .departure import Departure, ExitInputs, Holding, Outcome, departure, value_holdings
from ..findings import make_finding
from ..fx.rates import FxTable, load_fx
from ..lens import Lens
from ..lots.replay import event_order, replay
from ..model import Finding, Scenario, Transaction
from ..packs.model import Pack
from ..packs.registry import PackSet
from .prices import PriceBook
from ..report.money import money_text, number_text

ZERO = Decimal(0)


@attrs.frozen
class CompareRow:
    """One holding: the tax of selling it the day before the move against selling it just after."""

    outcome: Outcome
    before: Decimal | None
    after_exit: Decimal | None
    after_destination: Decimal | None  # converted to the leaving currency
    after_destination_native: Decimal | None
    destination_gain: Decimal | None
    missing: tuple[str, ...] = ()

    @property
    def after(self) -> Decimal | None:
        if self.after_exit is None or self.after_destination is None:
            return None
        return self.after_exit + self.after_destination

    @property
    def difference(self) -> Decimal | None:
        return None if self.after is None or self.before is None else self.after - self.before


@attrs.frozen
class ExitResult:
    scenario: Scenario
    departure: Departure
    arrival: Arrival | None
    arrival_note: str
    compare: tuple[CompareRow, ...] | None
    fx_rate: Any = None


def simulate_exit(scenario: Scenario, packs: PackSet, taxpayer_id: str, date: dt.date, to: str, prices: PriceBook,
                  inputs: ExitInputs | None = None, *, compare: bool = False, fx: FxTable | None = None) -> ExitResult:
    """Simulate `taxpayer_id` leaving on `date` (first day of residence in `to`)."""
    inputs = inputs or ExitInputs()
    known = {t.id for t in scenario.taxpayers}
    if taxpayer_id not in known:
        raise SemanticError(f"unknown taxpayer '{taxpayer_id}'", None, "one of " + ", ".join(sorted(known)))
    taxpayer = scenario.taxpayer(taxpayer_id)
    securities = {s.id for s in scenario.securities}
    unknown = sorted(set(inputs.stakes) - securities)
    if unknown:
        raise SemanticError(f"--stake names unknown securit{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}", None,
                            "one of " + ", ".join(sorted(securities)))
    valuation = date - dt.timedelta(days=1)
    leaving = taxpayer.residence_on(valuation)
    if leaving == to:
        raise SemanticError(f"{taxpayer_id} is resident in {to} on {valuation.isoformat()} already: there is no move to simulate",
                            None, "--to a country other than the residence the day before --date")
    leaving_pack = packs.get(leaving)
    if leaving_pack is None:
        raise EvaluationError(f"no pack for {leaving}, the country {taxpayer_id} leaves: its exit tax cannot be computed")
    leaving_pack.require_coverage(valuation)
    fx = fx or load_fx(scenario)
    # The holdings at departure: the executed history before the move (candidate trades are what
    # `taxpack check` annotates; --compare shows selling before or after).
    history = {id(tx) for tx in scenario.transactions}
    events = [tx for tx in event_order(scenario) if id(tx) in history and tx.date < date]
    book = replay(leaving_pack, scenario, fx, events)
    holdings = value_holdings(book.ledger, scenario, taxpayer.id, valuation, prices, fx, inputs.max_price_age_days)
    dep = departure(leaving_pack, scenario, taxpayer, date, to, holdings, inputs)

    dest_pack = packs.get(to)
    arr = None
    note = ""
    dest_holdings: list[Holding] = []
    if dest_pack is None:
        note = f"no pack for {to}: the cost on arrival is not computed"
    else:
        dest_book = replay(dest_pack, scenario, fx, events)
        dest_holdings = value_holdings(dest_book.ledger, scenario, taxpayer.id, valuation, prices, fx, inputs.max_price_age_days)
        arr = arrival(dest_pack, date, dest_holdings, dep, inputs.stakes)
    rows = None
    if compare:
        rows = tuple(_compare(dep, arr, dest_pack, taxpayer, fx, valuation))
    return ExitResult(scenario, dep, arr, note, rows)


def _compare(dep: Departure, arr: Arrival | None, dest_pack: Pack | None, taxpayer: Any, fx: FxTable,
             valuation: dt.date) -> list[CompareRow]:
    pack = dep.pack
    day = pack.law_day(valuation)
    regular = Estimator(pack, taxpayer, day)
    rows = []
    for outcome in dep.outcomes:
        h = outcome.holding
        if not h.taxable or h.gain == 0:
            continue
        missing: list[str] = []
        before = _tax(regular, _terms(h.lots), missing)
        if outcome.status == "deemed_sold":
            after_exit = outcome.tax_alone.tax if outcome.tax_alone is not None else None
            if outcome.tax_alone is not None:
                missing.extend(outcome.tax_alone.missing)
        else:
            after_exit = ZERO
        dest_native = dest_gain = after_dest = None
        if arr is not None and dest_pack is not None:
            dest_gain, terms = _destination_gain(h, arr.costs)
            if dest_gain is None:
                missing.append(f"the holding in {arr.to}'s books")
            else:
                dday = dest_pack.law_day(valuation)
                dest_native = _tax(Estimator(dest_pack, taxpayer, dday), terms, missing)
                if dest_native is not None:
                    if arr.currency == dep.currency:
                        after_dest = dest_native
                    else:
                        rate = fx.rate(arr.currency, dep.currency, valuation, missing="nearest_earlier")
                        after_dest = dest_native * rate.rate
        else:
            missing.append("a pack for the destination")
        rows.append(CompareRow(outcome, before, after_exit, after_dest, dest_native, dest_gain, tuple(sorted(set(missing)))))
    return rows


def _terms(lots: Any) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for lot in lots:
        term = lot.term if lot.term in ("short", "long") else "none"
        out[term] = out.get(term, ZERO) + lot.gain
    return out


def _tax(estimator: Estimator, terms: Mapping[str, Decimal], missing: list[str]) -> Decimal | None:
    estimate: Estimate = estimator.tax(YearGains().add(terms))
    missing.extend(estimate.missing)
    return estimate.tax


def _destination_gain(h: Holding, costs: tuple[ArrivalCost, ...]) -> tuple[Decimal | None, dict[str, Decimal]]:
    """The destination's gain on the units of `h`, sold at the same price just after arrival."""
    quantity = ZERO
    gain = ZERO
    terms: dict[str, Decimal] = {}
    for cost in costs:
        d = cost.holding
        if d.security != h.security or not set(d.accounts) & set(h.accounts):
            continue
        for lot in d.lots:
            if lot.account not in h.accounts:
                continue
            # The lot's share of the arrival cost (the pool's, by quantity).
            share = cost.arrival_cost * lot.quantity / d.quantity
            g = lot.fmv - share
            quantity += lot.quantity
            gain += g
            term = "none" if cost.rule in ("step_up",) or lot.term not in ("short", "long") else lot.term
            terms[term] = terms.get(term, ZERO) + g
    if quantity == 0:
        return None, {}
    if quantity != h.quantity:
        scale = h.quantity / quantity
        gain *= scale
        terms = {k: v * scale for k, v in terms.items()}
    return gain, terms


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------


def _m(value: Decimal | None, pack: Pack | None) -> str | None:
    return money_text(value, pack)


def _citation(pack: Pack | None, sid: str | None) -> dict[str, Any]:
    src = pack.source(sid) if pack is not None else None
    if src is None:
        return {"source": sid, "citation": None, "url": None, "confidence": None}
    return {"source": sid, "citation": src.citation, "url": src.url, "confidence": src.confidence}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return number_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json_dict(result: ExitResult) -> dict[str, Any]:
    dep = result.departure
    pack = dep.pack
    tax = dep.tax
    holdings = []
    for o in dep.outcomes:
        h = o.holding
        row = {
            "security": h.security, "kind": h.kind, "pool": h.pool, "accounts": list(h.accounts), "wrapper": h.wrapper,
            "quantity": number_text(h.quantity), "price": number_text(h.price.price), "price_currency": h.price.currency,
            "price_date": h.price.date.isoformat(),
            "fx_rate": number_text(h.rate.rate) if h.rate else None, "fx_rate_date": h.rate.rate_date.isoformat() if h.rate else None,
            "cost": _m(h.cost, pack), "fmv": _m(h.fmv, pack), "gain": _m(h.gain, pack),
            "status": o.status, "reason": o.reason, **_citation(pack, o.source),
        }
        if o.status == "deemed_sold":
            row["deemed_gain"] = _m(h.gain, pack)
            row["exclusion"] = _m(o.exclusion, pack)
            row["taxable_gain"] = _m(o.taxable_gain, pack)
            row["taxed_as"] = o.taxation
            row["tax_alone"] = _m(o.tax_alone.tax, pack) if o.tax_alone else None
        holdings.append(row)
    deemed = dep.deemed()
    out: dict[str, Any] = {
        "taxpack": __version__,
        "scenario": result.scenario.id or result.scenario.source,
        "taxpayer": dep.taxpayer.id,
        "move": {"from": dep.leaving, "to": dep.to, "date": dep.date.isoformat(), "valuation_date": dep.valuation_date.isoformat()},
        "departure": {
            "pack": pack.ref, "pack_sha256": pack.sha256, "currency": dep.currency, "exit_tax_applies": dep.applies,
            "reason": dep.reason, **_citation(pack, dep.source),
            "tests": [{"test": t.name, "value": _plain(t.value), "threshold": _plain(t.threshold), "held": t.held,
                       **_citation(pack, t.source), **({"note": t.note} if t.note else {})} for t in dep.tests],
            "holdings": holdings,
            "totals": {
                "fmv": _m(sum((o.holding.fmv for o in dep.outcomes), ZERO), pack),
                "deemed_gain": _m(sum((o.holding.gain for o in deemed), ZERO), pack),
                "exclusion": _m(sum((o.exclusion for o in deemed), ZERO), pack),
                "taxable_gain": _m(sum((o.taxable_gain for o in deemed), ZERO), pack),
                # No deemed holding: nothing to tax. An estimate that lacks an input is null, with what it lacks.
                "tax": _m(tax.tax, pack) if tax is not None else _m(ZERO, pack),
                "tax_missing": list(tax.missing) if tax is not None else [],
            },
            "deferral": {k: _plain(v) for k, v in sorted(dep.deferral.items())} | (
                _citation(pack, dep.deferral.get("source")) if dep.deferral else {}),
            "reporting": [{**{k: _plain(v) for k, v in r.items()}, **_citation(pack, r.get("source"))} for r in dep.reporting],
            "caveats": list(dep.caveats) + (list(tax.caveats) if tax is not None else []),
        },
        "assumptions": list(dep.assumptions),
    }
    arr = result.arrival
    if arr is None:
        out["arrival"] = {"note": result.arrival_note}
    else:
        ap = arr.pack
        out["arrival"] = {
            "pack": ap.ref, "pack_sha256": ap.sha256, "currency": arr.currency, "step_up": arr.step_up, "note": arr.note,
            **_citation(ap, arr.source),
            "holdings": [{
                "security": c.holding.security, "pool": c.holding.pool, "accounts": list(c.holding.accounts),
                "quantity": number_text(c.holding.quantity), "historical_cost": _m(c.historical_cost, ap),
                "fmv": _m(c.holding.fmv, ap), "arrival_cost": _m(c.arrival_cost, ap), "rule": c.rule, "elective": c.elective,
                "reason": c.reason, **_citation(ap, c.source),
            } for c in arr.costs],
            "caveats": list(arr.caveats),
        }
    if result.compare is not None:
        out["compare"] = [{
            "security": r.outcome.holding.security, "pool": r.outcome.holding.pool, "gain": _m(r.outcome.holding.gain, pack),
            "currency": dep.currency, "status_at_exit": r.outcome.status,
            "sell_before": _m(r.before, pack), "sell_after_exit_tax": _m(r.after_exit, pack),
            "sell_after_destination_tax": _m(r.after_destination, pack),
            "destination_gain": _m(r.destination_gain, arr.pack if arr else None),
            "destination_tax_native": _m(r.after_destination_native, arr.pack if arr else None),
            "sell_after": _m(r.after, pack), "difference": _m(r.difference, pack), "missing": list(r.missing),
        } for r in result.compare]
    return out


# ---------------------------------------------------------------------------------------------
# Findings for `taxpack check`: trades on either side of a planned move
# ---------------------------------------------------------------------------------------------


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


def _step_up(pack: Pack | None) -> Mapping[str, Any] | None:
    section = (pack.section("arrival") if pack is not None else None) or {}
    return section if section.get("step_up") else None


def _before_move(trade: Transaction, lens: Lens, move: Any, packs: PackSet, gain: Decimal | None) -> list[Finding]:
    dest = packs.get(move.to)
    step = _step_up(dest)
    if dest is None or step is None:
        return []
    days = (move.date - trade.date).days
    leaving = lens.pack
    exit_tax = leaving.section("exit_tax") or {}
    scope = step.get("scope", "all")
    scope_text = "" if scope == "all" else " (substantial holdings only)"
    if exit_tax.get("applies") is False:
        tail = (f"{lens.jurisdiction} has no exit tax ({leaving.citation(exit_tax.get('source'))}): selling after the move would "
                f"leave the gain accrued so far untaxed by both")
        severity = "warning"
    elif exit_tax.get("deemed_disposal") == "all" and not exit_tax.get("threshold") and not exit_tax.get("who"):
        tail = f"{lens.jurisdiction}'s exit tax would tax the same gain at departure anyway ({leaving.citation(exit_tax.get('source'))})"
        severity = "info"
    else:
        tail = (f"whether {lens.jurisdiction}'s exit tax would catch this holding depends on its tests and thresholds "
                f"({leaving.citation(exit_tax.get('source'))}); `taxpack exit` shows whether it does")
        severity = "info"
    message = (f"sold {days} days before the move to {move.to} on {move.date.isoformat()}: {move.to} takes property held on "
               f"arrival at its value then{scope_text}, so this gain would not be taxed there; {tail}")
    return [make_finding(dest, code="sale_before_move_step_up", severity=severity, message=message,
                         rule=f"{dest.id}.arrival", source=step.get("source"), uncertain=step.get("uncertain"), amount=gain,
                         facts={"move.date": move.date, "move.to": move.to, "days_before_move": days,
                                "leaving": lens.jurisdiction, "leaving.exit_tax": exit_tax.get("applies")})]


def _after_arrival(trade: Transaction, lens: Lens, move: Any, origin: str, packs: PackSet) -> list[Finding]:
    pack = lens.pack
    section = pack.section("arrival") or {}
    facts = {"arrival.date": move.date, "arrival.from": origin, "security.id": trade.security}
    if section.get("step_up"):
        scope = section.get("scope", "all")
        scope_text = "" if scope == "all" else " if it is a substantial holding"
        return [make_finding(pack, code="cost_not_stepped_up", severity="warning",
                             message=(f"{trade.security} was held before arriving in {lens.jurisdiction} on {move.date.isoformat()}: "
                                      f"its cost here is its value on arrival{scope_text}, not the purchase cost used in this gain; "
                                      f"`taxpack exit SCENARIO --date {move.date.isoformat()} --to {lens.jurisdiction}` gives that cost"),
                             rule=f"{pack.id}.arrival", source=section.get("source"), uncertain=section.get("uncertain"), facts=facts)]
    after = section.get("after_exit_tax") or {}
    origin_pack = packs.get(origin)
    origin_exit = (origin_pack.section("exit_tax") if origin_pack is not None else None) or {}
    out: list[Finding] = []
    limited = bool(after.get("holding_threshold") or after.get("kinds"))
    if after and (after.get("from") is None or origin in after["from"]):
        what = "may elect" if after.get("election") else "may take"
        only = ""
        if after.get("holding_threshold"):
            only = f" (only a holding of at least {_pct(pack.resolve(after['holding_threshold'], pack.coverage_from))} of the company)"
        out.append(make_finding(pack, code="arrival_exit_value", severity="info",
                                message=(f"{trade.security} was held before arriving from {origin} on {move.date.isoformat()}: if {origin} "
                                         f"taxed it at departure, the taxpayer {what} its value then as the cost here{only} "
                                         f"({pack.citation(after.get('source'))}); the gain shown uses the purchase cost"),
                                rule=f"{pack.id}.arrival", source=after.get("source"), facts=facts))
        if not limited:
            return out
    if origin_exit.get("applies"):
        return out + [make_finding(pack, code="double_tax_risk", severity="warning",
                             message=(f"{trade.security} was held before arriving from {origin} on {move.date.isoformat()}: {origin}'s "
                                      f"exit tax may have taxed the gain to then, and {lens.jurisdiction} keeps the purchase cost "
                                      f"({pack.citation(section.get('source'))}), so that part of the gain may be taxed twice"),
                             rule=f"{pack.id}.arrival", source=section.get("source"), uncertain=section.get("uncertain"), facts=facts)]
    return out


def _pct(rate: Any) -> str:
    return format((Decimal(rate) * 100).normalize(), "f") + "%"


def _trailing(trade: Transaction, move: Any, origin: str, packs: PackSet, gain: Decimal | None) -> list[Finding]:
    pack = packs.get(origin)
    if pack is None:
        return []
    section = pack.section("exit_tax") or {}
    out = []
    facts = {"departure.date": move.date, "departure.from": origin, "security.id": trade.security}
    ends = section.get("deferral_ends_on_sale")
    if section.get("applies") and ends:
        within = ends.get("years") if isinstance(ends, Mapping) else None
        limit = _add_years(move.date, int(within)) if within else None
        if limit is None or trade.date < limit:
            when = f" within {within} years of leaving" if within else ""
            deferral = section.get("deferral") or {}
            out.append(make_finding(pack, code="exit_tax_deferral_ends", severity="info",
                                    message=(f"if {origin}'s exit tax on {trade.security} was deferred when leaving on "
                                             f"{move.date.isoformat()}, this sale{when} ends the deferral and the tax falls due"),
                                    rule=f"{pack.id}.exit_tax", source=deferral.get("source") or section.get("source"), facts=facts))
    carry = section.get("loss_carryback")
    if section.get("applies") and carry and gain is not None and gain < 0:
        out.append(make_finding(pack, code="exit_tax_loss_carryback", severity="info",
                                message=(f"a loss on this sale of property {origin} deemed sold on leaving ({move.date.isoformat()}) may be "
                                         f"carried back against the departure gain"),
                                rule=f"{pack.id}.exit_tax", source=carry.get("source"), facts=facts))
    temporary = section.get("temporary_non_residence")
    if temporary:
        years = int(temporary.get("absence_under_years", 0))
        if years and trade.date < _add_years(move.date, years):
            out.append(make_finding(pack, code="temporary_non_residence", severity="warning",
                                    message=(f"sold within {years} years of leaving {origin} ({move.date.isoformat()}): if the holding is "
                                             f"large enough and the taxpayer returns within {years} years, {origin} taxes this gain on "
                                             f"return as if made before leaving"),
                                    rule=f"{pack.id}.exit_tax", source=temporary.get("source"), facts=facts))
    return out


def _add_years(day: dt.date, years: int) -> dt.date:
    from ..dates import Duration, shift

    return shift(day, Duration(years=years), +1, "decreasing")
