"""Funds and ETFs, PFICs, Italian government bonds and crypto-assets: the year baskets that price them.

Each case says where its numbers come from: [V] a statute or tax-authority text, [S] a published example
of a secondary source (a bank, a commentary), [D] derived from the statute's rule by hand (no official
worked example with numbers was found: Revenue's Part 27 manual, the BMF InvStG letter and the Form 8621
instructions describe the computation without one). Expected figures are computed here from the rule,
not copied from the engine's output."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest

from taxpack.engine.consequences.check import run_check
from taxpack.engine.consequences.fund_taxes import vorabpauschale
from taxpack.engine.core.household import Consequence, Security
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set
from taxpack.engine.law.year_rules import allocate_by_day, year_rules

PACKS = pack_set()


def check(tmp_path: Path, text: str) -> dict[str, dict[str, Consequence]]:
    """Run check on a scenario written here; per trade id, per jurisdiction, the consequence."""
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_check(load_scenario(path), PACKS)
    return {t.trade.id: {c.jurisdiction: c for c in t.consequences} for t in result.trades}


def codes(consequence: Consequence) -> set[str]:
    return {f.code for f in consequence.findings}


def cents(value: D | None) -> D:
    assert value is not None
    return value.quantize(D("0.01"))


# -- Ireland: equivalent funds at the fund rate, deemed disposal every 8 years ----------------------

IE_SALE = """
taxpack: 1
as_of: {day}
taxpayers: [{{id: sean, residence: IE}}]
accounts: [{{id: dg, owner: sean, country: IE, currency: EUR}}]
securities:
  - {{id: FUND, currency: EUR, country: {country}, kind: etf, fund_kind: equity}}
  - {{id: CRH, currency: EUR, country: IE, kind: share}}
transactions:
  - {{id: b1, account: dg, security: FUND, date: {bought}, side: buy, quantity: 100, price: 100.00}}
  - {{id: b2, account: dg, security: CRH, date: {bought}, side: buy, quantity: 100, price: 100.00}}
trades:
  - {{id: t1, account: dg, security: FUND, date: {day}, side: sell, quantity: 100, price: {price}}}
