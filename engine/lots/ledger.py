"""One jurisdiction's book of a household's lots: buys open lots, sells consume them and give gains.

The ledger converts every leg into the pack's currency at that leg's own date (the pack's `fx` rule),
keeps pools at the pack's scope, applies the pack's lot method (overriding a method the law does not
allow, with a finding that says so), and gives each sale its proceeds, cost, gain, term and lots,
with the price part of the gain reported apart from the exchange-rate part.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable, Sequence

import attrs

from taxpack.engine.core.dates import Duration, long_term_from
from taxpack.engine.core.errors import EvaluationError
from taxpack.engine.core.household import Account, Finding, LotMatch, RateUsed, Scenario, Transaction
from taxpack.engine.core.money import money_text
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.sections import Fx, HoldingPeriod, Lots, Wrapper
from taxpack.engine.lots.identification import Identification
from taxpack.engine.lots.methods import MethodChoice, choose_method, requested_method
from taxpack.engine.lots.pool import BOOK, ZERO, Lot, Pool, Take
from taxpack.engine.lots.reorganisations import Realised, action_findings, pool_not_kept_finding


@attrs.define(eq=False)
class Sale:
    """A sale as one lens computed it, before and after the loss rules adjusted it."""

    tx: Transaction
    pool_key: tuple[str, ...]
    choice: MethodChoice
    takes: list[Take]
    matches: list[LotMatch]
    proceeds: Decimal
    cost: Decimal
    gain: Decimal
    proceeds_native: Decimal
    rate: RateUsed | None
    term: str
    taxable: bool
    fx_gain: Decimal | None
    price_gain: Decimal | None
    # Findings are read through `findings`; `later` holds findings still to be written (messages of history sales
    # are rarely shown: the loss rules hand them in as functions, made only when something reads them).
    _findings: list[Finding] = attrs.field(factory=list, alias="findings")
    disallowed: Decimal = ZERO  # loss the loss rules disallowed or deferred (positive)
    released: Decimal = ZERO  # earlier deferred losses that this sale releases (negative adds to the loss)
    fees: Decimal = ZERO  # the sale's own fees, in the lens currency at the sale's rate
    fees_treatment: dict[str, str] = attrs.field(factory=dict)  # the pack's rule: {"buy": add_to_cost|ignore, "sell": deduct_from_proceeds|ignore}
    later: list[Callable[[], Finding]] = attrs.field(factory=list)

    @property
    def findings(self) -> list[Finding]:
        """The sale's findings in the order they arose (those handed in as functions are made now, once)."""
        if self.later:
            self._findings.extend(make() for make in self.later)
            self.later.clear()
        return self._findings

    def add_finding(self, make: Callable[[], Finding]) -> None:
        """A finding made only when read (a function of values fixed now): after every finding added before it."""
        self.later.append(make)


