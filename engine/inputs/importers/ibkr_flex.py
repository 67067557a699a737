"""Interactive Brokers Flex Query: the rows of the Trades, Corporate Actions and Cash Transactions
sections, as the XML and CSV readers give them, turned into trades, dividends and corporate actions.

Field meanings follow IBKR's Reporting Reference (Trades: quantity negative for sells, commission a
debit with a minus sign, proceeds = -quantity x price). The codes of `buySell`, `transactionType` and
the corporate-action `type` are not published by IBKR on the pages read; they follow the ibflex
library's enums (csingley/ibflex) and are checked strictly: an unknown code is an error, never skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Callable, Iterable

import attrs

from taxpack.engine.core.documents import did_you_mean
from taxpack.engine.core.errors import ParseError, Span
from taxpack.engine.inputs.importers.statement import (
    ZERO,
    ImportedAction,
    ImportedDividend,
    ImportedTrade,
    SecurityRef,
    Skipped,
    Statement,
    close_enough,
    currency_code,
    isin_or_none,
    iso_date,
    plain_number,
)

DOCUMENTATION = (
    "https://www.ibkrguides.com/reportingreference/reportguide/tradesfq.htm",
    "https://www.ibkrguides.com/reportingreference/reportguide/tradestradeconfirm.htm",
    "https://www.ibkrguides.com/reportingreference/reportguide/trades_modelstatements.htm",
)

# Every Flex field taxpack knows (XML attribute spelling). A field not listed is an error: a changed
# layout must be looked at, not read by guess.
_SECURITY_FIELDS = (
    "accountId acctAlias model currency fxRateToBase assetCategory subCategory symbol description conid securityID "
    "securityIDType cusip isin figi listingExchange underlyingConid underlyingSymbol underlyingSecurityID "
    "underlyingListingExchange issuer issuerCountryCode multiplier strike expiry putCall principalAdjustFactor "
    "serialNumber deliveryType commodityType fineness weight"
)
_TRADE_FIELDS = (
    "tradeID transactionID orderID ibOrderID execID ibExecID brokerageOrderID orderReference exchOrderId extExecID "
    "tradeDate tradeTime dateTime orderTime settleDateTarget reportDate origTradeDate openDateTime holdingPeriodDateTime "
    "whenRealized whenReopened transactionType exchange buySell quantity tradePrice tradeMoney proceeds taxes ibCommission "
    "ibCommissionCurrency netCash netCashInBase closePrice cost fifoPnlRealized mtmPnl fxPnl capitalGainsPnl accruedInt "
    "origTradePrice origTradeID origTransactionID origOrderID openCloseIndicator notes orderType isAPIOrder levelOfDetail "
    "changeInPrice changeInQuantity traderID clearingFirmID relatedTradeID relatedTransactionID rtn initialInvestment positionActionID"
)
_ACTION_FIELDS = "actionDescription amount value code type actionID costBasis"
_CASH_FIELDS = "settleDate exDate clientReference"
KNOWN_FIELDS = frozenset(" ".join((_SECURITY_FIELDS, _TRADE_FIELDS, _ACTION_FIELDS, _CASH_FIELDS)).split())

REQUIRED = {
    "Trade": ("accountId", "currency", "assetCategory", "symbol", "tradeDate", "quantity", "tradePrice", "buySell"),
    "CorporateAction": ("accountId", "currency", "assetCategory", "symbol", "type", "quantity"),
    "CashTransaction": ("accountId", "currency", "symbol", "type", "amount"),
}

# Corporate-action type codes (ibflex `Reorg`): the ones imported, and the known ones that are not (yet).
ACTION_CODES = {"FS": "split", "RS": "split", "FI": "split", "IC": "identifier_change", "TC": "merger", "SO": "spin_off", "SD": "stock_dividend"}
NOT_IMPORTED_CODES = {
    "CO": "contract spin-off", "DW": "delisted, worthless", "BM": "bond maturity", "BC": "bond conversion", "CI": "convertible issue",
    "CD": "cash dividend", "CH": "choice dividend", "HD": "choice-dividend delivery", "HI": "choice-dividend issue",
    "DI": "dividend rights issue", "ED": "expired dividend right", "RI": "rights issue", "SR": "subscribe rights", "TO": "tender",
    "TI": "tender issue", "OR": "asset purchase", "PI": "purchase issue", "GV": "generic voluntary", "PV": "proxy vote",
    "CC": "contract consolidation", "CS": "contract split", "CA": "contract soulte", "CP": "coupon payment", "CT": "CFD termination",
    "FA": "fee allocation",
}
TRADE_TYPES = ("ExchTrade", "BookTrade", "FracShare", "DvpTrade", "TradeCorrect")
CANCELLATIONS = ("TradeCancel", "FracShareCancel")
IMPORTED_ASSETS = ("STK",)
DIVIDEND_TYPES = {"Dividends": "dividend", "Payment In Lieu Of Dividends": "in_lieu"}
WITHHOLDING_TYPE = "Withholding Tax"
CASH_NOT_IMPORTED = (
    "Deposits & Withdrawals", "Deposits/Withdrawals", "Broker Interest Received", "Broker Interest Paid", "Bond Interest Received",
    "Bond Interest Paid", "Other Fees", "Commission Adjustments", "Advisor Fees", "Fees", "Cash Receipts / Disbursements",
    "Price Adjustments", "Broker Fees",
)
DATE_FORMS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y")
DATE_WORDS = "a date yyyy-MM-dd, yyyyMMdd or MM/dd/yyyy (the Flex Query's date format), optionally followed by ;time"
_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s+FOR\s+(\d+(?:\.\d+)?)")
_TAX_COUNTRY = re.compile(r"-\s*([A-Z]{2})\s+TAX\s*$")
_SUBCATEGORY_KINDS = {"COMMON": "share", "ADR": "share", "PREFERRED": "share", "REIT": "share", "ETF": "etf", "ETN": "etf", "CLOSED-END FUND": "fund"}


@attrs.frozen
class FlexRow:
    """One row of a Flex section: its fields by XML attribute name, where it is, and how each field is shown."""

    element: str  # Trade | CorporateAction | CashTransaction
    fields: dict[str, str]
    file: str
    line: int
    col: int | None = None  # XML: the element's column; CSV: None
    columns: dict[str, str] = attrs.field(factory=dict)  # CSV: field -> column name as in the header

    def at(self, field: str | None = None) -> Span:
        if self.col is None:
            return Span(self.file, self.line, None, self.columns.get(field, field) if field else None)
        return Span(self.file, self.line, self.col)

    def _named(self, field: str, error: ParseError) -> ParseError:
        if self.col is None:
            return error
        return ParseError(f"{self.element} attribute '{field}': {error.message}", error.span, error.expected)

    def text(self, field: str) -> str:
        return self.fields.get(field, "").strip()

    def need(self, field: str, expected: str) -> str:
        value = self.text(field)
        if not value:
            raise self._named(field, ParseError("the value is empty", self.at(field), expected))
        return value

    def number(self, field: str, default: Decimal | None = None) -> Decimal:
        value = self.text(field)
        if not value and default is not None:
            return default
        try:
            return plain_number(self.need(field, "a number"), self.at(field))
        except ParseError as exc:
            raise self._named(field, exc) from None

    def date(self, field: str) -> dt.date:
        value = self.need(field, DATE_WORDS)
        try:
            return iso_date(re.split(r"[;,]", value)[0], self.at(field), DATE_FORMS, DATE_WORDS)
        except ParseError as exc:
            raise self._named(field, exc) from None

    def currency(self, field: str = "currency") -> str:
        try:
            return currency_code(self.need(field, "a currency code"), self.at(field))
        except ParseError as exc:
            raise self._named(field, exc) from None

    def security(self) -> SecurityRef:
        try:
            isin = isin_or_none(self.text("isin") or (self.text("securityID") if self.text("securityIDType") == "ISIN" else ""), self.at("isin"))
        except ParseError as exc:
            raise self._named("isin", exc) from None
        sub = self.text("subCategory").upper()
        return SecurityRef(self.text("symbol") or None, isin, self.text("currency") or None, self.text("description") or None,
                           _SUBCATEGORY_KINDS.get(sub))


def check_fields(element: str, names: Iterable[str], span_of: "dict[str, Span]", header_span: Span, shown: Callable[[str], str] = str) -> None:
    """Every field must be a known Flex field; the section's required fields must be there. `shown`
    gives a field's name as the file writes it (the CSV's column names differ from the XML's)."""
    present = set()
    kind = "field" if shown is str else "column"
    for name in names:
        if name not in KNOWN_FIELDS:
            raise ParseError(f"unknown {element} {kind} '{shown(name)}'{did_you_mean(shown(name), [shown(k) for k in KNOWN_FIELDS])}", span_of.get(name, header_span),
                             f"a Flex Query {kind} taxpack knows (IBKR Reporting Reference); a new one must be added to taxpack, not skipped")
        present.add(name)
    missing = [f for f in REQUIRED.get(element, ()) if f not in present]
    if missing:
        raise ParseError(f"{element}: missing {kind}{'s' if len(missing) > 1 else ''} {', '.join(repr(shown(m)) for m in missing)}", header_span,
                         f"a Flex Query with the {kind}s " + ", ".join(shown(f) for f in REQUIRED[element]))


