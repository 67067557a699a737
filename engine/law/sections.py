"""Typed views of a pack's sections, built once when the pack is loaded (`pack.sections`).

Each class is one section, or one entry or part of one, as the engine reads it: the keys it uses, with
each default written once, here. A value that may be a literal or `{param: NAME}` stays as written
(`ValueOrParam`) and is resolved on the day it applies with `pack.resolve(value, day)`, because values
are dated. Every view keeps its `path` into the pack document and its `span` (file:line:col). Every
section also keeps its `source`, `note` and `uncertain`.

A section the pack does not have is None on `Sections`, never an empty mapping. So is an optional part
of a section (`estimate`, `deferral`, ...) that is absent, null or empty. A key written as null takes
the class default, as an absent key does. Free-form sections (`capital_gains.estimate` and
`loss_offset`, `withholding`, `foreign_tax_credit`, `exit_tax`, `arrival`, `fx.currency_gains`) have
no schema. Their scalars are kept as written and converted where the engine reads them. Where the
engine reads a list or a mapping, a value of another shape is an error at its file:line:col when the
pack loads. Keys the engine does not read are not copied here: the document (`pack.data`) keeps them
for `pack show`, `pack diff` and `pack audit`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping, TypeAlias

import attrs

from taxpack.engine.core.documents import Document, JsonPath
from taxpack.engine.core.errors import ErrorList, EvaluationError, SemanticError, Span, TaxpackError
from taxpack.engine.core.household import Security, Transaction
from taxpack.engine.inputs.fx import DEFAULT_LOOKBACK_DAYS

ValueOrParam: TypeAlias = Any
"""A literal (a number, a duration such as `{days: 30}`, a table) or `{param: NAME}`: read it with
`pack.resolve(value, day)` on the day it applies."""


def dotted(path: JsonPath) -> str:
    """A JSON path as a pack author writes it: `exit_tax.deferral`, `loss_rules[2].window`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# ------------------------------------------------------------------------------------------------
# Common parts
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class View:
    """Where a view sits in its pack: the JSON path into the document, and its file:line:col."""

    path: JsonPath
    span: Span = attrs.field(eq=False, repr=False)

    def need(self, key: str) -> Any:
        """The value of `key`, which the engine needs here. A pack that leaves it out is an error at this view's place."""
        value = getattr(self, key)
        if value is None:
            raise EvaluationError(f"{dotted(self.path)} has no '{key}', which the engine needs here", self.span,
                                  f"'{key}:' in {dotted(self.path)}")
        return value


@attrs.frozen(kw_only=True)
class Cited(View):
    """A view that states law: the source it rests on, a note for reviewers, and why it is unsettled (if it is)."""

    source: str | None = None
    note: str | None = None
    uncertain: str | None = None


# ------------------------------------------------------------------------------------------------
# Who is taxed, holding periods, lots, exchange rates
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Scope(Cited):
    """Whom the jurisdiction taxes on a gain: its residents, its citizens living abroad, non-residents on local securities."""

    residents: bool | None = None
    citizens: bool = False
    non_resident_gains: bool = False
    non_resident_gains_source: str | None = None


@attrs.frozen(kw_only=True)
class HoldingPeriod(Cited):
    """When a gain is long-term: the rule (`calendar_more_than`, `days_more_than`, `none`), the duration, the date counted."""

    rule: str
    long_term_after: ValueOrParam = None
    date: str = "trade"


@attrs.frozen(kw_only=True)
class Fees(View):
    """How trading fees enter a gain: added to a purchase's cost, deducted from a sale's proceeds (or ignored)."""

    buy: str = "add_to_cost"
    sell: str = "deduct_from_proceeds"


@attrs.frozen(kw_only=True)
class Lots(Cited):
    """Which units a sale consumes: the pool's scope, the lot methods the law allows, its default and any mandatory one."""

    pool_scope: str
    methods: tuple[str, ...]
    default: str
    fees: Fees
    mandatory: str | None = None
    average_kinds: tuple[str, ...] | None = None  # None: average cost for any kind the methods allow
    separate_pools: Mapping[str, "SeparatePool"] = attrs.field(factory=dict)  # reason -> the rule keeping such units apart
    identification: tuple["IdentificationRule", ...] = ()  # statutory matching ahead of the method, in order


IDENTIFICATION_RULES = ("same_day", "within_before", "within_after")


@attrs.frozen(kw_only=True)
class IdentificationRule(Cited):
    """One statutory identification rule applied before the pack's lot method (docs/lots.md#identification-rules).

    `same_day`: acquisitions on the disposal's day, as one acquisition (UK TCGA 1992 s.105(1)).
    `within_before`: units still held that were acquired in `window` before the disposal (IE TCA 1997 s.581(1)).
    `within_after`: acquisitions in `window` after the disposal's day (UK s.106A(5)), which then never enter the pool.
    `order` says which acquisitions inside the window go first: `fifo` (earliest) or `lifo` (latest).
    """

    rule: str
    window: ValueOrParam = None  # a duration or a duration parameter; required for within_before / within_after
    order: str = "fifo"