class Ledger:
    """All pools of a household under one jurisdiction's pack."""

    def __init__(self, pack: Pack, scenario: Scenario, fx: FxTable) -> None:
        self.pack = pack
        self.scenario = scenario
        self.fx = fx
        self.currency: str = pack.currency or "EUR"
        lots, fx_section, holding = pack.sections.lots, pack.sections.fx, pack.sections.holding_period
        if lots is None or fx_section is None or holding is None:  # the schema requires them of a jurisdiction pack
            raise EvaluationError(f"pack {pack.ref} has no lots, fx or holding_period section: it cannot keep a household's lots")
        self.lots_section: Lots = lots
        self.fx_section: Fx = fx_section
        self.holding: HoldingPeriod = holding
        self._rates: dict[tuple[str, dt.date], RateUsed] = {}
        self._pool_seen: set[tuple[str, ...]] = set()
        self._foreign_pools: dict[str, list[tuple[str, ...]]] = {}  # owner -> pools of taxable foreign property
        self.pools: dict[tuple[str, ...], Pool] = {}
        self.pending: dict[str, list[tuple[Decimal, Decimal, dt.date | None, dict[str, Any]]]] = {}
        self.seq = 0
        self.lot_owner: dict[str, tuple[str, ...]] = {}  # buy transaction id -> pool key
        self.realised: list[Realised] = []  # gains and income realised by corporate actions and cost adjustments
        self.separate: dict[str, tuple[bool, str]] = {}  # cost pool id -> (kept apart under this pack, why not); set by the replay
        self._long_term_after: dict[dt.date, Duration] = {}
        self._long_from: dict[tuple[dt.date, dt.date], dt.date] = {}
        self.settled: dict[str, dt.date | None] = {}  # buy id -> its settlement date (None: not given)
        self.identification: Identification | None = None  # the pack's lots.identification rules, once `prepare` saw the events
        # Worked out once per account, (account, security, cost pool) and (method asked for, kind): a replay asks
        # them for every trade, and they depend only on the pack and the scenario.
        self._scope: dict[int, tuple[Account, tuple[bool, bool]]] = {}  # id(account) -> (account, (taxable, wrapper unknown))
        self._tx_keys: dict[tuple[int, str], tuple[Account, tuple[str, ...]]] = {}  # (id(account), security) -> (account, pool)
        self._choices: dict[tuple[str | None, str], MethodChoice] = {}
        # Looked up for every purchase of a replay: the scenario's accounts by id, each security's trade currency,
        # and the pack's fee rule.
        self._accounts: dict[str, Account] = {a.id: a for a in scenario.accounts}
        self._currency_of: dict[str, str] = {s.id: s.currency for s in scenario.securities}
        self._fees_to_cost = lots.fees.buy == "add_to_cost"

    def prepare(self, events: Sequence[Transaction]) -> None:
        """Give the ledger the whole replay (history and candidates in order): identification rules that match a sale
        with later purchases (same day, the 30 days after) need to see them. Without it only `within_before` applies."""
        if self.lots_section.identification:
            self.identification = Identification(self, events)

    # -- scope -------------------------------------------------------------------------------

    def wrapper_of(self, account: Account) -> Wrapper | None:
        return self.pack.sections.wrapper(account.wrapper) if account.wrapper != "taxable" else None

    def is_taxable(self, account: Account) -> bool:
        """Inside the taxable computation of this lens? Unknown wrappers count as taxable (with a finding)."""
        return self._account_scope(account)[0]

    def wrapper_unknown(self, account: Account) -> bool:
        return self._account_scope(account)[1]

    def _account_scope(self, account: Account) -> tuple[bool, bool]:
        known = self._scope.get(id(account))
        if known is not None and known[0] is account:
            return known[1]
        wrapper = self.wrapper_of(account)
        scope = (True if wrapper is None else wrapper.taxable,
                 account.wrapper != "taxable" and self.pack.sections.wrapper(account.wrapper) is None)
        self._scope[id(account)] = (account, scope)  # the account is kept: its id is not reused while the entry lives
        return scope

    def pool_key(self, account: Account, security: str) -> tuple[str, ...]:
        wrapper = self.wrapper_of(account)
        scope = self.lots_section.pool_scope
        if wrapper is not None and (wrapper.own_pool or not wrapper.taxable):
            return (account.owner, account.id, security)
        if self.wrapper_unknown(account) or scope == "account":
            return (account.owner, account.id, security)
        return (account.owner, "taxable accounts", security)

    def tx_pool_key(self, tx: Transaction, account: Account) -> tuple[str, ...]:
        """The pool of a trade: a separate cost pool the pack keeps apart (CA s.7(1.31)), or the usual one."""
        if tx.pool is not None and self.separate.get(tx.pool, (False, ""))[0]:
            return (account.owner, f"{account.id} / {tx.pool}", tx.security)
        return self.pool_key(account, tx.security)

    def _trade_pool_key(self, tx: Transaction, account: Account) -> tuple[str, ...]:
        """`tx_pool_key`, remembered per (account, security) for trades outside a named cost pool."""
        if tx.pool is not None:
            return self.tx_pool_key(tx, account)
        known = self._tx_keys.get((id(account), tx.security))
        if known is not None and known[0] is account:
            return known[1]
        key = self.pool_key(account, tx.security)
        self._tx_keys[(id(account), tx.security)] = (account, key)
        return key

    def pool(self, key: tuple[str, ...]) -> Pool:
        pool = self.pools.get(key)
        if pool is None:
            average = self.lots_section.mandatory == "average"
            pool = self.pools[key] = Pool(key, average)
        return pool

    def foreign_cost(self, owner: str) -> Decimal:
        """Cost, in this lens's currency, of the owner's securities domiciled outside this jurisdiction and
        held in taxable accounts (what a foreign-property reporting threshold such as Canada's T1135 reads)."""
        return sum((self.pools[key].cost for key in self._foreign_pools.get(owner, ())), ZERO)

    def _note_pool(self, key: tuple[str, ...], account: Account, security: str) -> None:
        """Remember, once per pool, whether it holds taxable foreign property of its owner."""
        if key in self._pool_seen:
            return
        self._pool_seen.add(key)
        if self.scenario.security(security).country != self.pack.jurisdiction and self.is_taxable(account):
            self._foreign_pools.setdefault(key[0], []).append(key)

    # -- conversion ----------------------------------------------------------------------------

    def leg_date(self, tx: Transaction) -> dt.date:
        if self.fx_section.date == "settlement" and tx.settlement_date is not None:
            return tx.settlement_date
        return tx.date

    def convert(self, amount: Decimal, currency: str, tx: Transaction) -> tuple[Decimal, RateUsed | None]:
        return self.convert_on(amount, currency, self.leg_date(tx), tx.span)

    def convert_on(self, amount: Decimal, currency: str, day: dt.date, span: Any = None) -> tuple[Decimal, RateUsed | None]:
        """`amount` of `currency` in the lens currency at `day`'s rate (the pack's missing-rate rule applies)."""
        if currency == self.currency:
            return amount, None
        key = (currency, day)
        rate = self._rates.get(key)  # a household trades on far fewer days than it has transactions
        if rate is None:
            rate = self.fx.rate(
                currency, self.currency, day,
                missing=self.fx_section.missing_rate,
                max_lookback_days=self.fx_section.max_lookback_days,
                span=span,
            )
            self._rates[key] = rate
        return amount * rate.rate, rate

    def tx_currency(self, tx: Transaction) -> str:
        return tx.currency or self._currency_of[tx.security]

    # -- events ------------------------------------------------------------------------------

    def new_lot(self, tx: Transaction, account: Account | None = None) -> Lot:
        """The purchase `tx` as one lot: its units, and its cost (fees as the pack says) at its own leg's rate."""
        if account is None:
            account = self._accounts[tx.account]
        currency = self.tx_currency(tx)
        fees = tx.fees if self._fees_to_cost else ZERO
        native = tx.quantity * tx.price + fees
        cost, rate = self.convert(native, currency, tx)
        self.seq += 1
        return Lot(
            id=tx.id, origin=tx.id, seq=(self.seq, 0), owner=account.owner, account=account.id, security=tx.security,
            acquired=tx.date, quantity=tx.quantity, cost=cost, cost_native=native, native_currency=currency,
            rate=rate, holding_from=tx.date,
        )

    def buy(self, tx: Transaction) -> Lot:
        """Open the purchase's lot in its pool. Units that identification rules match with sales (the same day's, or
        earlier ones in the window before this purchase) stay out of the pool; the lot returned is then the whole purchase."""
        _require_decimals(tx)
        account = self._accounts[tx.account]
        key = self._trade_pool_key(tx, account)
        self._note_pool(key, account, tx.security)
        lot = self.new_lot(tx, account)
        pool = self.pool(key)
        pooled = self.identification.on_buy(tx, pool, lot) if self.identification is not None else None
        if pooled is not None:
            if pooled.quantity > 0:
                pool.add(pooled)
        else:
            pool.add(lot)
        self.lot_owner[tx.id] = key
        self.settled[tx.id] = tx.settlement_date
        for quantity, amount, holding_from, note in self.pending.pop(tx.id, []):
            pool.adjust(tx.id, quantity, amount, holding_from, note)
        return lot

    def sell(self, tx: Transaction) -> Sale:
        _require_decimals(tx)
        account = self.scenario.account(tx.account)
        security = self.scenario.security(tx.security)
        key = self._trade_pool_key(tx, account)
        pool = self.pool(key)
        requested = requested_method(tx.lots)
        choice = self._choices.get((requested, security.kind))
        if choice is None:  # a frozen value, shared by the sales that ask the same
            choice = self._choices[(requested, security.kind)] = choose_method(self.lots_section, requested, security.kind)
        findings: list[Finding] = []
        if (tx.pool is not None and not self.separate.get(tx.pool, (True, ""))[0]
                and self.scenario.cost_pool(tx.pool).reason in self.lots_section.separate_pools):
            findings.append(pool_not_kept_finding(self, tx))
        if choice.overridden:
            findings.append(make_finding(
                self.pack, code="lot_method_overridden", severity="info",
                message=f"{choice.requested} was asked for, but {self.pack.jurisdiction} computes this sale by {choice.used}: {choice.reason}",
                rule=f"{self.pack.id}.lots", source=self.lots_section.source,
                facts={"trade.method_requested": choice.requested, "trade.method_used": choice.used},
                uncertain=self.lots_section.uncertain,
            ))
        if self.wrapper_unknown(account):
            findings.append(make_finding(
                self.pack, code="wrapper_unknown", severity="warning",
                message=f"account {account.id} is a '{account.wrapper}', which pack {self.pack.id} does not define: treated as a taxable account",
                rule=f"{self.pack.id}.wrappers", source=self.lots_section.source,
                facts={"account.wrapper": account.wrapper}, uncertain="how this jurisdiction treats the wrapper is not encoded",
            ))
        if choice.used == "average" and not pool.average:
            pool.switch_to_average()
        specific = None
        if choice.used == "specific" and isinstance(tx.lots, tuple):
            specific = [(lot.transaction, lot.quantity) for lot in tx.lots]
        method = "fifo" if choice.used == "specific" and specific is None else choice.used
        takes: list[Take] = []
        rest = tx.quantity
        if self.identification is None and self.lots_section.identification:
            self.identification = Identification(self, ())  # not prepared: within_before still reads the pool
        if self.identification is not None and specific is None:
            matched = self.identification.match(tx, key, pool)
            for item in matched:
                takes.extend(item.takes)
                rest = BOOK.subtract(rest, item.quantity)
            for item in matched:
                findings.append(self.identification.finding(tx, item, method, rest))
        if rest > 0 or not takes:  # (a sale of no units is refused by the pool)
            takes.extend(pool.take(method, rest, specific, tx.span))
        if any(note for take in takes for note in take.adjustments):
            findings.extend(action_findings(self.pack, (note for take in takes for note in take.adjustments), set()))

        currency = self.tx_currency(tx)
        treatment = self.fees_treatment()
        sell_fees = tx.fees if treatment["sell"] == "deduct_from_proceeds" else ZERO
        proceeds_native = tx.quantity * tx.price - sell_fees
        proceeds, rate = self.convert(proceeds_native, currency, tx)
        sale_rate = rate.rate if rate is not None else Decimal(1)

        matches: list[LotMatch] = []
        total_cost = ZERO
        allocated = ZERO
        terms: set[str] = set()
        price_gain_total: Decimal | None = ZERO
        sold_on = tx.settlement_date if self.holding.date == "settlement" and tx.settlement_date else tx.date
        law_day = self.pack.law_day(sold_on)
        last = len(takes) - 1
        for i, take in enumerate(takes):
            # Proceeds are shared by quantity; the last slice takes the rest, so the parts add up exactly.
            part = BOOK.subtract(proceeds, allocated) if i == last else proceeds * take.quantity / tx.quantity
            allocated = BOOK.add(allocated, part)
            total_cost = BOOK.add(total_cost, take.cost)
            t = self._term(take.holding_from, sold_on, law_day)
            terms.add(t)
            price_gain = None
            if take.cost_native is not None and take.lot.native_currency == currency:
                native_part = proceeds_native * take.quantity / tx.quantity
                # The price part: the move of the price in the trade currency at the sale's rate, less any
                # loss-rule adjustment (which is in the lens currency); the FX part is the rest, i.e. the
                # native cost times the change of the rate between the two legs.
                price_gain = BOOK.subtract(BOOK.subtract(native_part, take.cost_native) * sale_rate, take.adjusted)
            if price_gain_total is not None:
                price_gain_total = BOOK.add(price_gain_total, price_gain) if price_gain is not None else None
            gain = BOOK.subtract(part, take.cost)
            lot_rate = take.lot.rate
            rates = (lot_rate, rate) if lot_rate is not None and rate is not None else (lot_rate,) if lot_rate is not None else (rate,) if rate is not None else ()
            matches.append(LotMatch(
                lot=take.lot.origin if take.lot.id == take.lot.origin else take.lot.id,
                account=take.lot.account, acquired=take.acquired, quantity=take.quantity, cost=take.cost,
                proceeds=part, gain=gain, term=t,
                fx_gain=BOOK.subtract(gain, price_gain) if price_gain is not None else None, price_gain=price_gain,
                rates=rates, adjusted_acquired=take.holding_from if take.holding_from != take.acquired else None,
            ))
        gain_total = BOOK.subtract(proceeds, total_cost)
        if self.fx_section.settlement_source and self.fx_section.date == "settlement":
            note = self._settlement_finding(tx, takes, proceeds_native, currency, rate)
            if note is not None:
                findings.append(note)
        term = "none" if terms == {"none"} else ("mixed" if len(terms) > 1 else (terms.pop() if terms else "none"))
        return Sale(
            tx=tx, pool_key=key, choice=choice, takes=takes, matches=matches, proceeds=proceeds, cost=total_cost,
            gain=gain_total, proceeds_native=proceeds_native, rate=rate, term=term, taxable=self.is_taxable(account),
            fx_gain=BOOK.subtract(gain_total, price_gain_total) if price_gain_total is not None else None,
            price_gain=price_gain_total, findings=findings,
            fees=tx.fees * sale_rate, fees_treatment=treatment,
        )

    def _settlement_finding(self, tx: Transaction, takes: list[Take], proceeds_native: Decimal, currency: str,
                            rate: RateUsed | None) -> Finding | None:
        """With `fx.date: settlement` and a `settlement_source` (US Reg. §1.988-2(a)(2)(iv), cash-method individuals): what
        translating each leg at its settlement date's rate changed against the trade date's, or which legs had no
        settlement date (then the trade date's rate was used: nothing is guessed)."""
        legs: list[tuple[str, dt.date, dt.date | None, Decimal, str, RateUsed | None, int]] = []  # (what, trade day, settled, amount, ccy, rate, sign)
        if currency != self.currency:
            legs.append((f"the sale {tx.id}", tx.date, tx.settlement_date, proceeds_native, currency, rate, 1))
        for take in takes:
            lot = take.lot
            if lot.native_currency == self.currency or take.cost_native is None:
                continue
            legs.append((f"the purchase {lot.origin}", take.acquired, self.settled.get(lot.origin), take.cost_native, lot.native_currency, lot.rate, -1))
        if not legs:
            return None
        missing = sorted({what for what, _day, settled, *_ in legs if settled is None})
        effect = ZERO
        moved: list[str] = []
        for what, day, settled, amount, ccy, used, sign in legs:
            if settled is None or used is None:
                continue
            try:
                at_trade, trade_rate = self.convert_on(amount, ccy, day, tx.span)
            except EvaluationError:
                continue
            if trade_rate is None or trade_rate.rate == used.rate:
                continue
            delta = BOOK.subtract(amount * used.rate, at_trade) * sign
            effect = BOOK.add(effect, delta)
            moved.append(f"{what} at {settled.isoformat()} ({_rate_text(used.rate)}) instead of {day.isoformat()} ({_rate_text(trade_rate.rate)})")
        if not moved and not missing:
            return None
        parts = []
        if moved:
            parts.append(f"translated at the settlement dates' rates - {'; '.join(moved)}: the gain is {money_text(effect, self.pack, grouped=True)} "
                         f"{self.currency} {'more' if effect >= 0 else 'less'} than at the trade dates' rates" if effect else
                         f"translated at the settlement dates' rates - {'; '.join(moved)}")
        if missing:
            parts.append(f"no settlement date given for {', '.join(missing)}: the trade date's rate was used there (give settlement_date)")
        message = f"A cash-method individual translates at the settlement date's spot rate: {'; '.join(parts)}"
        return make_finding(self.pack, code="fx_settlement_date", severity="info", message=message, rule=f"{self.pack.id}.fx",
                            source=self.fx_section.settlement_source, facts={"trade.fx_settlement_effect": effect,
                                                                             "trade.settlement_dates_missing": missing},
                            amount=effect if moved else None)

    def fees_treatment(self) -> dict[str, str]:
        """How the pack treats fees: added to the cost of a purchase (or ignored), deducted from proceeds (or ignored)."""
        fees = self.lots_section.fees
        return {"buy": fees.buy, "sell": fees.sell}

    def term(self, acquired: dt.date, sold: dt.date) -> str:
        """short, long or none for units held from `acquired` and sold on `sold`, by the law in force at the sale."""
        return self._term(acquired, sold, self.pack.law_day(sold))

    def _term(self, acquired: dt.date, sold: dt.date, law_day: dt.date) -> str:
        """`term`, with the pack's law day of `sold` already known."""
        rule = self.holding.rule
        if rule == "none":
            return "none"
        # Memoised per (holding start, law day): a sale touching k lots costs k dictionary look-ups, not k
        # parameter resolutions and calendar computations.
        key = (acquired, law_day)
        first_long = self._long_from.get(key)
        if first_long is None:
            duration = self._long_term_after.get(key[1])
            if duration is None:
                after = self.pack.resolve(self.holding.long_term_after, key[1])
                duration = Duration.from_mapping(after if isinstance(after, dict) else {self._unit(): after})
                self._long_term_after[key[1]] = duration
            found = long_term_from(acquired, rule, duration)
            assert found is not None  # (None only under rule none, answered above)
            first_long = self._long_from[key] = found
        return "long" if sold >= first_long else "short"

    def long_term_from(self, acquired: dt.date, sold: dt.date) -> dt.date | None:
        """The first day units held from `acquired` are long-term, by the law in force at `sold` (None
        when the pack has no holding-period rule)."""
        if self.holding.rule == "none":
            return None
        self.term(acquired, sold)
        return self._long_from[(acquired, self.pack.law_day(sold))]

    def _unit(self) -> str:
        """The unit of `long_term_after` when it is a parameter holding a bare number (days otherwise)."""
        ref = self.holding.long_term_after
        if isinstance(ref, dict) and "param" in ref:
            return self.pack.parameters[ref["param"]].unit
        return "days"

    # -- adjustments (loss rules) ---------------------------------------------------------------

    def adjust(self, origin: str, quantity: Decimal, amount: Decimal, holding_from: dt.date | None, note: dict[str, Any]) -> None:
        """Add a deferred loss to the basis of `quantity` units bought by `origin` (now, or when the buy arrives)."""
        key = self.lot_owner.get(origin)
        if key is None:
            self.pending.setdefault(origin, []).append((quantity, amount, holding_from, note))
            return
        self.pools[key].adjust(origin, quantity, amount, holding_from, note)

    # -- positions ------------------------------------------------------------------------------

    def positions(self) -> list[dict[str, Any]]:
        """The lots and pools left, with adjusted cost and acquisition dates, in a stable order."""
        rows = []
        day_text: dict[dt.date, str] = {}  # a household buys on far fewer days than it has lots
        for key in sorted(self.pools):
            pool = self.pools[key]
            lots = list(pool.open_lots())
            if not lots:
                continue
            account = self.scenario.account(lots[0].account)
            rows.append({
                "owner": key[0],
                "pool": key[1],
                "security": key[2],
                "method": "average" if pool.average else "lots",
                "taxable": self.is_taxable(account),
                "quantity": pool.quantity,
                "cost": pool.cost,
                "lots": [_position_lot(lot, pool, day_text) for lot in lots],
            })
        return rows


