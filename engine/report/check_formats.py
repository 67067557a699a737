"""Human formats of a check result: a terminal table (one block per trade), CSV (a row per trade and
lens) and Markdown (to paste into a ticket). All read the JSON form, so every format says the same."""

from __future__ import annotations

import csv
import io
from typing import Any

from taxpack.engine.core.csv_safe import csv_safe_row
from taxpack.engine.report.check_table import WIDTH, check_tables, explain_trade, timing_line

CSV_COLUMNS = [
    "trade", "account", "security", "date", "side", "quantity", "jurisdiction", "basis", "currency", "taxable",
    "method", "proceeds", "cost", "gain", "disallowed_loss", "recognized_gain", "term", "estimated_tax",
    "estimate_missing", "findings", "worst_severity",
    # appended (issue 18), so that the columns of existing readers keep their positions:
    "foreign_tax_credit", "net_tax",
]
RANK = {"info": 0, "warning": 1, "blocking": 2}


def _worst(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return ""
    return max((f["severity"] for f in findings), key=lambda s: RANK[s])


def _v(value: Any) -> str:
    return "-" if value is None else str(value)


def _v0(value: Any) -> str:
    return "" if value is None else str(value)


def render_table(data: dict[str, Any], explain: str | None = None, *, color: bool = False, width: int = WIDTH) -> str:
    """The terminal table (report/check_table.py); `explain`: a trade id for that trade's full reasoning
    alone, `*` for the table followed by every trade's."""
    if explain is None:
        return check_tables(data, color=color, width=width)
    if explain == "*":
        return check_tables(data, color=color, width=width, explain=True)
    return explain_trade(data, explain, color=color, width=width)


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
                _v0(c.get("foreign_tax_credit")), _v0(c.get("net_tax")),
            ]))
    return buffer.getvalue()


