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
from taxpack.engine.consequences.year_bill import CURRENT, UNKNOWN, BasketTotals, Bill, Carried, YearBill, spread_key
from taxpack.engine.core.household import Scenario, Security, Taxpayer
from taxpack.engine.core.money import money_text
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.year_rules import PROCEEDS, UNPRICED, YearRules, allocate_by_day, year_rules
from taxpack.engine.lots.lens import Lens

ZERO = Decimal(0)
Items = Sequence[tuple[str, Decimal]]  # (basket, amount in the lens currency)
# (holding term, amount in the lens currency, start of the holding period or None) of one sale; a fourth
# element False marks a part that skips the baskets taxed year by year (a mark-to-market loss below cost); a
# fifth, the sale price of the part (before selling costs), for the baskets whose tests read the year's sale prices
Realised = Sequence[tuple[Any, ...]]


def basket_items(rules: YearRules, realised: Realised, security: Security, sold: dt.date) -> list[tuple[str, Decimal]]:
    """A sale's realised amounts (per holding term and holding start) in the baskets of a pack's year.
    A gain in a basket that spreads it over the holding period (US §1291) goes in per tax year. In a basket
    whose year's sale prices a test reads, the part's sale price goes in too, as BASKET#proceeds (a part
    given without one counts under BASKET#unpriced: the test then cannot be applied)."""
    out: dict[str, Decimal] = {}
    year = rules.tax_year(sold)
    priced = rules.proceeds_baskets()
    for term, amount, acquired, *rest in realised:
        proceeds = rest[1] if len(rest) > 1 else None
        if amount or proceeds:
            sign = 1 if amount >= 0 else -1
            basket = rules.basket_for(term, security.kind, tuple(security.tags), security.country, sign, acquired, sold,
                                      fund_kind=security.fund_kind, election=security.pfic_election, annual=bool(rest[0]) if rest else True,
                                      listed=security.listed)
            if basket in priced:
                key = basket + (PROCEEDS if proceeds is not None else UNPRICED)
                out[key] = out.get(key, ZERO) + (proceeds if proceeds is not None else Decimal(1))
            if not amount:
                continue
            if rules.spread(basket) and amount > 0:
                shares = allocate_by_day(amount, acquired, sold, rules.tax_year, rules.year_start) if acquired is not None else {UNKNOWN: amount}
                for part, share in shares.items():
                    key = spread_key(basket, CURRENT if part == year else part)
                    out[key] = out.get(key, ZERO) + share
                continue
            out[basket] = out.get(basket, ZERO) + amount
    return sorted(out.items())


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


@attrs.frozen
class PricedTrade:
    """A candidate trade as it was priced: its day, taxpayer, and per lens its items and taxes."""

    day: dt.date
    taxpayer: Taxpayer
    lenses: Mapping[Lens, tuple[tuple[tuple[str, Decimal], ...], TradeTax]]


