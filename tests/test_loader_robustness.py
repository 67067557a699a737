"""Whatever a user writes, the loaders answer with a TaxpackError (a message with a place), never a crash.

Valid packs and scenarios are mutated line by line (a value replaced by a value of another type, a
line deleted or moved) and loaded: each must either load or raise a TaxpackError.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxpack.engine.core.documents import load_yaml_text
from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.inputs.scenario import build_scenario
from taxpack.engine.law.load import load_pack_text

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKS = [(REPO_ROOT / p).read_text(encoding="utf-8") for p in (
    "tests/packs/good/folder/pack.yaml", "tests/packs/good/treaties.yaml", "jurisdictions/us/pack.yaml")]
SCENARIOS = [(REPO_ROOT / "tests/scenarios/good/household.yaml").read_text(encoding="utf-8")]
VALUES = ["null", "0", "-1", "1.5", "[]", "{}", "''", "true", "2024-01-01", "2024-02-30", "{param: x}", "[1, {a: b}]",
          "NO", "99999999999999999999999", "1e400", "{days: 3}", "{param: capital_gains.rate}", "'€'", "&a [*a]", "!!str x"]


@st.composite
def mutated(draw: st.DrawFn, texts: list[str]) -> str:
    lines = draw(st.sampled_from(texts)).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "value", "delete", "move"]))
        if action == "value" and ": " in lines[i]:
            lines[i] = lines[i].partition(": ")[0] + ": " + draw(st.sampled_from(VALUES))
        elif action == "delete" and len(lines) > 1:
            del lines[i]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(PACKS))
def test_a_mutated_pack_loads_or_says_what_is_wrong(text: str) -> None:
    try:
        load_pack_text(text, "p.yaml")
    except TaxpackError as error:
        assert str(error).startswith("p.yaml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(SCENARIOS))
def test_a_mutated_scenario_loads_or_says_what_is_wrong(text: str) -> None:
    try:
        build_scenario(load_yaml_text(text, "s.yaml"), REPO_ROOT / "tests" / "scenarios" / "good")
    except TaxpackError as error:
        assert str(error).startswith("s.yaml")
