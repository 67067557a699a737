"""`taxpack check` for a reader: the terminal table, and `--explain`'s full reasoning of a trade.

Both read the JSON form of the result (`consequences/serialize.py`), so they say what the JSON says.

The table, 100 columns wide by default (`width`), in this order:

1. the household's tax on the candidate trades: per country, taxpayer and tax year the net tax (gross
   less credits), gross tax, credits, the year's tax before and after, and foreign tax left uncredited;
   the total in the base currency (`summary.household`);
2. one block per trade: a line naming it with what it adds to the household's net bill, then one row
   per lens, the net tax first, then gross tax, credit, gain, term, the loss rule and its amount, and
   the other findings; under it the timing advice ("wait 23 days ...: save 120.00 CAD"), the
   repurchase horizon and the countries that do not tax it;
3. gains and losses by country; then every caveat, reason and missing figure once, as a numbered note
   (`[1]`) the rows point to.

Colour only when `color` (a terminal). Same data, same width: same text.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Mapping, Sequence

from rich.console import RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from taxpack.engine.report.terminal import KEY, NUM, WIDTH, Footnotes, heading, render, table

BASIS = {"residence": "resident", "citizenship": "citizen", "source": "source"}
SEVERITY_STYLE = {"blocking": "bold red", "warning": "yellow", "info": "dim"}
CREDIT_CODES = ("foreign_tax_credit", "no_relief")


def amount(value: Any) -> str:
    """A decimal string with thousands separators (`-1502.00` -> `-1,502.00`); None -> `-`."""
    if value is None:
        return "-"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"{number:,}"


def is_zero(value: Any) -> bool:
    try:
        return value is None or Decimal(str(value)) == 0
    except InvalidOperation:
        return False


def loss_rule_finding(consequence: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The finding of the loss rule (wash sale, superficial loss...) that disallowed or deferred this sale's loss."""
    for f in consequence["findings"]:
        if "loss_rule.id" in (f.get("facts") or {}):
            return f
    return None


def loss_outcome(finding: Mapping[str, Any]) -> str:
    """`deferred`, `lost` (for good) or `deferred and lost`, from the loss rule's facts."""
    facts = finding.get("facts") or {}
    lost, deferred = not is_zero(facts.get("loss.lost")), not is_zero(facts.get("loss.deferred"))
    if lost and deferred:
        return "part lost"
    return "lost" if lost else ("deferred" if deferred else "")


def trade_title(trade: Mapping[str, Any]) -> str:
    return (f"{trade['side']} {trade['quantity']} {trade['security']} at {trade['price']} in {trade['account']} "
            f"on {trade['date']}")


def timing_line(alternative: Mapping[str, Any], trade_date: str, currency: str, note: Callable[[str], str] | None = None) -> str:
    """'wait 23 days (2026-03-25, long-term under US): save 120.00 CAD' (`note`: puts what is missing for an
    estimate in a numbered note instead of the line)."""
    days = (dt.date.fromisoformat(alternative["date"]) - dt.date.fromisoformat(trade_date)).days
    head = f"wait {days} day{'s' if days != 1 else ''} ({alternative['date']}, {alternative['why']})"
    if alternative.get("change") is None:
        missing = "not estimated: missing " + (", ".join(alternative.get("missing") or []) or "an estimate")
        return f"{head}: {'not estimated ' + note(missing) if note is not None else missing}"
    change = Decimal(alternative["change"])
    if change < 0:
        return f"{head}: save {amount(-change)} {currency}"
    return f"{head}: costs {amount(change)} {currency} more"


def horizon_lines(horizons: Sequence[Mapping[str, Any]]) -> list[str]:
    """The repurchase horizon in a line per rule and date: which accounts, with what outcome."""
    groups: dict[tuple[str, str, str, str, str, str], list[tuple[str, list[str]]]] = {}
    for h in horizons:
        key = (h.get("jurisdiction", ""), str(h.get("code", "")), ", ".join(h.get("securities") or []), str(h.get("free_from", "")),
               amount(cents(h.get("amount"))), str(h.get("currency", "")))
        groups.setdefault(key, []).append((str(h.get("outcome", "")), list(h.get("accounts") or [])))
    out = []
    for (jurisdiction, code, securities, free_from, money, currency), rows in groups.items():
        by_outcome: dict[str, list[str]] = {}
        for outcome, accounts in rows:
            by_outcome.setdefault(outcome, []).extend(accounts)
        parts = [f"{outcome} in {', '.join(sorted(set(accounts)))}" for outcome, accounts in sorted(by_outcome.items())]
        out.append(f"buying {securities} back before {free_from}: {jurisdiction} {code.replace('_', ' ')} on up to {money} {currency} "
                   f"of the loss ({'; '.join(parts)})")
    return out


