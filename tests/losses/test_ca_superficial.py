"""Canada s.54 superficial loss, on the test pack tests/losses/data/ca_superficial.yaml.

- Partial denial: CRA IT-456R para 12 ("a taxpayer having initially 50 identical properties on hand
  sells 20 items at a loss and reacquires 15 in the relevant period, thus reducing the properties on
  hand to 45, the superficial loss will be limited to the 15 properties considered to be reacquired"),
  i.e. least of (S=20, P=15, H=45) / S x loss. The prices are ours; the proportion is CRA's.
- Counting: s.54 "the period that begins 30 days before and ends 30 days after the disposition". The
  disposition day is not one of the 30 (Interpretation Act s.27(5); CRA 2021-0896031C6: sold on
  1 September, the 30th day after is 1 October, inside the period). So the period is D-30..D+30.
- Condition (b): the substituted property must still be owned at the end of the period.
- Registered plans (RRSP, TFSA) are affiliated: the loss is denied, and the ACB addition in the plan
  has no value (lost).
"""

from __future__ import annotations

import datetime as dt

import pytest

from taxpack.engine.core.household import IdentityGroup

from .helpers import D, buy, codes, finding, household, pack, pool_cost, recognised, run, sell

CA = pack("ca_superficial")
TAXABLE = "taxable accounts"


def ca(txs, **kw):
    kw.setdefault("accounts", (("brk", "me", "taxable"),))
    return household(txs, currency="CAD", residence="CA", **kw)


def test_it_456r_partial_denial_least_of_sold_acquired_held():
    txs = [buy("old", "2024-06-03", 50, 10), sell("s", "2025-03-03", 20, 8), buy("back", "2025-03-20", 15, 8)]
    book, _ = run(CA, ca(txs))
    sale = book.sales["s"]
    assert sale.gain == D(-40)  # 20 x (8 - 10)
    assert sale.disallowed == D(30)  # min(20, 15, 45) / 20 x 40
    assert recognised(sale) == D(-10)
    # ACB: 30 x 10 + 15 x 8 + 30 denied (s.53(1)(f)) = 450 for 45 shares
    assert pool_cost(book, "me", TAXABLE) == D(450)
    f = finding(sale, "superficial_loss")
    assert f.facts["loss_rule.formula"] == "min(S=20, P=15, H=45) / S = 15/20"
    assert "Income Tax Act" in f.citation


@pytest.mark.parametrize("when, denied", [
    ("2025-10-01", True),   # the 30th day after 1 September (CRA 2021-0896031C6)
    ("2025-10-02", False),  # the 31st
    ("2025-08-02", True),   # the 30th day before
    ("2025-08-01", False),  # the 31st before
    ("2025-09-01", True),   # the day of the sale itself
])
def test_period_counts_30_days_either_side_excluding_the_sale_day(when, denied):
    txs = [buy("old", "2025-01-02", 100, 10), buy("new", when, 100, 8), sell("s", "2025-09-01", 100, 8)]
    book, _ = run(CA, ca(txs))
    sale = book.sales["s"]
    assert sale.gain < 0
    assert sale.disallowed == (-sale.gain if denied else 0)


def test_not_superficial_when_nothing_is_held_at_the_end_of_the_period():
    txs = [buy("b", "2025-01-02", 100, 10), sell("s1", "2025-03-03", 100, 8), buy("back", "2025-03-10", 100, 8),
           sell("s2", "2025-03-20", 100, 7)]
    book, _ = run(CA, ca(txs))
    assert book.sales["s1"].disallowed == 0  # held at 2 April: none
    assert book.sales["s2"].disallowed == 0
    # held one more day past the end of the period: superficial
    txs[3] = sell("s2", "2025-04-03", 100, 7)
    book, _ = run(CA, ca(txs))
    assert book.sales["s1"].disallowed == D(200)


def test_spouse_is_affiliated_and_gets_the_acb_addition():
    accounts = (("brk", "me", "taxable"), ("sp-brk", "sp", "taxable"))
    txs = [buy("b", "2025-01-02", 100, 10), sell("s", "2025-03-03", 100, 8), buy("sp", "2025-03-10", 100, 8, account="sp-brk")]
    book, _ = run(CA, ca(txs, accounts=accounts))
    assert book.sales["s"].disallowed == D(200)
    assert pool_cost(book, "sp", TAXABLE) == D(1000)


