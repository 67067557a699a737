"""What the importers read, merged into a household: the scenario `taxpack import` writes.

The household file (taxpayers, accounts, and any securities already described) says what no broker
export says: who owns an account, where it is, which wrapper it is. Every broker account must map to
an account of the household (`--account BROKER=ID`, or the same id); every security maps to one of the
household's by ISIN or id, or is added when the export says enough (its ISIN gives the country; the
export's category gives the kind). Anything missing is one error listing all of it, with the lines to
add. The result is checked by loading it as a scenario before it is written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

import attrs

from taxpack.engine.core.csv_safe import csv_safe_row
from taxpack.engine.core.documents import Document, display_path, load_yaml, load_yaml_text
from taxpack.engine.core.errors import ErrorList, SemanticError, Span, TaxpackError
from taxpack.engine.core.household import Scenario
from taxpack.engine.inputs.importers.statement import ImportedAction, ImportedDividend, ImportedTrade, SecurityRef, Statement
from taxpack.engine.inputs.scenario import TX_OPTIONAL, TX_REQUIRED, build_scenario

PREFIX = {"ibkr-flex-xml": "ibkr", "ibkr-flex-csv": "ibkr", "schwab-csv": "schwab", "questrade": "qt", "degiro": "degiro"}
# ISIN prefixes that are not a country (ISO 6166): the issuer's country must be given.
NOT_COUNTRIES = frozenset(("XS", "EU", "XA", "XB", "XC", "XD", "QS", "QT"))
# A broker's account type -> the household wrapper it must be (Questrade's Account Type column).
ACCOUNT_TYPES = {"tfsa": "tfsa", "rrsp": "rrsp", "rrif": "rrif", "fhsa": "fhsa", "resp": "resp", "lira": "lira", "individual": "taxable",
                 "individual margin": "taxable", "margin": "taxable", "cash": "taxable", "joint": "taxable", "joint margin": "taxable"}
# The order of the keys in the scenario written (others keep theirs, after these).
ORDER = ("taxpack", "id", "as_of", "taxpayers", "accounts", "identity_groups", "securities", "cost_pools", "transactions", "dividends",
         "corporate_actions", "cost_adjustments", "trades")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*$")


@attrs.frozen
class ImportOptions:
    accounts: Mapping[str, str] = attrs.field(factory=dict)  # broker account number -> household account id ("" : files without one)
    cost_fractions: Mapping[str, Decimal] = attrs.field(factory=dict)  # spun-off security (id, symbol or ISIN) -> share of the old cost


@attrs.frozen
class Assembled:
    data: dict[str, Any]
    yaml: str
    scenario: Scenario
    summary: str
    transactions: list[dict[str, Any]]  # the imported history (also in `data` unless it goes to a CSV)


def assemble(statement: Statement, household_path: Path, options: ImportOptions, out: Path | None, transactions_apart: bool = False) -> Assembled:
    """The household with the imported records; `transactions_apart`: the history goes to a CSV, not the YAML."""
    household = load_yaml(household_path)
    data = household.data
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        raise SemanticError("the household is not a scenario with accounts", household.span(),
                            "a scenario file (taxpack: 1, as_of, taxpayers, accounts, securities) naming the broker's accounts")
    errors: list[TaxpackError] = []
    accounts = _accounts(statement, data, household, options, errors)
    securities = _Securities(data, household)
    prefix = PREFIX.get(statement.format, statement.format)
    transactions = [_transaction(t, accounts, securities, errors) for t in sorted(statement.trades, key=lambda t: t.date)]
    dividends = [_dividend(d, accounts, securities, errors) for d in sorted(statement.dividends, key=lambda d: d.date)]
    actions = [_action(a, accounts, securities, options, errors) for a in sorted(statement.actions, key=lambda a: a.date)]
    errors.extend(securities.errors)
    if errors:
        raise ErrorList(errors)
    _number(transactions, prefix, "", [t.ref for t in sorted(statement.trades, key=lambda t: t.date)])
    _number(dividends, prefix, "div-", [None] * len(dividends))
    _number(actions, prefix, "ca-", [None] * len(actions))
    merged = dict(data)
    merged["securities"] = list(data.get("securities") or []) + securities.added
    base = household_path.resolve().parent
    target = (out.resolve().parent if out is not None else Path.cwd())
    for key in ("fx",):
        if isinstance(merged.get(key), dict) and isinstance(merged[key].get("rates"), str):
            merged[key] = {**merged[key], "rates": _relative(base / merged[key]["rates"], target)}
    if isinstance(merged.get("dividends"), str):
        if dividends:
            raise ErrorList([SemanticError(f"the household reads its dividends from '{merged['dividends']}'; the imported ones cannot be added to it",
                                           household.span(("dividends",)), "a household that lists its dividends, or none")])
        merged["dividends"] = _relative(base / merged["dividends"], target)
    for key, items in (("transactions", transactions), ("dividends", dividends), ("corporate_actions", actions)):
        if items:
            merged[key] = list(merged.get(key) or []) + items
    merged = {key: merged[key] for key in sorted(merged, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER))}
    header = f"# Written by taxpack import {statement.format} from {', '.join(statement.files)}\n# household: {display_path(household_path)}\n"
    text = header + dump_yaml(merged)
    shown = display_path(out) if out is not None else "<import>"
    # Checked with the history inside, even when it is written apart (the CSV holds the same rows).
    scenario = build_scenario(load_yaml_text(text, shown), target)
    if transactions_apart:
        if data.get("transactions"):
            raise ErrorList([SemanticError("the household already lists transactions; with --transactions-csv the history must all go to the CSV",
                                           household.span(("transactions",)), "a household without transactions")])
        merged.pop("transactions", None)
        text = header + dump_yaml(merged)
    return Assembled(merged, text, scenario, summary(statement, accounts), transactions)


def transactions_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """The history as taxpack's own CSV (the columns of `check --transactions`)."""
    columns = TX_REQUIRED + TX_OPTIONAL
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(csv_safe_row([_cell(row.get(c)) for c in columns]))  # no cell can start a spreadsheet formula
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _decimal(value)
    return str(value)


