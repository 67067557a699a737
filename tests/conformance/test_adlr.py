"""Conformance: US §1091 wash sales against the adlr/wash-sale-calculator cases (../shared/corpora/adlr).

The corpus gives, per case, the trades (specific identification: each SELL names its lot) and the final
lot rows: quantity, adjusted (tacked) acquisition date, adjusted basis, sale date, proceeds and the loss
disallowed. The cases are dated 2008-2014, before the US pack's coverage, so the test runs a copy of
the US pack whose coverage and first parameter values start in 2000 (nothing else changes), and drives
the ledger replay directly. Rows bought together (`buy_group`) are one purchase: one lot.

The engine's lots are sliced as adlr slices them (a sold lot split by the replacement units it was
matched with, a replacement split at the units that absorbed a loss), so the comparison is of the
multiset of rows per case, independent of adlr's row names.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal

import pytest

from taxpack.engine.core.household import Account, IdentityGroup, Scenario, Security, SpecificLot, Taxpayer, Transaction
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.load import load_pack_text
from taxpack.engine.losses.family import LossRuleSet
from taxpack.engine.lots.ledger import Ledger
from tests.conftest import REPO_ROOT, corpus

CASES = [
    "fairmark_replace_2", "fairmark_sameday_1", "irs550_example_1", "irs550_example_2", "irs550_example_3",
    "irs550_example_4", "same_day_loss_compute", "two_lots_different_buy_days", "two_lots_same_days",
]
CENT = Decimal("0.01")


def us_pack_widened():
    """The bundled US pack, with coverage and first parameter values moved back to 2000-01-01."""
    text = (REPO_ROOT / "jurisdictions" / "us" / "pack.yaml").read_text(encoding="utf-8")
    text = re.sub(r"coverage: \{from: \d{4}-\d{2}-\d{2}", "coverage: {from: 2000-01-01", text, count=1)
    text = re.sub(r"^(\s+)2024-01-01:", r"\g<1>2000-01-01:", text, flags=re.M)
    return load_pack_text(text, "us-widened.yaml")


def read_rows(name: str) -> list[dict[str, str]]:
    with (corpus("adlr") / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def build(case: str) -> tuple[Scenario, list[Transaction]]:
    rows = [r for r in read_rows("trades.csv") if r["case_id"] == case]
    rows.sort(key=lambda r: int(r["seq"]))
    # rows bought together (same buy_group, same date) are one purchase
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["action"] == "BUY" and r["buy_group"]:
            groups.setdefault(r["buy_group"], []).append(r)
    merged = {g: rs for g, rs in groups.items() if len(rs) > 1}
    lot_of: dict[str, str] = {}
    for g, rs in merged.items():
        prices = {Decimal(r["amount"]) / Decimal(r["quantity"]) for r in rs}
        assert len(prices) == 1 and len({r["date"] for r in rs}) == 1, f"{case}: buy group {g} mixes prices or dates"
        for r in rs:
            lot_of[r["lot_id"]] = f"group-{g}"
    events: list[Transaction] = []
    done: set[str] = set()
    symbols = sorted({r["symbol"] for r in rows})
    for r in rows:
        quantity, amount = Decimal(r["quantity"]), Decimal(r["amount"])
        price = amount / quantity
        assert price * quantity == amount, f"{case}: price not exact"
        if r["action"] == "BUY":
            lot = lot_of.get(r["lot_id"], r["lot_id"])
            if lot in done:
                continue
            if lot != r["lot_id"]:
                group_rows = merged[r["buy_group"]]
                quantity = sum((Decimal(g["quantity"]) for g in group_rows), Decimal(0))
            done.add(lot)
            events.append(Transaction(id=lot, account="brokerage", security=r["symbol"], date=day(r["date"]),
                                      side="buy", quantity=quantity, price=price))
        else:
            lot = lot_of.get(r["lot_id"], r["lot_id"])
            events.append(Transaction(id=f"sell-{r['seq']}", account="brokerage", security=r["symbol"], date=day(r["date"]),
                                      side="sell", quantity=quantity, price=price, lots=(SpecificLot(lot, quantity),)))
    scenario = Scenario(
        as_of=dt.date(2015, 1, 1),
        taxpayers=(Taxpayer(id="me", residence="US", citizenship=("US",), filing_status="single"),),
        accounts=(Account(id="brokerage", owner="me", country="US", currency="USD"),),
        securities=tuple(Security(id=s, currency="USD", country="US", identity_group="case") for s in symbols),
        transactions=tuple(events),
        identity_groups=(IdentityGroup(id="case", level="substantially_identical", confidence="high"),),
    )
    return scenario, events


def engine_rows(case: str) -> list[tuple]:
    """Replay the case; one row per lot slice: (quantity, adjusted date, adjusted basis, sold, proceeds, disallowed)."""
    pack = us_pack_widened()
    scenario, events = build(case)
    ledger = Ledger(pack, scenario, FxTable({}, "none"))
    losses = LossRuleSet(pack, scenario, ledger, events)
    rows: list[tuple] = []
    for index, tx in enumerate(events):
        if tx.side == "buy":
            ledger.buy(tx)
            continue
        sale = ledger.sell(tx)
        losses.on_sale(sale, index)
        pairs = losses.outcomes[tx.id].pairs
        for take, match in zip(sale.takes, sale.matches):
            matched = [p for p in pairs if p.sold_lot == take.lot.id]
            left = take.quantity
            for p in matched:  # the washed part of the slice, replacement by replacement
                rows.append(_row(p.sold_quantity, take, match, tx.date, p.amount))
                left -= p.sold_quantity
            if left:
                rows.append(_row(left, take, match, tx.date, Decimal(0)))
    for position in ledger.positions():
        for lot in position["lots"]:
            rows.append((lot["quantity"], day(lot["holding_from"]), _c(lot["cost"]), None, None, Decimal("0.00")))
    return sorted(rows, key=_key)


def _row(quantity, take, match, sold: dt.date, disallowed: Decimal) -> tuple:
    return (quantity, take.holding_from, _c(take.cost * quantity / take.quantity), sold,
            _c(match.proceeds * quantity / take.quantity), _c(disallowed))


def _c(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def _key(row: tuple) -> tuple:
    return tuple("" if v is None else str(v) for v in row)


def expected_rows(case: str) -> list[tuple]:
    out = []
    for r in read_rows("expected.csv"):
        if r["case_id"] != case:
            continue
        out.append((Decimal(r["quantity"]), day(r["adj_buy_date"]), Decimal(r["adj_basis"]),
                    day(r["sell_date"]) if r["sell_date"] else None,
                    Decimal(r["proceeds"]) if r["proceeds"] else None, Decimal(r["disallowed_loss"])))
    return sorted(out, key=_key)


def test_corpus_lists_the_nine_cases():
    ids = sorted({r["case_id"] for r in read_rows("trades.csv")})
    assert ids == sorted(CASES)


@pytest.mark.parametrize("case", CASES)
def test_adlr_case(case: str):
    corpus("adlr")
    got, want = engine_rows(case), expected_rows(case)
    assert got == want, f"{case}:\n got  {got}\n want {want}"
