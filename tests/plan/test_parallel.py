"""The naive plan's check beside the solver (a second process) changes nothing in a plan: the same JSON, byte for
byte, as the same plan made in one process."""

from __future__ import annotations

import json
from decimal import Decimal

from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.plan.planning import CheckedBill, plan_raise, plan_rebalance
from taxpack.engine.plan.targets import load_targets
from tests.expected import REPO_ROOT
from tests.plan.helpers import PACKS

SCENARIO = REPO_ROOT / "examples/plan/household.yaml"
TARGETS = REPO_ROOT / "examples/plan/targets.yaml"


def _bytes(result: object) -> str:
    return json.dumps(result.to_json_dict(), sort_keys=True)  # type: ignore[attr-defined]


def test_a_rebalance_is_the_same_beside_and_in_one_process() -> None:
    scenario = load_scenario(SCENARIO)
    targets = load_targets(TARGETS, scenario)
    beside = plan_rebalance(scenario, PACKS, targets, rules_backend="python")
    alone = plan_rebalance(scenario, PACKS, targets, rules_backend="python", parallel=False)
    assert _bytes(beside) == _bytes(alone)
    assert isinstance(beside.naive.check, CheckedBill) and beside.naive.check.household["net_tax"] is not None
    assert beside.engine_tax(beside.naive.check) == alone.engine_tax(alone.naive.check)


def test_a_raise_is_the_same_beside_and_in_one_process_and_without_the_naive_check() -> None:
    scenario = load_scenario(SCENARIO)
    beside = plan_raise(scenario, PACKS, Decimal(5000), "al-brokerage", rules_backend="python")
    alone = plan_raise(scenario, PACKS, Decimal(5000), "al-brokerage", rules_backend="python", parallel=False)
    unchecked = plan_raise(scenario, PACKS, Decimal(5000), "al-brokerage", rules_backend="python", check_naive=False)
    assert _bytes(beside) == _bytes(alone)
    assert unchecked.naive.check is None
    assert json.loads(_bytes(unchecked))["naive"]["household"] is None
    assert json.loads(_bytes(unchecked))["trades"] == json.loads(_bytes(alone))["trades"]
