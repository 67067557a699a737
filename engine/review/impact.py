"""Which trades a pack change touches: replay scenarios through the old and the new pack, compare.

A change of law matters to a client only where it changes a consequence: a gain, a term, a disallowed
loss, a finding. Each scenario is checked twice (same engine, same other packs, only the diffed pack
differs) and every trade whose consequences differ is listed lens by lens, with the figures before
and after and the rules responsible.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import attrs

from taxpack.engine.consequences.serialize import to_json_dict
from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.core.household import Scenario
from taxpack.engine.law.diff import PackDiff
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet, pack_set

# Consequence fields in the order a reviewer reads them; any other scalar field follows, sorted.
FIELD_ORDER = ("proceeds", "cost", "gain", "disallowed_loss", "term", "method", "estimated_tax")
# Keys that identify the pack that produced a figure: they always differ between two versions, and
# say nothing about the client's consequences.
PACK_IDENTITY_KEYS = frozenset({"pack", "packs", "pack_sha256", "sha256", "pack_version"})
# What makes a finding different for a client (its facts and conditions explain it, they are not it).
FINDING_FIELDS = ("severity", "message", "citation", "confidence", "caveat", "amount")


@attrs.frozen
class FieldDelta:
    field: str
    old: str | None
    new: str | None


@attrs.frozen
class FindingDelta:
    change: str  # added | removed | changed
    code: str
    rule: str
    severity: str
    message: str
    citation: str = ""
    fields: tuple[FieldDelta, ...] = ()  # for changed: which of severity/message/citation...


@attrs.frozen
class LensImpact:
    """One trade seen through one jurisdiction's lens, whose consequences differ between versions.

    `moved_by`: the changes of the diff (paths, as `PackDiff.changed_paths`) that move this lens: the
    one change when the diff has one, else each change whose replay alone (the old pack with only that
    change applied) moves it. `together`: no change alone moves it, only several at once (then
    `moved_by` lists every change that could). `responsible`: the rules of the findings that differ,
    then `moved_by`.
    """

    trade: str
    jurisdiction: str
    change: str  # changed | appeared | disappeared
    fields: tuple[FieldDelta, ...] = ()
    findings: tuple[FindingDelta, ...] = ()
    responsible: tuple[str, ...] = ()
    moved_by: tuple[str, ...] = ()
    together: bool = False


@attrs.frozen
class ScenarioImpact:
    scenario: str
    trades: int  # candidate trades replayed
    lenses: tuple[LensImpact, ...] = ()
    old_error: str | None = None
    new_error: str | None = None

    @property
    def trades_changed(self) -> tuple[str, ...]:
        seen: list[str] = []
        for lens in self.lenses:
            if lens.trade not in seen:
                seen.append(lens.trade)
        return tuple(seen)


def replace_pack(base: PackSet, pack: Pack) -> PackSet:
    """`base` with `pack` in place of the pack of the same id (or of the same jurisdiction)."""
    def replaced(p: Pack) -> bool:
        return p.id == pack.id or (pack.kind == "jurisdiction" and p.kind == "jurisdiction" and p.jurisdiction == pack.jurisdiction)

    return PackSet(tuple(sorted((p for p in base.packs if not replaced(p)), key=lambda p: p.id)) + (pack,))


def replay(
    scenarios: Iterable[Path | str],
    old: Pack,
    new: Pack,
    diff: PackDiff,
    *,
    rules_backend: str | None = None,
    base: PackSet | None = None,
) -> tuple[ScenarioImpact, ...]:
    """Check every scenario under the old and the new pack and compare the results trade by trade."""
    from taxpack.engine.consequences.check import run_check
    from taxpack.engine.core.documents import display_path
    from taxpack.engine.inputs.scenario import load_scenario

    base = base if base is not None else pack_set()
    old_set, new_set = replace_pack(base, old), replace_pack(base, new)
    out = []
    replayed: list[tuple[Scenario, Mapping[str, Any]]] = []  # (scenario, old result) of each scenario that changed
    for path in scenarios:
        scenario = load_scenario(path)
        results: list[Mapping[str, Any] | None] = []
        errors: list[TaxpackError | None] = []
        for packs in (old_set, new_set):
            try:
                results.append(to_json_dict(run_check(scenario, packs, rules_backend=rules_backend)))
                errors.append(None)
            except TaxpackError as exc:
                results.append(None)
                errors.append(exc)
        shown = display_path(path)
        if errors[0] is not None and errors[1] is not None:
            if errors[0].render() == errors[1].render():
                raise errors[1]  # the scenario itself is wrong, whatever the pack says
        trades = len(scenario.trades)
        if results[0] is None or results[1] is None:
            out.append(ScenarioImpact(shown, trades, (),
                                      errors[0].render() if errors[0] else None, errors[1].render() if errors[1] else None))
            replayed.append((scenario, {}))
            continue
        lenses = compare_results(results[0], results[1], diff, new)
        out.append(ScenarioImpact(shown, trades, lenses))
        replayed.append((scenario, results[0]))
    return attribute(tuple(out), replayed, old, new, diff, base, rules_backend)


# ------------------------------------------------------------------------------------------------
# Which change moved which trade: each change replayed alone
# ------------------------------------------------------------------------------------------------

_MISSING = object()


def attribute(impacts: tuple[ScenarioImpact, ...], replayed: Sequence[tuple[Scenario, Mapping[str, Any]]], old: Pack, new: Pack,
              diff: PackDiff, base: PackSet, rules_backend: str | None) -> tuple[ScenarioImpact, ...]:
    """Each changed lens with the changes that move it.

    With one change in the diff it is that change. With several, each change is applied alone to the old
    pack (`apply_change`), the scenarios are checked again, and a lens is attributed to every change
    whose replay alone moves it. A lens no change moves alone (the changes act only together, or a
    change cannot stand alone because another one defines what it uses) is attributed to all of them,
    marked `together`. Replays happen only where some lens changed and the diff has several changes.
    """
    units = diff.changed_paths()
    if len(units) <= 1 or not any(s.lenses for s in impacts):
        return impacts
    from taxpack.engine.consequences.check import run_check

    moved: dict[str, set[tuple[int, str, str]]] = {}
    for unit in units:
        try:
            alone = pack_with_change(old, new, unit)
        except TaxpackError:
            continue  # cannot stand alone (e.g. a rule using a parameter the same diff adds)
        packs = replace_pack(base, alone)
        hits: set[tuple[int, str, str]] = set()
        for index, (scenario, before) in enumerate(replayed):
            if not before or not impacts[index].lenses:
                continue
            try:
                after = to_json_dict(run_check(scenario, packs, rules_backend=rules_backend))
            except TaxpackError:
                hits.update((index, lens.trade, lens.jurisdiction) for lens in impacts[index].lenses)
                continue
            hits.update((index, lens.trade, lens.jurisdiction) for lens in compare_results(before, after, diff, alone))
        moved[unit] = hits
    out = []
    for index, s in enumerate(impacts):
        lenses = []
        for lens in s.lenses:
            if not lens.moved_by:  # another jurisdiction's lens: its pack did not change
                lenses.append(lens)
                continue
            by = tuple(u for u in units if (index, lens.trade, lens.jurisdiction) in moved.get(u, ()))
            lenses.append(_with_moved_by(lens, by) if by else _with_moved_by(lens, lens.moved_by, together=True))
        out.append(attrs.evolve(s, lenses=tuple(lenses)))
    return tuple(out)


def pack_with_change(old: Pack, new: Pack, path: str) -> Pack:
    """The old pack with the one change at `path` (a path of `PackDiff.changed_paths`) taken from the new pack."""
    from taxpack.engine.law.load import load_pack_text

    data = apply_change(old.data, new.data, path)
    return load_pack_text(_yaml_text(data), f"{old.path} + {path}")


def apply_change(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> dict[str, Any]:
    """A copy of `old` whose value at `path` is the one `new` has there (removed where `new` has none).

    Path segments are mapping keys, or in a list the entry's key (`id`, `name`...) as the diff names it."""
    import copy

    from taxpack.engine.law.diff import _list_key

    segments = [part.replace("~1", "/").replace("~0", "~") for part in path.strip("/").split("/")] if path.strip("/") else []
    result = copy.deepcopy(dict(old))
    value = _get(new, segments, _list_key)
    holder: Any = result
    for depth, part in enumerate(segments[:-1]):
        nxt = _child(holder, part, _list_key)
        if nxt is _MISSING:  # the new side adds a whole branch: take it from the new pack
            _put(holder, part, copy.deepcopy(_get(new, segments[: depth + 1], _list_key)), _list_key)
            return result
        holder = nxt
    if segments:
        _put(holder, segments[-1], copy.deepcopy(value), _list_key)
    return result