def _position_lot(lot: Lot, pool: Pool, day_text: dict[dt.date, str]) -> dict[str, Any]:
    """One open lot as `Ledger.positions` lists it (dates as ISO text, made once per day)."""
    acquired = day_text.get(lot.acquired)
    if acquired is None:
        acquired = day_text[lot.acquired] = lot.acquired.isoformat()
    held = day_text.get(lot.holding_from)
    if held is None:
        held = day_text[lot.holding_from] = lot.holding_from.isoformat()
    return {
        "lot": lot.id, "account": lot.account, "acquired": acquired, "holding_from": held, "quantity": lot.quantity,
        "cost": pool.lot_cost(lot),
        "adjustments": [dict(sorted(a.items())) for a in lot.adjustments] if lot.adjustments else [],
    }



def _rate_text(rate: Decimal) -> str:
    return format(rate.quantize(Decimal("0.000001")).normalize(), "f")


def _require_decimals(tx: Transaction) -> None:
    """Money and quantities are Decimal: a float (or int) built into a transaction by code stops here."""
    if type(tx.quantity) is Decimal and type(tx.price) is Decimal and type(tx.fees) is Decimal:
        return
    for name in ("quantity", "price", "fees"):
        value = getattr(tx, name)
        if not isinstance(value, Decimal):
            raise TypeError(f"transaction {tx.id}: {name} must be a Decimal, not {type(value).__name__} ({value!r})")