@attrs.frozen(kw_only=True)
class SeparatePool(Cited):
    """Units the law keeps apart from identical units when they are sold `within` a period of their acquisition (CA s.7(1.31))."""

    reason: str
    within: ValueOrParam  # a duration, e.g. {days: 30}


@attrs.frozen(kw_only=True)
class CurrencyGains(Cited):
    """Gains on holding foreign currency itself (not the FX part of a security's gain). Free-form and not computed yet."""

    taxable: bool | str | None = None
    terms: Mapping[str, Any] = attrs.field(factory=dict)  # every other key, as written


@attrs.frozen(kw_only=True)
class Fx(Cited):
    """How foreign-currency legs are translated: each leg at its own date's rate, and what to do on a day without one."""

    legs: str
    date: str
    missing_rate: str
    max_lookback_days: int = DEFAULT_LOOKBACK_DAYS
    currency_gains: CurrencyGains | None = None
    settlement_source: str | None = None  # date: settlement - each sale in another currency explains its rates, citing this


# ------------------------------------------------------------------------------------------------
# Capital gains: the estimate and the use of losses
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TaxMethod(Cited):
    """How a base of gains is taxed: `flat` at `rate`, progressive `brackets`, the taxpayer's `marginal_rate`, or `none`."""

    method: str | None = None
    rate: ValueOrParam = None
    brackets: ValueOrParam = None


@attrs.frozen(kw_only=True)
class Surcharge(Cited):
    """A percentage of the tax itself (DE solidarity surcharge)."""

    id: str | None = None
    rate: ValueOrParam = None


@attrs.frozen(kw_only=True)
class Surtax(Cited):
    """A tax on the part of the gain above a threshold of total income (US NIIT, FR CEHR)."""

    id: str = "a surtax"  # how messages name a surtax the pack leaves unnamed
    rate: ValueOrParam = None
    threshold: ValueOrParam = None
    creditable: bool = True  # false: a credit for another country's tax does not reduce it (US NIIT)
    surcharged: bool = True  # false: the estimate's surcharges (a percentage of the tax) do not reach it (LU care contribution)
    on: str = "net"  # what it reaches: the positive nets of the baskets (net) or their taxable bases (taxable)
    baskets: tuple[str, ...] = ()  # only these baskets of `year` (default: all)


@attrs.frozen(kw_only=True)
class GainsEstimate(TaxMethod):
    """The tax estimate on a year's net gains, with an optional way of taxing short-term gains and the extras on top."""

    short_term: TaxMethod | None = None  # this estimate with the keys of `short_term` replaced
    surcharges: tuple[Surcharge, ...] = ()
    surtaxes: tuple[Surtax, ...] = ()


@attrs.frozen(kw_only=True)
class CarryPeriod(View):
    """How many years a loss may be carried (None: indefinitely)."""

    years: ValueOrParam = None


@attrs.frozen(kw_only=True)
class LossPot(Cited):
    """A ring-fence: losses on these kinds offset only gains on these kinds (DE: shares)."""

    id: str | None = None
    kinds: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class LossOffset(Cited):
    """What a net capital loss may offset: later or earlier years, other income, and ring-fenced pots."""

    carry_forward: CarryPeriod | None = None
    carry_back: CarryPeriod | None = None
    against_other_income: ValueOrParam = None
    pots: tuple[LossPot, ...] = ()


@attrs.frozen(kw_only=True)
class CapitalGains(Cited):
    """Whether realised gains are taxed, the share included and the allowance, how the tax is estimated, how losses are used."""

    taxed: bool = True
    inclusion_rate: ValueOrParam = Decimal(1)
    allowance: ValueOrParam = Decimal(0)
    estimate: GainsEstimate | None = None
    loss_offset: LossOffset | None = None


# ------------------------------------------------------------------------------------------------
# Loss rules (the wash-sale family)
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class LossWindow(View):
    """The period around a loss sale in which a purchase counts: `before` and `after` it, and how the calendar is read."""

    before: ValueOrParam  # a duration, or a duration parameter
    after: ValueOrParam
    month_rounding: str | None = None
    exclude_sale_day: bool = True
    date: str = "trade"  # trade | settlement: the date of each trade the window is measured on


@attrs.frozen(kw_only=True)
class AppliesTo(View):
    """Which sold securities a loss rule covers (None: any)."""

    listed: bool | None = None
    kinds: tuple[str, ...] | None = None


