"""How a jurisdiction computes a year of capital gains: the pack's `year` section, read once.

Gains and losses of one tax year fall into baskets (US short and long term, the German share-loss pot,
Spain's gains and income components, Italian redditi diversi); a basket's net loss offsets other
baskets in a stated order and share; older losses carried forward come next, then a net loss may
reduce other income (US §1211(b)); an allowance and the rates of `capital_gains` finish the bill.
A pack without a `year` section gets the computation its `capital_gains` section implies (one basket,
or short and long term when short-term gains have their own rate), said in a caveat.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable, Mapping

import attrs

from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.core.documents import Document
from taxpack.engine.core.errors import SemanticError, Span
from taxpack.engine.core.schemas import did_you_mean
from taxpack.engine.law.pack import Pack

TERMS: tuple[str, ...] = ("short", "long", "none")
SAVINGS: tuple[str, ...] = ("marginal_rate", "brackets", "none")
# A basket tax method that spreads a gain ratably over each day of its holding period (US §1291): the
# share of the current tax year is taxed as `current` says, each earlier year's at that year's rate plus
# interest. Its amounts travel per tax year as "BASKET@YEAR" (and "BASKET@current").
SPREAD_METHOD = "excess_distribution"
PART = "@"
MATCHERS: tuple[str, ...] = ("terms", "kinds", "tags", "countries", "sign", "held", "fund_kinds", "elections", "foreign", "acquired_before",
                             "listed")
# The totals of a basket (and of the baskets a proceeds test or cap reads) also carry, under these keys, the year's
# sale prices of the amounts in it ("BASKET#proceeds") and how many amounts came without them ("BASKET#unpriced":
# amounts given as realised, or planned, whose sale price is not known).
PROCEEDS = "#proceeds"
UNPRICED = "#unpriced"
THRESHOLDS: tuple[str, ...] = ("at_most", "below")  # free when the amount is at most X, or only when it is below X


@attrs.frozen
class Held:
    """A holding-period band, in calendar terms from the start of each lot's holding period: held at least
    `lower` (more than `lower` when `lower_strict`) and less than `upper` (at most `upper` when `upper_inclusive`)."""

    lower: Duration | None = None
    lower_strict: bool = False
    upper: Duration | None = None
    upper_inclusive: bool = False

    def holds(self, acquired: dt.date | None, sold: dt.date | None) -> bool:
        if acquired is None or sold is None:
            return False
        if self.lower is not None:
            day = shift(acquired, self.lower, +1, "decreasing")
            if sold < day or (self.lower_strict and sold == day):
                return False
        if self.upper is not None:
            day = shift(acquired, self.upper, +1, "decreasing")
            if sold > day or (not self.upper_inclusive and sold == day):
                return False
        return True

    @staticmethod
    def of(raw: Mapping[str, Any] | None) -> "Held | None":
        if not raw:
            return None
        lower, upper = raw.get("more_than", raw.get("from")), raw.get("at_most", raw.get("until"))
        return Held(_duration(lower), "more_than" in raw, _duration(upper), "at_most" in raw)


@attrs.frozen
class ProceedsExempt:
    """A basket's gains are exempt, and its losses count for nothing, when the year's sale prices of the amounts
    in the baskets `of` are at most `limit` (`boundary: below`: less than it): CZ CZK 100,000, FI EUR 1,000."""

    limit: Any
    of: tuple[str, ...]
    boundary: str = "at_most"
    source: str | None = None


@attrs.frozen
class ProceedsCap:
    """Of a basket's amounts, the share (P - cap) / P moves into `into` when the year's sale prices P of its
    amounts exceed `above` (CZ: time-tested income above CZK 40 million is taxable): expenses go with the income
    pro rata. `applies` (a literal or a boolean parameter) switches it on by date."""

    above: Any
    into: str
    applies: Any = True
    source: str | None = None


@attrs.frozen
class DeemedShare:
    """A deemed acquisition cost of `share` x the sale price, for the lots these matchers take (each optional)."""

    share: Any
    kinds: tuple[str, ...] = ()
    listed: bool | None = None
    held: Held | None = None
    source: str | None = None

    def matches(self, kind: str, listed: bool, acquired: dt.date | None, sold: dt.date) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        if self.listed is not None and listed != self.listed:
            return False
        return self.held is None or self.held.holds(acquired, sold)


@attrs.frozen
class DeemedCost:
    """The cost of a lot sold may be taken as a share of its sale price when that is higher than the actual cost
    (SE schablonmetoden, FI hankintameno-olettama): per `lot` or for the whole `sale`; on the `net` price (after
    the selling costs the pack deducts) or the `gross` price (before them: they are then not deducted either)."""

    shares: tuple[DeemedShare, ...]
    per: str = "sale"
    price: str = "net"
    source: str | None = None
    uncertain: str | None = None


@attrs.frozen
class CarryBack:
    """A net loss of the year may instead reduce the tax of the `years` before it (HU tax compensation): the
    earlier years are outside the scenario, so the amount is reported, not priced."""

    years: Any
    source: str | None = None


@attrs.frozen
class Basket:
    """A category of gains and losses that nets on its own before it meets the others.

    A realised amount goes to the first basket whose matchers all hold (an empty matcher holds for all):
    the lot's holding term, the security's kind, tags or country, and the sign of the amount (Italy puts
    ETF gains and ETF losses in different categories)."""

    id: str
    title: str
    terms: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    sign: str | None = None  # gain | loss | None (both)
    losses: str = "allowed"  # allowed | not_allowed (a loss in this basket counts for nothing)
    allowance: bool = True  # the year's allowance may reduce this basket's gains
    tax: Mapping[str, Any] | None = None  # its own rate (an estimate spec); None: the pack's estimate
    stack_on: tuple[str, ...] = ()  # these baskets' bases lie under this one in progressive brackets
    carry: bool = True  # a net loss left at the end of the year carries forward (when the pack allows)
    held: Held | None = None  # units held at least / more than this long, and less than / at most (Slovenia's rate falls by holding period)
    inclusion: Any = None  # share of this basket's net gain that is taxable (DE equity fund 70%, PT 90%); None: 1
    source: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)
    fund_kinds: tuple[str, ...] = ()  # the security's fund_kind (equity, mixed, real_estate...); "none" when not given
    elections: tuple[str, ...] = ()  # the holder's election for a foreign fund (qef, mark_to_market, none; not given counts as none)
    foreign: bool | None = None  # True: securities domiciled outside the pack's jurisdiction; False: inside it
    acquired_before: dt.date | None = None  # units whose holding period began before this day (DE Altbestand: 2009)
    weight: Any = None  # share of every amount (gains and losses) that counts, before netting (DE 70% equity funds, IT 48.08%)
    into: str | None = None  # the weighted net joins this basket's net (one pot, several weights)
    taxed_before: Mapping[str, Any] | None = None  # the unrealised gain was taxed in earlier years (Vorabpauschale, mark to market, deemed disposal)
    listed: bool | None = None  # the security is (True) or is not (False) listed (PT's exclusion: listed securities)
    loss_weight: Any = None  # share of the basket's net loss of the year that counts against other baskets (SE 70%)
    proceeds_exempt: ProceedsExempt | None = None
    proceeds_cap: ProceedsCap | None = None

    def matches(self, term: str, kind: str, tags: tuple[str, ...], country: str, amount_sign: int,
                acquired: dt.date | None = None, sold: dt.date | None = None, *, fund_kind: str | None = None,
                election: str | None = None, home: str | None = None, annual: bool = True, listed: bool | None = None) -> bool:
        if not annual and self.taxed_before is not None:
            return False
        if self.listed is not None and (listed is None or listed != self.listed):
            return False
        if self.fund_kinds and (fund_kind or "none") not in self.fund_kinds:
            return False
        if self.elections and (election or "none") not in self.elections:
            return False
        if self.foreign is not None and (home is None or (country != home) != self.foreign):
            return False
        if self.acquired_before is not None and (acquired is None or acquired >= self.acquired_before):
            return False
        if self.held is not None and not self.held.holds(acquired, sold):
            return False
        if self.terms and term not in self.terms:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        if self.tags and not set(self.tags) & set(tags):
            return False
        if self.countries and country not in self.countries:
            return False
        if self.sign == "gain" and amount_sign < 0:
            return False
        if self.sign == "loss" and amount_sign > 0:
            return False
        return True


@attrs.frozen
class Offset:
    """A basket's net loss reduces the net gains of `against`, in that order; `share` caps the part of
    each other basket's positive balance it may absorb (Spain: 25%), a literal or `{param: NAME}`."""

    loss: str
    against: tuple[str, ...]
    share: Any = None
    source: str | None = None