def interpret(rows: Iterable[FlexRow], statement: Statement) -> None:
    """Trades, dividends (with their withholding) and corporate actions from the rows of a Flex Query."""
    actions: dict[tuple[str, ...], list[FlexRow]] = {}
    cash: dict[tuple[str, str, dt.date], list[FlexRow]] = {}
    for row in rows:
        if row.element == "Trade":
            trade = _trade(row, statement)
            if trade is not None:
                statement.trades.append(trade)
        elif row.element == "CorporateAction":
            detail = row.text("levelOfDetail")
            if detail and detail.upper() not in ("DETAIL", "EXECUTION"):
                statement.skipped.append(Skipped(f"CorporateAction summary row ({detail})", row.text("accountId"), row.text("currency") or None, None, row.at()))
                continue
            key = (row.text("accountId"), row.text("actionID")) if row.text("actionID") else (
                row.text("accountId"), row.text("dateTime")[:10] or row.text("reportDate"), row.text("type"), row.text("actionDescription"))
            actions.setdefault(key, []).append(row)
        elif row.element == "CashTransaction":
            kind = row.need("type", "a cash transaction type")
            if kind in DIVIDEND_TYPES or kind == WITHHOLDING_TYPE:
                day = row.date("dateTime") if row.text("dateTime") else row.date("settleDate")
                cash.setdefault((row.text("accountId"), row.security().key, day), []).append(row)
            elif kind in CASH_NOT_IMPORTED:
                statement.skipped.append(Skipped(f"cash: {kind}", row.text("accountId"), row.currency(), row.number("amount"), row.at()))
            else:
                raise ParseError(f"unknown cash transaction type '{kind}'{did_you_mean(kind, list(DIVIDEND_TYPES) + [WITHHOLDING_TYPE, *CASH_NOT_IMPORTED])}",
                                 row.at("type"), "one of " + ", ".join([*DIVIDEND_TYPES, WITHHOLDING_TYPE, *CASH_NOT_IMPORTED]))
    for group in actions.values():
        _action(group, statement)
    for (account, _, day), group in sorted(cash.items(), key=lambda item: (item[0][0], item[0][2], item[0][1])):
        _dividend(account, day, group, statement)


