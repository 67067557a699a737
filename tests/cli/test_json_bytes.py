"""`--format json` is written a trade at a time (`write_json`) and by `dumps` in one piece (`--record`, the
library): both must give exactly the bytes of the standard library's compact JSON with sorted keys, for every
example household, with text that is not ASCII (citations' "§", a file named with "€" and accents) and control
characters (a file name holding them: JSON escapes them, the others are written as they are)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taxpack.engine.consequences.check import run_check
from taxpack.engine.consequences.serialize import dumps, to_json_dict, write_json
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCENARIOS = [EXAMPLES / "household" / "scenario.yaml", EXAMPLES / "eu-household" / "scenario.yaml", EXAMPLES / "plan" / "household.yaml"]
ODD_NAME = "Zoë Müller § 12 € \x01\x1f\x7f\u2028 ñ.yaml"


def _reference(data: dict[str, object]) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.parent.name)
def test_streamed_and_whole_json_are_the_standard_librarys_bytes(scenario: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data €"
    shutil.copytree(scenario.parent, folder)
    odd = folder / ODD_NAME
    (folder / scenario.name).rename(odd)
    result = run_check(load_scenario(odd), pack_set())
    parts: list[str] = []
    write_json(result, parts.append)
    streamed = "".join(parts)
    reference = _reference(to_json_dict(result))
    assert streamed == reference
    assert dumps(to_json_dict(result)) == reference
    assert "\\u0001\\u001f" in reference and "\x7f\u2028" in reference and "Zoë" in reference and "€" in reference
    assert "§" in reference or scenario.parent.name == "plan"  # the plan household's packs cite no section