@attrs.frozen
class CarryForward:
    """Losses left at the end of a year: carried for `years` (None: without limit), back to their own
    basket when `keeps_basket` (US character), else to `into`; `against` as the current year's offsets."""

    years: Any = None  # None, a number, or {param: NAME}
    keeps_basket: bool = True
    into: str | None = None
    source: str | None = None
    annual_share: Any = None  # at most this share of each year's loss may be used in any one year (PL 50%)


@attrs.frozen
class OtherIncomeOffset:
    """A net capital loss left after netting reduces other income up to `limit` (US $3,000, $1,500 when
    married filing separately), drawn from the baskets in `order`; it saves tax at `saving`."""

    limit: Any
    order: tuple[str, ...]
    saving: str = "marginal_rate"
    source: str | None = None


@attrs.frozen
class YearRules:
    """The pack's year computation with its defaults filled in."""

    pack_id: str
    start_month: int
    start_day: int
    baskets: tuple[Basket, ...]
    offsets: tuple[Offset, ...]
    carry_forward: CarryForward | None
    other_income_offset: OtherIncomeOffset | None
    allowance_order: tuple[str, ...]
    source: str | None
    declared: bool  # False: derived from `capital_gains` (the output says so)
    allowance_threshold: str | None = None  # a threshold (Freigrenze): at_most (up to it nothing is taxed) or below (only under it)
    uncertain: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)
    jurisdiction: str | None = None  # the pack's country (the `foreign` matcher)
    carry_back: CarryBack | None = None
    deemed_cost: DeemedCost | None = None

    def proceeds_baskets(self) -> frozenset[str]:
        """The baskets whose amounts carry their sale prices (a proceeds test or cap reads them)."""
        out: set[str] = set()
        for basket in self.baskets:
            if basket.proceeds_exempt is not None:
                out.update(basket.proceeds_exempt.of)
            if basket.proceeds_cap is not None:
                out.add(basket.id)
        return frozenset(out)

    def basket(self, basket_id: str) -> Basket:
        for basket in self.baskets:
            if basket.id == basket_id:
                return basket
        raise KeyError(basket_id)

    def basket_for(self, term: str, kind: str, tags: tuple[str, ...], country: str, amount_sign: int,
                   acquired: dt.date | None = None, sold: dt.date | None = None, *, fund_kind: str | None = None,
                   election: str | None = None, annual: bool = True, listed: bool | None = None) -> str:
        """The first basket that matches (the validator requires one basket without matchers: a basket
        after it is reached only through amounts the user gives per basket, e.g. Spain's capital income).
        `annual=False` skips the baskets whose gains were taxed year by year (the part of a mark-to-market
        loss below the original cost is an ordinary capital loss)."""
        for basket in self.baskets:
            if basket.matches(term, kind, tags, country, amount_sign, acquired, sold, fund_kind=fund_kind,
                              election=election, home=self.jurisdiction, annual=annual, listed=listed):
                return basket.id
        raise AssertionError(f"pack {self.pack_id}: no basket matches")  # load-time validation prevents it

    def spread(self, basket_id: str) -> bool:
        """Whether the basket's gains are spread over the holding period (excess-distribution method)."""
        tax = self.basket(basket_id).tax
        return tax is not None and tax.get("method") == SPREAD_METHOD

    def tax_year(self, day: dt.date) -> int:
        """The tax year `day` falls in, named by the calendar year it starts in (UK 2026-04-05 is 2025)."""
        start = dt.date(day.year, self.start_month, self.start_day)
        return day.year if day >= start else day.year - 1

    def year_start(self, year: int) -> dt.date:
        return dt.date(year, self.start_month, self.start_day)