def _trade(row: FlexRow, statement: Statement) -> ImportedTrade | None:
    detail = row.text("levelOfDetail")
    if detail and detail.upper() != "EXECUTION":
        # Order, closed-lot, wash-sale and summary rows repeat the executions: importing them would count twice.
        statement.skipped.append(Skipped(f"Trade row at level {detail} (the executions are imported)", row.text("accountId"), row.text("currency") or None, None, row.at()))
        return None
    asset = row.need("assetCategory", "an asset class")
    if asset not in IMPORTED_ASSETS:
        raise ParseError(f"asset class '{asset}' is not imported", row.at("assetCategory"),
                         "STK (stocks and ETFs); options, futures, bonds and currency conversions are not supported yet: leave them out of the Flex Query")
    side_text = row.need("buySell", "BUY or SELL")
    ttype = row.text("transactionType")
    if "(Ca.)" in side_text or ttype in CANCELLATIONS:
        raise ParseError(f"a cancelled trade ({side_text}{', ' + ttype if ttype else ''}): taxpack does not net cancellations", row.at("buySell"),
                         "executions only: run the Flex Query without cancelled trades, or remove the cancelled trade and its cancellation")
    if side_text not in ("BUY", "SELL"):
        raise ParseError(f"'{side_text}' is not a side", row.at("buySell"), "BUY or SELL")
    if ttype and ttype not in TRADE_TYPES:
        raise ParseError(f"unknown transaction type '{ttype}'{did_you_mean(ttype, TRADE_TYPES)}", row.at("transactionType"), "one of " + ", ".join(TRADE_TYPES))
    multiplier = row.number("multiplier", Decimal(1))
    if multiplier != 1:
        raise ParseError(f"multiplier {multiplier} on a stock trade", row.at("multiplier"), "1")
    quantity = row.number("quantity")
    side = side_text.lower()
    if quantity == 0 or (quantity > 0) != (side == "buy"):
        raise ParseError(f"quantity {quantity} on a {side_text}", row.at("quantity"), "a positive quantity on a BUY and a negative one on a SELL (IBKR shows sells as a debit)")
    price = row.number("tradePrice")
    if price < 0:
        raise ParseError(f"price {price} is negative", row.at("tradePrice"), "a price of 0 or more")
    currency = row.currency()
    proceeds = row.text("proceeds")
    if proceeds and not close_enough(row.number("proceeds"), -quantity * price):
        raise ParseError(f"proceeds {proceeds} do not equal -quantity x price = {-quantity * price}", row.at("proceeds"),
                         "proceeds = -quantity x tradePrice (IBKR Reporting Reference): was a column moved?")
    commission = row.number("ibCommission", ZERO)
    taxes = row.number("taxes", ZERO)
    commission_currency = row.text("ibCommissionCurrency")
    if commission != 0 and commission_currency and commission_currency != currency:
        raise ParseError(f"commission in {commission_currency} on a trade in {currency}", row.at("ibCommissionCurrency"),
                         f"a commission in {currency}; taxpack keeps one currency per trade")
    fees = -(commission + taxes)
    if fees < 0:
        raise ParseError(f"a commission rebate ({commission}) or a tax refund ({taxes}) on a trade", row.at("ibCommission"),
                         "a commission and taxes of 0 or less (debits)")
    notes = [n.strip() for n in row.text("notes").split(";") if n.strip()]
    settle = row.date("settleDateTarget") if row.text("settleDateTarget") else None
    ref = row.text("tradeID") or row.text("transactionID") or None
    note = "dividend reinvestment (IBKR code R)" if "R" in notes else None
    return ImportedTrade(row.need("accountId", "an account id"), row.security(), row.date("tradeDate"), side, abs(quantity), price, fees,
                         currency, row.at(), settle, ref, note)


