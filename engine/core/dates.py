"""Calendar arithmetic for tax rules: durations, month rounding, holding periods and windows.

Tax law counts periods in calendar months and years ("held more than one year", "30 days before or
after the sale"), not in fixed numbers of days, so a leap day or a short month changes the answer.
Everything here is generic: the duration, the rule and the rounding come from a pack.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from taxpack.engine.core.errors import EvaluationError, SemanticError, Span

DURATION_UNITS: tuple[str, ...] = ("days", "weeks", "months", "years")
MONTH_ROUNDINGS: tuple[str, ...] = ("decreasing", "increasing")
HOLDING_RULES: tuple[str, ...] = ("calendar_more_than", "days_more_than", "none")

_ONE_DAY = dt.timedelta(days=1)


def _non_negative_int(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"Duration.{attribute.name} must be a whole number >= 0, not {value!r}")


@attrs.frozen
class Duration:
    """A length of time in one unit: {days: 30}, {weeks: 4}, {months: 2} or {years: 1}.

    Exactly one unit is non-zero (or none: the zero duration). Weeks are 7 days; months and years
    move the calendar month, so they need a month-rounding rule when the target day does not exist.
    """

    days: int = attrs.field(default=0, validator=_non_negative_int)
    weeks: int = attrs.field(default=0, validator=_non_negative_int)
    months: int = attrs.field(default=0, validator=_non_negative_int)
    years: int = attrs.field(default=0, validator=_non_negative_int)

    def __attrs_post_init__(self) -> None:
        if sum(1 for unit in DURATION_UNITS if getattr(self, unit)) > 1:
            raise ValueError(f"a duration has one unit, not several: {self!r}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], span: Span | None = None) -> "Duration":
        """`{"days": 30}` as written in a pack; a wrong shape is a `SemanticError` at `span`."""
        expected = "one of {days: N}, {weeks: N}, {months: N}, {years: N} with a whole number N >= 0"
        if not isinstance(mapping, Mapping) or len(mapping) != 1:
            raise SemanticError(f"{_show(mapping)} is not a duration", span, expected)
        ((unit, amount),) = mapping.items()
        if unit not in DURATION_UNITS:
            raise SemanticError(f"'{unit}' is not a unit of duration", span, expected)
        return cls.of(unit, amount, span)

    @classmethod
    def of(cls, unit: str, amount: Any, span: Span | None = None) -> "Duration":
        """A duration from a unit and a number, e.g. a pack parameter with `unit: months` and value 12."""
        expected = "a whole number >= 0 of days, weeks, months or years"
        if unit not in DURATION_UNITS:
            raise SemanticError(f"'{unit}' is not a unit of duration", span, expected)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise SemanticError(f"{_show(amount)} is not a number of {unit}", span, expected)
        return cls(**{unit: amount})

    @property
    def unit(self) -> str | None:
        """The unit in use, or None for the zero duration."""
        for unit in DURATION_UNITS:
            if getattr(self, unit):
                return unit
        return None

    @property
    def amount(self) -> int:
        unit = self.unit
        return getattr(self, unit) if unit else 0

    @property
    def is_zero(self) -> bool:
        return self.unit is None

    def in_days(self) -> int | None:
        """The exact number of days, or None when the length depends on the calendar (months, years)."""
        if self.months or self.years:
            return None
        return self.days + 7 * self.weeks

    def as_mapping(self) -> dict[str, int]:
        unit = self.unit
        return {unit: self.amount} if unit else {"days": 0}

    def __str__(self) -> str:
        unit = self.unit
        if unit is None:
            return "0 days"
        amount = self.amount
        return f"{amount} {unit[:-1] if amount == 1 else unit}"


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, Mapping) else "{" + ", ".join(f"{k}: {v!r}" for k, v in value.items()) + "}"


def last_day_of_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def is_month_end(day: dt.date) -> bool:
    return day.day == last_day_of_month(day.year, day.month)


def shift(
    day: dt.date,
    duration: Duration,
    sign: int = +1,
    month_rounding: str | None = None,
    span: Span | None = None,
) -> dt.date:
    """`day` moved by `duration` forwards (`sign=+1`) or backwards (`sign=-1`) in the calendar.

    Days and weeks move by exact days. Months and years keep the day of the month; when that day does
    not exist in the target month (31 Jan + 1 month), `month_rounding` decides: `decreasing` gives the
    last day of the target month (28 or 29 Feb), `increasing` the first day of the next month (1 Mar).
    Without a rounding rule such a shift is ambiguous, and the pack must say which one the law means.
    """
    if sign not in (+1, -1):
        raise ValueError(f"sign must be +1 or -1, not {sign!r}")
    if month_rounding is not None and month_rounding not in MONTH_ROUNDINGS:
        raise ValueError(f"month_rounding must be one of {MONTH_ROUNDINGS} or None, not {month_rounding!r}")
    try:
        fixed = duration.in_days()
        if fixed is not None:
            return day + dt.timedelta(days=sign * fixed)
        months = duration.months + 12 * duration.years
        index = day.year * 12 + (day.month - 1) + sign * months
        year, month = divmod(index, 12)
        month += 1
        last = last_day_of_month(year, month)
        if day.day <= last:
            return dt.date(year, month, day.day)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, ValueError) and "year" not in str(exc):
            raise
        raise EvaluationError(
            f"{_describe(duration, sign)} {day.isoformat()} is outside the calendar (years 1 to 9999)", span
        ) from None
    if month_rounding == "decreasing":
        return dt.date(year, month, last)
    if month_rounding == "increasing":
        # The first day of the month after the target month; December rolls into January.
        return dt.date(year, month, last) + _ONE_DAY
    raise EvaluationError(
        f"{_describe(duration, sign)} {day.isoformat()} is ambiguous; "
        "the pack must state month_rounding (decreasing or increasing)",
        span,
    )


def _describe(duration: Duration, sign: int) -> str:
    amount, unit = duration.amount, duration.unit or "days"
    count = "one" if amount == 1 else str(amount)
    noun = unit[:-1] if amount == 1 else unit
    return f"{count} {noun} {'after' if sign > 0 else 'before'}"


def window(
    day: dt.date,
    before: Duration,
    after: Duration,
    month_rounding: str | None = None,
    span: Span | None = None,
) -> tuple[dt.date, dt.date]:
    """The inclusive period from `before` ahead of `day` to `after` past it.

    A window of 30 days before and after a sale on day D runs from D-30 to D+30 inclusive (61 days):
    a purchase 30 days away is in it, one 31 days away is not.
    """
    start = shift(day, before, -1, month_rounding, span)
    end = shift(day, after, +1, month_rounding, span)
    return start, end


def long_term_from(
    acquired: dt.date,
    rule: str,
    long_term_after: Duration | None,
    span: Span | None = None,
) -> dt.date | None:
    """The first sale date on which a lot acquired on `acquired` is long-term; None under rule `none`.

    `calendar_more_than`: the holding period starts the day after acquisition and is counted in
    calendar months from that day (the day of the month, whatever the length of each month); a sale is
    long-term once that period is *more than* the duration, i.e. from the day the next month of holding
    begins. Bought 10 Jan 2024: long-term from 11 Jan 2025. Bought on the last day of a month, holding
    months end on the last day of each month: bought 29 Feb 2024, long-term from 1 Mar 2025; bought 28
    Feb 2023, long-term from 1 Mar 2024 (a sale on 29 Feb 2024 is still short-term).
    `days_more_than`: long-term once more than N days have passed since acquisition.
    """
    if rule == "none":
        return None
    if rule not in HOLDING_RULES:
        raise EvaluationError(
            f"'{rule}' is not a holding-period rule", span, "calendar_more_than, days_more_than or none"
        )
    if long_term_after is None:
        raise EvaluationError(f"the holding-period rule '{rule}' needs long_term_after", span, "a duration")
    if rule == "calendar_more_than":
        # Counting starts the day after acquisition (Rev. Rul. 66-97, Rev. Rul. 70-598); a month of holding
        # that would start on a day the month lacks (29-31) starts on the 1st of the next month instead:
        # this reproduces the last-day-of-month rule of Rev. Rul. 66-7 and Caspe v. US (8th Cir. 1982).
        return shift(acquired + _ONE_DAY, long_term_after, +1, "increasing", span)
    days = long_term_after.in_days()
    if days is None:
        raise EvaluationError(
            f"the holding-period rule 'days_more_than' counts days, but long_term_after is {long_term_after}",
            span,
            "a duration in days or weeks",
        )
    return acquired + dt.timedelta(days=days + 1)


def term(
    acquired: dt.date,
    sold: dt.date,
    rule: str,
    long_term_after: Duration | None,
    span: Span | None = None,
) -> str:
    """`short`, `long`, or `none` (when the law makes no short/long distinction) for one lot."""
    first_long = long_term_from(acquired, rule, long_term_after, span)
    if first_long is None:
        return "none"
    return "long" if sold >= first_long else "short"