def _cell(value: Any) -> str:
    """A Markdown table cell: a pipe would end the cell, a newline the row."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(data: dict[str, Any], explain: str | bool | None = None) -> str:
    """Markdown: the household's net tax first, then a section per trade (`explain`: with each rule's
    conditions, the lots and the year's computation; a trade id: that trade's section only)."""
    only = explain if isinstance(explain, str) and explain != "*" else None
    detailed = bool(explain)
    household = data["summary"]["household"]
    base = household.get("currency", "")
    out = [f"# taxpack check: {data['scenario']}", "",
           f"As of {data['as_of']}; packs " + ", ".join(f"`{p['id']}@{p['version']}` (`{p['sha256'][:12]}`)" for p in data["packs"]), ""]
    if only is None:
        out.append("## Household tax")
        out.append("")
        if household.get("lenses"):
            out.append(f"**Net tax {_v(household.get('net_tax'))} {base}** (gross {_v(household.get('gross_tax'))}, "
                       f"credits {_v(household.get('credits'))}) on these trades.")
            out.append("")
            out.append("| country | taxpayer | year | ccy | net tax | gross tax | credits | year before | year after | foreign tax uncredited |")
            out.append("|---|---|---|---|---:|---:|---:|---:|---:|---|")
            for lens in household["lenses"]:
                unused = ", ".join(f"{k.upper()} {v}" for k, v in sorted((lens.get("unused_foreign_tax") or {}).items())) or "-"
                net = _v(lens["net_tax"]) + (f" (missing: {', '.join(lens['missing'])})" if lens.get("missing") else "")
                out.append(f"| {lens['jurisdiction']} | {_cell(lens['taxpayer'])} | {lens['year']} | {lens['currency']} | **{net}** | "
                           f"{_v(lens['gross_tax'])} | {_v(lens['credits'])} | {_v(lens['tax_before'])} | {_v(lens['tax_after'])} | {unused} |")
        else:
            out.append("No sale among the candidate trades: no tax to estimate.")
        out.append("")
    for trade in data["trades"]:
        if only is not None and trade["id"] != only:
            continue
        out.append(f"## {trade['id']}: {trade['side']} {trade['quantity']} {trade['security']} ({trade['account']}, {trade['date']})")
        out.append("")
        if trade.get("net_tax") is not None:
            out.append(f"Household net tax: **{trade['net_tax']} {base}**")
            out.append("")
        out.append("| lens | basis | ccy | net tax | gross tax | credit | proceeds | cost | gain | disallowed | term | method |")
        out.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
        for c in trade["consequences"]:
            net = c["net_tax"] if c["net_tax"] is not None else ("n/a: " + ", ".join(c["estimate_missing"]) if c["estimate_missing"] else "-")
            out.append(f"| {c['jurisdiction']} | {c['basis']} | {c['currency']} | **{net}** | {_v(c['estimated_tax'])} | "
                       f"{_v(c.get('foreign_tax_credit'))} | {c['proceeds']} | {c['cost']} | {c['gain']} | {c['disallowed_loss']} | "
                       f"{c['term']} | {c['method'] or '-'} |")
        out.append("")
        for a in trade.get("timing") or []:
            out.append(f"- {timing_line(a, trade['date'], base)}")
        for c in trade["consequences"]:
            for f in c["findings"]:
                out.append(f"- **{f['severity']}** `{f['code']}` ({c['jurisdiction']}): {f['message']} "
                           f"— {f['citation']} (`{f['rule']}`, {f['pack']})" + (f" _Caveat: {f['caveat']}_" if f.get("caveat") else ""))
                if detailed:
                    for cond in f.get("conditions") or []:
                        out.append(f"  - `{cond.get('fact')} {cond.get('op')} {cond.get('expected')}`: saw `{cond.get('actual')}` ({'held' if cond.get('held') else 'did not hold'})")
        for n in trade["not_taxed_by"]:
            out.append(f"- {n['jurisdiction']}: {n['reason']}" + (f" — {n['citation']}" if n["citation"] else ""))
        if detailed:
            out += _markdown_explain(data, trade)
        out.append("")
    if only is None:
        out.append("## By country")
        out.append("")
        out.append("| jurisdiction | ccy | gains | losses | disallowed | est. tax | credit | net tax | withholding leakage /yr |")
        out.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
        for row in data["summary"]["jurisdictions"]:
            leak = ", ".join(f"{v} {k}" for k, v in row["withholding_leakage"].items()) or "-"
            out.append(f"| {row['jurisdiction']} | {row['currency']} | {row['gains']} | {row['losses']} | {row['disallowed_loss']} | "
                       f"{_v(row['estimated_tax'])} | {_v(row.get('foreign_tax_credit'))} | {_v(row.get('net_tax'))} | {leak} |")
    return "\n".join(out).rstrip("\n") + "\n"


def _markdown_explain(data: dict[str, Any], trade: dict[str, Any]) -> list[str]:
    from taxpack.engine.report.check_table import lens_of

    out = [""]
    for c in trade["consequences"]:
        out.append(f"### {trade['id']} under {c['jurisdiction']} ({c['currency']})")
        out.append("")
        out.append("| lot | account | acquired | holding from | quantity | cost | proceeds | gain | term |")
        out.append("|---|---|---|---|---:|---:|---:|---:|---|")
        for lot in c["lots"]:
            out.append(f"| {_cell(lot['lot'])} | {_cell(lot['account'])} | {lot['acquired'] or '-'} | {lot['adjusted_acquired'] or ''} | "
                       f"{lot['quantity']} | {lot['cost']} | {lot['proceeds']} | {lot['gain']} | {lot['term']} |")
        rates = [(lot["lot"], r) for lot in c["lots"] for r in lot["rates"]]
        if rates:
            out.append("")
            for lot_id, r in rates:
                out.append(f"- rate {r['pair']} {r['rate']} on {r['date']} (rate of {r['rate_date']}, {r['source']}), lot {lot_id}")
        lens = lens_of(data, trade, c)
        if lens is not None and trade["side"] == "sell":
            out.append("")
            out.append(f"The year {lens['year']} for {lens['taxpayer']} under {lens['jurisdiction']}: tax before {_v(lens['tax_before'])}, "
                       f"after {_v(lens['tax_after'])} {lens['currency']}")
            out.append("")
            out += [f"{i}. {step}" for i, step in enumerate(lens.get("steps") or [], 1)]
        out.append("")
    return out
