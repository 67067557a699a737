"""Semantic difference between two versions of a pack: what changed in law, not which lines moved.

A reviewer approves a pack change by its meaning: which dated values start, change or end and when,
which windows, methods and thresholds move, which rules fire differently and which citations change.
`diff_packs` compares the validated data with canonical numbers (0.30 and 0.3 are equal), and matches
entries by parameter name, start date, source id, rule id, wrapper name and test name, never by line.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeGuard

import attrs

from taxpack.engine.law.hashing import canonical_json
from taxpack.engine.law.pack import Pack

# Top-level keys shown as "metadata" (version is reported on its own).
METADATA_KEYS = ("format", "kind", "id", "jurisdiction", "title", "currency", "coverage", "rounding")
# Treatment sections in the order a reviewer reads them (pack-format.md); unknown keys follow, sorted.
SECTION_ORDER = (
    "scope", "holding_period", "lots", "fx", "capital_gains", "loss_rules", "no_loss_rule", "withholding",
    "foreign_tax_credit", "exit_tax", "arrival", "wrappers", "treaties",
)
DURATION_UNITS = ("days", "weeks", "months", "years")
HANDLED_KEYS = set(METADATA_KEYS) | {"version", "sources", "parameters", "rules", "tests"}


# ------------------------------------------------------------------------------------------------
# The diff, as data
# ------------------------------------------------------------------------------------------------


@attrs.frozen
class FieldChange:
    """One field that differs, at a JSON-pointer-like path (`/loss_rules/us.wash_sale/window/before`).

    `change` is added, removed, changed or reordered (a keyed list whose entries moved: `old`/`new`
    then hold the keys in their order).
    """

    path: str
    change: str
    old: Any = None
    new: Any = None


@attrs.frozen
class PackRef:
    """One side of the comparison: where it was read from and what it is."""

    label: str
    id: str
    version: str
    sha256: str


@attrs.frozen
class SourceChange:
    """A source added, removed or changed (citation, url, confidence...). `used_by`: where it is cited."""

    id: str
    change: str
    fields: tuple[FieldChange, ...] = ()
    old: Any = None
    new: Any = None
    used_by: tuple[str, ...] = ()


@attrs.frozen
class ValueChange:
    """A dated value of a parameter that starts, changes, ends or disappears on `start`.

    - `added`: a new dated value from `start`; `old` is what the old pack had in force on that day
      (and since `old_since`), so a rate change in the middle of a year reads "from 2025-07-01: 0.20 → 0.25".
    - `changed`: the same start date, another value (or only another source / uncertain / note).
    - `ended`: the value becomes null on `start` (the parameter stops applying).
    - `removed`: the dated value is gone; `new` is what the new pack has in force that day instead.
    `until` is the last day the new value is in force (the day before the next start), if any.
    """

    start: str
    change: str
    old: Any = None
    new: Any = None
    old_source: str | None = None
    new_source: str | None = None
    old_since: str | None = None
    until: str | None = None
    fields: tuple[FieldChange, ...] = ()


@attrs.frozen
class ParameterChange:
    name: str
    change: str  # added | removed | changed
    unit: str
    currency: str | None = None
    fields: tuple[FieldChange, ...] = ()  # description, unit, by, currency
    values: tuple[ValueChange, ...] = ()
    used_by: tuple[str, ...] = ()


@attrs.frozen
class SectionChange:
    """A treatment section (scope, lots, loss_rules...) with its field-by-field changes."""

    section: str
    change: str  # added | removed | changed
    fields: tuple[FieldChange, ...] = ()


@attrs.frozen
class ConditionChange:
    """One leaf condition of a rule's `when`, aligned by fact and operator inside its all/any/not tree.

    `where` is the chain of combinators above it (`all › any`); `op`/`new_op` differ when only the
    operator changed.
    """

    where: str
    fact: str
    op: str
    change: str  # added | removed | changed
    old: Any = None
    new: Any = None
    new_op: str | None = None


@attrs.frozen
class RuleChange:
    id: str
    change: str  # added | removed | changed
    title: str = ""
    fields: tuple[FieldChange, ...] = ()  # title, description
    conditions: tuple[ConditionChange, ...] = ()
    then: tuple[FieldChange, ...] = ()
    structure: tuple[str, str] | None = None  # (old when, new when) when the all/any/not tree changed shape
    old: Any = None
    new: Any = None


@attrs.frozen
class CitationChange:
    source: str
    old: str
    new: str
    used_by: tuple[str, ...] = ()


@attrs.frozen
class TestChange:
    name: str
    change: str
    fields: tuple[FieldChange, ...] = ()


@attrs.frozen
class PackDiff:
    old: PackRef
    new: PackRef
    version: tuple[str, str] | None
    metadata: tuple[FieldChange, ...]
    sources: tuple[SourceChange, ...]
    parameters: tuple[ParameterChange, ...]
    sections: tuple[SectionChange, ...]
    rules: tuple[RuleChange, ...]
    tests: tuple[TestChange, ...]
    # Source id -> "citation [confidence]" (the new pack's, else the old's), so that every format
    # can say which law a changed value rests on and how sure the pack is of it.
    source_notes: tuple[tuple[str, str], ...] = ()

    def source_note(self, sid: str | None) -> str:
        return dict(self.source_notes).get(sid or "", "")

    @property
    def equivalent(self) -> bool:
        """Same canonical content: only formatting or comments differ."""
        return self.old.sha256 == self.new.sha256

    @property
    def citations(self) -> tuple[CitationChange, ...]:
        """Sources whose citation text changed: every finding citing them reads differently."""
        out = []
        for s in self.sources:
            for f in s.fields:
                if f.path == "/citation" and f.change == "changed":
                    out.append(CitationChange(s.id, f.old, f.new, s.used_by))
        return tuple(out)

    def changed_paths(self) -> tuple[str, ...]:
        """Every place the diff shows changed, as paths (parameters, section fields, rule ids...)."""
        paths: list[str] = []
        paths += [f"/{f.path.lstrip('/')}" for f in self.metadata]
        paths += [f"/sources/{_esc(s.id)}" for s in self.sources]
        paths += [f"/parameters/{_esc(p.name)}" for p in self.parameters]
        paths += [f.path for s in self.sections for f in s.fields]
        paths += [f"/rules/{_esc(r.id)}" for r in self.rules if r.change != "reordered"]
        return tuple(paths)

    def counts(self) -> dict[str, int]:
        return {
            "metadata": len(self.metadata),
            "sources": len(self.sources),
            "citations": len(self.citations),
            "parameters": len(self.parameters),
            "sections": len(self.sections),
            "rules": len(self.rules),
            "tests": len(self.tests),
        }


# ------------------------------------------------------------------------------------------------
# Computing it
# ------------------------------------------------------------------------------------------------


def diff_packs(old: Pack, new: Pack) -> PackDiff:
    """The semantic difference from `old` to `new` (both loaded and validated)."""
    od, nd = old.data, new.data
    version = (old.version, new.version) if old.version != new.version else None
    metadata: list[FieldChange] = []
    for key in METADATA_KEYS:
        metadata += _diff_value(od.get(key), nd.get(key), "/" + key, present=(key in od, key in nd))

    sections: list[SectionChange] = []
    others = sorted((set(od) | set(nd)) - HANDLED_KEYS - set(SECTION_ORDER))
    for key in list(SECTION_ORDER) + others:
        if key not in od and key not in nd:
            continue
        if isinstance(od.get(key, nd.get(key)), Mapping) and (key in od) != (key in nd):
            # A whole section added or removed is listed key by key, so the reviewer can read it.
            fields = _diff_value(od.get(key, {}), nd.get(key, {}), "/" + key)
        else:
            fields = _diff_value(od.get(key), nd.get(key), "/" + key, present=(key in od, key in nd))
        if fields:
            change = "added" if key not in od else "removed" if key not in nd else "changed"
            sections.append(SectionChange(key, change, tuple(fields)))

    return PackDiff(
        old=PackRef(old.path, old.id, old.version, old.sha256),
        new=PackRef(new.path, new.id, new.version, new.sha256),
        version=version,
        metadata=tuple(metadata),
        sources=_diff_sources(old, new),
        parameters=_diff_parameters(old, new),
        sections=tuple(sections),
        rules=_diff_rules(od.get("rules") or [], nd.get("rules") or []),
        tests=_diff_tests(od.get("tests") or [], nd.get("tests") or []),
        source_notes=tuple(sorted(
            {**{sid: f"{src.citation} [{src.confidence}]" for sid, src in old.sources.items()},
             **{sid: f"{src.citation} [{src.confidence}]" for sid, src in new.sources.items()}}.items()
        )),
    )


def same(a: Any, b: Any) -> bool:
    """Equal in meaning: compared in canonical form (1, 1.0 and 1.00 are one number)."""
    return canonical_json(a) == canonical_json(b)


def _esc(key: Any) -> str:
    """A path segment, escaped as in JSON Pointer (RFC 6901)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def _is_param_ref(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping) and set(value) == {"param"}


