"""Statutory identification ahead of the lot method (`lots.identification`, engine/lots/identification.py).

- Ireland, TCA 1997 s.581(1)-(2): a disposal is identified first with shares acquired within the 4 weeks
  before it, the excess FIFO (s.580). The bundled pack's own tests (jurisdictions/ie/tests/
  identification.yaml) carry the worked figures; here: the lens through `taxpack check` and a split lot.
- United Kingdom, TCGA 1992 s.105(1), s.106A(5), s.104 (tests/conformance/uk/pack.yaml): same day, the
  30 days after (earliest first), then the average-cost holding. The peer corpus is
  tests/conformance/test_cgtcalc.py; here: properties that hold for any history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxpack.engine.core.household import Account, Scenario, Security, Taxpayer, Transaction
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.load import load_pack
from taxpack.engine.lots.pool import BOOK
from taxpack.engine.lots.replay import replay
from tests.lots.packs import widened

ZERO = Decimal(0)
NO_FX = FxTable({}, "none")
UK = load_pack(Path(__file__).resolve().parents[1] / "conformance" / "uk")
IE = widened("ie", dt.date(2020, 1, 1))
START = dt.date(2021, 1, 4)


def _scenario(country: str, currency: str, txs: list[Transaction]) -> Scenario:
    return Scenario(
        as_of=max(tx.date for tx in txs), taxpayers=(Taxpayer("me", country),),
        accounts=(Account("a", "me", country, currency),), securities=(Security("S", currency, country),),
        transactions=tuple(txs))


def _tx(ident: str, day: dt.date, side: str, quantity: str, price: str, fees: str = "0") -> Transaction:
    return Transaction(ident, "a", "S", day, side, Decimal(quantity), Decimal(price), Decimal(fees))


def test_ie_a_sale_inside_four_weeks_of_a_purchase_takes_that_purchase_not_the_oldest() -> None:
    """The same sale under plain FIFO (the pack without its identification rule) is a loss of 800."""
    txs = [_tx("b1", dt.date(2025, 3, 1), "buy", "1000", "15"), _tx("b2", dt.date(2025, 9, 5), "buy", "500", "10"),
           _tx("s1", dt.date(2025, 10, 1), "sell", "400", "13")]
    sc = _scenario("IE", "EUR", txs)
    with_rule = replay(IE, sc, NO_FX).sales["s1"]
    assert (with_rule.cost, with_rule.gain) == (Decimal(4000), Decimal(1200))
    assert [m.lot for m in with_rule.matches] == ["b2"]
    plain = replay(_without_identification(IE), sc, NO_FX).sales["s1"]
    assert (plain.cost, plain.gain) == (Decimal(6000), Decimal(-800))


def test_ie_what_the_four_weeks_leave_goes_first_in_first_out_and_the_books_close() -> None:
    """Three sales: each is identified with what was bought in its own 4 weeks, the rest FIFO; every unit's cost
    is counted once (the sum of the sales' costs is the sum of the purchases')."""
    txs = [_tx("b1", dt.date(2025, 1, 6), "buy", "100", "10"), _tx("b2", dt.date(2025, 2, 3), "buy", "50", "20"),
           _tx("s1", dt.date(2025, 2, 10), "sell", "70", "25"),  # 50 of b2 (7 days), 20 of b1
           _tx("b3", dt.date(2025, 2, 20), "buy", "30", "30"),
           _tx("s2", dt.date(2025, 3, 1), "sell", "40", "25"),  # 30 of b3 (9 days); b2 is used up; 10 of b1
           _tx("s3", dt.date(2025, 6, 1), "sell", "70", "25")]  # nothing in 4 weeks: the last 70 of b1
    book = replay(IE, _scenario("IE", "EUR", txs), NO_FX)
    assert book.sales["s1"].cost == 50 * Decimal(20) + 20 * Decimal(10)
    assert book.sales["s2"].cost == 30 * Decimal(30) + 10 * Decimal(10)
    assert book.sales["s3"].cost == 70 * Decimal(10)
    assert sum((book.sales[s].cost for s in ("s1", "s2", "s3")), ZERO) == 1000 + 1000 + 900


def test_uk_a_purchase_after_a_split_replaces_the_units_sold_in_post_split_units() -> None:
    """Sold 100 (held 100 at 4); a 2-for-1 split; 200 bought at 3 twenty days after the sale, 150 sold that day.
    Same day: 150 of the 200 (450). 30 days: the other 50 new units stand for 25 old ones (150). The other 75
    old units come from the holding at 4 (300). cgtcalc's SplitBetweenSellAndFutureBuyDay gives the same 900."""
    from taxpack.engine.core.household import CorporateAction, Ratio

    txs = [_tx("b1", dt.date(2019, 12, 1), "buy", "100", "4"), _tx("s1", dt.date(2020, 1, 1), "sell", "100", "10"),
           _tx("b2", dt.date(2020, 1, 20), "buy", "200", "3"), _tx("s2", dt.date(2020, 1, 20), "sell", "150", "11")]
    sc = _scenario("GB", "GBP", txs)
    sc = Scenario(**{**{f: getattr(sc, f) for f in ("as_of", "taxpayers", "accounts", "securities", "transactions")},
                     "corporate_actions": (CorporateAction("split", "split", "S", dt.date(2020, 1, 10), ratio=Ratio(Decimal(2), Decimal(1))),)})
    book = replay(UK, sc, NO_FX)
    assert book.sales["s2"].cost == 150 * Decimal(3)
    assert book.sales["s1"].cost == 50 * Decimal(3) + 75 * Decimal(4)
    assert [f.code for f in book.sales["s1"].findings] == ["lot_identification"]
    assert sum((p["quantity"] for p in book.ledger.positions()), ZERO) == 50  # the 25 old units left in the holding, split


