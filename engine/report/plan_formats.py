"""Human formats of a plan and of harvest candidates (table, CSV, Markdown), and the band plot.

All read the JSON form, like `taxpack check`'s formats, so every format says the same thing. The plot
shows the planner's tax of the least-tax plan and of the naive plan for a few drift bands.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from taxpack.engine.core.csv_safe import csv_safe_row
from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.core.files import write_bytes_atomic

PLAN_CSV = ["id", "side", "account", "security", "quantity", "price", "lots", "findings", "worst_severity"]
HARVEST_CSV = ["jurisdiction", "taxpayer", "account", "security", "quantity", "method", "loss", "currency",
               "saving_this_year", "value_at_marginal_rate", "already_washed", "replacements", "do_not_buy_until", "rules"]
RANK = {"info": 0, "warning": 1, "blocking": 2}


def _findings_by_trade(data: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for trade in data["check"]["trades"]:
        for c in trade["consequences"]:
            for f in c["findings"]:
                out.setdefault(trade["id"], []).append((c["jurisdiction"], f))
    return out


def _lots(trade: dict[str, Any]) -> str:
    lots = trade.get("lots")
    if isinstance(lots, list):
        return ";".join(f"{l['transaction']}:{l['quantity']}" for l in lots)
    return lots or ""


def _tax_line(name: str, tax: dict[str, Any]) -> str:
    lenses = ", ".join(f"{r['lens']}/{r['taxpayer']} {r['tax']}" for r in tax["by_lens"]) or "no taxed lens"
    return (f"  {name:<10} tax {tax['total']:>12}  (lens currency: {lenses}); withholding leakage change {tax['leakage_change']}/yr; "
            f"loss rules tripped {tax['loss_rules_tripped']}")


def render_plan_table(data: dict[str, Any]) -> str:
    out = [f"taxpack {data['taxpack']} plan ({data['kind']})  scenario {data['scenario']}  as of {data['as_of']}",
           "packs: " + ", ".join(f"{p['id']}@{p['version']}" for p in data["packs"]),
           f"household value {data['household_value']} {data['currency']}" + (f"; drift band {data['band']}" if data.get("band") else ""), ""]
    findings = _findings_by_trade(data)
    out.append("Trades")
    if not data["trades"]:
        out.append("  (none: the household is already within the band)")
    for t in data["trades"]:
        line = f"  {t['id']}: {t['side']} {t['quantity']} {t['security']} in {t['account']} at {t['price']}"
        if _lots(t):
            line += f"  lots {_lots(t)}"
        out.append(line)
        for jurisdiction, f in findings.get(t["id"], []):
            if f["severity"] != "info":
                out.append(f"      {f['severity'].upper()} {jurisdiction} {f['code']}: {f['message']}")
    out.append("")
    out.append(f"Tax ({data['currency']}; the planner's linear model, on top of this year's realised gains)")
    out.append(_tax_line("plan", data["tax"]))
    out.append(_tax_line("heuristic", data["heuristic"]["tax"]))
    out.append(_tax_line("naive", data["naive"]["tax"]))
    out.append(f"  saving against the naive plan {data['saving']} {data['currency']} ({data['saving_bp']} bp of household value)")
    out.append(f"  taxpack check's estimate: plan {data['engine_tax'] or 'n/a'}, naive {data['naive']['engine_tax'] or 'n/a'}")
    s = data["solver"]
    out.append("")
    out.append(f"Solver: {s['status']}; objective {s['objective']}, bound {s['bound']}, proven gap {s['gap']} (limit {s['gap_limit']}, "
               f"{s['time_limit']} s){'; ' + str(s['seconds']) + ' s' if 'seconds' in s else ''}; "
               f"{s['variables']} variables ({s['integers']} integer), {s['constraints']} constraints; warm start {'used' if s['warm_start'] else 'not used'}")
    if data["washes"]:
        out.append("")
        out.append("Loss rules the plan trips on purpose")
        for w in data["washes"]:
            out.append(f"  {w['jurisdiction']} {w['code']}: loss of {w['loss']} {w['currency']} on {w['security']} ({w['seller']}), "
                       f"window to {w['window_end']}: {w['why']} - {w['citation']}")
    if data["drift"]:
        out.append("")
        out.append("Drift after the plan: " + ", ".join(f"{g} {v}" for g, v in data["drift"].items()))
    out.append("Cash left: " + ", ".join(f"{a} {v}" for a, v in data["cash_left"].items()))
    for note in data["notes"]:
        out.append(f"note: {note}")
    return "\n".join(out) + "\n"


def render_plan_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PLAN_CSV)
    findings = _findings_by_trade(data)
    for t in data["trades"]:
        fs = [f for _, f in findings.get(t["id"], [])]
        worst = max((f["severity"] for f in fs), key=lambda s: RANK[s]) if fs else ""
        writer.writerow(csv_safe_row([t["id"], t["side"], t["account"], t["security"], t["quantity"], t["price"], _lots(t),
                                      ";".join(f["code"] for f in fs), worst]))
    return buffer.getvalue()


def render_plan_markdown(data: dict[str, Any]) -> str:
    out = [f"# taxpack plan ({data['kind']}): {data['scenario']}", "",
           f"As of {data['as_of']}; household value {data['household_value']} {data['currency']}; packs "
           + ", ".join(f"`{p['id']}@{p['version']}`" for p in data["packs"]), "",
           "| id | side | account | security | quantity | price | lots |", "|---|---|---|---|---:|---:|---|"]
    for t in data["trades"]:
        out.append(f"| {t['id']} | {t['side']} | {t['account']} | {t['security']} | {t['quantity']} | {t['price']} | {_lots(t) or '-'} |")
    out += ["", "| plan | tax | leakage change /yr | loss rules tripped |", "|---|---:|---:|---:|"]
    for name, tax in (("least-tax", data["tax"]), ("heuristic", data["heuristic"]["tax"]), ("naive", data["naive"]["tax"])):
        out.append(f"| {name} | {tax['total']} | {tax['leakage_change']} | {tax['loss_rules_tripped']} |")
    s = data["solver"]
    out += ["", f"Saving against the naive plan: **{data['saving']} {data['currency']}** ({data['saving_bp']} bp). "
            f"Solver: {s['status']}, proven gap {s['gap']} (limit {s['gap_limit']}). taxpack check's estimate of the plan: {data['engine_tax'] or 'n/a'}.", ""]
    findings = _findings_by_trade(data)
    for tid in sorted(findings):
        for jurisdiction, f in findings[tid]:
            if f["severity"] != "info":
                out.append(f"- {tid} **{f['severity']}** `{f['code']}` ({jurisdiction}): {f['message']} — {f['citation']}")
    for w in data["washes"]:
        out.append(f"- loss rule tripped on purpose: {w['jurisdiction']} `{w['code']}` on {w['security']}: {w['why']}")
    for note in data["notes"]:
        out.append(f"- note: {note}")
    return "\n".join(out) + "\n"


def render_harvest_table(data: dict[str, Any]) -> str:
    out = [f"taxpack {data['taxpack']} harvest  scenario {data['scenario']}  as of {data['as_of']}", ""]
    if not data["candidates"]:
        out.append("No holding can be sold at a loss today.")
    for c in data["candidates"]:
        lots = ";".join(f"{l['transaction']}:{l['quantity']}" for l in c["lots"]) or c["method"]
        out.append(f"{c['jurisdiction']} {c['taxpayer']}: sell {c['quantity']} {c['security']} in {c['account']} ({lots}): "
                   f"loss {c['loss']} {c['currency']}, saves {c['saving_this_year']} this year, worth {c['value_at_marginal_rate']} at the marginal rate")
        if c["already_washed"] not in ("0.00", "0"):
            out.append(f"  WARNING a purchase already in the window would wash {c['already_washed']} {c['currency']} of it")
        out.append(f"  replace with ({c['replacement_basis']}): {', '.join(c['replacements']) or '(none outside its identity group)'}")
        for h in c["do_not_buy_back"]:
            out.append(f"  do not buy back: {h['message']}")
    for note in data["notes"]:
        out.append(f"note: {note}")
    return "\n".join(out) + "\n"


def render_harvest_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HARVEST_CSV)
    for c in data["candidates"]:
        until = max((h["until"] for h in c["do_not_buy_back"]), default="")
        writer.writerow(csv_safe_row([c["jurisdiction"], c["taxpayer"], c["account"], c["security"], c["quantity"], c["method"], c["loss"],
                                      c["currency"], c["saving_this_year"], c["value_at_marginal_rate"], c["already_washed"],
                                      ";".join(c["replacements"]), until, ";".join(sorted({h["rule"] for h in c["do_not_buy_back"]}))]))
    return buffer.getvalue()


def render_harvest_markdown(data: dict[str, Any]) -> str:
    out = [f"# taxpack harvest: {data['scenario']}", "", f"As of {data['as_of']}.", "",
           "| lens | taxpayer | account | security | quantity | loss | saves this year | replace with | no buy-back until |",
           "|---|---|---|---|---:|---:|---:|---|---|"]
    for c in data["candidates"]:
        until = max((h["until"] for h in c["do_not_buy_back"]), default="-")
        out.append(f"| {c['jurisdiction']} | {c['taxpayer']} | {c['account']} | {c['security']} | {c['quantity']} | {c['loss']} {c['currency']} | "
                   f"{c['saving_this_year']} | {', '.join(c['replacements']) or '-'} | {until} |")
    return "\n".join(out) + "\n"


def _for_plot(value: Decimal) -> float:
    """Money to a plot coordinate: display only, never computed with again."""
    return float(value)  # solver boundary: HiGHS works in floats; every plan is re-priced in Decimal


def plot_bands(rows: list[dict[str, Any]], path: Path, currency: str) -> None:
    """Tax of the least-tax plan and of the naive plan against the drift band, as a PNG."""
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - matplotlib is in the [plan] extra
        raise TaxpackError("--plot needs matplotlib: pip install 'taxpack[plan]'", None) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bands = [_for_plot(r["band"] * 100) for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    plan = [(b, _for_plot(r["tax"])) for b, r in zip(bands, rows) if r["tax"] is not None]
    ax.plot([b for b, _ in plan], [t for _, t in plan], marker="o", label="least-tax plan")
    ax.plot(bands, [_for_plot(r["naive"]) for r in rows], marker="s", linestyle="--", label="naive plan (per account, FIFO)")
    ax.set_xlabel("drift band (percentage points)")
    ax.set_ylabel(f"tax of the trades ({currency})")
    ax.set_title("Tax against drift band")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", metadata={"Software": None})
    plt.close(fig)
    write_bytes_atomic(Path(path), png.getvalue())  # the whole picture or none: never half a file