def _is_atomic(value: Any) -> bool:
    """Values compared whole: a parameter reference, or a duration such as {days: 30}."""
    return _is_param_ref(value) or (isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in DURATION_UNITS)


def _list_key(items: Sequence[Any]) -> Callable[[Any], str] | None:
    """How entries of a list are identified: by `id`, `name`, or (treaty rows) by country pair and date."""
    if not items or not all(isinstance(i, Mapping) for i in items):
        return None
    for field in ("id", "name", "form"):
        if all(isinstance(i.get(field), str) for i in items):
            keys = [i[field] for i in items]
            if len(set(keys)) == len(keys):
                def by_field(i: Mapping[str, Any], f: str = field) -> str:
                    return i[f]
                return by_field
    if all("source_country" in i and "resident_of" in i for i in items):
        def treaty(i: Mapping[str, Any]) -> str:
            key = f"{i['source_country']}-{i['resident_of']}"
            return key + (f"@{_iso(i['from'])}" if i.get("from") is not None else "")
        keys = [treaty(i) for i in items]
        if len(set(keys)) == len(keys):
            return treaty
    return None


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _diff_value(old: Any, new: Any, path: str, present: tuple[bool, bool] = (True, True)) -> list[FieldChange]:
    """Field-by-field changes from `old` to `new` under `path` (mappings by key, keyed lists by id)."""
    if not present[0] and not present[1]:
        return []
    if not present[0]:
        return [FieldChange(path, "added", None, new)]
    if not present[1]:
        return [FieldChange(path, "removed", old, None)]
    if same(old, new):
        return []
    if isinstance(old, Mapping) and isinstance(new, Mapping) and not _is_atomic(old) and not _is_atomic(new):
        out: list[FieldChange] = []
        for key in sorted(set(old) | set(new), key=str):
            out += _diff_value(old.get(key), new.get(key), f"{path}/{_esc(key)}", (key in old, key in new))
        return out
    if isinstance(old, list) and isinstance(new, list):
        key_old, key_new = _list_key(old), _list_key(new)
        if key_old is not None and key_new is not None:
            olds = {key_old(i): i for i in old}
            news = {key_new(i): i for i in new}
            if set(olds) == set(news):
                # Same entries: compare each; if they only moved, say so (order changes the hash).
                out = []
                for key in [key_new(i) for i in new]:
                    out += _diff_value(olds[key], news[key], f"{path}/{_esc(key)}")
                order_old, order_new = [key_old(i) for i in old], [key_new(i) for i in new]
                if order_old != order_new:
                    out.append(FieldChange(path, "reordered", order_old, order_new))
                return out
            out = []
            for key in [key_new(i) for i in new] + [k for k in (key_old(i) for i in old) if k not in news]:
                out += _diff_value(olds.get(key), news.get(key), f"{path}/{_esc(key)}", (key in olds, key in news))
            return out
        if (len(old) == len(new) and old and all(isinstance(i, (Mapping, list)) for i in old + new)):
            out = []
            for i, (a, b) in enumerate(zip(old, new)):
                out += _diff_value(a, b, f"{path}/{i}")
            return out
    return [FieldChange(path, "changed", old, new)]


