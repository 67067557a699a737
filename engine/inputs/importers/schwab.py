"""`schwab-csv`: Charles Schwab brokerage transaction history, exported as CSV.

Schwab publishes no description of this file; the layout follows public fixtures of converters and
parsers (see docs/imports.md): the header `Date,Action,Symbol,Description,Quantity,Price,Fees & Comm,
Amount`, every cell quoted, dates `MM/DD/YYYY` (a correction reads `MM/DD/YYYY as of MM/DD/YYYY`: the
"as of" date is the trade or payment date used here), money as `$1,234.56` or `-$312.00`, quantities
unsigned (the action gives the direction), `Amount` signed cash. USD only; symbols, no ISIN. An older
export starts with a title line naming the account and ends with a "Transactions Total" row: when the
title is there the total must be too (a file cut short is an error) and must equal the rows' sum.
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
    ImportedAction,
    ImportedDividend,
    ImportedTrade,
    Importer,
    Row,
    SecurityRef,
    Skipped,
    Statement,
    check_header,
    close_enough,
    csv_records,
    dollar_number,
    iso_date,
    named_row,
    read_file,
)

HEADER = ["Date", "Action", "Symbol", "Description", "Quantity", "Price", "Fees & Comm", "Amount"]
DOCUMENTATION = (
    "https://www.schwab.com/ (no published layout; columns from public fixtures, see docs/imports.md)",
)
BUYS = {"Buy": None, "Reinvest Shares": "dividend reinvestment"}
SELLS = ("Sell",)
DIVIDENDS = ("Qualified Dividend", "Cash Dividend", "Non-Qualified Div", "Special Dividend", "Special Qual Div", "Qual Div Reinvest",
             "Reinvest Dividend", "Pr Yr Cash Div", "Pr Yr Div Reinvest", "Pr Yr Special Div", "Div Adjustment")
WITHHOLDING = ("NRA Tax Adj", "NRA Withholding", "Foreign Tax Paid", "Tax Reversal")
SPLITS = ("Stock Split",)
CASH_IN_LIEU = ("Cash In Lieu",)
RETURN_OF_CAPITAL = ("Return Of Capital",)
# Rows that change no lot and no dividend: listed with their amounts, not imported.
NOT_IMPORTED = ("MoneyLink Transfer", "MoneyLink Deposit", "MoneyLink Adj", "Wire Funds", "Wire Received", "Funds Received", "Journal",
                "Misc Cash Entry", "Credit Interest", "Bank Interest", "Bond Interest", "Service Fee", "ADR Mgmt Fee",
                "Long Term Cap Gain", "Short Term Cap Gain", "Long Term Cap Gain Reinvest", "Short Term Cap Gain Reinvest",
                "Tax Withholding", "IRS Withhold Adj")
# Rows that change holdings in a way the export does not describe fully: an error, so nothing is lost.
NOT_SUPPORTED = {"Buy to Open": "options", "Buy to Close": "options", "Sell to Open": "options", "Sell to Close": "options",
                 "Expired": "options", "Assigned": "options", "Reverse Split": "a reverse split (two rows without a ratio)",
                 "Spin-off": "a spin-off (no ratio, no cost allocation)", "Security Transfer": "a transfer of shares (no cost in the export)",
                 "Stock Plan Activity": "an employee stock plan deposit (no cost in the export)"}
KNOWN = (*BUYS, *SELLS, *DIVIDENDS, *WITHHOLDING, *SPLITS, *CASH_IN_LIEU, *RETURN_OF_CAPITAL, *NOT_IMPORTED, *NOT_SUPPORTED)
_DATE = re.compile(r"(\d{2}/\d{2}/\d{4})(?:\s+as of\s+(\d{2}/\d{2}/\d{4}))?")
_ACCOUNT = re.compile(r"account\s+([^\s,\"]+)", re.IGNORECASE)


def _date(row: Row) -> dt.date:
    text = row.get("Date")
    match = _DATE.fullmatch(text)
    if not match:
        raise ParseError(f"'{text}' is not a date", row.span("Date"), "MM/DD/YYYY, or MM/DD/YYYY as of MM/DD/YYYY")
    return iso_date(match.group(2) or match.group(1), row.span("Date"), ("%m/%d/%Y",), "MM/DD/YYYY")


def _money(row: Row, column: str, default: Decimal | None = None) -> Decimal:
    text = row.get(column)
    if not text:
        if default is not None:
            return default
        raise ParseError("the cell is empty", row.span(column), "an amount such as $1,234.56")
    return dollar_number(text, row.span(column))


def _quantity(row: Row) -> Decimal:
    text = row.get("Quantity").replace(",", "")
    if not re.fullmatch(r"\d+(\.\d+)?", text) or Decimal(text) == 0:
        raise ParseError(f"'{row.get('Quantity')}' is not a quantity", row.span("Quantity"), "a positive number (Schwab's quantities are unsigned)")
    return Decimal(text)


def _symbol(row: Row) -> SecurityRef:
    symbol = row.get("Symbol")
    if not symbol:
        raise ParseError("the cell is empty", row.span("Symbol"), "the symbol of the security")
    return SecurityRef(symbol, None, "USD", row.get("Description") or None)


def read(path: Path, shown: str) -> Statement:
    text = read_file(path, shown)
    statement = Statement("schwab-csv", [shown])
    account = ""
    header: list[str] | None = None
    titled = False
    total: tuple[Decimal, Span] | None = None
    rows: list[Row] = []
    for line, cells in csv_records(text, shown):
        if not any(c.strip() for c in cells):
            continue
        if total is not None:
            raise ParseError("a row after the 'Transactions Total' row", Span(shown, line), "the total as the last row")
        if header is None:
            first = cells[0].strip()
            if first.startswith("Transactions") and len([c for c in cells if c.strip()]) == 1:
                titled = True
                match = _ACCOUNT.search(first)
                account = match.group(1) if match else ""
                continue
            check_header(cells, HEADER, shown, line, "Schwab")
            header = cells
            continue
        if cells[0].strip() == "Transactions Total":
            row = named_row(shown, line, header, cells)
            total = (_money(row, "Amount"), row.span("Amount"))
            continue
        rows.append(named_row(shown, line, header, cells))
    if header is None:
        raise ParseError("no header row", Span(shown, 1), "the Schwab header: " + ",".join(HEADER))
    if titled and total is None:
        last = rows[-1].line if rows else 1
        raise ParseError("the file ends without its 'Transactions Total' row", Span(shown, last),
                         "a complete export: the title line promises a total as the last row; was the file cut short?")
    if len(rows) > 1 and _date(rows[0]) > _date(rows[-1]):
        rows.reverse()  # Schwab lists the newest first: same-day trades must run in the order they happened
    _interpret(rows, account, statement)  # each row checked first: a wrong row is named before a wrong total
    if total is not None:
        summed = sum((_money(r, "Amount", ZERO) for r in rows), ZERO)
        if not close_enough(summed, total[0]):
            raise ParseError(f"the rows add up to {summed}, the total says {total[0]}", total[1], "the sum of the Amount column: is a row missing?")
    return statement


def _interpret(rows: list[Row], account: str, statement: Statement) -> None:
    payouts: dict[tuple[str, dt.date], list[Row]] = {}
    splits: list[tuple[Row, ImportedAction]] = []
    in_lieu: list[Row] = []
    for row in rows:
        action = row.get("Action")
        if action not in KNOWN:
            raise ParseError(f"unknown action '{action}'{did_you_mean(action, KNOWN)}", row.span("Action"),
                             "a Schwab action taxpack knows: " + ", ".join((*BUYS, *SELLS, *DIVIDENDS, *WITHHOLDING, *SPLITS, *CASH_IN_LIEU)) + ", or a cash movement")
        if action in NOT_SUPPORTED:
            raise ParseError(f"'{action}' is {NOT_SUPPORTED[action]}, which taxpack cannot import", row.span("Action"),
                             "enter it in the scenario by hand (corporate_actions, or transactions with their cost) and remove the row")
        if action in NOT_IMPORTED:
            statement.skipped.append(Skipped(f"Schwab: {action}", account, "USD", _money(row, "Amount", ZERO), row.span()))
        elif action in BUYS or action in SELLS:
            statement.trades.append(_trade(row, account, action))
        elif action in DIVIDENDS or action in WITHHOLDING:
            payouts.setdefault((_symbol(row).key, _date(row)), []).append(row)
        elif action in SPLITS:
            split = ImportedAction(account, "split", _symbol(row), _date(row), row.span(), added=_quantity(row), currency="USD",
                                   note=row.get("Description") or None)
            splits.append((row, split))
        elif action in CASH_IN_LIEU:
            in_lieu.append(row)
        elif action in RETURN_OF_CAPITAL:
            amount = _money(row, "Amount")
            if amount <= 0:
                raise ParseError(f"a return of capital of {amount}", row.span("Amount"), "a positive amount received")
            statement.actions.append(ImportedAction(account, "return_of_capital", _symbol(row), _date(row), row.span(), amount=amount, currency="USD"))
    for row in in_lieu:
        symbol, day = _symbol(row).key, _date(row)
        near = [(abs((s.date - day).days), i) for i, (_, s) in enumerate(splits) if s.security.key == symbol and abs((s.date - day).days) <= 31]
        if not near:
            raise ParseError(f"cash in lieu for {symbol} on {day} with no stock split of {symbol} within 31 days", row.span("Action"),
                             "the Stock Split row it belongs to in the same export")
        index = min(near)[1]
        split_row, split = splits[index]
        cash = _money(row, "Amount")
        splits[index] = (split_row, ImportedAction(split.account, "split", split.security, split.date, split.span, added=split.added,
                                                   cash_in_lieu=(split.cash_in_lieu or ZERO) + cash, currency="USD", note=split.note))
    statement.actions.extend(split for _, split in splits)
    for (symbol, day), group in sorted(payouts.items(), key=lambda item: (item[0][1], item[0][0])):
        paid = [r for r in group if r.get("Action") in DIVIDENDS]
        taxes = [r for r in group if r.get("Action") in WITHHOLDING]
        if not paid:
            raise ParseError(f"'{taxes[0].get('Action')}' for {symbol} on {day} has no dividend of the same symbol and day", taxes[0].span("Action"),
                             "the dividend row it was withheld from in the same export")
        gross = sum((_money(r, "Amount") for r in paid), ZERO)
        withheld = -sum((_money(r, "Amount") for r in taxes), ZERO)
        first = paid[0]
        if gross <= 0:
            raise ParseError(f"the dividends of {symbol} on {day} add up to {gross}", first.span("Amount"), "a positive dividend")
        statement.dividends.append(ImportedDividend(account, _symbol(first), day, gross, withheld, "USD", first.span(), None, "dividend",
                                                    None, ", ".join(sorted({r.get('Action') for r in group}))))


def _trade(row: Row, account: str, action: str) -> ImportedTrade:
    quantity = _quantity(row)
    price = _money(row, "Price")
    fees = _money(row, "Fees & Comm", ZERO)
    amount = _money(row, "Amount")
    if price < 0 or fees < 0:
        raise ParseError("a negative price or fee", row.span("Price" if price < 0 else "Fees & Comm"), "0 or more")
    side = "buy" if action in BUYS else "sell"
    expected = -(quantity * price + fees) if side == "buy" else quantity * price - fees
    if not close_enough(amount, expected):
        raise ParseError(f"the amount {row.get('Amount')} is not quantity x price {'+' if side == 'buy' else '-'} fees = {expected}", row.span("Amount"),
                         "Amount = -(Quantity x Price + Fees & Comm) on a buy, Quantity x Price - Fees & Comm on a sale: was a column moved?")
    return ImportedTrade(account, _symbol(row), _date(row), side, quantity, price, fees, "USD", row.span(), None, None, BUYS.get(action))


IMPORTER = Importer("schwab-csv", "Charles Schwab transaction history (CSV)", DOCUMENTATION, read,
                    "no account number in the file unless it has the title line: name the account with --account")