"""


def test_ie_eu_etf_gain_of_10000_in_2026_is_taxed_3800(tmp_path: Path) -> None:
    """[S] Finance Act 2025 (fund rate 38% from 1.1.2026), ss.747B-747E TCA: no annual exemption."""
    out = check(tmp_path, IE_SALE.format(day="2026-06-01", bought="2026-01-05", country="IE", price="200.00"))
    assert out["t1"]["IE"].gain == D(10000)
    assert cents(out["t1"]["IE"].estimated_tax) == D("3800.00")  # was 2,880.90: (10,000 - 1,270) x 33%
    assert "ie_fund_exit_tax" in codes(out["t1"]["IE"])


def test_ie_eu_etf_in_2025_is_taxed_41_percent(tmp_path: Path) -> None:
    """[S] 41% for payments to 31.12.2025 (Finance Act 2014)."""
    out = check(tmp_path, IE_SALE.format(day="2025-06-02", bought="2025-01-06", country="LU", price="200.00"))
    assert cents(out["t1"]["IE"].estimated_tax) == D("4100.00")


def test_ie_us_etf_is_taxed_as_a_share_with_a_caveat(tmp_path: Path) -> None:
    """[V] Revenue manual 27.04.01: a fund outside the regime is taxed under general principles; [S] for a
    US ETF that is CGT at 33% with the annual exemption: (10,000 - 1,270) x 33% = 2,880.90."""
    out = check(tmp_path, IE_SALE.format(day="2026-06-01", bought="2026-01-05", country="US", price="200.00"))
    ie = out["t1"]["IE"]
    assert cents(ie.estimated_tax) == D("2880.90")
    finding = next(f for f in ie.findings if f.code == "ie_non_equivalent_fund")
    assert finding.severity == "warning" and "general principles" in finding.message and finding.caveat


def test_ie_fund_loss_is_not_allowable_against_a_share_gain(tmp_path: Path) -> None:
    """[S] No loss relief for funds (kildarestreet PQ; Crowe): a fund loss of 2,000 leaves a share gain
    of 3,000 taxed as if alone: (3,000 - 1,270) x 33% = 570.90."""
    text = IE_SALE.format(day="2026-06-01", bought="2026-01-05", country="IE", price="80.00") + \
        "  - {id: t2, account: dg, security: CRH, date: 2026-06-01, side: sell, quantity: 100, price: 130.00}\n"
    out = check(tmp_path, text)
    assert out["t1"]["IE"].gain == D(-2000) and out["t1"]["IE"].estimated_tax == 0
    assert cents(out["t2"]["IE"].estimated_tax) == D("570.90")


def test_ie_deemed_disposal_after_8_years_and_the_later_sale(tmp_path: Path) -> None:
    """[V] s.747E(6) TCA (Finance Act 2006 s.51): at the end of 8 years the units are deemed sold and
    reacquired at market value; [D] 1,000 units bought 1.3.2018 at 10, worth 16 on 1.3.2026: deemed gain
    6,000, tax 2,280 at 38%; sold 1.6.2026 at 17: the sale's gain runs from 16: 1,000 x 38% = 380."""
    text = """
taxpack: 1
as_of: 2026-06-01
taxpayers: [{id: sean, residence: IE}]
accounts: [{id: dg, owner: sean, country: IE, currency: EUR}]
securities: [{id: FUND, currency: EUR, country: LU, kind: fund}]
prices: [{security: FUND, date: 2026-03-01, price: 16, currency: EUR}]
transactions:
  - {id: b1, account: dg, security: FUND, date: 2018-03-01, side: buy, quantity: 1000, price: 10.00}
  - {id: b2, account: dg, security: FUND, date: 2019-06-03, side: buy, quantity: 100, price: 10.00}
trades:
  - {id: t1, account: dg, security: FUND, date: 2026-06-01, side: sell, quantity: 1000, price: 17.00}
"""
    ie = check(tmp_path, text)["t1"]["IE"]
    assert ie.gain == D(7000)
    assert cents(ie.estimated_tax) == D("380.00")
    before = next(f for f in ie.findings if f.code == "taxed_before_deemed_disposal")
    assert before.amount == D(6000) and "2026-03-01" in before.message and "2,280.00" in before.message
    # The 100 units still held are next deemed sold on 3.6.2027: at today's price 17, gain 700, tax 266.
    upcoming = next(f for f in ie.findings if f.code == "deemed_disposal")
    assert "2027-06-03" in upcoming.message and upcoming.amount == D(700) * D("0.38")


def test_ie_deemed_disposal_without_a_price_is_named(tmp_path: Path) -> None:
    text = """
taxpack: 1
as_of: 2026-06-01
taxpayers: [{id: sean, residence: IE}]
accounts: [{id: dg, owner: sean, country: IE, currency: EUR}]
securities: [{id: FUND, currency: EUR, country: LU, kind: fund}]
transactions:
  - {id: b1, account: dg, security: FUND, date: 2018-03-01, side: buy, quantity: 1000, price: 10.00}
trades:
  - {id: t1, account: dg, security: FUND, date: 2026-06-01, side: sell, quantity: 1000, price: 17.00}
"""
    ie = check(tmp_path, text)["t1"]["IE"]
    assert cents(ie.estimated_tax) == D("2660.00")  # the whole 7,000 at 38%: the larger gain, said so
    finding = next(f for f in ie.findings if f.code == "taxed_before_deemed_disposal")
    assert finding.severity == "warning" and "2026-03-01" in (finding.caveat or "")


# -- Germany: partial exemption by fund kind, Vorabpauschale, Altbestand ------------------------------

DE_SALE = """
taxpack: 1
as_of: 2026-06-01
taxpayers: [{{id: anna, residence: DE, filing_status: single}}]
accounts: [{{id: depot, owner: anna, country: DE, currency: EUR}}]
securities:
  - {{id: FUND, currency: EUR, country: IE, kind: etf{fund_kind}}}
  - {{id: SAP, currency: EUR, country: DE, kind: share}}
transactions:
  - {{id: b1, account: depot, security: FUND, date: 2026-01-05, side: buy, quantity: 100, price: 100.00}}
  - {{id: b2, account: depot, security: SAP, date: {share_bought}, side: buy, quantity: 100, price: 100.00}}
trades:
  - {{id: t1, account: depot, security: FUND, date: 2026-06-01, side: sell, quantity: 100, price: {price}}}
"""