@attrs.frozen
class Alternative:
    """The household's bill if one trade were realised on another day (the same price and rate)."""

    day: dt.date
    why: str
    net_tax: Decimal | None  # what the trade would add to the household's net bill then, base currency
    change: Decimal | None  # against selling as planned (negative: a saving)
    missing: tuple[str, ...] = ()


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

    def compute(self, totals: Mapping[str, BasketTotals], explain: bool = False) -> Bill:
        return self.billing.compute(totals, self.carried, self.year, explain)


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
        self.priced: dict[str, PricedTrade] = {}
        self._later: dict[tuple[str, str, dt.date], YearBill] = {}  # (pack, taxpayer, law day) -> a later year's bill

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
        given = taxpayer.realised.get(jurisdiction, {})
        for basket, amount in sorted(given.items()):
            totals.setdefault(basket, BasketTotals()).add(amount)
            if basket in rules.proceeds_baskets() and amount and basket + PROCEEDS not in given:
                totals.setdefault(basket + UNPRICED, BasketTotals()).add(Decimal(1))  # its sale prices are not known
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
        return tuple(Carried(c.basket, c.amount, c.year, c.original) for c in taxpayer.carry_forward.get(jurisdiction, ()))

    # -- a trade --------------------------------------------------------------------------------------

    def add_trade(self, day: dt.date, taxpayer: Taxpayer, items: Mapping[Lens, Items],
                  baselines: Mapping[str, Items] | None = None, trade_id: str | None = None) -> dict[str, TradeTax]:
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
        if trade_id is not None:
            self.priced[trade_id] = PricedTrade(day, taxpayer, {lens: (tuple(items[lens]), out[lens.jurisdiction]) for lens in lenses})
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
            creditable = other_net if other_net is not None and self._creditable(relief) else ZERO
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
        without = ly.compute(_subtract(ly.totals, shared))
        if without.creditable is None or ly.bill.creditable is None:
            return None
        return ly.bill.creditable - without.creditable

    def _to_household(self, gross: Decimal | None, credit: Decimal, net: Decimal | None, currency: str, day: dt.date) -> None:
        if gross is None or net is None:
            self.complete = False
            return
        for key, value in (("gross", gross), ("credits", credit), ("net", net)):
            if value:
                self.household[key] += self.fx.convert(value, currency, self.base_currency, day, missing="nearest_earlier")[0]

    # -- timing: the same trade on another day ------------------------------------------------------------

    def trade_net(self, trade_id: str) -> Decimal | None:
        """What the trade adds to the household's net bill, in the base currency."""
        priced = self.priced[trade_id]
        total = ZERO
        for lens, (_, tax) in priced.lenses.items():
            if tax.net is None:
                return None
            total += self._base(tax.net, lens.pack.currency or "", priced.day)
        return total

    def alternative(self, trade_id: str, day: dt.date, items: Mapping[Lens, Items], why: str) -> Alternative:
        """The household's net bill if trade `trade_id` were realised on `day` with `items` per lens
        (everything else as priced): in the same tax year its amounts replace the planned ones; in a
        later year they leave this year's bill and enter next year's on their own, with the losses this
        year carries out and next year's other income when the scenario gives it."""
        priced = self.priced[trade_id]
        current = self.trade_net(trade_id)
        alt_nets: dict[str, tuple[Decimal | None, str]] = {}
        cur_nets: dict[str, tuple[Decimal | None, str]] = {}
        total = ZERO
        missing: list[str] = []
        for lens in ordered(list(priced.lenses)):
            old_items, tax = priced.lenses[lens]
            new_items = tuple(items.get(lens, ()))
            ly = self.years[(lens.pack.id, priced.taxpayer.id, year_rules(lens.pack).tax_year(priced.day))]
            cur_nets[lens.pack.id] = (tax.net, lens.pack.currency or "")
            gross, credit, more = self._shifted(ly, lens, priced, old_items, new_items, day, cur_nets, alt_nets)
            missing.extend(more)
            if gross is None:
                alt_nets[lens.pack.id] = (None, lens.pack.currency or "")
                continue
            net = gross - credit
            alt_nets[lens.pack.id] = (net, lens.pack.currency or "")
            total += self._base(net, lens.pack.currency or "", priced.day)  # same rate: only the timing moves
        if missing or current is None or any(n is None for n, _ in alt_nets.values()):
            return Alternative(day, why, None, None, tuple(sorted(set(missing))))
        return Alternative(day, why, total, total - current)

    def _shifted(self, ly: LensYear, lens: Lens, priced: PricedTrade, old_items: Items, new_items: Items, day: dt.date,
                 cur_nets: Mapping[str, tuple[Decimal | None, str]], alt_nets: Mapping[str, tuple[Decimal | None, str]],
                 ) -> tuple[Decimal | None, Decimal, list[str]]:
        """(gross, credit) the trade would add under `lens` if realised on `day` as `new_items`."""
        _, tax = priced.lenses[lens]
        without = _minus(ly.totals, old_items)
        if ly.rules.tax_year(day) == ly.year:
            after_totals = _plus(without, new_items)
            after, base = ly.compute(after_totals), ly.compute(without)
            if after.tax is None or base.tax is None:
                return None, ZERO, list(after.missing or base.missing)
            credit = ZERO
            for other_id, relief in sorted(ly.reliefs.items()):
                shared = _plus(_minus(ly.shared.get(other_id, {}), old_items), new_items)
                rest = ly.compute(_subtract(after_totals, shared))
                if rest.creditable is None or after.creditable is None:
                    continue
                limit = after.creditable - rest.creditable
                foreign = ly.foreign_tax.get(other_id, ZERO)
                if self._creditable(relief):
                    foreign += self._in(alt_nets.get(other_id), lens, priced.day) - self._in(cur_nets.get(other_id), lens, priced.day)
                total = max(ZERO, limit) if relief.credit == "exemption" else max(ZERO, min(limit, foreign))
                credit += _line(tax, relief) + total - ly.credits.get(other_id, ZERO)
            return after.tax - base.tax, credit, []
        # A later tax year: this year without the trade, the next with it alone (its own credits).
        base = ly.compute(without)
        if base.tax is None:
            return None, ZERO, list(base.missing)
        billing = self._next_billing(ly, lens, priced.taxpayer, day)
        year = ly.rules.tax_year(day)
        empty, with_trade = billing.compute({}, base.carry_after, year), billing.compute(_plus({}, new_items), base.carry_after, year)
        if empty.tax is None or with_trade.tax is None:
            return None, ZERO, list(empty.missing or with_trade.missing)
        gross = with_trade.tax - empty.tax
        creditable_next = (with_trade.creditable or ZERO) - (empty.creditable or ZERO)
        credit = ZERO
        for other_id, relief in sorted(ly.reliefs.items()):
            # This year loses the trade's part of the credit; next year credits the trade on its own.
            shared = _minus(ly.shared.get(other_id, {}), old_items)
            rest = ly.compute(_subtract(without, shared))
            foreign = ly.foreign_tax.get(other_id, ZERO)
            if self._creditable(relief):
                foreign -= self._in(cur_nets.get(other_id), lens, priced.day)
            if rest.creditable is not None and base.creditable is not None:
                limit = base.creditable - rest.creditable
                total = max(ZERO, limit) if relief.credit == "exemption" else max(ZERO, min(limit, foreign))
                credit += total - ly.credits.get(other_id, ZERO) + _line(tax, relief)
            foreign_next = self._in(alt_nets.get(other_id), lens, priced.day) if self._creditable(relief) else ZERO
            credit += max(ZERO, creditable_next) if relief.credit == "exemption" else max(ZERO, min(creditable_next, foreign_next))
        return gross, credit, []

    def _next_billing(self, ly: LensYear, lens: Lens, taxpayer: Taxpayer, day: dt.date) -> YearBill:
        """The bill of a later year `day` falls in, with the taxpayer's other income of that year when given
        (one per law day: its memo then serves every trade that waits until then)."""
        jurisdiction = lens.pack.jurisdiction or lens.pack.id
        key = (lens.pack.id, taxpayer.id, lens.pack.law_day(day))
        billing = self._later.get(key)
        if billing is None:
            billing = self._later[key] = YearBill(lens.pack, ly.rules, taxpayer, key[2], jurisdiction,
                                                  taxpayer.next_year_income.get(jurisdiction))
        return billing

    def _creditable(self, relief: Relief) -> bool:
        """Whether the other country's tax on this trade counts for the credit (not only as a source country)."""
        if relief.credit == "full":
            return True
        other = self.packs.get(relief.credited)
        return relief.credit == "as_source_country" and other is not None and _taxes_non_residents(other)

    def _in(self, net: tuple[Decimal | None, str] | None, lens: Lens, day: dt.date) -> Decimal:
        """Another lens's net tax on the trade, in `lens`'s currency."""
        if net is None or net[0] is None or not net[0]:
            return ZERO
        return self.fx.convert(net[0], net[1], lens.pack.currency or net[1], day, missing="nearest_earlier")[0]

    def _base(self, amount: Decimal, currency: str, day: dt.date) -> Decimal:
        return self.fx.convert(amount, currency, self.base_currency, day, missing="nearest_earlier")[0] if amount else ZERO

    # -- the summary ----------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The household's bill for the candidate trades, and each lens's year before and after them."""
        rounding = next((p for p in self.packs.packs if p.currency == self.base_currency), None)
        lenses = []
        for (_pack_id, taxpayer, year), ly in sorted(self.years.items()):
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
                "missing": list(ly.bill.missing), "steps": list(ly.compute(ly.totals, explain=True).steps),
            })
            if ly.rules.carry_back is not None:
                # The year's net loss that the law lets reduce earlier years' tax instead (those years are outside the scenario).
                years = ly.billing.value(ly.rules.carry_back.years)[0]
                lenses[-1]["carry_back_available"] = [
                    {**c.as_dict(pack), "against_years": list(range(year - int(years), year))} for c in ly.bill.carry_back] if years else []
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


def _line(tax: TradeTax, relief: Relief) -> Decimal:
    """The credit the trade got as priced for the other country's tax."""
    return sum((c.amount for c in tax.credits if c.relief.credited == relief.credited), ZERO)


def _subtract(totals: Mapping[str, BasketTotals], part: Mapping[str, BasketTotals]) -> dict[str, BasketTotals]:
    return {b: BasketTotals(t.gains - part.get(b, BasketTotals()).gains, t.losses - part.get(b, BasketTotals()).losses)
            for b, t in totals.items()}


def _plus(totals: Mapping[str, BasketTotals], items: Items) -> dict[str, BasketTotals]:
    out = {b: t.copy() for b, t in totals.items()}
    for basket, amount in items:
        out.setdefault(basket, BasketTotals()).add(amount)
    return out


def _minus(totals: Mapping[str, BasketTotals], items: Items) -> dict[str, BasketTotals]:
    out = {b: t.copy() for b, t in totals.items()}
    for basket, amount in items:
        t = out.setdefault(basket, BasketTotals())
        if amount >= 0:
            t.gains -= amount
        else:
            t.losses -= amount
    return out
