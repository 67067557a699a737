"""Conformance with uebber/ibkr-german-tax-declaration-engine (MIT): German FIFO per depot, in EUR.

The corpus (../shared/corpora/uebber_de) flattens that project's FIFO fixtures: trades per case and
the realised gains it expects, one row per lot a sale consumes (quantity, acquisition and sale
dates, cost, proceeds, gain in EUR, commissions included). Each case is one depot; it is replayed
through the bundled German pack (FIFO mandatory, pool per depot, each leg at its own day's rate).

How the fixtures' conventions become taxpack transactions:
- `BL`/`SL` are a buy and a sale. A blank commission on a trade row is the fixtures' default of
  1.00 per trade (stated in each fixture's metadata; e.g. MYH_L_001 expects a cost of 1,602 EUR for
  10 units bought at 80 USD: 2 x (800 + 1)). Commissions are in the trade's currency.
- Foreign-currency cases use the fixtures' mock rate, a constant 1 USD = 2 EUR; the test gives it to
  the engine in an fx.rates override CSV for every day a leg falls on.
- A start-of-year (`SOY`) row is the depot at 1 Jan 2023: quantity and total cost, no date. Where
  historical trades account for at least that quantity, the lots come from them (any surplus left
  the depot before the year, oldest units first, as FIFO would have it); otherwise the snapshot is one
  lot acquired on 31 Dec 2022 at the snapshot's cost, which is the acquisition date the expected rows
  give those lots.

Named differences (asserted, so a stale note fails):
- SHORT: `SSO`/`BSC` rows open and cover short positions (`COV_SHORT` rows). taxpack models long
  positions only: a sale of more than is held is an input error, which the test checks.
- The variation "CFM_L_001, USD currency" expects 196.00 EUR; under the fixtures' stated mock rate of
  2 EUR per USD, buying 10 at 100 and selling 10 at 120 with 1.00 commissions gives 2 x 198 = 396.00
  EUR (or 398.00 with commissions in EUR); no single rate gives 196.00 with the other cases' rate. The
  upstream runner (tests/test_fifo_groups.py) does not execute variations. The two other variations
  are checked.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from taxpack.engine.core.dates import Duration, term
from taxpack.engine.core.errors import EvaluationError
from taxpack.engine.core.household import Account, Scenario, Security, Taxpayer, Transaction
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.lots.replay import replay
from tests.conftest import CORPORA, corpus
from tests.lots.packs import de_pack

ZERO = Decimal(0)
DEFAULT_COMMISSION = Decimal("1.00")
MOCK_EUR_PER_USD = Decimal(2)
YEAR_START = dt.date(2023, 1, 1)
SNAPSHOT_DAY = YEAR_START - dt.timedelta(days=1)
CENT = Decimal("0.005")  # the expected figures are rounded to cents
SHORT_ACTIONS = {"SSO", "BSC"}


class Expected(NamedTuple):
    kind: str
    quantity: Decimal
    acquired: dt.date
    sold: dt.date
    cost: Decimal | None
    proceeds: Decimal | None
    gain: Decimal | None
    category: str


def _opt(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


def _load() -> tuple[dict[str, list[dict[str, str]]], dict[str, list[Expected]], list[dict[str, str]]]:
    folder = CORPORA / "uebber_de"
    if not folder.is_dir():
        return {}, {}, []
    trades: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(folder / "trades.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            trades[row["case_id"]].append(row)
    for rows in trades.values():
        rows.sort(key=lambda r: int(r["seq"]))
    expected: dict[str, list[Expected]] = defaultdict(list)
    with open(folder / "expected.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            expected[row["case_id"]].append(Expected(
                row["realization_type"], Decimal(row["quantity"]), dt.date.fromisoformat(row["acquisition_date"]),
                dt.date.fromisoformat(row["realization_date"]), _opt(row["cost_basis_eur"]), _opt(row["proceeds_eur"]),
                _opt(row["gain_loss_eur"]), row["tax_category"]))
    with open(folder / "variations.csv", newline="", encoding="utf-8") as handle:
        variations = list(csv.DictReader(handle))
    return dict(trades), dict(expected), variations


TRADES, EXPECTED, VARIATIONS = _load()
CASES = sorted(TRADES)


def _commission(row: dict[str, str]) -> Decimal:
    return Decimal(row["commission"]) if row["commission"].strip() else DEFAULT_COMMISSION


def transactions(case: str, overrides: dict[str, Any] | None = None) -> list[Transaction]:
    """The case's long trades, with start-of-year snapshots resolved as described in the docstring."""
    overrides = overrides or {}
    rows = [dict(r) for r in TRADES[case]]
    for row in rows:
        if "currency" in overrides:
            row["currency"] = overrides["currency"]
        if "commission" in overrides and row["date"] != "SOY":
            row["commission"] = str(overrides["commission"])
        if "sell_price" in overrides and row["action"] == "SL":
            row["price"] = str(overrides["sell_price"])
    txs: list[Transaction] = []
    for symbol in sorted({r["symbol"] for r in rows}):
        mine = [r for r in rows if r["symbol"] == symbol and r["action"] not in SHORT_ACTIONS]
        snapshot = next((r for r in mine if r["date"] == "SOY"), None)
        history = [r for r in mine if r["source"] == "historical"]
        held = sum((Decimal(r["quantity"]) * (1 if r["action"] == "BL" else -1) for r in history), ZERO)
        if snapshot is not None:
            quantity, total = Decimal(snapshot["quantity"]), Decimal(snapshot["price"])
            if history and held >= quantity:
                txs += [_tx(case, r) for r in history]
                if held > quantity:  # units that left the depot before the year, oldest first
                    txs.append(Transaction(f"{case}-{symbol}-before", "depot", symbol, SNAPSHOT_DAY, "sell", held - quantity,
                                           total / quantity, ZERO, currency=snapshot["currency"]))
            else:
                txs.append(Transaction(f"{case}-{symbol}-soy", "depot", symbol, SNAPSHOT_DAY, "buy", quantity,
                                       total / quantity, ZERO, currency=snapshot["currency"]))
        elif history:
            txs += [_tx(case, r) for r in history]
        txs += [_tx(case, r) for r in mine if r["source"] == "intra"]
    return sorted(txs, key=lambda t: t.date)  # stable: same-day trades keep the fixture's order


