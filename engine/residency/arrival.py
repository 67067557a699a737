"""Arrival: the cost a holding has in the new country of residence.

Some countries deem a newcomer to have bought everything at fair market value on arrival (a step-up:
gains accrued before are never taxed there); others keep the historical cost, so the whole gain since
purchase is taxed on a later sale, sometimes with an exception for holdings the departure country
already taxed (a treaty election, or that country's exit value). The destination's `arrival` section
says which.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Mapping

import attrs

from taxpack.engine.core.money import percent_text
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.sections import AfterExitTax
from taxpack.engine.residency.departure import Departure, Holding, compare

ZERO = Decimal(0)


@attrs.frozen
class ArrivalCost:
    """One holding as the destination sees it on arrival: historical cost, value, and the cost it takes."""

    holding: Holding  # valued in the destination's currency, pooled as the destination pools
    historical_cost: Decimal
    arrival_cost: Decimal
    rule: str  # step_up | historical | election | exit_value | outside
    reason: str
    source: str | None
    elective: bool = False


@attrs.frozen
class Arrival:
    pack: Pack
    to: str
    date: dt.date
    step_up: bool
    note: str
    source: str | None
    costs: tuple[ArrivalCost, ...]
    caveats: tuple[str, ...] = ()

    @property
    def currency(self) -> str:
        return self.pack.currency or ""


def arrival(pack: Pack, date: dt.date, holdings: list[Holding], departure: Departure | None,
            stakes: Mapping[str, Decimal]) -> Arrival:
    """The cost of each holding (valued in `pack`'s currency) after arriving on `date`."""
    section = pack.sections.arrival
    day = pack.law_day(date)
    jurisdiction = pack.jurisdiction or pack.id
    source = section.source if section is not None else None
    taxed_at_exit = set()
    if departure is not None:
        # Matched by security and account: the same security in a registered plan was not taxed.
        taxed_at_exit = {(o.holding.security, account) for o in departure.deemed() for account in o.holding.accounts}
    after = section.after_exit_tax if section is not None else None
    costs = []
    for h in holdings:
        if not h.taxable:
            costs.append(ArrivalCost(h, h.cost, h.cost, "outside", f"inside a {h.wrapper}, outside {jurisdiction}'s taxable computation", source))
            continue
        if section is not None and section.step_up:
            scope = section.scope
            if scope == "all":
                costs.append(ArrivalCost(h, h.cost, h.fmv, "step_up", f"deemed acquired at fair market value on arrival in {jurisdiction}", source))
                continue
            if scope == "substantial_holdings":
                threshold = Decimal(pack.resolve(section.need("holding_threshold"), day))
                stake = stakes.get(h.security)
                if stake is not None and compare(stake, threshold, section.holding_comparison):
                    costs.append(ArrivalCost(h, h.cost, h.fmv, "step_up", f"a substantial holding ({percent_text(stake)}): acquired at market value on arrival", source))
                    continue
                seen = "not given" if stake is None else percent_text(stake)
                costs.append(ArrivalCost(h, h.cost, h.cost, "historical",
                                         f"the step-up covers holdings of at least {percent_text(threshold)} only (stake {seen}): historical cost", source))
                continue
        if after is not None and departure is not None and all((h.security, a) in taxed_at_exit for a in h.accounts) and _after_exit_applies(pack, after, day, h, departure, stakes):
            elective = bool(after.election)
            rule = "election" if elective else "exit_value"
            what = ("may elect a cost equal to the value at departure, which the departure country taxed" if elective
                    else "takes the value the departure country's exit tax used")
            costs.append(ArrivalCost(h, h.cost, h.fmv, rule, what, after.source or source, elective))
            continue
        costs.append(ArrivalCost(h, h.cost, h.cost, "historical",
                                 f"no step-up on arrival in {jurisdiction}: the historical cost stays the cost", source))
    caveats = []
    if section is not None and section.uncertain:
        caveats.append(str(section.uncertain))
    src = pack.source(source)
    if src is not None and src.confidence != "verified":
        caveats.append(f"source confidence: {src.confidence} ({src.citation})")
    step_up = section is not None and bool(section.step_up)
    note = str((section.note if section is not None else None) or "")
    return Arrival(pack, jurisdiction, date, step_up, note, source, tuple(costs), tuple(caveats))


def _after_exit_applies(pack: Pack, after: AfterExitTax, day: dt.date, h: Holding, departure: Departure,
                        stakes: Mapping[str, Decimal]) -> bool:
    origins = after.origins
    if origins is not None and departure.leaving not in origins:
        return False
    kinds = after.kinds
    if kinds is not None and h.kind not in kinds:
        return False
    if after.holding_threshold:
        stake = stakes.get(h.security)
        threshold = Decimal(pack.resolve(after.holding_threshold, day))
        if stake is None or not compare(stake, threshold, after.holding_comparison):
            return False
    return True
