"""What a plan may trade, and what each unit sold or bought costs in tax under every lens.

Built once from the scenario, the packs and the targets: the holdings per account, each lens's open
lots (with the lens's method: free choice, FIFO/LIFO order, or a pool's average cost), linear tax rates
read off the packs through the Estimator, the loss rules that would bite on a loss sale, and the
withholding each holding leaks a year. The solver, the heuristic and the naive plan all read it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

import attrs

from taxpack.engine.consequences.estimate import Estimator, YearGains
from taxpack.engine.consequences.household_bill import basket_items
from taxpack.engine.consequences.withholding import dividend_withholding
from taxpack.engine.core.collector import collector_paused
from taxpack.engine.core.errors import SemanticError, Span
from taxpack.engine.core.household import Scenario, Transaction
from taxpack.engine.inputs.fx import FxTable, load_fx
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet
from taxpack.engine.law.year_rules import PROCEEDS, year_rules
from taxpack.engine.losses.holders import holder_view
from taxpack.engine.losses.identity import equivalents
from taxpack.engine.losses.spec import sale_window
from taxpack.engine.lots.lens import Lens, household_jurisdictions, lenses_for
from taxpack.engine.lots.methods import choose_method
from taxpack.engine.lots.replay import LensBook, event_order, replay
from taxpack.engine.plan.netbill import CreditPair, YearLens, credit_pairs, year_lenses
from taxpack.engine.plan.targets import Targets
from taxpack.engine.plan.yearmodel import PART

ZERO = Decimal(0)
ONE = Decimal(1)
# The probe used to read a pack's marginal rates off the Estimator: the tax added by this much more gain
# (in the lens currency), above the gains of the year so far. Large enough to clear rounding, small
# enough to stay inside one bracket for most incomes.
PROBE = Decimal(1000)
# Today's values in the plan's base currency: the nearest earlier rate up to this many days back (a
# planning convention, not a pack's `fx` rule: the plan values holdings, it does not tax a leg).
VALUATION_LOOKBACK_DAYS = 10


@attrs.frozen
class PlanLot:
    """One open lot as one lens sees it: units, cost per unit in the lens currency, and its term today."""

    id: str
    origin: str
    account: str
    quantity: Decimal
    unit_cost: Decimal
    term: str  # short | long | none
    acquired: dt.date
    held_from: dt.date | None = None  # start of the holding period (earlier than `acquired` after tacking)


@attrs.frozen
class PlanPool:
    """A lens's pool of one security: which accounts sell from it, by which method, from which lots."""

    lens: str  # pack id
    jurisdiction: str
    taxpayer: str
    key: tuple[str, ...]
    security: str
    accounts: tuple[str, ...]
    method: str  # specific | fifo | lifo | average
    lots: tuple[PlanLot, ...]  # in consumption order for fifo/lifo
    average_cost: Decimal | None  # per unit, average pools only
    price: Decimal  # today's price per unit in the lens currency
    taxable: bool

    def gain_per_unit(self, lot: PlanLot | None = None) -> Decimal:
        if self.method == "average" or lot is None:
            return self.price - (self.average_cost or ZERO)
        return self.price - lot.unit_cost

    @property
    def average_term(self) -> str:
        """An average pool's units carry the term of its lots (mixed pools take the oldest lot's term)."""
        terms = {lot.term for lot in self.lots}
        return "none" if not terms else sorted(terms)[0] if len(terms) == 1 else "long"


@attrs.frozen
class TaxCurve:
    """A lens's tax on one taxpayer's year of gains, linearised: rate(s) above an allowance, in the lens currency.

    `kind` single: tax = rate x max(0, gains - allowance). split: short and long gains netted against each
    other and taxed at their own rates (the US netting of §1222). `to_base` converts to the plan currency.
    """

    lens: str
    jurisdiction: str
    taxpayer: str
    currency: str
    kind: str  # single | split | none
    rate: Decimal = ZERO
    rate_short: Decimal = ZERO
    rate_long: Decimal = ZERO
    allowance: Decimal = ZERO
    ytd_short: Decimal = ZERO
    ytd_long: Decimal = ZERO
    ytd_other: Decimal = ZERO
    to_base: Decimal = ONE
    missing: tuple[str, ...] = ()

    def tax(self, short: Decimal, long: Decimal, other: Decimal) -> Decimal:
        """The linear model's tax on the year's gains (ytd included), in the lens currency."""
        s, l, o = self.ytd_short + short, self.ytd_long + long, self.ytd_other + other
        if self.kind == "single":
            return self.rate * max(ZERO, s + l + o - self.allowance)
        if self.kind == "split":
            return split_tax(s, l + o, self.rate_short, self.rate_long)
        return ZERO

    def tax_before(self) -> Decimal:
        return self.tax(ZERO, ZERO, ZERO)