@attrs.frozen(kw_only=True)
class LossRule(Cited):
    """A `loss_rules` entry: a loss denied or deferred when the same (or an equivalent) security is bought around the sale.

    US wash sale, CA superficial loss, IE 4-week rule and ES 2-month rule differ only in these settings.
    """

    index: int
    id: str
    code: str
    title: str
    identity: str
    window: LossWindow
    effect: str
    applies_to: AppliesTo
    own_accounts: str = "all"
    spouse: bool = False
    wrappers: Mapping[str, str] = attrs.field(factory=dict)  # wrapper -> counts | permanent | ignored | uncertain
    held_at_end: bool = False
    match_order: str = "acquisition"
    tacking: bool = False
    severity: str = "warning"
    split_uncertain: str | None = None  # proportional: the caveat when several holders share the denied loss
    split_source: str | None = None  # the source of that reading (default: the rule's)

    def applies(self, security: Security) -> bool:
        """Does the rule cover a loss on this security (`applies_to`: listed, kinds)?"""
        listed = self.applies_to.listed
        if listed is not None and bool(listed) != bool(security.listed):
            return False
        kinds = self.applies_to.kinds
        if kinds is not None and security.kind not in kinds:
            return False
        return True

    def event_day(self, tx: Transaction) -> dt.date:
        """The date of a sale or a purchase as this rule's window counts it."""
        if self.window.date == "settlement" and tx.settlement_date is not None:
            return tx.settlement_date
        return tx.date


@attrs.frozen(kw_only=True)
class NoLossRule(Cited):
    """The cited statement that the jurisdiction has no wash-sale rule (DE, FR, IT, NL), so its absence is not an omission."""

    finding: bool = False


# ------------------------------------------------------------------------------------------------
# Withholding, credits, wrappers, treaties
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Withholding(Cited):
    """The statutory tax the source country withholds on dividends and interest, and the usual route to the treaty rate."""

    dividends_non_resident: ValueOrParam = None
    interest_non_resident: ValueOrParam = None
    dividends_resident: ValueOrParam = None
    relief: str | None = None  # at_source | refund
    refund_note: str | None = None
    reclaim: "Reclaim | None" = None


@attrs.frozen(kw_only=True)
class ReclaimDeadline(Cited):
    """The last day a claim can reach the authority: `years` and `months` counted from `anchor` (the pack's `from`):
    payment_date, end_of_payment_year, start_of_payment_year, or day_after_payment_year (`day`, MM-DD, of the next year)."""

    anchor: str
    years: int = 0
    months: int = 0
    day: str | None = None


@attrs.frozen(kw_only=True)
class Reclaim(Cited):
    """How a non-resident reclaims this country's withholding above the treaty rate: the form, the authority, the deadline."""

    form: str
    authority: str
    deadline: ReclaimDeadline


@attrs.frozen(kw_only=True)
class ForeignTaxCredit(Cited):
    """How the residence country relieves foreign tax: a credit (up to a share of the income), a deduction, or none."""

    method: str = "credit"  # credit | deduction | none
    cap_rate: ValueOrParam = None
    excess_deductible: bool | None = None
    per_country: bool | None = None
    de_minimis: ValueOrParam = None


@attrs.frozen(kw_only=True)
class Wrapper(Cited):
    """A tax-sheltered account type (IRA, RRSP, TFSA, PEA): inside the taxable computation or not, with its own pool or not."""

    name: str
    taxable: bool
    own_pool: bool = True
    title: str | None = None
    kind: str | None = None
    recognised_by_treaty: bool | None = None


@attrs.frozen(kw_only=True)
class TreatyAccount(Cited):
    """A treaty's rate for income paid into one kind of account (US dividends in an RRSP: 0%), and whether the tax is creditable."""

    dividends: ValueOrParam = None
    interest: ValueOrParam = None
    creditable: bool | None = None  # None: creditable unless the account is outside the taxable computation
    own_tax: bool = False  # the tax withheld is the holder's own tax in the source country (a citizen it taxes): never lost
    citizens: "TreatyAccount | None" = None  # the case when the holder is a citizen of the source country


