"""Invariants of `diff_packs` on the real bundled packs, whatever they hold.

- A pack compared with itself, or with itself re-written (keys sorted, block style, numbers in
  another spelling), is equivalent and the diff is empty.
- Changing one dated value of one parameter is reported as exactly that change: that parameter, that
  date, the old and the new value, and nothing else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxpack.engine.law.diff import PackDiff, diff_packs
from taxpack.engine.law.load import load_pack_text
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import bundled_packs

PACKS = bundled_packs()


class _Dumper(yaml.SafeDumper):
    """Writes a pack back as YAML: decimals as written numbers (with a trailing zero: 0.30 → 0.300)."""


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value, "f")
    text = text + "0" if "." in text else text + ".0"
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(Decimal, _decimal)


def rewrite(data: Any) -> str:
    return "# re-written by the test\n" + yaml.dump(dict(data), Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=200)


def load(text: str, pack: Pack) -> Pack:
    return load_pack_text(text, f"{pack.id}-rewritten.yaml")


def empty(diff: PackDiff) -> bool:
    return not any(diff.counts().values()) and diff.version is None


@pytest.mark.parametrize("pack", PACKS, ids=[p.id for p in PACKS])
def test_a_pack_is_equivalent_to_itself_rewritten(pack: Pack) -> None:
    assert empty(diff_packs(pack, pack))
    rewritten = load(rewrite(pack.data), pack)
    diff = diff_packs(pack, rewritten)
    assert diff.equivalent, "re-writing changed the content hash"
    assert empty(diff)


def _scalar_values(pack: Pack) -> list[tuple[str, str]]:
    out = []
    for name, param in (pack.data.get("parameters") or {}).items():
        if param.get("by") or param["unit"] not in ("rate", "money", "count", "days", "weeks", "months", "years"):
            continue
        for start, entry in param["values"].items():
            value = entry.get("value")
            if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                out.append((name, start))
    return sorted(out)


CANDIDATES = [(p, name, start) for p in PACKS for name, start in _scalar_values(p)]


@pytest.mark.skipif(not CANDIDATES, reason="no bundled pack has a plain numeric dated value")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CANDIDATES) if CANDIDATES else st.nothing())
def test_one_changed_value_is_reported_as_exactly_that(case: tuple[Pack, str, str]) -> None:
    pack, name, start = case
    data = _copy(pack.data)
    entry = data["parameters"][name]["values"][start]
    old = entry["value"]
    unit = data["parameters"][name]["unit"]
    new = Decimal(old) / 2 if unit == "rate" and old else (Decimal(old) + Decimal("0.25") if unit in ("rate", "money") else old + 1)
    entry["value"] = new
    changed = load(rewrite(data), pack)
    diff = diff_packs(pack, changed)
    assert not diff.equivalent
    assert (diff.counts(), diff.version) == ({"metadata": 0, "sources": 0, "citations": 0, "parameters": 1, "sections": 0, "rules": 0, "tests": 0}, None)
    (p,) = diff.parameters
    assert (p.name, p.change) == (name, "changed")
    (v,) = p.values
    assert (v.start, v.change, v.old, v.new) == (start, "changed", old, new)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
