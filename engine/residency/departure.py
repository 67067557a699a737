"""Exit taxes: on leaving, a country may tax the gains accrued so far as if everything were sold.

The leaving country's pack (`exit_tax` section) says who is caught (years of residence, the US
covered-expatriate tests), which holdings are deemed sold at fair market value (all of them, only
substantial holdings, funds above a cost) and which are excluded (registered plans, thresholds), how
the deemed gain is taxed, and what deferral, instalments and reporting apply. Nothing here knows a
country: every rule, rate and threshold is read from the pack.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

import attrs

from taxpack.engine.consequences.estimate import Estimate, Estimator, YearGains
from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.core.errors import ErrorList, EvaluationError
from taxpack.engine.core.household import RateUsed, Scenario, Taxpayer
from taxpack.engine.core.money import money_text, percent_text
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.inputs.prices import Price, PriceBook
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.sections import CapitalGains, Cited, ExitTax
from taxpack.engine.lots.ledger import Ledger
from taxpack.engine.lots.pool import BOOK

ZERO = Decimal(0)
FUND_KINDS = ("fund", "etf")


@attrs.frozen
class ExitInputs:
    """Facts about the taxpayer that the scenario does not hold and some regimes need.

    `stakes`: share of a company's (or fund's) capital held, per security (0.02 = 2%). `net_worth`,
    `average_tax` and `certified` feed the US covered-expatriate tests; `renounce` says the taxpayer
    also gives up the leaving country's citizenship (only then does a citizenship-based regime apply).
    """

    stakes: Mapping[str, Decimal] = attrs.field(factory=dict)
    net_worth: Decimal | None = None
    average_tax: Decimal | None = None
    certified: bool | None = None
    renounce: bool = False
    max_price_age_days: int = 7


@attrs.frozen
class LotValue:
    """One open lot valued at the valuation date, in the lens currency."""

    lot: str
    account: str
    acquired: dt.date
    holding_from: dt.date
    quantity: Decimal
    cost: Decimal
    fmv: Decimal
    gain: Decimal
    term: str


@attrs.frozen
class Holding:
    """One pool of one security (as the pack pools it), valued at fair market value."""

    owner: str
    pool: str
    security: str
    kind: str
    accounts: tuple[str, ...]
    wrapper: str
    taxable: bool
    quantity: Decimal
    cost: Decimal
    fmv: Decimal
    price: Price
    rate: RateUsed | None
    lots: tuple[LotValue, ...]

    @property
    def gain(self) -> Decimal:
        return BOOK.subtract(self.fmv, self.cost)


@attrs.frozen
class Outcome:
    """What the exit tax does to one holding, and why."""

    holding: Holding
    status: str  # deemed_sold | excluded | not_caught
    reason: str
    source: str | None
    taxation: str = "capital_gains"  # which spec taxes the deemed gain: capital_gains | gain_taxation | funds
    exclusion: Decimal = ZERO  # part of the gain relieved by the pack's exclusion amount
    tax_alone: Estimate | None = None  # the tax of this holding's deemed gain on its own

    @property
    def taxable_gain(self) -> Decimal:
        return BOOK.subtract(self.holding.gain, self.exclusion) if self.status == "deemed_sold" else ZERO


@attrs.frozen
class Condition:
    """A condition of the regime, the value seen and whether it held (None: unknown)."""

    name: str
    value: Any
    threshold: Any
    held: bool | None
    source: str | None
    note: str = ""


@attrs.frozen
class Departure:
    """The leaving country's view of a departure: the regime, each holding, the tax and the duties."""

    pack: Pack
    taxpayer: Taxpayer
    leaving: str
    to: str
    date: dt.date
    valuation_date: dt.date
    applies: bool
    reason: str
    source: str | None
    tests: tuple[Condition, ...]
    outcomes: tuple[Outcome, ...]
    tax: Estimate | None
    deferral: Mapping[str, Any]
    reporting: tuple[Mapping[str, Any], ...]
    assumptions: tuple[str, ...]
    caveats: tuple[str, ...]

    @property
    def currency(self) -> str:
        return self.pack.currency or ""

    def deemed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "deemed_sold"]


