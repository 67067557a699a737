"""Tables for a terminal (`rich`): `taxpack exit`, `taxpack pack diff`, `taxpack pack audit`, the batch summary.

Shown when the output is a terminal; the plain text of each command stays what a pipe, a file or a
test reads. Every table fits `width` columns (100 by default: cells wrap, never run off); colour only
when asked (a terminal); each caveat, reason or citation is written once, as a numbered footnote
(`[1]`) that the rows point to. Rendering is deterministic: same data, same width, same text.
"""

from __future__ import annotations

import io
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from taxpack.engine.law.diff import PackDiff
from taxpack.engine.report.diff_formats import TEXT_MARKS, condition_line, marked, show, value_line, word_sides
from taxpack.engine.review.impact import ScenarioImpact

WIDTH = 100


class Footnotes:
    """Numbered notes, each text once: `mark(text)` gives its `[n]`, `render()` lists them."""

    def __init__(self) -> None:
        self.notes: dict[str, int] = {}

    def mark(self, text: str | None) -> str:
        if not text:
            return ""
        if text not in self.notes:
            self.notes[text] = len(self.notes) + 1
        return f"[{self.notes[text]}]"

    def render(self, title: str = "Notes") -> list[RenderableType]:
        if not self.notes:
            return []
        grid = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1, 0, 0), title=title, title_justify="left",
                     title_style="bold")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(overflow="fold")
        for text, n in self.notes.items():
            grid.add_row(f"[{n}]", Text(text))
        return [grid]


