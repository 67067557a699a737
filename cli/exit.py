"""`taxpack exit SCENARIO --taxpayer ID --date DATE --to COUNTRY`: simulate a departure and an arrival."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from taxpack.cli.group import EXIT_CODES_HELP
from taxpack.cli.options import within_limits


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    from taxpack.engine.core.limits import DATE_EXPECTED, date_problem

    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (expected YYYY-MM-DD)") from None
    problem = date_problem(day)
    if problem:
        raise click.BadParameter(f"{problem} (expected {DATE_EXPECTED})")
    return day


def _amount(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise click.BadParameter(f"'{value}' is not a decimal amount (expected e.g. 2500000)") from None
    within_limits(amount, value)
    return amount


def _stakes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for value in values:
        security, _, share = value.partition("=")
        try:
            stake = Decimal(share)
            if not security or not stake.is_finite() or not 0 <= stake <= 1:
                raise InvalidOperation
        except InvalidOperation:
            raise click.BadParameter(f"'{value}' is not SECURITY=SHARE (expected e.g. ACME=0.02 for 2% of the company)") from None
        out[security] = stake
    return out


@click.command("exit", epilog=EXIT_CODES_HELP)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--taxpayer", "taxpayer_id", required=True, help="The taxpayer who moves (a taxpayers[].id of the scenario).")
@click.option("--date", "date", required=True, callback=_date, help="First day of residence in the new country (YYYY-MM-DD); holdings are valued the day before.")
@click.option("--to", "to", required=True, help="The destination country (ISO code, e.g. US).")
@click.option("--transactions", type=click.Path(path_type=Path), help="Executed history as CSV (instead of the scenario's `transactions`).")
@click.option("--prices", type=click.Path(path_type=Path), help="Market prices as CSV security,date,price,currency (added to the scenario's prices:).")
@click.option("--stake", "stakes", multiple=True, callback=_stakes, help="SECURITY=SHARE: the share of the company (or fund) held, for holding thresholds (repeatable).")
@click.option("--net-worth", callback=_amount, help="Net worth on the move date, in the leaving country's currency (US covered-expatriate test).")
@click.option("--average-tax", callback=_amount, help="Average annual net income tax of the last 5 years (US covered-expatriate test).")
@click.option("--certified/--not-certified", default=None, help="Whether 5 years of tax compliance are certified (US Form 8854).")
@click.option("--renounce", is_flag=True, help="The taxpayer also gives up the leaving country's citizenship.")
@click.option("--max-price-age", type=click.IntRange(0, 31), default=7, show_default=True, help="Use a price at most this many days older than the valuation day.")
@click.option("--compare", is_flag=True, help="For each holding with a gain or loss: the tax of selling before the move against after it.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default=None,
              help="Output format (default: table on a terminal, json otherwise).")
@click.option("--pack", "pack_paths", multiple=True, type=click.Path(path_type=Path), help="Use this pack (folder or file) instead of the bundled one with the same id.")
@click.option("--data-dir", "data_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A folder the scenario's fx.rates file may be in, besides the scenario's own folder (repeatable).")
def command(scenario: Path, taxpayer_id: str, date: dt.date, to: str, transactions: Path | None, prices: Path | None, stakes: dict[str, Decimal],
            net_worth: Decimal | None, average_tax: Decimal | None, certified: bool | None, renounce: bool,
            max_price_age: int, compare: bool, fmt: str | None, pack_paths: tuple[Path, ...], data_dirs: tuple[Path, ...]) -> None:
    """Simulate TAXPAYER leaving for TO on DATE: exit tax, deferral, reporting, and the cost on arrival."""
    from taxpack.engine.consequences.serialize import dumps
    from taxpack.engine.inputs.prices import load_prices_csv, scenario_prices
    from taxpack.engine.inputs.scenario import load_scenario
    from taxpack.engine.law.registry import pack_set
    from taxpack.engine.residency.departure import ExitInputs
    from taxpack.engine.residency.simulate import simulate_exit, to_json_dict

    loaded = load_scenario(scenario, transactions, data_dirs=data_dirs)
    book = scenario_prices(loaded, scenario)
    if prices is not None:
        book = book.merged(load_prices_csv(prices, loaded))
    packs = pack_set(pack_paths)
    inputs = ExitInputs(stakes=stakes, net_worth=net_worth, average_tax=average_tax, certified=certified,
                        renounce=renounce, max_price_age_days=max_price_age)
    result = simulate_exit(loaded, packs, taxpayer_id, date, to.upper(), book, inputs, compare=compare)
    data = to_json_dict(result)
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    if fmt == "json":
        text = dumps(data)
    elif fmt == "table" and sys.stdout.isatty():
        from taxpack.cli.progress import terminal_width
        from taxpack.engine.report.terminal import exit_tables

        text = exit_tables(data, color=True, width=terminal_width())  # a terminal: rich tables, footnotes, colour
    else:
        text = render(data, markdown=fmt == "markdown")
    click.echo(text, nl=False)


def render(data: dict[str, Any], markdown: bool = False) -> str:
    """The exit simulation as a text table or Markdown (the JSON holds everything; this is for reading)."""
    dep = data["departure"]
    move = data["move"]
    cur = dep["currency"]
    lines: list[str] = []
    h = (lambda s: f"## {s}") if markdown else (lambda s: f"{s}\n{'-' * len(s)}")
    lines.append(("# " if markdown else "") + f"{data['taxpayer']} leaves {move['from']} for {move['to']} on {move['date']} "
                 f"(valued {move['valuation_date']})")
    lines.append("")
    lines.append(h(f"Exit tax ({dep['pack']})"))
    verdict = "applies" if dep["exit_tax_applies"] else "does not apply"
    lines.append(f"The exit tax {verdict}: {dep['reason']}" if dep["reason"] else f"The exit tax {verdict}.")
    if dep.get("citation"):
        lines.append(f"Source: {dep['citation']}")
    for t in dep["tests"]:
        held = {True: "met", False: "not met", None: "unknown"}[t["held"]]
        threshold = f" (threshold {t['threshold']})" if t["threshold"] is not None else ""
        lines.append(f"- test: {t['test']}: {t['value']}{threshold}: {held}")
    lines.append("")
    rows = [["security", "pool", "quantity", f"cost {cur}", f"FMV {cur}", f"gain {cur}", "status", "taxable gain", "why"]]
    for r in dep["holdings"]:
        rows.append([r["security"], r["pool"], r["quantity"], r["cost"], r["fmv"], r["gain"], r["status"],
                     r.get("taxable_gain") or "", r["reason"]])
    lines.extend(_table(rows, markdown))
    totals = dep["totals"]
    tax = totals["tax"] if totals["tax"] is not None else "not estimated (missing: " + ", ".join(totals["tax_missing"]) + ")"
    lines.append("")
    lines.append(f"Deemed gain {totals['deemed_gain']} {cur}, exclusion {totals['exclusion']}, taxable {totals['taxable_gain']}; "
                 f"estimated tax {tax}")
    if dep["deferral"]:
        d = dep["deferral"]
        parts = [f"available: {d.get('available')}"]
        for key in ("automatic", "security", "security_required", "instalments", "cancelled_after_years", "ends_on_sale"):
            if key in d:
                parts.append(f"{key.replace('_', ' ')}: {d[key]}")
        lines.append("Deferral: " + "; ".join(parts) + (f". {d['condition']}" if d.get("condition") else ""))
        if d.get("security_threshold_meaning"):
            lines.append(f"  (the security threshold is: {d['security_threshold_meaning']})")
    for r in dep["reporting"]:
        lines.append(f"Reporting: Form {r['form']}: {'required' if r['required'] else 'not required'} ({r['condition']})")
    for c in dep["caveats"]:
        lines.append(f"Caveat: {c}")
    arr = data["arrival"]
    lines.append("")
    if "pack" in arr:
        acur = arr["currency"]
        lines.append(h(f"Arrival in {move['to']} ({arr['pack']})"))
        if arr.get("citation"):
            lines.append(f"Source: {arr['citation']}")
        rows = [["security", "pool", "quantity", f"historical cost {acur}", f"FMV {acur}", f"arrival cost {acur}", "rule", "why"]]
        for r in arr["holdings"]:
            rows.append([r["security"], r["pool"], r["quantity"], r["historical_cost"], r["fmv"], r["arrival_cost"],
                         r["rule"] + (" (elective)" if r["elective"] else ""), r["reason"]])
        lines.extend(_table(rows, markdown))
        for c in arr["caveats"]:
            lines.append(f"Caveat: {c}")
    else:
        lines.append(arr["note"])
    if "compare" in data:
        lines.append("")
        lines.append(h(f"Sell before or after the move ({cur})"))
        rows = [["security", "pool", "gain", "before", "after: exit tax", "after: destination", "after", "difference", "missing"]]
        for r in data["compare"]:
            rows.append([r["security"], r["pool"], r["gain"], _s(r["sell_before"]), _s(r["sell_after_exit_tax"]),
                         _s(r["sell_after_destination_tax"]), _s(r["sell_after"]), _s(r["difference"]), ", ".join(r["missing"])])
        lines.extend(_table(rows, markdown))
        lines.append("Each row is that holding sold on its own at the valuation-day price; a positive difference means selling after costs more.")
    if data["assumptions"]:
        lines.append("")
        for a in data["assumptions"]:
            lines.append(f"Assumption: {a}")
    return "\n".join(lines) + "\n"


def _s(value: str | None) -> str:
    return "-" if value is None else value


def _table(rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows[1:]]
        return out
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    widths[-1] = 0  # the last column (the reason) is not padded
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