def _without_identification(pack: Any) -> Any:
    """The IE pack as `widened` gives it, less its identification rule and its loss rule: s.580 FIFO alone."""
    import yaml

    from taxpack.engine.law.load import load_pack_text
    from tests.lots.packs import JURISDICTIONS

    data = yaml.safe_load((JURISDICTIONS / "ie" / "pack.yaml").read_text(encoding="utf-8"))
    data["coverage"]["from"] = pack.coverage_from
    for parameter in data["parameters"].values():
        values = parameter["values"]
        first = min(values)
        if first > pack.coverage_from:
            values[pack.coverage_from] = values.pop(first)
        parameter["values"] = dict(sorted(values.items()))
    data.pop("loss_rules", None)
    data["lots"].pop("identification")
    return load_pack_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200), "ie-fifo-only.yaml")


events = st.lists(st.tuples(st.sampled_from(["buy", "buy", "sell"]), st.integers(1, 500), st.integers(1, 1000), st.integers(0, 40)),
                  min_size=1, max_size=14)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.sampled_from(["uk", "ie"]))
def test_every_unit_bought_is_costed_once(history: list[tuple[str, int, int, int]], which: str) -> None:
    """For any history that never sells more than it holds, followed by a sale of everything: the costs of all sales
    add up to the costs of all purchases exactly (identification only moves cost between sales), and no unit is left."""
    pack = UK if which == "uk" else IE
    day = START
    held = 0
    txs: list[Transaction] = []
    for n, (side, quantity, price, gap) in enumerate(history):
        day += dt.timedelta(days=gap)
        if side == "sell":
            quantity = min(quantity, held)
            if quantity == 0:
                continue
        held += quantity if side == "buy" else -quantity
        txs.append(_tx(f"t{n}", day, side, str(quantity), str(price), "1"))
    if not held:
        return
    txs.append(_tx("last", day + dt.timedelta(days=1), "sell", str(held), "7", "1"))
    book = replay(pack, _scenario("GB" if which == "uk" else "IE", "GBP" if which == "uk" else "EUR", txs), NO_FX)
    bought = sum((tx.quantity * tx.price + tx.fees for tx in txs if tx.side == "buy"), ZERO)
    costs = ZERO
    for sale in book.sales.values():
        costs = BOOK.add(costs, sale.cost)
        assert sum((take.quantity for take in sale.takes), ZERO) == sale.tx.quantity
    assert abs(costs - bought) < Decimal("1e-20")
    assert all(p["quantity"] == 0 for p in book.ledger.positions())
