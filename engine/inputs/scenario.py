"""Load a scenario (format 1): YAML or JSON, or a household file plus transactions and trades CSVs.

The file is parsed with positions, checked against `schemas/scenario.schema.json`, then checked for
meaning (ids that must exist, duplicate ids, specific lots that name a buy of the same account and
security). Every error says where; nothing is dropped or guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Sequence

import attrs

from taxpack.engine.core.documents import CsvRow, Document, JsonPath, load_yaml, read_csv, to_json_types
from taxpack.engine.core.errors import ErrorList, ParseError, SchemaError, SemanticError, Span, TaxpackError
from taxpack.engine.core.files import named_file
from taxpack.engine.core.household import (
    Account,
    CarriedLoss,
    IdentityGroup,
    MarketPrice,
    ResidenceChange,
    Scenario,
    Security,
    SpecificLot,
    Taxpayer,
    Transaction,
)
from taxpack.engine.core.limits import DATE_EXPECTED, NUMBER_EXPECTED, date_problem, number_problem
from taxpack.engine.core.schemas import did_you_mean
from taxpack.engine.core.schemas import validate as schema_validate
from taxpack.engine.inputs.events import build_events, event_errors, include_dividends
from taxpack.engine.inputs.row_check import FAST_ITEMS

TX_REQUIRED = ["id", "account", "security", "date", "side", "quantity", "price"]
TX_OPTIONAL = ["fees", "currency", "settlement_date", "lots", "in_kind", "note", "pool"]
METHODS = ("fifo", "lifo", "hifo", "lofo", "average")


def load_scenario(
    path: Path | str,
    transactions_csv: Path | str | None = None,
    trades_csv: Path | str | None = None,
    data_dirs: Sequence[Path | str] = (),
) -> Scenario:
    """Load and validate a scenario; raise `ErrorList` with every problem found.

    Files the scenario names (`fx.rates`) are read only from its own folder or one of `data_dirs`."""
    path = Path(path)
    document = load_yaml(path)
    return build_scenario(document, path.parent, transactions_csv, trades_csv, data_dirs)


def build_scenario(
    document: Document,
    base: Path,
    transactions_csv: Path | str | None = None,
    trades_csv: Path | str | None = None,
    data_dirs: Sequence[Path | str] = (),
    roots: Sequence[Path | str] | None = None,
) -> Scenario:
    """The scenario of `document`; `base` is the folder its relative paths start from. A file it names
    must lie in `roots` (default: `base`) or one of `data_dirs`."""
    if not isinstance(document.data, dict):
        what = "is empty" if document.data is None else ("holds a list at the top level" if isinstance(document.data, list) else "holds a single value")
        raise ErrorList([SchemaError(f"the file {what}, not a scenario", document.span(),
                                     "a mapping of keys: taxpack, as_of, taxpayers, accounts, securities, ...")])
    # Files the scenario names (dividends, fx rates) are read only from these folders.
    allowed = [Path(r) for r in (roots if roots is not None else (base,))] + [Path(d) for d in data_dirs]
    try:
        document = include_dividends(document, base, allowed)
    except TaxpackError as exc:
        raise ErrorList([exc]) from None
    errors: list[TaxpackError] = list(schema_validate(document, "scenario", FAST_ITEMS))
    if errors:
        raise ErrorList(errors)
    # Dates become ISO text again (the schema checked them as text): a date-looking id such as
    # `id: 2024-01-01` must be the id "2024-01-01", not a date. Date fields are parsed by _date().
    data = to_json_types(document.data)
    b = _Builder(document)
    taxpayers = tuple(b.taxpayer(i, t) for i, t in enumerate(data["taxpayers"]))
    accounts = tuple(b.account(i, a) for i, a in enumerate(data["accounts"]))
    securities = tuple(b.security(i, s) for i, s in enumerate(data["securities"]))
    groups = tuple(b.group(i, g) for i, g in enumerate(data.get("identity_groups") or []))
    transactions = tuple(b.transaction(("transactions", i), t, False) for i, t in enumerate(data.get("transactions") or []))
    trades = tuple(b.transaction(("trades", i), t, True) for i, t in enumerate(data.get("trades") or []))
    if transactions_csv is not None:
        if transactions:
            raise ErrorList([SemanticError("the scenario already lists transactions; give them in the file or in --transactions, not both", document.span(("transactions",)))])
        transactions = tuple(b.csv_transactions(transactions_csv, False))
    if trades_csv is not None:
        if trades:
            raise ErrorList([SemanticError("the scenario already lists trades; give them in the file or in --trades, not both", document.span(("trades",)))])
        trades = tuple(b.csv_transactions(trades_csv, True))
    fx_path = None
    if "rates" in data.get("fx", {}):
        try:
            fx_path = str(named_file(data["fx"]["rates"], base, allowed, "fx rates file", document.span(("fx", "rates")),
                                     "a CSV file date,currency,quote,rate", "the scenario file"))
        except TaxpackError as error:
            b.errors.append(error)
    scenario = Scenario(
        as_of=_date(data["as_of"]),
        taxpayers=taxpayers,
        accounts=accounts,
        securities=securities,
        transactions=transactions,
        trades=trades,
        identity_groups=groups,
        fx_rates=fx_path,
        source=document.file,
        id=data.get("id"),
        base_currency=data.get("base_currency"),
        prices=_prices(data, document, b.errors),
        **attrs.asdict(build_events(data, document), recurse=False),
    )
    b.errors.extend(reference_errors(scenario, document))
    b.errors.extend(event_errors(scenario, document))
    if b.errors:
        raise ErrorList(b.errors)
    return scenario


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _prices(data: dict[str, Any], document: Document, errors: list[TaxpackError]) -> tuple[MarketPrice, ...]:
    """The scenario's `prices:` list (values at year ends for annual fund taxes, at anniversaries, at exit)."""
    out = []
    for i, entry in enumerate(data.get("prices") or []):
        span = document.span(("prices", i))
        try:
            out.append(MarketPrice(entry["security"], _date(entry["date"]), _dec(entry["price"], document.span(("prices", i, "price")),
                                                                                   f"prices[{i}].price"), entry["currency"], span))
        except ValueError:
            errors.append(SemanticError(f"prices[{i}]: '{entry['date']}' is not a date", document.span(("prices", i, "date")), "a date YYYY-MM-DD"))
        except TaxpackError as error:
            errors.append(error)
    return tuple(out)