# ---------------------------------------------------------------------------------------------


def _relative(path: Path, target: Path) -> str:
    return Path(os.path.relpath(path.resolve(), target)).as_posix()


def _accounts(statement: Statement, data: dict[str, Any], household: Document, options: ImportOptions, errors: list[TaxpackError]) -> dict[str, str]:
    known = {a.get("id"): a for a in data["accounts"] if isinstance(a, dict)}
    used: dict[str, Span] = {}
    places = [(r.account, r.span) for r in statement.trades] + [(r.account, r.span) for r in statement.dividends]
    places += [(r.account, r.span) for r in statement.actions] + [(r.account, r.span) for r in statement.skipped]
    for account, place in places:
        used.setdefault(account, place)
    result: dict[str, str] = {}
    for broker, span in sorted(used.items()):
        target = options.accounts.get(broker) or (broker if broker in known else None)
        if target is None:
            if broker == "":
                errors.append(SemanticError(f"{span.file} names no account", Span(span.file),
                                            "the household account it belongs to: --account ID"))
            else:
                errors.append(SemanticError(f"broker account '{broker}' is not an account of the household", span,
                                            f"an account with id '{broker}' in {household.file}, or --account {broker}=ID"))
            continue
        if target not in known:
            errors.append(SemanticError(f"--account {broker + '=' if broker else ''}{target}: the household has no account '{target}'", household.span(("accounts",)),
                                        "one of " + ", ".join(sorted(str(k) for k in known))))
            continue
        result[broker] = target
        kind = statement.account_types.get(broker)
        if kind is not None:
            wrapper = ACCOUNT_TYPES.get(kind[0].strip().lower())
            have = known[target].get("wrapper", "taxable")
            if wrapper is None:
                errors.append(SemanticError(f"unknown account type '{kind[0]}'", kind[1], "one of " + ", ".join(sorted(ACCOUNT_TYPES))))
            elif wrapper != have:
                errors.append(SemanticError(f"the broker says account {broker} is a {kind[0]}, the household says '{target}' is {have}", kind[1],
                                            f"wrapper: {wrapper} for account {target} in {household.file}"))
    return result


