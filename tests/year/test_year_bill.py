"""The year's computation against published worked examples (and the statute's arithmetic).

Each case names where its numbers come from. [S] marks an example read in a faithful secondary copy of
the official text; [D] a case derived from the statute's rule, not a published figure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from taxpack.engine.consequences.year_bill import BasketTotals, Carried, YearBill
from taxpack.engine.core.household import Taxpayer
from taxpack.engine.law.registry import pack_set
from taxpack.engine.law.year_rules import year_rules

PACKS = pack_set()


def bill(pack_id: str, day: dt.date, amounts: dict[str, list[str]], *, carried: tuple[Carried, ...] = (), **taxpayer: object):
    pack = PACKS.get(pack_id.upper())
    assert pack is not None
    person = Taxpayer(id="p", residence=pack_id.upper(), **taxpayer)  # type: ignore[arg-type]
    totals: dict[str, BasketTotals] = {}
    for basket, values in amounts.items():
        for value in values:
            totals.setdefault(basket, BasketTotals()).add(D(value))
    billing = YearBill(pack, year_rules(pack), person, day, pack.jurisdiction or pack.id)
    return billing.compute(totals, carried)


# -- United States: §1211(b) deduction and the Capital Loss Carryover Worksheet ----------------------

def test_us_pub_544_loss_of_7000_leaves_4000_to_carry() -> None:
    """[S] IRS Pub. 544/550: a $7,000 capital loss, taxable income $2,000 after the $3,000 deduction
    (so 5,000 before it), married filing jointly: deduction $3,000, carryover $4,000."""
    result = bill("us", dt.date(2025, 6, 1), {"long": ["-7000"]}, filing_status="married_joint",
                  other_income={"US": D(5000)}, marginal_rate={"US": D("0.12")})
    assert [(c.basket, c.amount, c.year) for c in result.carry_after] == [("long", D(4000), 2025)]
    assert result.other_income_saving == D(3000) * D("0.12")
    assert result.tax == -D(360)


def test_us_pub_544_loss_of_2000_leaves_nothing() -> None:
    """[S] The same example with a $2,000 loss: all of it deducted, no carryover."""
    result = bill("us", dt.date(2025, 6, 1), {"short": ["-2000"]}, filing_status="married_joint",
                  other_income={"US": D(5000)}, marginal_rate={"US": D("0.12")})
    assert result.carry_after == ()
    assert result.other_income_saving == D(240)


def test_us_worksheet_negative_taxable_income_keeps_the_unused_deduction() -> None:
    """[D] Worksheet lines 1-8: ST loss 7,000 with taxable income of -1,000 after the deduction (2,000
    before it): only 2,000 of the 3,000 deduction is used, so 5,000 carries forward as short-term."""
    result = bill("us", dt.date(2025, 6, 1), {"short": ["-7000"]}, filing_status="single",
                  other_income={"US": D(2000)}, marginal_rate={"US": D("0.10")})
    assert [(c.basket, c.amount) for c in result.carry_after] == [("short", D(5000))]


def test_us_worksheet_short_term_loss_is_used_first() -> None:
    """[D] Worksheet lines 9-13: ST loss 1,000 and LT loss 6,000, taxable income 50,000: the deduction
    uses the 1,000 ST loss, then 2,000 of the LT loss; 4,000 LT carries forward."""
    result = bill("us", dt.date(2025, 6, 1), {"short": ["-1000"], "long": ["-6000"]}, filing_status="single",
                  other_income={"US": D(50000)}, marginal_rate={"US": D("0.22")})
    assert [(c.basket, c.amount) for c in result.carry_after] == [("long", D(4000))]


def test_us_married_separate_limit_is_1500() -> None:
    """[D] MFS: ST loss 4,000, taxable income 30,000: deduction 1,500, ST carryover 2,500."""
    result = bill("us", dt.date(2025, 6, 1), {"short": ["-4000"]}, filing_status="married_separate",
                  other_income={"US": D(30000)}, marginal_rate={"US": D("0.22")})
    assert [(c.basket, c.amount) for c in result.carry_after] == [("short", D(2500))]


def test_us_carryover_keeps_its_character_and_nets_first() -> None:
    """[D] §1212(b): a short-term carryover of 3,000 meets 5,000 of long-term gain the next year:
    net long-term gain 2,000, taxed in the 0/15/20 brackets above other income."""
    result = bill("us", dt.date(2026, 3, 1), {"long": ["5000"]}, carried=(Carried("short", D(3000), 2025),),
                  filing_status="single", other_income={"US": D(100000)}, marginal_rate={"US": D("0.24")})
    assert {b: v for b, v in result.net.items() if v} == {"long": D(2000)}
    assert result.gains_tax == D(2000) * D("0.15")
    assert result.carry_after == ()


# -- Canada: net capital losses of other years (s.111(1)(b)) ------------------------------------------

def test_ca_net_capital_loss_applied_only_against_taxable_gains() -> None:
    """[D] CRA Chart 5 rule: capital gain 8,000 (taxable 4,000); a carried loss of 20,000 (net capital
    loss 10,000 at 1/2): the gain is wiped out; 12,000 of loss (6,000 net capital loss) carries on,
    nothing against other income."""
    result = bill("ca", dt.date(2025, 6, 1), {"all": ["8000"]}, carried=(Carried("all", D(20000), 2022),),
                  marginal_rate={"CA": D("0.4341")})
    assert result.tax == 0
    assert [(c.amount, c.year) for c in result.carry_after] == [(D(12000), 2022)]


# -- Germany: loss pots and the saver's allowance (§20(6), §20(9) EStG) --------------------------------

def test_de_share_loss_does_not_offset_dividends() -> None:
    """[S] Commentary on §20(6)/§20(9) (Haufe, Frotscher/Geurts Rz 417), with the 2023+ allowance:
    dividends 2,000 and a share-sale loss of 4,000: the loss stays in the share pot (carried forward),
    the allowance of 1,000 covers half the dividends, 1,000 is taxed."""
    result = bill("de", dt.date(2025, 6, 1), {"other": ["2000"], "shares": ["-4000"]}, filing_status="single")
    assert {b: v for b, v in result.taxable.items() if v} == {"other": D(1000)}
    assert [(c.basket, c.amount) for c in result.carry_after] == [("shares", D(4000))]
    assert result.gains_tax == D(1000) * D("0.25") * D("1.055")


def test_de_general_loss_offsets_share_gains_and_the_allowance_never_makes_a_loss() -> None:
    """[S] Haufe Rz 417: interest 900 and a general-pot loss of 300: 600 left, the allowance covers it
    (only up to the income left), nothing taxed, nothing carried."""
    result = bill("de", dt.date(2025, 6, 1), {"other": ["900", "-300"]}, filing_status="single")
    assert result.tax == 0
    assert result.allowance_used == D(600)
    assert result.carry_after == ()


# -- Ireland: losses before the annual exemption (s.31, s.601) -----------------------------------------

def test_ie_losses_come_before_the_exemption() -> None:
    """[V] Revenue Note for Guidance on s.601: gains 1,270 and losses 270 in the year: net 1,000 is
    exempt and no loss is carried forward (the exemption does not shelter gross gains)."""
    result = bill("ie", dt.date(2025, 6, 1), {"all": ["1270", "-270"]})
    assert result.tax == 0
    assert result.carry_after == ()


def test_ie_gain_after_the_exemption_at_33_percent() -> None:
    """[S] A gain of 3,000 with no other gains or losses: (3,000 - 1,270) x 33% = 570.90."""
    assert bill("ie", dt.date(2025, 6, 1), {"all": ["3000"]}).tax == D("570.90")


def test_ie_brought_forward_losses_first_the_exemption_is_wasted() -> None:
    """[S] Revenue CGT guide (quoted): a gain of 2,000 and 5,000 of losses brought forward leaves 3,000
    of losses to carry; the exemption is not used to preserve losses."""
    result = bill("ie", dt.date(2025, 6, 1), {"all": ["2000"]}, carried=(Carried("all", D(5000), 2023),))
    assert result.tax == 0
    assert [(c.amount, c.year) for c in result.carry_after] == [(D(3000), 2023)]


# -- France: ten-year carry-forward (art. 150-0 D 11 CGI) -----------------------------------------------

def test_fr_loss_of_2016_is_usable_in_2026_and_one_of_2015_is_not() -> None:
    """[V] BOFiP BOI-RPPM-PVBMI-20-10-40 §1: losses offset gains of the same kind of the year and the
    10 following years."""
    kept = bill("fr", dt.date(2026, 6, 1), {"securities": ["10000"]}, carried=(Carried("securities", D(4000), 2016),))
    gone = bill("fr", dt.date(2026, 6, 1), {"securities": ["10000"]}, carried=(Carried("securities", D(4000), 2015),))
    assert kept.net == {"securities": D(6000)}
    assert gone.net == {"securities": D(10000)}
    assert [(c.amount, c.year) for c in gone.expired] == [(D(4000), 2015)]


# -- Spain: the savings base's two components and the 25% cross-offset (art. 49 LIRPF) -------------------

def test_es_negative_gains_offset_25_percent_of_capital_income() -> None:
    """[S] AEAT rule as applied in a published example: transfers net -1,000; capital income +1,000:
    25% of 1,000 = 250 is offset, 750 of income is taxed, 750 of loss carries forward 4 years."""
    result = bill("es", dt.date(2025, 6, 1), {"gains": ["2000", "-500", "-2500"], "income": ["1000"]},
                  other_income={"ES": D(0)})
    assert result.net == {"gains": D(-750), "income": D(750)}
    assert [(c.basket, c.amount) for c in result.carry_after] == [("gains", D(750))]


# -- Italy: ETF gains are capital income; ETF losses are redditi diversi (art. 44, 67, 68 TUIR) -----------

def test_it_etf_gain_absorbs_no_loss() -> None:
    """[D] AdE circ. 33/E 2011 as cited: a share loss of 5,000 carried from 2024 does not reduce an ETF
    gain of 6,000 in 2025 (capital income, taxed 26% gross); the loss stays available."""
    result = bill("it", dt.date(2025, 6, 1), {"fund_gains": ["6000"]}, carried=(Carried("diversi", D(5000), 2024),))
    assert result.gains_tax == D(6000) * D("0.26")
    assert [(c.basket, c.amount, c.year) for c in result.carry_after] == [("diversi", D(5000), 2024)]


def test_it_etf_loss_offsets_share_gains() -> None:
    """[D] An ETF loss of 3,000 (redditi diversi) against a share gain of 4,000: 1,000 taxed at 26%."""
    pack = PACKS.get("IT")
    assert pack is not None
    rules = year_rules(pack)
    assert rules.basket_for("none", "etf", (), "IE", -1) == "diversi"
    assert rules.basket_for("none", "etf", (), "IE", +1) == "fund_gains"
    result = bill("it", dt.date(2025, 6, 1), {"diversi": ["-3000", "4000"]})
    assert result.gains_tax == D(260)


@pytest.mark.parametrize("pack_id", ["us", "ca", "de", "fr", "es", "it", "ie"])
def test_every_taxing_pack_declares_its_year(pack_id: str) -> None:
    pack = PACKS.get(pack_id.upper())
    assert pack is not None and year_rules(pack).declared