def _dec(value: Any, span: Span | None = None, where: str = "") -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise ErrorList([SchemaError(f"{where}: '{value}' is not a decimal number", span, "a decimal number such as 0.015")]) from None
    return number


class _Builder:
    def __init__(self, document: Document) -> None:
        self.doc = document
        self.errors: list[TaxpackError] = []

    def span(self, path: JsonPath) -> Span:
        """The span of `path`, found when first shown if the document's positions are not loaded yet
        (`documents.LazySpan` is a `Span`)."""
        return self.doc.lazy_span(path)

    def taxpayer(self, i: int, t: dict[str, Any]) -> Taxpayer:
        path = ("taxpayers", i)
        return Taxpayer(
            id=t["id"],
            residence=t["residence"],
            citizenship=tuple(t.get("citizenship") or ()),
            filing_status=t.get("filing_status"),
            spouse=t.get("spouse"),
            other_income={k: _dec(v) for k, v in (t.get("other_income") or {}).items()},
            marginal_rate={k: _dec(v) for k, v in (t.get("marginal_rate") or {}).items()},
            carry_forward={k: tuple(CarriedLoss(c["basket"], _dec(c["amount"]), int(c["year"]),
                                                self.span(path + ("carry_forward", k, j)),
                                                _dec(c["original"]) if c.get("original") is not None else None)
                                    for j, c in enumerate(v or [])) for k, v in (t.get("carry_forward") or {}).items()},
            realised={k: {b: _dec(a) for b, a in (v or {}).items()} for k, v in (t.get("realised") or {}).items()},
            next_year_income={k: _dec(v) for k, v in (t.get("next_year_income") or {}).items()},
            residence_changes=tuple(
                ResidenceChange(_date(c["date"]), c["to"], self.span(path + ("residence_changes", j)))
                for j, c in enumerate(t.get("residence_changes") or [])
            ),
            resident_since=_date(t["resident_since"]) if t.get("resident_since") else None,
            span=self.span(path),
        )

    def account(self, i: int, a: dict[str, Any]) -> Account:
        return Account(a["id"], a["owner"], a["country"], a["currency"], a.get("wrapper", "taxable"), self.span(("accounts", i)))

    def security(self, i: int, s: dict[str, Any]) -> Security:
        dy = s.get("dividend_yield")
        return Security(
            id=s["id"], currency=s["currency"], country=s["country"], kind=s.get("kind", "share"),
            identity_group=s.get("identity_group"), listed=s.get("listed", True), fractional=s.get("fractional", False),
            dividend_yield=_dec(dy, self.span(("securities", i, "dividend_yield")), f"securities[{i}].dividend_yield") if dy is not None else None, tags=tuple(s.get("tags") or ()),
            ex_dividend_dates=tuple(_date(d) for d in s.get("ex_dividend_dates") or ()),
            span=self.span(("securities", i)),
            fund_kind=s.get("fund_kind"), pfic_election=s.get("pfic_election"),
        )

    def group(self, i: int, g: dict[str, Any]) -> IdentityGroup:
        return IdentityGroup(g["id"], g.get("level", "substantially_identical"), g.get("confidence", "medium"), g.get("note"), self.span(("identity_groups", i)))

    def transaction(self, path: tuple[Any, ...], t: dict[str, Any], candidate: bool) -> Transaction:
        lots = t.get("lots")
        choice: Any = None
        if isinstance(lots, list):
            choice = tuple(SpecificLot(item["transaction"], _dec(item["quantity"]), self.span(path + ("lots", j)))
                           for j, item in enumerate(lots))
        elif lots is not None:
            choice = lots
        if lots is not None and t["side"] != "sell":
            what = "trade" if candidate else "transaction"
            self.errors.append(SemanticError(f"{what} '{t['id']}': 'lots' chooses the lots a sale takes, but this is a buy",
                                             self.doc.key_span(path + ("lots",)), "no 'lots' on a buy"))
        return Transaction(
            id=t["id"], account=t["account"], security=t["security"], date=_date(t["date"]), side=t["side"],
            quantity=_dec(t["quantity"]), price=_dec(t["price"]), fees=_dec(t.get("fees", 0)), currency=t.get("currency"),
            settlement_date=_date(t["settlement_date"]) if t.get("settlement_date") else None,
            lots=choice, candidate=candidate, in_kind=bool(t.get("in_kind", False)), pool=t.get("pool"), span=self.span(path),
        )

    def csv_transactions(self, path: Path | str, candidate: bool) -> list[Transaction]:
        """Every row of the CSV; a row error does not hide the next: all are raised together."""
        rows = read_csv(path, TX_REQUIRED, TX_OPTIONAL)
        result: list[Transaction] = []
        errors: list[TaxpackError] = []
        for row in rows:
            try:
                result.append(_csv_transaction(row, candidate))
            except TaxpackError as exc:
                errors.append(exc)
        if errors:
            raise ErrorList(errors)
        return result