def year_rules(pack: Pack) -> YearRules:
    """The `year` section of `pack` as a typed view (built once per pack content)."""
    cached = _CACHE.get(pack.sha256)
    if cached is None:
        cached = _CACHE[pack.sha256] = _build(pack)
    return cached


_CACHE: dict[str, YearRules] = {}


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _build(pack: Pack) -> YearRules:
    section = pack.section("year")
    if section:
        return _declared(pack, section)
    return _derived(pack)


def _declared(pack: Pack, section: Mapping[str, Any]) -> YearRules:
    month, day = (int(part) for part in str(section.get("starts", "01-01")).split("-"))
    baskets = []
    for i, raw in enumerate(section.get("baskets") or [{"id": "all", "title": "all gains and losses"}]):
        baskets.append(Basket(
            id=raw["id"], title=raw.get("title", raw["id"]), terms=_tuple(raw.get("terms")), kinds=_tuple(raw.get("kinds")),
            tags=_tuple(raw.get("tags")), countries=_tuple(raw.get("countries")), sign=raw.get("sign"),
            losses=raw.get("losses", "allowed"), allowance=bool(raw.get("allowance", True)), tax=raw.get("tax"),
            stack_on=_tuple(raw.get("stack_on")), carry=bool(raw.get("carry", True)), source=raw.get("source"),
            held=Held.of(raw.get("held")), inclusion=raw.get("inclusion"), span=_span(pack, ("year", "baskets", i)),
            fund_kinds=_tuple(raw.get("fund_kinds")), elections=_tuple(raw.get("elections")), foreign=raw.get("foreign"),
            acquired_before=_day(raw.get("acquired_before")), weight=raw.get("weight"), into=raw.get("into"),
            taxed_before=raw.get("taxed_before"), listed=raw.get("listed"), loss_weight=raw.get("loss_weight"),
            proceeds_exempt=_proceeds_exempt(raw), proceeds_cap=_proceeds_cap(raw.get("proceeds_cap")),
        ))
    offsets = tuple(Offset(o["loss"], _tuple(o["against"]), o.get("share"), o.get("source")) for o in section.get("offsets") or [])
    carry = section.get("carry_forward")
    other = section.get("other_income_offset")
    return YearRules(
        pack_id=pack.id, start_month=month, start_day=day, baskets=tuple(baskets), offsets=offsets,
        carry_forward=None if carry is None or carry.get("years") == 0 else CarryForward(
            carry.get("years"), bool(carry.get("keeps_basket", True)), carry.get("into"), carry.get("source"), carry.get("annual_share")),
        other_income_offset=None if other is None else OtherIncomeOffset(
            other["limit"], _tuple(other.get("order")) or tuple(b.id for b in baskets), other.get("saving", "marginal_rate"), other.get("source")),
        allowance_order=_tuple(section.get("allowance_order")) or tuple(b.id for b in baskets if b.allowance),
        source=section.get("source"), declared=True, uncertain=section.get("uncertain"), span=_span(pack, ("year",)),
        allowance_threshold=_threshold(section.get("allowance_threshold")), jurisdiction=pack.jurisdiction,
        carry_back=_carry_back(section.get("carry_back")), deemed_cost=_deemed_cost(section.get("deemed_cost")),
    )


