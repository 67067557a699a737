"""Conformance with cgtcalc (mattjgalloway/cgtcalc, MIT): UK share identification for capital gains tax.

The corpus (../shared/corpora/cgtcalc) flattens cgtcalc's example inputs into `trades.csv` and its
per-tax-year totals into `expected.csv`: disposals, proceeds, allowable costs, gains and losses, each in
whole pounds, per UK tax year (6 April to 5 April). Each case is replayed through the lot engine with the
United Kingdom pack (jurisdictions/uk: same day, then the 30 days after the disposal, earliest first, then
the section 104 holding at average cost, as `lots.identification` expresses them).

How cgtcalc's rows become taxpack inputs:
- BUY and SELL are trades (price per unit and the trade's fees, in GBP);
- SPLIT n / UNSPLIT n / RESTRUCT a:b are splits with ratio n:1, 1:n and b:a;
- DIVIDEND (an accumulation fund's notional distribution) is a cost adjustment adding its amount to
  the holding's cost; CAPRETURN (equalisation) is one reducing it, except where the law puts it on a
  purchase identified with an earlier disposal (EQUALISATION_ON_PURCHASE, below);
- SPOUSEIN is an acquisition at the cost the row gives (per unit, or `TOTALCOST` for the lot);
  SPOUSEOUT is a disposal (matched by the same rules, TCGA 1992 s.58 making it no gain, no loss): it
  is replayed as a sale and left out of the totals.
A disposal is what cgtcalc counts: the sales of one security on one day (s.105(1)(a)). Per disposal,
cgtcalc reports gross proceeds and allowable costs (cost plus the sale's fees) rounded down to whole
pounds, and the gain or the loss rounded toward zero (HMRC example 1 of the corpus: costs 3,030.67 and
1,779.67 give 4,809, not 4,810); the totals are sums of those.

Differences, each asserted below (a stale note fails): of 49 cases 41 agree; the 8 others are one question,
a fund event dated after a purchase that the 30-day rule already identified with an earlier disposal.
cgtcalc puts a share of every such event on the identified units, up to the next disposal, and so reopens
the earlier disposal's cost. Decided by the law, event by event:

- Notional distributions (DIVIDEND). HMRC CG57707 (read on gov.uk): the notional distribution of
  accumulation units is allowable expenditure from the date the holder became entitled to it: an outlay
  of that date on the units then held. Units identified with an earlier disposal under s.106A(5) "shall
  not be regarded as forming part of an existing section 104 holding" (s.106A(5ZA), inserted by FA 2008
  Sch. 2 para 87, read on legislation.gov.uk; the same for same-day units, s.105(3)): in law they are the
  units already disposed of, and what the holder has on the event date is the section 104 holding. So
  the notional distribution goes to the holding (taxpack), never to a disposal made before it: six cases,
  EXPLAINED (five figures, each worked by hand) and EXPLAINED_ERRORS (one input the law cannot replay: a
  distribution on units of a position that is flat in law).
- Equalisation (CAPRETURN). HMRC CG57705 (read): equalisation returned with the first distribution after
  a purchase is not income and not a capital distribution but "a return of the initial price paid", to be
  "deducted from the price paid"; it belongs to the units bought in that distribution period (group 2
  units, SAIM6110). Where those units are a purchase identified with an earlier disposal, the price paid
  for it is that disposal's cost, and the equalisation reduces it. Which units are group 2 follows from
  the distribution period, which cgtcalc's rows give only when an earlier distribution dates its start:
  WithAssetEventsBB (distribution of 31 May 2019, then 30 November 2019: the holding's units were held
  through the second period, so its equalisation is all on the 20 units bought on 10 November, which
  were identified with the sale of 5 November). Entered as the law says, as a lower price of that
  purchase (EQUALISATION_ON_PURCHASE; the UK pack's README gives the same input to users), the figure
  differs from both cgtcalc's split and taxpack's default of a cost adjustment on the holding (LAW,
  ENGINE_DEFAULT: an engine gap, a cost adjustment cannot name the purchase it belongs to). In the other
  case with equalisation, RepeatingCapitalReturnAllocation, no period is given and the row's 0.0002
  units cannot be told apart from the holding's: taxpack's holding reading stands (EXPLAINED), with the
  caveat that if the 0.0001 units bought on 10 June are among them, their half of the 90 (45) would
  reduce the 1 June disposal's cost (gain 145, not 100; cgtcalc: 130).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import NamedTuple

import pytest

from taxpack.engine.core.errors import EvaluationError
from taxpack.engine.core.household import (
    Account,
    CorporateAction,
    CostAdjustment,
    Ratio,
    Scenario,
    Security,
    Taxpayer,
    Transaction,
)
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.load import load_pack
from taxpack.engine.lots.replay import replay
from tests.conftest import CORPORA, corpus

UK_PACK = Path(__file__).resolve().parents[2] / "jurisdictions" / "uk"
ZERO = Decimal(0)
ONE = Decimal(1)


class Totals(NamedTuple):
    disposals: int
    proceeds: Decimal
    costs: Decimal
    gains: Decimal
    losses: Decimal


# case -> {tax year: taxpack's totals} where taxpack differs from cgtcalc and the law decides for taxpack (the module
# docstring: a notional distribution goes to the units held on its date, the section 104 holding, s.106A(5ZA), CG57707).
EXPLAINED: dict[str, dict[str, Totals]] = {
    # Bought 100 at 10; sold 50 at 20 on 1 Jun; bought 50 at 12 on 10 Jun (identified
    # with the 1 Jun sale: cost 600); notional distribution of 100 on the 100 units held on 15 Jun, all
    # of them the holding (100 units, cost 1,000 -> 1,100); sold 50 at 25 on 20 Jun: 50 x 11 = 550.
    # Costs 600 + 550 = 1,150, gain (1,000 - 600) + (1,250 - 550) = 1,100. cgtcalc: 1,175 and 1,075.
    "AssetEventValueConservedAcrossBBAndS104": {"2020/2021": Totals(2, Decimal(2250), Decimal(1150), Decimal(1100), ZERO)},
    # Sold 50 at 20 (no holding yet), bought 100 at 10 on 10 Jun: 50 identified with the sale (cost 500), 50 go to the
    # holding; the 1:2 consolidation and the distribution of 100 fall on the holding. Gain 1,000 - 500 = 500 (cgtcalc 450).
    "BBDividendAfterUnsplitScalesMatchedQuantity": {"2020/2021": Totals(1, Decimal(1000), Decimal(500), Decimal(500), ZERO)},
    # Holding 100 at 10; sold 100 at 20 on 1 Jun, bought 100 at 10 on 10 Jun (identified: cost 1,000); the two
    # distributions of 5 on 15 Jun go to the holding of 100. Gain 2,000 - 1,000 = 1,000 (cgtcalc 990).
    "MultipleSameDayDividendRows": {"2020/2021": Totals(1, Decimal(2000), Decimal(1000), Decimal(1000), ZERO)},
    # 0.0001 sold at 2,000,000 (200), identified with 0.0001 bought at 1,000,000 (100) 9 days later; the equalisation of
    # 90 on 0.0002 units reduces the holding's cost: no distribution period is given, so which units are group 2 is
    # unknown (the docstring). Gain 100 (cgtcalc puts 30 of the 90 on the identified units: cost 70, gain 130).
    "RepeatingCapitalReturnAllocation": {"2020/2021": Totals(1, Decimal(200), Decimal(100), Decimal(100), ZERO)},
    # 0.0001 sold for 200, identified with 0.0001 bought for 100; the distribution of 100 goes to the holding. Gain 100 (cgtcalc 0).
    "ToleratedAssetEventAmountConservesValue": {"2020/2021": Totals(1, Decimal(200), Decimal(100), Decimal(100), ZERO)},
    # Two sales of 0.0001 for 200 each (20 Mar and 6 Apr 2025), both identified with the 0.0002 bought for 100 on 10 Apr
    # (50 each); the distribution of 100 on 15 Apr goes to the holding. Gains 150 and 150 (cgtcalc 100 and 100).
    "ToleratedEventAmountAcrossTaxYears": {"2024/2025": Totals(1, Decimal(200), Decimal(50), Decimal(150), ZERO),
                                           "2025/2026": Totals(1, Decimal(200), Decimal(50), Decimal(150), ZERO)},
}

# case -> {CAPRETURN row: ((BUY row, the part of the equalisation that returns part of that purchase's price), ...)}:
# equalisation on group 2 units that the 30-day rule identified with an earlier disposal (CG57705), entered as a lower
# price of the purchase, as the UK pack's README tells users to; the rest of the row stays a cost adjustment.
EQUALISATION_ON_PURCHASE: dict[str, dict[str, tuple[tuple[str, Decimal], ...]]] = {
    # The distribution of 31 May 2019 (equalisation on all 40 units: both purchases were in that period) starts the
    # period ending 30 Nov 2019; the only units bought in it are the 20 of 10 Nov, the row's 20 units: all 95.12.
    "WithAssetEventsBB": {"7": (("5", Decimal("95.12")),)},
}

# case -> {tax year: the law's totals} with EQUALISATION_ON_PURCHASE.
LAW: dict[str, dict[str, Totals]] = {
    # Holding 40 for 7,338.70 (+150.24 - 149.75 = 7,339.19). Sold 40 at 194.22 (fee 12.50) on 5 Nov: 20 identified with the
    # 20 bought on 10 Nov for 3,805.80 less the equalisation of 95.12 returned on them on 30 Nov = 3,710.68, 20 from the
    # holding for 3,669.595; costs 7,380.275 + 12.50 = 7,392.775 -> 7,392; gain 7,768.80 - 12.50 - 7,380.275 = 376.025 -> 376.
    # The notional distribution of 110.93 on 30 Nov goes to the holding (what is held then, CG57707).
    "WithAssetEventsBB": {"2019/2020": Totals(1, Decimal(7768), Decimal(7392), Decimal(376), ZERO)},
}

# case -> {tax year: taxpack's totals} when the equalisation is entered as a cost adjustment (on the holding): the engine
# gap the law input works around. 20 identified with the 10 Nov purchase at 3,805.80, 20 from the holding for 3,669.595:
# costs 7,487.895 -> 7,487, gain 280.905 -> 280 (cgtcalc: 7,503 and 265, a share of both 30 Nov events on the 20 bought).
ENGINE_DEFAULT: dict[str, dict[str, Totals]] = {
    "WithAssetEventsBB": {"2019/2020": Totals(1, Decimal(7768), Decimal(7487), Decimal(280), ZERO)},
}

# case -> the input error taxpack gives (a notional distribution after a 30-day match, with nothing in the holding).
EXPLAINED_ERRORS: dict[str, str] = {
    # Sold 100 with nothing held, bought 100 on 10 Jun: all identified with the sale, so in law (and in fact: a sale
    # covered by a later purchase) the position is flat; a distribution on 200 units of it on 30 Jun cannot be replayed
    # and is refused. cgtcalc adds it to the identified units (cost 1,100, gain 900).
    "BBDividendAfterSplitScalesMatchedQuantity": "cost adjustment 'BBDividendAfterSplitScalesMatchedQuantity-3': account gia holds no TEST on 2020-06-30",
}


def _load() -> tuple[dict[str, list[dict[str, str]]], dict[str, dict[str, Totals]]]:
    folder = CORPORA / "cgtcalc"
    if not folder.is_dir():
        return {}, {}
    trades: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(folder / "trades.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            trades[row["case_id"]].append(row)
    for rows in trades.values():
        rows.sort(key=lambda r: int(r["seq"]))
    expected: dict[str, dict[str, Totals]] = defaultdict(dict)
    with open(folder / "expected.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            expected[row["case_id"]][row["tax_year"]] = Totals(
                int(row["disposals"]), Decimal(row["proceeds"]), Decimal(row["allowable_costs"]),
                Decimal(row["total_gains"]), Decimal(row["total_losses"]))
    return dict(trades), dict(expected)


TRADES, EXPECTED = _load()
CASES = sorted(TRADES)


def tax_year(day: dt.date) -> str:
    """The UK tax year (6 April to 5 April) a day falls in, as cgtcalc writes it."""
    start = day.year if (day.month, day.day) >= (4, 6) else day.year - 1
    return f"{start}/{start + 1}"


def scenario(case: str, law: bool = True) -> tuple[Scenario, set[str]]:
    """The case as a taxpack scenario, and the ids of its spouse transfers out (left out of the totals). With `law`,
    equalisation that returns part of the price of a purchase identified with an earlier disposal lowers that
    purchase's price (EQUALISATION_ON_PURCHASE); without it every event is a cost adjustment on the holding."""
    rows = TRADES[case]
    on_purchase = EQUALISATION_ON_PURCHASE.get(case, {}) if law else {}
    price_cut: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for parts in on_purchase.values():
        for buy, part in parts:
            price_cut[buy] += part
    txs: list[Transaction] = []
    actions: list[CorporateAction] = []
    adjustments: list[CostAdjustment] = []
    spouse_out: set[str] = set()
    for row in rows:
        ident = f"{case}-{row['seq']}"
        day = dt.date.fromisoformat(row["date"])
        action, symbol, extra = row["action"], row["symbol"], row["extra"].strip()
        if action in ("BUY", "SELL"):
            quantity = Decimal(row["quantity"])
            price = Decimal(row["price"]) - price_cut[row["seq"]] / quantity
            txs.append(Transaction(ident, "gia", symbol, day, action.lower(), quantity, price, Decimal(row["fees"] or "0")))
        elif action == "SPOUSEIN":
            quantity = Decimal(row["quantity"])
            price = Decimal(extra.split()[1]) / quantity if extra.startswith("TOTALCOST") else Decimal(extra)
            txs.append(Transaction(ident, "gia", symbol, day, "buy", quantity, price))
        elif action == "SPOUSEOUT":
            txs.append(Transaction(ident, "gia", symbol, day, "sell", Decimal(row["quantity"]), ZERO))
            spouse_out.add(ident)
        elif action in ("SPLIT", "UNSPLIT", "RESTRUCT"):
            if action == "RESTRUCT":
                old, new = (Decimal(x) for x in row["quantity"].split(":"))
            else:
                n = Decimal(row["quantity"])
                old, new = (ONE, n) if action == "SPLIT" else (n, ONE)
            actions.append(CorporateAction(ident, "split", symbol, day, ratio=Ratio(new, old)))
        elif action in ("DIVIDEND", "CAPRETURN"):
            amount = Decimal(extra) - sum((part for _, part in on_purchase.get(row["seq"], ())), ZERO)
            if amount:
                adjustments.append(CostAdjustment(ident, "gia", symbol, day, amount if action == "DIVIDEND" else -amount,
                                                  "notional distribution" if action == "DIVIDEND" else "equalisation"))
        else:  # pragma: no cover - the corpus has no other action
            raise AssertionError(f"{case}: unknown action {action}")
    symbols = sorted({row["symbol"] for row in rows})
    last = max(dt.date.fromisoformat(row["date"]) for row in rows)
    sc = Scenario(
        as_of=last,
        taxpayers=(Taxpayer("me", "GB"),),
        accounts=(Account("gia", "me", "GB", "GBP"),),
        securities=tuple(Security(s, "GBP", "GB") for s in symbols),
        transactions=tuple(txs),
        corporate_actions=tuple(actions),
        cost_adjustments=tuple(adjustments),
    )
    return sc, spouse_out


