"""The household's bill: each lens's year computed whole, relief between countries, and what each
candidate trade adds to it.

Trades are priced in their order: a trade's tax under a lens is the lens's year bill with the trade
minus the bill without it, so per-trade figures add up to the year. Gains already realised in the year
(executed history, and amounts the user gives as realised elsewhere) and losses carried in from earlier
years are in the bill before the first candidate. Where two lenses tax one trade, the later one in the
order of taxing rights (source, residence, citizenship) credits the earlier one's tax as the treaty
table or its pack says, never beyond its own tax on the income both tax.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

import attrs

from taxpack.engine.consequences.relief import Relief, ordered, relief_for
from taxpack.engine.consequences.year_bill import Bill, BasketTotals, Carried, YearBill
from taxpack.engine.core.household import Scenario, Taxpayer
from taxpack.engine.core.money import money_text
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.year_rules import YearRules, year_rules
from taxpack.engine.lots.lens import Lens

ZERO = Decimal(0)
Items = Sequence[tuple[str, Decimal]]  # (basket, amount in the lens currency)


@attrs.frozen
class CreditLine:
    """The credit one lens gives for another's tax on one trade, and why."""

    relief: Relief
    amount: Decimal  # in the crediting lens's currency
    foreign_tax: Decimal  # the other lens's tax on this trade, in the crediting lens's currency (creditable part)
    limit_reached: bool


@attrs.frozen
class TradeTax:
    """What a trade adds to one lens's year: gross tax, credits for other countries' tax, net tax."""

    gross: Decimal | None
    credit: Decimal
    net: Decimal | None
    missing: tuple[str, ...]
    caveats: tuple[str, ...]
    credits: tuple[CreditLine, ...] = ()
    unrelieved: tuple[str, ...] = ()  # other lenses taxing the trade with no relief rule between them


@attrs.define
class LensYear:
    """One taxpayer's year under one lens, as trades are added."""

    pack: Pack
    rules: YearRules
    billing: YearBill
    year: int
    totals: dict[str, BasketTotals]
    carried: tuple[Carried, ...]
    start: Bill
    bill: Bill
    credits: dict[str, Decimal] = attrs.field(factory=dict)  # credited pack id -> credit so far
    foreign_tax: dict[str, Decimal] = attrs.field(factory=dict)  # credited pack id -> creditable tax so far
    shared: dict[str, dict[str, BasketTotals]] = attrs.field(factory=dict)  # credited pack id -> totals both tax
    reliefs: dict[str, Relief] = attrs.field(factory=dict)
    gross: Decimal = ZERO
    complete: bool = True

    def compute(self, totals: Mapping[str, BasketTotals]) -> Bill:
        return self.billing.compute(totals, self.carried, self.year)


