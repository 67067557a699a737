"""US §1091 wash sales on the bundled US pack: IRS worked examples, window edges, who counts, identity.

Figures come from IRS Publication 550 ("Wash Sales", examples 1 and 2; the same example 1 is the IRS
VITA case study cited by the pack as irs-vita-wash-sale) with the dates moved into the pack's coverage;
the tacked dates follow §1223(3): the replacement's holding period includes the days the sold shares
were held, so it starts that many days before the replacement's purchase.
"""

from __future__ import annotations

import datetime as dt

from taxpack.engine.core.household import IdentityGroup, SpecificLot
from taxpack.engine.losses.lookahead import repurchase_horizon

from .helpers import D, buy, codes, day, finding, household, lot_costs, pack, recognised, run, sell

US = pack("us")


def test_pub550_example_1_loss_added_to_replacement_basis_and_holding_period_tacks():
    # Pub 550 ex. 1 / VITA case study 1: 100 shares for $1,000, sold for $750, 100 bought back within 30 days for $800.
    s = household([buy("b1", "2025-03-03", 100, 10), sell("s1", "2025-05-01", 100, "7.50"), buy("b2", "2025-05-20", 100, 8)])
    book, _ = run(US, s)
    sale = book.sales["s1"]
    assert sale.gain == D(-250)
    assert sale.disallowed == D(250)  # "you cannot deduct the loss of $250"
    assert recognised(sale) == 0
    # "adds the disallowed loss of $250 to the cost of the new stock, $800 ... basis in the new stock, which is $1,050"
    # held 59 days (3 March to 1 May): the new holding period starts 59 days before 20 May, on 22 March
    assert lot_costs(book) == [(D(100), D(1050), day("2025-03-22"))]
    f = finding(sale, "wash_sale")
    assert f.amount == D(250) and f.severity == "warning"
    assert f.facts["replacements"][0]["transaction"] == "b2"
    assert "26 U.S.C. §1091" in f.citation and f.pack == US.ref
    assert "250.00 USD disallowed" in f.message and "b2 (brk, 2025-05-20, 100 X)" in f.message


def test_pub550_example_2_partial_matching_in_order_of_acquisition():
    # Pub 550 ex. 2: 100 shares for $5,000 (24 Sep); 50 bought for $2,750 (21 Dec), 25 for $1,125 (28 Dec);
    # the 100 sold for $4,000 on 4 Jan: $750 of the $1,000 loss disallowed (75 shares), $250 deductible;
    # the 50 shares' basis becomes $3,250 ($2,750 + $500), the 25 shares' $1,375 ($1,125 + $250).
    s = household([buy("sep", "2024-09-24", 100, 50), buy("dec21", "2024-12-21", 50, 55), buy("dec28", "2024-12-28", 25, 45),
                   sell("jan4", "2025-01-04", 100, 40, lots=(SpecificLot("sep", D(100)),))])
    book, _ = run(US, s)
    sale = book.sales["jan4"]
    assert sale.gain == D(-1000) and sale.disallowed == D(750) and recognised(sale) == D(-250)
    costs = {(q, c) for q, c, _ in lot_costs(book)}
    assert costs == {(D(50), D(3250)), (D(25), D(1375))}


def _wash(buy_day: str, sale_day: str = "2025-06-15") -> D:
    s = household([buy("old", "2025-01-02", 10, 100), buy("new", buy_day, 10, 80), sell("s", sale_day, 10, 80, lots=(SpecificLot("old", D(10)),))])
    book, _ = run(US, s)
    return book.sales["s"].disallowed


def test_window_day_30_in_day_31_out_after_and_before():
    sale = dt.date(2025, 6, 15)
    iso = lambda n: (sale + dt.timedelta(days=n)).isoformat()  # noqa: E731
    assert _wash(iso(30)) == D(200)
    assert _wash(iso(31)) == 0
    assert _wash(iso(-30)) == D(200)
    assert _wash(iso(-31)) == 0
    assert _wash(iso(0)) == D(200)  # bought the same day as the loss sale


def test_spouse_purchase_counts_other_household_member_does_not():
    accounts = (("brk", "me", "taxable"), ("sp-brk", "sp", "taxable"), ("fr-brk", "friend", "taxable"))
    txs = [buy("b1", "2025-03-03", 100, 10), sell("s1", "2025-05-01", 100, 8), buy("b2", "2025-05-10", 100, 8, account="sp-brk")]
    book, _ = run(US, household(txs, accounts=accounts))
    assert book.sales["s1"].disallowed == D(200)  # Pub 550: a purchase by your spouse is a wash sale
    assert lot_costs(book, "sp-brk") == [(D(100), D(1000), day("2025-03-12"))]  # held 59 days: 10 May - 59
    txs[2] = buy("b2", "2025-05-10", 100, 8, account="fr-brk")
    book, _ = run(US, household(txs, accounts=accounts))
    assert book.sales["s1"].disallowed == 0


def test_ira_replacement_disallows_the_loss_for_good_rev_rul_2008_5():
    accounts = (("brk", "me", "taxable"), ("ira", "me", "ira"))
    txs = [buy("b1", "2025-03-03", 100, 10), sell("s1", "2025-05-01", 100, 8), buy("b2", "2025-05-10", 100, 8, account="ira")]
    book, _ = run(US, household(txs, accounts=accounts))
    sale = book.sales["s1"]
    assert sale.disallowed == D(200)
    assert lot_costs(book, "ira") == [(D(100), D(800), day("2025-05-10"))]  # no basis increase, no tacking
    f = finding(sale, "wash_sale")
    assert f.facts["loss.lost"] == D(200) and f.facts["loss.deferred"] == 0
    assert "lost for good" in f.message


