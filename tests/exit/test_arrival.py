"""The cost on arrival: Canada's step-up on immigration, the US treaty election, and none elsewhere.

- Canada, ITA s.128.1(1)(b)-(c): a person becoming resident is deemed to have disposed of and
  reacquired each property (not taxable Canadian property) at its fair market value. Worked example
  (Tax and Tax Planning, 2.19, after s.128.1(1)(c)): bought for $10,000, worth $100,000 on the day of
  arrival, sold later for $120,000: the Canadian gain is $20,000, taxable $10,000.
- US-Canada treaty Art. XIII(7): a person Canada taxed on its deemed disposition at departure may
  elect a US basis equal to the fair market value then; property Canada did not tax (a TFSA) keeps
  its cost, and so does property of a person leaving any other country (IRC §1012).
- Germany §17(2) s.3 EStG: shares of at least 1% a departure state exit-taxed take that value.
- Netherlands: a substantial interest (at least 5%) takes its market value on immigration.
"""

from __future__ import annotations

from .helpers import D, arrival_cost, holding, prices, run, write_scenario


def test_canada_immigration_step_up(tmp_path):
    person = {"id": "dal", "residence": "IT", "citizenship": ["IT"], "marginal_rate": {"CA": 0.3}}
    accounts = [{"id": "acct", "owner": "dal", "country": "IT", "currency": "EUR", "wrapper": "taxable"}]
    securities = [{"id": "INDCO", "currency": "CAD", "country": "CA", "kind": "share"}]
    path = write_scenario(tmp_path, taxpayer=person, accounts=accounts, securities=securities,
                          buys=[("b1", "acct", "INDCO", "2017-06-01", "1@10000")])
    result = run(path, "dal", "2026-07-01", "CA", prices("2026-06-30", INDCO="100000 CAD"), compare=True)
    cost = arrival_cost(result, "INDCO")
    assert (cost.historical_cost, cost.arrival_cost, cost.rule) == (D(10000), D(100000), "step_up")
    # Sold later for 120,000: the Canadian gain is 20,000, one half of it taxable.
    assert D(120000) - cost.arrival_cost == D(20000)
    # Italy has no exit tax; selling before the move is taxed in Italy (26%), after it by neither.
    row = result.compare[0]
    assert row.after_exit == 0 and row.destination_gain == 0 and row.after_destination == 0
    gain_eur = holding(result, "INDCO").holding.gain
    assert gain_eur > 0 and row.before == gain_eur * D("0.26")
    assert row.difference == -row.before


RATES = "date,currency,quote,rate\n2020-03-02,CAD,USD,0.70\n2021-01-04,CAD,USD,0.78\n2026-06-30,CAD,USD,0.75\n"


def _canadian(tmp_path, residence="CA"):
    person = {"id": "ann", "residence": residence, "citizenship": ["CA"], "resident_since": "2010-01-04",
              "marginal_rate": {"CA": 0.5, "DE": 0.42}, "filing_status": "single", "other_income": {"US": 0}}
    accounts = [{"id": "cash", "owner": "ann", "country": "CA", "currency": "CAD", "wrapper": "taxable"},
                {"id": "tfsa", "owner": "ann", "country": "CA", "currency": "CAD", "wrapper": "tfsa"}]
    securities = [{"id": "ACME", "currency": "CAD", "country": "CA", "kind": "share"},
                  {"id": "XIC", "currency": "CAD", "country": "CA", "kind": "etf"}]
    buys = [("b1", "cash", "ACME", "2020-03-02", "100@100"), ("b2", "tfsa", "XIC", "2021-01-04", "100@50")]
    return write_scenario(tmp_path, taxpayer=person, accounts=accounts, securities=securities, buys=buys, fx_rates=RATES)


def test_us_treaty_election_for_property_canada_taxed(tmp_path):
    result = run(_canadian(tmp_path), "ann", "2026-07-01", "US", prices("2026-06-30", ACME="400 CAD", XIC="60 CAD"))
    acme = arrival_cost(result, "ACME")
    # Canada taxed ACME at departure: the US basis may be its value then, 40,000 CAD x 0.75 = 30,000 USD,
    # instead of its cost, 10,000 CAD x 0.70 = 7,000 USD.
    assert (acme.historical_cost, acme.arrival_cost, acme.rule, acme.elective) == (D(7000), D(30000), "election", True)
    # The TFSA was outside the deemed disposition: no election, the cost stays (100 x 50 x 0.78).
    xic = arrival_cost(result, "XIC")
    assert (xic.arrival_cost, xic.rule) == (D(3900), "historical")


