"""The household and its trades: the domain model every pipeline stage reads.

A *scenario* is one household on one day (`as_of`): taxpayers, their accounts, the securities they
hold, the executed history (which builds the lots) and the candidate trades to annotate. Everything is
an immutable `attrs` class; money and quantities are `Decimal`, dates are `datetime.date`.
Each object keeps the `Span` where the user wrote it, so a consequence can point back to its input.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal, Mapping

import attrs

from taxpack.engine.core.errors import Span

Side = Literal["buy", "sell"]
Severity = Literal["info", "warning", "blocking"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "blocking")
LOT_METHODS: tuple[str, ...] = ("fifo", "lifo", "hifo", "lofo", "average", "specific")
SECURITY_KINDS: tuple[str, ...] = ("share", "etf", "fund", "bond", "currency", "crypto")
# What a fund invests in (the scenario's securities[].fund_kind): packs tax funds by it (DE InvStG partial exemption).
FUND_KINDS: tuple[str, ...] = ("equity", "mixed", "real_estate", "foreign_real_estate", "bond", "money_market", "other")
# An election a holder of a foreign fund made (the scenario's securities[].pfic_election): qef, mark_to_market or none.
FUND_ELECTIONS: tuple[str, ...] = ("qef", "mark_to_market", "none")
TERMS: tuple[str, ...] = ("short", "long", "mixed", "none")


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if value is not None else ()


@attrs.frozen
class ResidenceChange:
    """A planned (or past) move: from `date` on, the taxpayer is resident in `to`."""

    date: dt.date
    to: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class CarriedLoss:
    """A loss carried into the scenario's year under one jurisdiction: the basket of that pack's `year`
    section it belongs to, its size (a positive amount, in that pack's currency) and the tax year it arose in;
    `original`, the loss as it arose (a pack that caps each year's use at a share of it, PL 50%), when given."""

    basket: str
    amount: Decimal
    year: int
    span: Span | None = attrs.field(default=None, eq=False, repr=False)
    original: Decimal | None = None


@attrs.frozen
class Taxpayer:
    """A person: where they are resident for tax, which citizenships they hold, and their tax data.

    `other_income` and `marginal_rate` are per jurisdiction (ISO code), in that pack's currency; they
    let a pack estimate tax, and are absent when the user did not give them (the estimate is then absent).
    """

    id: str
    residence: str
    citizenship: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    filing_status: str | None = None
    spouse: str | None = None
    other_income: Mapping[str, Decimal] = attrs.field(factory=dict)
    marginal_rate: Mapping[str, Decimal] = attrs.field(factory=dict)
    residence_changes: tuple[ResidenceChange, ...] = attrs.field(default=(), converter=_tuple)
    resident_since: dt.date | None = None
    # The year's computation (per jurisdiction, in that pack's currency): losses carried in from earlier
    # years, gains and losses already realised this tax year outside the scenario (per basket), and other
    # income of the next year (for "sell on 1 January" advice).
    carry_forward: Mapping[str, tuple[CarriedLoss, ...]] = attrs.field(factory=dict)
    realised: Mapping[str, Mapping[str, Decimal]] = attrs.field(factory=dict)
    next_year_income: Mapping[str, Decimal] = attrs.field(factory=dict)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)

    def residence_on(self, day: dt.date) -> str:
        """The country of residence on `day`, following the planned moves."""
        country = self.residence
        for change in sorted(self.residence_changes, key=lambda c: c.date):
            if change.date <= day:
                country = change.to
        return country


@attrs.frozen
class Account:
    """An account at a broker or bank. `wrapper` is `taxable` or a wrapper a pack defines (ira, tfsa...)."""

    id: str
    owner: str
    country: str
    currency: str
    wrapper: str = "taxable"
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class IdentityGroup:
    """Securities that a loss rule may treat as the same: how close they are and how sure we are.

    `level` is `identical` (the same property: CA s.54, IE same class) or `substantially_identical`
    (US §1091); `confidence` (high, medium, low) is carried into every finding that relies on the group.
    """

    id: str
    level: str = "substantially_identical"
    confidence: str = "medium"
    note: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Security:
    """A tradable security: its currency, domicile country, kind, and the identity group it belongs to.

    `fund_kind` says what a fund or ETF invests in (equity, mixed, real_estate...), `pfic_election` the
    election its holder made for a foreign fund (qef, mark_to_market, none); both are None when not given."""

    id: str
    currency: str
    country: str
    kind: str = "share"
    identity_group: str | None = None
    listed: bool = True
    fractional: bool = False
    dividend_yield: Decimal | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    ex_dividend_dates: tuple[dt.date, ...] = attrs.field(default=(), converter=_tuple)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)
    fund_kind: str | None = None
    pfic_election: str | None = None


@attrs.frozen
class SpecificLot:
    """One line of a specific identification: take `quantity` from the lot bought by `transaction`."""

    transaction: str
    quantity: Decimal
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