@attrs.frozen(kw_only=True)
class TreatyRow(Cited):
    """One row of the treaty table: the rates the source country may withhold from a resident of the other, while in force."""

    source_country: str
    resident_of: str
    dividends: ValueOrParam
    interest: ValueOrParam = None
    start: dt.date | None = None  # `from`
    end: dt.date | None = None  # `to`
    relief: str | None = None
    article: str | None = None
    accounts: Mapping[str, TreatyAccount] = attrs.field(factory=dict)

    def in_force(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


# ------------------------------------------------------------------------------------------------
# Moving residence: exit tax and arrival
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ResidencePeriod(Cited):
    """Residence of at least `years` within the last `within_years` (DE §6 AStG: 7 of 12; US long-term resident: 8 of 15)."""

    years: int | None = None
    within_years: int | None = None


@attrs.frozen(kw_only=True)
class ShortTermResidence(Cited):
    """Residence of at most `months` within the last `within_years` (CA: property owned on arrival by a short-term resident)."""

    months: int | None = None
    within_years: int | None = None


@attrs.frozen(kw_only=True)
class CoveredExpatriate(Cited):
    """The US covered-expatriate tests: net worth, average tax liability, compliance certification, long-term residence."""

    net_worth: ValueOrParam = None
    average_tax_liability: ValueOrParam = None
    compliance_certification_years: int | None = None
    long_term_resident: ResidencePeriod | None = None


@attrs.frozen(kw_only=True)
class DeemedGainTaxation(Cited):
    """How a deemed gain of this kind is taxed: the pack's `capital_gains` with the keys given here replaced, stacked on other income or not."""

    capital_gains: CapitalGains | None  # None: neither the pack nor this part says anything
    stack_on_other_income: bool = True


@attrs.frozen(kw_only=True)
class ExitFunds(Cited):
    """Fund units under an exit tax (DE §19(3) InvStG): caught at all, and above which stake or cost."""

    covered: ValueOrParam = False
    holding_threshold: ValueOrParam = None
    holding_comparison: str | None = None  # at_least (default) | above
    cost_threshold: ValueOrParam = None
    cost_comparison: str | None = None
    gain_taxation: DeemedGainTaxation | None = None


@attrs.frozen(kw_only=True)
class ExitDeferral(Cited):
    """Whether the exit tax may be deferred, against what security, in how many instalments."""

    available: bool | None = None
    security_above: ValueOrParam = None
    security: Any = None  # as written: required, usually, false
    instalments: ValueOrParam = None


@attrs.frozen(kw_only=True)
class ExitReport(Cited):
    """A form to file on leaving, always or above a value of reportable property."""

    form: Any = None  # as written (a form number may be written as a number)
    above: ValueOrParam = None


@attrs.frozen(kw_only=True)
class Cancellation(Cited):
    """The deferred exit tax is cancelled after `years` (FR: if the securities are still held), or after
    `years_above` when the deemed-sold holdings are worth more than `above` (FR art. 167 bis VII: 5 years above 2.57m)."""

    years: ValueOrParam = None
    years_above: ValueOrParam = None
    above: ValueOrParam = None


@attrs.frozen(kw_only=True)
class TemporaryNonResidence(Cited):
    """Gains made during a short absence are taxed on return as if made before leaving (IE s.29A)."""

    absence_under_years: int = 0
    holding_value: ValueOrParam = None
    holding_share: ValueOrParam = None


@attrs.frozen(kw_only=True)
class ExitTax(Cited):
    """The tax on leaving: who is caught, which holdings are deemed sold at market value, how the gain is taxed, deferral and reporting."""

    applies: bool | None = None  # None: the pack does not say (only an explicit false means no exit tax)
    who: str | None = None  # covered_expatriate: the US tests decide
    covered_expatriate: CoveredExpatriate | None = None
    deemed_disposal: str | None = None  # all | substantial_holdings | funds_and_substantial, as written
    min_residence: ResidencePeriod | None = None
    kinds: tuple[str, ...] | None = None  # None: every kind of property
    threshold: ValueOrParam = None
    threshold_comparison: str | None = None
    holding_threshold: ValueOrParam = None
    holding_comparison: str | None = None
    holding_value: ValueOrParam = None
    holding_value_comparison: str | None = None
    excluded_wrappers: tuple[str, ...] = ()
    specified_tax_deferred_accounts: tuple[str, ...] = ()
    deferred_compensation: tuple[str, ...] = ()
    excluded_property: tuple[str, ...] = ()
    short_term_resident: ShortTermResidence | None = None
    funds: ExitFunds | None = None
    exclusion: ValueOrParam = None
    gain_taxation: DeemedGainTaxation | None = None
    deferral: ExitDeferral | None = None
    deferral_automatic_for: tuple[str, ...] | None = None
    deferral_ends_on_sale: bool | Mapping[str, Any] | None = None  # true, or {years: N}, as written
    cancellation: Cancellation | None = None
    reporting: tuple[ExitReport, ...] = ()
    loss_carryback: Cited | None = None
    temporary_non_residence: TemporaryNonResidence | None = None

    @property
    def disposal(self) -> str:
        """What `taxpack exit` deems sold: `deemed_disposal`, or all property when the pack does not say."""
        return "all" if self.deemed_disposal is None else self.deemed_disposal


@attrs.frozen(kw_only=True)
class AfterExitTax(Cited):
    """The cost a holding takes on arrival when the country left taxed it at departure: its exit value, or on election."""

    origins: tuple[str, ...] | None = None  # `from`: the countries left (None: any)
    kinds: tuple[str, ...] | None = None
    holding_threshold: ValueOrParam = None
    holding_comparison: str | None = None
    election: bool | None = None


@attrs.frozen(kw_only=True)
class ArrivalBasis(Cited):
    """The cost of holdings on arrival: stepped up to market value (for all, or substantial holdings only) or historical."""

    step_up: bool | None = None
    scope: str = "all"  # all | substantial_holdings
    holding_threshold: ValueOrParam = None
    holding_comparison: str | None = None
    after_exit_tax: AfterExitTax | None = None


# ------------------------------------------------------------------------------------------------
# The container
# ------------------------------------------------------------------------------------------------


# ------------------------------------------------------------------------------------------------
# Corporate actions
# ------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ActionRule(Cited):
    """A kind of corporate action the pack states (split, identifier change): units change, cost and dates stay."""


@attrs.frozen(kw_only=True)
class Boot(Cited):
    """Cash received besides the new shares in a share exchange: gain_up_to_boot | reduces_cost | income."""

    treatment: str


@attrs.frozen(kw_only=True)
class Successor(Cited):
    """How loss rules see the new shares of a share exchange against the old: identical | substantially_identical."""

    identity: str


@attrs.frozen(kw_only=True)
class ShareExchange(Cited):
    """A merger, share for share: deferred (the new shares take the old cost and dates) or not; its cash; its successor."""

    deferred: bool = False
    boot: Boot | None = None
    successor: Successor | None = None


@attrs.frozen(kw_only=True)
class SpinOff(Cited):
    """A spin-off: the old cost divided by values (relative_fmv); deferral only on an election where the law says so."""

    allocation: str = "relative_fmv"
    requires_election: bool = False


@attrs.frozen(kw_only=True)
class ReturnOfCapital(Cited):
    """A return of capital reduces the cost; what exceeds the cost is `excess` (capital_gain)."""

    excess: str = "capital_gain"


@attrs.frozen(kw_only=True)
class StockDividend(Cited):
    """A stock dividend: spread_cost (US §307) or income_at_amount (CA s.248(1), s.52(3))."""

    treatment: str


@attrs.frozen(kw_only=True)
class CashInLieu(Cited):
    """Cash for a fraction of a unit: sale_of_fraction."""

    treatment: str = "sale_of_fraction"


@attrs.frozen(kw_only=True)
class CorporateActions(Cited):
    """How the lens treats each kind of corporate action; a kind it does not state is None (and cannot be computed)."""

    split: ActionRule | None = None
    identifier_change: ActionRule | None = None
    share_exchange: ShareExchange | None = None
    spin_off: SpinOff | None = None
    return_of_capital: ReturnOfCapital | None = None
    stock_dividend: StockDividend | None = None
    cash_in_lieu: CashInLieu | None = None


_CITED = ("path", "span", "source", "note", "uncertain")


@attrs.frozen(kw_only=True)
class Sections:
    """Every section of a pack the engine reads, typed. A section the pack does not have is None."""

    scope: Scope | None = None
    holding_period: HoldingPeriod | None = None
    lots: Lots | None = None
    fx: Fx | None = None
    capital_gains: CapitalGains | None = None
    loss_rules: tuple[LossRule, ...] | None = None
    no_loss_rule: NoLossRule | None = None
    withholding: Withholding | None = None
    foreign_tax_credit: ForeignTaxCredit | None = None
    wrappers: Mapping[str, Wrapper] | None = None
    treaties: tuple[TreatyRow, ...] | None = None
    exit_tax: ExitTax | None = None
    arrival: ArrivalBasis | None = None
    corporate_actions: "CorporateActions | None" = None

    def wrapper(self, name: str) -> Wrapper | None:
        """The wrapper the pack defines under `name`, or None."""
        return None if self.wrappers is None else self.wrappers.get(name)


# ------------------------------------------------------------------------------------------------
# Building the views from a validated document
# ------------------------------------------------------------------------------------------------


class _Node:
    """One mapping of the document being read, and where each of its keys sits (a merged mapping keeps each key's own place)."""

    def __init__(self, document: Document, raw: Mapping[str, Any], path: JsonPath, errors: list[TaxpackError],
                 origins: Mapping[str, JsonPath] | None = None) -> None:
        self.document = document
        self.raw = raw
        self.path = path
        self.errors = errors
        self.origins = origins or {}

    def where(self, key: str) -> JsonPath:
        return self.origins.get(key, self.path + (key,))

    def at(self) -> dict[str, Any]:
        return {"path": self.path, "span": self.document.span(self.path)}

    def cited(self) -> dict[str, Any]:
        return {**self.at(), **self.given("source", "note", "uncertain")}

    def given(self, *keys: str) -> dict[str, Any]:
        """The keys written (not null), as written: an absent key takes the class default."""
        return {key: self.raw[key] for key in keys if self.raw.get(key) is not None}

    def merged(self, over: "_Node", skip: tuple[str, ...] = ()) -> "_Node":
        """This mapping with the keys of `over` replacing its own (the engine's `{**base, **override}`), at `over`'s place."""
        keys = [k for k in over.raw if k not in skip]
        raw = {**self.raw, **{k: over.raw[k] for k in keys}}
        origins = {**{k: self.where(k) for k in self.raw}, **{k: over.where(k) for k in keys}}
        return _Node(self.document, raw, over.path, self.errors, origins)

    def _wrong(self, key: str, what: str, example: str) -> None:
        self.errors.append(SemanticError(f"{dotted(self.where(key))} must be {what}", self.document.span(self.where(key)), example))

    def child(self, key: str) -> "_Node | None":
        """The mapping under `key`; None when it is absent, null or empty."""
        value = self.raw.get(key)
        if not value:
            return None
        if not isinstance(value, Mapping):
            self._wrong(key, "a mapping", f"'{key}:' followed by indented keys, or {{key: value, ...}}")
            return None
        return _Node(self.document, value, self.where(key), self.errors)

    def children(self, key: str) -> list["_Node"]:
        """The mappings listed under `key` (none when it is absent, null or empty)."""
        value = self.raw.get(key)
        if not value:
            return []
        if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
            self._wrong(key, "a list of mappings", f"'{key}: [{{...}}, ...]'")
            return []
        return [_Node(self.document, item, self.where(key) + (i,), self.errors) for i, item in enumerate(value)]

    def entries(self, key: str) -> list[tuple[str, "_Node"]]:
        """The named mappings under `key` (a mapping of name to mapping)."""
        node = self.child(key)
        if node is None:
            return []
        if not all(isinstance(item, Mapping) for item in node.raw.values()):
            self._wrong(key, "a mapping of names to mappings", f"'{key}: {{name: {{...}}, ...}}'")
            return []
        return [(str(name), _Node(self.document, item, node.where(str(name)), self.errors)) for name, item in node.raw.items()]

    def names(self, key: str) -> tuple[str, ...] | None:
        """The list under `key` as a tuple; None when it is absent or null (an empty list stays empty)."""
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list):
            self._wrong(key, "a list", f"'{key}: [A, B]'")
            return None
        return tuple(value)

    def names_given(self, *keys: str) -> dict[str, Any]:
        """The lists written (not null) under `keys`, as tuples: an absent list takes the class default."""
        found = {key: self.names(key) for key in keys}
        return {key: value for key, value in found.items() if value is not None}