# --- sources ------------------------------------------------------------------------------------


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path of the holder, key, value) for every mapping entry, keyed lists addressed by their key."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield path, str(k), v
            yield from _walk(v, f"{path}/{_esc(k)}")
    elif isinstance(value, list):
        keyfn = _list_key(value)
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}/{_esc(keyfn(v)) if keyfn else i}")


def source_uses(pack: Pack) -> dict[str, tuple[str, ...]]:
    """Source id -> the paths that cite it (sections, parameter values, rules, tests)."""
    uses: dict[str, set[str]] = {}
    for key, value in pack.data.items():
        if key == "sources":
            continue
        for holder, k, v in _walk(value, "/" + _esc(key)):
            if k.endswith("source") and isinstance(v, str) and "/scenario" not in holder:
                uses.setdefault(v, set()).add(holder if k == "source" else f"{holder}/{k}")
    return {sid: tuple(sorted(paths)) for sid, paths in uses.items()}


def parameter_uses(pack: Pack) -> dict[str, tuple[str, ...]]:
    """Parameter name -> the paths that refer to it with `{param: name}`."""
    uses: dict[str, set[str]] = {}
    for key, value in pack.data.items():
        if key in ("parameters", "tests", "sources"):
            continue
        for holder, k, v in _walk(value, "/" + _esc(key)):
            if _is_param_ref(v):
                uses.setdefault(v["param"], set()).add(f"{holder}/{_esc(k)}")
    return {name: tuple(sorted(paths)) for name, paths in uses.items()}


