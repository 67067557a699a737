"""Moving country: the exit tax of the country left, the cost on arrival, and trades timed around the move.

`simulate_exit` values the taxpayer's holdings the day before the move and runs the leaving country's
exit tax and the destination's arrival rule over them (`taxpack exit`); `--compare` sets the tax of
selling each holding before the move against selling it just after.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

import attrs

from taxpack.engine import __version__
from taxpack.engine.consequences.estimate import Estimate, Estimator, YearGains
from taxpack.engine.core.errors import EvaluationError, SemanticError
from taxpack.engine.core.household import Scenario
from taxpack.engine.core.money import money_text, number_text
from taxpack.engine.inputs.fx import FxTable, load_fx
from taxpack.engine.inputs.prices import PriceBook
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.lots.replay import event_order, replay
from taxpack.engine.residency.arrival import Arrival, ArrivalCost, arrival
from taxpack.engine.residency.departure import Departure, ExitInputs, Holding, Outcome, departure, value_holdings

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