def _cell_decimal(row: CsvRow, column: str, positive: bool = False, default: str | None = None) -> Decimal:
    text = row.cells.get(column, "")
    if text == "" and default is not None:
        text = default
    if text == "":
        raise ParseError("the cell is empty", row.span(column), "a decimal number such as 12.50")
    try:
        value = _csv_decimal(text)
    except InvalidOperation:
        hint = ", without thousands separators" if "," in text else ""
        raise ParseError(f"'{text}' is not a decimal number", row.span(column), f"a decimal number such as 12.50{hint}") from None
    problem = number_problem(value, text)
    if problem:
        raise ParseError(problem, row.span(column), NUMBER_EXPECTED)
    if value < 0 or (positive and value == 0):
        raise ParseError(f"'{text}' must be {'more than 0' if positive else '0 or more'}", row.span(column), "a positive number" if positive else "0 or more")
    return value


# Plain ASCII decimals only: Decimal() alone would also take "NaN", "Infinity", "1_000" and "１２".
_DECIMAL_TEXT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)


def _csv_decimal(text: str) -> Decimal:
    if not _DECIMAL_TEXT.fullmatch(text):
        raise InvalidOperation(text)
    return Decimal(text)


def _cell_date(row: CsvRow, column: str, required: bool = True) -> dt.date | None:
    text = row.cells.get(column, "")
    if not text and not required:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ParseError(f"'{text}' is not a date", row.span(column), "YYYY-MM-DD") from None
    problem = date_problem(day)
    if problem:
        raise ParseError(problem, row.span(column), DATE_EXPECTED)
    return day