LotChoice = str | tuple[SpecificLot, ...]


@attrs.frozen
class Transaction:
    """An executed buy or sell (history), or a candidate trade when `candidate` is true.

    `price` and `fees` are in `currency` (the security's unless given). `lots` on a sell is the lot
    method the taxpayer asks for, or a tuple of `SpecificLot` for specific identification.
    """

    id: str
    account: str
    security: str
    date: dt.date
    side: str
    quantity: Decimal
    price: Decimal
    fees: Decimal = Decimal(0)
    currency: str | None = None
    settlement_date: dt.date | None = None
    lots: LotChoice | None = None
    candidate: bool = False
    in_kind: bool = False  # a transfer in kind (e.g. a position contributed to a TFSA), not a market trade
    pool: str | None = None  # a separate cost pool (CostPool id) the units go into or come from
    span: Span | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def gross(self) -> Decimal:
        return self.quantity * self.price


CORPORATE_ACTION_TYPES: tuple[str, ...] = (
    "split", "identifier_change", "merger", "spin_off", "return_of_capital", "stock_dividend",
)


@attrs.frozen
class Ratio:
    """`new` units for every `old` unit (a 4-for-1 split is 4:1, a 1-for-10 consolidation 1:10)."""

    new: Decimal
    old: Decimal

    @property
    def factor(self) -> Decimal:
        return self.new / self.old


@attrs.frozen
class Dividend:
    """A dividend (or a payment in lieu of one) received in an account, and the tax withheld from it.

    `gross` and `withheld` are in `currency` (the security's unless given); `withheld` is the tax the
    source country kept (positive). `source_country` is the country that withheld (default: the
    security's). `kind` is `dividend` or `in_lieu` (a substitute payment while the shares were lent).
    """

    id: str
    account: str
    security: str
    date: dt.date  # the payment date
    gross: Decimal
    withheld: Decimal = Decimal(0)
    currency: str | None = None
    source_country: str | None = None
    kind: str = "dividend"
    ex_date: dt.date | None = None
    note: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class CorporateAction:
    """An event of the issuer that changes holdings without a trade (see docs/scenario-format.md).

    `type` is one of CORPORATE_ACTION_TYPES. Without `account` it applies to every account holding
    `security` on `date`; with it, to that account only (broker exports give one event per account).
    Money (`cash`, `cash_in_lieu`, `amount`, `amount_per_share`, `fmv_old`, `fmv_new`) is in `currency`
    (the security's unless given); `cash` and `cash_in_lieu` are totals for the account.
    """

    id: str
    type: str
    security: str
    date: dt.date
    account: str | None = None
    new_security: str | None = None
    ratio: Ratio | None = None
    added: Decimal | None = None  # split by units received (a broker row without a ratio): the account's holding grows by this
    cash: Decimal | None = None  # merger: cash received besides the new shares (boot)
    cash_in_lieu: Decimal | None = None  # cash for a fraction of a new unit, treated as its sale
    amount: Decimal | None = None  # return of capital: the account's total; stock dividend: the amount per new share (CA s.248(1))
    amount_per_share: Decimal | None = None  # return of capital per unit held
    fmv_old: Decimal | None = None  # spin-off: value of one old unit right after the distribution
    fmv_new: Decimal | None = None  # spin-off: value of one new unit right after the distribution
    cost_fraction: Decimal | None = None  # spin-off: share of the old cost the issuer says moves to the new units (Form 8937)
    elected: bool | None = None  # spin-off: the holder elected the deferral the law makes elective (CA s.86.1)
    currency: str | None = None
    note: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class CostAdjustment:
    """A change of cost basis the user enters with its reason (a T3 slip's return of capital, a reinvested
    capital-gain distribution). `amount` is signed, in `currency`: positive adds to the cost, negative
    reduces it. `jurisdictions` limits it to those lenses (empty: every lens)."""

    id: str
    account: str
    security: str
    date: dt.date
    amount: Decimal
    reason: str
    currency: str | None = None
    jurisdictions: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class CostPool:
    """Units of `security` in `account` the law keeps apart from the identical units held (CA s.7(1.31)
    employee-option shares). Buys and sells name it by `pool: ID`; `reason` must be one the pack knows."""

    id: str
    account: str
    security: str
    reason: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class FxOverride:
    """User-supplied exchange rates: one unit of `currency` is worth `rate` units of `quote` on `date`."""

    path: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class MarketPrice:
    """One unit of `security` was worth `price` `currency` on `date` (an entry of the scenario's `prices:`)."""

    security: str
    date: dt.date
    price: Decimal
    currency: str
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Scenario:
    """One household on one day: the whole input of `taxpack check`."""

    as_of: dt.date
    taxpayers: tuple[Taxpayer, ...]
    accounts: tuple[Account, ...]
    securities: tuple[Security, ...]
    transactions: tuple[Transaction, ...] = ()
    trades: tuple[Transaction, ...] = ()
    identity_groups: tuple[IdentityGroup, ...] = ()
    fx_rates: str | None = None  # absolute path of an override CSV, if any
    base_currency: str | None = None  # the household's own currency for totals (default: the first taxpayer's country's)
    source: str | None = None  # the file it came from, as shown to the user
    id: str | None = None
    dividends: tuple[Dividend, ...] = ()
    corporate_actions: tuple[CorporateAction, ...] = ()
    cost_adjustments: tuple[CostAdjustment, ...] = ()
    cost_pools: tuple[CostPool, ...] = ()
    prices: tuple[MarketPrice, ...] = ()  # the scenario's `prices:` (values at year ends, anniversaries, exit dates)
    _cache: dict[str, dict[str, Any]] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def taxpayer(self, tid: str) -> Taxpayer:
        return self._index("taxpayers")[tid]

    def account(self, aid: str) -> Account:
        return self._index("accounts")[aid]

    def security(self, sid: str) -> Security:
        return self._index("securities")[sid]

    def group(self, gid: str) -> IdentityGroup | None:
        return self._index("identity_groups").get(gid)

    def cost_pool(self, pid: str) -> CostPool:
        return self._index("cost_pools")[pid]

    def price_on(self, security: str, day: dt.date, max_age_days: int = 7) -> MarketPrice | None:
        """The latest `prices:` entry of `security` dated `day` or at most `max_age_days` before it."""
        cache = self._cache.setdefault("prices", {})
        if not cache:
            for price in sorted(self.prices, key=lambda p: (p.security, p.date)):
                cache.setdefault(price.security, []).append(price)
        found = None
        for price in cache.get(security, ()):
            if price.date > day:
                break
            found = price
        if found is None or (day - found.date).days > max_age_days:
            return None
        return found

    def _index(self, name: str) -> dict[str, Any]:
        cache = self._cache  # a memo of id -> object; the scenario itself never changes
        if name not in cache:
            cache[name] = {item.id: item for item in getattr(self, name)}
        return cache[name]