class _Securities:
    """Securities of the household by ISIN and id; new ones added when the export says enough."""

    def __init__(self, data: dict[str, Any], household: Document) -> None:
        self.by_isin = {s["isin"]: s for s in data.get("securities") or [] if isinstance(s, dict) and s.get("isin")}
        self.by_id = {s["id"]: s for s in data.get("securities") or [] if isinstance(s, dict) and s.get("id")}
        self.added: list[dict[str, Any]] = []
        self.errors: list[TaxpackError] = []
        self.household = household
        self._missing: set[str] = set()

    def resolve(self, ref: SecurityRef, span: Span) -> tuple[str, str]:
        """(id, currency) of the security."""
        if ref.isin and ref.isin in self.by_isin:
            entry = self.by_isin[ref.isin]
        elif ref.symbol and ref.symbol in self.by_id:
            entry = self.by_id[ref.symbol]
        elif ref.isin and ref.isin in self.by_id:
            entry = self.by_id[ref.isin]
        else:
            entry = self._add(ref, span)
        return str(entry["id"]), str(entry.get("currency") or ref.currency)

    def _add(self, ref: SecurityRef, span: Span) -> dict[str, Any]:
        ident = ref.symbol if ref.symbol and _ID.match(ref.symbol) else ref.isin or ref.symbol or "?"
        entry: dict[str, Any] = {"id": ident, "currency": ref.currency}
        country = ref.isin[:2] if ref.isin and ref.isin[:2] not in NOT_COUNTRIES else None
        if country is None or ref.kind is None or ref.currency is None:
            if ident not in self._missing:
                self._missing.add(ident)
                lacking = [w for w, v in (("country", country), ("kind", ref.kind), ("currency", ref.currency)) if v is None]
                snippet = f"{{id: {ident}, currency: {ref.currency or 'CCY'}, country: {country or 'CC'}, kind: {ref.kind or 'share|etf|fund|bond'}"
                snippet += f", isin: {ref.isin}}}" if ref.isin else "}"
                self.errors.append(SemanticError(f"security {ref.label} is not in the household and the export does not give its {' or '.join(lacking)}",
                                                 span, f"an entry under securities in {self.household.file}: {snippet}"))
            return entry
        entry.update({"country": country, "kind": ref.kind})
        if ref.isin:
            entry["isin"] = ref.isin
        if ref.name:
            entry["name"] = ref.name
        self.added.append(entry)
        self.by_id[ident] = entry
        if ref.isin:
            self.by_isin[ref.isin] = entry
        return entry


def _transaction(t: ImportedTrade, accounts: Mapping[str, str], securities: _Securities, errors: list[TaxpackError]) -> dict[str, Any]:
    sid, currency = securities.resolve(t.security, t.span)
    row: dict[str, Any] = {"id": "", "account": accounts.get(t.account, t.account), "security": sid, "date": t.date, "side": t.side,
                           "quantity": t.quantity, "price": t.price, "fees": t.fees}
    if t.currency != currency:
        row["currency"] = t.currency
    if t.settlement_date is not None:
        row["settlement_date"] = t.settlement_date
    row["note"] = _source_note(t.span, t.note)
    return row


def _dividend(d: ImportedDividend, accounts: Mapping[str, str], securities: _Securities, errors: list[TaxpackError]) -> dict[str, Any]:
    sid, _ = securities.resolve(d.security, d.span)
    row: dict[str, Any] = {"id": "", "account": accounts.get(d.account, d.account), "security": sid, "date": d.date, "gross": d.gross,
                           "withheld": d.withheld, "currency": d.currency}
    if d.source_country:
        row["source_country"] = d.source_country
    if d.kind != "dividend":
        row["kind"] = d.kind
    row["note"] = _source_note(d.span, d.note)
    return row


def _action(a: ImportedAction, accounts: Mapping[str, str], securities: _Securities, options: ImportOptions, errors: list[TaxpackError]) -> dict[str, Any]:
    sid, currency = securities.resolve(a.security, a.span)
    row: dict[str, Any] = {"id": "", "type": a.type, "security": sid, "date": a.date, "account": accounts.get(a.account, a.account)}
    if a.new_security is not None:
        new_id, _ = securities.resolve(a.new_security, a.span)
        row["new_security"] = new_id
    if a.ratio is not None:
        row["ratio"] = {"new": a.ratio[0], "old": a.ratio[1]}
    for name in ("added", "cash", "cash_in_lieu", "amount"):
        value = getattr(a, name)
        if value is not None:
            row[name] = value
    if a.type == "spin_off":
        new = a.new_security
        keys = [k for k in (row.get("new_security"), new.symbol if new else None, new.isin if new else None) if k]
        fraction = next((options.cost_fractions[k] for k in keys if k in options.cost_fractions), None)
        if fraction is None:
            errors.append(SemanticError(f"the spin-off of {row.get('new_security')} from {sid} on {a.date}: the export gives no cost allocation", a.span,
                                        f"--cost-fraction {row.get('new_security')}=F, the share of the old cost that moves to the new shares (the issuer's Form 8937 or notice)"))
        else:
            row["cost_fraction"] = fraction
    if a.currency and a.currency != currency:
        row["currency"] = a.currency
    row["note"] = _source_note(a.span, a.note)
    return row


