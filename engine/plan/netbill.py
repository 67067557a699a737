"""The household's net bill of a plan, priced exactly as `taxpack check` prices a year.

Per lens and taxpayer, the year starts from what `check` starts from (`HouseholdBill.lens_year`: the
history's sales of the year in their baskets, `taxpayers[].realised`, the losses carried in) and the
plan's realised amounts join their baskets; `YearBill.compute` gives the year's tax with and without
them. Where two lenses tax the same sales, the later one in the order of taxing rights credits the
earlier one's net tax on them, as `relief_for` says (treaty rows first, then the crediting pack's
`foreign_tax_credit.credits`), never beyond its own tax on the income both tax: at the level of the
year, credit = max(0, min(limit, foreign tax)), which is what check's trade-by-trade credits add up to.
The planner's program models the same function (engine/plan/yearmodel.py); this module is its exact
price in Decimal for any trade list: the solver's plan, the heuristic's, the naive one, a harvest sale.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Mapping, Sequence

import attrs

from taxpack.engine.consequences.check import realised
from taxpack.engine.consequences.deemed_cost import deemed_gains
from taxpack.engine.consequences.household_bill import HouseholdBill, LensYear, basket_items
from taxpack.engine.consequences.relief import Relief, ordered, relief_for
from taxpack.engine.consequences.year_bill import BasketTotals, Bill
from taxpack.engine.core.household import Scenario
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.year_rules import UNPRICED, year_rules
from taxpack.engine.lots.lens import Lens
from taxpack.engine.lots.replay import LensBook
from taxpack.engine.plan.yearmodel import _spreads
from taxpack.engine.plan.yearmodel import opening as raw_opening

ZERO = Decimal(0)
ONE = Decimal(1)
Key = tuple[str, str]  # (pack id, taxpayer)


@attrs.frozen(eq=False)
class YearLens:
    """One taxpayer's year under one lens, before the plan."""

    key: Key
    pack: Pack
    jurisdiction: str
    currency: str
    year: LensYear  # the year as check starts it: totals, carried losses, the bill before the plan
    opening: Mapping[str, Decimal]  # each basket's net of its own gains and losses before the plan
    carried: Mapping[str, Decimal]  # losses carried in, per basket, as YearBill applies them
    to_base: Decimal  # lens currency -> plan currency at as_of
    missing: tuple[str, ...]

    def price_at(self, raw: Mapping[str, Decimal]) -> Bill:
        """The year's bill when each basket's own net is `raw` (the planner's cells are checked against it)."""
        totals = {b: t.copy() for b, t in self.year.totals.items()}
        priced = self.year.rules.proceeds_baskets()
        for basket in self.year.rules.baskets:
            if basket.id in raw and not _spreads(self.year.rules, basket.id):
                value = raw[basket.id]
                if basket.id in priced and value != self.opening.get(basket.id, ZERO):
                    # The plan's amounts come without their sale prices: YearBill does not apply the pack's tests on them.
                    totals.setdefault(basket.id + UNPRICED, BasketTotals()).add(ONE)
                totals[basket.id] = BasketTotals(max(ZERO, value), min(ZERO, value))
        return self.year.compute(totals)

    @property
    def before(self) -> Decimal:
        return self.year.start.tax or ZERO

    @property
    def creditable_before(self) -> Decimal:
        return self.year.start.creditable or ZERO

    @property
    def modelled(self) -> bool:
        return not self.missing


@attrs.frozen(eq=False)
class CreditPair:
    """`crediting` relieves `credited`'s tax on the sales both tax (the (account, security) pairs in `shared`)."""

    taxpayer: str
    crediting: Key
    credited: Key
    relief: Relief
    shared: frozenset[tuple[str, str]]
    fx: Decimal  # credited currency -> crediting currency, at as_of
    counts_foreign: bool  # the other country's tax counts (full, or as a source country that taxes non-residents)

    @property
    def exemption(self) -> bool:
        return self.relief.credit == "exemption"


@attrs.frozen
class LensBill:
    """What a plan adds to one lens's year: gross tax, credits it gives, net (lens currency)."""

    gross: Decimal
    credit: Decimal
    net: Decimal
    missing: tuple[str, ...] = ()