def build_sections(document: Document) -> Sections:
    """The typed views of a validated pack document. Raises `ErrorList` when a free-form part has the wrong shape."""
    errors: list[TaxpackError] = []
    top = _Node(document, document.data, (), errors)
    found: dict[str, Any] = {}
    simple = {"scope": _scope, "holding_period": _holding_period, "lots": _lots, "fx": _fx, "no_loss_rule": _no_loss_rule,
              "withholding": _withholding, "foreign_tax_credit": _foreign_tax_credit, "arrival": _arrival,
              "corporate_actions": _corporate_actions}
    for name, build in simple.items():
        node = _section(top, name)
        if node is not None:
            found[name] = build(node)
    cg = _section(top, "capital_gains")
    if cg is not None:
        found["capital_gains"] = _capital_gains(cg)
    exit_tax = _section(top, "exit_tax")
    if exit_tax is not None:
        found["exit_tax"] = _exit_tax(exit_tax, cg or _Node(document, {}, ("capital_gains",), errors))
    if "loss_rules" in document.data:
        found["loss_rules"] = tuple(_loss_rule(node, i) for i, node in enumerate(top.children("loss_rules")))
    if "wrappers" in document.data:
        found["wrappers"] = {name: _wrapper(name, node) for name, node in top.entries("wrappers")}
    if "treaties" in document.data:
        found["treaties"] = tuple(_treaty_row(node) for node in top.children("treaties"))
    if errors:
        raise ErrorList(errors)
    return Sections(**found)