def split_tax(short: Decimal, long: Decimal, rate_short: Decimal, rate_long: Decimal) -> Decimal:
    """Net short against long (a net loss of one term reduces the other's net gain), then tax each."""
    if short >= 0 and long >= 0:
        return rate_short * short + rate_long * long
    if short < 0 <= long:
        return rate_long * max(ZERO, short + long)
    if long < 0 <= short:
        return rate_short * max(ZERO, short + long)
    return ZERO


@attrs.frozen
class WashLink:
    """A loss sale of `security` by `seller` under one loss rule, and the purchases that would make it a wash."""

    lens: str
    jurisdiction: str
    rule: str
    code: str
    title: str
    seller: str
    security: str
    conflicts: tuple[tuple[str, str, str], ...]  # (account, security, holder status) a purchase of which counts
    past: tuple[str, ...]  # history purchases already inside the window (a loss sale today is a wash already)
    window_end: dt.date
    citation: str


@attrs.define
class Problem:
    scenario: Scenario
    packs: PackSet
    fx: FxTable
    as_of: dt.date
    base: str
    targets: Targets | None
    prices: dict[str, Decimal]  # per unit, in the plan currency
    native_prices: dict[str, Decimal]  # per unit, in the security currency
    holdings: dict[tuple[str, str], Decimal]  # (account, security) -> units held
    pools: list[PlanPool]
    curves: dict[tuple[str, str], TaxCurve]  # (pack id, taxpayer)
    wash: list[WashLink]
    leakage: dict[tuple[str, str], Decimal]  # (account, security) -> plan currency lost per unit per year
    account_lenses: dict[tuple[str, str], tuple[str, ...]]  # (account, security) -> pack ids taxing a sale
    cash: dict[str, Decimal]  # account -> cash to invest, plan currency
    raise_: dict[str, Decimal]  # account -> cash to raise, plan currency
    account_rate: dict[str, Decimal]  # account currency -> plan currency
    notes: list[str]
    books: dict[str, LensBook]
    years: dict[tuple[str, str], YearLens] = attrs.field(factory=dict)  # (pack id, taxpayer) -> the year before the plan
    pairs: list[CreditPair] = attrs.field(factory=list)  # relief between lenses, in the order credits are computed
    _baskets: dict[tuple[int, str | None], str] = attrs.field(factory=dict)

    def basket(self, index: int, pool: PlanPool, lot: PlanLot | None) -> str:
        """The basket of the lens's year that units of `lot` (None: the pool's average) sold today fall in."""
        key = (index, None if lot is None else lot.id)
        found = self._baskets.get(key)
        if found is None:
            # Through check's own code path (basket_items): one unit of the lot's gain or loss, its basket.
            security = self.scenario.security(pool.security)
            term = pool.average_term if lot is None else lot.term
            sign = ONE if pool.gain_per_unit(lot) >= 0 else -ONE
            items = basket_items(year_rules(self.books[pool.lens].pack),
                                 [(term, sign, None if lot is None else (lot.held_from or lot.acquired))], security, self.as_of)
            found = items[0][0].split(PART)[0].split(PROCEEDS[0])[0]  # a basket that spreads gains keys them BASKET@YEAR; sale prices BASKET#...
            self._baskets[key] = found
        return found

    @property
    def accounts(self) -> list[str]:
        return sorted(a.id for a in self.scenario.accounts)

    @property
    def securities(self) -> list[str]:
        return sorted(s.id for s in self.scenario.securities)

    def fractional(self, security: str) -> bool:
        return self.scenario.security(security).fractional

    def holdings_value(self) -> Decimal:
        return sum((q * self.prices[s] for (a, s), q in self.holdings.items() if s in self.prices), ZERO)

    def invested_value(self) -> Decimal:
        """The value the targets are weights of: holdings plus cash to invest, less cash to raise."""
        return self.holdings_value() + sum(self.cash.values(), ZERO) - sum(self.raise_.values(), ZERO)

    def tax_free(self, account: str) -> bool:
        """No lens taxes a sale in this account (a retirement or tax-free wrapper under every lens on it)."""
        acc = self.scenario.account(account)
        return all(not self.books[pid].ledger.is_taxable(acc)
                   for (a, _), pids in self.account_lenses.items() if a == account for pid in pids)

    def may_sell(self, account: str, security: str) -> bool:
        return self.targets is None or self.targets.may_sell(security, account)

    def may_buy(self, account: str, security: str) -> bool:
        if self.targets is None or security not in self.prices:
            return False
        group = self.targets.group_of(security)
        return group is not None and group.weight > 0 and self.targets.may_buy(security, account)