def render(parts: Iterable[RenderableType], *, color: bool, width: int = WIDTH) -> str:
    """The renderables as text `width` columns wide, with colour (ANSI) only if `color`."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None,
                      no_color=not color, highlight=False, emoji=False, markup=False, legacy_windows=False, soft_wrap=False)
    for part in parts:
        if isinstance(part, Table):
            _no_broken_words(part)
        console.print(part)
    text = buffer.getvalue()
    # No trailing blanks, also before a colour's closing code.
    return "\n".join(_TRAILING.sub(r"\1", line).rstrip() for line in text.split("\n"))


_TRAILING = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$")


def _no_broken_words(t: Table, longest: int = 24) -> None:
    """Each column at least as wide as its longest word (up to `longest`): cells wrap between words."""
    for column in t.columns:
        cells = [column.header, *column._cells]
        words = [len(w) for cell in cells for w in (cell.plain if isinstance(cell, Text) else str(cell)).split()]
        column.min_width = min(max(words, default=1), longest)


def table(*columns: str | tuple[str, Mapping[str, Any]], title: str | None = None, header: bool = True) -> Table:
    """A table with a header row; a column is a name, or (name, options for `add_column`)."""
    t = Table(box=box.SIMPLE_HEAD if header else None, title=title, title_justify="left", title_style="bold", show_edge=False,
              pad_edge=False, padding=(0, 1, 0, 0), header_style="bold", show_header=header)
    for column in columns:
        name, options = (column, {}) if isinstance(column, str) else column
        t.add_column(name, overflow="fold", **options)
    return t


NUM = {"justify": "right", "no_wrap": True}
KEY = {"no_wrap": True}


def heading(text: str) -> Text:
    return Text(text, style="bold")


# ------------------------------------------------------------------------------------------------
# Word-level changes, coloured on a terminal, marked [-old-]{+new+} elsewhere
# ------------------------------------------------------------------------------------------------


def changed_pair(old: Any, new: Any, color: bool) -> tuple[Text, Text]:
    sides = word_sides(old, new)
    if sides is None:
        return Text(show(old)), Text(show(new))
    if not color:
        return Text(marked(sides[0], TEXT_MARKS[0])), Text(marked(sides[1], TEXT_MARKS[1]))
    out = []
    for segments, style in ((sides[0], "bold red strike"), (sides[1], "bold green")):
        text = Text()
        for changed, piece in segments:
            text.append(piece, style=style if changed else "")
        out.append(text)
    return out[0], out[1]


# ------------------------------------------------------------------------------------------------
# taxpack exit
# ------------------------------------------------------------------------------------------------


def exit_tables(data: Mapping[str, Any], *, color: bool, width: int = WIDTH) -> str:
    notes = Footnotes()
    dep, move, arr = data["departure"], data["move"], data["arrival"]
    cur = dep["currency"]
    parts: list[RenderableType] = [heading(f"{data['taxpayer']} leaves {move['from']} for {move['to']} on {move['date']} "
                                           f"(valued {move['valuation_date']})"), Text("")]
    verdict = "applies" if dep["exit_tax_applies"] else "does not apply"
    summary = table("", "", title=f"Exit tax ({dep['pack']})", header=False)
    summary.add_row("verdict", Text(f"{verdict} {notes.mark(dep.get('reason'))}".rstrip(), style="bold" if dep["exit_tax_applies"] else ""))
    if dep.get("citation"):
        summary.add_row("source", notes.mark(dep["citation"]))
    for t in dep["tests"]:
        held = {True: "met", False: "not met", None: "unknown"}[t["held"]]
        threshold = f" (threshold {t['threshold']})" if t["threshold"] is not None else ""
        summary.add_row(f"test: {t['test']}", f"{t['value']}{threshold}: {held}")
    totals = dep["totals"]
    tax = totals["tax"] if totals["tax"] is not None else "not estimated " + notes.mark("missing: " + ", ".join(totals["tax_missing"]))
    summary.add_row(f"deemed gain {cur}", totals["deemed_gain"])
    summary.add_row(f"exclusion {cur}", totals["exclusion"])
    summary.add_row(f"taxable {cur}", totals["taxable_gain"])
    summary.add_row(f"estimated tax {cur}", Text(tax, style="bold"))
    if dep["deferral"]:
        d = dep["deferral"]
        bits = [f"{k.replace('_', ' ')}: {d[k]}" for k in ("available", "automatic", "security", "security_required", "instalments",
                                                            "cancelled_after_years", "ends_on_sale") if k in d]
        summary.add_row("deferral", "; ".join(bits) + " " + notes.mark(d.get("condition")) + notes.mark(d.get("security_threshold_meaning")))
    for r in dep["reporting"]:
        summary.add_row(f"Form {r['form']}", ("required " if r["required"] else "not required ") + notes.mark(r["condition"]))
    for c in dep["caveats"]:
        summary.add_row("caveat", notes.mark(c))
    parts += [summary, Text("")]

    holdings = table("security", "pool", ("quantity", NUM), (f"cost {cur}", NUM), (f"FMV {cur}", NUM), (f"gain {cur}", NUM), "status",
                     ("taxable gain", NUM), ("why", KEY), title=f"Holdings at departure ({cur})")
    for r in dep["holdings"]:
        holdings.add_row(r["security"], r["pool"], r["quantity"], r["cost"], r["fmv"], r["gain"], r["status"],
                         r.get("taxable_gain") or "", notes.mark(r["reason"]))
    parts += [holdings, Text("")]

    if "pack" in arr:
        acur = arr["currency"]
        arrival = table("security", "pool", ("quantity", NUM), (f"historical cost {acur}", NUM), (f"FMV {acur}", NUM),
                        (f"arrival cost {acur}", NUM), "rule", ("why", KEY),
                        title=f"Arrival in {move['to']} ({arr['pack']}) {notes.mark(arr.get('citation'))}".rstrip())
        for r in arr["holdings"]:
            arrival.add_row(r["security"], r["pool"], r["quantity"], r["historical_cost"], r["fmv"], r["arrival_cost"],
                            r["rule"] + (" (elective)" if r["elective"] else ""), notes.mark(r["reason"]))
        parts.append(arrival)
        for c in arr["caveats"]:
            parts.append(Text(f"caveat {notes.mark(c)}"))
        parts.append(Text(""))
    else:
        parts += [Text(arr["note"]), Text("")]
    if "compare" in data:
        missing = any(r["missing"] for r in data["compare"])
        compare = table("security", "pool", ("gain", NUM), ("before", NUM), ("after: exit tax", NUM), ("after: destination", NUM),
                        ("after", NUM), ("difference", NUM), *(["missing"] if missing else []),
                        title=f"Sell before or after the move ({cur}) " + notes.mark(
                            "Each row is that holding sold on its own at the valuation-day price; a positive difference means selling after costs more."))
        for r in data["compare"]:
            compare.add_row(r["security"], r["pool"], r["gain"], *(("-" if r[k] is None else r[k]) for k in
                            ("sell_before", "sell_after_exit_tax", "sell_after_destination_tax", "sell_after", "difference")),
                            *([", ".join(r["missing"])] if missing else []))
        parts += [compare, Text("")]
    for a in data["assumptions"]:
        parts.append(Text(f"assumption {notes.mark(a)}"))
    parts += notes.render()
    return render(parts, color=color, width=width)


# ------------------------------------------------------------------------------------------------
# taxpack pack audit
# ------------------------------------------------------------------------------------------------


def audit_tables(rows: Sequence[Mapping[str, Any]], *, color: bool, width: int = WIDTH) -> str:
    """Per pack: where, what, the issue in a word, and a footnote with the citation or the open question."""
    import re

    notes = Footnotes()
    parts: list[RenderableType] = []
    by_pack: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_pack.setdefault(row["pack"], []).append(row)
    for pack, items in by_pack.items():
        path = items[0]["where"].rsplit(":", 2)[0]
        t = table(("line:col", NUM), "item", "issue", title=f"{pack} ({path}): {len(items)} item(s) to review")
        for row in items:
            line = row["where"][len(path) + 1:] if row["where"].startswith(path + ":") else row["where"]
            issue = row["issue"]
            source = re.fullmatch(r"source '([^']+)' is (\w+): (.*)", issue, re.S)
            no_url = re.fullmatch(r"no URL for '(.*)'", issue, re.S)
            uncertain = re.fullmatch(r"uncertain: (.*)", issue, re.S)
            if source:
                shown = Text(f"{source.group(2)} source {source.group(1)} {notes.mark(f'{source.group(1)}: {source.group(3)}')}",
                             style="yellow" if source.group(2) == "secondary" else "red")
            elif no_url:
                sid = str(row["item"]).removeprefix("source ")
                shown = Text(f"no URL {notes.mark(f'{sid}: {no_url.group(1)}')}")
            elif uncertain:
                shown = Text(f"uncertain {notes.mark(uncertain.group(1))}", style="magenta")
            else:
                shown = Text(issue)
            t.add_row(line, row["item"], shown)
        parts += [t, Text("")]
    parts.append(Text(f"{len(rows)} item(s) to review", style="bold"))
    parts += notes.render()
    return render(parts, color=color, width=width)


# ------------------------------------------------------------------------------------------------
# taxpack batch: the summary
# ------------------------------------------------------------------------------------------------


def batch_summary_table(summary: Mapping[str, Any], seconds: float, workers: str, *, color: bool, width: int = WIDTH) -> str:
    """The counts of a batch by status, the exit code and the speed (`summary`: Summary.to_json_dict())."""
    done = summary["households"] - summary["resumed"]
    rate = done / seconds if seconds > 0 else 0.0
    t = table("status", ("households", NUM), title=f"batch {summary['batch']}: {summary['households']} households")
    styles = {"ok": "green", "warnings": "yellow", "blocked": "red", "error": "bold red"}
    for status in ("ok", "warnings", "blocked", "error"):
        t.add_row(Text(status, style=styles[status] if summary[status] else ""), str(summary[status]))
    if summary["resumed"]:
        t.add_row("already written (resumed)", str(summary["resumed"]))
    parts: list[RenderableType] = [t, Text(f"exit code {summary['exit_code']}; {seconds:.1f} s, {rate:.1f} households/s on {workers}")]
    return render(parts, color=color, width=width)


# ------------------------------------------------------------------------------------------------
# taxpack pack diff
# ------------------------------------------------------------------------------------------------


def diff_tables(diff: PackDiff, impact: Sequence[ScenarioImpact] | None = None, *, color: bool, width: int = WIDTH) -> str:
    from taxpack.engine.report.diff_formats import _summary

    notes = Footnotes()
    o, n = diff.old, diff.new
    head = table("", "old", "new")
    head.add_row("read from", o.label, n.label)
    head.add_row("pack", o.id, n.id)
    head.add_row("version", o.version, n.version)
    head.add_row("sha256", o.sha256[:16], n.sha256[:16])
    parts: list[RenderableType] = [heading(f"pack diff {o.id} {o.version} → {n.id} {n.version}"), head,
                                   Text(_summary(diff), style="bold"), Text("")]

    def note_source(sid: str | None) -> str:
        return notes.mark(f"{sid}: {diff.source_note(sid)}") if sid and diff.source_note(sid) else ""

    if diff.metadata:
        t = table("field", "old", "new", title="Metadata")
        for f in diff.metadata:
            t.add_row(f.path, *changed_pair(f.old, f.new, color))
        parts += [t, Text("")]
    if diff.parameters:
        t = table("parameter", "change", title="Parameters (dated values)")
        for p in diff.parameters:
            unit = p.unit + (f" {p.currency}" if p.currency else "")
            used = notes.mark("used by: " + ", ".join(p.used_by)) if p.used_by else ""
            t.add_row(Text(f"{p.name} ({unit}) {used}".rstrip(), style="bold"), p.change)
            for f in p.fields:
                old, new = changed_pair(f.old, f.new, color)
                t.add_row("", Text(f"{f.path.lstrip('/')}: ").append_text(old).append(" → ").append_text(new))
            for v in p.values:
                cited = v.new_source if v.change != "removed" else None
                t.add_row("", f"{value_line(p, v)} {note_source(cited)}".rstrip())
        parts += [t, Text("")]
    if diff.sections:
        t = table("section", "path", "old", "new", title="Sections")
        for sec in diff.sections:
            for f in sec.fields:
                old, new = changed_pair(f.old, f.new, color)
                if f.change == "added":
                    old = Text("(added)")
                elif f.change == "removed":
                    new = Text("(removed)")
                t.add_row(sec.section, f.path.removeprefix(f"/{sec.section}") or "/", old, new)
        parts += [t, Text("")]
    if diff.rules:
        t = table("rule", "change", title="Rules")
        for r in diff.rules:
            title = f": {r.title}" if r.title else ""
            if r.change in ("added", "removed"):
                rule = r.new if r.change == "added" else r.old
                then = (rule or {}).get("then") or {}
                from taxpack.engine.law.diff import render_condition

                t.add_row(f"{r.id}{title}", f"{r.change}: when {render_condition((rule or {}).get('when'))} then {then.get('severity')} "
                                            f"{then.get('code')} {note_source(then.get('source'))}".rstrip())
            elif r.change == "reordered":
                for f in r.fields:
                    t.add_row("(order)", f"{show(f.old)} → {show(f.new)}")
            else:
                t.add_row(f"{r.id}{title}", "changed")
                for f in r.fields + r.then:
                    old, new = changed_pair(f.old, f.new, color)
                    t.add_row("", Text(f"{f.path.lstrip('/')}: ").append_text(old).append(" → ").append_text(new))
                if r.structure:
                    t.add_row("", f"when (structure): {r.structure[0]} → {r.structure[1]}")
                for c in r.conditions:
                    t.add_row("", f"condition {condition_line(c)}")
        parts += [t, Text("")]
    if diff.sources:
        t = table("source", "change", "old", "new", title="Sources and citations")
        for src in diff.sources:
            cited = notes.mark("cited by: " + ", ".join(src.used_by)) if src.used_by else ""
            if src.change == "changed":
                for f in src.fields:
                    t.add_row(f"{src.id} {cited}".rstrip(), f"{f.path.lstrip('/')} {f.change}", *changed_pair(f.old, f.new, color))
            else:
                entry = src.new if src.change == "added" else src.old
                text = f"{(entry or {}).get('citation', '')} ({(entry or {}).get('confidence', '')})"
                t.add_row(f"{src.id} {cited}".rstrip(), src.change, "" if src.change == "added" else text, text if src.change == "added" else "")
        parts += [t, Text("")]
    if diff.tests:
        t = table("test", "change", title="Tests")
        for tc in diff.tests:
            t.add_row(tc.name, tc.change + "".join(f"; {f.path} {f.change}" for f in tc.fields if f.path))
        parts += [t, Text("")]
    if impact is not None:
        parts += _impact_tables(impact, notes, color)
    parts += notes.render()
    return render(parts, color=color, width=width)


def _impact_tables(impact: Sequence[ScenarioImpact], notes: Footnotes, color: bool) -> list[RenderableType]:
    parts: list[RenderableType] = []
    for s in impact:
        title = f"Impact on {s.scenario}: {len(s.trades_changed)} of {s.trades} trade(s) change"
        if s.old_error or s.new_error:
            parts.append(Text(f"{title}: old {s.old_error or 'ok'}; new {s.new_error or 'ok'}"))
            continue
        t = table(("trade", KEY), ("lens", KEY), "what", "before", "after", "moved by", title=title)
        for lens in s.lenses:
            moved = notes.mark(", ".join(lens.moved_by) + (" (only together)" if lens.together else "")) if lens.moved_by else ""
            first = True
            rows: list[tuple[str, Text, Text]] = []
            for f in lens.fields:
                rows.append((f.field, Text(f.old if f.old is not None else "(none)"), Text(f.new if f.new is not None else "(none)")))
            for fd in lens.findings:
                what = f"{fd.change} finding {fd.code} (rule {fd.rule})"
                if fd.change == "changed":
                    for d in fd.fields:
                        old, new = changed_pair(d.old, d.new, color)
                        rows.append((f"{what}: {d.field}", old, new))
                elif fd.change == "added":
                    rows.append((what, Text("(none)"), Text(f"{fd.severity}: {fd.message}")))
                else:
                    rows.append((what, Text(f"{fd.severity}: {fd.message}"), Text("(none)")))
            for what, old, new in rows or [("(appeared)" if lens.change == "appeared" else lens.change, Text(""), Text(""))]:
                t.add_row(lens.trade if first else "", lens.jurisdiction if first else "", what, old, new, moved if first else "")
                first = False
        parts += [t, Text("")]
    return parts


RICH_RENDERERS: dict[str, Callable[..., str]] = {"exit": exit_tables, "audit": audit_tables, "diff": diff_tables}