def _ratio(description: str) -> tuple[Decimal, Decimal] | None:
    match = _RATIO.search(description.upper())
    if not match:
        return None
    new, old = Decimal(match.group(1)), Decimal(match.group(2))
    return (new, old) if new > 0 and old > 0 else None


def _action(rows: list[FlexRow], statement: Statement) -> None:
    first = rows[0]
    code = first.need("type", "a corporate-action type code")
    for row in rows[1:]:
        if row.text("type") != code:
            raise ParseError(f"rows of one corporate action have types {code} and {row.text('type')}", row.at("type"), f"the type {code} on every row of action {first.text('actionID')}")
    if code not in ACTION_CODES:
        if code in NOT_IMPORTED_CODES:
            raise ParseError(f"corporate action type {code} ({NOT_IMPORTED_CODES[code]}) is not imported yet", first.at("type"),
                             "one of " + ", ".join(sorted(ACTION_CODES)) + "; enter this action in the scenario by hand")
        raise ParseError(f"unknown corporate-action code '{code}'", first.at("type"),
                         "one of " + ", ".join(sorted(ACTION_CODES)) + " (imported) or " + ", ".join(sorted(NOT_IMPORTED_CODES)) + " (known, not imported)")
    kind = ACTION_CODES[code]
    account = first.need("accountId", "an account id")
    # The action takes effect at the start of its day (docs/scenario-format.md). IBKR's dateTime is often the
    # evening before the ex-date; its reportDate, the day the statement shows the action, is taken when given.
    day = first.date("reportDate") if first.text("reportDate") else first.date("dateTime")
    description = first.text("actionDescription") or first.text("description")
    removed = [r for r in rows if r.number("quantity") < 0]
    added = [r for r in rows if r.number("quantity") > 0]
    cash = sum((r.number("proceeds", ZERO) for r in rows), ZERO)
    currency = first.currency()
    ratio = _ratio(description)
    ref = first.text("actionID") or first.text("transactionID") or None
    span = first.at()

    def one(found: list[FlexRow], what: str) -> FlexRow:
        if len(found) != 1:
            raise ParseError(f"corporate action {code} has {len(found)} rows that {what}", span,
                             f"one row that {what} (rows of one action share an actionID)")
        return found[0]

    if kind == "merger" and not added:
        # Acquired for cash only: a sale of the old shares at the cash received.
        old = one(removed, "remove the old shares")
        quantity = -old.number("quantity")
        if cash <= 0:
            raise ParseError("a merger with neither new shares nor cash", span, "a row adding the new shares, or the cash proceeds")
        statement.trades.append(ImportedTrade(account, old.security(), day, "sell", quantity, cash / quantity, ZERO, currency, span, None, ref,
                                              f"acquired for cash (IBKR corporate action TC): {description}"))
        return
    if kind in ("split", "stock_dividend") and not removed:
        new = one(added, "add shares")
        if kind == "split" and ratio is None:
            statement.actions.append(ImportedAction(account, "split", new.security(), day, span, added=new.number("quantity"),
                                                    cash_in_lieu=cash or None, currency=currency, ref=ref, note=description or None))
            return
        if ratio is None:
            raise ParseError(f"the description of this {kind.replace('_', ' ')} names no ratio", new.at("actionDescription"),
                             "a description with 'N FOR M' (e.g. 'STOCK DIVIDEND 1 FOR 20')")
        statement.actions.append(ImportedAction(account, kind, new.security(), day, span, ratio=ratio, cash_in_lieu=cash or None,
                                                currency=currency, ref=ref, note=description or None))
        return
    if kind == "spin_off":
        new = one(added, "add the spun-off shares")
        if removed:
            raise ParseError("a spin-off that removes shares", removed[0].at("quantity"), "only a row adding the new shares (the old ones are kept)")
        if ratio is None:
            raise ParseError("the description of this spin-off names no ratio", new.at("actionDescription"), "a description with 'N FOR M' (e.g. 'SPINOFF 1 FOR 5')")
        parent = re.match(r"\s*([A-Z0-9.]+)\(([A-Z0-9]{12})\)", description)
        if not parent:
            raise ParseError("the description of this spin-off does not name the parent security", new.at("actionDescription"),
                             "a description that starts with SYMBOL(ISIN), as IBKR writes it")
        old_ref = SecurityRef(parent.group(1), parent.group(2), currency)
        statement.actions.append(ImportedAction(account, "spin_off", old_ref, day, span, new_security=new.security(), ratio=ratio,
                                                cash_in_lieu=cash or None, currency=currency, ref=ref, note=description or None))
        return
    old = one(removed, "remove the old shares")
    new = one(added, "add the new shares")
    old_qty, new_qty = -old.number("quantity"), new.number("quantity")
    old_sec, new_sec = old.security(), new.security()
    if kind == "identifier_change":
        if old_qty != new_qty:
            raise ParseError(f"an identifier change from {old_qty} to {new_qty} units", new.at("quantity"), "the same quantity removed and added")
        statement.actions.append(ImportedAction(account, "identifier_change", old_sec, day, span, new_security=new_sec, currency=currency, ref=ref,
                                                note=description or None))
        return
    if kind == "split":
        if ratio is not None and not close_enough(old_qty * ratio[0] / ratio[1], new_qty, Decimal(1)):
            raise ParseError(f"{old_qty} old units and {new_qty} new ones do not match the ratio {ratio[0]} for {ratio[1]}", new.at("quantity"),
                             "quantities that follow the ratio in the description")
        same = old_sec.key == new_sec.key
        statement.actions.append(ImportedAction(account, "split", old_sec, day, span, new_security=None if same else new_sec,
                                                ratio=ratio or (new_qty, old_qty), cash_in_lieu=cash or None, currency=currency, ref=ref,
                                                note=description or None))
        return
    # merger with shares (and perhaps cash)
    statement.actions.append(ImportedAction(account, "merger", old_sec, day, span, new_security=new_sec, ratio=(new_qty, old_qty),
                                            cash=cash or None, currency=currency, ref=ref, note=description or None))


