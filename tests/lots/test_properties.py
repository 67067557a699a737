"""Properties of lots and pools that hold for any history (hypothesis).

- Quantity is conserved: what a sale takes from its lots is what it sells, and what is left is what
  was bought less what was sold, lot by lot and in total.
- Over a full liquidation the total gain is the same under every method: the methods only decide
  which costs go with which sale, and in the end every unit's cost and every sale's proceeds count once.
- No float ever reaches a money value, and the rate table never hands one out.
- An average-cost pool keeps its cost per unit through a sale (CRA: a disposition does not change the ACB
  per unit of the property left).
- A pool at scope `taxable_accounts` (Canada s.47) spans the taxpayer's taxable accounts, not a wrapper.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import ROUND_DOWN, Decimal
from typing import Any, Iterable

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from taxpack.engine.core.household import (
    Account,
    LotMatch,
    RateUsed,
    Scenario,
    Security,
    SpecificLot,
    Taxpayer,
    Transaction,
)
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.lots.ledger import Ledger, Sale
from taxpack.engine.lots.pool import BOOK
from taxpack.engine.lots.replay import replay
from tests.lots.packs import ca_pack, us_like

ZERO = Decimal(0)
ECB = FxTable.embedded()
US = us_like()
METHODS = ("fifo", "lifo", "hifo", "lofo", "average", "specific")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

quantities = st.integers(1, 100_000).map(lambda n: Decimal(n) / 100)  # 0.01 .. 1,000.00 units
prices = st.integers(1, 5_000_000).map(lambda n: Decimal(n) / 100)  # 0.01 .. 50,000.00
fees = st.integers(0, 2_000).map(lambda n: Decimal(n) / 100)
gaps = st.integers(0, 200)  # days between events (several events may share a day)


@st.composite
def histories(draw: Any) -> dict[str, Any]:
    """Buys and partial sells of one security, then a sale of everything left."""
    events = draw(st.lists(st.tuples(st.sampled_from(["buy", "buy", "sell"]), quantities, prices, fees, gaps,
                                     st.integers(1, 100)), min_size=1, max_size=12))
    return {"events": events, "final": (draw(prices), draw(fees), draw(gaps)),
            "preference": draw(st.permutations(range(12)))}


def build(history: dict[str, Any], method: str, start: dt.date = dt.date(2016, 3, 1)) -> list[Transaction]:
    """Transactions for `history`: sells take a share of what is held; specific picks lots in a drawn order."""
    day, held, txs = start, ZERO, []
    remaining: dict[str, Decimal] = {}  # per buy, under specific identification
    order = history["preference"]

    def sell(tid: str, quantity: Decimal, price: Decimal, fee: Decimal) -> Transaction:
        lots: Any = method
        if method == "specific":
            picks, left = [], quantity
            buys = list(remaining)
            ranked = sorted(range(len(buys)), key=lambda i: order.index(i % 12) * 100 + i)
            for i in ranked:
                take = min(left, remaining[buys[i]])
                if take > 0:
                    picks.append(SpecificLot(buys[i], take))
                    remaining[buys[i]] -= take
                    left -= take
            lots = tuple(picks)
        return Transaction(tid, "acct", "SEC", day, "sell", quantity, price, fee, lots=lots)

    for i, (side, quantity, price, fee, gap, percent) in enumerate(history["events"]):
        day += dt.timedelta(days=gap)
        if side == "buy":
            txs.append(Transaction(f"b{i}", "acct", "SEC", day, "buy", quantity, price, fee))
            remaining[f"b{i}"] = quantity
            held += quantity
        else:
            amount = (held * percent / 100).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
            if amount > 0:
                txs.append(sell(f"s{i}", amount, price, fee))
                held -= amount
    price, fee, gap = history["final"]
    day += dt.timedelta(days=gap)
    if held > 0:
        txs.append(sell("final", held, price, fee))
    return txs


def scenario(txs: list[Transaction], currency: str = "USD", kind: str = "etf") -> Scenario:
    # An ETF, so that average cost is allowed under the US pack (Reg. §1.1012-1(e)).
    return Scenario(
        as_of=dt.date(2030, 1, 1),
        taxpayers=(Taxpayer("alice", "US", ("US",)),),
        accounts=(Account("acct", "alice", "US", "USD"),),
        securities=(Security("SEC", currency, "US", kind=kind),),
        transactions=tuple(txs),
    )


# ---------------------------------------------------------------------------------------------
# Quantity and gain
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(histories(), st.sampled_from(METHODS))
def test_quantity_is_conserved(history: dict[str, Any], method: str) -> None:
    txs = build(history, method)
    txs = [t for t in txs if t.id != "final"]  # keep something open
    book = replay(US, scenario(txs), ECB)
    bought = sum((t.quantity for t in txs if t.side == "buy"), ZERO)
    sold = sum((t.quantity for t in txs if t.side == "sell"), ZERO)
    for t in txs:
        if t.side == "sell":
            sale = book.sales[t.id]
            assert sum((m.quantity for m in sale.matches), ZERO) == t.quantity
            assert all(m.quantity > 0 for m in sale.matches)
    rows = book.ledger.positions()
    held = sum((row["quantity"] for row in rows), ZERO)
    assert held == bought - sold
    for row in rows:
        assert sum((lot["quantity"] for lot in row["lots"]), ZERO) == row["quantity"]
        assert all(lot["quantity"] > 0 for lot in row["lots"])
    # Lot by lot (lot methods): what is left of each buy is its quantity less what the sales took from it.
    if method != "average":
        taken: dict[str, Decimal] = {}
        for sale in book.sales.values():
            for m in sale.matches:
                taken[m.lot] = taken.get(m.lot, ZERO) + m.quantity
        left = {lot["lot"]: lot["quantity"] for row in rows for lot in row["lots"]}
        for t in txs:
            if t.side == "buy":
                assert left.get(t.id, ZERO) + taken.get(t.id, ZERO) == t.quantity


@SETTINGS
@given(histories())
def test_full_liquidation_gain_is_the_same_under_every_method(history: dict[str, Any]) -> None:
    totals = {}
    for method in METHODS:
        txs = build(history, method)
        assume(any(t.side == "sell" for t in txs))
        book = replay(US, scenario(txs), ECB)
        assert book.ledger.positions() == []
        for sale in book.sales.values():
            assert sale.choice.used == method
        with decimal.localcontext(BOOK):  # add up exactly, as the ledger's books do
            totals[method] = sum((sale.gain for sale in book.sales.values()), ZERO)
    # Derived independently of the engine: all proceeds net of selling fees less all costs with buying fees.
    txs = build(history, "fifo")
    with decimal.localcontext(BOOK):
        proceeds = sum((t.quantity * t.price - t.fees for t in txs if t.side == "sell"), ZERO)
        costs = sum((t.quantity * t.price + t.fees for t in txs if t.side == "buy"), ZERO)
    for method, total in totals.items():
        assert total == proceeds - costs, method


# ---------------------------------------------------------------------------------------------
# No floats
# ---------------------------------------------------------------------------------------------

DECIMAL_FIELDS = {
    Sale: ("proceeds", "cost", "gain", "proceeds_native", "fx_gain", "price_gain", "disallowed", "released"),
    LotMatch: ("quantity", "cost", "proceeds", "gain", "fx_gain", "price_gain"),
    RateUsed: ("rate",),
}


def assert_no_float(value: Any, where: str = "value") -> None:
    """Walk a result (attrs objects, lists, tuples, dicts) and fail on any float; money fields must be Decimal."""
    assert not isinstance(value, float), f"{where} is a float: {value!r}"
    if attrs.has(type(value)):
        for name in DECIMAL_FIELDS.get(type(value), ()):
            item = getattr(value, name)
            assert item is None or isinstance(item, Decimal), f"{where}.{name} is {type(item).__name__}"
        for field in attrs.fields(type(value)):
            if field.name in ("tx",):  # the input transaction, checked by the ledger on entry
                continue
            assert_no_float(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_no_float(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            assert_no_float(item, f"{where}[{i}]")


@SETTINGS
@given(histories(), st.sampled_from(METHODS), st.sampled_from(["USD", "EUR", "JPY", "GBP"]))
def test_no_float_reaches_a_money_value(history: dict[str, Any], method: str, currency: str) -> None:
    # A EUR, JPY or GBP security seen by the US lens: every leg is converted at the ECB rate of its day.
    txs = build(history, method)
    book = replay(US, scenario(txs, currency), ECB)
    for sale in book.sales.values():
        assert_no_float(sale, f"sale {sale.tx.id}")
        for name in ("proceeds", "cost", "gain", "proceeds_native"):
            assert isinstance(getattr(sale, name), Decimal)
        if currency != "USD":
            assert sale.rate is not None and isinstance(sale.rate.rate, Decimal)
    for lot in book.buys.values():
        assert isinstance(lot.cost, Decimal) and isinstance(lot.quantity, Decimal)
    assert_no_float(book.ledger.positions(), "positions")


@pytest.mark.parametrize("field", ["quantity", "price", "fees"])
def test_a_float_in_a_transaction_is_refused(field: str) -> None:
    good = Transaction("b1", "acct", "SEC", dt.date(2024, 3, 1), "buy", Decimal(10), Decimal("10.5"), Decimal(1))
    bad = attrs.evolve(good, **{field: 1.5})
    ledger = Ledger(US, scenario([bad]), ECB)
    with pytest.raises(TypeError, match=f"{field} must be a Decimal, not float"):
        ledger.buy(bad)
    with pytest.raises(TypeError, match="must be a Decimal"):
        ledger.sell(attrs.evolve(bad, id="s1", side="sell"))


CURRENCIES = [c for c in ECB.currencies() if c in ("USD", "JPY", "GBP", "CAD", "CHF", "AUD", "SEK", "EUR", "NOK", "DKK")]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CURRENCIES), st.sampled_from(CURRENCIES), st.dates(dt.date(1999, 1, 11), dt.date(2024, 12, 31)),
       st.integers(0, 10**12).map(lambda n: Decimal(n) / 10**4))
def test_fx_table_never_returns_a_float(currency: str, quote: str, day: dt.date, amount: Decimal) -> None:
    used = ECB.rate(currency, quote, day, missing="nearest_earlier", max_lookback_days=7)
    assert isinstance(used.rate, Decimal) and used.rate > 0
    converted, rate = ECB.convert(amount, currency, quote, day, missing="nearest_earlier", max_lookback_days=7)
    assert isinstance(converted, Decimal) and rate == used
    with pytest.raises(TypeError):
        ECB.convert(float(amount), currency, quote, day, missing="nearest_earlier")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Average cost and pool scope (the Canadian pack: one pool of non-registered accounts, average cost)
# ---------------------------------------------------------------------------------------------

CA = ca_pack()


def ca_scenario(txs: Iterable[Transaction]) -> Scenario:
    return Scenario(
        as_of=dt.date(2026, 12, 31),
        taxpayers=(Taxpayer("ben", "CA", ("CA",)),),
        accounts=(Account("cash", "ben", "CA", "CAD"), Account("margin", "ben", "CA", "CAD"),
                  Account("tfsa", "ben", "CA", "CAD", wrapper="tfsa")),
        securities=(Security("XIC", "CAD", "CA", kind="etf"),),
        transactions=tuple(txs),
    )


@SETTINGS
@given(histories(), st.lists(st.sampled_from(["cash", "margin"]), min_size=12, max_size=12),
       st.sampled_from(["fifo", "hifo", "average"]))
def test_average_pool_keeps_its_cost_per_unit_through_a_sale(history: dict[str, Any], where: list[str], asked: str) -> None:
    txs = [attrs.evolve(t, security="XIC", account=where[i % 12], lots=asked if t.side == "sell" else None)
           for i, t in enumerate(build(history, "fifo", dt.date(2025, 1, 1)))]
    sc = ca_scenario(txs)
    ledger = Ledger(CA, sc, ECB)
    for t in txs:
        if t.side == "buy":
            ledger.buy(t)
            continue
        key = ledger.pool_key(sc.account(t.account), "XIC")
        pool = ledger.pools[key]
        before = pool.cost / pool.quantity
        sale = ledger.sell(t)
        assert sale.choice.used == "average" and sale.choice.overridden == (asked != "average")
        # The sale takes cost at the average: cost / quantity sold is the pool's cost per unit.
        assert abs(sale.cost - before * t.quantity) <= Decimal("1e-18") * max(Decimal(1), sale.cost)
        if pool.quantity > 0:
            after = pool.cost / pool.quantity
            assert abs(after - before) <= Decimal("1e-20") * before, (before, after)


@SETTINGS
@given(quantities, prices, quantities, prices, quantities, prices, st.integers(1, 99))
def test_taxable_accounts_pool_together_and_a_wrapper_apart(q1: Decimal, p1: Decimal, q2: Decimal, p2: Decimal,
                                                            q3: Decimal, p3: Decimal, percent: int) -> None:
    day = dt.date(2025, 2, 3)
    sell_q = ((q1 + q2) * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    assume(sell_q > 0)
    txs = [
        Transaction("c1", "cash", "XIC", day, "buy", q1, p1),
        Transaction("m1", "margin", "XIC", day, "buy", q2, p2),
        Transaction("t1", "tfsa", "XIC", day, "buy", q3, p3),
        Transaction("s1", "cash", "XIC", day + dt.timedelta(days=30), "sell", sell_q, p1),
    ]
    sc = ca_scenario(txs)
    book = replay(CA, sc, ECB)
    ledger = book.ledger
    cash, margin, tfsa = (ledger.pool_key(sc.account(a), "XIC") for a in ("cash", "margin", "tfsa"))
    assert cash == margin != tfsa
    sale = book.sales["s1"]
    # Cost at the average of the two taxable accounts only: (q1 p1 + q2 p2) / (q1 + q2) a unit.
    expected = sell_q * (q1 * p1 + q2 * p2) / (q1 + q2)
    assert abs(sale.cost - expected) <= Decimal("1e-18") * max(Decimal(1), expected)
    assert sale.taxable
    assert ledger.pools[tfsa].quantity == q3 and ledger.pools[tfsa].cost == q3 * p3
    assert ledger.pools[cash].quantity == q1 + q2 - sell_q
    # The same sale under the US pack (pool per account): only the cash account's lot is there to sell.
    us_sc = attrs.evolve(sc, taxpayers=(Taxpayer("ben", "US", ("US",)),))
    if sell_q <= q1:
        us = replay(US, us_sc, ECB)
        assert us.ledger.pool_key(us_sc.account("cash"), "XIC") != us.ledger.pool_key(us_sc.account("margin"), "XIC")
        assert [(m.lot, m.quantity) for m in us.sales["s1"].matches] == [("c1", sell_q)]
    else:
        from taxpack.engine.core.errors import EvaluationError

        with pytest.raises(EvaluationError, match="exceeds"):
            replay(US, us_sc, ECB)


def test_decimal_context_is_not_changed_by_the_engine() -> None:
    context = decimal.getcontext()
    before = (context.prec, context.rounding)
    book = replay(US, scenario(build({"events": [("buy", Decimal(3), Decimal(7), ZERO, 0, 1), ("sell", Decimal(1), Decimal(9), ZERO, 1, 50)],
                                      "final": (Decimal(8), ZERO, 1), "preference": list(range(12))}, "fifo")), ECB)
    assert book.sales
    assert (context.prec, context.rounding) == before