def _rate(fx: FxTable, currency: str, quote: str, day: dt.date) -> Decimal:
    if currency == quote:
        return ONE
    return fx.rate(currency, quote, day, missing="nearest_earlier", max_lookback_days=VALUATION_LOOKBACK_DAYS).rate


def _prices(scenario: Scenario, targets: Targets | None, notes: list[str]) -> dict[str, Decimal]:
    """Today's price of each security: from the targets, else the latest price the scenario shows."""
    found: dict[str, Decimal] = dict(targets.prices) if targets else {}
    latest: dict[str, tuple[dt.date, int, Transaction]] = {}
    for i, tx in enumerate(list(scenario.transactions) + list(scenario.trades)):
        if tx.currency and tx.currency != scenario.security(tx.security).currency:
            continue
        if tx.security not in latest or (tx.date, i) >= latest[tx.security][:2]:
            latest[tx.security] = (tx.date, i, tx)
    for sid in sorted(latest):
        if sid not in found:
            day, _, tx = latest[sid]
            found[sid] = tx.price
            notes.append(f"price of {sid}: {tx.price} from transaction {tx.id} of {day.isoformat()} (no price in the targets)")
    return found


def _holdings(scenario: Scenario) -> dict[tuple[str, str], Decimal]:
    held: dict[tuple[str, str], Decimal] = {}
    for tx in scenario.transactions:
        key = (tx.account, tx.security)
        held[key] = held.get(key, ZERO) + (tx.quantity if tx.side == "buy" else -tx.quantity)
    return {k: v for k, v in sorted(held.items()) if v > 0}


def _ytd(book: LensBook, scenario: Scenario, taxpayer: str, year: int) -> YearGains:
    """Gains already recognised this year by `taxpayer` under this lens (history sales only)."""
    gains = YearGains()
    for sale in book.sales.values():
        account = scenario.account(sale.tx.account)
        if account.owner != taxpayer or sale.tx.date.year != year or not sale.taxable or sale.tx.candidate:
            continue
        recognised = sale.gain + sale.disallowed
        scale = recognised / sale.gain if sale.gain != 0 and recognised != sale.gain else ONE
        by_term: dict[str, Decimal] = {}
        for m in sale.matches:
            by_term[m.term] = by_term.get(m.term, ZERO) + m.gain * scale
        gains = gains.add(by_term)
    return gains


