"""`taxpack pack diff` output: text for a terminal, Markdown to paste into a review, JSON for tools.

A reviewer reads a pack change as law: "from 2025-07-01 the rate is 0.25 (was 0.20)", "the wash-sale
window after the sale grows from 30 to 61 days", "rule X no longer requires Y". Every format says
the same things in the same order; JSON keys are stable and amounts are decimal strings.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from taxpack.engine.law.diff import ConditionChange, FieldChange, PackDiff, ParameterChange, RuleChange, ValueChange
from taxpack.engine.review.impact import ScenarioImpact

DURATION_UNITS = ("days", "weeks", "months", "years")
MAX_SHOWN = 160  # longer values are cut in text and Markdown (JSON always has them whole)


# ------------------------------------------------------------------------------------------------
# Values as a reviewer reads them
# ------------------------------------------------------------------------------------------------


def show(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value on one line; text (a citation, a description, a message) always whole, structures cut at `limit`."""
    text = _show(value)
    if isinstance(value, str):
        return text
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------------------------
# Word-level differences of changed text
# ------------------------------------------------------------------------------------------------

_WORD = re.compile(r"\S+\s*")
# How changed words are marked, per format: (before, after) for words only in the old text, then for
# words only in the new one. Text follows `git diff --word-diff=plain`.
TEXT_MARKS = (("[-", "-]"), ("{+", "+}"))
MARKDOWN_MARKS = (("~~", "~~"), ("**", "**"))

Segments = list[tuple[bool, str]]  # (changed?, text) pieces of one side, in order


def word_sides(old: Any, new: Any) -> tuple[Segments, Segments] | None:
    """Both texts cut into words, each word marked when it is not in the other text (a longest common
    subsequence of words, as difflib aligns them); None unless both are text of more than one word."""
    if not (isinstance(old, str) and isinstance(new, str)) or old == new:
        return None
    if len(old.split()) < 2 and len(new.split()) < 2:
        return None
    a, b = _WORD.findall(old), _WORD.findall(new)
    lead_a, lead_b = old[: len(old) - len(old.lstrip())], new[: len(new) - len(new.lstrip())]
    matcher = difflib.SequenceMatcher(a=[w.rstrip() for w in a], b=[w.rstrip() for w in b], autojunk=False)
    left: Segments = [(False, lead_a)] if lead_a else []
    right: Segments = [(False, lead_b)] if lead_b else []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            left.append((False, "".join(a[i1:i2])))
            right.append((False, "".join(b[j1:j2])))
            continue
        for side, words in ((left, a[i1:i2]), (right, b[j1:j2])):
            if words:
                text = "".join(words)
                stripped = text.rstrip()
                side.append((True, stripped))
                if stripped != text:
                    side.append((False, text[len(stripped):]))
    return left, right


def marked(segments: Segments, marks: tuple[str, str]) -> str:
    return "".join(f"{marks[0]}{t}{marks[1]}" if changed else t for changed, t in segments)


def shown_pair(old: Any, new: Any, marks: tuple[tuple[str, str], tuple[str, str]] = TEXT_MARKS) -> tuple[str, str]:
    """Old and new as shown: changed words marked where both are text, else each value whole."""
    sides = word_sides(old, new)
    if sides is None:
        return show(old), show(new)
    return marked(sides[0], marks[0]), marked(sides[1], marks[1])


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        if set(value) == {"param"}:
            return f"{{param: {value['param']}}}"
        if len(value) == 1 and next(iter(value)) in DURATION_UNITS:
            unit, n = next(iter(value.items()))
            return f"{_show(n)} {unit}" if n is not None else f"{{{unit}: null}}"
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if value and all(isinstance(b, Mapping) and set(b) == {"from", "rate"} for b in value):
            return ", ".join(f"{_show(b['from'])}+ {_show(b['rate'])}" for b in value)
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _list_delta(old: Any, new: Any) -> str:
    """For a list of names (lot methods, kinds): which were added and which removed."""
    if not (isinstance(old, list) and isinstance(new, list)):
        return ""
    if not all(isinstance(v, (str, int)) for v in old + new):
        return ""
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    parts = []
    if added:
        parts.append("added " + ", ".join(map(str, added)))
    if removed:
        parts.append("removed " + ", ".join(map(str, removed)))
    if not parts and old != new:
        parts.append("order changed")
    return "; ".join(parts)


