"""Market prices for valuing holdings on a given day (exit taxes and step-ups need fair market value).

Prices come from a CSV `security,date,price,currency` or from a scenario's `prices:` list (rows of
securities the scenario does not hold are skipped). A holding
without a price on (or shortly before) the valuation day is an error naming the security: a fair
market value is never guessed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Mapping

import attrs

from taxpack.engine.core.documents import load_yaml, read_csv
from taxpack.engine.core.errors import ErrorList, EvaluationError, ParseError, Span, TaxpackError
from taxpack.engine.core.household import Scenario
from taxpack.engine.core.limits import DATE_EXPECTED, NUMBER_EXPECTED, date_problem, number_problem

PRICE_COLUMNS = ["security", "date", "price", "currency"]


@attrs.frozen
class Price:
    """One unit of `security` was worth `price` `currency` on `date` (as the user gave it, with where)."""

    security: str
    date: dt.date
    price: Decimal
    currency: str
    span: Span | None = attrs.field(default=None, eq=False)


class PriceBook:
    """Prices by security, each list sorted by date."""

    def __init__(self, prices: Iterable[Price] = ()) -> None:
        self._by_security: dict[str, list[Price]] = {}
        for price in prices:
            self._by_security.setdefault(price.security, []).append(price)
        for items in self._by_security.values():
            items.sort(key=lambda p: p.date)

    def merged(self, other: "PriceBook") -> "PriceBook":
        """This book with `other`'s prices added (the CSV given on the command line wins on the same day)."""
        mine = {(p.security, p.date): p for items in self._by_security.values() for p in items}
        for items in other._by_security.values():
            for p in items:
                mine[(p.security, p.date)] = p
        return PriceBook(mine.values())

    def on(self, security: str, day: dt.date, max_age_days: int, span: Span | None = None) -> Price:
        """The latest price of `security` dated `day` or at most `max_age_days` before it."""
        found = None
        for price in self._by_security.get(security, []):
            if price.date <= day:
                found = price
            else:
                break
        if found is None or (day - found.date).days > max_age_days:
            latest = f" (the latest is of {found.date.isoformat()}, {(day - found.date).days} days earlier)" if found else ""
            raise EvaluationError(
                f"no price for {security} on {day.isoformat()} or in the {max_age_days} days before{latest}: "
                f"its fair market value is needed and is never guessed",
                span,
                f"a row '{security},{day.isoformat()},PRICE,CURRENCY' in --prices, or an entry in the scenario's prices:",
            )
        return found


def load_prices_csv(path: Path | str, scenario: Scenario) -> PriceBook:
    """Read a `security,date,price,currency` CSV; every bad cell is reported with its row and column."""
    rows = read_csv(path, PRICE_COLUMNS)
    errors: list[TaxpackError] = []
    prices = []
    for row in rows:
        price = _price_from(row.cells, lambda column, r=row: r.span(column), scenario, errors)
        if price is not None:
            prices.append(price)
    if errors:
        raise ErrorList(errors)
    return PriceBook(prices)


def scenario_prices(scenario: Scenario, path: Path | str) -> PriceBook:
    """The optional `prices:` list of the scenario file at `path` (read again, with its positions)."""
    document = load_yaml(path)
    data = document.data if isinstance(document.data, dict) else {}
    entries = data.get("prices") or []
    errors: list[TaxpackError] = []
    prices = []
    for i, entry in enumerate(entries):
        where = ("prices", i)
        cells = {k: ("" if entry.get(k) is None else str(entry.get(k))) for k in PRICE_COLUMNS}
        price = _price_from(cells, lambda column, p=where, e=entry: document.span(p + (column,)) if column in e else document.span(p),
                            scenario, errors)
        if price is not None:
            prices.append(price)
    if errors:
        raise ErrorList(errors)
    return PriceBook(prices)


def _price_from(cells: Mapping[str, str], span_of: Any, scenario: Scenario, errors: list[TaxpackError]) -> Price | None:
    security = cells.get("security", "").strip()
    if security not in {s.id for s in scenario.securities}:
        # A price list may cover more than this household holds; a typo still surfaces as the
        # missing price of the security actually held.
        return None
    ok = True
    try:
        day = dt.date.fromisoformat(cells.get("date", "").strip())
        problem = date_problem(day)
        if problem:
            errors.append(ParseError(problem, span_of("date"), DATE_EXPECTED))
            ok = False
    except ValueError:
        errors.append(ParseError(f"'{cells.get('date', '')}' is not a date", span_of("date"), "a date YYYY-MM-DD"))
        ok = False
    text = cells.get("price", "").strip()
    try:
        value = Decimal(text)
        if not value.is_finite() or value < 0:
            raise InvalidOperation
        problem = number_problem(value, text)
        if problem:
            errors.append(ParseError(problem, span_of("price"), NUMBER_EXPECTED))
            ok = False
    except InvalidOperation:
        errors.append(ParseError(f"'{text[:40]}' is not a price", span_of("price"), "a decimal number >= 0 such as 231.50"))
        ok = False
    currency = cells.get("currency", "").strip()
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        errors.append(ParseError(f"'{currency}' is not a currency code", span_of("currency"), "an ISO 4217 code such as USD"))
        ok = False
    if not ok:
        return None
    return Price(security, day, value, currency, span_of("price"))

