"""United States, IRC §877A: a covered expatriate's property is deemed sold the day before expatriation.

The exclusion is spread over the gain assets in proportion to their gains (Notice 2009-85, section
3.B, Example: exclusion $626,000 for 2009; asset X gain $1,800,000, asset Y $200,000, asset Z loss
$300,000: X is relieved by $563,400 and Y by $62,600). Covered-expatriate tests from §877(a)(2) and
§877A(g)(1): net worth $2,000,000 or more, average net income tax above the indexed amount, or no
certification of 5 years of compliance. A citizen is an expatriate only on relinquishing citizenship.
"""

from __future__ import annotations

from taxpack.engine.residency.departure import allocate_exclusion

from .helpers import D, holding, prices, run, write_scenario

TAXPAYER = {"id": "sam", "residence": "US", "citizenship": ["US"], "filing_status": "single", "other_income": {"US": 0}}
ACCOUNTS = [{"id": "brokerage", "owner": "sam", "country": "US", "currency": "USD", "wrapper": "taxable"},
            {"id": "ira", "owner": "sam", "country": "US", "currency": "USD", "wrapper": "ira"}]
SECURITIES = [{"id": X, "currency": "USD", "country": "US", "kind": "share"} for X in ("X", "Y", "Z", "VTI")]
BUYS = [("bx", "brokerage", "X", "2020-03-02", "1000@200"), ("by", "brokerage", "Y", "2020-03-02", "1000@800"),
        ("bz", "brokerage", "Z", "2020-03-02", "1000@800"), ("bi", "ira", "VTI", "2020-03-02", "100@100")]
PRICES = prices("2026-06-30", X="2000 USD", Y="1000 USD", Z="500 USD", VTI="300 USD")


def scenario(tmp_path, taxpayer=TAXPAYER):
    return write_scenario(tmp_path, taxpayer=taxpayer, accounts=ACCOUNTS, securities=SECURITIES, buys=BUYS)


def test_notice_2009_85_example_exclusion_allocation():
    assert allocate_exclusion([D(1800000), D(200000)], D(626000)) == [D(563400), D(62600)]
    # Gains below the exclusion are relieved in full, never more.
    assert allocate_exclusion([D(100000), D(50000)], D(626000)) == [D(100000), D(50000)]


def test_mark_to_market_with_the_2026_exclusion(tmp_path):
    result = run(scenario(tmp_path), "sam", "2026-07-01", "PT", PRICES, renounce=True, net_worth=D(3600000))
    dep = result.departure
    assert dep.applies and dep.valuation_date.isoformat() == "2026-06-30"  # the day before expatriation
    # Built-in gains: X 1,800,000, Y 200,000, Z (300,000). Exclusion for 2026: $910,000 (Rev. Proc. 2025-32),
    # spread 9:1 over X and Y as in Notice 2009-85: X 819,000, Y 91,000.
    x, y, z = holding(result, "X"), holding(result, "Y"), holding(result, "Z")
    assert (x.exclusion, y.exclusion, z.exclusion) == (D(819000), D(91000), D(0))
    assert (x.taxable_gain, y.taxable_gain, z.taxable_gain) == (D(981000), D(109000), D(-300000))
    # The IRA is a specified tax-deferred account: treated as distributed, not marked to market.
    ira = holding(result, "VTI")
    assert ira.status == "excluded" and "specified tax-deferred account" in ira.reason
    # Net long-term gain 790,000 (losses count), single, no other income, 2026 brackets (Rev. Proc. 2025-32):
    # 0% to 49,450, 15% to 545,500, 20% above: 496,050 x 0.15 + 244,500 x 0.20 = 123,307.50;
    # NIIT (§1411) 3.8% of the excess over $200,000: 590,000 x 0.038 = 22,420.
    assert dep.tax.tax == D("123307.50") + D("22420.000")
    reporting = {r["form"]: r for r in dep.reporting}
    assert reporting["8854"]["required"] is True
    assert dep.deferral["available"] is True and dep.deferral["security"] == "required"


def test_not_covered_when_no_test_is_met(tmp_path):
    result = run(scenario(tmp_path), "sam", "2026-07-01", "PT", PRICES, renounce=True, net_worth=D(1999999),
                 average_tax=D(211000), certified=True)
    dep = result.departure
    # $1,999,999 is below $2,000,000; $211,000 is not *greater than* the 2026 amount of $211,000; certified.
    assert not dep.applies and "not a covered expatriate" in dep.reason
    assert not dep.deemed()


def test_net_worth_exactly_two_million_is_covered(tmp_path):
    result = run(scenario(tmp_path), "sam", "2026-07-01", "PT", PRICES, renounce=True, net_worth=D(2000000),
                 average_tax=D(0), certified=True)
    assert result.departure.applies


def test_no_certification_alone_makes_a_covered_expatriate(tmp_path):
    result = run(scenario(tmp_path), "sam", "2026-07-01", "PT", PRICES, renounce=True, net_worth=D(100), average_tax=D(0),
                 certified=False)
    assert result.departure.applies


def test_holdings_alone_meet_the_net_worth_test(tmp_path):
    # Without --net-worth, the holdings (3,530,000 here) are a lower bound of net worth: enough to meet the test.
    result = run(scenario(tmp_path), "sam", "2026-07-01", "PT", PRICES, renounce=True)
    test = next(t for t in result.departure.tests if t.name == "net worth")
    assert test.held is True and result.departure.applies


def test_undetermined_status_is_said(tmp_path):
    low = prices("2026-06-30", X="300 USD", Y="900 USD", Z="500 USD", VTI="300 USD")
    result = run(scenario(tmp_path), "sam", "2026-07-01", "PT", low, renounce=True)
    assert result.departure.applies
    assert any("undetermined" in a for a in result.departure.assumptions)


def test_a_citizen_who_keeps_citizenship_is_not_an_expatriate(tmp_path):
    result = run(scenario(tmp_path), "sam", "2026-07-01", "PT", PRICES, net_worth=D(3600000))
    assert not result.departure.applies and "stays one" in result.departure.reason


def test_long_term_resident_ending_residence(tmp_path):
    lpr = {**TAXPAYER, "citizenship": ["CA"], "resident_since": "2010-01-04"}
    result = run(scenario(tmp_path, lpr), "sam", "2026-07-01", "PT", PRICES, net_worth=D(3600000))
    assert result.departure.applies
    short = {**TAXPAYER, "citizenship": ["CA"], "resident_since": "2020-01-06"}  # 6.5 of the last 15 years
    result = run(scenario(tmp_path, short), "sam", "2026-07-01", "PT", PRICES, net_worth=D(3600000))
    assert not result.departure.applies and "long-term resident" in result.departure.reason