def field_line(f: FieldChange) -> str:
    if f.change == "added":
        return f"{f.path}: added {show(f.new)}"
    if f.change == "removed":
        return f"{f.path}: removed (was {show(f.old)})"
    if f.change == "reordered":
        return f"{f.path}: order {show(f.old)} → {show(f.new)}"
    delta = _list_delta(f.old, f.new)
    before, after = shown_pair(f.old, f.new)
    return f"{f.path}: {before} → {after}" + (f" ({delta})" if delta else "")


def _unit_suffix(p: ParameterChange) -> str:
    if p.unit in DURATION_UNITS:
        return f" {p.unit}"
    if p.unit == "money" and p.currency:
        return f" {p.currency}"
    return ""


def value_line(p: ParameterChange, v: ValueChange) -> str:
    u = _unit_suffix(p)
    until = f" until {v.until}" if v.until else ""
    src = lambda s: f"source {s}" if s else ""  # noqa: E731
    if v.change == "added" and p.change == "added":
        return f"from {v.start}{until}: {show(v.new)}{u}  {src(v.new_source)}".rstrip()
    if v.change == "removed" and p.change == "removed":
        return f"from {v.start}{until}: {show(v.old)}{u}  {src(v.old_source)}".rstrip()
    if v.change == "added":
        before = f"was {show(v.old)}{u}, in force since {v.old_since}" if v.old_since else "no value in force before"
        return f"from {v.start}{until}: {show(v.new)}{u} (new dated value; {before})  {src(v.new_source)}".rstrip()
    if v.change == "ended":
        before = f"was {show(v.old)}{u}" + (f" since {v.old_since}" if v.old_since else "")
        return f"from {v.start}: ENDED (value null; {before})  {src(v.new_source)}".rstrip()
    if v.change == "removed":
        now = f"{show(v.new)}{u} from {v.old_since} now applies" if v.old_since else "no value in force that day now"
        return f"from {v.start}: dated value removed (was {show(v.old)}{u}; {now})"
    parts = []
    if not _same_shown(v.old, v.new):
        parts.append(f"{show(v.old)}{u} → {show(v.new)}{u}")
    if v.old_source != v.new_source:
        parts.append(f"source {v.old_source} → {v.new_source}")
    parts += [field_line(f).lstrip("/") for f in v.fields]
    return f"from {v.start}{until}: " + "; ".join(parts)


def _same_shown(a: Any, b: Any) -> bool:
    from taxpack.engine.law.diff import same

    return same(a, b)