@attrs.frozen
class NetBill:
    net: Decimal  # plan currency: the household's net bill with the plan less without it
    gross: Decimal  # plan currency
    credits: Decimal  # plan currency
    lenses: Mapping[Key, LensBill]


def baselines(scenario: Scenario, books: Mapping[str, LensBook], day: dt.date) -> dict[tuple[str, str], list[tuple[str, Decimal]]]:
    """Per (pack, taxpayer): what the history realised in `day`'s tax year, in baskets (as check reads it)."""
    out: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
    for pack_id, book in books.items():
        rules = year_rules(book.pack)
        year = rules.tax_year(day)
        for sale in book.sales.values():
            if sale.tx.candidate or not sale.taxable or rules.tax_year(sale.tx.date) != year or sale.tx.date > day:
                continue
            owner = scenario.account(sale.tx.account).owner
            security = scenario.security(sale.tx.security)
            out.setdefault((pack_id, owner), []).extend(
                basket_items(rules, realised(sale, deemed=deemed_gains(rules, book.pack, sale, security)), security, sale.tx.date))
    return out


def year_lenses(scenario: Scenario, packs: PackSet, fx: FxTable, books: Mapping[str, LensBook], keys: Sequence[Key],
                day: dt.date, base: str) -> dict[Key, YearLens]:
    household = HouseholdBill(scenario, packs, fx)
    history = baselines(scenario, books, day)
    out: dict[Key, YearLens] = {}
    for pack_id, taxpayer_id in sorted(set(keys)):
        pack = books[pack_id].pack
        taxpayer = scenario.taxpayer(taxpayer_id)
        ly = household.lens_year(pack, taxpayer, day, history.get((pack_id, taxpayer_id), []))
        opening, carried = raw_opening(ly)
        currency = pack.currency or base
        missing = _missing(ly)
        out[(pack_id, taxpayer_id)] = YearLens((pack_id, taxpayer_id), pack, pack.jurisdiction or pack_id, currency, ly, opening, carried,
                                               convert(fx, ONE, currency, base, day), missing)
    return out


def _missing(ly: LensYear) -> tuple[str, ...]:
    """What the lens's year cannot be priced without (a gain or a loss in any basket, with the year's own data)."""
    if ly.start.tax is None:
        return ly.start.missing
    probes = []
    for basket in ly.rules.baskets:
        for amount in (Decimal(1000), Decimal(-1000)):
            totals = {b: t.copy() for b, t in ly.totals.items()}
            totals.setdefault(basket.id, BasketTotals()).add(amount)
            probes.append(ly.compute(totals))
    return tuple(sorted({m for bill in probes for m in bill.missing}))


def credit_pairs(scenario: Scenario, packs: PackSet, fx: FxTable, lenses: Mapping[tuple[str, str], Sequence[Lens]],
                 years: Mapping[Key, YearLens], day: dt.date) -> tuple[list[CreditPair], list[str]]:
    """Who credits whom, per taxpayer, on which (account, security) sales; and the pairs with no relief rule."""
    found: dict[tuple[str, str, str], tuple[Relief | None, set[tuple[str, str]]]] = {}
    for (account, security), on in sorted(lenses.items()):
        owner = scenario.account(account).owner
        chain = ordered(list(on))
        for j, crediting in enumerate(chain):
            for credited in chain[:j]:
                key = (owner, crediting.pack.id, credited.pack.id)
                if key not in found:
                    found[key] = (relief_for(packs, crediting, credited), set())
                found[key][1].add((account, security))
    pairs: list[CreditPair] = []
    unrelieved: list[str] = []
    for (owner, l_id, o_id), (relief, shared) in sorted(found.items()):
        if (l_id, owner) not in years or (o_id, owner) not in years:
            continue
        if relief is None:
            unrelieved.append(f"{years[(l_id, owner)].jurisdiction} and {years[(o_id, owner)].jurisdiction} both tax sales of {owner} "
                              f"and no pack states the relief between them: both taxes are counted")
            continue
        l_year, o_year = years[(l_id, owner)], years[(o_id, owner)]
        counts = relief.credit == "full" or (relief.credit == "as_source_country"
                                             and bool((o_year.pack.section("scope") or {}).get("non_resident_gains")))
        pairs.append(CreditPair(owner, (l_id, owner), (o_id, owner), relief, frozenset(shared),
                                convert(fx, ONE, o_year.currency, l_year.currency, day), counts))
    return _in_order(pairs), unrelieved


