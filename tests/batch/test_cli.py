"""`taxpack batch`: exit codes (the highest of the households'), the summary, the results equal `taxpack check`'s."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from taxpack.engine.consequences.check import run_check
from taxpack.engine.core.documents import display_path, load_yaml_text
from taxpack.engine.inputs.scenario import build_scenario, load_scenario
from taxpack.engine.law.registry import pack_set
from taxpack.engine.plan.planning import plan_raise
from tests.expected import REPO_ROOT, run_cli

from .helpers import households, jsonl, lines, oversold, small


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


@pytest.fixture(scope="module")
def by_exit() -> dict[int, list[int]]:
    """Seeds of small households by the exit code `taxpack check` gives each one alone (computed, not assumed)."""
    packs = pack_set()
    found: dict[int, list[int]] = {0: [], 1: []}
    for seed in range(40):
        scenario = build_scenario(load_yaml_text(json.dumps(small(seed)), "x.json"), REPO_ROOT)
        found.setdefault(run_check(scenario, packs).exit_code, []).append(seed)
    assert len(found[0]) >= 3 and len(found[1]) >= 2, found
    return found


def _batch(tmp_path: Path, records: list, *extra: str) -> tuple[int, str, Path, dict]:
    source = jsonl(tmp_path / "in.jsonl", records)
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    result = run_cli("batch", "check", str(source), "--out", str(out), "--summary", str(summary), *extra)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr, out, json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}


def test_exit_0_when_every_household_is_ok(tmp_path: Path, by_exit: dict[int, list[int]]) -> None:
    code, stderr, out, summary = _batch(tmp_path, [small(s) for s in by_exit[0][:3]], "--workers", "2")
    assert code == 0
    packs = summary.pop("packs")  # at the default detail level, the run's full pack stamps
    assert summary == {"batch": "check", "households": 3, "ok": 3, "warnings": 0, "blocked": 0, "error": 0, "resumed": 0, "exit_code": 0,
                       "detail": "summary"}
    assert packs["stamps"] == pack_set().stamp() and {r["packs"]["set"] for r in lines(out)} == {packs["set"]}
    assert stderr.startswith("batch check: 3 households: 3 ok, 0 warnings, 0 blocked, 0 errors;")
    assert "ETA" not in stderr  # no progress bar off a terminal


def test_exit_1_when_some_have_warnings(tmp_path: Path, by_exit: dict[int, list[int]]) -> None:
    code, _, out, summary = _batch(tmp_path, [small(s) for s in by_exit[0][:2] + by_exit[1][:2]], "--workers", "1")
    assert code == 1
    assert (summary["ok"], summary["warnings"]) == (2, 2)
    assert [r["exit_code"] for r in lines(out)] == [0, 0, 1, 1]


def test_exit_2_when_one_has_a_blocking_finding(tmp_path: Path, by_exit: dict[int, list[int]]) -> None:
    # A copy of the US pack with one more rule, blocking any sale: only US-lens households with a sale are blocked.
    pack = (REPO_ROOT / "jurisdictions" / "us" / "pack.yaml").read_text(encoding="utf-8")
    pack = pack.replace("\nrules:\n", textwrap.dedent("""
        rules:
          - id: us.test_block_every_sale
            when: {fact: trade.proceeds, gt: 0}
            then: {code: test_block, severity: blocking, message: "sale of {trade.proceeds}", source: irc-1091}
        """), 1)
    folder = tmp_path / "us"
    folder.mkdir()
    (folder / "pack.yaml").write_text(pack, encoding="utf-8")
    us = households.household(3, transactions=20, trades=3, securities=5, residence="US")
    assert any(t["side"] == "sell" for t in us["trades"])
    code, _, out, summary = _batch(tmp_path, [small(by_exit[0][0]), us], "--pack", str(folder), "--workers", "2")
    assert code == 2
    result = lines(out)
    assert [r["status"] for r in result][1] == "blocked"
    # The summary line holds the blocking finding's code (and its severity), not its prose.
    assert any("test_block" in c["findings"].get("blocking", []) for t in result[1]["result"]["trades"] for c in t["consequences"])
    # The line names the pack it used, the edited US pack: its hash is not the bundled one's.
    used = {u.split("@")[0]: u.split("+")[1] for u in result[1]["packs"]["used"]}
    assert used["us"] != {p["id"]: p["sha256"][:12] for p in pack_set().stamp()}["us"]


def test_exit_3_when_some_input_is_wrong_and_the_rest_still_run(tmp_path: Path, by_exit: dict[int, list[int]]) -> None:
    code, stderr, out, summary = _batch(tmp_path, [small(by_exit[1][0]), oversold(3), small(by_exit[0][0])])
    assert code == 3
    assert [r["status"] for r in lines(out)] == ["warnings", "error", "ok"]
    assert "1 ok, 1 warnings, 0 blocked, 1 errors" in stderr


def test_batch_level_errors_exit_3_with_a_message(tmp_path: Path) -> None:
    result = run_cli("batch", "check", str(tmp_path / "missing"), "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 3 and "there is no" in result.stderr
    source = jsonl(tmp_path / "in.jsonl", [small(1)])
    result = run_cli("batch", "plan", str(source), "--out", str(tmp_path / "o.jsonl"), "--raise", "100")
    assert result.exit_code == 3 and "--raise and --account go together" in result.stderr
    result = run_cli("batch", "check", str(source), "--out", str(tmp_path / "o.jsonl"), "--dask", "local:2", "--workers", "2")
    assert result.exit_code == 3 and "--workers is for local runs" in result.stderr
    result = run_cli("batch", "check", str(source), "--out", str(tmp_path / "x.jsonl"), "--dask", "local:x")
    assert result.exit_code == 3 and "local:N" in result.stderr
    assert not (tmp_path / "x.jsonl").exists()


def test_each_result_is_what_taxpack_check_prints_for_that_file(tmp_path: Path) -> None:
    folder = tmp_path / "h"
    folder.mkdir()
    for seed in (11, 12, 13):
        (folder / f"{seed}.json").write_text(json.dumps(small(seed), indent=1), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", "check", str(folder), "--out", str(out), "--detail", "full").exit_code in (0, 1)
    for record, seed in zip(lines(out), (11, 12, 13), strict=True):
        alone = run_cli("check", str(folder / f"{seed}.json"), "--format", "json")
        assert record["result"] == json.loads(alone.stdout)
        assert record["exit_code"] == alone.exit_code
        assert record["source"] == display_path(folder / f"{seed}.json")


def test_batch_plan_raises_cash_in_every_household_as_taxpack_plan_does(tmp_path: Path) -> None:
    seeds = list(range(20, 26))
    source = jsonl(tmp_path / "in.jsonl", [small(s) for s in seeds])
    out_two, out_one = tmp_path / "two.jsonl", tmp_path / "one.jsonl"
    two = run_cli("batch", "plan", str(source), "--out", str(out_two), "--raise", "500", "--account", "p1-taxable", "--workers", "2", "--detail", "full")
    one = run_cli("batch", "plan", str(source), "--out", str(out_one), "--raise", "500", "--account", "p1-taxable", "--workers", "1", "--detail", "full")
    assert out_two.read_bytes() == out_one.read_bytes()
    assert two.exit_code == one.exit_code == max(r["exit_code"] for r in lines(out_one))
    packs = pack_set()
    for record, seed in zip(lines(out_one), seeds, strict=True):
        path = tmp_path / f"{seed}.json"
        path.write_text(json.dumps(small(seed)), encoding="utf-8")
        direct = plan_raise(load_scenario(path), packs, Decimal(500), "p1-taxable").to_json_dict()
        assert record["status"] != "error", record.get("error")
        direct["scenario"] = direct["check"]["scenario"] = record["result"]["scenario"]
        assert record["result"] == json.loads(json.dumps(direct))
        assert record["result"]["kind"] == "raise" and record["result"]["trades"]
        assert all(t["account"] == "p1-taxable" and t["side"] == "sell" for t in record["result"]["trades"])


TARGETS = """\
taxpack: 1
band: 0.05
targets:
  - {group: us-total, weight: 0.5}
  - {group: us-large, weight: 0.3}
  - {security: AAPL, weight: 0.2}