def condition_line(c: ConditionChange) -> str:
    where = f"[{c.where}] " if c.where else ""
    if c.change == "added":
        return f"+ {where}{c.fact} {c.op} {show(c.new)}"
    if c.change == "removed":
        return f"- {where}{c.fact} {c.op} {show(c.old)}"
    if c.new_op:
        return f"~ {where}{c.fact}: {c.op} {show(c.old)} → {c.new_op} {show(c.new)}"
    return f"~ {where}{c.fact} {c.op}: {show(c.old)} → {show(c.new)}"


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """Plain JSON values: decimals as strings (never floats), dates as ISO text, tuples as lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)):
        return format(Decimal(value), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _field(f: FieldChange) -> dict[str, Any]:
    return {"path": f.path, "change": f.change, "old": jsonable(f.old), "new": jsonable(f.new)}


def diff_to_json(diff: PackDiff, impact: Sequence[ScenarioImpact] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "old": {"label": diff.old.label, "id": diff.old.id, "version": diff.old.version, "sha256": diff.old.sha256},
        "new": {"label": diff.new.label, "id": diff.new.id, "version": diff.new.version, "sha256": diff.new.sha256},
        "equivalent": diff.equivalent,
        "counts": diff.counts(),
        "version": {"old": diff.version[0], "new": diff.version[1]} if diff.version else None,
        "metadata": [_field(f) for f in diff.metadata],
        "sources": [
            {"id": s.id, "change": s.change, "fields": [_field(f) for f in s.fields],
             "old": jsonable(s.old), "new": jsonable(s.new), "used_by": list(s.used_by)}
            for s in diff.sources
        ],
        "citations": [{"source": c.source, "old": c.old, "new": c.new, "used_by": list(c.used_by)} for c in diff.citations],
        "parameters": [
            {"name": p.name, "change": p.change, "unit": p.unit, "currency": p.currency,
             "fields": [_field(f) for f in p.fields],
             "values": [
                 {"start": v.start, "change": v.change, "old": jsonable(v.old), "new": jsonable(v.new),
                  "old_source": v.old_source, "new_source": v.new_source, "old_since": v.old_since, "until": v.until,
                  "fields": [_field(f) for f in v.fields]}
                 for v in p.values
             ],
             "used_by": list(p.used_by)}
            for p in diff.parameters
        ],
        "sections": [{"section": s.section, "change": s.change, "fields": [_field(f) for f in s.fields]} for s in diff.sections],
        "rules": [_rule_json(r) for r in diff.rules],
        "tests": [{"name": t.name, "change": t.change, "fields": [_field(f) for f in t.fields]} for t in diff.tests],
    }
    if impact is not None:
        out["impact"] = [impact_to_json(s) for s in impact]
    return out


def _rule_json(r: RuleChange) -> dict[str, Any]:
    return {
        "id": r.id,
        "change": r.change,
        "title": r.title,
        "fields": [_field(f) for f in r.fields],
        "conditions": [
            {"where": c.where, "fact": c.fact, "op": c.op, "new_op": c.new_op, "change": c.change,
             "old": jsonable(c.old), "new": jsonable(c.new)}
            for c in r.conditions
        ],
        "then": [_field(f) for f in r.then],
        "structure": {"old": r.structure[0], "new": r.structure[1]} if r.structure else None,
        "old": jsonable(r.old) if r.change == "removed" else None,
        "new": jsonable(r.new) if r.change == "added" else None,
    }


def impact_to_json(s: ScenarioImpact) -> dict[str, Any]:
    return {
        "scenario": s.scenario,
        "trades": s.trades,
        "trades_changed": list(s.trades_changed),
        "old_error": s.old_error,
        "new_error": s.new_error,
        "lenses": [
            {"trade": lens.trade, "jurisdiction": lens.jurisdiction, "change": lens.change,
             "fields": [{"field": f.field, "old": f.old, "new": f.new} for f in lens.fields],
             "findings": [{"change": f.change, "code": f.code, "rule": f.rule, "severity": f.severity,
                           "message": f.message, "citation": f.citation,
                           "fields": [{"field": d.field, "old": d.old, "new": d.new} for d in f.fields]}
                          for f in lens.findings],
             "responsible": list(lens.responsible), "moved_by": list(lens.moved_by), "together": lens.together}
            for lens in s.lenses
        ],
    }


def render_json(diff: PackDiff, impact: Sequence[ScenarioImpact] | None = None) -> str:
    return json.dumps(diff_to_json(diff, impact), indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------------------------
# Text
# ------------------------------------------------------------------------------------------------

_NOUNS = {"metadata": "metadata field", "sources": "source", "citations": "citation", "parameters": "parameter",
          "sections": "section", "rules": "rule", "tests": "test"}
_MARK = {"added": "+", "removed": "-", "changed": "~", "reordered": "~", "ended": "~"}


def _summary(diff: PackDiff) -> str:
    if diff.equivalent:
        return "EQUIVALENT: same content (formatting or comments only)"
    counts = diff.counts()
    parts = [f"{n} {_NOUNS[k]}{'' if n == 1 else 's'}" for k, n in counts.items() if n]
    if diff.version:
        parts.insert(0, "version")
    return "DIFFERENT in meaning: " + (", ".join(parts) if parts else "content") + " changed"


def render_text(diff: PackDiff, impact: Sequence[ScenarioImpact] | None = None) -> str:
    lines = [
        f"pack diff {diff.old.label} → {diff.new.label}",
        f"  old: {diff.old.id} {diff.old.version}  sha256 {diff.old.sha256}",
        f"  new: {diff.new.id} {diff.new.version}  sha256 {diff.new.sha256}",
        f"  {_summary(diff)}",
    ]

    def block(title: str, body: list[str]) -> None:
        if body:
            lines.append("")
            lines.append(title)
            lines.extend(body)

    if diff.version:
        block("version", [f"  {diff.version[0]} → {diff.version[1]}"])
    block("metadata", [f"  {field_line(f)}" for f in diff.metadata])

    body: list[str] = []
    for s in diff.sources:
        if s.change == "added":
            body.append(f"  + {s.id}: {_source_text(s.new)}")
        elif s.change == "removed":
            body.append(f"  - {s.id}: {_source_text(s.old)}")
        else:
            # A citation change is shown once, under "citations changed".
            others = [f for f in s.fields if f.path != "/citation"]
            if not others:
                continue
            body.append(f"  ~ {s.id}")
            body += [f"      {field_line(f).lstrip('/')}" for f in others]
        if s.used_by:
            body.append(f"      cited by: {', '.join(s.used_by)}")
    block("sources", body)

    body = []
    for c in diff.citations:
        before, after = shown_pair(c.old, c.new)
        body.append(f"  {c.source}: \"{before}\"")
        body.append(f"  {' ' * len(c.source)}→ \"{after}\"")
        if c.used_by:
            body.append(f"      cited by: {', '.join(c.used_by)}")
    block("citations changed", body)

    body = []
    for p in diff.parameters:
        unit = p.unit + (f" {p.currency}" if p.currency else "")
        body.append(f"  {_MARK[p.change]} {p.name} ({unit})" + ("  ADDED" if p.change == "added" else "  REMOVED" if p.change == "removed" else ""))
        body += [f"      {field_line(f).lstrip('/')}" for f in p.fields]
        for v in p.values:
            body.append(f"      {value_line(p, v)}")
            cited = v.new_source if v.change not in ("removed",) else None
            if cited and diff.source_note(cited) and (v.change != "changed" or v.old_source != v.new_source):
                body.append(f"          {cited}: {diff.source_note(cited)}")
        if p.used_by:
            body.append(f"      used by: {', '.join(p.used_by)}")
    block("parameters (dated values)", body)

    body = []
    for sec in diff.sections:
        body.append(f"  {_MARK[sec.change]} {sec.section}" + (f"  {sec.change.upper()}" if sec.change != "changed" else ""))
        body += [f"      {field_line(f)}" for f in sec.fields]
    block("sections", body)

    body = []
    for r in diff.rules:
        title = f": {r.title}" if r.title else ""
        if r.change == "added":
            then = (r.new or {}).get("then") or {}
            body.append(f"  + {r.id}{title}")
            body.append(f"      when {_render_when(r.new)}")
            body.append(f"      then {then.get('severity')} {then.get('code')} (source {then.get('source')}: {diff.source_note(then.get('source'))})")
        elif r.change == "removed":
            then = (r.old or {}).get("then") or {}
            body.append(f"  - {r.id}{title}")
            body.append(f"      was: when {_render_when(r.old)}")
            body.append(f"           then {then.get('severity')} {then.get('code')} (source {then.get('source')})")
        elif r.change == "reordered":
            body += [f"  ~ {field_line(f)}" for f in r.fields]
        else:
            body.append(f"  ~ {r.id}{title}")
            body += [f"      {field_line(f).lstrip('/')}" for f in r.fields]
            if r.structure:
                body.append(f"      when (structure changed): {r.structure[0]}")
                body.append(f"                             → {r.structure[1]}")
            body += [f"      condition {condition_line(c)}" for c in r.conditions]
            body += [f"      {field_line(f).lstrip('/')}" for f in r.then]
            for f in r.then:
                if f.path == "/then/source" and f.new and diff.source_note(f.new):
                    body.append(f"          {f.new}: {diff.source_note(f.new)}")
    block("rules", body)

    body = []
    for t in diff.tests:
        body.append(f"  {_MARK[t.change]} {t.name}")
        body += [f"      {field_line(f).lstrip('/')}" if f.path else f"      {field_line(f)}" for f in t.fields]
    block("tests", body)

    if impact is not None:
        lines.append("")
        lines += impact_text(impact)
    return "\n".join(lines) + "\n"


def _render_when(rule: Any) -> str:
    from taxpack.engine.law.diff import render_condition

    return render_condition((rule or {}).get("when"))


def _source_text(s: Any) -> str:
    if not isinstance(s, Mapping):
        return ""
    url = f" {s['url']}" if s.get("url") else ""
    return f"\"{s.get('citation', '')}\" ({s.get('confidence', '')}){url}"


def impact_text(impact: Iterable[ScenarioImpact]) -> list[str]:
    lines = ["impact"]
    for s in impact:
        changed = s.trades_changed
        lines.append(f"  {s.scenario}: {len(changed)} of {s.trades} trade(s) change")
        if s.old_error or s.new_error:
            lines.append(f"      old: {s.old_error or 'ok'}")
            lines.append(f"      new: {s.new_error or 'ok'}")
        for lens in s.lenses:
            lines.append(f"    trade {lens.trade}, lens {lens.jurisdiction}" + (f" ({lens.change})" if lens.change != "changed" else ""))
            for f in lens.fields:
                lines.append(f"        {f.field}: {f.old if f.old is not None else '(none)'} → {f.new if f.new is not None else '(none)'}")
            for fd in lens.findings:
                mark = _MARK[fd.change]
                if fd.change == "changed":
                    lines.append(f"        {mark} finding {fd.code} ({fd.severity}, rule {fd.rule})")
                    for d in fd.fields:
                        before, after = shown_pair(d.old, d.new)
                        before, after = (before if d.old is not None else "(none)"), (after if d.new is not None else "(none)")
                        lines.append(f"            {d.field} was: {before}")
                        lines.append(f"            {' ' * len(d.field)} now: {after}")
                else:
                    lines.append(f"        {mark} finding {fd.code} ({fd.severity}, rule {fd.rule}): {fd.message}")
            if lens.responsible:
                lines.append(f"        responsible: {', '.join(lens.responsible)}" + (" (only together: no change alone moves it)" if lens.together else ""))
    return lines


# ------------------------------------------------------------------------------------------------
# Markdown
# ------------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else show(value)
    return text.replace("|", "\\|").replace("\n", " ") if text else " "


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def render_markdown(diff: PackDiff, impact: Sequence[ScenarioImpact] | None = None) -> str:
    """The review a pack change gets in a pull request: one table per kind of change, then the impact."""
    o, n = diff.old, diff.new
    lines = [f"## Pack diff: `{o.id}` {o.version} → `{n.id}` {n.version}", ""]
    lines += _table(["", "old", "new"], [
        ["read from", _code(o.label), _code(n.label)],
        ["version", o.version, n.version],
        ["sha256", _code(o.sha256[:16]), _code(n.sha256[:16])],
    ])
    lines += ["", f"**{_summary(diff)}**"]
    parts = (
        ("Metadata", _table(["field", "old", "new"], [[_code(f.path), *_md_pair(f.old, f.new)] for f in diff.metadata]) if diff.metadata else []),
        ("Parameters", _md_parameters(diff)),
        ("Sections", _md_sections(diff)),
        ("Rules", _md_rules(diff)),
        ("Sources and citations", _md_sources(diff)),
        ("Tests", _md_tests(diff)),
    )
    for title, body in parts:
        if body:
            lines.extend(["", f"### {title}", ""])
            lines.extend(body)
    if impact is not None:
        lines += ["", "### Impact on scenarios", ""] + _md_impact(impact)
        if lines[-1] == "":
            lines.pop()
    return "\n".join(lines) + "\n"


def _md_pair(old: Any, new: Any) -> tuple[str, str]:
    """Old and new for a Markdown cell: removed words struck through (~~), added words in bold."""
    return shown_pair(old, new, MARKDOWN_MARKS)


def _md_parameters(diff: PackDiff) -> list[str]:
    """Each changed field or dated value of a parameter, with its dates and sources."""
    rows = []
    for p in diff.parameters:
        for f in p.fields:
            rows.append([_code(p.name), f"{f.path.lstrip('/')} {f.change}", "", *_md_pair(f.old, f.new), ""])
        for v in p.values:
            u = _unit_suffix(p)
            old = show(v.old) + u if v.old is not None else "(none)"
            new = show(v.new) + u if v.new is not None else ("(ended)" if v.change == "ended" else "(none)")
            when = f"from {v.start}" + (f" until {v.until}" if v.until else "")
            note = v.change
            if p.change != "changed":
                note = f"parameter {p.change}"
            elif v.change == "added" and v.old_since:
                note = f"new dated value (old value in force since {v.old_since})"
            elif v.change == "removed" and v.old_since:
                note = f"dated value removed (the value from {v.old_since} now applies)"
            source: str | None
            if v.old_source and v.new_source and v.old_source != v.new_source:
                source = f"{v.old_source} → {v.new_source}"
            else:
                source = v.new_source or v.old_source
            if v.change != "removed" and v.new_source and diff.source_note(v.new_source):
                source = f"{source} ({diff.source_note(v.new_source)})"
            rows.append([_code(p.name), note, when, old, new, source or ""])
    return _table(["parameter", "change", "dates", "old", "new", "source"], rows) if rows else []


def _md_sections(diff: PackDiff) -> list[str]:
    body: list[str] = []
    for s in diff.sections:
        body += [f"**{s.section}** ({s.change})", ""]
        body += _table(["path", "change", "old", "new"],
                       [[_code(f.path), f.change + (f" ({_list_delta(f.old, f.new)})" if _list_delta(f.old, f.new) else ""), *_md_pair(f.old, f.new)] for f in s.fields])
        body.append("")
    return body[:-1] if body else []


def _md_rules(diff: PackDiff) -> list[str]:
    """Rules added, removed or reordered in a list; each changed rule as a table of its conditions."""
    body = []
    for r in diff.rules:
        title = f" — {r.title}" if r.title else ""
        if r.change == "added":
            then = (r.new or {}).get("then") or {}
            body += [f"- **added** `{r.id}`{title}: when `{_render_when(r.new)}` then {then.get('severity')} `{then.get('code')}` (source `{then.get('source')}`)"]
        elif r.change == "removed":
            then = (r.old or {}).get("then") or {}
            body += [f"- **removed** `{r.id}`{title}: was when `{_render_when(r.old)}` then {then.get('severity')} `{then.get('code')}` (source `{then.get('source')}`)"]
        elif r.change == "reordered":
            body += [f"- **reordered**: {show(f.old)} → {show(f.new)}" for f in r.fields]
    changed = [r for r in diff.rules if r.change == "changed"]
    for r in changed:
        title = f" — {r.title}" if r.title else ""
        if body:
            body.append("")
        body += [f"**changed** `{r.id}`{title}", ""]
        rows = [[c.change, _code(c.where), _code(c.fact), c.op + (f" → {c.new_op}" if c.new_op else ""), show(c.old), show(c.new)] for c in r.conditions]
        rows += [["changed", "", _code(f.path.lstrip("/")), "", *_md_pair(f.old, f.new)] for f in r.fields + r.then]
        body += _table(["change", "under", "condition / field", "op", "old", "new"], rows)
        if r.structure:
            body += ["", f"Condition structure changed: `{r.structure[0]}` → `{r.structure[1]}`"]
    return body


def _md_sources(diff: PackDiff) -> list[str]:
    rows = []
    for s in diff.sources:
        if s.change == "changed":
            for f in s.fields:
                rows.append([_code(s.id), f"{f.path.lstrip('/')} {f.change}", *_md_pair(f.old, f.new), ", ".join(s.used_by)])
        else:
            entry = s.new if s.change == "added" else s.old
            rows.append([_code(s.id), s.change, "" if s.change == "added" else _source_text(entry), _source_text(entry) if s.change == "added" else "", ", ".join(s.used_by)])
    return _table(["source", "change", "old", "new", "cited by"], rows) if rows else []


def _md_tests(diff: PackDiff) -> list[str]:
    body = []
    for t in diff.tests:
        body.append(f"- **{t.change}** {t.name}")
        body += [f"  - {_code(f.path)} {f.change}: {' → '.join(_cell(x) for x in _md_pair(f.old, f.new))}" for f in t.fields]
    return body


def _responsible(lens: Any) -> str:
    return ", ".join(lens.responsible) + (" (only together)" if lens.together else "")


def _md_impact(impact: Sequence[ScenarioImpact]) -> list[str]:
    """Per scenario, the trades whose consequences the change moves, and the rule responsible."""
    lines: list[str] = []
    for s in impact:
        lines.append(f"**{s.scenario}**: {len(s.trades_changed)} of {s.trades} trade(s) change")
        if s.old_error or s.new_error:
            lines.append(f"- old: {s.old_error or 'ok'}")
            lines.append(f"- new: {s.new_error or 'ok'}")
        rows = []
        for lens in s.lenses:
            for f in lens.fields:
                rows.append([_code(lens.trade), lens.jurisdiction, f.field, f.old or "(none)", f.new or "(none)", _responsible(lens)])
            for fd in lens.findings:
                if fd.change == "changed":
                    pairs = [(d.field, *_md_pair(d.old, d.new)) for d in fd.fields]
                    before = "; ".join(f"{name}: {old}" for name, old, _ in pairs)
                    after = "; ".join(f"{name}: {new}" for name, _, new in pairs)
                else:
                    shown = f"{fd.severity}: {fd.message}"
                    before, after = (shown, "(none)") if fd.change == "removed" else ("(none)", shown)
                rows.append([_code(lens.trade), lens.jurisdiction, f"finding `{fd.code}` {fd.change} (rule `{fd.rule}`)", before, after,
                             _responsible(lens)])
        if rows:
            lines += [""] + _table(["trade", "lens", "what", "before", "after", "responsible"], rows)
        lines.append("")
    return lines


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json}
