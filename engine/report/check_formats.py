"""Human formats of a check result: a terminal table (one block per trade), CSV (a row per trade and
lens) and Markdown (to paste into a ticket). All read the JSON form, so every format says the same."""

from __future__ import annotations

import csv
import io
from typing import Any

from taxpack.engine.core.csv_safe import csv_safe_row

CSV_COLUMNS = [
    "trade", "account", "security", "date", "side", "quantity", "jurisdiction", "basis", "currency", "taxable",
    "method", "proceeds", "cost", "gain", "disallowed_loss", "recognized_gain", "term", "estimated_tax",
    "estimate_missing", "findings", "worst_severity",
]
RANK = {"info": 0, "warning": 1, "blocking": 2}


def _worst(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return ""
    return max((f["severity"] for f in findings), key=lambda s: RANK[s])


def _v(value: Any) -> str:
    return "-" if value is None else str(value)


def render_table(data: dict[str, Any], explain: bool = False) -> str:
    out: list[str] = []
    packs = ", ".join(f"{p['id']}@{p['version']}" for p in data["packs"])
    out.append(f"taxpack {data['taxpack']}  scenario {data['scenario']}  as of {data['as_of']}")
    out.append(f"packs: {packs}  (rules: {data['rules_backend']})")
    for trade in data["trades"]:
        out.append("")
        out.append(f"{trade['id']}: {trade['side']} {trade['quantity']} {trade['security']} in {trade['account']} on {trade['date']} at {trade['price']}")
        for c in trade["consequences"]:
            head = f"  {c['jurisdiction']} [{c['basis']}, {c['pack']}] {c['currency']}"
            if trade["side"] == "sell":
                head += (f": proceeds {c['proceeds']}  cost {c['cost']}  gain {c['gain']}  term {c['term']}"
                         f"  method {c['method']}")
                if c["disallowed_loss"] not in (None, "0.00", "0"):
                    head += f"  disallowed {c['disallowed_loss']}"
                if not c["taxable"]:
                    head += "  (inside a wrapper: not taxable here)"
                elif c["estimated_tax"] is not None:
                    head += f"  est. tax {c['estimated_tax']}"
                elif c["estimate_missing"]:
                    head += f"  est. tax: n/a (missing {', '.join(c['estimate_missing'])})"
            else:
                head += f": cost {c['cost']}"
            out.append(head)
            if explain or trade["side"] == "sell":
                for lot in c["lots"]:
                    line = f"      lot {lot['lot']} ({lot['account']}) acquired {lot['acquired']}"
                    if lot["adjusted_acquired"]:
                        line += f" (holding from {lot['adjusted_acquired']})"
                    line += f": {lot['quantity']} units, cost {lot['cost']}"
                    if trade["side"] == "sell":
                        line += f", proceeds {lot['proceeds']}, gain {lot['gain']} ({lot['term']})"
                        if lot["fx_gain"] is not None and explain:
                            line += f" = price {lot['price_gain']} + fx {lot['fx_gain']}"
                    out.append(line)
                    if explain:
                        for r in lot["rates"]:
                            used = "" if r["rate_date"] == r["date"] else f" (rate of {r['rate_date']})"
                            out.append(f"        rate {r['pair']} {r['rate']} on {r['date']}{used} - {r['source']}")
            for f in c["findings"]:
                out.append(f"    {f['severity'].upper()} {f['code']}: {f['message']}")
                out.append(f"      {f['rule']} ({f['pack']}) - {f['citation']}" + (f" [{f['confidence']}]" if f['confidence'] != 'verified' else ""))
                if f.get("caveat"):
                    out.append(f"      caveat: {f['caveat']}")
                if explain:
                    for cond in f.get("conditions") or []:
                        held = "held" if cond.get("held") else "did not hold"
                        out.append(f"      - {cond.get('fact')} {cond.get('op')} {cond.get('expected')}: saw {cond.get('actual')} ({held})")
                    for k, v in (f.get("facts") or {}).items():
                        out.append(f"      · {k} = {v}")
        for n in trade["not_taxed_by"]:
            out.append(f"  {n['jurisdiction']}: {n['reason']}" + (f" - {n['citation']}" if n["citation"] else ""))
        for h in trade.get("repurchase_horizon") or []:
            out.append(f"  repurchase: {h.get('message', h)}")
    out.append("")
    out.append("Summary")
    for row in data["summary"]["jurisdictions"]:
        leak = ", ".join(f"{v} {k}/yr" for k, v in row["withholding_leakage"].items()) or "none"
        out.append(f"  {row['jurisdiction']} {row['currency']}: gains {row['gains']}  losses {row['losses']}  "
                   f"disallowed {row['disallowed_loss']}  est. tax {_v(row['estimated_tax'])}  withholding leakage {leak}")
    return "\n".join(out) + "\n"


def render_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for trade in data["trades"]:
        for c in trade["consequences"]:
            writer.writerow(csv_safe_row([  # no cell can start a spreadsheet formula (core/csv_safe.py)
                trade["id"], trade["account"], trade["security"], trade["date"], trade["side"], trade["quantity"],
                c["jurisdiction"], c["basis"], c["currency"], str(c["taxable"]).lower(), c["method"] or "",
                c["proceeds"], c["cost"], c["gain"], c["disallowed_loss"], c["recognized_gain"], c["term"],
                c["estimated_tax"] or "", ";".join(c["estimate_missing"]),
                ";".join(f["code"] for f in c["findings"]), _worst(c["findings"]),
            ]))
    return buffer.getvalue()


def render_markdown(data: dict[str, Any], explain: bool = False) -> str:
    out = [f"# taxpack check: {data['scenario']}", "",
           f"As of {data['as_of']}; packs " + ", ".join(f"`{p['id']}@{p['version']}` (`{p['sha256'][:12]}`)" for p in data["packs"]), ""]
    for trade in data["trades"]:
        out.append(f"## {trade['id']}: {trade['side']} {trade['quantity']} {trade['security']} ({trade['account']}, {trade['date']})")
        out.append("")
        out.append("| lens | basis | ccy | proceeds | cost | gain | disallowed | term | method | est. tax |")
        out.append("|---|---|---|---:|---:|---:|---:|---|---|---:|")
        for c in trade["consequences"]:
            tax = c["estimated_tax"] if c["estimated_tax"] is not None else ("n/a: " + ", ".join(c["estimate_missing"]) if c["estimate_missing"] else "-")
            out.append(f"| {c['jurisdiction']} | {c['basis']} | {c['currency']} | {c['proceeds']} | {c['cost']} | {c['gain']} | "
                       f"{c['disallowed_loss']} | {c['term']} | {c['method'] or '-'} | {tax} |")
        out.append("")
        for c in trade["consequences"]:
            for f in c["findings"]:
                out.append(f"- **{f['severity']}** `{f['code']}` ({c['jurisdiction']}): {f['message']} "
                           f"— {f['citation']} (`{f['rule']}`, {f['pack']})" + (f" _Caveat: {f['caveat']}_" if f.get("caveat") else ""))
                if explain:
                    for cond in f.get("conditions") or []:
                        out.append(f"  - `{cond.get('fact')} {cond.get('op')} {cond.get('expected')}`: saw `{cond.get('actual')}` ({'held' if cond.get('held') else 'did not hold'})")
        for n in trade["not_taxed_by"]:
            out.append(f"- {n['jurisdiction']}: {n['reason']}" + (f" — {n['citation']}" if n["citation"] else ""))
        out.append("")
    out.append("## Summary")
    out.append("")
    out.append("| jurisdiction | ccy | gains | losses | disallowed | est. tax | withholding leakage /yr |")
    out.append("|---|---|---:|---:|---:|---:|---|")
    for row in data["summary"]:
        leak = ", ".join(f"{v} {k}" for k, v in row["withholding_leakage"].items()) or "-"
        out.append(f"| {row['jurisdiction']} | {row['currency']} | {row['gains']} | {row['losses']} | {row['disallowed_loss']} | {_v(row['estimated_tax'])} | {leak} |")
    return "\n".join(out) + "\n"
