"""`degiro`: DEGIRO's Transactions export and its Account statement (for dividends), both as CSV.

DEGIRO lists these exports in its help centre but publishes no column layout; the layouts follow
public fixtures (docs/imports.md). Each file is recognised by its header, in English or German:

- Transactions: `Date,Time,Product,ISIN,Reference exchange,Venue,Quantity,Price,,Local value,,Value EUR,
  Exchange rate,AutoFX Fee,Transaction and/or third party fees EUR,Total EUR,Order ID,` (the unnamed
  column after Price and Local value is their currency; the account currency is in the header).
  Quantity is negative for a sale; fees are negative, in the account currency, and are converted to
  the trade's currency at the row's own rate (units of the trade currency per unit of the account's);
  Total must equal Value + AutoFX Fee + fees. A split or ISIN change is booked as two pseudo-trades at
  00:00 with no venue and no order id: such a pair is read as the corporate action, never as a sale.
- Account statement: `Date,Time,Value date,Product,ISIN,Description,FX,Change,,Balance,,Order Id` (here
  the named column holds the currency and the unnamed one the amount). Dividend and dividend-tax rows
  of one ISIN and value date make one dividend; trade echoes and cash movements are listed, not imported.

Dates are DD-MM-YYYY; the decimal mark is sniffed per file (most files use a comma).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

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
    comma_number,
    csv_records,
    currency_code,
    isin_or_none,
    iso_date,
    named_row,
    read_file,
)

DOCUMENTATION = (
    "https://www.degiro.fi/helpdesk/tax/what-kind-reports-are-there-and-where-can-i-find-them (the exports; no column layout published)",
)
TX_KEYS = ["date", "time", "product", "isin", "exchange", "venue", "quantity", "price", "price_currency", "local", "local_currency",
           "value", "rate", "autofx", "fees", "total", "order"]
TX_HEADERS = {
    "English": ["Date", "Time", "Product", "ISIN", "Reference exchange", "Venue", "Quantity", "Price", "", "Local value", "", "Value {c}",
                "Exchange rate", "AutoFX Fee", "Transaction and/or third party fees {c}", "Total {c}", "Order ID"],
    "German": ["Datum", "Uhrzeit", "Produkt", "ISIN", "Referenzbörse", "Ausführungsort", "Anzahl", "Kurs", "", "Wert in Lokalwährung", "",
               "Wert {c}", "Wechselkurs", "AutoFX-Gebühr", "Transaktionsgebühren und/oder Fremdkosten {c}", "Gesamt {c}", "Order-ID"],
}
ST_KEYS = ["date", "time", "value_date", "product", "isin", "description", "fx", "change_currency", "change", "balance_currency", "balance", "order"]
ST_HEADERS = {
    "English": ["Date", "Time", "Value date", "Product", "ISIN", "Description", "FX", "Change", "", "Balance", "", "Order Id"],
    "German": ["Datum", "Uhrzeit", "Valutadatum", "Produkt", "ISIN", "Beschreibung", "FX", "Änderung", "", "Saldo", "", "Order-ID"],
}
DIVIDEND_WORDS = ("Dividend", "Dividende", "Fund Distribution", "Ausschüttung")
TAX_WORDS = ("Dividend Tax", "Dividendensteuer", "Dividendbelasting")
# Rows of the account statement that repeat the Transactions export or move cash between currencies.
ECHO_PREFIXES = ("Buy ", "Sell ", "Kauf ", "Verkauf ", "DEGIRO Transaction", "Transaktionsgebühr", "DEGIRO Transaktions")
ECHO_WORDS = ("SPLIT", "ISIN-WIJZIGING", "ISIN CHANGE", "ISIN-ÄNDERUNG", "FX Credit", "FX Debit", "Währungswechsel", "Valuta Creditering", "Valuta Debitering")
DATE_WORDS = "DD-MM-YYYY"


def _oldest_first(records: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """DEGIRO lists the newest first: same-day rows must run in the order they happened."""
    def day(cells: list[str]) -> str:
        parts = cells[0].strip().split("-") if cells else []
        return "".join(reversed(parts)) if len(parts) == 3 else ""
    if len(records) > 1 and day(records[0][1]) > day(records[-1][1]):
        return list(reversed(records))
    return records


def _sniff_mark(cells: list[list[str]]) -> str:
    for row in cells:
        for cell in row:
            if re.fullmatch(r"-?\d+,\d+", cell.strip()):
                return ","
    return "."


def read(path: Path, shown: str) -> Statement:
    text = read_file(path, shown)
    records = [(line, cells) for line, cells in csv_records(text, shown) if any(c.strip() for c in cells)]
    if not records:
        raise ParseError("the file is empty", Span(shown, 1), "a DEGIRO Transactions or Account statement export")
    line, header = records[0]
    first = header[0].strip() if header else ""
    mark = _sniff_mark([cells for _, cells in records[1:]])
    statement = Statement("degiro", [shown])
    if len(header) > 2 and header[2].strip() in ("Value date", "Valutadatum"):
        language = "English" if first == "Date" else "German"
        check_header(header, ST_HEADERS[language], shown, line, f"DEGIRO Account statement ({language})")
        _statement(records[1:], header, shown, mark, statement)
        return statement
    language = "German" if first == "Datum" else "English"
    currency = _account_currency(header, language)
    expected = [h.replace("{c}", currency) for h in TX_HEADERS[language]]
    check_header(header[: len(expected)], expected, shown, line, f"DEGIRO Transactions ({language})")
    if any(h.strip() for h in header[len(expected):]):
        extra = next(h for h in header[len(expected):] if h.strip())
        raise ParseError(f"unknown column '{extra}' after the last expected one", Span(shown, line, None, extra),
                         f"the DEGIRO Transactions header: {','.join(expected)}")
    _transactions(records[1:], header, shown, mark, currency, statement)
    return statement


def _account_currency(header: list[str], language: str) -> str:
    cell = header[11].strip() if len(header) > 11 else ""
    word = "Value " if language == "English" else "Wert "
    if cell.startswith(word) and re.fullmatch(r"[A-Z]{3}", cell[len(word):]):
        return cell[len(word):]
    return "EUR"  # check_header names the column that differs


def _row(shown: str, line: int, header: list[str], cells: list[str], keys: list[str]) -> Row:
    padded = keys + [f"extra{i}" for i in range(len(header) - len(keys))]
    return named_row(shown, line, header, cells, padded)


def _num(row: Row, key: str, mark: str, shown_name: str, default: Decimal | None = None) -> Decimal:
    text = row.get(key)
    if not text and default is not None:
        return default
    if not text:
        raise ParseError("the cell is empty", Span(row.file, row.line, None, shown_name), "a number")
    return comma_number(text, Span(row.file, row.line, None, shown_name), mark)


def _transactions(records: list[tuple[int, list[str]]], header: list[str], shown: str, mark: str, account_currency: str, statement: Statement) -> None:
    names = dict(zip(TX_KEYS, [h.strip() or f"#{i + 1}" for i, h in enumerate(header)]))
    records = _oldest_first(records)
    pseudo: dict[tuple[dt.date, str], list[tuple[Row, SecurityRef, Decimal, Decimal]]] = {}
    for line, cells in records:
        row = _row(shown, line, header, cells, TX_KEYS)

        def at(key: str, row: Row = row) -> Span:
            return Span(shown, row.line, None, names[key])

        day = iso_date(row.get("date"), at("date"), ("%d-%m-%Y",), DATE_WORDS)
        isin = isin_or_none(row.get("isin"), at("isin"))
        if isin is None:
            raise ParseError("the cell is empty", at("isin"), "the ISIN of the product")
        local_currency = currency_code(row.get("local_currency") or row.get("price_currency"), at("local_currency"))
        security = SecurityRef(None, isin, local_currency, row.get("product") or None)
        quantity = _num(row, "quantity", mark, names["quantity"])
        price = _num(row, "price", mark, names["price"])
        local = _num(row, "local", mark, names["local"])
        value = _num(row, "value", mark, names["value"])
        autofx = _num(row, "autofx", mark, names["autofx"], ZERO)
        fees = _num(row, "fees", mark, names["fees"], ZERO)
        total = _num(row, "total", mark, names["total"], value + autofx + fees)
        order = row.get("order") or "".join(row.cells.get(k, "").strip() for k in row.cells if k.startswith("extra"))
        if quantity == 0:
            raise ParseError("quantity 0", at("quantity"), "a positive quantity (a buy) or a negative one (a sale)")
        if not close_enough(abs(local), abs(quantity) * price):
            raise ParseError(f"the local value {row.get('local')} is not quantity x price = {abs(quantity) * price}", at("local"),
                             "Local value = -Quantity x Price: was a column moved?")
        if not close_enough(total, value + autofx + fees):
            raise ParseError(f"the total {row.get('total')} is not value + AutoFX fee + fees = {value + autofx + fees}", at("total"),
                             "Total = Value + AutoFX Fee + fees: was a column moved?")
        if not order and not row.get("venue") and row.get("time") in ("00:00", "0:00") and autofx == 0 and fees == 0:
            pseudo.setdefault((day, row.get("time")), []).append((row, security, quantity, price))
            continue
        if autofx > 0 or fees > 0:
            raise ParseError("a positive fee", at("fees" if fees > 0 else "autofx"), "fees as DEGIRO books them: negative, or 0")
        cost = -(autofx + fees)  # in the account currency
        if cost and local_currency != account_currency:
            rate = _num(row, "rate", mark, names["rate"])
            if rate <= 0:
                raise ParseError(f"exchange rate {rate}", at("rate"), "a positive rate: units of the trade currency per unit of the account currency")
            fees_local = cost * rate
            note = f"fees {cost} {account_currency} at DEGIRO's rate {rate}"
        else:
            fees_local, note = cost, None
        side = "buy" if quantity > 0 else "sell"
        statement.trades.append(ImportedTrade("", security, day, side, abs(quantity), price, fees_local, local_currency, row.span(), None,
                                              order or None, note))
    for (day, _), group in sorted(pseudo.items(), key=lambda item: item[0]):
        _pseudo_pair(day, group, statement)


def _pseudo_pair(day: dt.date, group: list[tuple[Row, SecurityRef, Decimal, Decimal]], statement: Statement) -> None:
    """Two bookings at 00:00 without an order: a split or an ISIN change (old units out, new units in, same value)."""
    out = [g for g in group if g[2] < 0]
    into = [g for g in group if g[2] > 0]
    if len(out) != 1 or len(into) != 1:
        row = group[0][0]
        raise ParseError(f"{len(group)} bookings without an order on {day} at 00:00", row.span(),
                         "a pair (old units out, new units in) for a split or an ISIN change; other corporate actions must be entered by hand")
    (old_row, old, old_qty, old_price), (new_row, new, new_qty, new_price) = out[0], into[0]
    if not close_enough(abs(old_qty) * old_price, new_qty * new_price):
        raise ParseError(f"the pair on {day} changes the value from {abs(old_qty) * old_price} to {new_qty * new_price}", new_row.span(),
                         "a split or ISIN change keeps the value: anything else is a trade and needs an order id")
    ratio = (new_qty, -old_qty)
    if old.key == new.key:
        statement.actions.append(ImportedAction("", "split", old, day, old_row.span(), ratio=ratio, currency=old.currency, note="DEGIRO pseudo-trades"))
    elif new_qty == -old_qty:
        statement.actions.append(ImportedAction("", "identifier_change", old, day, old_row.span(), new_security=new, currency=old.currency,
                                                note="DEGIRO pseudo-trades"))
    else:
        statement.actions.append(ImportedAction("", "split", old, day, old_row.span(), new_security=new, ratio=ratio, currency=old.currency,
                                                note="DEGIRO pseudo-trades"))


def _statement(records: list[tuple[int, list[str]]], header: list[str], shown: str, mark: str, statement: Statement) -> None:
    names = dict(zip(ST_KEYS, [h.strip() or f"#{i + 1}" for i, h in enumerate(header)]))
    payouts: dict[tuple[str, dt.date], list[tuple[Row, str, Decimal, bool]]] = {}
    for line, cells in records:
        row = _row(shown, line, header, cells, ST_KEYS)

        def at(key: str, row: Row = row) -> Span:
            return Span(shown, row.line, None, names[key])

        description = row.get("description")
        isin = isin_or_none(row.get("isin"), at("isin"))
        amount = _num(row, "change", mark, names["change"], ZERO)
        currency = currency_code(row.get("change_currency"), at("change_currency")) if row.get("change_currency") else None
        if isin is None or description.startswith(ECHO_PREFIXES) or any(w in description for w in ECHO_WORDS):
            statement.skipped.append(Skipped(f"DEGIRO: {_kind(description)}", "", currency, amount, row.span()))
            continue
        if description in DIVIDEND_WORDS or description in TAX_WORDS:
            if currency is None:
                raise ParseError("the cell is empty", at("change_currency"), "the currency of the amount")
            day = iso_date(row.get("value_date") or row.get("date"), at("value_date"), ("%d-%m-%Y",), DATE_WORDS)
            payouts.setdefault((isin, day), []).append((row, currency, amount, description in TAX_WORDS))
            continue
        raise ParseError(f"unknown description '{description}' on a row of {isin}", at("description"),
                         "Dividend, Dividend Tax (or their German words), or a trade echo (Buy/Sell ...): other events of a security must be entered by hand")
    for (isin, day), group in sorted(payouts.items(), key=lambda item: (item[0][1], item[0][0])):
        paid = [g for g in group if not g[3]]
        taxes = [g for g in group if g[3]]
        if not paid:
            row = taxes[0][0]
            raise ParseError(f"dividend tax on {isin} on {day} has no dividend of the same ISIN and value date", Span(shown, row.line, None, names["description"]),
                             "the Dividend row it was withheld from in the same export")
        currencies = {g[1] for g in group}
        if len(currencies) > 1:
            row = group[0][0]
            raise ParseError(f"a dividend of {isin} on {day} in {' and '.join(sorted(currencies))}", Span(shown, row.line, None, names["change_currency"]),
                             "the dividend and its tax in one currency")
        gross = sum((g[2] for g in paid), ZERO)
        withheld = -sum((g[2] for g in taxes), ZERO)
        first = paid[0][0]
        if gross <= 0 or withheld < 0:
            raise ParseError(f"a dividend of {gross} with {withheld} withheld", Span(shown, first.line, None, names["change"]),
                             "a positive dividend and a negative dividend tax")
        statement.dividends.append(ImportedDividend("", SecurityRef(None, isin, paid[0][1], first.get("product") or None), day, gross, withheld,
                                                    paid[0][1], first.span()))


def _kind(description: str) -> str:
    if description.startswith(ECHO_PREFIXES):
        return "trade echo (in the Transactions export)"
    for word in ECHO_WORDS:
        if word in description:
            return "currency conversion" if word.startswith(("FX", "Währung", "Valuta")) else "corporate-action echo (in the Transactions export)"
    return description or "(no description)"


IMPORTER = Importer("degiro", "DEGIRO Transactions and Account statement (CSV, English or German)", DOCUMENTATION, read,
                    "no account number in the files: name the account with --account; give the Account statement for dividends")