def _diff_sources(old: Pack, new: Pack) -> tuple[SourceChange, ...]:
    os_, ns = old.data.get("sources") or {}, new.data.get("sources") or {}
    uses_new, uses_old = source_uses(new), source_uses(old)
    out = []
    for sid in sorted(set(os_) | set(ns)):
        if sid not in os_:
            out.append(SourceChange(sid, "added", new=ns[sid], used_by=uses_new.get(sid, ())))
        elif sid not in ns:
            out.append(SourceChange(sid, "removed", old=os_[sid], used_by=uses_old.get(sid, ())))
        else:
            fields = _diff_value(os_[sid], ns[sid], "")
            if fields:
                out.append(SourceChange(sid, "changed", tuple(fields), os_[sid], ns[sid], uses_new.get(sid, ())))
    return tuple(out)


# --- parameters ---------------------------------------------------------------------------------


def _diff_parameters(old: Pack, new: Pack) -> tuple[ParameterChange, ...]:
    op, np_ = old.data.get("parameters") or {}, new.data.get("parameters") or {}
    uses_new, uses_old = parameter_uses(new), parameter_uses(old)
    out = []
    for name in sorted(set(op) | set(np_)):
        if name not in op:
            p = np_[name]
            values = _values_listed(p, "added")
            out.append(ParameterChange(name, "added", p["unit"], p.get("currency"), values=values, used_by=uses_new.get(name, ())))
        elif name not in np_:
            p = op[name]
            values = _values_listed(p, "removed")
            out.append(ParameterChange(name, "removed", p["unit"], p.get("currency"), values=values, used_by=uses_old.get(name, ())))
        else:
            a, b = op[name], np_[name]
            fields: list[FieldChange] = []
            for key in ("description", "unit", "by", "currency"):
                fields += _diff_value(a.get(key), b.get(key), "/" + key, (key in a, key in b))
            values = _diff_dated(a["values"], b["values"])
            if fields or values:
                out.append(ParameterChange(name, "changed", b["unit"], b.get("currency"), tuple(fields), values, uses_new.get(name, ())))
    return tuple(out)


def _values_listed(raw: Mapping[str, Any], change: str) -> tuple[ValueChange, ...]:
    starts = sorted(raw["values"])
    out = []
    for i, start in enumerate(starts):
        entry = raw["values"][start]
        until = _day_before(starts[i + 1]) if i + 1 < len(starts) else None
        if change == "added":
            out.append(ValueChange(start, "added", None, entry.get("value"), None, entry.get("source"), until=until))
        else:
            out.append(ValueChange(start, "removed", entry.get("value"), None, entry.get("source"), None, until=until))
    return tuple(out)


def _day_before(iso: str) -> str:
    return (dt.date.fromisoformat(iso) - dt.timedelta(days=1)).isoformat()


def _in_force(values: Mapping[str, Any], day: str) -> tuple[str | None, Mapping[str, Any] | None]:
    """The (start, entry) in force on `day` in a raw `values` mapping (None before the first)."""
    current: tuple[str | None, Mapping[str, Any] | None] = (None, None)
    for start in sorted(values):
        if start <= day:
            current = (start, values[start])
    return current