# ---------------------------------------------------------------------------------------------
# What the engine produces
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class Finding:
    """Something a rule says about a trade: what, how serious, why (rule, pack, citation, facts)."""

    code: str
    severity: str
    message: str
    rule: str
    pack: str  # "id@version"
    pack_sha256: str
    citation: str
    url: str | None = None
    confidence: str = "verified"
    caveat: str | None = None
    facts: Mapping[str, Any] = attrs.field(factory=dict)
    conditions: tuple[Mapping[str, Any], ...] = ()  # explanation: each condition, the value seen, held or not
    amount: Decimal | None = None  # money at stake (e.g. the loss disallowed), in the lens currency


@attrs.frozen
class RateUsed:
    """An exchange rate applied to one leg, and the date whose rate it is (may be earlier than asked)."""

    currency: str
    quote: str
    date: dt.date
    rate: Decimal
    rate_date: dt.date
    source: str


@attrs.frozen
class LotMatch:
    """One lot (or a slice of a pool) consumed by a sell, as one jurisdiction sees it."""

    lot: str  # id of the buy transaction that opened the lot, or "pool"
    account: str
    acquired: dt.date | None
    quantity: Decimal
    cost: Decimal
    proceeds: Decimal
    gain: Decimal
    term: str
    fx_gain: Decimal | None = None
    price_gain: Decimal | None = None
    rates: tuple[RateUsed, ...] = ()
    adjusted_acquired: dt.date | None = None  # after tacking


@attrs.frozen
class Consequence:
    """A candidate trade seen through one jurisdiction's lens."""

    jurisdiction: str
    pack: str
    currency: str
    basis: str  # why this lens applies: residence, citizenship, source
    method: str | None
    proceeds: Decimal
    cost: Decimal
    gain: Decimal
    disallowed_loss: Decimal = Decimal(0)
    released_loss: Decimal = Decimal(0)  # earlier deferred losses this sale releases (negative)
    fees: Decimal = Decimal(0)  # the trade's own fees, in the lens currency
    fees_treatment: Mapping[str, str] = attrs.field(factory=dict)  # the pack's rule for buy and sell fees
    term: str = "none"
    lots: tuple[LotMatch, ...] = ()
    fx_gain: Decimal | None = None
    price_gain: Decimal | None = None
    findings: tuple[Finding, ...] = ()
    estimated_tax: Decimal | None = None  # gross: what the trade adds to this lens's year bill
    estimate_missing: tuple[str, ...] = ()
    taxable: bool = True  # false inside a wrapper the pack treats as outside the taxable computation
    foreign_tax_credit: Decimal | None = None  # credit this lens gives for other lenses' tax on the trade
    net_tax: Decimal | None = None  # estimated_tax - foreign_tax_credit