def _section(top: _Node, name: str) -> _Node | None:
    """A section of the pack: None when the pack does not have it (the schema makes every section a mapping)."""
    value = top.raw.get(name)
    if value is None:
        return None
    return _Node(top.document, value, (name,), top.errors)


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _scope(n: _Node) -> Scope:
    return Scope(**n.cited(), **n.given("residents", "citizens", "non_resident_gains", "non_resident_gains_source"))


def _holding_period(n: _Node) -> HoldingPeriod:
    return HoldingPeriod(**n.cited(), **n.given("rule", "long_term_after", "date"))


def _lots(n: _Node) -> Lots:
    fees = n.child("fees")
    pools = {reason: SeparatePool(**p.cited(), reason=reason, within=p.raw.get("within")) for reason, p in n.entries("separate_pools")}
    rules = tuple(IdentificationRule(**r.cited(), **r.given("rule", "window", "order")) for r in n.children("identification"))
    _check_identification(n, rules)
    return Lots(**n.cited(), **n.given("pool_scope", "default", "mandatory"), **n.names_given("methods", "average_kinds"),
                fees=Fees(**fees.at(), **fees.given("buy", "sell")) if fees is not None else Fees(path=n.where("fees"), span=n.document.span(n.where("fees"))),
                separate_pools=pools, identification=rules)


def _check_identification(n: _Node, rules: tuple[IdentificationRule, ...]) -> None:
    """The combinations the engine computes: each rule once, same_day first, a window where one is needed, not both
    windows (their priorities across disposals are not modelled), no within_before on a mandatory average pool."""
    def wrong(rule: IdentificationRule, what: str, example: str) -> None:
        n.errors.append(SemanticError(f"{dotted(rule.path)}: {what}", rule.span, example))

    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.rule in seen:
            wrong(rule, f"'{rule.rule}' is listed twice", "each identification rule at most once")
        seen.add(rule.rule)
        if rule.rule == "same_day" and i:
            wrong(rule, "same_day must come first (it has priority over every other identification)", "same_day as the first entry")
        if rule.rule != "same_day" and rule.window is None:
            wrong(rule, f"{rule.rule} needs a window", "window: {weeks: 4} or window: {param: NAME}")
    if {"within_before", "within_after"} <= seen:
        first = next(r for r in rules if r.rule == "within_after")
        wrong(first, "within_before and within_after together are not supported (which disposal a purchase goes to would depend on both)",
              "one of within_before or within_after")
    if "within_before" in seen and n.raw.get("mandatory") == "average":
        first = next(r for r in rules if r.rule == "within_before")
        wrong(first, "within_before needs lots that keep their own cost, and this pack makes average cost mandatory",
              "no within_before rule, or a lot method other than average")