def _tx(case: str, row: dict[str, str]) -> Transaction:
    side = {"BL": "buy", "SL": "sell", "SSO": "sell", "BSC": "buy"}[row["action"]]
    return Transaction(f"{case}-{row['seq']}", "depot", row["symbol"], dt.date.fromisoformat(row["date"]), side,
                       Decimal(row["quantity"]), Decimal(row["price"]), _commission(row), currency=row["currency"])


def scenario(case: str, txs: list[Transaction], tmp_path: Path) -> tuple[Scenario, FxTable]:
    securities = tuple(Security(s, c, "DE") for s, c in sorted({(t.security, t.currency or "EUR") for t in txs}))
    rates = tmp_path / "mock-rates.csv"
    days = sorted({t.date for t in txs})
    rates.write_text("date,currency,quote,rate,source\n" + "".join(
        f"{d.isoformat()},USD,EUR,{MOCK_EUR_PER_USD},fixture mock rate (1 USD = 2 EUR)\n" for d in days), encoding="utf-8")
    fx = FxTable.embedded().with_overrides(rates, shown_as="mock-rates.csv")
    return Scenario(
        as_of=dt.date(2023, 12, 31),
        taxpayers=(Taxpayer("anna", "DE", ("DE",)),),
        accounts=(Account("depot", "anna", "DE", "EUR"),),
        securities=securities,
        transactions=tuple(txs),
        fx_rates=str(rates),
    ), fx


def realised(case: str, tmp_path: Path, overrides: dict[str, Any] | None = None) -> list[tuple[dt.date, dt.date, Decimal, Decimal, Decimal, Decimal]]:
    """(sold, acquired, quantity, cost, proceeds, gain) of every lot the case's 2023 sales consume, in EUR."""
    txs = transactions(case, overrides)
    sc, fx = scenario(case, txs, tmp_path)
    book = replay(de_pack(), sc, fx)
    rows = []
    for t in txs:
        if t.side != "sell" or t.date < YEAR_START:
            continue
        sale = book.sales[t.id]
        assert sale.choice.used == "fifo" and sale.term == "none"
        for m in sale.matches:
            assert m.acquired is not None
            rows.append((t.date, m.acquired, m.quantity, m.cost, m.proceeds, m.gain))
    return rows