def lens_of(data: Mapping[str, Any], trade: Mapping[str, Any], consequence: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The year of `summary.household.lenses` a trade's consequence goes into (jurisdiction, taxpayer, tax year)."""
    for lens in data["summary"]["household"].get("lenses", []):
        if (lens["jurisdiction"] == consequence["jurisdiction"] and lens["taxpayer"] == trade.get("taxpayer")
                and lens["year"] == consequence.get("tax_year")):
            return lens
    return None


# ------------------------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------------------------


def check_tables(data: Mapping[str, Any], *, color: bool, width: int = WIDTH, explain: bool = False) -> str:
    """The whole check as tables (with `explain`: every trade's full reasoning after them)."""
    notes = Footnotes()
    parts: list[RenderableType] = [*_header(data), Text("")]
    parts += _household(data, notes, width)
    parts += _trades(data, notes, width)
    parts += _by_country(data)
    if not explain:
        parts.append(Text("--explain TRADE: one trade's lots, rates, rule conditions, the year's computation and its credits.",
                          style="dim"))
        parts.append(Text(""))
    parts += notes.render()
    text = _no_trailing_blanks(render(parts, color=color, width=width))
    if explain:
        text += "\n" + "\n".join(explain_trade(data, t["id"], color=color, width=width) for t in data["trades"])
    return text


def packs_used(data: Mapping[str, Any]) -> list[str]:
    """The packs the trades' lenses and findings came from (`id@version`), in the order of `data["packs"]`."""
    used = {c["pack"] for t in data["trades"] for c in t["consequences"]}
    used |= {f["pack"] for t in data["trades"] for c in t["consequences"] for f in c["findings"] if f.get("pack")}
    return [ref for ref in (f"{p['id']}@{p['version']}" for p in data["packs"]) if ref in used]


def _header(data: Mapping[str, Any]) -> list[RenderableType]:
    packs = ", ".join(packs_used(data)) or "none"
    return [heading(f"taxpack check {data['scenario']}, as of {data['as_of']}"),
            Text(f"taxpack {data['taxpack']}; packs used {packs}; rules: {data['rules_backend']}",
                 style="dim")]


def _household(data: Mapping[str, Any], notes: Footnotes, width: int) -> list[RenderableType]:
    household = data["summary"]["household"]
    lenses = household.get("lenses", [])
    if not lenses:
        return [Text("No sale among the candidate trades: no tax to estimate."), Text("")]
    cur = household["currency"]
    if household.get("net_tax") is None:
        total = Text(f"net tax not estimated {notes.mark('a country is missing data for its estimate: see its row')}")
    else:
        total = Text(f"net {amount(household['net_tax'])} {cur}", style="bold")
        total.append(f" (gross {amount(household['gross_tax'])}, credits {amount(household['credits'])})")
    title = Text("Household tax on these trades: ", style="bold").append_text(total)
    full = width >= WIDTH  # narrower: the year's tax before and after are left to --explain, uncredited tax goes below
    columns: list[Any] = [("country", KEY), ("taxpayer", KEY), ("year", KEY), ("ccy", KEY), ("net tax", NUM), ("gross tax" if full else "gross", NUM),
                          ("credits", NUM)]
    if full:
        columns += [("year before", NUM), ("year after", NUM), "foreign tax uncredited"]
    t = table(*columns)
    below: list[Text] = []
    for lens in lenses:
        net = Text(amount(lens["net_tax"]), style="bold")
        if lens.get("missing"):
            net.append(" " + notes.mark("not estimated: missing " + ", ".join(lens["missing"])))
        unused = ", ".join(f"{pid.upper()} {amount(v)}" for pid, v in sorted((lens.get("unused_foreign_tax") or {}).items()))
        if unused:
            unused += " " + notes.mark("Foreign tax this country does not credit (above its own tax on the income both tax); "
                                       "carried to other years where the law allows: reported, not optimised.")
        row = [lens["jurisdiction"], lens["taxpayer"], str(lens["year"]), lens["currency"], net, amount(lens["gross_tax"]), amount(lens["credits"])]
        if full:
            row += [amount(lens["tax_before"]), amount(lens["tax_after"]), unused]
        elif unused:
            below.append(Text(f"{lens['jurisdiction']} {lens['taxpayer']} {lens['year']}: foreign tax uncredited {unused}"))
        t.add_row(*row)
    return [title, t, *(Padding(b, (0, 0, 0, 2)) for b in below), Text("")]


TRADE_COLUMNS: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("lens", KEY), ("ccy", KEY), ("net tax", NUM), ("gross", NUM), ("credit", NUM), ("gain", NUM), ("term", KEY),
    ("loss rule", {}), ("flags", {}),
)
LOSS_RULE_CAP = 16
FLAGS_MIN = 14
FLAGS_WIDE = 30