class HouseholdBill:
    """Accumulates the year of every (lens, taxpayer) as candidate trades are added in order."""

    def __init__(self, scenario: Scenario, packs: PackSet, fx: FxTable) -> None:
        self.scenario = scenario
        self.packs = packs
        self.fx = fx
        self.years: dict[tuple[str, str, int], LensYear] = {}
        self.base_currency = base_currency(scenario, packs)
        self.household = {"gross": ZERO, "credits": ZERO, "net": ZERO}
        self.complete = True

    # -- the year of a lens ---------------------------------------------------------------------------

    def lens_year(self, pack: Pack, taxpayer: Taxpayer, day: dt.date, baseline: Iterable[tuple[str, Decimal]] = ()) -> LensYear:
        """The (lens, taxpayer) year `day` falls in, created with its baseline on first use."""
        rules = year_rules(pack)
        year = rules.tax_year(day)
        key = (pack.id, taxpayer.id, year)
        found = self.years.get(key)
        if found is not None:
            return found
        jurisdiction = pack.jurisdiction or pack.id
        billing = YearBill(pack, rules, taxpayer, pack.law_day(day), jurisdiction)
        totals: dict[str, BasketTotals] = {b.id: BasketTotals() for b in rules.baskets}
        for basket, amount in baseline:
            totals.setdefault(basket, BasketTotals()).add(amount)
        for basket, amount in sorted(taxpayer.realised.get(jurisdiction, {}).items()):
            totals.setdefault(basket, BasketTotals()).add(amount)
        carried = self._carried_in(pack, taxpayer, jurisdiction, year)
        start = billing.compute(totals, carried, year)
        lens_year = LensYear(pack, rules, billing, year, totals, carried, start, start)
        self.years[key] = lens_year
        return lens_year

    def _carried_in(self, pack: Pack, taxpayer: Taxpayer, jurisdiction: str, year: int) -> tuple[Carried, ...]:
        """Losses into `year`: the previous year's carry-out when this run priced it, else the scenario's."""
        before = self.years.get((pack.id, taxpayer.id, year - 1))
        if before is not None:
            return before.bill.carry_after
        return tuple(Carried(c.basket, c.amount, c.year) for c in taxpayer.carry_forward.get(jurisdiction, ()))

    # -- a trade --------------------------------------------------------------------------------------

    def add_trade(self, day: dt.date, taxpayer: Taxpayer, items: Mapping[Lens, Items],
                  baselines: Mapping[str, Items] | None = None) -> dict[str, TradeTax]:
        """Add one trade's realised amounts per lens; the tax each lens's year gains, credits and net."""
        lenses = ordered(list(items))
        out: dict[str, TradeTax] = {}
        nets_in: dict[str, tuple[Decimal | None, str]] = {}  # pack id -> (net tax of this trade, currency)
        for lens in lenses:
            ly = self.lens_year(lens.pack, taxpayer, day, (baselines or {}).get(lens.pack.id, ()))
            before = ly.bill
            for basket, amount in items[lens]:
                ly.totals.setdefault(basket, BasketTotals()).add(amount)
            ly.bill = ly.compute(ly.totals)
            gross = None if ly.bill.tax is None or before.tax is None else ly.bill.tax - before.tax
            if gross is None:
                ly.complete = False
            credit_lines, unrelieved = self._credits(ly, lens, lenses, items, day, nets_in)
            credit = sum((c.amount for c in credit_lines), ZERO)
            net = None if gross is None else gross - credit
            if gross is not None:
                ly.gross += gross
            nets_in[lens.pack.id] = (net, lens.pack.currency or "")
            out[lens.jurisdiction] = TradeTax(gross, credit, net, ly.bill.missing, ly.bill.caveats, tuple(credit_lines), tuple(unrelieved))
            self._to_household(gross, credit, net, lens.pack.currency or "", day)
        return out

    def _credits(self, ly: LensYear, lens: Lens, lenses: list[Lens], items: Mapping[Lens, Items], day: dt.date,
                 nets_in: Mapping[str, tuple[Decimal | None, str]]) -> tuple[list[CreditLine], list[str]]:
        lines: list[CreditLine] = []
        unrelieved: list[str] = []
        for other in lenses:
            if other is lens or other.pack.id not in nets_in:
                continue
            relief = ly.reliefs.get(other.pack.id) or relief_for(self.packs, lens, other)
            if relief is None:
                unrelieved.append(other.jurisdiction)
                continue
            ly.reliefs[other.pack.id] = relief
            shared = ly.shared.setdefault(other.pack.id, {})
            for basket, amount in items[lens]:
                shared.setdefault(basket, BasketTotals()).add(amount)
            other_net, other_currency = nets_in[other.pack.id]
            creditable = ZERO
            if other_net is not None and relief.credit == "full":
                creditable = other_net
            elif other_net is not None and relief.credit == "as_source_country" and _taxes_non_residents(other.pack):
                creditable = other_net
            if creditable:
                creditable = self.fx.convert(creditable, other_currency, lens.pack.currency or other_currency, day,
                                             missing="nearest_earlier")[0]
            ly.foreign_tax[other.pack.id] = ly.foreign_tax.get(other.pack.id, ZERO) + creditable
            limit = self._limit(ly, shared)
            if limit is None:
                continue
            if relief.credit == "exemption":
                total = max(ZERO, limit)
            else:
                total = max(ZERO, min(limit, ly.foreign_tax[other.pack.id]))
            delta = total - ly.credits.get(other.pack.id, ZERO)
            ly.credits[other.pack.id] = total
            if delta or creditable:
                lines.append(CreditLine(relief, delta, creditable, total == limit and relief.credit != "exemption"))
        return lines, unrelieved

    def _limit(self, ly: LensYear, shared: Mapping[str, BasketTotals]) -> Decimal | None:
        """The lens's tax on the income both tax: its bill minus its bill without that income."""
        if ly.bill.tax is None:
            return None
        rest = {b: BasketTotals(t.gains - shared.get(b, BasketTotals()).gains, t.losses - shared.get(b, BasketTotals()).losses)
                for b, t in ly.totals.items()}
        without = ly.compute(rest)
        return None if without.tax is None else ly.bill.tax - without.tax

    def _to_household(self, gross: Decimal | None, credit: Decimal, net: Decimal | None, currency: str, day: dt.date) -> None:
        if gross is None or net is None:
            self.complete = False
            return
        for key, value in (("gross", gross), ("credits", credit), ("net", net)):
            if value:
                self.household[key] += self.fx.convert(value, currency, self.base_currency, day, missing="nearest_earlier")[0]

    # -- the summary ----------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The household's bill for the candidate trades, and each lens's year before and after them."""
        rounding = next((p for p in self.packs.packs if p.currency == self.base_currency), None)
        lenses = []
        for (pack_id, taxpayer, year), ly in sorted(self.years.items()):
            pack = ly.pack
            unused = {pid: ly.foreign_tax[pid] - ly.credits.get(pid, ZERO) for pid in ly.foreign_tax}
            lenses.append({
                "jurisdiction": pack.jurisdiction or pack.id, "taxpayer": taxpayer, "year": year, "currency": pack.currency,
                "tax_before": money_text(ly.start.tax, pack), "tax_after": money_text(ly.bill.tax, pack),
                "gross_tax": money_text(ly.gross, pack) if ly.complete else None,
                "credits": money_text(sum(ly.credits.values(), ZERO), pack),
                "net_tax": money_text(ly.gross - sum(ly.credits.values(), ZERO), pack) if ly.complete else None,
                "unused_foreign_tax": {pid: money_text(v, pack) for pid, v in sorted(unused.items()) if v > 0},
                "carry_forward_after": [c.as_dict(pack) for c in ly.bill.carry_after],
                "missing": list(ly.bill.missing), "steps": list(ly.bill.steps),
            })
        return {
            "currency": self.base_currency,
            "gross_tax": money_text(self.household["gross"], rounding) if self.complete else None,
            "credits": money_text(self.household["credits"], rounding),
            "net_tax": money_text(self.household["net"], rounding) if self.complete else None,
            "lenses": lenses,
        }


def base_currency(scenario: Scenario, packs: PackSet) -> str:
    """The scenario's base currency, or that of the first taxpayer's country of residence."""
    if scenario.base_currency:
        return scenario.base_currency
    first = scenario.taxpayers[0]
    pack = packs.get(first.residence)
    return (pack.currency if pack is not None else None) or "EUR"


def _taxes_non_residents(pack: Pack) -> bool:
    scope = pack.section("scope") or {}
    return bool(scope.get("non_resident_gains"))