def convert(fx: FxTable, amount: Decimal, currency: str, quote: str, day: dt.date) -> Decimal:
    if currency == quote or not amount:
        return amount
    return fx.convert(amount, currency, quote, day, missing="nearest_earlier")[0]


# per lens and taxpayer: (basket, amount, the sales (account, security) it comes from: one, or a FIFO pool's accounts)
Items = Mapping[Key, Sequence[tuple[str, Decimal, tuple[tuple[str, str], ...]]]]


def price(years: Mapping[Key, YearLens], pairs: Sequence[CreditPair], items: Items) -> NetBill:
    """The household's net bill that `items` (per lens and taxpayer: the plan's realised amounts, each with the
    sale it comes from) add to the year, in the plan currency, with each lens's gross, credit and net."""
    after: dict[Key, dict[str, BasketTotals]] = {}
    gross: dict[Key, Decimal] = {}
    missing: dict[Key, tuple[str, ...]] = {}
    bills = {}
    for key, year in years.items():
        totals = {b: t.copy() for b, t in year.year.totals.items()}
        for basket, amount, _ in items.get(key, ()):
            totals.setdefault(basket, BasketTotals()).add(amount)
        after[key] = totals
        bill = year.year.compute(totals)
        bills[key] = bill
        if not year.modelled or bill.tax is None or year.year.start.tax is None:
            gross[key] = ZERO  # a lens that cannot be priced counts 0 (the plan's notes say what is missing)
            missing[key] = year.missing or bill.missing
        else:
            gross[key] = bill.tax - year.year.start.tax
    credit: dict[Key, Decimal] = {key: ZERO for key in years}
    for pair in pairs:
        year = years[pair.crediting]
        bill = bills[pair.crediting]
        if pair.crediting in missing or bill.creditable is None:
            continue
        rest = {b: t.copy() for b, t in after[pair.crediting].items()}
        for basket, amount, sales in items.get(pair.crediting, ()):
            if sales and all(sale in pair.shared for sale in sales):
                t = rest.setdefault(basket, BasketTotals())
                if amount >= 0:
                    t.gains -= amount
                else:
                    t.losses -= amount
        without = year.year.compute(rest)
        if without.creditable is None:
            continue
        limit = bill.creditable - without.creditable
        if pair.exemption:
            total = max(ZERO, limit)
        else:
            foreign = (gross[pair.credited] - credit[pair.credited]) * pair.fx if pair.counts_foreign else ZERO
            total = max(ZERO, min(limit, foreign))
        credit[pair.crediting] += total
    lenses = {key: LensBill(gross[key], credit[key], gross[key] - credit[key], missing.get(key, ())) for key in sorted(years)}
    return NetBill(
        net=sum((b.net * years[k].to_base for k, b in lenses.items()), ZERO),
        gross=sum((b.gross * years[k].to_base for k, b in lenses.items()), ZERO),
        credits=sum((b.credit * years[k].to_base for k, b in lenses.items()), ZERO),
        lenses=lenses,
    )


def _in_order(pairs: Sequence[CreditPair]) -> list[CreditPair]:
    """Pairs in an order where a lens's own credits are known before another lens credits its net tax."""
    done: list[CreditPair] = []
    left = list(pairs)
    while left:
        ready = [p for p in left if not any(q.crediting == p.credited for q in left)]
        if not ready:  # a cycle cannot come out of `ordered`; keep the given order
            ready = left[:1]
        for p in ready:
            done.append(p)
            left.remove(p)
    return done


__all__ = ["CreditPair", "LensBill", "NetBill", "YearLens", "baselines", "convert", "credit_pairs", "price", "year_lenses"]
