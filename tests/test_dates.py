"""Date arithmetic: durations, month rounding, the holding-period rules and windows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxpack.engine.core.dates import Duration, is_month_end, long_term_from, shift, term, window
from taxpack.engine.core.errors import EvaluationError, SemanticError, Span

D = dt.date
YEAR = Duration(months=12)  # the US pack's holding_period.long_term_after
SIX_MONTHS = Duration(months=6)  # the US period before 1977, used by the rulings and cases below

# ---------------------------------------------------------------------------------------------
# The US calendar rule: "held more than one year" (IRC §1222), counted from the day after the
# trade date (Rev. Rul. 66-97; Rev. Rul. 70-598), in calendar months (Fogel v. Comm'r, 203 F.2d 347
# (5th Cir. 1953)); bought on the last day of a month, the holding months end on the last day of each
# later month (Rev. Rul. 66-7, 1966-1 C.B. 188; Caspe v. US, 694 F.2d 1116 (8th Cir. 1982)).
# ---------------------------------------------------------------------------------------------

US_CASES = [
    # (acquired, sold, period, expected, why)
    (D(2024, 1, 10), D(2025, 1, 10), YEAR, "short", "one year exactly is not more than one year, though 366 days passed"),
    (D(2024, 1, 10), D(2025, 1, 11), YEAR, "long", "the day after the anniversary"),
    (D(2023, 1, 10), D(2024, 1, 10), YEAR, "short", "one year exactly (365 days)"),
    (D(2023, 1, 10), D(2024, 1, 11), YEAR, "long", "the day after the anniversary"),
    # Bought on 29 Feb (the last day of February): the year of holding ends on 28 Feb 2025.
    (D(2024, 2, 29), D(2025, 2, 28), YEAR, "short", "Rev. Rul. 66-7: last day of the month to last day of the month"),
    (D(2024, 2, 29), D(2025, 3, 1), YEAR, "long", "Rev. Rul. 66-7: from the first day of the 13th month after"),
    # Bought on 28 Feb of a common year (also the last day of February): 29 Feb 2024 is still within the year.
    (D(2023, 2, 28), D(2024, 2, 29), YEAR, "short", "Rev. Rul. 66-7: the year ends on the last day of Feb 2024"),
    (D(2023, 2, 28), D(2024, 3, 1), YEAR, "long", "Rev. Rul. 66-7: first day of the 13th month after"),
    # Bought on 28 Feb of a leap year (not the month's last day): the holding year starts on 29 Feb.
    (D(2024, 2, 28), D(2025, 2, 28), YEAR, "short", "one year exactly"),
    (D(2024, 2, 28), D(2025, 3, 1), YEAR, "long", "the day after the anniversary"),
    # The published cases under the old six-month period.
    (D(1945, 6, 19), D(1945, 12, 19), SIX_MONTHS, "short", "Fogel: exactly six months is not more than six months"),
    (D(1945, 6, 19), D(1945, 12, 20), SIX_MONTHS, "long", "Fogel: the day after"),
    (D(1963, 4, 30), D(1963, 10, 31), SIX_MONTHS, "short", "Rev. Rul. 66-7: acquired 30 Apr, not to be disposed of before 1 Nov"),
    (D(1963, 4, 30), D(1963, 11, 1), SIX_MONTHS, "long", "Rev. Rul. 66-7: 1 Nov"),
    (D(1972, 11, 30), D(1973, 5, 31), SIX_MONTHS, "short", "Caspe: bought 30 Nov 1972, sold 31 May 1973, held six months only"),
    (D(1972, 11, 30), D(1973, 6, 1), SIX_MONTHS, "long", "Caspe: the first day of the seventh month"),
]


@pytest.mark.parametrize("acquired,sold,period,expected,why", US_CASES)
def test_us_calendar_rule(acquired: dt.date, sold: dt.date, period: Duration, expected: str, why: str) -> None:
    assert term(acquired, sold, "calendar_more_than", period) == expected, why


def test_a_day_count_would_get_the_leap_year_wrong() -> None:
    # 10 Jan 2024 to 10 Jan 2025 is 366 days, more than 365, yet only one year: short-term.
    acquired, sold = D(2024, 1, 10), D(2025, 1, 10)
    assert (sold - acquired).days == 366
    assert term(acquired, sold, "days_more_than", Duration(days=365)) == "long"
    assert term(acquired, sold, "calendar_more_than", Duration(years=1)) == "short"


def test_long_term_from_gives_the_first_long_day() -> None:
    assert long_term_from(D(2024, 1, 10), "calendar_more_than", YEAR) == D(2025, 1, 11)
    assert long_term_from(D(2024, 2, 29), "calendar_more_than", YEAR) == D(2025, 3, 1)
    assert long_term_from(D(2023, 2, 28), "calendar_more_than", Duration(years=1)) == D(2024, 3, 1)
    assert long_term_from(D(2024, 12, 31), "calendar_more_than", YEAR) == D(2026, 1, 1)
    assert long_term_from(D(2024, 1, 10), "none", None) is None


@settings(max_examples=500, deadline=None)
@given(acquired=st.dates(min_value=D(1990, 1, 1), max_value=D(2090, 12, 31)))
def test_the_us_year_is_366_or_367_days_to_the_first_long_day(acquired: dt.date) -> None:
    first_long = long_term_from(acquired, "calendar_more_than", YEAR)
    assert first_long is not None
    # More than one calendar year: at least 366 days (a common year and a day), at most 367.
    assert 366 <= (first_long - acquired).days <= 367
    assert term(acquired, first_long, "calendar_more_than", YEAR) == "long"
    assert term(acquired, first_long - dt.timedelta(days=1), "calendar_more_than", YEAR) == "short"
    # Away from month ends, it is the day after the same calendar date a year later.
    if not is_month_end(acquired) and not (acquired.month == 2 and acquired.day == 28):
        assert first_long == acquired.replace(year=acquired.year + 1) + dt.timedelta(days=1)
    # From a month end, it is the first day of the 13th month after.
    if is_month_end(acquired):
        assert first_long.day == 1
        assert (first_long.year * 12 + first_long.month) - (acquired.year * 12 + acquired.month) == 13


def test_days_more_than() -> None:
    thirty = Duration(days=30)
    assert term(D(2024, 1, 1), D(2024, 1, 31), "days_more_than", thirty) == "short"  # 30 days
    assert term(D(2024, 1, 1), D(2024, 2, 1), "days_more_than", thirty) == "long"  # 31 days
    assert term(D(2024, 1, 1), D(2024, 1, 29), "days_more_than", Duration(weeks=4)) == "short"  # 28 days
    assert term(D(2024, 1, 1), D(2024, 1, 30), "days_more_than", Duration(weeks=4)) == "long"  # 29 days


def test_no_distinction() -> None:
    assert term(D(2024, 1, 1), D(2030, 1, 1), "none", None) == "none"


def test_rule_errors() -> None:
    with pytest.raises(EvaluationError) as caught:
        term(D(2024, 1, 1), D(2025, 1, 1), "days_more_than", YEAR, span=Span("us.yaml", 170, 3))
    assert str(caught.value) == (
        "us.yaml:170:3: error: the holding-period rule 'days_more_than' counts days, but long_term_after "
        "is 12 months (expected a duration in days or weeks)"
    )
    with pytest.raises(EvaluationError):
        term(D(2024, 1, 1), D(2025, 1, 1), "calendar_more_than", None)
    with pytest.raises(EvaluationError):
        term(D(2024, 1, 1), D(2025, 1, 1), "fortnightly", YEAR)


# ---------------------------------------------------------------------------------------------
# Shifting by months and years
# ---------------------------------------------------------------------------------------------


def test_month_rounding_both_ways() -> None:
    one_month = Duration(months=1)
    assert shift(D(2025, 1, 31), one_month, month_rounding="decreasing") == D(2025, 2, 28)
    assert shift(D(2025, 1, 31), one_month, month_rounding="increasing") == D(2025, 3, 1)
    assert shift(D(2024, 1, 31), one_month, month_rounding="decreasing") == D(2024, 2, 29)
    assert shift(D(2024, 1, 31), one_month, month_rounding="increasing") == D(2024, 3, 1)
    # Backwards: one month before 31 Mar.
    assert shift(D(2024, 3, 31), one_month, -1, "decreasing") == D(2024, 2, 29)
    assert shift(D(2024, 3, 31), one_month, -1, "increasing") == D(2024, 3, 1)
    # Across the year end.
    assert shift(D(2024, 12, 31), Duration(months=2), month_rounding="decreasing") == D(2025, 2, 28)
    assert shift(D(2024, 12, 31), Duration(months=2), month_rounding="increasing") == D(2025, 3, 1)
    assert shift(D(2025, 1, 15), Duration(months=2), -1) == D(2024, 11, 15)
    # Years: 29 Feb moves to 28 Feb or 1 Mar.
    assert shift(D(2024, 2, 29), Duration(years=1), month_rounding="decreasing") == D(2025, 2, 28)
    assert shift(D(2024, 2, 29), Duration(years=1), month_rounding="increasing") == D(2025, 3, 1)
    assert shift(D(2024, 2, 29), Duration(years=4)) == D(2028, 2, 29)


def test_a_day_that_exists_needs_no_rounding() -> None:
    assert shift(D(2025, 1, 30), Duration(months=2)) == D(2025, 3, 30)
    assert shift(D(2025, 4, 30), Duration(months=1)) == D(2025, 5, 30)


def test_an_ambiguous_month_shift_asks_the_pack() -> None:
    with pytest.raises(EvaluationError) as caught:
        shift(D(2025, 1, 31), Duration(months=1))
    assert str(caught.value) == (
        "error: one month after 2025-01-31 is ambiguous; the pack must state month_rounding (decreasing or increasing)"
    )
    with pytest.raises(EvaluationError) as caught:
        shift(D(2024, 5, 31), Duration(months=3), -1, span=Span("it.yaml", 40, 9))
    assert str(caught.value) == (
        "it.yaml:40:9: error: 3 months before 2024-05-31 is ambiguous; "
        "the pack must state month_rounding (decreasing or increasing)"
    )


def test_days_and_weeks() -> None:
    assert shift(D(2024, 2, 20), Duration(days=10)) == D(2024, 3, 1)
    assert shift(D(2024, 3, 1), Duration(weeks=4), -1) == D(2024, 2, 2)
    assert shift(D(2024, 3, 1), Duration(weeks=4)) == shift(D(2024, 3, 1), Duration(days=28))
    assert shift(D(2024, 3, 1), Duration()) == D(2024, 3, 1)


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31)), n=st.integers(0, 400))
def test_shifting_days_forth_and_back_returns(day: dt.date, n: int) -> None:
    for duration in (Duration(days=n), Duration(weeks=n)):
        assert shift(shift(day, duration), duration, -1) == day


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31)), n=st.integers(1, 48))
def test_month_rounding_lands_in_or_just_after_the_target_month(day: dt.date, n: int) -> None:
    target = (day.year * 12 + day.month - 1 + n)
    down = shift(day, Duration(months=n), month_rounding="decreasing")
    up = shift(day, Duration(months=n), month_rounding="increasing")
    assert down.year * 12 + down.month - 1 == target
    if down.day == day.day:
        assert up == down  # the day exists: no rounding either way
    else:
        assert is_month_end(down) and up == down + dt.timedelta(days=1) and up.day == 1


def test_outside_the_calendar() -> None:
    with pytest.raises(EvaluationError):
        shift(D(9999, 12, 1), Duration(months=1))


# ---------------------------------------------------------------------------------------------
# Windows (e.g. the wash-sale family)
# ---------------------------------------------------------------------------------------------


def test_a_30_day_window_includes_day_30_and_excludes_day_31() -> None:
    sale = D(2024, 3, 15)
    start, end = window(sale, Duration(days=30), Duration(days=30))
    assert (start, end) == (D(2024, 2, 14), D(2024, 4, 14))
    assert (end - start).days + 1 == 61  # the sale day and 30 days on each side

    def inside(day: dt.date) -> bool:
        return start <= day <= end

    assert inside(sale + dt.timedelta(days=30)) and inside(sale - dt.timedelta(days=30))
    assert not inside(sale + dt.timedelta(days=31)) and not inside(sale - dt.timedelta(days=31))


def test_a_window_in_weeks_and_in_months() -> None:
    assert window(D(2024, 3, 15), Duration(weeks=4), Duration(weeks=4)) == (D(2024, 2, 16), D(2024, 4, 12))
    assert window(D(2024, 3, 31), Duration(months=1), Duration(months=2), month_rounding="decreasing") == (
        D(2024, 2, 29),
        D(2024, 5, 31),
    )
    with pytest.raises(EvaluationError):
        window(D(2024, 3, 31), Duration(months=1), Duration(months=1))


# ---------------------------------------------------------------------------------------------
# Duration
# ---------------------------------------------------------------------------------------------


def test_duration_from_mapping() -> None:
    assert Duration.from_mapping({"days": 30}) == Duration(days=30)
    assert Duration.from_mapping({"months": 12}) == Duration(months=12)
    assert Duration.of("weeks", 4) == Duration(weeks=4)
    assert Duration(days=30).in_days() == 30 and Duration(weeks=4).in_days() == 28
    assert Duration(months=2).in_days() is None
    assert str(Duration(months=1)) == "1 month" and str(Duration(days=30)) == "30 days"
    assert Duration(years=1).as_mapping() == {"years": 1}


@pytest.mark.parametrize(
    "mapping,message",
    [
        ({"days": 1, "weeks": 2}, "error: {days: 1, weeks: 2} is not a duration"),
        ({}, "error: {} is not a duration"),
        ({"fortnights": 1}, "error: 'fortnights' is not a unit of duration"),
        ({"days": -1}, "error: -1 is not a number of days"),
        ({"days": "30"}, "error: '30' is not a number of days"),
        ({"months": True}, "error: True is not a number of months"),
    ],
)
def test_duration_from_mapping_refuses(mapping: dict, message: str) -> None:
    with pytest.raises(SemanticError) as caught:
        Duration.from_mapping(mapping)
    assert str(caught.value).startswith(message)


def test_duration_has_one_unit() -> None:
    with pytest.raises(ValueError):
        Duration(days=1, months=1)
    with pytest.raises(ValueError):
        Duration(days=-1)
