"""A representative part of the hostile-input sweep (tests/hostile/sweep.py runs all of it and prints the
table of classes): one or two cases of each class, each through the real command in its own process."""

from __future__ import annotations

import pytest

from tests.hostile import sweep

# One or two cases per class of issue 17; the whole sweep is `python tests/hostile/sweep.py`.
CHOSEN = [
    "numbers/trade-price:1e400", "numbers/jsonl-quantity:5000-digits", "nesting/scenario-yaml-flow:3000", "encoding/scenario:utf-16-bom",
    "size/fx-rates:dev-zero", "size/scenario:fifo", "links/scenario-loop", "links/pack-yaml-link-outside", "paths/fx-rates:etc-passwd",
    "paths/pack-test-scenario:dev-zero", "dates/history-date:year-1", "rules/check:300-quiet", "outputs/record-is-scenario",
    "outputs/out-proc", "absurd/marginal-rate-7", "csv-injection/check-trade-id:equals-cmd", "batch/folder-odd-files", "cli/pipe-pack-show",
]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, sweep.Case]:
    work = sweep.make_work(tmp_path_factory.mktemp("sweep"))
    return {case.id: case for case in sweep.all_cases(work)} | {"__work__": work}  # type: ignore[dict-item]


def test_the_sweep_has_at_least_200_distinct_cases_in_every_class_of_the_issue(cases: dict) -> None:
    real = [c for k, c in cases.items() if k != "__work__"]
    assert len(real) >= 200 and len({c.id for c in real}) == len(real)
    assert {c.cls for c in real} >= {"numbers", "nesting", "encoding", "size", "links", "paths", "dates", "rules", "outputs", "absurd",
                                     "csv-injection", "batch", "signals", "cli"}


@pytest.mark.parametrize("case_id", CHOSEN)
def test_a_hostile_input_ends_in_an_input_error_with_its_place(cases: dict, case_id: str) -> None:
    case, run, problems = sweep.run_case(cases[case_id], cases["__work__"], CHOSEN.index(case_id))
    assert problems == [], f"{case.id}: {'; '.join(problems)}\n{run.stderr[-800:]}"