@pytest.mark.parametrize(("fund_kind", "tax"), [
    ("equity", "1582.50"),  # (10,000 x 70% - 1,000) x 26.375%
    ("mixed", "1978.125"),  # (10,000 x 85% - 1,000) x 26.375%
    ("real_estate", "791.25"),  # (10,000 x 40% - 1,000) x 26.375%
    ("foreign_real_estate", "263.75"),  # (10,000 x 20% - 1,000) x 26.375%
    (None, "2373.75"),  # no fund kind given: no partial exemption, with a warning
])
def test_de_partial_exemption_by_fund_kind(tmp_path: Path, fund_kind: str | None, tax: str) -> None:
    """[V] §20(1)-(3) InvStG: 30%, 15%, 60%, 80% of a fund's gain exempt; §32d(1) EStG 25% and §4 SolZG
    5.5%; §20(9) EStG EUR 1,000 allowance. A 10,000 EUR equity-ETF gain was 2,373.75 before."""
    kind = f", fund_kind: {fund_kind}" if fund_kind else ""
    de = check(tmp_path, DE_SALE.format(fund_kind=kind, share_bought="2026-01-05", price="200.00"))["t1"]["DE"]
    assert de.estimated_tax == D(tax)
    assert ("partial_exemption_not_applied" in codes(de)) == (fund_kind is None)


def test_de_equity_fund_loss_counts_70_percent_against_a_share_gain(tmp_path: Path) -> None:
    """[D] research DE-LOSS-4 (rule direction [S]): an equity-ETF loss of 2,000 counts 1,400 (§21 InvStG:
    the partial exemption reduces losses too) and, as a general-pot loss, offsets a share gain of 2,500:
    1,100 - 1,000 allowance = 100 taxed, 26.375."""
    text = DE_SALE.format(fund_kind=", fund_kind: equity", share_bought="2026-01-05", price="80.00") + \
        "  - {id: t2, account: depot, security: SAP, date: 2026-06-01, side: sell, quantity: 100, price: 125.00}\n"
    out = check(tmp_path, text)
    assert out["t1"]["DE"].estimated_tax == 0
    assert cents(out["t2"]["DE"].estimated_tax) == D("26.38")  # 26.375 rounded half-even to the cent


def test_de_shares_bought_before_2009_are_exempt(tmp_path: Path) -> None:
    """[S] §52(28) EStG: shares bought before 1.1.2009 (Altbestand) stay outside the flat tax."""
    text = DE_SALE.format(fund_kind=", fund_kind: equity", share_bought="2008-12-30", price="100.00") + \
        "  - {id: t2, account: depot, security: SAP, date: 2026-06-01, side: sell, quantity: 100, price: 300.00}\n"
    de = check(tmp_path, text)["t2"]["DE"]
    assert de.gain == D(20000) and de.estimated_tax == 0


def test_de_fund_units_before_2018_carry_the_transition_caveat(tmp_path: Path) -> None:
    """[S] §56 InvStG (BVL example: bought 30.11.2008 for 1,000, 1,800 on 31.12.2017, sold for 2,000: 800
    tax-free, 200 taxable): not computed, said in a warning with its caveat."""
    text = DE_SALE.replace("date: 2026-01-05, side: buy, quantity: 100, price: 100.00}}\n  - {{id: b2",
                           "date: 2008-11-30, side: buy, quantity: 100, price: 100.00}}\n  - {{id: b2")
    de = check(tmp_path, text.format(fund_kind=", fund_kind: equity", share_bought="2026-01-05", price="200.00"))["t1"]["DE"]
    finding = next(f for f in de.findings if f.code == "fund_transition_2018")
    assert finding.severity == "warning" and "100,000" in finding.message and finding.caveat


