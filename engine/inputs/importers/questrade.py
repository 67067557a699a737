"""`questrade`: a Questrade account activity export, saved as CSV.

Questrade publishes no description of this file; the columns follow public fixtures (docs/imports.md):
`Transaction Date, Settlement Date, Action, Symbol, Description, Quantity, Price, Gross Amount,
Commission, Net Amount, Currency, Account #, Activity Type, Account Type`, mapped by name (their order
differs between exports). Quantities are negative for sales; the sign of Commission and Gross Amount
differs between files, so they are read as sizes and checked: |Net| = |Gross| + |Commission| on a buy,
|Gross| - |Commission| on a sale. Dates carry a time (`2025-01-15 09:30:00 AM`). The account type
(TFSA, RRSP, ...) is checked against the household's wrapper for the account.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from taxpack.engine.core.documents import did_you_mean
from taxpack.engine.core.errors import ParseError, Span
from taxpack.engine.inputs.importers.statement import (
    ZERO,
    ImportedDividend,
    ImportedTrade,
    Importer,
    Row,
    SecurityRef,
    Skipped,
    Statement,
    close_enough,
    csv_records,
    currency_code,
    iso_date,
    named_row,
    plain_number,
    read_file,
)

COLUMNS = ["Transaction Date", "Settlement Date", "Action", "Symbol", "Description", "Quantity", "Price", "Gross Amount", "Commission",
           "Net Amount", "Currency", "Account #", "Activity Type", "Account Type"]
DOCUMENTATION = (
    "http://help.questrade.com/how-to/portfolio-iq/portfolio-performance/viewing-your-account's-historical-performance (the UI only; columns from public fixtures, see docs/imports.md)",
)
# (Activity Type, Action) -> what the row is.
TRADES = {("Trades", "Buy"): "buy", ("Trades", "Sell"): "sell", ("Dividend reinvestment", "REI"): "buy"}
DIVIDEND = {("Dividends", "DIV")}
WITHHOLDING = {("Dividends", "NRT")}
NOT_IMPORTED = ("Deposits", "Withdrawals", "Interest", "Fees and rebates", "FX conversion", "Other")
NOT_SUPPORTED = {"Corporate actions": "a corporate action (the export gives no ratio)", "Transfers": "a transfer of shares (no cost in the export)"}
ACTIVITIES = ("Trades", "Dividends", "Dividend reinvestment", *NOT_IMPORTED, *NOT_SUPPORTED)
DATE_WORDS = "YYYY-MM-DD, optionally followed by a time such as 09:30:00 AM"


def _date(row: Row, column: str) -> dt.date:
    text = row.get(column)
    match = re.match(r"(\d{4}-\d{2}-\d{2})(\s+\d{1,2}:\d{2}(:\d{2})?(\s*[AP]M)?)?$", text)
    if not match:
        raise ParseError(f"'{text}' is not a date", row.span(column), DATE_WORDS)
    return iso_date(match.group(1), row.span(column), ("%Y-%m-%d",), DATE_WORDS)


def _number(row: Row, column: str, default: Decimal | None = None) -> Decimal:
    text = row.get(column)
    if not text and default is not None:
        return default
    if not text:
        raise ParseError("the cell is empty", row.span(column), "a number")
    return plain_number(text, row.span(column))


def read(path: Path, shown: str) -> Statement:
    text = read_file(path, shown)
    statement = Statement("questrade", [shown])
    header: list[str] | None = None
    rows: list[Row] = []
    for line, cells in csv_records(text, shown):
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            for name in header:
                if name not in COLUMNS:
                    raise ParseError(f"unknown column '{name}'{did_you_mean(name, COLUMNS)}", Span(shown, line, None, name),
                                     "the Questrade activity columns: " + ", ".join(COLUMNS))
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise ParseError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}", Span(shown, line),
                                 "the Questrade activity columns: " + ", ".join(COLUMNS))
            continue
        if len(cells) != len(header):
            raise ParseError(f"the row has {len(cells)} cells but the header has {len(header)}", Span(shown, line),
                             f"{len(header)} comma-separated cells: was the export cut short or edited?")
        rows.append(named_row(shown, line, header, cells))
    if header is None:
        raise ParseError("the file is empty", Span(shown, 1), "the Questrade activity columns: " + ", ".join(COLUMNS))
    payouts: dict[tuple[str, str, dt.date], list[Row]] = {}
    for row in rows:
        activity, action = row.get("Activity Type"), row.get("Action")
        account = row.get("Account #")
        if not account:
            raise ParseError("the cell is empty", row.span("Account #"), "the account number")
        if activity not in ACTIVITIES:
            raise ParseError(f"unknown activity type '{activity}'{did_you_mean(activity, ACTIVITIES)}", row.span("Activity Type"), "one of " + ", ".join(ACTIVITIES))
        if activity in NOT_SUPPORTED:
            raise ParseError(f"'{activity}' ({action}) is {NOT_SUPPORTED[activity]}, which taxpack cannot import", row.span("Activity Type"),
                             "enter it in the scenario by hand and remove the row")
        currency = currency_code(row.get("Currency"), row.span("Currency"))
        if row.get("Account Type"):
            statement.account_types.setdefault(account, (row.get("Account Type"), row.span("Account Type")))
        if activity in NOT_IMPORTED:
            statement.skipped.append(Skipped(f"Questrade: {activity} ({action})", account, currency, _number(row, "Net Amount", ZERO), row.span()))
            continue
        key = (activity, action)
        if key in TRADES:
            statement.trades.append(_trade(row, account, TRADES[key], currency))
        elif key in DIVIDEND or key in WITHHOLDING:
            payouts.setdefault((account, _security(row, currency).key, _date(row, "Settlement Date")), []).append(row)
        else:
            known = [f"{a} {b}" for a, b in (*TRADES, *DIVIDEND, *WITHHOLDING)]
            raise ParseError(f"unknown action '{action}' for activity type '{activity}'", row.span("Action"), "one of " + ", ".join(known))
    for (account, symbol, day), group in sorted(payouts.items(), key=lambda item: (item[0][0], item[0][2], item[0][1])):
        paid = [r for r in group if r.get("Action") == "DIV"]
        taxes = [r for r in group if r.get("Action") == "NRT"]
        if not paid:
            raise ParseError(f"non-resident tax for {symbol} on {day} has no dividend of the same symbol and day", taxes[0].span("Action"),
                             "the DIV row it was withheld from in the same export")
        first = paid[0]
        currency = currency_code(first.get("Currency"), first.span("Currency"))
        gross = sum((_number(r, "Net Amount") for r in paid), ZERO)
        withheld = -sum((_number(r, "Net Amount") for r in taxes), ZERO)
        if gross <= 0 or withheld < 0:
            raise ParseError(f"a dividend of {gross} with {withheld} withheld", first.span("Net Amount"),
                             "a positive DIV amount and a negative NRT amount")
        statement.dividends.append(ImportedDividend(account, _security(first, currency), day, gross, withheld, currency, first.span(),
                                                    None, "dividend", None, first.get("Description") or None))
    return statement


def _security(row: Row, currency: str) -> SecurityRef:
    symbol = row.get("Symbol")
    if not symbol:
        raise ParseError("the cell is empty", row.span("Symbol"), "the symbol (options, which have none, are not imported)")
    return SecurityRef(symbol, None, currency, row.get("Description") or None)


def _trade(row: Row, account: str, side: str, currency: str) -> ImportedTrade:
    quantity = _number(row, "Quantity")
    if quantity == 0 or (side == "buy") != (quantity > 0):
        raise ParseError(f"quantity {quantity} on a {side}", row.span("Quantity"), "positive on a buy, negative on a sale")
    price = _number(row, "Price")
    gross, commission, net = abs(_number(row, "Gross Amount")), abs(_number(row, "Commission", ZERO)), abs(_number(row, "Net Amount"))
    if not close_enough(gross, abs(quantity) * price):
        raise ParseError(f"the gross amount {row.get('Gross Amount')} is not quantity x price = {abs(quantity) * price}", row.span("Gross Amount"),
                         "Gross Amount = Quantity x Price: was a column moved?")
    expected = gross + commission if side == "buy" else gross - commission
    if not close_enough(net, expected):
        raise ParseError(f"the net amount {row.get('Net Amount')} is not gross {'+' if side == 'buy' else '-'} commission = {expected}", row.span("Net Amount"),
                         "|Net Amount| = |Gross Amount| + |Commission| on a buy, minus on a sale")
    settle = _date(row, "Settlement Date") if row.get("Settlement Date") else None
    note = "dividend reinvestment" if row.get("Action") == "REI" else None
    return ImportedTrade(account, _security(row, currency), _date(row, "Transaction Date"), side, abs(quantity), price, commission, currency,
                         row.span(), settle, None, note)


IMPORTER = Importer("questrade", "Questrade account activity (saved as CSV)", DOCUMENTATION, read,
                    "the account type (TFSA, RRSP, margin) is checked against the household's wrapper")