def _lens_cells(trade: Mapping[str, Any], c: Mapping[str, Any], notes: Footnotes) -> list[Text]:
    sell = trade["side"] == "sell"
    lens = Text(f"{c['jurisdiction']} {BASIS.get(c['basis'], c['basis'])}")
    net = Text(amount(c["net_tax"]) if sell and c["taxable"] else "-", style="bold")
    if sell and c["taxable"] and c["net_tax"] is None and c["estimate_missing"]:
        net = Text(f"n/a {notes.mark('not estimated: missing ' + ', '.join(c['estimate_missing']))}")
    rule = loss_rule_finding(c)
    loss = Text()
    if rule is not None:
        loss.append(f"{rule['code'].replace('_', ' ')} {amount(c['disallowed_loss'])} {loss_outcome(rule)}".rstrip(),
                    style=SEVERITY_STYLE.get(rule["severity"], ""))
        if rule.get("caveat"):
            loss.append(" " + notes.mark(rule["caveat"]))
    elif not is_zero(c["disallowed_loss"]):
        loss.append(f"disallowed {amount(c['disallowed_loss'])}")
    if not is_zero(c.get("released_loss")):
        loss.append(("; " if loss.plain else "") + f"released {amount(c['released_loss'])}")
    flags = Text()
    shown = [f for f in c["findings"] if f is not rule]
    for f in shown:
        if flags.plain:
            flags.append(", ")
        flags.append(f["code"].replace("_", " "), style=SEVERITY_STYLE.get(f["severity"], ""))
        if f["severity"] == "blocking":
            flags.append("!")
        if f.get("caveat"):
            flags.append(" " + notes.mark(f["caveat"]))
    if sell:
        cells = [lens, Text(c["currency"]), net, Text(amount(c["estimated_tax"]) if c["taxable"] else "-"),
                 Text(amount(c["foreign_tax_credit"]) if c["taxable"] else "-"), Text(amount(c["gain"])),
                 Text("-" if c["term"] == "none" else c["term"]), loss, flags]
    else:
        cells = [lens, Text(c["currency"]), net, Text("-"), Text("-"), Text("-"), Text("-"), loss, flags]
    return cells


def _widths(rows: Iterable[list[Text]], width: int) -> list[int] | None:
    """Column widths shared by every trade's rows, so the blocks line up under one header; None when
    `width` is too narrow for that (each block then sizes itself, with the loss rule and flags below)."""
    widest = [len(name) for name, _ in TRADE_COLUMNS]  # headers on one line
    longest_word = [0] * len(TRADE_COLUMNS)
    for row in rows:
        for i, cell in enumerate(row):
            widest[i] = max(widest[i], len(cell.plain))
            longest_word[i] = max([longest_word[i], *(len(w) for w in cell.plain.split())])
    out = widest[:]
    fixed = sum(out[:7]) + GAP * (len(TRADE_COLUMNS) - 1)
    if width - fixed - widest[7] < max(FLAGS_WIDE, longest_word[8]):  # the loss rule wraps, so the flags have room
        out[7] = max(longest_word[7], min(widest[7], LOSS_RULE_CAP))
    used = fixed + out[7]
    flags = width - used
    if flags < max(FLAGS_MIN, longest_word[8]):
        return None
    out[8] = flags
    return out


GAP = 2  # between two columns: the cell's right padding and the column separator of `table()`'s box