# ---------------------------------------------------------------------------------------------
# Valuing holdings
# ---------------------------------------------------------------------------------------------


def value_holdings(ledger: Ledger, scenario: Scenario, owner: str, day: dt.date, prices: PriceBook,
                   fx: FxTable, max_age_days: int) -> list[Holding]:
    """Every open pool of `owner` in `ledger`, valued at the price of `day`, in the ledger's currency."""
    holdings: list[Holding] = []
    missing: list[EvaluationError] = []
    for key in sorted(ledger.pools):
        pool = ledger.pools[key]
        if key[0] != owner:
            continue
        lots = list(pool.open_lots())
        if not lots:
            continue
        security = scenario.security(key[2])
        try:
            price = prices.on(security.id, day, max_age_days, security.span)
        except EvaluationError as error:
            if all(e.message != error.message for e in missing):  # one error per security, not per pool
                missing.append(error)
            continue
        total_native = pool.quantity * price.price
        rate = None
        total = total_native
        if price.currency != ledger.currency:
            rate = fx.rate(price.currency, ledger.currency, price.date, missing=ledger.fx_section.missing_rate,
                           max_lookback_days=ledger.fx_section.max_lookback_days, span=price.span)
            total = total_native * rate.rate
        values: list[LotValue] = []
        allocated = ZERO
        for i, lot in enumerate(lots):
            # Shares of the value by quantity; the last lot takes the rest so the parts add up exactly.
            fmv = BOOK.subtract(total, allocated) if i == len(lots) - 1 else total * lot.quantity / pool.quantity
            allocated = BOOK.add(allocated, fmv)
            cost = pool.lot_cost(lot)
            values.append(LotValue(lot.id, lot.account, lot.acquired, lot.holding_from, lot.quantity, cost, fmv,
                                   BOOK.subtract(fmv, cost), ledger.term(lot.holding_from, day)))
        accounts = tuple(sorted({lot.account for lot in lots}))
        account = scenario.account(accounts[0])
        holdings.append(Holding(owner, key[1], security.id, security.kind, accounts, account.wrapper,
                                ledger.is_taxable(account), pool.quantity, pool.cost, total, price, rate, tuple(values)))
    if missing:
        raise ErrorList(missing)
    return holdings


# ---------------------------------------------------------------------------------------------
# Residence history
# ---------------------------------------------------------------------------------------------


def resident_days(taxpayer: Taxpayer, country: str, start: dt.date, end: dt.date) -> int:
    """Days in [start, end) on which `taxpayer` was resident in `country` (from `resident_since` on)."""
    changes = sorted(taxpayer.residence_changes, key=lambda c: c.date)
    # Intervals of residence from the planned/past moves; before resident_since the taxpayer was elsewhere.
    points = [(start, taxpayer.residence_on(start))] + [(c.date, c.to) for c in changes if start < c.date < end]
    total = 0
    for i, (begin, where) in enumerate(points):
        stop = points[i + 1][0] if i + 1 < len(points) else end
        if where != country:
            continue
        if taxpayer.resident_since is not None:
            begin = max(begin, taxpayer.resident_since)
        if stop > begin:
            total += (stop - begin).days
    return total


def years_back(day: dt.date, years: int = 0, months: int = 0) -> dt.date:
    duration = Duration(years=years) if years else Duration(months=months)
    return shift(day, duration, -1, "decreasing")


# ---------------------------------------------------------------------------------------------
# The regime
# ---------------------------------------------------------------------------------------------


def compare(value: Decimal, threshold: Decimal, how: str | None) -> bool:
    """`at_least` (the default: "EUR 800,000 or more") or `above` ("exceeds EUR 4,000,000")."""
    return value > threshold if how == "above" else value >= threshold