def _diff_dated(ov: Mapping[str, Any], nv: Mapping[str, Any]) -> tuple[ValueChange, ...]:
    """Dated values compared by start date; a new start is read against what was in force that day."""
    out = []
    new_starts = sorted(nv)
    for start in sorted(set(ov) | set(nv)):
        following = [s for s in new_starts if s > start]
        until = _day_before(following[0]) if following else None
        if start in ov and start in nv:
            a, b = ov[start], nv[start]
            if same(a, b):
                continue
            old_value, new_value = a.get("value"), b.get("value")
            change = "ended" if new_value is None and old_value is not None else "changed"
            fields = [f for key in ("uncertain", "note")
                      for f in _diff_value(a.get(key), b.get(key), "/" + key, (key in a, key in b))]
            out.append(ValueChange(start, change, old_value, new_value, a.get("source"), b.get("source"),
                                   until=until, fields=tuple(fields)))
        elif start in nv:
            b = nv[start]
            since, before = _in_force(ov, start)
            change = "ended" if b.get("value") is None else "added"
            out.append(ValueChange(start, change, before.get("value") if before else None, b.get("value"),
                                   before.get("source") if before else None, b.get("source"), since, until))
        else:
            a = ov[start]
            since, now = _in_force(nv, start)
            out.append(ValueChange(start, "removed", a.get("value"), now.get("value") if now else None,
                                   a.get("source"), now.get("source") if now else None, since, until=None))
    return tuple(out)


# --- rules --------------------------------------------------------------------------------------


def _by_key(items: Sequence[Any], field: str) -> dict[str, Any]:
    return {str(i.get(field)): i for i in items if isinstance(i, Mapping)}


def _diff_rules(old: Sequence[Any], new: Sequence[Any]) -> tuple[RuleChange, ...]:
    ob, nb = _by_key(old, "id"), _by_key(new, "id")
    out = []
    for rid in sorted(set(ob) | set(nb)):
        if rid not in ob:
            out.append(RuleChange(rid, "added", nb[rid].get("title", ""), new=nb[rid]))
        elif rid not in nb:
            out.append(RuleChange(rid, "removed", ob[rid].get("title", ""), old=ob[rid]))
        elif not same(ob[rid], nb[rid]):
            a, b = ob[rid], nb[rid]
            fields: list[FieldChange] = []
            for key in sorted((set(a) | set(b)) - {"id", "when", "then"}):
                fields += _diff_value(a.get(key), b.get(key), "/" + key, (key in a, key in b))
            conditions = diff_conditions(a.get("when"), b.get("when"))
            then = _diff_value(a.get("then"), b.get("then"), "/then")
            structure = None
            if _shape(a.get("when")) != _shape(b.get("when")):
                structure = (render_condition(a.get("when")), render_condition(b.get("when")))
            out.append(RuleChange(rid, "changed", b.get("title", ""), tuple(fields), conditions, tuple(then), structure, a, b))
    # A reordering of rules changes the hash without changing any rule: say it.
    common_old = [str(r.get("id")) for r in old if str(r.get("id")) in nb]
    common_new = [str(r.get("id")) for r in new if str(r.get("id")) in ob]
    if common_old != common_new:
        out.append(RuleChange("(order)", "reordered", fields=(FieldChange("/rules", "reordered", common_old, common_new),)))
    return tuple(out)


def _operator(leaf: Mapping[str, Any]) -> str:
    ops = [k for k in leaf if k != "fact"]
    return ops[0] if ops else "?"