def test_vorabpauschale_of_the_consorsbank_example() -> None:
    """[S] Consorsbank's worked example of §18 InvStG: price 180 at the start of the year, 220 at its end,
    distribution 0.10, Basiszins 1%: base return 1.26, Vorabpauschale 1.16 for a full year and, for units
    bought in December, 1/12 of it: 0.0967 (0.10 rounded)."""
    assert vorabpauschale(D(180), D(220), D("0.01"), D("0.7"), D("0.10"), 12) == D("1.16")
    assert vorabpauschale(D(180), D(220), D("0.01"), D("0.7"), D("0.10"), 1).quantize(D("0.01")) == D("0.10")


def test_vorabpauschale_is_capped_by_the_year_increase_and_never_negative() -> None:
    """[V] §18(1) sentence 3 InvStG; [D] research DE-VP-3: a price falling from 100 to 95 gives nothing;
    DE-VP-4: 2026, 100 x 3.20% x 70% = 2.24 when the price rises by at least that."""
    assert vorabpauschale(D(100), D(95), D("0.0253"), D("0.7"), D(0), 12) == 0
    assert vorabpauschale(D(100), D(101), D("0.0320"), D("0.7"), D(0), 12) == D(1)
    assert vorabpauschale(D(100), D(103), D("0.0320"), D("0.7"), D(0), 12) == D("2.24")


def test_de_vorabpauschalen_taxed_reduce_the_sale_gain(tmp_path: Path) -> None:
    """[V] §18, §19(1) InvStG; [D] research DE-VP-2: units bought in May 2025, price 100 at the start of
    2025 and 110 at its end: 100 x 2.53% x 70% x 8/12 = 1.18067 a unit (11.81 for 10 units), 1,180.67 for
    1,000 units, deducted in full from the 2026 sale's gain before the 30% exemption and the allowance."""
    text = """
taxpack: 1
as_of: 2026-06-01
taxpayers: [{id: anna, residence: DE, filing_status: single}]
accounts: [{id: depot, owner: anna, country: DE, currency: EUR}]
securities: [{id: EUNL, currency: EUR, country: IE, kind: etf, fund_kind: equity}]
prices:
  - {security: EUNL, date: 2024-12-31, price: 100, currency: EUR}
  - {security: EUNL, date: 2025-12-31, price: 110, currency: EUR}
transactions:
  - {id: b1, account: depot, security: EUNL, date: 2025-05-12, side: buy, quantity: 1000, price: 100.00}
trades:
  - {id: t1, account: depot, security: EUNL, date: 2026-06-01, side: sell, quantity: 1000, price: 120.00}
"""
    de = check(tmp_path, text)["t1"]["DE"]
    reduction = D(100) * D("0.0253") * D("0.7") * 8 / 12 * 1000
    assert de.gain == D(20000)
    assert cents(de.estimated_tax) == cents(((D(20000) - reduction) * D("0.7") - 1000) * D("0.26375"))
    finding = next(f for f in de.findings if f.code == "taxed_before_vorabpauschale")
    assert cents(finding.amount) == D("1180.67") and "8/12" in finding.message


def test_de_vorabpauschale_without_year_end_prices_is_a_warning(tmp_path: Path) -> None:
    text = DE_SALE.replace("date: 2026-01-05, side: buy, quantity: 100", "date: 2025-03-03, side: buy, quantity: 100")
    de = check(tmp_path, text.format(fund_kind=", fund_kind: equity", share_bought="2026-01-05", price="200.00"))["t1"]["DE"]
    finding = next(f for f in de.findings if f.code == "taxed_before_vorabpauschale")
    assert finding.severity == "warning" and "2025-01-01" in (finding.caveat or "")
    assert cents(de.estimated_tax) == D("1582.50")  # nothing deducted: the larger gain


# -- United States: a US person's non-US fund (PFIC) --------------------------------------------------