def _trade_table(header: bool, widths: list[int] | None) -> Table:
    """A trade's rows; with `widths`, every trade's table has the same columns, and only the first shows the header."""
    columns = TRADE_COLUMNS if widths is not None else TRADE_COLUMNS[:7]
    t = table(*((name, {**options, **({"width": widths[i]} if widths is not None else {})}) for i, (name, options) in enumerate(columns)))
    t.show_header = header
    return t


def _trades(data: Mapping[str, Any], notes: Footnotes, width: int) -> list[RenderableType]:
    base = data["summary"]["household"].get("currency", "")
    rows = {t["id"]: [_lens_cells(t, c, notes) for c in t["consequences"]] for t in data["trades"]}
    widths = _widths((r for rs in rows.values() for r in rs), width)
    parts: list[RenderableType] = [Text("Trades (amounts in each lens's currency)", style="bold")]
    if widths is not None:
        parts.append(_trade_table(True, widths))
    for trade in data["trades"]:
        line = Text(trade["id"], style="bold").append(f"  {trade_title(trade)}")
        if trade.get("net_tax") is not None:
            line.append(": household net tax ").append(f"{amount(trade['net_tax'])} {base}", style="bold")
        parts.append(line)
        block = _trade_table(widths is None, widths)
        below: list[Text] = []
        for c, cells in zip(trade["consequences"], rows[trade["id"]]):
            block.add_row(*(cells if widths is not None else cells[:7]))
            if widths is None and (cells[7].plain or cells[8].plain):  # too narrow: loss rule and flags under the rows
                below.append(Text(f"{c['jurisdiction']}: ").append_text(cells[7]).append("; " if cells[7].plain and cells[8].plain else "")
                             .append_text(cells[8]))
        parts.append(block)
        extra = [timing_line(a, trade["date"], base, notes.mark) for a in trade.get("timing") or []]
        extra += horizon_lines(trade.get("repurchase_horizon") or [])
        extra += [f"{n['reason']} {notes.mark(n.get('citation'))}".rstrip() for n in trade.get("not_taxed_by") or []]
        for text in below:
            parts.append(Padding(text, (0, 0, 0, 2)))
        if extra:
            parts.append(arrows(extra))
        parts.append(Text(""))
    return parts


def arrows(lines: Iterable[str], indent: int = 2) -> RenderableType:
    """Advice lines under a trade, each after an arrow, wrapped lines aligned after it."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for line in lines:
        grid.add_row("→", Text(line))
    return Padding(grid, (0, 0, 0, indent))


def _by_country(data: Mapping[str, Any]) -> list[RenderableType]:
    rows = data["summary"]["jurisdictions"]
    if not rows:
        return []
    t = table(("country", KEY), ("ccy", KEY), ("gains", NUM), ("losses", NUM), ("disallowed", NUM), "withholding leakage a year",
              title="Gains and losses of these trades by country")
    for row in rows:
        leak = ", ".join(f"{amount(v)} {k}" for k, v in sorted(row["withholding_leakage"].items())) or "-"
        t.add_row(row["jurisdiction"], row["currency"], amount(row["gains"]), amount(row["losses"]), amount(row["disallowed_loss"]), leak)
    return [t, Text("")]


# ------------------------------------------------------------------------------------------------
# --explain TRADE: one trade's full reasoning
# ------------------------------------------------------------------------------------------------


def explain_trade(data: Mapping[str, Any], trade_id: str, *, color: bool, width: int = WIDTH) -> str:
    """Everything behind one trade: per lens its figures, lots and exchange rates, loss rules, each pack rule
    with the values its conditions saw, credits, the year's computation steps, and caveats with citations."""
    trade = next(t for t in data["trades"] if t["id"] == trade_id)
    base = data["summary"]["household"].get("currency", "")
    parts: list[RenderableType] = [heading(f"{trade['id']}: {trade_title(trade)} ({trade.get('taxpayer', '')})")]
    if trade.get("net_tax") is not None:
        parts.append(Text(f"Adds {amount(trade['net_tax'])} {base} to the household's net tax of the year."))
    for a in trade.get("timing") or []:
        parts.append(Text(f"→ {timing_line(a, trade['date'], base)}"))
    for line in horizon_lines(trade.get("repurchase_horizon") or []):
        parts.append(Text(f"→ {line}"))
    for n in trade.get("not_taxed_by") or []:
        parts.append(Text(f"{n['jurisdiction']} does not tax it: {n['reason']}" + (f" ({n['citation']})" if n.get("citation") else "")))
    parts.append(Text(""))
    for c in trade["consequences"]:
        parts += _explain_lens(data, trade, c)
    return _no_trailing_blanks(render(parts, color=color, width=width))