def test_tfsa_purchase_denies_the_loss_for_good():
    accounts = (("brk", "me", "taxable"), ("tfsa", "me", "tfsa"))
    txs = [buy("b", "2025-01-02", 100, 10), sell("s", "2025-03-03", 100, 8), buy("t", "2025-03-10", 100, 8, account="tfsa")]
    book, _ = run(CA, ca(txs, accounts=accounts))
    assert book.sales["s"].disallowed == D(200)
    assert pool_cost(book, "me", "tfsa") == D(800)
    assert finding(book.sales["s"], "superficial_loss").facts["loss.lost"] == D(200)


def test_addition_prorated_among_holders_at_the_end_registered_share_lost():
    accounts = (("brk", "me", "taxable"), ("rrsp", "me", "rrsp"))
    txs = [buy("b", "2025-01-02", 100, 10), sell("s", "2025-03-03", 100, 8),
           buy("t1", "2025-03-10", 50, 8), buy("r1", "2025-03-11", 50, 8, account="rrsp")]
    book, _ = run(CA, ca(txs, accounts=accounts))
    sale = book.sales["s"]
    assert sale.disallowed == D(200)
    assert pool_cost(book, "me", TAXABLE) == D(400) + D(100)
    assert pool_cost(book, "me", "rrsp") == D(400)
    f = finding(sale, "superficial_loss")
    assert (f.facts["loss.deferred"], f.facts["loss.lost"]) == (D(100), D(100))


def test_identical_property_only():
    near = (IdentityGroup(id="tsx", level="substantially_identical", confidence="medium"),)
    same = (IdentityGroup(id="tsx", level="identical", confidence="high"),)
    txs = [buy("b", "2025-01-02", 100, 10, security="XIC"), sell("s", "2025-03-03", 100, 8, security="XIC"),
           buy("z", "2025-03-10", 100, 8, security="ZCN")]
    secs = (("XIC", "tsx"), ("ZCN", "tsx"))
    assert run(CA, ca(txs, securities=secs, groups=near))[0].sales["s"].disallowed == 0
    assert run(CA, ca(txs, securities=secs, groups=same))[0].sales["s"].disallowed == D(200)


def test_window_measured_on_settlement_dates_when_the_pack_says_so():
    # CRA 2012-0468931C6 measures the period from the settlement date; a pack can say `window.date: settlement`
    import attrs

    from .helpers import pack_variant

    settled = lambda tx, day: attrs.evolve(tx, settlement_date=dt.date.fromisoformat(day))  # noqa: E731
    txs = [buy("b", "2025-01-02", 100, 10), settled(sell("s", "2025-08-29", 100, 8), "2025-09-02"),
           settled(buy("r", "2025-10-01", 100, 8), "2025-10-02")]
    assert run(CA, ca(txs))[0].sales["s"].disallowed == 0  # trade dates: 29 Aug + 30 = 28 Sep, 1 Oct is out
    by_settlement = pack_variant("ca_superficial", ("      exclude_sale_day: true\n", "      exclude_sale_day: true\n      date: settlement\n"))
    assert run(by_settlement, ca(txs))[0].sales["s"].disallowed == D(200)  # 2 Sep + 30 = 2 Oct: in


def test_lookahead_names_the_end_of_the_period_and_the_held_at_end_condition():
    from taxpack.engine.losses.lookahead import repurchase_horizon

    accounts = (("brk", "me", "taxable"), ("tfsa", "me", "tfsa"), ("sp-brk", "sp", "taxable"))
    txs = [buy("b", "2025-01-02", 100, 10), sell("s", "2025-09-01", 100, 8)]
    book, _ = run(CA, ca(txs, accounts=accounts))
    rows = {(r["relation"], r["wrapper"]): r for r in repurchase_horizon(CA, book.ledger.scenario, book.sales["s"])}
    assert set(rows) == {("self", "taxable"), ("self", "tfsa"), ("spouse", "taxable")}
    assert all(r["until"] == dt.date(2025, 10, 1) and r["held_at_end"] for r in rows.values())
    assert rows[("self", "tfsa")]["outcome"] == "lost" and rows[("self", "tfsa")]["amount"] == D(200)
    assert "still held on 2025-10-01" in rows[("spouse", "taxable")]["message"]


