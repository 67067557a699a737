"""Households that carry their own plan request: {scenario: ..., plan: {raise, account} or {targets}}."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from taxpack.engine.consequences.check import run_check
from taxpack.engine.consequences.serialize import to_json_dict
from taxpack.engine.core.documents import display_path
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set
from taxpack.engine.plan.planning import plan_raise, plan_rebalance
from taxpack.engine.plan.targets import load_targets
from tests.expected import run_cli

from .helpers import jsonl, lines, small
from .test_cli import TARGETS


def _direct(tmp_path: Path, seed: int) -> object:
    path = tmp_path / f"{seed}.json"
    path.write_text(json.dumps(small(seed)), encoding="utf-8")
    return load_scenario(path)


def _same(record: dict, direct: dict) -> None:
    direct["scenario"] = direct["check"]["scenario"] = record["result"]["scenario"]
    assert record["result"] == json.loads(json.dumps(direct))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    (tmp_path / "model.yaml").write_text(TARGETS, encoding="utf-8")
    return jsonl(tmp_path / "in.jsonl", [
        {"scenario": small(41), "plan": {"raise": "500", "account": "p1-taxable"}},
        {"scenario": small(42), "plan": {"targets": yaml.safe_load(TARGETS)}},
        {"scenario": small(43), "plan": {"raise": "500"}},
        {"scenario": small(43), "plan": {"targets": "model.yaml", "gap": "5"}},
        small(44),
        {"scenario": small(45), "plans": {}},
    ])


def test_each_household_gets_its_own_plan(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", "plan", str(source), "--out", str(out), "--workers", "2", "--detail", "full").exit_code == 3
    result = lines(out)
    raw = source.read_text(encoding="utf-8").splitlines()
    shown = display_path(source)
    packs = pack_set()
    _same(result[0], plan_raise(_direct(tmp_path, 41), packs, Decimal(500), "p1-taxable").to_json_dict())
    scenario = _direct(tmp_path, 42)
    _same(result[1], plan_rebalance(scenario, packs, load_targets(tmp_path / "model.yaml", scenario)).to_json_dict())
    col = raw[2].index('{"raise"') + 1  # the plan mapping
    assert result[2]["error"]["message"] == f"{shown}:3:{col}: error: `raise` and `account` go together (expected raise: AMOUNT with account: ID)"
    scenario = _direct(tmp_path, 43)
    _same(result[3], plan_rebalance(scenario, packs, load_targets(tmp_path / "model.yaml", scenario), gap=Decimal(5)).to_json_dict())
    assert result[4]["error"]["message"].startswith(f"{shown}:5: error: nothing to plan")  # no request at all: placed at the household
    col = raw[5].index('"plans"') + 1
    assert result[5]["error"]["message"].startswith(f"{shown}:6:{col}: schema error: unknown key 'plans' beside `scenario`")
    assert [r["household"] for r in result] == ["household-41", "household-42", "household-43", "household-43", "household-44", "household-45"]


def test_the_command_lines_request_serves_households_without_their_own(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "out.jsonl"
    run_cli("batch", "plan", str(source), "--out", str(out), "--raise", "700", "--account", "p1-taxable", "--detail", "full")
    result = lines(out)
    _same(result[4], plan_raise(_direct(tmp_path, 44), pack_set(), Decimal(700), "p1-taxable").to_json_dict())
    assert result[0]["result"]["kind"] == "raise" and result[1]["result"]["kind"] == "rebalance"  # their own requests win


def test_batch_check_reads_the_scenario_of_a_household_with_a_plan(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "out.jsonl"
    run_cli("batch", "check", str(source), "--out", str(out), "--workers", "1", "--detail", "full")
    result = lines(out)
    assert [r["status"] == "error" for r in result] == [False] * 5 + [True]
    direct = to_json_dict(run_check(_direct(tmp_path, 41), pack_set()))
    direct["scenario"] = result[0]["result"]["scenario"]
    assert result[0]["result"] == json.loads(json.dumps(direct))


def test_an_inline_targets_mistake_is_placed_in_the_input(tmp_path: Path) -> None:
    targets = yaml.safe_load(TARGETS)
    targets["targets"][2] = {"security": "XIC", "weight": "0.2"}
    source = jsonl(tmp_path / "in.jsonl", [small(41), {"scenario": small(41), "plan": {"targets": targets}}])
    out = tmp_path / "out.jsonl"
    run_cli("batch", "plan", str(source), "--out", str(out), "--raise", "500", "--account", "p1-taxable")
    second = lines(out)[1]
    col = source.read_text(encoding="utf-8").splitlines()[1].index('{"security": "XIC"') + 1
    assert second["error"]["message"].startswith(f"{display_path(source)}:2:{col}: error: security 'XIC' is not in the scenario")