def _word(how: str | None) -> str:
    return "above" if how == "above" else "at least"


class _Regime:
    """Evaluates one pack's exit_tax section for one departure."""

    def __init__(self, pack: Pack, scenario: Scenario, taxpayer: Taxpayer, date: dt.date, to: str,
                 holdings: list[Holding], inputs: ExitInputs) -> None:
        self.pack = pack
        self.scenario = scenario
        self.taxpayer = taxpayer
        self.date = date
        self.valuation = date - dt.timedelta(days=1)
        self.day = pack.law_day(self.valuation)
        self.to = to
        self.holdings = holdings
        self.inputs = inputs
        self.section: ExitTax | None = pack.sections.exit_tax
        self.jurisdiction = pack.jurisdiction or pack.id
        self.tests: list[Condition] = []
        self.assumptions: list[str] = []

    def value(self, ref: Any) -> Any:
        return self.pack.resolve(ref, self.day)

    @property
    def law(self) -> ExitTax:
        """The exit_tax section, once `caught_person` found that the tax applies (it never does without one)."""
        assert self.section is not None
        return self.section

    def source(self, spec: Cited | None) -> str | None:
        return (spec.source if spec is not None else None) or (self.section.source if self.section is not None else None)

    # -- who is caught -------------------------------------------------------------------------

    def caught_person(self) -> tuple[bool, str]:
        section = self.section
        if section is None or section.applies is False:
            note = section.note if section is not None else None
            return False, f"{self.jurisdiction} has no exit tax" + (f": {note}" if note else f" (pack {self.pack.id} has no exit_tax section)")
        if section.who == "covered_expatriate":
            ok, why = self._expatriate()
            if not ok:
                return False, why
        minimum = section.min_residence
        if minimum is not None:
            years, within = int(minimum.need("years")), int(minimum.need("within_years"))
            start = years_back(self.date, within)
            days = resident_days(self.taxpayer, self.jurisdiction, start, self.date)
            needed = (self.date - years_back(self.date, years)).days
            held = days >= needed
            self._assume_since()
            self.tests.append(Condition(f"resident {years} of the last {within} years", f"{days} days", f"{needed} days", held,
                                   self.source(None)))
            if not held:
                return False, (f"resident in {self.jurisdiction} {days} days of the last {within} years, fewer than {years} years: "
                               f"the exit tax does not apply")
        return True, ""

    def _assume_since(self) -> None:
        if self.taxpayer.resident_since is None:
            text = (f"resident_since is not given for {self.taxpayer.id}: residence in {self.jurisdiction} is taken from "
                    f"the scenario's residence and moves alone")
            if text not in self.assumptions:
                self.assumptions.append(text)

    def _expatriate(self) -> tuple[bool, str]:
        spec = self.law.covered_expatriate
        source = self.source(spec)
        if self.jurisdiction in self.taxpayer.citizenship:
            if not self.inputs.renounce:
                return False, (f"{self.taxpayer.id} is a {self.jurisdiction} citizen and stays one: moving abroad is not an "
                               f"expatriation, and {self.jurisdiction} keeps taxing the taxpayer as a citizen (use --renounce to "
                               f"simulate giving up citizenship)")
            self.tests.append(Condition("relinquishes citizenship", True, None, True, source))
        else:
            ltr = spec.long_term_resident if spec is not None else None
            if ltr is not None:
                years, within = int(ltr.need("years")), int(ltr.need("within_years"))
                days = resident_days(self.taxpayer, self.jurisdiction, years_back(self.date, within), self.date)
                needed = (self.date - years_back(self.date, years)).days
                held = days >= needed
                self._assume_since()
                self.tests.append(Condition(f"long-term resident ({years} of the last {within} years)", f"{days} days",
                                       f"{needed} days", held, source,
                                       "residence stands in for lawful permanent residence (green card)"))
                if not held:
                    return False, f"not a citizen and not a long-term resident of {self.jurisdiction}: ending residence is not an expatriation"
        tests: list[bool | None] = []
        worth = self.inputs.net_worth
        threshold = Decimal(self.value(spec.net_worth)) if spec is not None and spec.net_worth else None
        met: bool | None
        if threshold is not None:
            if worth is None:
                # The holdings valued here are a lower bound of net worth: enough to meet the test, never to fail it.
                floor = sum((h.fmv for h in self.holdings), ZERO)
                met = True if floor >= threshold else None
                self.tests.append(Condition("net worth", f">= {floor} (holdings only; --net-worth not given)", threshold, met, source))
            else:
                met = worth >= threshold
                self.tests.append(Condition("net worth", worth, threshold, met, source))
            tests.append(met)
        if spec is not None and spec.average_tax_liability:
            limit = Decimal(self.value(spec.average_tax_liability))
            tax = self.inputs.average_tax
            met = None if tax is None else tax > limit
            self.tests.append(Condition("average annual net income tax (5 years)", tax if tax is not None else "not given (--average-tax)", limit, met, source))
            tests.append(met)
        if spec is not None and spec.compliance_certification_years:
            certified = self.inputs.certified
            met = None if certified is None else not certified
            self.tests.append(Condition(f"no certification of {spec.compliance_certification_years} years of compliance",
                                   "not given (--certified/--not-certified)" if certified is None else ("certified" if certified else "not certified"),
                                   None, met, source))
            tests.append(met)
        if any(t is True for t in tests):
            return True, ""
        if all(t is False for t in tests):
            return False, "not a covered expatriate (no test is met): no mark-to-market tax"
        self.assumptions.append("covered-expatriate status is undetermined (a test lacks its input): the computation "
                                "below shows the tax IF the taxpayer is a covered expatriate")
        return True, ""

    # -- which holdings ------------------------------------------------------------------------

    def outcomes(self, applies: bool, reason: str) -> list[Outcome]:
        if not applies:
            return [Outcome(h, "not_caught", reason, self.source(None)) for h in self.holdings]
        section = self.law
        mode = section.disposal
        out: list[Outcome] = []
        candidates: list[Holding] = []
        for holding in self.holdings:
            excluded = self._excluded(holding)
            if excluded:
                out.append(Outcome(holding, "excluded", excluded[0], excluded[1]))
            else:
                candidates.append(holding)
        if mode == "all":
            out.extend(self._all(candidates))
        elif mode == "substantial_holdings":
            for h in candidates:
                out.append(self._substantial(h, section.holding_threshold, section.holding_comparison))
        elif mode == "funds_and_substantial":
            for h in candidates:
                if h.kind in FUND_KINDS:
                    out.append(self._fund(h))
                else:
                    out.append(self._substantial(h, section.holding_threshold, section.holding_comparison))
        else:
            raise EvaluationError(f"pack {self.pack.ref}: exit_tax.deemed_disposal '{mode}' is not known",
                                  None, "all, substantial_holdings or funds_and_substantial")
        order = {id(h): i for i, h in enumerate(self.holdings)}
        out.sort(key=lambda o: order[id(o.holding)])
        return out

    def _excluded(self, holding: Holding) -> tuple[str, str | None] | None:
        section = self.law
        wrapper = holding.wrapper
        kinds = section.kinds
        if kinds is not None and holding.kind not in kinds:
            return f"a {holding.kind} is not among the property this exit tax covers ({', '.join(kinds)})", self.source(None)
        if wrapper in section.excluded_wrappers:
            return f"inside a {wrapper}: excluded from the deemed disposition", self.source(None)
        if wrapper in section.specified_tax_deferred_accounts:
            return f"a {wrapper} is a specified tax-deferred account: treated as distributed, not marked to market", self.source(None)
        if wrapper in section.deferred_compensation:
            return f"a {wrapper} is a deferred compensation item: taxed on later payments, not marked to market", self.source(None)
        if not holding.taxable:
            return (f"inside a {wrapper}, outside {self.jurisdiction}'s taxable computation: not marked to market here "
                    f"(how the exit tax treats this wrapper is not encoded)"), self.source(None)
        short = section.short_term_resident
        if short is not None and "short_term_resident_property" in section.excluded_property:
            months, within = int(short.need("months")), int(short.need("within_years"))
            days = resident_days(self.taxpayer, self.jurisdiction, years_back(self.date, within), self.date)
            limit = (self.date - years_back(self.date, months=months)).days
            since = self.taxpayer.resident_since
            if since is not None and days <= limit and all(lot.acquired < since for lot in holding.lots):
                return (f"owned when the taxpayer became resident ({since.isoformat()}) and resident {days} days, at most "
                        f"{months} months, in the last {within} years: short-term resident property"), self.source(None)
        return None

    def _stake(self, holding: Holding) -> Decimal | None:
        stake = self.inputs.stakes.get(holding.security)
        if stake is None:
            text = (f"no stake given for {holding.security} (--stake {holding.security}=SHARE): treated as a portfolio "
                    f"holding below every holding threshold")
            if text not in self.assumptions:
                self.assumptions.append(text)
        return stake

    def _substantial(self, holding: Holding, ref: Any, how: str | None, source: str | None = None) -> Outcome:
        threshold = Decimal(self.value(ref))
        stake = self._stake(holding)
        if stake is not None and compare(stake, threshold, how):
            taxation = "gain_taxation" if self.law.gain_taxation is not None else "capital_gains"
            return Outcome(holding, "deemed_sold", f"a holding of {percent_text(stake)} of the company, {_word(how)} {percent_text(threshold)}",
                           source or self.source(None), taxation)
        seen = "not given" if stake is None else percent_text(stake)
        return Outcome(holding, "not_caught", f"stake {seen}, not {_word(how)} {percent_text(threshold)} of the company", source or self.source(None))

    def _fund(self, holding: Holding) -> Outcome:
        funds = self.law.funds
        source = self.source(funds)
        if funds is None or not self.value(funds.covered):
            return Outcome(holding, "not_caught", f"fund units are not caught by {self.jurisdiction}'s exit tax on {self.valuation.isoformat()}", source)
        taxation = "funds"
        stake = self._stake(holding)
        threshold = Decimal(self.value(funds.holding_threshold)) if funds.holding_threshold else None
        if stake is not None and threshold is not None and compare(stake, threshold, funds.holding_comparison):
            return Outcome(holding, "deemed_sold", f"{percent_text(stake)} of the fund, at least {percent_text(threshold)}", source, taxation)
        if funds.cost_threshold:
            limit = Decimal(self.value(funds.cost_threshold))
            # Tested per fund: every unit of this fund the taxpayer holds, across accounts.
            cost = sum((h.cost for h in self.holdings if h.security == holding.security and h.taxable), ZERO)
            if compare(cost, limit, funds.cost_comparison):
                return Outcome(holding, "deemed_sold", f"units of this fund cost {money_text(cost, self.pack, grouped=True)} {self.pack.currency}, at least {money_text(limit, self.pack, grouped=True)}",
                               source, taxation)
            return Outcome(holding, "not_caught", f"units of this fund cost {money_text(cost, self.pack, grouped=True)} {self.pack.currency}, below {money_text(limit, self.pack, grouped=True)}, "
                                                  f"and the stake is {'not given' if stake is None else percent_text(stake)}", source)
        return Outcome(holding, "not_caught", "fund stake below the threshold", source)

    def _all(self, candidates: list[Holding]) -> list[Outcome]:
        section = self.law
        source = self.source(None)
        if not section.threshold:
            return [Outcome(h, "deemed_sold", "all property is deemed sold at fair market value", source) for h in candidates]
        threshold = Decimal(self.value(section.threshold))
        how = section.threshold_comparison
        total = sum((h.fmv for h in candidates), ZERO)
        held = compare(total, threshold, how)
        self.tests.append(Condition("total value of the holdings", total, threshold, held, source, f"{_word(how)} the threshold"))
        if held:
            return [Outcome(h, "deemed_sold", f"the holdings total {money_text(total, self.pack, grouped=True)} {self.pack.currency}, {_word(how)} "
                                              f"{money_text(threshold, self.pack, grouped=True)}: all are deemed sold", source) for h in candidates]
        out = []
        for h in candidates:
            if section.holding_threshold:
                outcome = self._substantial(h, section.holding_threshold, section.holding_comparison)
                if outcome.status == "deemed_sold" and section.holding_value:
                    # A large stake is caught only if the holding itself is worth enough (`holding_value`).
                    floor = Decimal(self.value(section.holding_value))
                    how_v = section.holding_value_comparison
                    if not compare(h.fmv, floor, how_v):
                        outcome = Outcome(h, "not_caught", f"{outcome.reason}, but worth {money_text(h.fmv, self.pack, grouped=True)} {self.pack.currency}, not "
                                                           f"{_word(how_v)} {money_text(floor, self.pack, grouped=True)}", source)
                    else:
                        outcome = attrs.evolve(outcome, reason=f"{outcome.reason}, worth {money_text(h.fmv, self.pack, grouped=True)} {self.pack.currency}, "
                                                               f"{_word(how_v)} {money_text(floor, self.pack, grouped=True)}")
                if outcome.status == "deemed_sold":
                    outcome = attrs.evolve(outcome, taxation="capital_gains")
                else:
                    outcome = attrs.evolve(outcome, reason=f"the holdings total {money_text(total, self.pack, grouped=True)} {self.pack.currency}, not "
                                                           f"{_word(how)} {money_text(threshold, self.pack, grouped=True)}; {outcome.reason}")
                out.append(outcome)
            else:
                out.append(Outcome(h, "not_caught", f"the holdings total {money_text(total, self.pack, grouped=True)} {self.pack.currency}, not {_word(how)} "
                                                    f"{money_text(threshold, self.pack, grouped=True)}", source))
        return out

    # -- tax -----------------------------------------------------------------------------------

    def exclusion(self, outcomes: list[Outcome]) -> list[Outcome]:
        """Spread an exclusion amount over the gain lots pro rata to their gains (Notice 2009-85, 3.B)."""
        ref = self.section.exclusion if self.section is not None else None
        if not ref:
            return outcomes
        amount = Decimal(self.value(ref))
        gains = [lot.gain for o in outcomes if o.status == "deemed_sold" for lot in o.holding.lots if lot.gain > 0]
        allocated = allocate_exclusion(gains, amount)
        it = iter(allocated)
        out = []
        for o in outcomes:
            if o.status != "deemed_sold":
                out.append(o)
                continue
            relief = ZERO
            for lot in o.holding.lots:
                if lot.gain > 0:
                    relief = BOOK.add(relief, next(it))
            out.append(attrs.evolve(o, exclusion=relief))
        return out

    def spec(self, taxation: str) -> tuple[CapitalGains | None, bool]:
        """The capital_gains section as it applies to a deemed gain of this kind, and whether to stack it on other income."""
        if taxation == "gain_taxation":
            deemed = self.law.gain_taxation
        elif taxation == "funds":
            deemed = self.law.funds.gain_taxation if self.law.funds is not None else None
        else:
            deemed = None
        if deemed is None:
            return self.pack.sections.capital_gains, True
        return deemed.capital_gains, deemed.stack_on_other_income is not False

    def estimator(self, taxation: str) -> Estimator:
        spec, stack = self.spec(taxation)
        taxpayer = self.taxpayer
        if not stack:
            taxpayer = attrs.evolve(taxpayer, other_income={**dict(taxpayer.other_income), self.jurisdiction: ZERO})
        estimator = Estimator(self.pack, taxpayer, self.day)
        estimator.section = spec
        return estimator

    def tax(self, outcomes: list[Outcome]) -> tuple[Estimate | None, list[Outcome]]:
        deemed = [o for o in outcomes if o.status == "deemed_sold"]
        if not deemed:
            return None, outcomes
        groups: dict[str, YearGains] = {}
        out = []
        for o in outcomes:
            if o.status != "deemed_sold":
                out.append(o)
                continue
            by_term = _by_term(o)
            groups[o.taxation] = groups.get(o.taxation, YearGains()).add(by_term)
            out.append(attrs.evolve(o, tax_alone=self.estimator(o.taxation).tax(YearGains().add(by_term))))
        total = ZERO
        missing: list[str] = []
        caveats: list[str] = []
        for taxation in sorted(groups):
            estimate = self.estimator(taxation).tax(groups[taxation])
            missing.extend(estimate.missing)
            caveats.extend(c for c in estimate.caveats if c not in caveats)
            if estimate.tax is not None:
                total += estimate.tax
        if missing:
            return Estimate(None, tuple(sorted(set(missing))), tuple(caveats)), out
        return Estimate(total, (), tuple(caveats)), out

    # -- deferral and reporting ----------------------------------------------------------------

    def deferral(self, tax: Estimate | None, deemed: list[Outcome]) -> dict[str, Any]:
        section = self.section
        spec = section.deferral if section is not None else None
        if section is None or spec is None or not deemed:
            return {}
        out: dict[str, Any] = {"available": bool(spec.available), "source": self.source(spec)}
        automatic_for = section.deferral_automatic_for
        if automatic_for is not None:
            out["automatic"] = self.to in automatic_for
            out["condition"] = (f"automatic for a move to {self.to}" if self.to in automatic_for
                                else f"{self.to} is not among the destinations with an automatic deferral: on request, usually with guarantees")
        if spec.security_above:
            limit = Decimal(self.value(spec.security_above))
            out["security_threshold"] = limit
            ref = spec.security_above
            if isinstance(ref, Mapping) and ref.get("param") in self.pack.parameters:
                # What the threshold is measured on, in the pack's words (it may be one part of the tax only).
                out["security_threshold_meaning"] = self.pack.parameters[ref["param"]].description
            if tax is not None and tax.tax is not None:
                out["security_required"] = tax.tax > limit
                out["condition"] = (f"security is required when the tax deferred is above {money_text(limit, self.pack, grouped=True)} {self.pack.currency}; "
                                    f"the estimated tax on the deemed gains is {money_text(tax.tax, self.pack, grouped=True)}")
            else:
                out["condition"] = f"security is required when the tax deferred is above {money_text(limit, self.pack, grouped=True)} {self.pack.currency}"
        elif spec.security is not None:
            out["security"] = spec.security
        if spec.instalments:
            out["instalments"] = self.value(spec.instalments)
        if spec.note:
            out["note"] = spec.note
        ends = section.deferral_ends_on_sale
        if ends:
            out["ends_on_sale"] = ends if isinstance(ends, bool) else dict(ends)
        if section.cancellation is not None:
            cancel = section.cancellation
            years = self.value(cancel.years)
            if cancel.years_above is not None and cancel.above is not None:
                # The longer period applies when the holdings deemed sold are worth more than the threshold (FR 167 bis VII).
                limit = Decimal(self.value(cancel.above))
                worth = sum((o.holding.fmv for o in deemed), ZERO)
                longer = worth > limit
                years = self.value(cancel.years_above) if longer else years
                out["cancellation_condition"] = (f"the holdings deemed sold are worth {money_text(worth, self.pack, grouped=True)} {self.pack.currency}, "
                                                 f"{'more than' if longer else 'not more than'} {money_text(limit, self.pack, grouped=True)}: "
                                                 f"cancelled after {years} years")
            out["cancelled_after_years"] = years
        return out

    def reporting(self, applies: bool, outcomes: list[Outcome]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not applies:
            return out
        deemed = any(o.status == "deemed_sold" for o in outcomes)
        # Reportable property: everything but registered plans and other excluded rights.
        reportable = sum((o.holding.fmv for o in outcomes if not (o.status == "excluded" and o.holding.wrapper != "taxable")), ZERO)
        for item in self.law.reporting:
            row: dict[str, Any] = {"form": str(item.need("form")), "source": self.source(item)}
            if item.above:
                limit = Decimal(self.value(item.above))
                row["required"] = reportable > limit
                row["condition"] = f"reportable property {money_text(reportable, self.pack, grouped=True)} {self.pack.currency}, required above {money_text(limit, self.pack, grouped=True)}"
            else:
                row["required"] = deemed
                row["condition"] = "required when a holding is deemed sold" if deemed else "no holding is deemed sold"
            out.append(row)
        return out


def allocate_exclusion(gains: list[Decimal], exclusion: Decimal) -> list[Decimal]:
    """The exclusion spread over gain items pro rata to their gains, never more than a gain (Notice 2009-85)."""
    total = sum(gains, ZERO)
    if total <= exclusion:
        return list(gains)
    shares = []
    allocated = ZERO
    for i, gain in enumerate(gains):
        part = BOOK.subtract(exclusion, allocated) if i == len(gains) - 1 else exclusion * gain / total
        allocated = BOOK.add(allocated, part)
        shares.append(part)
    return shares


def _by_term(outcome: Outcome) -> dict[str, Decimal]:
    """A deemed gain split by holding term, the exclusion taken from the gain lots."""
    gains = [lot.gain for lot in outcome.holding.lots if lot.gain > 0]
    relief = allocate_exclusion(gains, outcome.exclusion) if outcome.exclusion else [ZERO] * len(gains)
    it = iter(relief)
    by_term: dict[str, Decimal] = {}
    for lot in outcome.holding.lots:
        gain = lot.gain - next(it) if lot.gain > 0 else lot.gain
        term = lot.term if lot.term in ("short", "long") else "none"
        by_term[term] = by_term.get(term, ZERO) + gain
    return by_term


def departure(pack: Pack, scenario: Scenario, taxpayer: Taxpayer, date: dt.date, to: str, holdings: list[Holding],
              inputs: ExitInputs) -> Departure:
    """The exit tax of `pack` on `taxpayer` leaving on `date` for `to`, with `holdings` valued the day before."""
    regime = _Regime(pack, scenario, taxpayer, date, to, holdings, inputs)
    applies, reason = regime.caught_person()
    outcomes = regime.outcomes(applies, reason)
    outcomes = regime.exclusion(outcomes)
    tax, outcomes = regime.tax(outcomes)
    deemed = [o for o in outcomes if o.status == "deemed_sold"]
    section = regime.section
    caveats = []
    if section is not None and section.uncertain:
        caveats.append(str(section.uncertain))
    if any(o.taxation == "funds" for o in deemed) and section is not None and section.funds is not None and section.funds.uncertain:
        caveats.append(str(section.funds.uncertain))
    source = pack.source(section.source if section is not None else None)
    if source is not None and source.confidence != "verified":
        caveats.append(f"source confidence: {source.confidence} ({source.citation})")
    return Departure(
        pack=pack, taxpayer=taxpayer, leaving=pack.jurisdiction or pack.id, to=to, date=date, valuation_date=regime.valuation,
        applies=applies, reason=reason if not applies else ((section.note if section is not None else None) or ""),
        source=section.source if section is not None else None,
        tests=tuple(regime.tests), outcomes=tuple(outcomes), tax=tax, deferral=regime.deferral(tax, deemed),
        reporting=tuple(regime.reporting(applies, outcomes)), assumptions=tuple(regime.assumptions), caveats=tuple(caveats),
    )