def _fx(n: _Node) -> Fx:
    gains = n.child("currency_gains")
    currency_gains = None
    if gains is not None:
        terms = {k: v for k, v in gains.raw.items() if k not in ("source", "note", "uncertain", "taxable")}
        currency_gains = CurrencyGains(**gains.cited(), **gains.given("taxable"), terms=terms)
    return Fx(**n.cited(), **n.given("legs", "date", "missing_rate", "max_lookback_days", "settlement_source"), currency_gains=currency_gains)


def _tax_method(n: _Node) -> TaxMethod:
    return TaxMethod(**n.cited(), **n.given("method", "rate", "brackets"))


def _estimate(n: _Node) -> GainsEstimate:
    short = n.child("short_term")
    return GainsEstimate(
        **n.cited(), **n.given("method", "rate", "brackets"),
        short_term=_tax_method(n.merged(short)) if short is not None else None,
        surcharges=tuple(Surcharge(**s.cited(), **s.given("id", "rate")) for s in n.children("surcharges")),
        surtaxes=tuple(Surtax(**s.cited(), **s.given("id", "rate", "threshold", "creditable", "surcharged", "on"), **s.names_given("baskets"))
                       for s in n.children("surtaxes")),
    )


def _capital_gains(n: _Node) -> CapitalGains:
    estimate, offset = n.child("estimate"), n.child("loss_offset")
    return CapitalGains(**n.cited(), **n.given("taxed", "inclusion_rate", "allowance"),
                        estimate=_estimate(estimate) if estimate is not None else None,
                        loss_offset=_loss_offset(offset) if offset is not None else None)


def _loss_offset(n: _Node) -> LossOffset:
    carry: dict[str, Any] = {key: CarryPeriod(**c.at(), **c.given("years")) for key in ("carry_forward", "carry_back") if (c := n.child(key)) is not None}
    pots = tuple(LossPot(**p.cited(), **p.given("id"), **p.names_given("kinds")) for p in n.children("pots"))
    return LossOffset(**n.cited(), **n.given("against_other_income"), **carry, pots=pots)


def _loss_rule(n: _Node, index: int) -> LossRule:
    raw = n.raw
    window = _Node(n.document, raw["window"], n.where("window"), n.errors)
    applies_to = n.child("applies_to")
    who: dict[str, Any] = {}
    if (w := n.child("who")) is not None:
        who = w.given("own_accounts", "spouse")
        if (wrappers := w.child("wrappers")) is not None:
            who["wrappers"] = dict(sorted(wrappers.raw.items()))
    rid = str(raw["id"])
    return LossRule(
        **n.cited(), index=index, id=rid, code=str(raw["code"]), title=str(raw.get("title") or rid),
        identity=str(raw["identity"]), effect=str(raw["effect"]),
        window=LossWindow(**window.at(), **window.given("before", "after", "month_rounding", "exclude_sale_day", "date")),
        applies_to=AppliesTo(**applies_to.at(), **applies_to.given("listed"), **applies_to.names_given("kinds")) if applies_to is not None
        else AppliesTo(path=n.where("applies_to"), span=n.document.span(n.where("applies_to"))),
        **who, **n.given("held_at_end", "match_order", "tacking", "severity", "split_uncertain", "split_source"),
    )


def _no_loss_rule(n: _Node) -> NoLossRule:
    return NoLossRule(**n.cited(), **n.given("finding"))


def _withholding(n: _Node) -> Withholding:
    reclaim = n.child("reclaim")
    return Withholding(**n.cited(), **n.given("dividends_non_resident", "interest_non_resident", "dividends_resident", "relief", "refund_note"),
                       reclaim=_reclaim(reclaim) if reclaim is not None else None)


def _reclaim(n: _Node) -> Reclaim:
    d = n.child("deadline") or _Node(n.document, {}, n.where("deadline"), n.errors)
    deadline = ReclaimDeadline(**d.cited(), anchor=d.raw.get("from", "end_of_payment_year"), **d.given("years", "months", "day"))
    return Reclaim(**n.cited(), **n.given("form", "authority"), deadline=deadline)


def _corporate_actions(n: _Node) -> CorporateActions:
    found: dict[str, Any] = {}
    for key, build in (("split", ActionRule), ("identifier_change", ActionRule), ("return_of_capital", ReturnOfCapital),
                       ("stock_dividend", StockDividend), ("cash_in_lieu", CashInLieu), ("spin_off", SpinOff)):
        if (c := n.child(key)) is not None:
            found[key] = build(**c.cited(), **c.given(*(f.name for f in attrs.fields(build) if f.name not in _CITED)))
    if (c := n.child("share_exchange")) is not None:
        boot, successor = c.child("boot"), c.child("successor")
        found["share_exchange"] = ShareExchange(
            **c.cited(), **c.given("deferred"),
            boot=Boot(**boot.cited(), **boot.given("treatment")) if boot is not None else None,
            successor=Successor(**successor.cited(), **successor.given("identity")) if successor is not None else None)
    return CorporateActions(**n.cited(), **found)