def _child(holder: Any, part: str, list_key: Any) -> Any:
    if isinstance(holder, Mapping):
        return holder.get(part, _MISSING)
    if isinstance(holder, list):
        keyfn = list_key(holder)
        for i, item in enumerate(holder):
            if (keyfn(item) if keyfn else str(i)) == part:
                return item
    return _MISSING


def _get(tree: Any, segments: Sequence[str], list_key: Any) -> Any:
    for part in segments:
        tree = _child(tree, part, list_key)
        if tree is _MISSING:
            return _MISSING
    return tree


def _put(holder: Any, part: str, value: Any, list_key: Any) -> None:
    if isinstance(holder, dict):
        if value is _MISSING:
            holder.pop(part, None)
        else:
            holder[part] = value
        return
    if isinstance(holder, list):
        keyfn = list_key(holder) or (list_key([value]) if value is not _MISSING else None)
        for i, item in enumerate(holder):
            if (keyfn(item) if keyfn else str(i)) == part:
                if value is _MISSING:
                    del holder[i]
                else:
                    holder[i] = value
                return
        if value is not _MISSING:
            holder.append(value)


def _yaml_text(data: Mapping[str, Any]) -> str:
    """Pack data as YAML the loader reads back to the same content (decimals as numbers, dates as dates)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(Decimal, lambda dumper, v: dumper.represent_scalar("tag:yaml.org,2002:float", format(v, "f")))

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return yaml.dump(plain(data), Dumper=Dumper, sort_keys=False, allow_unicode=True)


# ------------------------------------------------------------------------------------------------
# Comparing two `taxpack check` JSON results
# ------------------------------------------------------------------------------------------------


def compare_results(old: Mapping[str, Any], new: Mapping[str, Any], diff: PackDiff, pack: Pack) -> tuple[LensImpact, ...]:
    """Every (trade, lens) whose consequences differ between two `check` results of one scenario."""
    old_trades = {str(t["id"]): t for t in old.get("trades") or []}
    new_trades = {str(t["id"]): t for t in new.get("trades") or []}
    order = [str(t["id"]) for t in new.get("trades") or []] + [i for i in old_trades if i not in new_trades]
    paths = diff.changed_paths()
    out: list[LensImpact] = []
    for tid in order:
        a = _lenses(old_trades.get(tid))
        b = _lenses(new_trades.get(tid))
        for jurisdiction in sorted(set(a) | set(b)):
            impact = compare_lens(tid, jurisdiction, a.get(jurisdiction), b.get(jurisdiction))
            if impact is None:
                continue
            relevant = pack.kind != "jurisdiction" or pack.jurisdiction == jurisdiction
            out.append(_with_moved_by(impact, paths if relevant else ()))
    return tuple(out)


def _with_moved_by(impact: LensImpact, moved_by: tuple[str, ...], together: bool = False) -> LensImpact:
    rules = tuple(sorted({f.rule for f in impact.findings if f.rule}))
    return attrs.evolve(impact, responsible=rules + moved_by, moved_by=moved_by, together=together)


def _lenses(trade: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    if trade is None:
        return {}
    return {str(c.get("jurisdiction")): c for c in trade.get("consequences") or []}


def compare_lens(trade: str, jurisdiction: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> LensImpact | None:
    """The difference for one trade and lens, or None when its consequences are the same."""
    if old is None and new is None:
        return None
    if old is None or new is None:
        present = new if new is not None else old
        assert present is not None
        fields = tuple(
            FieldDelta(name, None if old is None else _text(present.get(name)), None if new is None else _text(present.get(name)))
            for name in _field_names(present, {})
        )
        findings = _finding_deltas([] if old is None else old.get("findings") or [], [] if new is None else new.get("findings") or [])
        return LensImpact(trade, jurisdiction, "appeared" if old is None else "disappeared", fields, findings)
    deltas: list[FieldDelta] = []
    for name in _field_names(old, new):
        if _canon(old.get(name)) == _canon(new.get(name)):
            continue
        per_item = _keyed_deltas(name, old.get(name), new.get(name))
        deltas += per_item if per_item is not None else [FieldDelta(name, _text(old.get(name)), _text(new.get(name)))]
    fields = tuple(deltas)
    findings = _finding_deltas(old.get("findings") or [], new.get("findings") or [])
    if not fields and not findings:
        return None
    return LensImpact(trade, jurisdiction, "changed", fields, findings)


LOT_KEYS = ("lot", "id", "transaction")


def _keyed_deltas(name: str, old: Any, new: Any) -> list[FieldDelta] | None:
    """A list of lots compared lot by lot (`lots[b1].cost: 100.00 → 120.00`), when each lot has a key."""
    if not (isinstance(old, list) and isinstance(new, list)):
        return None
    items = old + new
    if not items or not all(isinstance(i, Mapping) for i in items):
        return None
    key = next((k for k in LOT_KEYS if all(i.get(k) is not None for i in items)), None)
    if key is None:
        return None
    a, b = {str(i[key]): i for i in old}, {str(i[key]): i for i in new}
    if len(a) != len(old) or len(b) != len(new):
        return None
    out: list[FieldDelta] = []
    for k in [str(i[key]) for i in new] + [str(i[key]) for i in old if str(i[key]) not in b]:
        if k not in a or k not in b:
            out.append(FieldDelta(f"{name}[{k}]", _text(a.get(k)), _text(b.get(k))))
            continue
        for field in sorted((set(a[k]) | set(b[k])) - PACK_IDENTITY_KEYS):
            if _canon(a[k].get(field)) != _canon(b[k].get(field)):
                out.append(FieldDelta(f"{name}[{k}].{field}", _text(a[k].get(field)), _text(b[k].get(field))))
    return out


def _field_names(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    names = (set(a) | set(b)) - {"jurisdiction", "findings"} - PACK_IDENTITY_KEYS
    ordered = [n for n in FIELD_ORDER if n in names]
    return ordered + sorted(n for n in names if n not in FIELD_ORDER)


def _strip(value: Any) -> Any:
    """The value without the keys naming the pack version that produced it."""
    if isinstance(value, Mapping):
        return {k: _strip(v) for k, v in value.items() if k not in PACK_IDENTITY_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _canon(value: Any) -> str:
    from taxpack.engine.law.hashing import canonical_json

    stripped = _strip(value)
    # Amounts arrive as decimal strings: "10.0" and "10.00" are the same amount.
    return canonical_json(_numbers(stripped))


def _numbers(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, str):
        try:
            if value.strip() and value.strip().lstrip("-").replace(".", "", 1).isdigit():
                return Decimal(value)
        except ArithmeticError:  # pragma: no cover - guarded by the test above
            return value
    return value


def _text(value: Any) -> str | None:
    """A figure as the reviewer reads it: amounts as decimal strings, lots and tables as compact JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, Decimal)):
        return format(Decimal(value), "f")
    if isinstance(value, str):
        return value
    return json.dumps(_strip(value), sort_keys=True, separators=(", ", ": "), default=str, ensure_ascii=False)