def test_published_exercise_loss_denied_then_recovered_through_the_acb():
    # A published course exercise (coursesidekick.com/finance/536305, answer c): 500 Telus bought at $50;
    # 400 sold at $42 on 15 December and the 400 bought back at $40 on 7 January (within 30 days: superficial);
    # all 500 sold at $45 on 5 October: (500 x 45) - {(100 x 50) + (400 x 40) + [400 x (50 - 42)]} = -$1,700.
    txs = [buy("b", "2024-06-03", 500, 50), sell("dec", "2025-12-15", 400, 42), buy("jan", "2026-01-07", 400, 40),
           sell("oct", "2026-10-05", 500, 45)]
    book, _ = run(CA, ca(txs))
    assert book.sales["dec"].gain == D(-3200) and book.sales["dec"].disallowed == D(3200)
    assert book.sales["oct"].gain == D(-1700) and book.sales["oct"].disallowed == 0


def test_addition_goes_to_the_holder_at_the_end_when_the_buyer_no_longer_holds():
    # the spouse buys in the period and sells before its end; the seller still holds older units at the end:
    # least of (S=50, P=50, H=50) / 50 -> the whole loss is superficial, and the seller's remaining units carry it
    accounts = (("brk", "me", "taxable"), ("sp-brk", "sp", "taxable"))
    txs = [buy("b", "2025-01-02", 100, 10), sell("s", "2025-03-03", 50, 8), buy("sp", "2025-03-10", 50, 8, account="sp-brk"),
           sell("sp-out", "2025-03-20", 50, 8, account="sp-brk")]
    book, _ = run(CA, ca(txs, accounts=accounts))
    assert book.sales["s"].disallowed == D(100)
    assert pool_cost(book, "me", TAXABLE) == D(500) + D(100)


def test_cra_2022_0940941c6_several_affiliated_holders_share_the_loss_and_the_split_is_caveated():
    """CRA 2022-0940941C6 (APFF roundtable of 7 October 2022, Q.4), its example moved to 2025 (the bundled pack's
    coverage): all 2,000 shares sold on 15 March at a loss of 10,000; the RRSP bought 1,000 on 10 March, the spouse
    2,000 on 16 March, the seller 500 on 13 April, all held at the end of the period. Least of (S 2,000, P 3,500,
    B 3,500) / S: the whole loss is superficial. CRA prorates the addition on the substituted property held at the
    end: 1,000/3,500 to the RRSP (2,857.14, worthless there), 2,000/3,500 to the spouse (5,714.29), 500/3,500 to the
    seller (1,428.57). More than one affiliated holder bought, so the finding names the ambiguity of the split."""
    from tests.lots.packs import ca_pack

    accounts = (("brk", "me", "taxable"), ("rrsp", "me", "rrsp"), ("sp-brk", "sp", "taxable"))
    txs = [buy("old", "2024-06-03", 2000, 10), buy("plan", "2025-03-10", 1000, 5, account="rrsp"),
           sell("s", "2025-03-15", 2000, 5), buy("sp", "2025-03-16", 2000, 5, account="sp-brk"), buy("me2", "2025-04-13", 500, 5)]
    book, losses = run(ca_pack(), ca(txs, accounts=accounts))
    sale = book.sales["s"]
    assert (sale.gain, sale.disallowed) == (D(-10000), D(10000))
    shares = {p.replacement: p.amount for p in losses.outcomes["s"].pairs}
    assert {k: v.quantize(D("0.01")) for k, v in shares.items()} == {"plan": D("2857.14"), "sp": D("5714.29"), "me2": D("1428.57")}
    assert sum(shares.values(), D(0)) == D(10000)
    split = finding(sale, "superficial_loss_split")
    assert split.citation.startswith("CRA 2022-0940941C6") and split.amount == D(10000)
    assert "CRA 2022-0940941C6" in (split.caveat or "") and "its split among the holders" in (split.caveat or "")
    assert "3 affiliated holders" in split.message


def test_one_affiliated_buyer_has_no_split_caveat():
    from tests.lots.packs import ca_pack

    accounts = (("brk", "me", "taxable"), ("sp-brk", "sp", "taxable"))
    txs = [buy("b", "2025-01-02", 100, 10), sell("s", "2025-03-03", 100, 8), buy("sp", "2025-03-10", 100, 8, account="sp-brk")]
    book, _ = run(ca_pack(), ca(txs, accounts=accounts))
    assert "superficial_loss_split" not in codes(book.sales["s"])