def _threshold(value: Any) -> str | None:
    """`allowance_threshold`: true (read as at_most), at_most, below; false or absent: an allowance."""
    if value is True:
        return "at_most"
    return value if value in THRESHOLDS else None


def _proceeds_exempt(raw: Mapping[str, Any]) -> ProceedsExempt | None:
    spec = raw.get("proceeds_exempt")
    if not spec:
        return None
    boundary = "below" if "below" in spec else "at_most"
    return ProceedsExempt(spec[boundary], _tuple(spec.get("of")) or (raw["id"],), boundary, spec.get("source"))


def _proceeds_cap(spec: Mapping[str, Any] | None) -> ProceedsCap | None:
    if not spec:
        return None
    return ProceedsCap(spec["above"], spec["into"], spec.get("applies", True), spec.get("source"))


def _carry_back(spec: Mapping[str, Any] | None) -> CarryBack | None:
    if not spec or spec.get("years") == 0:
        return None
    return CarryBack(spec["years"], spec.get("source"))


def _deemed_cost(spec: Mapping[str, Any] | None) -> DeemedCost | None:
    if not spec:
        return None
    shares = tuple(DeemedShare(s["share"], _tuple(s.get("kinds")), s.get("listed"), Held.of(s.get("held")), s.get("source") or spec.get("source"))
                   for s in spec.get("shares") or [])
    return DeemedCost(shares, spec.get("per", "sale"), spec.get("price", "net"), spec.get("source"), spec.get("uncertain"))