def tax_curve(pack: Pack, scenario: Scenario, taxpayer_id: str, day: dt.date, ytd: YearGains, to_base: Decimal) -> TaxCurve:
    """Read a lens's linear rates off its Estimator: the tax one more PROBE of gain adds, per unit."""
    taxpayer = scenario.taxpayer(taxpayer_id)
    estimator = Estimator(pack, taxpayer, day)
    section = pack.sections.capital_gains
    none = TaxCurve(lens=pack.id, jurisdiction=pack.jurisdiction or pack.id, taxpayer=taxpayer_id, currency=pack.currency or "",
                    kind="none", ytd_short=ytd.short, ytd_long=ytd.long, ytd_other=ytd.other, to_base=to_base)
    if section is not None and section.taxed is False:
        return none
    split = section is not None and section.estimate is not None and section.estimate.short_term is not None
    start = max(ZERO, ytd.total)

    def tax(short: Decimal, long: Decimal) -> Decimal | None:
        return estimator.tax(YearGains(short=short, long=long)).tax

    missing = estimator.tax(YearGains(long=start + PROBE, short=PROBE if split else ZERO)).missing
    if missing:
        return attrs.evolve(none, missing=missing)
    t1, t2 = tax(ZERO, start + PROBE), tax(ZERO, start + 2 * PROBE)
    assert t1 is not None and t2 is not None
    rate_long = (t2 - t1) / PROBE
    if not split:
        allowance = max(ZERO, start + PROBE - t1 / rate_long) if rate_long > 0 else ZERO
        return attrs.evolve(none, kind="single", rate=rate_long, allowance=allowance)
    s1, s2 = tax(max(ZERO, ytd.short) + PROBE, ZERO), tax(max(ZERO, ytd.short) + 2 * PROBE, ZERO)
    assert s1 is not None and s2 is not None
    return attrs.evolve(none, kind="split", rate_short=(s2 - s1) / PROBE, rate_long=rate_long)


def build_problem(scenario: Scenario, packs: PackSet, targets: Targets | None, *, fx: FxTable | None = None,
                  raise_amount: Decimal | None = None, raise_account: str | None = None) -> Problem:
    """Everything the planners need, from the executed history (candidate trades of the scenario are ignored)."""
    with collector_paused():
        return _build_problem(scenario, packs, targets, fx, raise_amount, raise_account)