"""


def test_batch_plan_with_one_targets_file_for_every_household(tmp_path: Path) -> None:
    from taxpack.engine.plan.planning import plan_rebalance
    from taxpack.engine.plan.targets import load_targets

    seeds = [41, 42, 43]
    source = jsonl(tmp_path / "in.jsonl", [small(s) for s in seeds])
    targets = tmp_path / "targets.yaml"
    targets.write_text(TARGETS, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run_cli("batch", "plan", str(source), "--out", str(out), "--targets", str(targets), "--workers", "2", "--detail", "full")
    assert result.exit_code == max(r["exit_code"] for r in lines(out)) < 3, result.output
    packs = pack_set()
    for record, seed in zip(lines(out), seeds, strict=True):
        path = tmp_path / f"{seed}.json"
        path.write_text(json.dumps(small(seed)), encoding="utf-8")
        scenario = load_scenario(path)
        direct = plan_rebalance(scenario, packs, load_targets(targets, scenario)).to_json_dict()
        direct["scenario"] = direct["check"]["scenario"] = record["result"]["scenario"]
        assert record["result"] == json.loads(json.dumps(direct))
        # Every target ends within the band (the plan's own drift, checked here against the file's 0.05).
        assert all(abs(Decimal(v)) <= Decimal("0.05") for v in record["result"]["drift"].values())


def test_a_target_a_household_lacks_is_that_households_error_at_the_targets_place(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", [small(41), small(42)])
    targets = tmp_path / "targets.yaml"
    # Households of 5 securities hold the first five of the pool; XIC is not among them.
    targets.write_text(TARGETS.replace("  - {security: AAPL, weight: 0.2}", "  - {security: AAPL, weight: 0.1}\n  - {security: XIC, weight: 0.1}"),
                       encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", "plan", str(source), "--out", str(out), "--targets", str(targets)).exit_code == 3
    for record in lines(out):
        assert record["status"] == "error"
        assert record["error"]["message"].startswith(f"{display_path(targets)}:7:5: error: security 'XIC' is not in the scenario")