_TRAILING = re.compile(r"(?:[ ]|\x1b\[[0-9;]*m)+$", re.M)


def _no_trailing_blanks(text: str) -> str:
    """No blank at the end of a line, also between colour codes (a styled cell wrapped after a space)."""
    return _TRAILING.sub(lambda m: m.group(0).replace(" ", ""), text)


def _explain_lens(data: Mapping[str, Any], trade: Mapping[str, Any], c: Mapping[str, Any]) -> list[RenderableType]:
    cur = c["currency"]
    sell = trade["side"] == "sell"
    title = f"{c['jurisdiction']} ({c['basis']}, {c['pack']}, {cur})"
    if sell and c["taxable"]:
        title += (f": net tax {amount(c['net_tax'])} = gross {amount(c['estimated_tax'])} - credit {amount(c['foreign_tax_credit'])}"
                  if c["net_tax"] is not None else ": tax not estimated (missing " + ", ".join(c["estimate_missing"]) + ")")
    elif sell:
        title += ": not taxable here"
    parts: list[RenderableType] = [heading(title)]
    figures = table("", "", header=False)
    if sell:
        figures.add_row("proceeds", f"{amount(c['proceeds'])} (fees {amount(c['fees'])}: "
                                    + ", ".join(f"{k} {v.replace('_', ' ')}" for k, v in sorted(c["fees_treatment"].items())) + ")")
        figures.add_row("cost", amount(c["cost"]))
        gain = f"{amount(c['gain'])}"
        if c.get("fx_gain") is not None and not is_zero(c["fx_gain"]):
            gain += f" = price {amount(c['price_gain'])} + exchange rate {amount(c['fx_gain'])}"
        figures.add_row("gain", gain)
        if not is_zero(c["disallowed_loss"]) or not is_zero(c.get("released_loss")):
            figures.add_row("loss rules", f"disallowed {amount(c['disallowed_loss'])}, released {amount(c.get('released_loss'))}: "
                                          f"recognised {amount(c['recognized_gain'])}")
        figures.add_row("term, method", f"{c['term']}, {c['method']}")
    else:
        figures.add_row("cost", amount(c["cost"]))
    parts.append(Padding(figures, (0, 0, 0, 2)))
    parts += _explain_lots(trade, c)
    rule = loss_rule_finding(c)
    if rule is not None:
        parts.append(Padding(Text("Loss rule", style="bold"), (0, 0, 0, 2)))
        parts += _explain_finding(rule)
        facts = rule.get("facts") or {}
        replacements = facts.get("replacements") or []
        if replacements:
            r = table("replacement", "account", "date", ("quantity", NUM), ("amount", NUM), "outcome")
            for rep in replacements:
                r.add_row(str(rep.get("transaction", "")), str(rep.get("account", "")), str(rep.get("date", "")), str(rep.get("quantity", "")),
                          amount(cents(rep.get("amount"))), str(rep.get("outcome", "")))
            parts.append(Padding(r, (0, 0, 0, 4)))
    credits = [f for f in c["findings"] if f["code"] in CREDIT_CODES]
    if credits:
        parts.append(Padding(Text("Credits between countries", style="bold"), (0, 0, 0, 2)))
        for f in credits:
            parts += _explain_finding(f)
    others = [f for f in c["findings"] if f is not rule and f["code"] not in CREDIT_CODES]
    if others:
        parts.append(Padding(Text("Rules and findings", style="bold"), (0, 0, 0, 2)))
        for f in others:
            parts += _explain_finding(f)
    lens = lens_of(data, trade, c)
    if lens is not None and sell:
        parts += _explain_year(lens)
    parts.append(Text(""))
    return parts


def cents(value: Any) -> Any:
    """An exact decimal (a fact keeps every digit) shown to the cent."""
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError):
        return value