def _down(value: Decimal) -> Decimal:
    return value.quantize(ONE, rounding=ROUND_DOWN)


def totals(case: str, law: bool = True) -> dict[str, Totals]:
    """taxpack's totals per tax year, as cgtcalc reports them (see the module docstring)."""
    sc, spouse_out = scenario(case, law)
    book = replay(load_pack(UK_PACK), sc, FxTable({}, "none"))
    disposals: dict[tuple[dt.date, str], list[Transaction]] = defaultdict(list)
    for tx in sc.transactions:
        if tx.side == "sell" and tx.id not in spouse_out:
            disposals[(tx.date, tx.security)].append(tx)
    years: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO, ZERO])
    for (day, _), sales in sorted(disposals.items()):
        proceeds = sum((tx.quantity * tx.price for tx in sales), ZERO)
        costs = sum((book.sales[tx.id].cost + tx.fees for tx in sales), ZERO)
        gain = sum((book.sales[tx.id].gain for tx in sales), ZERO)
        row = years[tax_year(day)]
        row[0] += 1
        row[1] += _down(proceeds)
        row[2] += _down(costs)
        if gain >= 0:
            row[3] += _down(gain)
        else:
            row[4] += _down(-gain)
    return {year: Totals(int(r[0]), r[1], r[2], r[3], r[4]) for year, r in years.items()}