def _dividend(account: str, day: dt.date, rows: list[FlexRow], statement: Statement) -> None:
    gross = ZERO
    withheld = ZERO
    kinds: set[str] = set()
    countries: set[str] = set()
    payments = [r for r in rows if r.text("type") in DIVIDEND_TYPES]
    taxes = [r for r in rows if r.text("type") == WITHHOLDING_TYPE]
    currency = rows[0].currency()
    for row in rows:
        if row.currency() != currency:
            raise ParseError(f"a dividend in {currency} and a row in {row.currency()} on the same day", row.at("currency"), f"{currency} on every row")
    roc = [r for r in payments if "RETURN OF CAPITAL" in r.text("description").upper()]
    for row in roc:
        statement.actions.append(ImportedAction(account, "return_of_capital", row.security(), day, row.at(), amount=row.number("amount"),
                                                currency=currency, ref=row.text("transactionID") or None, note=row.text("description") or None))
    payments = [r for r in payments if r not in roc]
    if not payments:
        if taxes:
            row = taxes[0]
            raise ParseError(f"Withholding Tax of {row.text('amount')} for {row.security().label} on {day} has no dividend of the same security and day",
                             row.at("amount"), "the Dividends row it was withheld from in the same export; "
                             "a correction of an earlier period needs that period's export too")
        return
    for row in payments:
        gross += row.number("amount")
        kinds.add(DIVIDEND_TYPES[row.text("type")])
    for row in taxes:
        withheld -= row.number("amount")
        match = _TAX_COUNTRY.search(row.text("description"))
        if match:
            countries.add(match.group(1))
    first = payments[0]
    if gross < 0:
        raise ParseError(f"the dividends of {first.security().label} on {day} add up to {gross}", first.at("amount"), "a positive dividend (reversals net with their dividend)")
    if len(countries) > 1:
        raise ParseError(f"tax withheld by {' and '.join(sorted(countries))} on one dividend", taxes[0].at("description"), "one country's tax per dividend")
    kind = "in_lieu" if kinds == {"in_lieu"} else "dividend"
    statement.dividends.append(ImportedDividend(account, first.security(), day, gross, withheld, currency, first.at(),
                                                countries.pop() if countries else None, kind,
                                                first.text("transactionID") or None, first.text("description") or None))