def _explain_lots(trade: Mapping[str, Any], c: Mapping[str, Any]) -> list[RenderableType]:
    if not c["lots"]:
        return []
    sell = trade["side"] == "sell"
    columns: list[Any] = ["lot", "account", ("acquired", KEY), "holding from", ("quantity", NUM), ("cost", NUM)]
    if sell:
        columns += [("proceeds", NUM), ("gain", NUM), "term"]
    t = table(*columns, title="Lots")
    rates = table("lot", "pair", ("date", KEY), ("rate of", KEY), ("rate", NUM), "source", title="Exchange rates")
    for lot in c["lots"]:
        row = [lot["lot"], lot["account"], lot["acquired"] or "-", lot["adjusted_acquired"] or "", lot["quantity"], amount(lot["cost"])]
        if sell:
            row += [amount(lot["proceeds"]), amount(lot["gain"]), lot["term"]]
        t.add_row(*row)
        for r in lot["rates"]:
            rates.add_row(lot["lot"], r["pair"], r["date"], r["rate_date"], r["rate"], r["source"])
    out: list[RenderableType] = [Padding(t, (0, 0, 0, 2))]
    if rates.row_count:
        out.append(Padding(rates, (0, 0, 0, 2)))
    return out


def _explain_finding(f: Mapping[str, Any]) -> list[RenderableType]:
    style = SEVERITY_STYLE.get(f["severity"], "")
    text = Text(f["severity"].upper(), style=style).append(f" {f['code']}: ", style="bold").append(f["message"])
    lines: list[RenderableType] = [Padding(text, (0, 0, 0, 4))]
    source = f"{f['rule']} ({f['pack']}): {f['citation']}"
    if f.get("confidence") and f["confidence"] != "verified":
        source += f" [{f['confidence']}]"
    if f.get("url"):
        source += f" <{f['url']}>"
    lines.append(Padding(Text(source, style="dim"), (0, 0, 0, 6)))
    for cond in f.get("conditions") or []:
        held = "held" if cond.get("held") else "did not hold"
        lines.append(Padding(Text(f"if {cond.get('fact')} {cond.get('op')} {_show(cond.get('expected'))}: "
                                  f"saw {_show(cond.get('actual'))} ({held})"), (0, 0, 0, 6)))
    facts = {k: v for k, v in (f.get("facts") or {}).items() if k != "replacements"}
    if facts and not f.get("conditions"):
        lines.append(Padding(Text("facts: " + "; ".join(f"{k} = {_show(v)}" for k, v in sorted(facts.items()))), (0, 0, 0, 6)))
    if f.get("caveat"):
        lines.append(Padding(Text("caveat: ", style="bold").append(f["caveat"]), (0, 0, 0, 6)))
    return lines


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is True or value is False:
        return str(value).lower()
    return "null" if value is None else str(value)


def _explain_year(lens: Mapping[str, Any]) -> list[RenderableType]:
    cur = lens["currency"]
    title = (f"The year {lens['year']} for {lens['taxpayer']} under {lens['jurisdiction']} ({cur}): tax before the trades "
             f"{amount(lens['tax_before'])}, after {amount(lens['tax_after'])}; these trades: gross {amount(lens['gross_tax'])}, "
             f"credits {amount(lens['credits'])}, net {amount(lens['net_tax'])}")
    out: list[RenderableType] = [Padding(Text(title, style="bold"), (0, 0, 0, 2))]
    for i, step in enumerate(lens.get("steps") or [], 1):
        out.append(Padding(Text(f"{i}. {step}"), (0, 0, 0, 4)))
    unused = lens.get("unused_foreign_tax") or {}
    if unused:
        out.append(Padding(Text("foreign tax not credited: " + ", ".join(f"{k.upper()} {amount(v)}" for k, v in sorted(unused.items()))),
                           (0, 0, 0, 4)))
    for carry in lens.get("carry_forward_after") or []:
        out.append(Padding(Text("carried forward: " + ", ".join(f"{k} {v}" for k, v in sorted(carry.items()))), (0, 0, 0, 4)))
    for carry in lens.get("carry_back_available") or []:
        out.append(Padding(Text("may be carried back instead: " + ", ".join(f"{k} {_show(v)}" for k, v in sorted(carry.items()))), (0, 0, 0, 4)))
    if lens.get("missing"):
        out.append(Padding(Text("missing: " + ", ".join(lens["missing"])), (0, 0, 0, 4)))
    return out