def test_no_us_election_when_leaving_another_country(tmp_path):
    person = {"id": "eva", "residence": "DE", "citizenship": ["DE"], "resident_since": "2010-01-04"}
    accounts = [{"id": "depot", "owner": "eva", "country": "DE", "currency": "EUR", "wrapper": "taxable"}]
    securities = [{"id": "SAP", "currency": "EUR", "country": "DE", "kind": "share"}]
    rates = "date,currency,quote,rate\n2020-03-02,EUR,USD,1.10\n2026-06-30,EUR,USD,1.20\n"
    path = write_scenario(tmp_path, taxpayer=person, accounts=accounts, securities=securities,
                          buys=[("b1", "depot", "SAP", "2020-03-02", "100@100")], fx_rates=rates)
    result = run(path, "eva", "2026-07-01", "US", prices("2026-06-30", SAP="200 EUR"), stakes={"SAP": D("0.02")})
    assert holding(result, "SAP").status == "deemed_sold"  # Germany taxes the 2% holding...
    sap = arrival_cost(result, "SAP")
    assert (sap.arrival_cost, sap.rule) == (D(11000), "historical")  # ...but the US election is for Canada only


def test_leaving_canada_for_germany_compare_sell_before_or_after(tmp_path):
    result = run(_canadian(tmp_path), "ann", "2026-07-01", "DE", prices("2026-06-30", ACME="400 CAD", XIC="60 CAD"),
                 compare=True)
    acme = arrival_cost(result, "ACME")
    assert acme.rule == "historical"  # Germany: no step-up for a portfolio holding
    row = next(r for r in result.compare if r.outcome.holding.security == "ACME")
    # Canada taxes the gain either way (a sale, or the deemed disposition): 30,000 x 1/2 x 0.5.
    assert row.before == row.after_exit == D(7500)
    # After the move Germany taxes the whole historical gain again: the difference is that German tax.
    assert row.destination_gain > 0 and row.after_destination > 0
    assert abs(row.difference - row.after_destination) < D("0.000001")  # equal but for the 28th digit of the sum


def test_germany_takes_the_exit_value_of_a_one_percent_share(tmp_path):
    person = {"id": "eva", "residence": "FR", "citizenship": ["FR"], "resident_since": "2010-01-04"}
    accounts = [{"id": "depot", "owner": "eva", "country": "FR", "currency": "EUR", "wrapper": "taxable"}]
    securities = [{"id": "FAM", "currency": "EUR", "country": "FR", "kind": "share"},
                  {"id": "AIR", "currency": "EUR", "country": "FR", "kind": "share"}]
    path = write_scenario(tmp_path, taxpayer=person, accounts=accounts, securities=securities,
                          buys=[("b1", "depot", "FAM", "2015-03-02", "100@100"), ("b2", "depot", "AIR", "2015-03-02", "10@100")])
    result = run(path, "eva", "2026-07-01", "DE", prices("2026-06-30", FAM="300 EUR", AIR="150 EUR"), stakes={"FAM": D("0.6")})
    assert holding(result, "FAM").status == "deemed_sold"  # a 60% holding: caught below EUR 800,000
    fam, air = arrival_cost(result, "FAM"), arrival_cost(result, "AIR")
    assert (fam.arrival_cost, fam.rule, fam.elective) == (D(30000), "exit_value", False)
    assert (air.arrival_cost, air.rule) == (D(1000), "historical")


def test_netherlands_step_up_for_a_substantial_interest_only(tmp_path):
    person = {"id": "eva", "residence": "DE", "citizenship": ["DE"], "resident_since": "2020-01-06"}
    accounts = [{"id": "depot", "owner": "eva", "country": "DE", "currency": "EUR", "wrapper": "taxable"}]
    securities = [{"id": "BV", "currency": "EUR", "country": "DE", "kind": "share"},
                  {"id": "ASML", "currency": "EUR", "country": "NL", "kind": "share"}]
    path = write_scenario(tmp_path, taxpayer=person, accounts=accounts, securities=securities,
                          buys=[("b1", "depot", "BV", "2020-03-02", "100@100"), ("b2", "depot", "ASML", "2020-03-02", "10@100")])
    result = run(path, "eva", "2026-07-01", "NL", prices("2026-06-30", BV="300 EUR", ASML="600 EUR"), stakes={"BV": D("0.05")})
    bv, asml = arrival_cost(result, "BV"), arrival_cost(result, "ASML")
    assert (bv.arrival_cost, bv.rule) == (D(30000), "step_up")
    assert (asml.arrival_cost, asml.rule) == (D(1000), "historical")
