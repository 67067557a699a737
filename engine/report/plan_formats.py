"""Human formats of a plan and of harvest candidates (table, CSV, Markdown), and the band plot.

All read the JSON form, like `taxpack check`'s formats, so every format says the same thing. The table
is `rich` tables (100 columns, colour only on a terminal, each caveat once as a numbered footnote), as
engine/report/terminal.py draws them for `taxpack exit`. The plot shows the household's net bill of
the least-tax plan and of the naive plan for a few drift bands.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from taxpack.engine.core.csv_safe import csv_safe_row
from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.core.files import write_bytes_atomic
from taxpack.engine.report.terminal import KEY, NUM, WIDTH, Footnotes, heading, render, table

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


def render_plan_table(data: dict[str, Any], *, color: bool = False, width: int = WIDTH) -> str:
    """The plan as `rich` tables (`width` columns, colour only if `color`), each caveat once as a numbered footnote."""
    notes = Footnotes()
    cur = data["currency"]
    parts: list[RenderableType] = [
        heading(f"taxpack {data['taxpack']} plan ({data['kind']}): {data['scenario']} as of {data['as_of']}"),
        Text("packs: " + ", ".join(f"{p['id']}@{p['version']}" for p in data["packs"])),
        Text(f"household value {data['household_value']} {cur}" + (f"; drift band {data['band']}" if data.get("band") else "")), Text("")]
    findings = _findings_by_trade(data)
    if not data["trades"]:
        parts += [Text("Trades: none (the household is already within the band)"), Text("")]
    else:
        trades = table(("id", KEY), "side", ("quantity", NUM), "security", "account", ("price", NUM), "lots", "findings", title="Trades")
        for t in data["trades"]:
            flagged = [f"{f['severity']} {j} {f['code']} {notes.mark(f['message'])}" for j, f in findings.get(t["id"], []) if f["severity"] != "info"]
            style = "red" if any(f["severity"] == "blocking" for _, f in findings.get(t["id"], [])) else "yellow" if flagged else ""
            trades.add_row(t["id"], t["side"], t["quantity"], t["security"], t["account"], t["price"], _lots(t) or "-",
                           Text("; ".join(flagged), style=style if color else ""))
        parts += [trades, Text("")]
    bills = table("plan", (f"gross {cur}", NUM), (f"credits {cur}", NUM), (f"net {cur}", NUM), (f"leakage {cur}/yr", NUM),
                  ("loss rules", NUM), ("check: net", NUM),
                  title=f"The household's net bill of the year, added by each plan {notes.mark(NET_BILL_NOTE)}")
    household = data.get("household") or {}
    naive_household = (data["naive"].get("household") or {})
    for name, tax, checked in (("least-tax", data["tax"], _checked(household)), ("heuristic", data["heuristic"]["tax"], ""),
                               ("naive", data["naive"]["tax"], _checked(naive_household))):
        bills.add_row(Text(name, style="bold" if name == "least-tax" else ""), tax.get("gross") or "-", tax.get("credits") or "-",
                      Text(tax["total"], style="bold" if name == "least-tax" else ""), tax["leakage_change"],
                      str(tax["loss_rules_tripped"]), checked)
    parts += [bills, Text(f"saving against the naive plan {data['saving']} {cur} ({data['saving_bp']} bp of household value), "
                          f"under the same net bill", style="bold"), Text("")]
    lenses = table("plan", "lens", "taxpayer", "currency", ("gross", NUM), ("credit", NUM), ("net", NUM), title="Per lens (lens currency)")
    for name, tax in (("least-tax", data["tax"]), ("naive", data["naive"]["tax"])):
        first = True
        for r in tax["by_lens"]:
            lenses.add_row(name if first else "", r.get("jurisdiction") or r["lens"], r["taxpayer"], r.get("currency") or "",
                           r.get("gross") or "-", r.get("credit") or "-", r["tax"])
            first = False
    if any(data[k]["by_lens"] if k == "tax" else data[k]["tax"]["by_lens"] for k in ("tax", "naive")):
        parts += [lenses, Text("")]
    s = data["solver"]
    solver = table("", "", title="Solver", header=False)
    solver.add_row("status", s["status"])
    solver.add_row(f"objective {cur}", f"{s['objective']} (bound {s['bound']}, proven gap {s['gap']}, limit {s['gap_limit']})")
    solver.add_row("time limit", f"{s['time_limit']} s" + (f"; solved in {s['seconds']} s" if "seconds" in s else ""))
    solver.add_row("size", f"{s['variables']} variables ({s['integers']} integer), {s['constraints']} constraints, "
                           f"{s.get('cells', 0)} year cells")
    solver.add_row("warm start", "used" if s["warm_start"] else "not used")
    parts += [solver, Text("")]
    if data["washes"]:
        washes = table("lens", "rule", "security", "seller", ("loss", NUM), "window to", "why",
                       title="Loss rules the plan trips on purpose")
        for w in data["washes"]:
            washes.add_row(w["jurisdiction"], w["code"], w["security"], w["seller"], f"{w['loss']} {w['currency']}", w["window_end"],
                           f"{w['why']} {notes.mark(w['citation'])}".rstrip())
        parts += [washes, Text("")]
    after = table("", "", title="After the plan", header=False)
    if data["drift"]:
        after.add_row("drift", ", ".join(f"{g} {v}" for g, v in data["drift"].items()))
    after.add_row("cash left", ", ".join(f"{a} {v}" for a, v in data["cash_left"].items()))
    parts += [after]
    for note in data["notes"]:
        parts.append(Text(f"note {notes.mark(note)}"))
    if notes.notes:
        parts += [Text(""), *notes.render()]
    return render(parts, color=color, width=width)


NET_BILL_NOTE = ("Per lens and taxpayer, the year's tax with the plan less without it (the year's realised gains, carried "
                 "losses, the other-income offset, allowance and brackets included, as taxpack check computes it), less "
                 "the credits one lens gives for another's tax on the same sales; in the plan currency at the plan date's "
                 "rate. 'check: net' is taxpack check's household net bill of the same trades, in its base currency.")


def _checked(household: dict[str, Any]) -> str:
    if not household or household.get("net_tax") is None:
        return "-"
    return f"{household['net_tax']} {household.get('currency') or ''}".rstrip()


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
    out += ["", f"The household's net bill of the year added by each plan ({data['currency']}): each lens's year with the plan less "
            "without it, less the credits one lens gives for another's tax on the same sales.", "",
            "| plan | gross | credits | net | leakage change /yr | loss rules tripped |", "|---|---:|---:|---:|---:|---:|"]
    for name, tax in (("least-tax", data["tax"]), ("heuristic", data["heuristic"]["tax"]), ("naive", data["naive"]["tax"])):
        out.append(f"| {name} | {tax.get('gross') or '-'} | {tax.get('credits') or '-'} | {tax['total']} | {tax['leakage_change']} | "
                   f"{tax['loss_rules_tripped']} |")
    rows = [(name, r) for name, tax in (("least-tax", data["tax"]), ("naive", data["naive"]["tax"])) for r in tax["by_lens"]]
    if rows:
        out += ["", "| plan | lens | taxpayer | currency | gross | credit | net |", "|---|---|---|---|---:|---:|---:|"]
        for name, r in rows:
            out.append(f"| {name} | {r.get('jurisdiction') or r['lens']} | {r['taxpayer']} | {r.get('currency') or ''} | "
                       f"{r.get('gross') or '-'} | {r.get('credit') or '-'} | {r['tax']} |")
    s = data["solver"]
    out += ["", f"Saving against the naive plan: **{data['saving']} {data['currency']}** ({data['saving_bp']} bp). "
            f"Solver: {s['status']}, proven gap {s['gap']} (limit {s['gap_limit']}). taxpack check's household net bill of the plan: "
            f"{data['engine_tax'] or 'n/a'} {data['currency']}, of the naive plan {data['naive']['engine_tax'] or 'n/a'}.", ""]
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


def render_harvest_table(data: dict[str, Any], *, color: bool = False, width: int = WIDTH) -> str:
    """Harvest candidates as a `rich` table, the repurchase windows and warnings once each as footnotes."""
    notes = Footnotes()
    parts: list[RenderableType] = [heading(f"taxpack {data['taxpack']} harvest: {data['scenario']} as of {data['as_of']}"), Text("")]
    if not data["candidates"]:
        parts.append(Text("No holding can be sold at a loss today."))
    else:
        base = next((c.get("household_currency") for c in data["candidates"] if c.get("household_currency")), "")
        right = {"justify": "right"}
        t = table("lens", "sell", ("loss (worth at the marginal rate)", right), ("saves (lens)", right),
                  (f"household saves {base}".rstrip(), right), "replace with", "do not rebuy until",
                  title=f"Losses to harvest today {notes.mark(HARVEST_NOTE)}")
        for c in data["candidates"]:
            lots = ";".join(f"{l['transaction']}:{l['quantity']}" for l in c["lots"]) or c["method"]
            sell = f"{c['quantity']} {c['security']} in {c['account']} ({lots})"
            if c["already_washed"] not in ("0.00", "0"):
                sell += " " + notes.mark(f"a purchase already in the window would wash {c['already_washed']} {c['currency']} of the "
                                         f"loss on {c['security']} in {c['account']}")
            until = max((h["until"] for h in c["do_not_buy_back"]), default="-")
            marks = " ".join(notes.mark(h["message"]) for h in c["do_not_buy_back"])
            replace = ", ".join(c["replacements"]) or "none"
            replace += " " + notes.mark(f"replacements: {c['replacement_basis']}, outside the identity group of the security sold")
            t.add_row(f"{c['jurisdiction']} {c['taxpayer']}", sell, f"{c['loss']} {c['currency']} ({c['value_at_marginal_rate']})",
                      c["saving_this_year"], Text(c.get("household_saving") or "-", style="bold"), replace, f"{until} {marks}".rstrip())
        parts.append(t)
    for note in data["notes"]:
        parts.append(Text(f"note {notes.mark(note)}"))
    if notes.notes:
        parts += [Text(""), *notes.render()]
    return render(parts, color=color, width=width)


HARVEST_NOTE = ("Each sale on its own today: 'saves (lens)' is what it takes off that lens's net tax of the year (lens "
                "currency), 'household saves' what it takes off the household's net bill (credits between lenses "
                "included: a loss that only reduces a tax another country's tax was credited against saves nothing); "
                "in brackets after the loss, its worth at the lens's marginal rate (against future gains).")


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
           "| lens | taxpayer | account | security | quantity | loss | saves this year (lens) | household saves | replace with | no buy-back until |",
           "|---|---|---|---|---:|---:|---:|---:|---|---|"]
    for c in data["candidates"]:
        until = max((h["until"] for h in c["do_not_buy_back"]), default="-")
        out.append(f"| {c['jurisdiction']} | {c['taxpayer']} | {c['account']} | {c['security']} | {c['quantity']} | {c['loss']} {c['currency']} | "
                   f"{c['saving_this_year']} | {c.get('household_saving') or '-'} {c.get('household_currency') or ''} | "
                   f"{', '.join(c['replacements']) or '-'} | {until} |")
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
    ax.set_ylabel(f"household net tax of the trades ({currency})")
    ax.set_title("Net bill against drift band")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", metadata={"Software": None})
    plt.close(fig)
    write_bytes_atomic(Path(path), png.getvalue())  # the whole picture or none: never half a file
