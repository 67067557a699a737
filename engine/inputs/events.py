"""The scenario's events besides trades: dividends, corporate actions, cost adjustments, cost pools.

`include_dividends` reads `dividends: FILE` (a YAML list beside the scenario) into the scenario's
document, so the schema checks it and every error points into that file. `build_events` turns the
checked entries into `Dividend`, `CorporateAction`, `CostAdjustment` and `CostPool` records, and
`event_errors` checks what the schema cannot: ids that must exist and be unique, and the fields each
kind of corporate action needs (a merger without a ratio cannot be computed; nothing is guessed).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Sequence

import attrs

from taxpack.engine.core.documents import Document, JsonPath, load_yaml
from taxpack.engine.core.errors import SchemaError, SemanticError, Span, TaxpackError
from taxpack.engine.core.files import named_file
from taxpack.engine.core.household import CorporateAction, CostAdjustment, CostPool, Dividend, Ratio, Scenario
from taxpack.engine.core.schemas import did_you_mean

# What each type of corporate action needs and allows (besides id, type, security, date, account, currency, note).
ACTION_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "split": {"one_of": ("ratio", "added"), "allowed": ("ratio", "added", "new_security", "cash_in_lieu")},
    "identifier_change": {"required": ("new_security",), "allowed": ("new_security",)},
    "merger": {"required": ("new_security", "ratio"), "allowed": ("new_security", "ratio", "cash", "cash_in_lieu", "fmv_new")},
    "spin_off": {"required": ("new_security", "ratio"), "allowed": ("new_security", "ratio", "fmv_old", "fmv_new", "cost_fraction", "elected", "cash_in_lieu")},
    "return_of_capital": {"one_of": ("amount", "amount_per_share"), "allowed": ("amount", "amount_per_share")},
    "stock_dividend": {"required": ("ratio",), "allowed": ("ratio", "amount", "cash_in_lieu")},
}
_PER_ACCOUNT = ("added", "cash", "cash_in_lieu", "amount")  # totals of one account: need `account` (not stock_dividend's amount)
_OPTIONAL = ("ratio", "added", "new_security", "cash", "cash_in_lieu", "amount", "amount_per_share", "fmv_old", "fmv_new", "cost_fraction", "elected")


def include_dividends(document: Document, base: Path, roots: Sequence[Path] | None = None) -> Document:
    """`dividends: FILE` replaced by the file's list, with the file's own positions (errors point into it).
    The file must lie in one of `roots` (default: `base`, the scenario's folder), links followed."""
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("dividends"), str):
        return document
    name = data["dividends"]
    if not name.endswith((".yaml", ".yml", ".json")):
        raise SchemaError(f"dividends file '{name}' is not YAML or JSON", document.span(("dividends",)),
                          "a .yaml, .yml or .json file holding a list of dividends, relative to the scenario file")
    path = named_file(name, base, list(roots) if roots is not None else [base], "dividends file", document.span(("dividends",)),
                      "a YAML list of dividends", "the scenario file")
    included = load_yaml(path)
    if not isinstance(included.data, list):
        raise SchemaError("a dividends file holds a list of dividends", included.span(), "a YAML list: - {id: ..., account: ..., security: ..., date: ..., gross: ...}")
    positions: dict[JsonPath, Span] = dict(document.positions)
    for path_key, span in dict(included.positions).items():
        if path_key and path_key[0] == "<key>":
            positions[("<key>", "dividends") + tuple(path_key[1:])] = span
        else:
            positions[("dividends",) + tuple(path_key)] = span
    return Document(document.file, {**data, "dividends": included.data}, positions)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    return _number(value)