def _source_note(span: Span, note: str | None) -> str:
    where = str(span)
    return f"{where}: {note}" if note else where


def _number(rows: list[dict[str, Any]], prefix: str, kind: str, refs: list[str | None]) -> None:
    """Ids: the broker's own when it gives unique ones, else a running number in date order."""
    usable = [r for r in refs if r]
    unique = len(usable) == len(refs) and len(set(usable)) == len(usable) and all(_ID.match(f"{prefix}-{r}") for r in usable)
    for i, row in enumerate(rows):
        row["id"] = f"{prefix}-{kind}{refs[i]}" if unique else f"{prefix}-{kind}{i + 1:04d}"


# ---------------------------------------------------------------------------------------------
# YAML out: one entry per line, in flow style (like the bundled example)
# ---------------------------------------------------------------------------------------------


def _decimal(value: Decimal) -> str:
    text = format(value, "f")
    return "0" if text in ("-0", "0") else text


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n"):
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def dump_yaml(data: Mapping[str, Any]) -> str:
    lines = []
    for key, value in data.items():
        if isinstance(value, list) and value:
            lines.append(f"{key}:")
            lines.extend(f"  - {_flow(item)}" for item in value)
        else:
            lines.append(f"{key}: {_flow(value)}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Totals per account, to compare with the broker's statement
# ---------------------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), ",f")


def summary(statement: Statement, accounts: Mapping[str, str]) -> str:
    """Per account and currency: buys, sales, fees, dividends and tax withheld, corporate actions, and what was not imported."""
    lines = [f"{statement.format}: {len(statement.files)} file{'s' if len(statement.files) != 1 else ''} ({', '.join(statement.files)})"]
    for broker in sorted(accounts, key=lambda b: (accounts[b], b)):
        target = accounts[broker]
        lines.append(f"account {target}" + (f" (broker account {broker})" if broker and broker != target else ""))
        per: dict[str, dict[str, Decimal]] = {}
        counts: dict[str, dict[str, int]] = {}
        for t in statement.trades:
            if t.account != broker:
                continue
            bucket, n = per.setdefault(t.currency, {}), counts.setdefault(t.currency, {})
            key = "bought" if t.side == "buy" else "sold"
            bucket[key] = bucket.get(key, Decimal(0)) + t.quantity * t.price
            bucket["fees"] = bucket.get("fees", Decimal(0)) + t.fees
            n[key] = n.get(key, 0) + 1
        for d in statement.dividends:
            if d.account != broker:
                continue
            bucket, n = per.setdefault(d.currency, {}), counts.setdefault(d.currency, {})
            bucket["gross"] = bucket.get("gross", Decimal(0)) + d.gross
            bucket["withheld"] = bucket.get("withheld", Decimal(0)) + d.withheld
            n["dividends"] = n.get("dividends", 0) + 1
        for ccy in sorted(per):
            b, n = per[ccy], counts[ccy]
            parts = []
            if n.get("bought"):
                parts.append(f"{n['bought']} buy{'s' if n['bought'] > 1 else ''} {_money(b['bought'])}")
            if n.get("sold"):
                parts.append(f"{n['sold']} sale{'s' if n['sold'] > 1 else ''} {_money(b['sold'])}")
            if "fees" in b:
                parts.append(f"fees {_money(b['fees'])}")
            if n.get("dividends"):
                parts.append(f"{n['dividends']} dividend{'s' if n['dividends'] > 1 else ''} gross {_money(b['gross'])} withheld {_money(b['withheld'])}")
            lines.append(f"  {ccy}: " + ", ".join(parts))
        kinds: dict[str, int] = {}
        for a in statement.actions:
            if a.account == broker:
                kinds[a.type] = kinds.get(a.type, 0) + 1
        if kinds:
            lines.append("  corporate actions: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(kinds.items())))
        skipped: dict[tuple[str, str], tuple[int, Decimal | None]] = {}
        for sk in statement.skipped:
            if sk.account != broker:
                continue
            what_ccy = (sk.what, sk.currency or "")
            count, total = skipped.get(what_ccy, (0, None))
            if sk.amount is not None:
                total = (total or Decimal(0)) + sk.amount
            skipped[what_ccy] = (count + 1, total)
        for (what, ccy), (count, total) in sorted(skipped.items()):
            amount = f" ({ccy + ' ' if ccy else ''}{_money(total)})" if total is not None else ""
            lines.append(f"  not imported: {count} x {what}{amount}")
    return "\n".join(lines) + "\n"
