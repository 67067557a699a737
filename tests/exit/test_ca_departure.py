"""Canada, ITA s.128.1(4): an emigrant is deemed to sell every property at fair market value.

Derived step by step from the cited text (pack ca, sources ita-128-1-4, ita-38, ita-128-1-9,
ita-220-4-5): gain = FMV - ACB (s.128.1(4)(b)); taxable capital gain = 1/2 of it (s.38(a)); registered
plans are excluded rights (s.128.1(10)); T1161 is due when reportable property is worth more than
$25,000 (s.128.1(9)); T1244 security when the tax deferred is above the threshold (s.220(4.5)-(4.51));
short-term residents (60 months or less in the 10 years before) keep property owned on arrival out.
"""

from __future__ import annotations

from .helpers import D, holding, prices, run, write_scenario

CA_TAXPAYER = {"id": "ann", "residence": "CA", "citizenship": ["CA"], "resident_since": "2010-01-01",
               "marginal_rate": {"CA": 0.5}, "filing_status": "single", "other_income": {"US": 0}}
ACCOUNTS = [{"id": "cash", "owner": "ann", "country": "CA", "currency": "CAD", "wrapper": "taxable"},
            {"id": "tfsa", "owner": "ann", "country": "CA", "currency": "CAD", "wrapper": "tfsa"},
            {"id": "rrsp", "owner": "ann", "country": "CA", "currency": "CAD", "wrapper": "rrsp"}]
SECURITIES = [{"id": "ACME", "currency": "CAD", "country": "CA", "kind": "share"},
              {"id": "XIC", "currency": "CAD", "country": "CA", "kind": "etf"}]


def scenario(tmp_path, taxpayer=CA_TAXPAYER, buys=None):
    buys = buys or [("b1", "cash", "ACME", "2020-03-02", "100@100"), ("b2", "tfsa", "XIC", "2021-01-04", "100@50"),
                    ("b3", "rrsp", "XIC", "2021-01-04", "200@50")]
    return write_scenario(tmp_path, taxpayer=taxpayer, accounts=ACCOUNTS, securities=SECURITIES, buys=buys)


def test_deemed_disposition_at_fmv_registered_plans_excluded(tmp_path):
    result = run(scenario(tmp_path), "ann", "2026-07-01", "PT", prices("2026-06-30", ACME="400 CAD", XIC="60 CAD"))
    dep = result.departure
    assert dep.applies
    acme = holding(result, "ACME")
    # FMV 100 x 400 = 40,000; ACB 100 x 100 = 10,000; deemed gain 30,000.
    assert (acme.status, acme.holding.fmv, acme.holding.cost, acme.holding.gain) == ("deemed_sold", D(40000), D(10000), D(30000))
    for wrapper in ("tfsa", "rrsp"):
        o = holding(result, "XIC", wrapper)
        assert o.status == "excluded" and wrapper in o.reason
    # Taxable capital gain 15,000 at a 50% marginal rate: 7,500.
    assert dep.tax.tax == D(7500)
    reporting = {r["form"]: r for r in dep.reporting}
    # Reportable property: ACME 40,000 (registered plans are excluded rights): more than 25,000.
    assert reporting["T1161"]["required"] is True
    assert reporting["T1243"]["required"] is True
    # 7,500 is not above the security threshold of 16,500.
    assert dep.deferral["security_required"] is False
    assert dep.deferral["ends_on_sale"] is True


def test_security_required_above_threshold(tmp_path):
    result = run(scenario(tmp_path), "ann", "2026-07-01", "PT", prices("2026-06-30", ACME="1000 CAD", XIC="60 CAD"))
    # Gain 90,000; taxable 45,000; tax 22,500 > 16,500.
    assert result.departure.tax.tax == D(22500)
    assert result.departure.deferral["security_required"] is True


def test_t1161_not_required_at_exactly_25000(tmp_path):
    # Reportable property of exactly $25,000 does not *exceed* $25,000.
    result = run(scenario(tmp_path), "ann", "2026-07-01", "PT", prices("2026-06-30", ACME="250 CAD", XIC="60 CAD"))
    reporting = {r["form"]: r for r in result.departure.reporting}
    assert reporting["T1161"]["required"] is False


def test_short_term_resident_keeps_property_owned_on_arrival_out(tmp_path):
    taxpayer = {**CA_TAXPAYER, "resident_since": "2023-01-02"}
    buys = [("old", "cash", "ACME", "2022-06-01", "10@100"), ("new", "cash", "XIC", "2024-01-03", "10@50")]
    result = run(scenario(tmp_path, taxpayer, buys), "ann", "2026-07-01", "PT", prices("2026-06-30", ACME="400 CAD", XIC="60 CAD"))
    # Resident 3.5 years (<= 60 months) in the 10 years before leaving: ACME, owned on arrival, is excluded;
    # XIC, bought while resident, is deemed sold.
    assert holding(result, "ACME").status == "excluded"
    assert "short-term resident property" in holding(result, "ACME").reason
    assert holding(result, "XIC").status == "deemed_sold"
    assert result.departure.tax.tax == D("25")  # (600 - 500) x 1/2 x 0.5


def test_long_term_resident_property_owned_on_arrival_is_caught(tmp_path):
    taxpayer = {**CA_TAXPAYER, "resident_since": "2019-01-02"}  # 7.5 years: more than 60 months
    buys = [("old", "cash", "ACME", "2018-06-01", "10@100")]
    result = run(scenario(tmp_path, taxpayer, buys), "ann", "2026-07-01", "PT", prices("2026-06-30", ACME="400 CAD"))
    assert holding(result, "ACME").status == "deemed_sold"


def test_missing_price_is_an_error_naming_the_security(tmp_path):
    import pytest

    from taxpack.engine.core.errors import TaxpackError

    with pytest.raises(TaxpackError) as info:
        run(scenario(tmp_path), "ann", "2026-07-01", "PT", prices("2026-06-30", ACME="400 CAD"))
    assert "no price for XIC on 2026-06-30" in str(info.value)


def test_stale_price_is_not_used(tmp_path):
    import pytest

    from taxpack.engine.core.errors import TaxpackError

    with pytest.raises(TaxpackError, match="the latest is of 2026-06-01"):
        run(scenario(tmp_path), "ann", "2026-07-01", "PT", prices("2026-06-01", ACME="400 CAD", XIC="60 CAD"))


def test_a_destination_without_a_pack_has_no_arrival_cost(tmp_path):
    # Japan has no pack (Portugal, used here before, got one in pack pt 0.1.0).
    result = run(scenario(tmp_path), "ann", "2026-07-01", "JP", prices("2026-06-30", ACME="400 CAD", XIC="60 CAD"))
    assert result.arrival is None and "no pack for JP" in result.arrival_note