def _number(value: Any) -> Decimal:
    """A number the schema requires (e.g. a ratio's `new` and `old`)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


@attrs.frozen
class Events:
    dividends: tuple[Dividend, ...] = ()
    corporate_actions: tuple[CorporateAction, ...] = ()
    cost_adjustments: tuple[CostAdjustment, ...] = ()
    cost_pools: tuple[CostPool, ...] = ()


def build_events(data: dict[str, Any], document: Document) -> Events:
    """The records of a schema-checked scenario (dates already ISO text, numbers Decimal or text)."""
    dividends = tuple(
        Dividend(
            id=d["id"], account=d["account"], security=d["security"], date=_date(d["date"]), gross=_dec(d["gross"]) or Decimal(0),
            withheld=_dec(d.get("withheld")) or Decimal(0), currency=d.get("currency"), source_country=d.get("source_country"),
            kind=d.get("kind", "dividend"), ex_date=_date(d["ex_date"]) if d.get("ex_date") else None, note=d.get("note"),
            span=document.lazy_span(("dividends", i)),
        )
        for i, d in enumerate(data.get("dividends") or [])
    )
    actions = []
    for i, a in enumerate(data.get("corporate_actions") or []):
        ratio = a.get("ratio")
        actions.append(CorporateAction(
            id=a["id"], type=a["type"], security=a["security"], date=_date(a["date"]), account=a.get("account"),
            new_security=a.get("new_security"),
            ratio=Ratio(_number(ratio["new"]), _number(ratio["old"])) if ratio else None,
            added=_dec(a.get("added")), cash=_dec(a.get("cash")), cash_in_lieu=_dec(a.get("cash_in_lieu")),
            amount=_dec(a.get("amount")), amount_per_share=_dec(a.get("amount_per_share")),
            fmv_old=_dec(a.get("fmv_old")), fmv_new=_dec(a.get("fmv_new")), cost_fraction=_dec(a.get("cost_fraction")),
            elected=a.get("elected"), currency=a.get("currency"), note=a.get("note"),
            span=document.lazy_span(("corporate_actions", i)),
        ))
    adjustments = tuple(
        CostAdjustment(
            id=c["id"], account=c["account"], security=c["security"], date=_date(c["date"]), amount=_dec(c["amount"]) or Decimal(0),
            reason=c["reason"], currency=c.get("currency"), jurisdictions=tuple(c.get("jurisdictions") or ()),
            span=document.lazy_span(("cost_adjustments", i)),
        )
        for i, c in enumerate(data.get("cost_adjustments") or [])
    )
    pools = tuple(CostPool(p["id"], p["account"], p["security"], p["reason"], document.lazy_span(("cost_pools", i)))
                  for i, p in enumerate(data.get("cost_pools") or []))
    return Events(dividends, tuple(actions), adjustments, pools)


def event_errors(scenario: Scenario, document: Document | None) -> list[TaxpackError]:
    """Unknown or duplicate ids, and the fields a corporate action's type needs or does not use."""
    errors: list[TaxpackError] = []
    accounts = {a.id for a in scenario.accounts}
    securities = {s.id for s in scenario.securities}
    pools = {p.id: p for p in scenario.cost_pools}

    def span(key: str, i: int, name: str | None = None) -> Span | None:
        if document is None:
            return None
        return document.span((key, i, name) if name else (key, i))

    def check_ids(key: str, items: Iterable[Any], what: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                errors.append(SemanticError(f"duplicate {what} id '{item.id}'", span(key, i, "id")))
            seen.add(item.id)

    def known(key: str, i: int, name: str, value: str | None, names: set[str], what: str, owner: str) -> None:
        if value is not None and value not in names:
            errors.append(SemanticError(f"{owner}: unknown {what} '{value}'{did_you_mean(value, names)}", span(key, i, name), _one_of(names)))

    check_ids("dividends", scenario.dividends, "dividend")
    check_ids("corporate_actions", scenario.corporate_actions, "corporate action")
    check_ids("cost_adjustments", scenario.cost_adjustments, "cost adjustment")
    check_ids("cost_pools", scenario.cost_pools, "cost pool")
    for i, d in enumerate(scenario.dividends):
        known("dividends", i, "account", d.account, accounts, "account", f"dividend '{d.id}'")
        known("dividends", i, "security", d.security, securities, "security", f"dividend '{d.id}'")
    for i, c in enumerate(scenario.cost_adjustments):
        known("cost_adjustments", i, "account", c.account, accounts, "account", f"cost adjustment '{c.id}'")
        known("cost_adjustments", i, "security", c.security, securities, "security", f"cost adjustment '{c.id}'")
    for i, p in enumerate(scenario.cost_pools):
        known("cost_pools", i, "account", p.account, accounts, "account", f"cost pool '{p.id}'")
        known("cost_pools", i, "security", p.security, securities, "security", f"cost pool '{p.id}'")
    for i, a in enumerate(scenario.corporate_actions):
        owner = f"corporate action '{a.id}'"
        known("corporate_actions", i, "security", a.security, securities, "security", owner)
        known("corporate_actions", i, "new_security", a.new_security, securities, "security", owner)
        known("corporate_actions", i, "account", a.account, accounts, "account", owner)
        errors.extend(_action_field_errors(a, lambda name, i=i: span("corporate_actions", i, name)))
    for key, txs in (("transactions", scenario.transactions), ("trades", scenario.trades)):
        for i, tx in enumerate(txs):
            if tx.pool is None:
                continue
            from_csv = tx.span is not None and document is not None and tx.span.file != document.file
            where = Span(tx.span.file, tx.span.line, None, "pool") if from_csv and tx.span is not None else span(key, i, "pool")
            pool = pools.get(tx.pool)
            what = "trade" if tx.candidate else "transaction"
            if pool is None:
                errors.append(SemanticError(f"{what} '{tx.id}': unknown cost pool '{tx.pool}'{did_you_mean(tx.pool, pools)}", where,
                                            _one_of(set(pools)) if pools else "the id of an entry of cost_pools"))
            elif pool.account != tx.account:
                # The security may differ: a corporate action (identifier change, merger) carries the pool to the new security.
                errors.append(SemanticError(f"{what} '{tx.id}': cost pool '{tx.pool}' is in account {pool.account}, not {tx.account}",
                                            where, f"a cost pool of account {tx.account}"))
    return errors


def _action_field_errors(a: CorporateAction, span: Any) -> list[TaxpackError]:
    rules = ACTION_FIELDS[a.type]
    errors: list[TaxpackError] = []
    given = [name for name in _OPTIONAL if getattr(a, name) is not None]
    owner = f"corporate action '{a.id}' ({a.type})"
    for name in given:
        if name not in rules["allowed"]:
            errors.append(SemanticError(f"{owner}: '{name}' is not used by a {a.type}", span(name),
                                        "only " + ", ".join(rules["allowed"])))
    for name in rules.get("required", ()):
        if getattr(a, name) is None:
            errors.append(SemanticError(f"{owner}: '{name}' is missing", span(None), f"'{name}' for a {a.type}"))
    one_of = rules.get("one_of")
    if one_of and sum(getattr(a, name) is not None for name in one_of) != 1:
        errors.append(SemanticError(f"{owner}: give exactly one of {' or '.join(repr(n) for n in one_of)}", span(None),
                                    f"one of {', '.join(one_of)}"))
    for name in _PER_ACCOUNT:
        if name == "amount" and a.type != "return_of_capital":
            continue
        if getattr(a, name) is not None and a.account is None:
            errors.append(SemanticError(f"{owner}: '{name}' is a total of one account, but the action names no account", span(name),
                                        "an 'account' for the total"))
    if a.type == "spin_off" and a.cost_fraction is None and (a.fmv_old is None or a.fmv_new is None):
        errors.append(SemanticError(f"{owner}: the cost cannot be allocated without 'fmv_old' and 'fmv_new' or 'cost_fraction'", span(None),
                                    "fmv_old and fmv_new (values per unit right after the distribution), or the issuer's cost_fraction"))
    if a.type in ("identifier_change", "merger", "spin_off") and a.new_security == a.security:
        errors.append(SemanticError(f"{owner}: 'new_security' is the security itself", span("new_security"), "another security"))
    return errors


def _one_of(names: set[str]) -> str:
    ordered = sorted(names)
    return "one of " + ", ".join(ordered[:10]) + (", ..." if len(ordered) > 10 else "")
