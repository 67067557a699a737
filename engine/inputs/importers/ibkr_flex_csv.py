"""`ibkr-flex-csv`: an Interactive Brokers Activity Flex Query downloaded as CSV, with section codes.

Each section is a `HEADER,CODE,...` line naming its columns and `DATA,CODE,...` lines; with "include
header and trailer records" the file is framed by BOF/EOF, each account by BOA/EOA and each section by
BOS/EOS, whose third cell is the section's row count. taxpack needs the section codes (without them
the sections cannot be told apart reliably); the trailer records, when present, prove the file is
complete: a file that ends inside a section, or a count that does not match, is an error. Column
names are PascalCase and differ from the XML attributes (ClientAccountID is accountId); both map to
the same fields. Sections: TRNT trades, CORP corporate actions, CTRN cash transactions; the others
are listed as not imported.
"""

from __future__ import annotations

from pathlib import Path

from taxpack.engine.core.errors import ParseError, Span
from taxpack.engine.inputs.importers.ibkr_flex import DOCUMENTATION, FlexRow, check_fields, interpret
from taxpack.engine.inputs.importers.statement import Importer, Skipped, Statement, csv_records, read_file

SECTIONS = {"TRNT": "Trade", "CORP": "CorporateAction", "CTRN": "CashTransaction"}
# CSV column -> XML attribute, where the CSV name is not the attribute with its first letter capitalised.
COLUMN_FIELDS = {
    "ClientAccountID": "accountId", "AccountAlias": "acctAlias", "CurrencyPrimary": "currency", "AssetClass": "assetCategory",
    "FXRateToBase": "fxRateToBase", "Buy/Sell": "buySell", "Open/CloseIndicator": "openCloseIndicator", "Notes/Codes": "notes",
    "IBCommission": "ibCommission", "IBCommissionCurrency": "ibCommissionCurrency", "CostBasis": "cost", "IBOrderID": "ibOrderID",
    "IBExecID": "ibExecID", "SecurityID": "securityID", "SecurityIDType": "securityIDType", "TradeID": "tradeID",
    "TransactionID": "transactionID", "ActionID": "actionID", "OrderID": "orderID", "ExecID": "execID",
    "BrokerageOrderID": "brokerageOrderID", "ExchOrderID": "exchOrderId", "ExtExecID": "extExecID", "OrigTradeID": "origTradeID",
    "OrigTransactionID": "origTransactionID", "OrigOrderID": "origOrderID", "UnderlyingConid": "underlyingConid",
    "UnderlyingSecurityID": "underlyingSecurityID", "TraderID": "traderID", "IssuerCountryCode": "issuerCountryCode",
    "Put/Call": "putCall", "ISIN": "isin", "CUSIP": "cusip", "FIGI": "figi", "NetCashInBase": "netCashInBase",
    "ClearingFirmID": "clearingFirmID", "RelatedTradeID": "relatedTradeID", "RelatedTransactionID": "relatedTransactionID",
    "RTN": "rtn", "PositionActionID": "positionActionID",
}
FRAMES = ("BOF", "BOA", "BOS", "EOS", "EOA", "EOF")


def field_of(column: str) -> str:
    return COLUMN_FIELDS.get(column, column[:1].lower() + column[1:])


_COLUMNS = {field: column for column, field in COLUMN_FIELDS.items()}


def column_of(field: str) -> str:
    return _COLUMNS.get(field, field[:1].upper() + field[1:])


def read(path: Path, shown: str) -> Statement:
    text = read_file(path, shown)
    statement = Statement("ibkr-flex-csv", [shown])
    rows: list[FlexRow] = []
    headers: dict[str, tuple[list[str], dict[str, str]]] = {}
    framed = False
    open_section: tuple[str, int, int] | None = None  # code, line of BOS, data rows seen
    account = ""
    ended = False
    last = 0
    for line, cells in csv_records(text, shown):
        if not any(c.strip() for c in cells):
            continue
        last = line
        tag = cells[0].strip()
        if ended:
            raise ParseError(f"a '{tag}' line after EOF", Span(shown, line), "nothing after the EOF line")
        if line == 1 and tag not in ("BOF", "HEADER"):
            raise ParseError(f"the first line starts with '{tag}'", Span(shown, 1, None, cells[0]),
                             "a Flex Query CSV with section codes: BOF or HEADER first (tick 'Include section code and line descriptor' in the Flex Query)")
        if tag == "BOF":
            framed = True
            continue
        if tag == "EOF":
            if open_section is not None:
                raise ParseError(f"EOF inside section {open_section[0]} (no EOS line)", Span(shown, line), "EOS before EOF")
            ended = True
            continue
        if tag == "BOA":
            account = cells[1].strip() if len(cells) > 1 else ""
            continue
        if tag == "EOA":
            continue
        code = cells[1].strip() if len(cells) > 1 else ""
        if tag == "BOS":
            open_section = (code, line, 0)
            continue
        if tag == "EOS":
            if open_section is None or open_section[0] != code:
                raise ParseError(f"EOS of section {code} without its BOS", Span(shown, line), "BOS,CODE before EOS,CODE")
            count_text = cells[2].strip() if len(cells) > 2 else ""
            if count_text.isdigit() and int(count_text) != open_section[2]:
                raise ParseError(f"section {code} says it has {count_text} rows, but {open_section[2]} were read", Span(shown, line),
                                 "the row count of the EOS line: was the file edited or cut?")
            open_section = None
            continue
        if tag == "HEADER":
            columns = [c.strip() for c in cells[2:]]
            fields = {field_of(c): c for c in columns}
            if code in SECTIONS:
                element = SECTIONS[code]
                check_fields(element, [field_of(c) for c in columns], {field_of(c): Span(shown, line, None, c) for c in columns}, Span(shown, line),
                             column_of)
            headers[code] = (columns, fields)
            continue
        if tag != "DATA":
            raise ParseError(f"unknown line descriptor '{tag}'", Span(shown, line, None, cells[0]), "one of " + ", ".join(("HEADER", "DATA") + FRAMES))
        if open_section is not None:
            open_section = (open_section[0], open_section[1], open_section[2] + 1)
        if code not in headers:
            raise ParseError(f"a DATA line of section {code} before its HEADER line", Span(shown, line), "HEADER,CODE,... first")
        columns, fields = headers[code]
        values = cells[2:]
        if len(values) != len(columns):
            raise ParseError(f"the row has {len(values)} values but the {code} header has {len(columns)}", Span(shown, line),
                             f"{len(columns)} values after DATA,{code}: was the file cut short or edited?")
        record = {field_of(c): v for c, v in zip(columns, values)}
        if code not in SECTIONS:
            statement.skipped.append(Skipped(f"section {code}", record.get("accountId", account), record.get("currency") or None, None, Span(shown, line)))
            continue
        if account and not record.get("accountId"):
            record["accountId"] = account
        rows.append(FlexRow(SECTIONS[code], record, shown, line, None, fields))
    if framed and not ended:
        where = f"inside section {open_section[0]}" if open_section else "before the EOF line"
        raise ParseError(f"the file ends {where}", Span(shown, last), "a complete export that ends with EOF; was the download cut short?")
    if open_section is not None:
        raise ParseError(f"the file ends inside section {open_section[0]} (no EOS line)", Span(shown, last),
                         "a complete export; was the download cut short?")
    interpret(rows, statement)
    return statement


IMPORTER = Importer("ibkr-flex-csv", "Interactive Brokers Activity Flex Query (CSV with section codes)", DOCUMENTATION, read,
                    "the same sections as the XML; tick 'Include section code and line descriptor' (and, to detect a cut file, header and trailer records)")
