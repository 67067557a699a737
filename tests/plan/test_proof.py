"""A plan the solver has not proven within the gap asked for says so, in every output format, never as if proven.

The example household's plan is proven (no note); the same result with the solver stopped by its time limit
above the gap carries the note in JSON (`notes`), the table and markdown, and `taxpack plan` says it on
stderr (the CSV holds only the trades). A run with a time limit too short to prove anything either says so
or stops with an error that names the time limit, never "no plan meets the constraints".
"""

from __future__ import annotations

import json
from decimal import Decimal

import attrs
import pytest

from taxpack.engine.core.errors import SemanticError
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.plan.planning import plan_rebalance
from taxpack.engine.plan.targets import load_targets
from taxpack.engine.report.plan_formats import render_plan_markdown, render_plan_table
from tests.expected import REPO_ROOT, run_cli

from .helpers import PACKS

SCENARIO = REPO_ROOT / "examples/plan/household.yaml"
TARGETS = REPO_ROOT / "examples/plan/targets.yaml"


def _example():  # type: ignore[no-untyped-def]
    scenario = load_scenario(SCENARIO)
    return scenario, load_targets(TARGETS, scenario)


def test_a_proven_plan_has_no_note() -> None:
    scenario, targets = _example()
    result = plan_rebalance(scenario, PACKS, targets)
    assert result.proven and result.proof_note() is None
    assert not [n for n in result.to_json_dict()["notes"] if n.startswith("not proven")]


def test_a_plan_stopped_above_the_gap_says_so_in_every_format() -> None:
    scenario, targets = _example()
    result = plan_rebalance(scenario, PACKS, targets)
    s = result.solution
    assert s.objective is not None
    stopped = attrs.evolve(result, solution=attrs.evolve(s, status="Time limit reached", bound=s.objective - Decimal("25.00"),
                                                         gap=Decimal("25.00")))
    assert not stopped.proven
    data = stopped.to_json_dict()
    notes = [n for n in data["notes"] if n.startswith("not proven")]
    assert len(notes) == 1 and "25.00 USD" in notes[0] and "(10.00)" in notes[0] and "Time limit reached" in notes[0]
    assert "not proven" in render_plan_table(data, width=200)
    assert "not proven" in render_plan_markdown(data)
    # No bound at all: how far the plan is from the best is not known.
    unbounded = attrs.evolve(result, solution=attrs.evolve(s, status="Time limit reached", bound=None, gap=None))
    assert "without a bound" in (unbounded.proof_note() or "")
    # A time limit reached once the gap was proven is proven.
    assert attrs.evolve(result, solution=attrs.evolve(s, status="Time limit reached", gap=Decimal("9.99"))).proven


def test_a_time_limit_too_short_to_prove_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    scenario, targets = _example()
    try:
        result = plan_rebalance(scenario, PACKS, targets, time_limit=0.0001, gap=Decimal(0))
    except SemanticError as exc:
        assert "time limit" in str(exc) and "no plan meets" not in str(exc), str(exc)
    else:
        assert result.proven or result.proof_note() in result.to_json_dict()["notes"]
    # The command line: the JSON's note and stderr agree (stderr is what a CSV reader sees).
    monkeypatch.chdir(REPO_ROOT)
    out = run_cli("plan", "examples/plan/household.yaml", "--targets", "examples/plan/targets.yaml", "--time-limit", "0.0001",
                  "--gap", "0", "--format", "json")
    if out.exit_code == 3:
        assert "time limit" in out.stderr and "no plan meets" not in out.stderr, out.stderr
        return
    notes = [n for n in json.loads(out.stdout)["notes"] if n.startswith("not proven")]
    assert ("not proven" in out.stderr) == bool(notes), (out.stderr, notes)