US_PFIC = """
taxpack: 1
as_of: 2025-12-31
taxpayers:
  - {{id: pat, residence: {residence}, citizenship: [US], filing_status: single, other_income: {{US: 150000, DE: 60000}}, marginal_rate: {{US: 0.24, DE: 0.42}}}}
accounts: [{{id: depot, owner: pat, country: {residence}, currency: USD}}]
securities:
  - {{id: IWDA, currency: USD, country: IE, kind: etf, fund_kind: equity{election}}}
prices:
  - {{security: IWDA, date: 2023-12-29, price: 200, currency: USD}}
  - {{security: IWDA, date: 2024-12-31, price: 350, currency: USD}}
transactions:
  - {{id: b1, account: depot, security: IWDA, date: 2023-01-01, side: buy, quantity: 100, price: 100.00}}
trades:
  - {{id: t1, account: depot, security: IWDA, date: 2025-12-31, side: sell, quantity: 100, price: {price}}}
"""

# Underpayment rates (§6621(a)(2)) by quarter start, as the IRS published them (sources in the us pack).
RATES = {dt.date(2024, 1, 1): D("0.08"), dt.date(2025, 1, 1): D("0.07"), dt.date(2026, 4, 1): D("0.06")}


def _interest_factor(start: dt.date, end: dt.date) -> D:
    """Daily compounding (§6622), day by day: each day adds its quarter's rate over the days of its year."""
    factor = D(1)
    day = start
    while day < end:
        rate = RATES[max(k for k in RATES if k <= day)]
        factor *= 1 + rate / (366 if calendar.isleap(day.year) else 365)
        day += dt.timedelta(days=1)
    return factor


def test_us_pfic_gain_is_an_excess_distribution_spread_by_day(tmp_path: Path) -> None:
    """[V] §1291(a)(1)-(3), (c) and the Form 8621 instructions (Part V): the gain of 30,000 on an Irish
    UCITS ETF bought 1.1.2023 and sold 31.12.2025 is spread over the 1,095 days of the holding period
    (§1223: from the day after purchase): 364 days to 2023, 366 to 2024, 365 to 2025; the 2025 share is
    ordinary income (24% marginal rate), each earlier share is taxed at 37% with interest from 15 April of
    the next year to 15 April 2026. [D] no IRS numeric example exists; never a long-term capital gain rate."""
    us = check(tmp_path, US_PFIC.format(residence="US", election="", price="400.00"))["t1"]["US"]
    gain = D(30000)
    shares = {2023: gain * 364 / 1095, 2024: gain * 366 / 1095, 2025: gain * 365 / 1095}
    deferred = {y: shares[y] * D("0.37") for y in (2023, 2024)}
    interest = {y: deferred[y] * (_interest_factor(dt.date(y + 1, 4, 15), dt.date(2026, 4, 15)) - 1) for y in (2023, 2024)}
    expected = shares[2025] * D("0.24") + sum(deferred.values()) + sum(interest.values())
    assert cents(us.estimated_tax) == cents(expected)
    assert cents(us.estimated_tax) > cents(gain * D("0.15"))  # far above the long-term rate
    spread = next(f for f in us.findings if f.code == "excess_distribution")
    assert "9,972.60" in spread.message and "10,027.40" in spread.message and "10,000.00" in spread.message
    pfic = next(f for f in us.findings if f.code == "pfic")
    assert "Form 8621" in pfic.message
    assert "pfic_election_not_given" in codes(us)


def test_allocation_by_day_follows_the_holding_period() -> None:
    rules = year_rules(PACKS.get("US"))  # type: ignore[arg-type]
    shares = allocate_by_day(D(1095), dt.date(2023, 1, 1), dt.date(2025, 12, 31), rules.tax_year, rules.year_start)
    assert shares == {2023: D(364), 2024: D(366), 2025: D(365)}
    assert allocate_by_day(D(10), dt.date(2025, 3, 1), dt.date(2025, 3, 1), rules.tax_year, rules.year_start) == {2025: D(10)}


