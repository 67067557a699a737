"""One sale, two countries: a US loss and a Canadian gain, and the lot engine's other rules.

Alice is a US citizen resident in Canada. She sells US ETF units held in her Canadian non-registered
account. The US taxes her as a citizen (26 U.S.C. §1, Treas. Reg. §1.1-1(b)), in USD, on the lot she
identifies; Canada taxes her as a resident, in CAD, at the average cost of all identical units in her
non-registered accounts (ITA s.47), each amount converted at the rate of the day it arose
(ITA s.261(2)(b): the cost at the purchase's rate, the proceeds at the sale's). The US dollar rose
against the Canadian dollar while the ETF fell: a loss in USD, a gain in CAD.

Every figure below is worked out by hand from the trades and the rates in the override CSV.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from taxpack.engine.core.errors import EvaluationError, Span
from taxpack.engine.core.household import Account, Scenario, Security, SpecificLot, Taxpayer, Transaction
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.load import load_pack_text
from taxpack.engine.law.registry import PackSet
from taxpack.engine.lots.ledger import Ledger
from taxpack.engine.lots.lens import lenses_for
from taxpack.engine.lots.pool import BOOK
from taxpack.engine.lots.replay import replay
from tests.lots.packs import JURISDICTIONS, ca_pack, de_pack, us_like

D = Decimal
JAN15, MAR14, SEP15 = dt.date(2025, 1, 15), dt.date(2025, 3, 14), dt.date(2025, 9, 15)
ECB = FxTable.embedded()
US = us_like(loss_rules=True)  # the US pack as bundled (its wash-sale rule included), widened for the property tests
CA = ca_pack()

RATES = """date,currency,quote,rate,source
2025-01-15,USD,CAD,1.30,test rate
2025-03-14,USD,CAD,1.35,test rate
2025-09-15,USD,CAD,1.40,test rate
"""


def household(tmp_path: Path, lots: Any = "hifo") -> tuple[Scenario, FxTable]:
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES, encoding="utf-8")
    scenario = Scenario(
        as_of=SEP15,
        taxpayers=(Taxpayer("alice", "CA", ("US",)),),
        accounts=(Account("ca-broker", "alice", "CA", "CAD"),),
        securities=(Security("VTI", "USD", "US", kind="etf"),),
        transactions=(
            Transaction("A", "ca-broker", "VTI", JAN15, "buy", D(60), D(250), D(6)),
            Transaction("B", "ca-broker", "VTI", MAR14, "buy", D(40), D(220), D(4)),
        ),
        trades=(Transaction("S", "ca-broker", "VTI", SEP15, "sell", D(50), D(240), D(5), lots=lots, candidate=True),),
        fx_rates=str(rates),
    )
    return scenario, ECB.with_overrides(rates, shown_as="rates.csv")


def test_the_us_lens_shows_a_loss_and_the_canadian_lens_a_gain(tmp_path: Path) -> None:
    scenario, fx = household(tmp_path)

    # US lens, USD, the lot Alice identifies (HIFO): lot A costs (60 x 250 + 6) / 60 = 250.10 a unit,
    # lot B (40 x 220 + 4) / 40 = 220.10, so HIFO takes 50 units of A: cost 50 x 250.10 = 12,505.00.
    # Proceeds 50 x 240 - 5 = 11,995.00. Loss 11,995.00 - 12,505.00 = -510.00, short term (8 months).
    us = replay(US, scenario, fx).sales["S"]
    assert (us.proceeds, us.cost, us.gain) == (D("11995.00"), D("12505.00"), D("-510.00"))
    assert us.choice.used == "hifo" and not us.choice.overridden
    assert [(m.lot, m.quantity, m.term) for m in us.matches] == [("A", D(50), "short")]
    assert us.term == "short" and us.rate is None
    assert (us.price_gain, us.fx_gain) == (D("-510.00"), D("0.00"))  # a USD security in USD: no FX part

    # Canadian lens, CAD, average cost of the pool (s.47), each leg at its own day's rate (s.261(2)(b)):
    #   A: (60 x 250 + 6) USD x 1.30 = 15,006 x 1.30 = 19,507.80 CAD
    #   B: (40 x 220 + 4) USD x 1.35 =  8,804 x 1.35 = 11,885.40 CAD
    #   pool: 100 units, 31,393.20 CAD, 313.932 a unit; 50 units cost 15,696.60 CAD
    #   proceeds: (50 x 240 - 5) USD x 1.40 = 11,995 x 1.40 = 16,793.00 CAD
    #   gain: 16,793.00 - 15,696.60 = 1,096.40 CAD
    ca = replay(CA, scenario, fx).sales["S"]
    assert (ca.proceeds, ca.cost, ca.gain) == (D("16793.00"), D("15696.60"), D("1096.40"))
    assert ca.choice.used == "average" and ca.choice.overridden and ca.choice.requested == "hifo"
    assert ca.term == "none"
    assert ca.rate is not None and (ca.rate.date, ca.rate.rate_date, ca.rate.rate) == (SEP15, SEP15, D("1.40"))
    # The price part: the units' USD price change at the sale's rate; the pool's USD cost is 15,006 + 8,804
    # = 23,810 for 100 units, 11,905 for 50: (11,995 - 11,905) x 1.40 = 126.00 CAD. The FX part is the
    # rest, the USD cost times the rise of the rate: 11,905 x 1.40 - 15,696.60 = 970.40 CAD.
    assert (ca.price_gain, ca.fx_gain) == (D("126.00"), D("970.40"))
    assert ca.price_gain + ca.fx_gain == ca.gain

    # The sign differs because of the exchange rate alone: at a constant 1.30 the CAD result would be a loss.
    assert us.gain < 0 < ca.gain

    # Asking for HIFO in Canada is overridden with a finding that says why and cites s.47.
    [finding] = [f for f in ca.findings if f.code == "lot_method_overridden"]
    assert "average" in finding.message and "mandatory" in finding.message
    assert "47" in finding.citation and finding.pack == CA.ref

    # Positions after the sale, in each lens's own currency and pool.
    us_rows = replay(US, scenario, fx).ledger.positions()
    assert [(r["pool"], r["quantity"], r["cost"]) for r in us_rows] == [("ca-broker", D(50), D("11305.00"))]  # 10 x 250.10 + 40 x 220.10
    ca_rows = replay(CA, scenario, fx).ledger.positions()
    assert [(r["pool"], r["quantity"], r["cost"], r["method"]) for r in ca_rows] == [("taxable accounts", D(50), D("15696.60"), "average")]


# ---------------------------------------------------------------------------------------------
# Which jurisdictions look at a trade
# ---------------------------------------------------------------------------------------------


def _variant(pack_dir: str, change: dict[str, Any]) -> Any:
    data = yaml.safe_load((JURISDICTIONS / pack_dir / "pack.yaml").read_text(encoding="utf-8"))
    for section, values in change.items():
        data[section] = {**data[section], **values}
    return load_pack_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200), f"{pack_dir}-variant.yaml")


def _trade(account: str = "acct", security: str = "VTI", side: str = "sell") -> Transaction:
    return Transaction("t", account, security, SEP15, side, D(1), D(100))


def _people(residence: str, citizenship: tuple[str, ...], account_country: str = "US", security_country: str = "US") -> Scenario:
    return Scenario(
        as_of=SEP15,
        taxpayers=(Taxpayer("p", residence, citizenship),),
        accounts=(Account("acct", "p", account_country, "USD"),),
        securities=(Security("VTI", "USD", security_country, kind="etf"),),
    )


PACKS = PackSet((us_like(), ca_pack(), de_pack()))


def test_lens_of_residence_only() -> None:
    # A Canadian resident and citizen selling a US ETF at a US broker: Canada (residence) only; the US
    # does not tax a non-resident alien's gain on listed shares, and the output says so with the citation.
    lenses, notes = lenses_for(_trade(), _people("CA", ("CA",)), PACKS)
    assert [(l.jurisdiction, l.basis) for l in lenses] == [("CA", "residence")]
    assert [(n.jurisdiction, n.severity) for n in notes] == [("US", "info")]
    assert "does not tax a non-resident" in notes[0].reason and "865" in notes[0].citation


def test_lens_of_citizenship_where_the_pack_taxes_citizens() -> None:
    lenses, _ = lenses_for(_trade(), _people("CA", ("US",)), PACKS)
    assert [(l.jurisdiction, l.basis) for l in lenses] == [("CA", "residence"), ("US", "citizenship")]
    # Germany does not tax its citizens abroad (scope.citizens false): no German lens for a German in Canada.
    lenses, _ = lenses_for(_trade(), _people("CA", ("DE",), "CA", "CA"), PACKS)
    assert [(l.jurisdiction, l.basis) for l in lenses] == [("CA", "residence")]


def test_lens_of_the_source_country_only_when_its_pack_taxes_non_residents() -> None:
    # A German resident selling a Canadian security in a Canadian account: no Canadian lens, with a note...
    scenario = _people("DE", ("DE",), "CA", "CA")
    lenses, notes = lenses_for(_trade(), scenario, PACKS)
    assert [(l.jurisdiction, l.basis) for l in lenses] == [("DE", "residence")]
    assert [n.jurisdiction for n in notes] == ["CA"] and notes[0].citation
    # ...but a pack that taxes non-residents on such gains adds a source lens (and no note).
    taxing = _variant("ca", {"scope": {"non_resident_gains": True}})
    lenses, notes = lenses_for(_trade(), scenario, PackSet((us_like(), taxing, de_pack())))
    assert [(l.jurisdiction, l.basis) for l in lenses] == [("DE", "residence"), ("CA", "source")]
    assert notes == []
    # A purchase is never taxed at source: no lens and no note for a buy.
    lenses, notes = lenses_for(_trade(side="buy"), scenario, PackSet((us_like(), taxing, de_pack())))
    assert [(l.jurisdiction, l.basis) for l in lenses] == [("DE", "residence")] and notes == []


def test_residence_follows_a_planned_move() -> None:
    person = Taxpayer("p", "CA", ("CA",), residence_changes=(attrs_change(dt.date(2025, 7, 1), "DE"),))
    scenario = attrs.evolve(_people("CA", ("CA",), "CA", "CA"), taxpayers=(person,))
    assert [l.jurisdiction for l in lenses_for(attrs.evolve(_trade(), date=dt.date(2025, 6, 30)), scenario, PACKS)[0]] == ["CA"]
    assert [l.jurisdiction for l in lenses_for(_trade(), scenario, PACKS)[0]] == ["DE"]


def attrs_change(day: dt.date, to: str) -> Any:
    from taxpack.engine.core.household import ResidenceChange

    return ResidenceChange(day, to)


def test_no_pack_for_the_residence_is_a_warning_note() -> None:
    lenses, notes = lenses_for(_trade(), _people("JP", ("JP",), "JP", "JP"), PACKS)
    assert lenses == [] and [(n.jurisdiction, n.severity) for n in notes] == [("JP", "warning")]


# ---------------------------------------------------------------------------------------------
# Methods, holding periods, fees
# ---------------------------------------------------------------------------------------------


def one_account(txs: list[Transaction], currency: str = "EUR", country: str = "DE", kind: str = "share") -> Scenario:
    return Scenario(
        as_of=dt.date(2026, 12, 31),
        taxpayers=(Taxpayer("p", country, (country,)),),
        accounts=(Account("acct", "p", country, currency),),
        securities=(Security("VTI", currency, country, kind=kind),),
        transactions=tuple(txs),
    )


def test_a_method_the_law_does_not_allow_is_overridden_with_a_finding() -> None:
    # Germany: FIFO is mandatory (§20(4) sentence 7 EStG). Asked HIFO, the sale is computed FIFO.
    txs = [Transaction("b1", "acct", "VTI", dt.date(2025, 1, 2), "buy", D(10), D(100)),
           Transaction("b2", "acct", "VTI", dt.date(2025, 2, 3), "buy", D(10), D(150)),
           Transaction("s1", "acct", "VTI", dt.date(2025, 3, 3), "sell", D(10), D(160), lots="hifo")]
    sale = replay(de_pack(), one_account(txs), ECB).sales["s1"]
    assert sale.choice.used == "fifo" and sale.choice.requested == "hifo" and sale.choice.overridden
    assert [m.lot for m in sale.matches] == ["b1"] and sale.gain == D(600)
    [finding] = sale.findings
    assert finding.code == "lot_method_overridden" and finding.severity == "info"
    assert "hifo was asked for" in finding.message and "fifo" in finding.message
    assert "20" in finding.citation and finding.pack == de_pack().ref
    assert finding.facts == {"trade.method_requested": "hifo", "trade.method_used": "fifo"}
    # The US allows average cost only for fund shares: an ordinary share asking for it is computed FIFO.
    us_sale = replay(US, one_account([attrs.evolve(t, lots="average" if t.side == "sell" else None) for t in txs], "USD", "US"), ECB).sales["s1"]
    assert us_sale.choice.used == "fifo" and us_sale.choice.overridden and "share" in us_sale.choice.reason


def test_holding_period_term_per_lot_and_mixed() -> None:
    # US: long term when held more than one year (§1222), counted from the day after purchase.
    # Bought 10 Jan 2024 and 1 Jun 2024. Sold 10 Jan 2025: both short (exactly one year is not more).
    # Sold 11 Jan 2025: the first lot is long, the second short: the sale is mixed.
    base = [Transaction("b1", "acct", "VTI", dt.date(2024, 1, 10), "buy", D(5), D(100)),
            Transaction("b2", "acct", "VTI", dt.date(2024, 6, 1), "buy", D(5), D(110))]
    for day, terms, overall in [(dt.date(2025, 1, 10), ["short", "short"], "short"),
                                (dt.date(2025, 1, 11), ["long", "short"], "mixed"),
                                (dt.date(2025, 6, 2), ["long", "long"], "long")]:
        sale = replay(US, one_account(base + [Transaction("s", "acct", "VTI", day, "sell", D(10), D(120))], "USD", "US"), ECB).sales["s"]
        assert [m.term for m in sale.matches] == terms and sale.term == overall, day
    # Germany and Canada make no short/long distinction: term "none".
    de_sale = replay(de_pack(), one_account(base + [Transaction("s", "acct", "VTI", dt.date(2025, 6, 2), "sell", D(10), D(120))]), ECB).sales["s"]
    assert de_sale.term == "none" and {m.term for m in de_sale.matches} == {"none"}


def test_fees_treatment() -> None:
    # US: buying fees are part of the cost, selling fees reduce the proceeds (Reg. §1.263(a)-2, §1.1012-1).
    txs = [Transaction("b1", "acct", "VTI", dt.date(2025, 1, 2), "buy", D(10), D(100), D("9.99")),
           Transaction("s1", "acct", "VTI", dt.date(2025, 3, 3), "sell", D(4), D(120), D("4.95"))]
    sale = replay(US, one_account(txs, "USD", "US"), ECB).sales["s1"]
    # Cost 4/10 of 1,009.99 = 403.996; proceeds 480 - 4.95 = 475.05; gain 71.054.
    assert (sale.cost, sale.proceeds, sale.gain) == (D("403.996"), D("475.05"), D("71.054"))
    assert sale.fees == D("4.95") and sale.fees_treatment == {"buy": "add_to_cost", "sell": "deduct_from_proceeds"}
    # A pack that ignores fees: cost 400, proceeds 480, gain 80.
    ignoring = _variant("us", {"lots": {"fees": {"buy": "ignore", "sell": "ignore"}}})
    sale = replay(ignoring, one_account(txs, "USD", "US"), ECB).sales["s1"]
    assert (sale.cost, sale.proceeds, sale.gain) == (D(400), D(480), D(80))
    assert sale.fees_treatment == {"buy": "ignore", "sell": "ignore"}


# ---------------------------------------------------------------------------------------------
# Errors: specific identification and selling more than is held
# ---------------------------------------------------------------------------------------------

SPAN = Span("household.yaml", 31, 7)


def _two_accounts() -> tuple[Scenario, Ledger]:
    scenario = Scenario(
        as_of=dt.date(2026, 12, 31),
        taxpayers=(Taxpayer("p", "US", ("US",)),),
        accounts=(Account("acct", "p", "US", "USD"), Account("other", "p", "US", "USD")),
        securities=(Security("VTI", "USD", "US", kind="etf"),),
    )
    ledger = Ledger(US, scenario, ECB)
    ledger.buy(Transaction("b1", "acct", "VTI", dt.date(2025, 1, 2), "buy", D(10), D(100)))
    ledger.buy(Transaction("b2", "acct", "VTI", dt.date(2025, 1, 3), "buy", D(10), D(110)))
    ledger.buy(Transaction("x1", "other", "VTI", dt.date(2025, 1, 3), "buy", D(10), D(90)))
    return scenario, ledger


@pytest.mark.parametrize("quantity,lots,message", [
    (5, (SpecificLot("x1", D(5)),), "no lot 'x1' is open in p / acct / VTI"),  # a lot of another account's pool
    (5, (SpecificLot("nope", D(5)),), "no lot 'nope' is open"),
    (12, (SpecificLot("b1", D(8)), SpecificLot("b1", D(4))), "lot 'b1' holds 10 units, fewer than the 12 named"),
    (5, (SpecificLot("b1", D(3)),), "the lots named add up to 3 but the sale is of 5"),
    (5, (SpecificLot("b1", D(6)), SpecificLot("b2", D(-1))), "must be positive"),
])
def test_specific_identification_errors_change_nothing(quantity: int, lots: tuple[SpecificLot, ...], message: str) -> None:
    _, ledger = _two_accounts()
    sale = Transaction("s", "acct", "VTI", dt.date(2025, 6, 2), "sell", D(quantity), D(120), lots=lots, span=SPAN)
    with pytest.raises(EvaluationError, match=message) as caught:
        ledger.sell(sale)
    assert caught.value.span == SPAN and str(caught.value).startswith("household.yaml:31:7: error: ")
    pool = ledger.pools[("p", "acct", "VTI")]
    assert pool.quantity == D(20) and pool.cost == D(2100)  # nothing was taken
    assert [lot.quantity for lot in pool.open_lots()] == [D(10), D(10)]


def test_specific_identification_takes_the_named_lots() -> None:
    _, ledger = _two_accounts()
    sale = ledger.sell(Transaction("s", "acct", "VTI", dt.date(2025, 6, 2), "sell", D(12), D(120),
                                   lots=(SpecificLot("b2", D(10)), SpecificLot("b1", D(2)))))
    assert [(m.lot, m.quantity, m.cost) for m in sale.matches] == [("b2", D(10), D(1100)), ("b1", D(2), D(200))]
    assert sale.choice.used == "specific" and sale.gain == D(1440) - D(1300)


def test_selling_more_than_held_is_an_error_at_the_trade() -> None:
    _, ledger = _two_accounts()
    with pytest.raises(EvaluationError) as caught:
        ledger.sell(Transaction("s", "acct", "VTI", dt.date(2025, 6, 2), "sell", D(25), D(120), span=SPAN))
    error = caught.value
    assert error.span == SPAN and error.exit_code == 3
    assert str(error) == ("household.yaml:31:7: error: the sale of 25 exceeds the 20 held in p / acct / VTI "
                          "(expected a quantity of at most 20)")
    # The units in the other account are another pool under the US pack: they cannot be sold from here.
    assert ledger.pools[("p", "acct", "VTI")].quantity == D(20)


# ---------------------------------------------------------------------------------------------
# The price/FX split always adds up to the gain
# ---------------------------------------------------------------------------------------------

rates = st.integers(50, 250).map(lambda n: D(n) / 100)
amounts = st.integers(1, 100_000).map(lambda n: D(n) / 100)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(amounts, amounts, st.integers(0, 500).map(lambda n: D(n) / 100), rates), min_size=1, max_size=5),
       amounts, rates, st.integers(1, 100), st.sampled_from(["fifo", "hifo", "average"]))
def test_price_and_fx_parts_add_up_to_the_gain(tmp_path_factory: Any, buys: list[tuple[Decimal, Decimal, Decimal, Decimal]],
                                                price: Decimal, sale_rate: Decimal, percent: int, method: str) -> None:
    folder = tmp_path_factory.mktemp("fx")
    day = dt.date(2025, 1, 6)
    lines = ["date,currency,quote,rate"]
    txs = []
    for i, (quantity, cost, fee, rate) in enumerate(buys):
        d = day + dt.timedelta(days=7 * i)
        lines.append(f"{d.isoformat()},EUR,USD,{rate}")
        txs.append(Transaction(f"b{i}", "acct", "VTI", d, "buy", quantity, cost, fee))
    sold_on = day + dt.timedelta(days=7 * len(buys))
    lines.append(f"{sold_on.isoformat()},EUR,USD,{sale_rate}")
    held = sum((q for q, _, _, _ in buys), D(0))
    quantity = max(D("0.01"), (held * percent / 100).quantize(D("0.01")))
    quantity = min(quantity, held)
    txs.append(Transaction("s", "acct", "VTI", sold_on, "sell", quantity, price, D("1.00"), lots=method))
    path = folder / "rates.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scenario = one_account(txs, "EUR", "US", kind="etf")
    scenario = attrs.evolve(scenario, taxpayers=(Taxpayer("p", "US", ("US",)),))
    sale = replay(US, scenario, ECB.with_overrides(path)).sales["s"]
    assert sale.price_gain is not None and sale.fx_gain is not None
    with decimal.localcontext(BOOK):  # the parts are exact: added exactly, they give the gain to the last digit
        assert sale.price_gain + sale.fx_gain == sale.gain
        for m in sale.matches:
            assert m.price_gain is not None and m.fx_gain is not None and m.price_gain + m.fx_gain == m.gain
        assert sum((m.gain for m in sale.matches), D(0)) == sale.gain
    # The FX part is the EUR cost taken times the change of the rate; on a lot, at its own buy rate.
    if method != "average":
        for m, take in zip(sale.matches, sale.takes):
            assert take.cost_native is not None and take.lot.rate is not None
            assert abs(m.fx_gain - take.cost_native * (sale_rate - take.lot.rate.rate)) <= D("1e-20") * max(D(1), abs(m.gain))


def test_a_loss_rule_adjustment_stays_in_the_price_part() -> None:
    # A basis adjustment (e.g. a disallowed wash-sale loss added to a replacement lot) is in the lens
    # currency; it is not an exchange-rate effect, so a USD lot in the USD lens still has no FX part.
    scenario = one_account([], "USD", "US")
    ledger = Ledger(us_like(), scenario, ECB)
    ledger.buy(Transaction("b1", "acct", "VTI", dt.date(2025, 1, 2), "buy", D(10), D(100)))
    ledger.adjust("b1", D(4), D(40), dt.date(2024, 12, 1), {"loss_rule": "test"})
    sale = ledger.sell(Transaction("s", "acct", "VTI", dt.date(2025, 6, 2), "sell", D(10), D(100)))
    assert sale.cost == D(1040) and sale.gain == D(-40)
    assert (sale.price_gain, sale.fx_gain) == (D(-40), D(0))
    # The adjusted slice keeps its tacked holding start; the rest keeps the purchase date.
    assert sorted((m.quantity, m.adjusted_acquired) for m in sale.matches) == [(D(4), dt.date(2024, 12, 1)), (D(6), None)]


def test_an_average_pool_bought_in_two_currencies_has_no_price_fx_split(tmp_path: Path) -> None:
    # Units of the same ETF bought once in USD and once in CAD (an interlisted security): the CAD pool
    # has no single trade-currency cost, so the split is not given, while cost and gain still are.
    scenario, fx = household(tmp_path)
    mixed = attrs.evolve(scenario, transactions=(
        scenario.transactions[0],
        attrs.evolve(scenario.transactions[1], currency="CAD", price=D(297), fees=D("5.40")),
    ))
    ca = replay(CA, mixed, fx).sales["S"]
    # A: 19,507.80 CAD (as above); B: 40 x 297 + 5.40 = 11,885.40 CAD, the same as before by construction.
    assert (ca.cost, ca.gain) == (D("15696.60"), D("1096.40"))
    assert ca.price_gain is None and ca.fx_gain is None
    assert all(m.price_gain is None and m.fx_gain is None for m in ca.matches)
