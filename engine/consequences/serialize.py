"""The JSON form of a check result: the stable, machine-readable contract.

Top level: `taxpack` (version), `scenario`, `as_of`, `packs` (id, version, sha256), `rules_backend`,
`trades` (each with `id` and `consequences`), `positions` per lens, `summary` per jurisdiction.
Amounts are decimal strings rounded as each pack says; quantities and rates are exact strings.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, Callable, Iterator

from taxpack.engine.consequences.check import CheckResult
from taxpack.engine.core.household import Consequence, Finding, LotMatch
from taxpack.engine.core.money import money_text, number_text
from taxpack.engine.law.pack import Pack

_AS_IS = frozenset({str, int, bool, type(None)})  # exactly these types: JSON as they are (most values of facts and conditions)


def _plain(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
    if isinstance(value, Decimal):
        return number_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _AS_IS else _plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): v if type(v) in _AS_IS else _plain(v) for k, v in sorted(value.items())}
    return value


def _adjustment(adjustment: dict[str, Any], pack: "Pack | None") -> dict[str, Any]:
    """A basis adjustment with its money rounded as the pack says (quantities stay exact)."""
    return {k: (money_text(v, pack) if isinstance(v, Decimal) and k != "quantity" else _plain(v))
            for k, v in sorted(adjustment.items())}


def finding_dict(f: Finding, pack: "Pack | None", explain: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": f.code,
        "severity": f.severity,
        "message": f.message,
        "rule": f.rule,
        "pack": f.pack,
        "pack_sha256": f.pack_sha256,
        "citation": f.citation,
        "url": f.url,
        "confidence": f.confidence,
        "caveat": f.caveat,
        "amount": money_text(f.amount, pack),
        "facts": _plain(dict(f.facts)),
    }
    if explain:
        out["conditions"] = [_plain(dict(c)) for c in f.conditions]
    return out


def lot_dict(m: LotMatch, pack: "Pack | None") -> dict[str, Any]:
    return {
        "lot": m.lot,
        "account": m.account,
        "acquired": m.acquired.isoformat() if m.acquired else None,
        "adjusted_acquired": m.adjusted_acquired.isoformat() if m.adjusted_acquired else None,
        "quantity": number_text(m.quantity),
        "cost": money_text(m.cost, pack),
        "proceeds": money_text(m.proceeds, pack),
        "gain": money_text(m.gain, pack),
        "term": m.term,
        "price_gain": money_text(m.price_gain, pack),
        "fx_gain": money_text(m.fx_gain, pack),
        "rates": [
            {"pair": f"{r.currency}/{r.quote}", "date": r.date.isoformat(), "rate_date": r.rate_date.isoformat(),
             "rate": number_text(r.rate), "source": r.source}
            for r in m.rates
        ],
    }


def consequence_dict(c: Consequence, pack: "Pack | None") -> dict[str, Any]:
    recognised = c.gain + c.disallowed_loss + c.released_loss
    return {
        "jurisdiction": c.jurisdiction,
        "pack": c.pack,
        "basis": c.basis,
        "currency": c.currency,
        "taxable": c.taxable,
        "method": c.method,
        "proceeds": money_text(c.proceeds, pack),
        "cost": money_text(c.cost, pack),
        "gain": money_text(c.gain, pack),
        "disallowed_loss": money_text(c.disallowed_loss, pack),
        "released_loss": money_text(c.released_loss, pack),
        "fees": money_text(c.fees, pack),
        "fees_treatment": dict(sorted(c.fees_treatment.items())),
        "recognized_gain": money_text(recognised, pack),
        "price_gain": money_text(c.price_gain, pack),
        "fx_gain": money_text(c.fx_gain, pack),
        "term": c.term,
        "estimated_tax": money_text(c.estimated_tax, pack),
        "foreign_tax_credit": money_text(c.foreign_tax_credit, pack),
        "net_tax": money_text(c.net_tax, pack),
        "estimate_missing": list(c.estimate_missing),
        "lots": [lot_dict(m, pack) for m in c.lots],
        "findings": [finding_dict(f, pack) for f in c.findings],
    }


def _tax_year(pack: "Pack | None", day: dt.date) -> int | None:
    """The lens's tax year of a trade: where its figures go in `summary.household.lenses` (with the trade's `taxpayer`)."""
    if pack is None:
        return None
    from taxpack.engine.law.year_rules import year_rules

    return year_rules(pack).tax_year(day)


def to_json_dict(result: "CheckResult") -> dict[str, Any]:
    return {**_head(result), "trades": list(_trades(result))}


def write_json(result: "CheckResult", write: Callable[[str], Any]) -> None:
    """The compact JSON of `to_json_dict(result)` with `dumps`'s exact bytes, given to `write` a trade at a time:
    the whole document is never held as one dictionary and one string (10,000 rows: 13 MB of text)."""
    head = dumps(_head(result))  # "{...}\n": every key of the head sorts before "trades"
    write(head[:-2] + ',"trades":[')
    for n, trade in enumerate(_trades(result)):
        write(("," if n else "") + _COMPACT.encode(trade))
    write("]}\n")


def _trades(result: "CheckResult") -> Iterator[dict[str, Any]]:
    packs_by_ref = {p.ref: p for p in result.packs.packs}
    base_currency = result.household.get("currency")
    base = next((p for p in result.packs.packs if p.currency == base_currency), None)
    for t in result.trades:
        trade = t.trade
        yield {
            "id": trade.id,
            "account": trade.account,
            "security": trade.security,
            "date": trade.date.isoformat(),
            "side": trade.side,
            "quantity": number_text(trade.quantity),
            "price": number_text(trade.price),
            "taxpayer": result.scenario.account(trade.account).owner,
            "consequences": [{**consequence_dict(c, packs_by_ref.get(c.pack)), "tax_year": _tax_year(packs_by_ref.get(c.pack), trade.date)}
                             for c in t.consequences],
            "not_taxed_by": [{"jurisdiction": n.jurisdiction, "reason": n.reason, "citation": n.citation, "severity": n.severity} for n in t.notes],
            "repurchase_horizon": [_plain(h) for c in t.consequences for h in result.horizons.get((trade.id, c.jurisdiction), [])],
            "net_tax": money_text(t.net_tax, base),
            "timing": [{"date": a.day.isoformat(), "why": a.why, "net_tax": money_text(a.net_tax, base),
                        "change": money_text(a.change, base), "missing": list(a.missing)} for a in t.timing],
        }


def _head(result: "CheckResult") -> dict[str, Any]:
    """Every key of the JSON but `trades`."""
    packs_by_j = {p.jurisdiction: p for p in result.packs.packs if p.jurisdiction}
    positions = {}
    for jurisdiction, rows in sorted(result.positions.items()):
        pack = packs_by_j.get(jurisdiction)
        positions[jurisdiction] = [
            {**{k: v for k, v in row.items() if k not in ("lots", "cost", "quantity")},
             "quantity": number_text(row["quantity"]), "cost": money_text(row["cost"], pack),
             "lots": [{**{k: _plain(v) for k, v in lot.items() if k not in ("cost", "quantity", "adjustments")},
                       "quantity": number_text(lot["quantity"]), "cost": money_text(lot["cost"], pack),
                       "adjustments": [_adjustment(a, pack) for a in lot["adjustments"]]} for lot in row["lots"]]}
            for row in rows
        ]
    summary = []
    for row in result.summary:
        pack = packs_by_j.get(row["jurisdiction"])
        summary.append({
            "jurisdiction": row["jurisdiction"], "currency": row["currency"], "trades": row["trades"],
            "gains": money_text(row["gains"], pack), "losses": money_text(row["losses"], pack),
            "disallowed_loss": money_text(row["disallowed_loss"], pack),
            "estimated_tax": money_text(row["estimated_tax"], pack),
            "foreign_tax_credit": money_text(row["foreign_tax_credit"], pack),
            "net_tax": money_text(row["net_tax"], pack),
            "withholding_leakage": {k: money_text(v, pack) for k, v in row["withholding_leakage"].items()},
        })
    from taxpack.engine import __version__

    return {
        "taxpack": __version__,
        "scenario": result.scenario.source,
        "as_of": result.scenario.as_of.isoformat(),
        "packs": result.packs.stamp(),
        "rules_backend": result.rules_backend,
        "exit_code": result.exit_code,
        "positions": positions,
        "summary": {"jurisdictions": summary, "household": dict(result.household)},
    }


# What json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")) builds on every call, built once.
_COMPACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def dumps(data: dict[str, Any], indent: int | None = None) -> str:
    """Byte-stable JSON with sorted keys and a final newline: compact by default (the C encoder; large
    households print fast), indented on request (`--format json --pretty`)."""
    if indent is None:
        return _COMPACT.encode(data) + "\n"
    return json.dumps(data, indent=indent, sort_keys=True, ensure_ascii=False) + "\n"