def test_uncertain_wrapper_is_flagged():
    accounts = (("brk", "me", "taxable"), ("k", "me", "401k"))
    txs = [buy("b1", "2025-03-03", 100, 10), sell("s1", "2025-05-01", 100, 8), buy("b2", "2025-05-10", 100, 8, account="k")]
    book, _ = run(US, household(txs, accounts=accounts))
    f = finding(book.sales["s1"], "wash_sale")
    assert f.amount == D(200)
    assert f.caveat and "401k" in f.caveat


def test_a_gain_is_never_touched():
    txs = [buy("b1", "2025-03-03", 100, 10), sell("s1", "2025-05-01", 100, 12), buy("b2", "2025-05-10", 100, 11)]
    book, _ = run(US, household(txs))
    assert book.sales["s1"].disallowed == 0 and codes(book.sales["s1"]) == []
    assert lot_costs(book) == [(D(100), D(1100), day("2025-05-10"))]


def test_loss_slice_disallowed_while_gain_slice_of_the_same_sale_is_kept():
    # one order sells a lot at a gain and a lot at a loss: only the loss slice can be a wash sale (Pub 550)
    txs = [buy("cheap", "2025-01-02", 10, 5), buy("dear", "2025-02-03", 10, 20), sell("s", "2025-03-03", 20, 10),
           buy("again", "2025-03-10", 10, 10)]
    book, _ = run(US, household(txs))
    sale = book.sales["s"]
    assert sorted(m.gain for m in sale.matches) == [D(-100), D(50)]  # FIFO: +50 on "cheap", -100 on "dear"
    assert sale.gain == D(-50)
    assert sale.disallowed == D(100)  # the whole loss of the "dear" slice, not just the net -50
    assert recognised(sale) == D(50)  # the gain on "cheap" is recognised in full


def test_shares_bought_in_the_same_purchase_are_not_replacements():
    # 1,000 shares bought, 500 of them sold at a loss 10 days later: the other 500 are not replacement shares
    txs = [buy("b", "2025-03-03", 1000, 10), sell("s", "2025-03-13", 500, 9)]
    book, _ = run(US, household(txs))
    assert book.sales["s"].disallowed == 0


def test_a_replacement_share_absorbs_only_one_loss():
    txs = [buy("a", "2025-01-02", 10, 100), buy("b", "2025-01-03", 10, 100), sell("sa", "2025-03-03", 10, 90, lots=(SpecificLot("a", D(10)),)),
           sell("sb", "2025-03-04", 10, 90, lots=(SpecificLot("b", D(10)),)), buy("r", "2025-03-10", 10, 90)]
    book, _ = run(US, household(txs))
    assert book.sales["sa"].disallowed == D(100)
    assert book.sales["sb"].disallowed == 0  # the 10 shares of "r" already carry sa's loss
    assert lot_costs(book) == [(D(10), D(1000), day("2025-01-09"))]  # "a" held 60 days: 10 Mar - 60


def test_identity_group_matches_at_its_level_and_says_how_sure():
    groups = (IdentityGroup(id="sp500", level="substantially_identical", confidence="medium"),)
    txs = [buy("b1", "2025-03-03", 10, 100, security="VOO"), sell("s1", "2025-05-01", 10, 90, security="VOO"),
           buy("b2", "2025-05-02", 10, 90, security="IVV")]
    s = household(txs, securities=(("VOO", "sp500"), ("IVV", "sp500")), groups=groups)
    book, _ = run(US, s)
    f = finding(book.sales["s1"], "wash_sale")
    assert f.amount == D(100)
    assert f.facts["identity.confidence"] == "medium" and f.facts["replacements"][0]["identity_group"] == "sp500"
    assert "identity group 'sp500'" in f.caveat
    # without the group the two funds are different securities
    s = household(txs, securities=(("VOO", None), ("IVV", None)))
    assert run(US, s)[0].sales["s1"].disallowed == 0


def test_lookahead_says_until_when_and_where_a_repurchase_would_cost_what():
    accounts = (("brk", "me", "taxable"), ("ira", "me", "ira"), ("sp-brk", "sp", "taxable"))
    txs = [buy("b1", "2025-03-03", 100, 10), sell("s1", "2025-05-01", 100, 8)]
    book, _ = run(US, household(txs, accounts=accounts))
    rows = repurchase_horizon(US, book.ledger.scenario, book.sales["s1"])
    by = {(r["relation"], r["wrapper"]): r for r in rows}
    assert set(by) == {("self", "taxable"), ("self", "ira"), ("spouse", "taxable")}
    assert all(r["until"] == day("2025-05-31") and r["free_from"] == day("2025-06-01") for r in rows)
    assert by[("self", "taxable")]["outcome"] == "deferred" and by[("self", "taxable")]["amount"] == D(200)
    assert by[("self", "ira")]["outcome"] == "lost"
    assert by[("spouse", "taxable")]["accounts"] == ["sp-brk"]
    assert "2025-05-31" in by[("self", "ira")]["message"]
    # once the loss is fully disallowed, nothing more is at stake
    txs.append(buy("b2", "2025-05-10", 100, 8))
    book, _ = run(US, household(txs, accounts=accounts))
    assert repurchase_horizon(US, book.ledger.scenario, book.sales["s1"]) == []