def _derived(pack: Pack) -> YearRules:
    """What `capital_gains` implies: short and long term apart when short-term gains have their own rate."""
    cg = pack.section("capital_gains") or {}
    estimate = cg.get("estimate") or {}
    offset = cg.get("loss_offset") or {}
    short_spec = estimate.get("short_term")
    if short_spec:
        baskets: tuple[Basket, ...] = (
            Basket("short", "short-term gains and losses", terms=("short",), tax={**estimate, **short_spec}),
            Basket("long", "long-term gains and losses", stack_on=("short",)),
        )
        offsets: tuple[Offset, ...] = (Offset("short", ("long",)), Offset("long", ("short",)))
        order: tuple[str, ...] = ("long", "short")
    else:
        baskets, offsets, order = (Basket("all", "all gains and losses"),), (), ("all",)
    carry_years = (offset.get("carry_forward") or {}).get("years") if offset else 0
    return YearRules(
        pack_id=pack.id, start_month=1, start_day=1, baskets=baskets, offsets=offsets,
        carry_forward=None if carry_years == 0 or not offset else CarryForward(carry_years, bool(offset.get("keeps_character", True))),
        other_income_offset=None, allowance_order=order, source=cg.get("source"), declared=False, jurisdiction=pack.jurisdiction,
    )


def _duration(value: Any) -> Duration | None:
    return None if value is None else Duration.from_mapping(value)


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def allocate_by_day(amount: Decimal, acquired: dt.date, sold: dt.date, tax_year: Callable[[dt.date], int],
                    year_start: Callable[[int], dt.date]) -> dict[int, Decimal]:
    """`amount` spread ratably over each day of the holding period, by tax year. The holding period is
    counted as for long-term holding (the day after acquisition through the day of sale, US §1223 and
    Rev. Rul. 66-97; §1291(a)(3)(A) refers to §1223); a sale on the day of purchase keeps one day.
    `year_start(y)` is the first day of tax year `y` (`tax_year` of it is `y`)."""
    first = acquired + dt.timedelta(days=1) if sold > acquired else sold
    days = (sold - first).days + 1
    out: dict[int, Decimal] = {}
    day = first
    while day <= sold:
        year = tax_year(day)
        end = min(sold, year_start(year + 1) - dt.timedelta(days=1))  # the year's last day held
        count = (end - day).days + 1
        out[year] = out.get(year, Decimal(0)) + amount * count / days
        day = end + dt.timedelta(days=1)
    return out


def _span(pack: Pack, path: tuple[Any, ...]) -> Span:
    return pack.span(path)


