"""`ibkr-flex-xml`: an Interactive Brokers Activity Flex Query downloaded as XML.

Layout: FlexQueryResponse > FlexStatements > FlexStatement (accountId) > section containers (Trades,
CorporateActions, CashTransactions, ...) > one element per row, its values as attributes. Any
attribute may be absent (the user picks the fields); the ones taxpack needs are checked. Rows of other
sections (open positions, conversion rates, ...) are listed as not imported. Errors point at the
element's line and column. External entities are never resolved.
"""

from __future__ import annotations

import io
import xml.sax
import xml.sax.handler
from pathlib import Path
from typing import Any

from taxpack.engine.core.errors import ParseError, Span
from taxpack.engine.inputs.importers.ibkr_flex import DOCUMENTATION, FlexRow, check_fields, interpret
from taxpack.engine.inputs.importers.statement import Importer, Skipped, Statement, read_file

ROWS = ("Trade", "CorporateAction", "CashTransaction")


class _Handler(xml.sax.handler.ContentHandler):
    def __init__(self, shown: str, statement: Statement) -> None:
        super().__init__()
        self.shown = shown
        self.statement = statement
        self.rows: list[FlexRow] = []
        self.stack: list[str] = []
        self.account = ""
        self.locator: Any = None

    def setDocumentLocator(self, locator: Any) -> None:  # noqa: N802 - the SAX interface
        self.locator = locator

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - the SAX interface
        line, col = self.locator.getLineNumber(), self.locator.getColumnNumber() + 1
        span = Span(self.shown, line, col)
        if not self.stack and name != "FlexQueryResponse":
            raise ParseError(f"the root element is <{name}>, not <FlexQueryResponse>", span,
                             "an Activity Flex Query downloaded as XML")
        fields = {key: attrs.getValue(key) for key in attrs.getNames()}
        if name == "FlexStatement":
            self.account = fields.get("accountId", "")
        elif len(self.stack) == 4 and name in ROWS:
            if self.account and not fields.get("accountId"):
                fields["accountId"] = self.account
            check_fields(name, fields, {}, span)
            self.rows.append(FlexRow(name, fields, self.shown, line, col))
        elif len(self.stack) == 4:
            self.statement.skipped.append(Skipped(f"<{name}> in <{self.stack[-1]}>", fields.get("accountId", self.account),
                                                  fields.get("currency"), None, span))
        self.stack.append(name)

    def endElement(self, name: str) -> None:  # noqa: N802 - the SAX interface
        self.stack.pop()


def read(path: Path, shown: str) -> Statement:
    text = read_file(path, shown)
    statement = Statement("ibkr-flex-xml", [shown])
    handler = _Handler(shown, statement)
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, False)
    parser.setFeature(xml.sax.handler.feature_external_pes, False)
    parser.setContentHandler(handler)
    source = xml.sax.xmlreader.InputSource()
    source.setCharacterStream(io.StringIO(text))
    try:
        parser.parse(source)
    except xml.sax.SAXParseException as exc:
        line, col = exc.getLineNumber() or 1, (exc.getColumnNumber() or 0) + 1
        ended = line >= text.count("\n") + (0 if text.endswith("\n") else 1) and "no element found" in exc.getMessage()
        what = "the file ends before the XML is closed" if ended or "unclosed token" in exc.getMessage() else f"malformed XML: {exc.getMessage()}"
        raise ParseError(what, Span(shown, line, col),
                         "a complete Flex Query XML file ending with </FlexQueryResponse>; was the download cut short?") from None
    interpret(handler.rows, statement)
    return statement


IMPORTER = Importer("ibkr-flex-xml", "Interactive Brokers Activity Flex Query (XML)", DOCUMENTATION, read,
                    "Trades (executions), Corporate Actions and Cash Transactions sections; stocks and ETFs")