# The scenario schema's id (letters, digits, _ . : -, starting with a letter or a digit): a CSV id obeys it
# too, so that no id can start a spreadsheet formula (=, +, -, @) in an output.
_ID_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*", re.ASCII)


def _csv_transaction(row: CsvRow, candidate: bool) -> Transaction:
    c = row.cells
    for column in ("id", "account", "security"):
        if not c[column]:
            raise ParseError(f"'{column}' is empty", row.span(column), "an id")
        if not _ID_TEXT.fullmatch(c[column]):
            raise ParseError(f"{c[column][:40]!r} is not an id", row.span(column),
                             "letters, digits, _ . : - starting with a letter or a digit, as in the scenario file")
    side = c["side"].lower()
    if side not in ("buy", "sell"):
        raise ParseError(f"'{c['side']}' is not a side", row.span("side"), "buy or sell")
    if c.get("fees", "").startswith("-"):
        raise ParseError(f"'{c['fees']}' must be 0 or more", row.span("fees"), "0 or more")
    lots_text = c.get("lots", "")
    lots: Any = None
    if lots_text:
        if side != "sell":
            raise ParseError(f"'lots' chooses the lots a sale takes, but {c['id']} is a buy", row.span("lots"), "an empty cell on a buy")
        if lots_text.lower() in METHODS:
            lots = lots_text.lower()
        else:
            parts = []
            for part in lots_text.split(";"):
                tid, _, qty = part.partition(":")
                try:
                    quantity = _csv_decimal(qty.strip())
                    if not tid.strip() or quantity <= 0 or number_problem(quantity):
                        raise InvalidOperation
                except InvalidOperation:
                    raise ParseError(f"'{lots_text}' is not a lot choice", row.span("lots"),
                                     "a method, fifo, lifo, hifo, lofo or average; or BUY_ID:QTY;BUY_ID:QTY for specific lots") from None
                parts.append(SpecificLot(tid.strip(), quantity, row.span("lots")))
            lots = tuple(parts)
    currency = c.get("currency") or None
    if currency is not None and (len(currency) != 3 or not currency.isalpha() or not currency.isupper()):
        raise ParseError(f"'{currency}' is not a currency code", row.span("currency"), "an ISO 4217 code such as USD")
    in_kind = c.get("in_kind", "").lower()
    if in_kind not in ("", "true", "false"):
        raise ParseError(f"'{c['in_kind']}' is not true or false", row.span("in_kind"), "true or false")
    return Transaction(
        id=c["id"], account=c["account"], security=c["security"], date=_cell_date(row, "date"), side=side,  # type: ignore[arg-type]
        quantity=_cell_decimal(row, "quantity", positive=True), price=_cell_decimal(row, "price"),
        fees=_cell_decimal(row, "fees", default="0"), currency=currency,
        settlement_date=_cell_date(row, "settlement_date", required=False), lots=lots, candidate=candidate,
        in_kind=in_kind == "true", pool=c.get("pool") or None, span=row.span(),
    )