def year_errors(document: Document) -> list[SemanticError]:
    """What the schema cannot say about a `year` section: basket ids unique and known where named, one
    basket without matchers (so every amount has a basket), a real first day of the tax year."""
    section = (document.data or {}).get("year")
    if not isinstance(section, Mapping):
        return []
    errors: list[SemanticError] = []
    starts = str(section.get("starts", "01-01"))
    try:
        month, day = (int(part) for part in starts.split("-"))
        dt.date(2024, month, day)
    except ValueError:
        errors.append(SemanticError(f"year.starts: '{starts}' is not a day of the year", document.span(("year", "starts")),
                                    "MM-DD, e.g. 01-01 or 04-06"))
    baskets = section.get("baskets") or []
    ids: list[str] = []
    for i, basket in enumerate(baskets):
        if basket["id"] in ids:
            errors.append(SemanticError(f"year.baskets: basket '{basket['id']}' is defined twice", document.span(("year", "baskets", i, "id")),
                                        "one entry per basket id"))
        ids.append(basket["id"])
    if baskets and not any(not any(b.get(k) is not None and b.get(k) != [] for k in MATCHERS) for b in baskets):
        errors.append(SemanticError("year.baskets: every basket has matchers, so some amounts would fall in none",
                                    document.span(("year", "baskets")), "one basket without " + ", ".join(MATCHERS[:-1]) + " or " + MATCHERS[-1]))
    known = set(ids) or {"all"}

    def check(path: tuple[Any, ...], name: Any) -> None:
        if name not in known:
            errors.append(SemanticError(f"year: unknown basket '{name}'{did_you_mean(str(name), known)}", document.span(path),
                                        "one of " + ", ".join(sorted(known))))

    for i, basket in enumerate(baskets):
        for j, name in enumerate(basket.get("stack_on") or []):
            check(("year", "baskets", i, "stack_on", j), name)
        errors.extend(_held_errors(document, ("year", "baskets", i, "held"), basket.get("held"), f"year.baskets: basket '{basket['id']}'"))
        exempt = basket.get("proceeds_exempt") or {}
        if "at_most" in exempt and "below" in exempt:
            errors.append(SemanticError(f"year.baskets: basket '{basket['id']}' has both proceeds_exempt.at_most and proceeds_exempt.below",
                                        document.key_span(("year", "baskets", i, "proceeds_exempt", "below")),
                                        "one of at_most (exempt up to the limit) or below (exempt only under it)"))
        for j, name in enumerate((basket.get("proceeds_exempt") or {}).get("of") or []):
            check(("year", "baskets", i, "proceeds_exempt", "of", j), name)
        if (basket.get("proceeds_cap") or {}).get("into") is not None:
            check(("year", "baskets", i, "proceeds_cap", "into"), basket["proceeds_cap"]["into"])
        if basket.get("into") is not None:
            check(("year", "baskets", i, "into"), basket["into"])
            target = next((b for b in baskets if b["id"] == basket["into"]), None)
            if target is not None and (target.get("into") is not None or target is basket):
                errors.append(SemanticError(f"year.baskets: basket '{basket['id']}' goes into '{basket['into']}', which goes into another basket or itself",
                                            document.span(("year", "baskets", i, "into")), "a basket that keeps its own net"))

    for i, offset in enumerate(section.get("offsets") or []):
        check(("year", "offsets", i, "loss"), offset["loss"])
        for j, name in enumerate(offset["against"]):
            check(("year", "offsets", i, "against", j), name)
    for j, name in enumerate((section.get("other_income_offset") or {}).get("order") or []):
        check(("year", "other_income_offset", "order", j), name)
    for j, name in enumerate(section.get("allowance_order") or []):
        check(("year", "allowance_order", j), name)
    into = (section.get("carry_forward") or {}).get("into")
    if into is not None:
        check(("year", "carry_forward", "into"), into)
    for i, share in enumerate((section.get("deemed_cost") or {}).get("shares") or []):
        errors.extend(_held_errors(document, ("year", "deemed_cost", "shares", i, "held"), share.get("held"), f"year.deemed_cost.shares[{i}]"))
    return errors


def _held_errors(document: Document, path: tuple[Any, ...], held: Any, what: str) -> list[SemanticError]:
    """A `held` band gives each bound once: `from` or `more_than`, `until` or `at_most`."""
    errors = []
    for one, other in (("from", "more_than"), ("until", "at_most")):
        if isinstance(held, Mapping) and one in held and other in held:
            errors.append(SemanticError(f"{what} has both held.{one} and held.{other}", document.key_span(path + (other,)),
                                        f"one of {one} ({'at least' if one == 'from' else 'less than'}) or "
                                        f"{other} ({'more than' if other == 'more_than' else 'at most'})"))
    return errors