def _build_problem(scenario: Scenario, packs: PackSet, targets: Targets | None, fx: FxTable | None,
                   raise_amount: Decimal | None, raise_account: str | None) -> Problem:
    history = attrs.evolve(scenario, trades=())
    fx = fx or load_fx(history)
    as_of = scenario.as_of
    notes: list[str] = []
    if scenario.trades:
        notes.append(f"the scenario's {len(scenario.trades)} candidate trade(s) are ignored: the plan starts from the executed history")
    first = scenario.taxpayers[0]
    home = packs.get(first.residence_on(as_of))
    base = (targets.currency if targets and targets.currency else None) or (home.currency if home and home.currency else None) \
        or scenario.account(sorted(a.id for a in scenario.accounts)[0]).currency
    native = _prices(history, targets, notes)
    prices = {sid: p * _rate(fx, history.security(sid).currency, base, as_of) for sid, p in native.items()}
    holdings = _holdings(history)
    for group in (targets.groups if targets else ()):
        if group.weight > 0 and not any(m in native for m in group.members):
            raise SemanticError(f"target {group.id} has no price for any of its members ({', '.join(group.members)})",
                                group.span, f"prices: {{{group.members[0]}: PRICE}} in the targets")
    for (holder, sid), _qty in holdings.items():
        if sid not in prices:
            raise SemanticError(f"no price for {sid} (held in {holder}): give it under prices: in the targets",
                                Span(targets.source) if targets and targets.source else None, f"prices: {{{sid}: PRICE}}")

    books: dict[str, LensBook] = {}
    events = event_order(history)
    for pack in household_jurisdictions(history, packs):
        pack.require_coverage(as_of, None)
        books[pack.id] = replay(pack, history, fx, events)

    # Which lenses tax a sale of each security in each account (the same ones `check` will use).
    account_lenses: dict[tuple[str, str], tuple[str, ...]] = {}
    lens_objects: dict[tuple[str, str], tuple[Lens, ...]] = {}
    for account in sorted(history.accounts, key=lambda a: a.id):
        for sid in sorted(prices):
            probe = Transaction(id="plan-probe", account=account.id, security=sid, date=as_of, side="sell", quantity=ONE, price=ONE)
            lenses, _ = lenses_for(probe, history, packs)
            for lens in lenses:
                if lens.pack.id not in books:
                    books[lens.pack.id] = replay(lens.pack, history, fx, events)
            account_lenses[(account.id, sid)] = tuple(lens.pack.id for lens in lenses)
            lens_objects[(account.id, sid)] = tuple(lenses)

    pools: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for (aid, sid), ids in sorted(account_lenses.items()):
        account = history.account(aid)
        security = history.security(sid)
        for pid in ids:
            book = books[pid]
            ledger = book.ledger
            key = ledger.pool_key(account, sid)
            entry = pools.setdefault((pid, key), {"accounts": [], "book": book, "security": sid, "taxable": ledger.is_taxable(account)})
            entry["accounts"].append(aid)
            # The method this lens applies when the plan names its lots: free choice where allowed.
            entry["method"] = choose_method(ledger.lots_section, "specific", security.kind).used
    plan_pools: list[PlanPool] = []
    for (pid, key), entry in sorted(pools.items()):
        book, sid = entry["book"], entry["security"]
        ledger = book.ledger
        pack = book.pack
        pool = ledger.pools.get(key)
        if pool is None or pool.quantity <= 0:
            continue
        method = entry["method"]
        if method == "average" or pool.average:
            method = "average"
        price = native[sid] * _rate(fx, history.security(sid).currency, ledger.currency, as_of)
        lots = []
        for lot in pool.open_lots():
            lots.append(PlanLot(id=lot.id, origin=lot.origin, account=lot.account, quantity=lot.quantity,
                                unit_cost=pool.unit_cost(lot), term=ledger.term(lot.holding_from, as_of), acquired=lot.acquired,
                                held_from=lot.holding_from))
        if method in ("fifo", "lifo", "hifo", "lofo"):
            ordered = {lot.id: i for i, lot in enumerate(_order(lots, method))}
            lots.sort(key=lambda lot: ordered[lot.id])
        plan_pools.append(PlanPool(
            lens=pid, jurisdiction=pack.jurisdiction or pid, taxpayer=key[0], key=key, security=sid,
            accounts=tuple(sorted(entry["accounts"])), method=method, lots=tuple(lots),
            average_cost=(pool.cost / pool.quantity) if method == "average" else None, price=price, taxable=entry["taxable"],
        ))

    curves: dict[tuple[str, str], TaxCurve] = {}
    for p in plan_pools:
        if not p.taxable or (p.lens, p.taxpayer) in curves:
            continue
        book = books[p.lens]
        pack = book.pack
        to_base = _rate(fx, pack.currency or base, base, as_of)
        curve = tax_curve(pack, history, p.taxpayer, book.ledger.pack.law_day(as_of), _ytd(book, history, p.taxpayer, as_of.year), to_base)
        curves[(p.lens, p.taxpayer)] = curve

    keys = [(p.lens, p.taxpayer) for p in plan_pools if p.taxable]
    years = year_lenses(history, packs, fx, books, keys, as_of, base)
    for key, year in sorted(years.items()):
        if year.missing:
            notes.append(f"{year.jurisdiction} tax of {key[1]} cannot be computed for the year (missing: {', '.join(year.missing)}): "
                         "the plan counts it as 0")
        if year.year.rules.deemed_cost is not None:
            notes.append(f"{year.jurisdiction}: the plan's sales are priced at their actual cost; the deemed acquisition cost "
                         "(a share of the sale price, where it gives a lower gain) is not applied to them (taxpack check applies it)")
    taxed = {(a, s): tuple(lens for lens in on if (lens.pack.id, history.account(a).owner) in years
                           and books[lens.pack.id].ledger.is_taxable(history.account(a)))
             for (a, s), on in lens_objects.items()}
    pairs, unrelieved = credit_pairs(history, packs, fx, taxed, years, as_of)
    notes.extend(unrelieved)
    wash = _wash_links(history, books, plan_pools, as_of)
    leakage = _leakage(history, packs, prices, as_of, targets)
    account_rate = {a.currency: _rate(fx, a.currency, base, as_of) for a in history.accounts}
    cash: dict[str, Decimal] = {}
    raise_: dict[str, Decimal] = {}
    for aid, item in sorted((targets.cash if targets else {}).items()):
        rate = account_rate[history.account(aid).currency]
        if item.invest:
            cash[aid] = item.invest * rate
        if item.raise_:
            raise_[aid] = item.raise_ * rate
    if raise_amount is not None and raise_account is not None:
        raise_[raise_account] = raise_.get(raise_account, ZERO) + raise_amount * account_rate[history.account(raise_account).currency]
    return Problem(history, packs, fx, as_of, base, targets, prices, native, holdings, plan_pools, curves, wash, leakage,
                   account_lenses, cash, raise_, account_rate, notes, books, years=years, pairs=pairs)