@pytest.mark.parametrize("case", CASES or ["(corpus absent)"])
def test_cgtcalc_case(case: str) -> None:
    corpus("cgtcalc")
    if case in EXPLAINED_ERRORS:
        with pytest.raises(EvaluationError) as caught:
            totals(case)
        assert EXPLAINED_ERRORS[case] in caught.value.message
        return
    got = totals(case)
    want = dict(EXPECTED.get(case, {}))
    want.update(EXPLAINED.get(case, {}))
    want.update(LAW.get(case, {}))
    assert got == want


@pytest.mark.parametrize("case", sorted(ENGINE_DEFAULT))
def test_equalisation_entered_on_the_holding(case: str) -> None:
    """The engine gap, named: entered as a cost adjustment, the equalisation lands on the holding, not on the purchase."""
    corpus("cgtcalc")
    assert totals(case, law=False) == ENGINE_DEFAULT[case]
    assert ENGINE_DEFAULT[case] != LAW[case]


@pytest.mark.parametrize("case", sorted({**EXPLAINED, **LAW}))
def test_explained_cases_still_differ_from_cgtcalc(case: str) -> None:
    """Each named difference is real: cgtcalc's own figure is not taxpack's (else the note is stale)."""
    corpus("cgtcalc")
    for year, ours in {**EXPLAINED, **LAW}[case].items():
        assert EXPECTED[case][year] != ours
        assert EXPECTED[case][year].proceeds == ours.proceeds  # the same disposals: only the cost differs


def test_a_sale_is_matched_with_a_purchase_later_the_same_day() -> None:
    """The pack's rules as the engine reads them, and a sale entered before that day's purchase takes its cost."""
    corpus("cgtcalc")
    pack = load_pack(UK_PACK)
    assert [rule.rule for rule in pack.sections.lots.identification] == ["same_day", "within_after"]
    sc, _ = scenario("Simple")  # a sale and the purchase the same day, the sale first
    book = replay(pack, sc, FxTable({}, "none"))
    sale = book.sales["Simple-0"]
    assert [f.code for f in sale.findings] == ["lot_identification"]
    assert sale.cost == Decimal("10") * Decimal("4.1565") + Decimal("12.5")


def test_corpus_accounting() -> None:
    """49 cases: 41 agree with cgtcalc; the 8 others are named above, each once (a case added to the corpus or an
    explanation that no longer differs changes these counts)."""
    corpus("cgtcalc")
    named = [*EXPLAINED, *LAW, *EXPLAINED_ERRORS]
    assert len(CASES) == 49
    assert len(named) == len(set(named)) == 8
    assert set(named) <= set(CASES)