def _close(actual: Decimal, expected: Decimal | None) -> bool:
    return expected is None or abs(actual - expected) <= CENT


@pytest.mark.parametrize("case", CASES or [pytest.param("-", id="corpus-absent")])
def test_uebber_fifo(case: str, tmp_path: Path) -> None:
    corpus("uebber_de")
    want = EXPECTED.get(case, [])
    longs = [e for e in want if e.kind == "SOLD_LONG"]
    shorts = [e for e in want if e.kind != "SOLD_LONG"]
    assert all(e.kind == "COV_SHORT" for e in shorts)
    got = realised(case, tmp_path)
    assert len(got) == len(longs), f"{case}: {len(got)} realised lots, expected {len(longs)}: {got}"
    for (sold, acquired, quantity, cost, proceeds, gain), e in zip(got, longs):
        assert (sold, acquired, quantity) == (e.sold, e.acquired, e.quantity), case
        assert _close(cost, e.cost), f"{case}: cost {cost} != {e.cost}"
        assert _close(proceeds, e.proceeds), f"{case}: proceeds {proceeds} != {e.proceeds}"
        assert _close(gain, e.gain), f"{case}: gain {gain} != {e.gain}"
    if shorts or any(r["action"] in SHORT_ACTIONS for r in TRADES[case]):
        check_short_is_not_modelled(case, tmp_path)


def check_short_is_not_modelled(case: str, tmp_path: Path) -> None:
    """SHORT: opening a short position is a sale of units not held, which taxpack rejects with its span."""
    opening = dict(next(r for r in TRADES[case] if r["action"] == "SSO"))
    if opening["date"] == "SOY":  # a short position held at the start of the year
        opening.update(date=SNAPSHOT_DAY.isoformat(), price=str(Decimal(opening["price"]) / Decimal(opening["quantity"])))
    txs = [_tx(case, opening)]
    sc, fx = scenario(case, txs, tmp_path)
    with pytest.raises(EvaluationError, match="exceeds"):
        replay(de_pack(), sc, fx)


def test_uebber_covers_the_corpus() -> None:
    corpus("uebber_de")
    assert set(EXPECTED) <= set(TRADES)
    assert sum(e.kind == "SOLD_LONG" for rows in EXPECTED.values() for e in rows) >= 30


@pytest.mark.parametrize("index", range(len(VARIATIONS)) if VARIATIONS else [pytest.param(-1, id="corpus-absent")])
def test_uebber_variations(index: int, tmp_path: Path) -> None:
    corpus("uebber_de")
    variation = VARIATIONS[index]
    changes = ast.literal_eval(variation["changes"])
    expected = Decimal(str(changes.pop("expected_gain_loss_eur")))
    changes.pop("tax_category", None)
    gain = sum((row[5] for row in realised(variation["case_id"], tmp_path, changes)), ZERO)
    if (variation["case_id"], variation["variation"]) == ("CFM_L_001", "USD currency"):
        # Named difference: under the mock rate the gain is twice the EUR case's 198.00.
        assert gain == 2 * Decimal("198.00") and expected == Decimal("196.00")
        return
    assert abs(gain - expected) <= CENT


# §23 EStG (private sales of gold, silver, wine, art): taxable when sold within one year of purchase.
# The corpus's tax_category says which side of the year each sale falls on; the engine's calendar rule
# ("more than" 12 months, counted from the day after acquisition) must agree. The lots above already
# check the FIFO figures of these cases.
P23 = {"SECTION_23_ESTG_TAXABLE_GAIN": "short", "SECTION_23_ESTG_TAXABLE_LOSS": "short",
       "SECTION_23_ESTG_EXEMPT_HOLDING_PERIOD_MET": "long"}


def test_uebber_section_23_one_year() -> None:
    corpus("uebber_de")
    rows = [e for rows in EXPECTED.values() for e in rows if e.category in P23]
    assert len(rows) == 5
    for e in rows:
        assert term(e.acquired, e.sold, "calendar_more_than", Duration.of("months", 12)) == P23[e.category], e