def _finding_key(f: Mapping[str, Any]) -> tuple[str, str]:
    return (str(f.get("code") or ""), str(f.get("rule") or ""))


def _finding_deltas(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> tuple[FindingDelta, ...]:
    """Findings added, removed or changed, matched by (code, rule)."""
    def grouped(items: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
        out: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for f in items:
            out.setdefault(_finding_key(f), []).append(f)
        return out

    def delta(change: str, f: Mapping[str, Any], fields: tuple[FieldDelta, ...] = ()) -> FindingDelta:
        return FindingDelta(change, str(f.get("code") or ""), str(f.get("rule") or ""), str(f.get("severity") or ""),
                            str(f.get("message") or ""), str(f.get("citation") or ""), fields)

    a, b = grouped(old), grouped(new)
    out: list[FindingDelta] = []
    for key in sorted(set(a) | set(b)):
        olds, news = a.get(key, []), b.get(key, [])
        for i in range(max(len(olds), len(news))):
            if i >= len(olds):
                out.append(delta("added", news[i]))
            elif i >= len(news):
                out.append(delta("removed", olds[i]))
            else:
                fields = tuple(
                    FieldDelta(name, _text(olds[i].get(name)), _text(news[i].get(name)))
                    for name in FINDING_FIELDS
                    if _canon(olds[i].get(name)) != _canon(news[i].get(name))
                )
                if fields:
                    out.append(delta("changed", news[i], fields))
    return tuple(out)