@pytest.mark.parametrize("pack", ["US", "GB"])
def test_allocation_by_day_counts_every_day_once(pack: str) -> None:
    """The allocation jumps from one tax year's end to the next; it must give each year exactly its days held,
    counted one by one (the UK year starts on 6 April), and the shares must add up to the amount."""
    import random

    rules = year_rules(PACKS.get(pack))  # type: ignore[arg-type]
    assert rules.year_start(2025) == (dt.date(2025, 4, 6) if pack == "GB" else dt.date(2025, 1, 1))
    rng = random.Random(22)
    for _ in range(200):
        acquired = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3000))
        sold = acquired + dt.timedelta(days=rng.choice([0, 1, rng.randrange(2, 2500)]))
        first = acquired + dt.timedelta(days=1) if sold > acquired else sold
        held: dict[int, int] = {}
        for n in range((sold - first).days + 1):
            year = rules.tax_year(first + dt.timedelta(days=n))
            held[year] = held.get(year, 0) + 1
        total = sum(held.values())
        shares = allocate_by_day(D(total), acquired, sold, rules.tax_year, rules.year_start)
        assert shares == {year: D(days) for year, days in held.items()}, (acquired, sold)
        assert list(shares) == sorted(shares)


def test_us_citizen_in_germany_with_an_eu_etf(tmp_path: Path) -> None:
    """The largest single error for a US citizen in the EU: the German lens taxes the equity ETF with its
    partial exemption; the US lens taxes the same gain as an excess distribution (not 15%), crediting the
    German tax up to its own tax - the interest charge is not a tax and no credit reduces it."""
    out = check(tmp_path, US_PFIC.format(residence="DE", election="", price="400.00"))["t1"]
    us, de = out["US"], out["DE"]
    assert "excess_distribution" in codes(us) and "pfic" in codes(us)
    assert us.estimated_tax is not None and us.net_tax is not None and de.estimated_tax is not None
    assert us.foreign_tax_credit and us.foreign_tax_credit > 0
    assert us.net_tax > 0  # the interest charge stays whatever Germany took
    assert us.estimated_tax > D(30000) * D("0.24")


def test_us_pfic_with_a_qef_election_is_a_long_term_gain(tmp_path: Path) -> None:
    """[S] §1293, §1295: with a QEF election the sale gives capital gain: 30,000 long-term, stacked on
    150,000 of income (single, 2025): 15% = 4,500."""
    us = check(tmp_path, US_PFIC.format(residence="US", election=", pfic_election: qef", price="400.00"))["t1"]["US"]
    assert cents(us.estimated_tax) == D("4500.00")
    assert {"pfic_qef"} <= codes(us) and "excess_distribution" not in codes(us)


def test_us_pfic_marked_to_market_is_ordinary_over_the_last_year_end(tmp_path: Path) -> None:
    """[S] §1296: values 200 at the end of 2023 and 350 at the end of 2024 were ordinary income then
    (25,000 in all); the 2025 sale at 400 adds 5,000 of ordinary income at the 24% marginal rate = 1,200."""
    us = check(tmp_path, US_PFIC.format(residence="US", election=", pfic_election: mark_to_market", price="400.00"))["t1"]["US"]
    assert cents(us.estimated_tax) == D("1200.00")
    finding = next(f for f in us.findings if f.code == "taxed_before_mark_to_market")
    assert finding.amount == D(25000)


def test_us_pfic_marked_to_market_loss_is_ordinary_down_to_the_inclusions(tmp_path: Path) -> None:
    """[S] §1296(c)(1): sold at 80 after inclusions of 25,000 (basis 35,000): the loss of 27,000 over the
    marked basis is ordinary down to the 25,000 of inclusions (saving 24% = 6,000); the 2,000 below the
    original cost is a capital loss, deducted from other income ($3,000 limit) at 24% = 480."""
    us = check(tmp_path, US_PFIC.format(residence="US", election=", pfic_election: mark_to_market", price="80.00"))["t1"]["US"]
    assert cents(us.estimated_tax) == D("-6480.00")


# -- Italy: white-list government bonds at 12.5%, crypto-assets at 33% from 2026 ---------------------

IT_SALE = """
taxpack: 1
as_of: {day}
taxpayers: [{{id: gio, residence: IT}}]
accounts: [{{id: bk, owner: gio, country: IT, currency: EUR}}]
securities:
  - {{id: BTP, currency: EUR, country: IT, kind: bond, tags: [government]}}
  - {{id: BTC, currency: EUR, country: IT, kind: crypto}}
  - {{id: ENI, currency: EUR, country: IT, kind: share}}
transactions:
  - {{id: b1, account: bk, security: BTP, date: 2024-01-05, side: buy, quantity: 100, price: 100.00}}
  - {{id: b2, account: bk, security: BTC, date: 2024-01-05, side: buy, quantity: 1, price: 10000.00}}
  - {{id: b3, account: bk, security: ENI, date: 2024-01-05, side: buy, quantity: 100, price: 10.00}}
trades:
"""