def _foreign_tax_credit(n: _Node) -> ForeignTaxCredit:
    return ForeignTaxCredit(**n.cited(), **n.given("method", "cap_rate", "excess_deductible", "per_country", "de_minimis"))


def _wrapper(name: str, n: _Node) -> Wrapper:
    return Wrapper(**n.cited(), name=name, **n.given("taxable", "own_pool", "title", "kind", "recognised_by_treaty"))


def _treaty_account(a: _Node) -> TreatyAccount:
    citizens = a.child("citizens")
    return TreatyAccount(**a.cited(), **a.given("dividends", "interest", "creditable", "own_tax"),
                         citizens=_treaty_account(citizens) if citizens is not None else None)


def _treaty_row(n: _Node) -> TreatyRow:
    accounts = {name: _treaty_account(a) for name, a in n.entries("accounts")}
    return TreatyRow(**n.cited(), **n.given("source_country", "resident_of", "dividends", "interest", "relief", "article"),
                     start=_date(n.raw.get("from")), end=_date(n.raw.get("to")), accounts=accounts)


def _deemed_gain_taxation(n: _Node, capital_gains: _Node) -> DeemedGainTaxation:
    merged = capital_gains.merged(n, skip=("stack_on_other_income", "source", "note"))
    return DeemedGainTaxation(**n.cited(), **n.given("stack_on_other_income"),
                              capital_gains=_capital_gains(merged) if merged.raw else None)


def _exit_tax(n: _Node, capital_gains: _Node) -> ExitTax:
    found: dict[str, Any] = {}
    if (c := n.child("covered_expatriate")) is not None:
        ltr = c.child("long_term_resident")
        found["covered_expatriate"] = CoveredExpatriate(
            **c.cited(), **c.given("net_worth", "average_tax_liability", "compliance_certification_years"),
            long_term_resident=ResidencePeriod(**ltr.cited(), **ltr.given("years", "within_years")) if ltr is not None else None)
    if (m := n.child("min_residence")) is not None:
        found["min_residence"] = ResidencePeriod(**m.cited(), **m.given("years", "within_years"))
    if (s := n.child("short_term_resident")) is not None:
        found["short_term_resident"] = ShortTermResidence(**s.cited(), **s.given("months", "within_years"))
    if (f := n.child("funds")) is not None:
        taxation = f.child("gain_taxation")
        found["funds"] = ExitFunds(**f.cited(), **f.given("covered", "holding_threshold", "holding_comparison", "cost_threshold", "cost_comparison"),
                                   gain_taxation=_deemed_gain_taxation(taxation, capital_gains) if taxation is not None else None)
    if (g := n.child("gain_taxation")) is not None:
        found["gain_taxation"] = _deemed_gain_taxation(g, capital_gains)
    if (d := n.child("deferral")) is not None:
        found["deferral"] = ExitDeferral(**d.cited(), **d.given("available", "security_above", "security", "instalments"))
    if (k := n.child("cancellation")) is not None:
        found["cancellation"] = Cancellation(**k.cited(), **k.given("years", "years_above", "above"))
    if (lc := n.child("loss_carryback")) is not None:
        found["loss_carryback"] = Cited(**lc.cited())
    if (t := n.child("temporary_non_residence")) is not None:
        found["temporary_non_residence"] = TemporaryNonResidence(**t.cited(), **t.given("absence_under_years", "holding_value", "holding_share"))
    ends = n.raw.get("deferral_ends_on_sale")
    if isinstance(ends, (bool, Mapping)):
        found["deferral_ends_on_sale"] = ends
    elif ends is not None:
        n._wrong("deferral_ends_on_sale", "true, false or a mapping such as {years: 10}", "deferral_ends_on_sale: true")
    return ExitTax(
        **n.cited(), **found,
        **n.given("applies", "who", "deemed_disposal", "threshold", "threshold_comparison", "holding_threshold", "holding_comparison",
                  "holding_value", "holding_value_comparison", "exclusion"),
        **n.names_given("kinds", "excluded_wrappers", "specified_tax_deferred_accounts", "deferred_compensation", "excluded_property",
                        "deferral_automatic_for"),
        reporting=tuple(ExitReport(**r.cited(), **r.given("form", "above")) for r in n.children("reporting")),
    )


def _arrival(n: _Node) -> ArrivalBasis:
    after_exit_tax = None
    if (after := n.child("after_exit_tax")) is not None:
        lists = after.names_given("kinds", "from")
        if "from" in lists:
            lists["origins"] = lists.pop("from")
        after_exit_tax = AfterExitTax(**after.cited(), **after.given("holding_threshold", "holding_comparison", "election"), **lists)
    return ArrivalBasis(**n.cited(), **n.given("step_up", "scope", "holding_threshold", "holding_comparison"), after_exit_tax=after_exit_tax)
