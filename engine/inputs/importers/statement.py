"""What every broker importer produces, and the helpers they share.

An importer reads one broker's export into a `Statement`: trades, dividends with the tax withheld,
corporate actions, and the rows it deliberately did not import (cash movements, interest, fees), each
with the place it came from. Nothing is guessed: a row the importer does not understand, a column it
does not know, a number that does not add up is a `ParseError` with the row and column and what was
expected. Rows that change no lot and no dividend (a deposit, interest) are listed as not imported,
with their amounts, so the totals can be compared with the broker's statement.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable, Iterator

import attrs

from taxpack.engine.core.documents import read_text
from taxpack.engine.core.errors import ParseError, Span

ZERO = Decimal(0)
CENT = Decimal("0.01")


@attrs.frozen
class SecurityRef:
    """A security as the export names it. `key` identifies it within the import (ISIN, else symbol)."""

    symbol: str | None
    isin: str | None
    currency: str | None
    name: str | None = None
    kind: str | None = None  # share | etf | fund | bond, only when the export says so

    @property
    def key(self) -> str:
        return self.isin or self.symbol or ""

    @property
    def label(self) -> str:
        if self.symbol and self.isin:
            return f"{self.symbol} ({self.isin})"
        return self.symbol or self.isin or "?"


@attrs.frozen
class ImportedTrade:
    account: str  # the broker's account number ("" when the export has none)
    security: SecurityRef
    date: dt.date
    side: str
    quantity: Decimal  # positive
    price: Decimal
    fees: Decimal
    currency: str
    span: Span
    settlement_date: dt.date | None = None
    ref: str | None = None  # the broker's id of the trade
    note: str | None = None


@attrs.frozen
class ImportedDividend:
    account: str
    security: SecurityRef
    date: dt.date
    gross: Decimal
    withheld: Decimal  # positive
    currency: str
    span: Span
    source_country: str | None = None
    kind: str = "dividend"
    ref: str | None = None
    note: str | None = None


@attrs.frozen
class ImportedAction:
    account: str
    type: str  # a corporate-action type of the scenario format
    security: SecurityRef
    date: dt.date
    span: Span
    new_security: SecurityRef | None = None
    ratio: tuple[Decimal, Decimal] | None = None  # (new, old)
    added: Decimal | None = None
    cash: Decimal | None = None
    cash_in_lieu: Decimal | None = None
    amount: Decimal | None = None
    currency: str | None = None
    ref: str | None = None
    note: str | None = None


@attrs.frozen
class Skipped:
    """A row deliberately not imported (it changes no lot and no dividend), kept for the totals."""

    what: str
    account: str
    currency: str | None
    amount: Decimal | None
    span: Span


@attrs.define
class Statement:
    """Everything read from one or more files of one format."""

    format: str
    files: list[str] = attrs.field(factory=list)
    trades: list[ImportedTrade] = attrs.field(factory=list)
    dividends: list[ImportedDividend] = attrs.field(factory=list)
    actions: list[ImportedAction] = attrs.field(factory=list)
    skipped: list[Skipped] = attrs.field(factory=list)
    account_types: dict[str, tuple[str, Span]] = attrs.field(factory=dict)  # the broker's account type (TFSA, RRSP, Margin...)

    def extend(self, other: "Statement") -> None:
        for account, kind in other.account_types.items():
            self.account_types.setdefault(account, kind)
        self.files.extend(other.files)
        self.trades.extend(other.trades)
        self.dividends.extend(other.dividends)
        self.actions.extend(other.actions)
        self.skipped.extend(other.skipped)


@attrs.frozen
class Importer:
    """One broker format: its name on the command line, what it reads, where its layout is documented."""

    name: str
    title: str
    documentation: tuple[str, ...]
    read: Callable[[Path, str], Statement]  # (path, the path as shown to the user) -> Statement
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Reading cells
# ---------------------------------------------------------------------------------------------

_PLAIN = re.compile(r"-?\d+(\.\d+)?")
_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ISIN = re.compile(r"[A-Z]{2}[A-Z0-9]{9}\d")


def plain_number(text: str, span: Span, what: str = "a number") -> Decimal:
    """A decimal written with a point, optionally with comma thousands separators (IBKR's CSV)."""
    t = text.strip()
    if _GROUPED.fullmatch(t):
        t = t.replace(",", "")
    if not _PLAIN.fullmatch(t):
        raise ParseError(f"'{text}' is not {what}", span, "a decimal number with a point, such as -1234.56")
    return Decimal(t)


def dollar_number(text: str, span: Span) -> Decimal:
    """Schwab's money: '$1,234.56', '-$312.00' or '$-1500.00'."""
    t = text.strip()
    negative = t.startswith("-") or t.startswith("$-")
    body = t.replace("$", "").replace(",", "").lstrip("-")
    if not re.fullmatch(r"\d+(\.\d+)?", body):
        raise ParseError(f"'{text}' is not an amount", span, "an amount such as $1,234.56 or -$312.00")
    value = Decimal(body)
    return -value if negative else value


def comma_number(text: str, span: Span, decimal_mark: str) -> Decimal:
    """A number with the file's decimal mark (DEGIRO: ',' in most languages); spaces and the other mark group thousands."""
    t = text.strip().replace("\u00a0", "").replace(" ", "")
    other = "." if decimal_mark == "," else ","
    if re.fullmatch(r"-?\d{1,3}(" + re.escape(other) + r"\d{3})+(" + re.escape(decimal_mark) + r"\d+)?", t):
        t = t.replace(other, "")
    t = t.replace(decimal_mark, ".")
    if not _PLAIN.fullmatch(t):
        example = "-1921,05" if decimal_mark == "," else "-1921.05"
        raise ParseError(f"'{text}' is not a number", span, f"a decimal number with '{decimal_mark}' as the decimal mark, such as {example}")
    return Decimal(t)


def currency_code(text: str, span: Span) -> str:
    t = text.strip()
    if not _CURRENCY.fullmatch(t):
        raise ParseError(f"'{text}' is not a currency code", span, "an ISO 4217 code such as USD")
    return t


def isin_or_none(text: str | None, span: Span) -> str | None:
    if text is None or not text.strip():
        return None
    t = text.strip()
    if not _ISIN.fullmatch(t):
        raise ParseError(f"'{text}' is not an ISIN", span, "12 characters: a country code, 9 letters or digits, a check digit")
    return t


def iso_date(text: str, span: Span, forms: Iterable[str], shown: str) -> dt.date:
    """The date part of `text` in one of the `forms` (strptime patterns); `shown` says them in words."""
    for form in forms:
        try:
            return dt.datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    raise ParseError(f"'{text}' is not a date", span, shown)


def require(value: str | None, span: Span, what: str) -> str:
    if value is None or not value.strip():
        raise ParseError("the cell is empty", span, what)
    return value.strip()


def close_enough(a: Decimal, b: Decimal, tolerance: Decimal = CENT) -> bool:
    return abs(a - b) <= tolerance


# ---------------------------------------------------------------------------------------------
# CSV with a fixed header, read by column name
# ---------------------------------------------------------------------------------------------


@attrs.frozen
class Row:
    """A data row: the file's physical line (the header is where it is) and its cells by column."""

    file: str
    line: int
    cells: dict[str, str]

    def span(self, column: str | None = None) -> Span:
        return Span(self.file, self.line, None, column)

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


def csv_records(text: str, shown: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells) for every record, blank records included."""
    reader = csv.reader(io.StringIO(text, newline=""))
    end = 0
    try:
        for cells in reader:
            line, end = end + 1, reader.line_num
            yield line, cells
    except csv.Error as exc:
        raise ParseError(f"invalid CSV: {exc}", Span(shown, reader.line_num)) from None


def check_header(header: list[str], expected: list[str], shown: str, line: int, broker: str) -> None:
    """The header must be exactly `expected` (names in this order; blank names are unnamed columns)."""
    got = [h.strip() for h in header]
    for i, name in enumerate(expected):
        if i >= len(got):
            raise ParseError(f"the header ends after {len(got)} columns; column {i + 1} '{name}' is missing", Span(shown, line),
                             f"the {broker} header: {','.join(expected)}")
        if got[i] != name:
            shown_name = f"'{got[i]}'" if got[i] else "an unnamed column"
            want = f"'{name}'" if name else "an unnamed column (the currency of the column before)"
            raise ParseError(f"column {i + 1} is {shown_name}, where the {broker} export has {want}", Span(shown, line, None, got[i] or f"#{i + 1}"),
                             f"the {broker} header: {','.join(expected)}")
    extra = [h for h in got[len(expected):] if h]
    if extra:
        raise ParseError(f"unknown column '{extra[0]}' after the last expected one", Span(shown, line, None, extra[0]),
                         f"the {broker} header: {','.join(expected)}")


def named_row(shown: str, line: int, header: list[str], cells: list[str], keys: list[str] | None = None) -> Row:
    """The cells by name; `keys` names the columns (default: the header), so unnamed columns can be named."""
    names = keys or [h.strip() for h in header]
    if len(cells) < len([n for n in names if n]) or len(cells) > len(names) + 1:
        raise ParseError(f"the row has {len(cells)} cells but the header has {len(names)}", Span(shown, line),
                         f"{len(names)} comma-separated cells; was the export cut short or edited?")
    return Row(shown, line, {name: cell for name, cell in zip(names, cells) if name})


def read_file(path: Path, shown: str) -> str:
    """The file as text (UTF-8, a byte-order mark dropped); a byte that is not UTF-8 is an error with its place."""
    return read_text(path, shown)