def test_it_btp_gain_is_taxed_12_5_percent(tmp_path: Path) -> None:
    """[S] art. 5 D.Lgs. 461/1997 mechanism (Eutekne) with the 48.08% weight of the 26% regime: a BTP gain of
    1,000 counts 480.80, taxed 26% = 125.01 (research IT-WL-1), i.e. 12.5%; the weight is marked uncertain."""
    text = IT_SALE.format(day="2025-06-02") + "  - {id: t1, account: bk, security: BTP, date: 2025-06-02, side: sell, quantity: 100, price: 110.00}\n"
    it = check(tmp_path, text)["t1"]["IT"]
    assert cents(it.estimated_tax) == D("125.01")
    assert "government_bond_rate" in codes(it) and "estimate_uncertain" in codes(it)


def test_it_btp_loss_counts_48_08_percent_against_a_share_gain(tmp_path: Path) -> None:
    """[M] research: the weighting applies to losses too: a BTP loss of 1,000 counts 480.80 against a share
    gain of 1,000: 519.20 x 26% = 134.99."""
    text = IT_SALE.format(day="2025-06-02") + \
        "  - {id: t1, account: bk, security: BTP, date: 2025-06-02, side: sell, quantity: 100, price: 90.00}\n" + \
        "  - {id: t2, account: bk, security: ENI, date: 2025-06-02, side: sell, quantity: 100, price: 20.00}\n"
    out = check(tmp_path, text)
    assert cents(out["t2"]["IT"].estimated_tax) == D("134.99")


@pytest.mark.parametrize(("day", "tax"), [("2026-06-01", "990.00"), ("2025-06-02", "780.00")])
def test_it_crypto_33_percent_from_2026(tmp_path: Path, day: str, tax: str) -> None:
    """[S] L. 207/2024 art. 1 c.23-25: crypto gains 26%, 33% from 1.1.2026: 3,000 -> 990 (780 in 2025)."""
    text = IT_SALE.format(day=day) + f"  - {{id: t1, account: bk, security: BTC, date: {day}, side: sell, quantity: 1, price: 13000.00}}\n"
    it = check(tmp_path, text)["t1"]["IT"]
    assert cents(it.estimated_tax) == D(tax)
    assert "crypto_rate" in codes(it)


# -- the matchers ------------------------------------------------------------------------------------

def test_basket_matchers_read_fund_kind_election_domicile_and_acquisition_date() -> None:
    de, us = year_rules(PACKS.get("DE")), year_rules(PACKS.get("US"))  # type: ignore[arg-type]
    etf = Security("X", "EUR", "IE", "etf", fund_kind="mixed")
    assert de.basket_for("none", etf.kind, (), etf.country, 1, dt.date(2025, 1, 1), dt.date(2026, 1, 1), fund_kind="mixed") == "mixed_funds"
    assert de.basket_for("none", "etf", (), "IE", 1, dt.date(2025, 1, 1), dt.date(2026, 1, 1)) == "other_funds"
    assert de.basket_for("none", "share", (), "DE", 1, dt.date(2008, 12, 31), dt.date(2026, 1, 1)) == "shares_before_2009"
    assert de.basket_for("none", "share", (), "DE", 1, dt.date(2009, 1, 1), dt.date(2026, 1, 1)) == "shares"
    assert us.basket_for("long", "etf", (), "IE", 1, election=None) == "pfic"
    assert us.basket_for("long", "etf", (), "IE", -1, election=None) == "long"  # a §1291 loss is a capital loss
    assert us.basket_for("long", "etf", (), "US", 1) == "long"  # a US fund is no PFIC
    assert us.basket_for("long", "etf", (), "IE", -1, election="mark_to_market") == "pfic_mtm"
    assert us.basket_for("long", "etf", (), "IE", -1, election="mark_to_market", annual=False) == "long"
    assert us.basket_for("short", "etf", (), "IE", 1, election="qef") == "short"