def _order(lots: list[PlanLot], method: str) -> list[PlanLot]:
    if method == "fifo":
        return sorted(lots, key=lambda l: l.acquired)  # stable: ties keep the ledger's creation order
    if method == "lifo":
        return list(reversed(sorted(lots, key=lambda l: l.acquired)))
    if method == "hifo":
        return sorted(lots, key=lambda l: -l.unit_cost)
    return sorted(lots, key=lambda l: l.unit_cost)


def _wash_links(scenario: Scenario, books: Mapping[str, LensBook], pools: list[PlanPool], as_of: dt.date) -> list[WashLink]:
    """For every pool that could be sold at a loss, the purchases (today, or already in the window) that would wash it."""
    links: dict[tuple[str, str, str, str], WashLink] = {}
    # The history's purchases by security, read once (scanning every transaction per pool and rule was
    # quadratic: 7 s of a 500-security household's 10 s build).
    buys: dict[str, list[Transaction]] = {}
    for tx in scenario.transactions:
        if tx.side == "buy":
            buys.setdefault(tx.security, []).append(tx)
    for p in pools:
        if not p.taxable:
            continue
        can_lose = p.gain_per_unit() < 0 if p.method == "average" else any(p.gain_per_unit(l) < 0 for l in p.lots)
        if not can_lose:
            continue
        pack = books[p.lens].pack
        security = scenario.security(p.security)
        for rule in pack.sections.loss_rules or ():
            if not rule.applies(security) or (p.lens, rule.id, p.taxpayer, p.security) in links:
                continue
            window = sale_window(rule, pack, as_of, books[p.lens].ledger.pack.law_day(as_of))
            matching = equivalents(scenario, p.security, rule.identity)
            conflicts = []
            counting: set[str] = set()
            for account in sorted(scenario.accounts, key=lambda a: a.id):
                view = holder_view(rule, pack, scenario, p.taxpayer, account)
                if view.status == "ignored":
                    continue
                counting.add(account.id)
                for sid in sorted(matching):
                    conflicts.append((account.id, sid, view.effective))
            past = tuple(sorted(tx.id for sid in matching for tx in buys.get(sid, ())
                                if tx.account in counting and window.start <= tx.date <= as_of))
            source = pack.source(rule.source) if rule.source else None
            links[(p.lens, rule.id, p.taxpayer, p.security)] = WashLink(
                lens=p.lens, jurisdiction=pack.jurisdiction or p.lens, rule=rule.id, code=rule.code, title=rule.title,
                seller=p.taxpayer, security=p.security, conflicts=tuple(conflicts), past=past, window_end=window.end,
                citation=source.citation if source else "")
    return [links[k] for k in sorted(links)]


def _leakage(scenario: Scenario, packs: PackSet, prices: Mapping[str, Decimal], as_of: dt.date, targets: Targets | None) -> dict[tuple[str, str], Decimal]:
    """Dividend withholding lost for good per unit held per year, by account and security (asset location)."""
    years = targets.leakage_years if targets else ONE
    out: dict[tuple[str, str], Decimal] = {}
    for account in sorted(scenario.accounts, key=lambda a: a.id):
        taxpayer = scenario.taxpayer(account.owner)
        for sid in sorted(prices):
            security = scenario.security(sid)
            if not security.dividend_yield:
                continue
            case = dividend_withholding(packs, security, account, taxpayer, as_of)
            if case is None or case.lost_rate == 0:
                continue
            out[(account.id, sid)] = prices[sid] * security.dividend_yield * case.lost_rate * years
    return out