def condition_leaves(cond: Any, where: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """The leaf conditions of a when-tree, each with the combinators above it, in written order."""
    if not isinstance(cond, Mapping):
        return []
    if "fact" in cond:
        return [(where, cond)]
    out = []
    for op in ("all", "any"):
        for sub in cond.get(op) or []:
            out += condition_leaves(sub, where + (op,))
    if "not" in cond:
        out += condition_leaves(cond["not"], where + ("not",))
    return out


def _shape(cond: Any, where: tuple[str, ...] = ()) -> Counter[tuple[str, ...]]:
    """The combinator nodes of a when-tree (ignoring leaves): a change here is a change of structure."""
    shape: Counter[tuple[str, ...]] = Counter()
    if not isinstance(cond, Mapping) or "fact" in cond:
        return shape
    for op in ("all", "any", "not"):
        if op in cond:
            shape[where + (op,)] += 1
            subs = [cond[op]] if op == "not" else cond[op] or []
            for sub in subs:
                shape += _shape(sub, where + (op,))
    return shape


def diff_conditions(old: Any, new: Any) -> tuple[ConditionChange, ...]:
    """Condition-by-condition changes: leaves aligned by (combinators, fact, operator), then by fact."""
    old_leaves, new_leaves = condition_leaves(old), condition_leaves(new)

    def key(item: tuple[tuple[str, ...], Mapping[str, Any]]) -> tuple[tuple[str, ...], str, str]:
        return (item[0], str(item[1].get("fact")), _operator(item[1]))

    unmatched_old = list(old_leaves)
    pairs: list[tuple[Any, Any]] = []
    unmatched_new = []
    for leaf in new_leaves:
        match = next((o for o in unmatched_old if key(o) == key(leaf)), None)
        if match is None:
            unmatched_new.append(leaf)
        else:
            unmatched_old.remove(match)
            pairs.append((match, leaf))
    # Second pass: the same fact under the same combinators with another operator is a changed condition.
    still_new = []
    for leaf in unmatched_new:
        match = next((o for o in unmatched_old if key(o)[:2] == key(leaf)[:2]), None)
        if match is None:
            still_new.append(leaf)
        else:
            unmatched_old.remove(match)
            pairs.append((match, leaf))

    out: list[ConditionChange] = []
    for (where, a), (_, b) in pairs:
        op_a, op_b = _operator(a), _operator(b)
        if op_a == op_b and same(a.get(op_a), b.get(op_b)):
            continue
        out.append(ConditionChange(" › ".join(where), str(b.get("fact")), op_a, "changed", a.get(op_a), b.get(op_b),
                                   new_op=op_b if op_b != op_a else None))
    for where, b in still_new:
        out.append(ConditionChange(" › ".join(where), str(b.get("fact")), _operator(b), "added", None, b.get(_operator(b))))
    for where, a in unmatched_old:
        out.append(ConditionChange(" › ".join(where), str(a.get("fact")), _operator(a), "removed", a.get(_operator(a)), None))
    order = {"changed": 0, "added": 1, "removed": 2}
    return tuple(sorted(out, key=lambda c: (order[c.change], c.fact, c.op, c.where, canonical_json(c.old), canonical_json(c.new))))


def render_condition(cond: Any) -> str:
    """A when-tree on one line: `all(trade.side eq buy, any(...), not(...))`."""
    from taxpack.engine.law.show import format_value

    if not isinstance(cond, Mapping):
        return ""
    if "fact" in cond:
        op = _operator(cond)
        value = cond.get(op)
        shown = f"param {value['param']}" if _is_param_ref(value) else format_value(value)
        return f"{cond['fact']} {op} {shown}"
    for op in ("all", "any"):
        if op in cond:
            return f"{op}(" + ", ".join(render_condition(c) for c in cond[op] or []) + ")"
    if "not" in cond:
        return f"not({render_condition(cond['not'])})"
    return ""


# --- tests --------------------------------------------------------------------------------------


def _diff_tests(old: Sequence[Any], new: Sequence[Any]) -> tuple[TestChange, ...]:
    ob, nb = _by_key(old, "name"), _by_key(new, "name")
    out = []
    for name in sorted(set(ob) | set(nb)):
        if name not in ob:
            out.append(TestChange(name, "added"))
        elif name not in nb:
            out.append(TestChange(name, "removed"))
        else:
            fields = _diff_value(ob[name], nb[name], "")
            if fields:
                out.append(TestChange(name, "changed", tuple(fields)))
    common_old = [str(t.get("name")) for t in old if str(t.get("name")) in nb]
    common_new = [str(t.get("name")) for t in new if str(t.get("name")) in ob]
    if common_old != common_new:
        out.append(TestChange("(order)", "reordered", (FieldChange("/tests", "reordered", common_old, common_new),)))
    return tuple(out)