def reference_errors(scenario: Scenario, document: Document | None = None) -> list[TaxpackError]:
    """Ids that must exist, ids that must be unique, lots that must name a buy of the same holding.

    With the scenario's `document`, an error points at the field itself (`account: brokerage`), not
    only at the entry that holds it; rows read from CSV point at the cell.
    """
    errors: list[TaxpackError] = []
    # An entry's span -> its path in the document (e.g. ("trades", 0)), to find the span of one field.
    # Built only when an error needs it: positions of a large JSON file are found lazily.
    entries: dict[Any, JsonPath] = {}

    def field(item: Any, name: str) -> Span | None:
        if not entries and document is not None:
            entries.update({span: path for path, span in document.positions.items()
                            if len(path) == 2 and isinstance(path[1], int) and path[0] != "<key>"})
        path = entries.get(item.span)
        if path is not None and document is not None:
            return document.span(path + (name,))
        return _cell(item.span, name)

    def dupes(items: Iterable[Any], what: str) -> None:
        seen: dict[str, Span | None] = {}
        for item in items:
            if item.id in seen:
                first = seen[item.id]
                if first is None or first.line is None:
                    where = ""
                elif item.span is not None and item.span.file != first.file:
                    where = f" (first at {first.file}:{first.line})"
                else:
                    where = f" (first at line {first.line})"
                errors.append(SemanticError(f"duplicate {what} id '{item.id}'{where}", field(item, "id")))
            else:
                seen[item.id] = item.span

    dupes(scenario.taxpayers, "taxpayer")
    dupes(scenario.accounts, "account")
    dupes(scenario.securities, "security")
    dupes(scenario.identity_groups, "identity group")
    dupes(list(scenario.transactions) + list(scenario.trades), "transaction or trade")
    taxpayers = {t.id for t in scenario.taxpayers}
    accounts = {a.id: a for a in scenario.accounts}
    securities = {s.id for s in scenario.securities}
    for person in scenario.taxpayers:
        if person.spouse is not None and person.spouse == person.id:
            errors.append(SemanticError(f"taxpayer '{person.id}' cannot be their own spouse", field(person, "spouse")))
        elif person.spouse is not None and person.spouse not in taxpayers:
            # Loss rules look through the spouse's accounts: a spouse who is not listed would be silently ignored.
            errors.append(SemanticError(f"taxpayer '{person.id}': spouse '{person.spouse}' is not a taxpayer of this scenario"
                                        f"{did_you_mean(person.spouse, taxpayers)}",
                                        field(person, "spouse"), f"{_one_of(taxpayers)}; list the spouse under taxpayers, even without accounts"))
    for a in scenario.accounts:
        if a.owner not in taxpayers:
            errors.append(SemanticError(f"account '{a.id}': unknown owner '{a.owner}'{did_you_mean(a.owner, taxpayers)}", field(a, "owner"), _one_of(taxpayers)))
    buys = {t.id: t for t in list(scenario.transactions) + list(scenario.trades) if t.side == "buy"}
    all_ids = {t.id for t in list(scenario.transactions) + list(scenario.trades)}
    for t in list(scenario.transactions) + list(scenario.trades):
        if t.account not in accounts:
            errors.append(SemanticError(f"{_what(t)} '{t.id}': unknown account '{t.account}'{did_you_mean(t.account, accounts)}",
                                        field(t, "account"), _one_of(accounts)))
        if t.security not in securities:
            errors.append(SemanticError(f"{_what(t)} '{t.id}': unknown security '{t.security}'{did_you_mean(t.security, securities)}",
                                        field(t, "security"), _one_of(securities)))
        if isinstance(t.lots, tuple):
            total = sum((lot.quantity for lot in t.lots), Decimal(0))
            same = sorted(b.id for b in buys.values() if b.account == t.account and b.security == t.security and b.date <= t.date)
            candidates = f"the id of a buy of {t.security} in {t.account}" + (f": {', '.join(same)}" if same else ", and there is none before this sale")
            for lot in t.lots:
                buy = buys.get(lot.transaction)
                span = lot.span or t.span
                if buy is None:
                    kind = "a sale, not a buy" if lot.transaction in all_ids else "not a transaction of this scenario"
                    errors.append(SemanticError(f"{_what(t)} '{t.id}': lot '{lot.transaction}' is {kind}", span, candidates))
                elif buy.account != t.account or buy.security != t.security:
                    errors.append(SemanticError(f"{_what(t)} '{t.id}': lot '{lot.transaction}' is a buy of {buy.security} in {buy.account}, not of {t.security} in {t.account}", span, candidates))
                elif buy.date > t.date:
                    errors.append(SemanticError(f"{_what(t)} '{t.id}': lot '{lot.transaction}' was bought on {buy.date}, after this sale on {t.date}", span, candidates))
            if total != t.quantity:
                first = t.lots[0].span if t.lots and t.lots[0].span else t.span
                errors.append(SemanticError(f"{_what(t)} '{t.id}': the lots add up to {total} but the sale is of {t.quantity}", first, "lot quantities that add up to the quantity sold"))
    return errors


def _cell(span: Span | None, column: str) -> Span | None:
    """For a row read from CSV (a span with a line but no col), the cell of `column` in that row."""
    if span is not None and span.line is not None and span.col is None and span.column is None:
        return Span(span.file, span.line, None, column)
    return span


def _what(t: Transaction) -> str:
    return "trade" if t.candidate else "transaction"


def _one_of(names: Iterable[str]) -> str:
    names = sorted(names)
    return "one of " + ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
