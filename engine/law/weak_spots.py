"""Find a pack's weak spots: values resting on unverified or open sources, uncertain law, bare citations."""

from __future__ import annotations

from typing import Any, Iterator

from taxpack.engine.law.pack import Pack


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    if isinstance(value, dict):
        yield path, value
        for k, v in value.items():
            if k in ("parameters", "sources", "tests") and not path:
                continue
            yield from _walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, path + (i,))


def audit_pack(pack: Pack) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(path: tuple[Any, ...], item: str, issue: str) -> None:
        rows.append({"pack": pack.ref, "where": str(pack.span(path)), "item": item, "issue": issue})

    for declared_id, declared in sorted(pack.sources.items()):
        if not declared.url:
            add(("sources", declared_id), f"source {declared_id}", f"no URL for '{declared.citation}'")
    for name, parameter in sorted(pack.parameters.items()):
        for dated in parameter.values:
            source = pack.source(dated.source)
            path = ("parameters", name, "values", dated.start.isoformat())
            if source is not None and source.confidence != "verified":
                add(path, f"{name} from {dated.start}", f"source '{dated.source}' is {source.confidence}: {source.citation}")
            if dated.uncertain:
                add(path, f"{name} from {dated.start}", f"uncertain: {dated.uncertain}")
    for path, node in _walk({k: v for k, v in pack.data.items()}):
        label = ".".join(str(p) for p in path) or "(top)"
        if "uncertain" in node and isinstance(node["uncertain"], str):
            add(path, label, f"uncertain: {node['uncertain']}")
        sid = node.get("source")
        if isinstance(sid, str) and not path[:1] == ("parameters",):
            source = pack.source(sid)
            if source is not None and source.confidence != "verified" and path:
                add(path, label, f"source '{sid}' is {source.confidence}: {source.citation}")
    rows.sort(key=lambda r: (r["pack"], _line(r["where"]), r["item"], r["issue"]))
    return rows


def _line(where: str) -> int:
    parts = where.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
