"""`taxpack plan` and `taxpack harvest`: every format, the plot, bad input with its place, byte-identical reruns."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.expected import REPO_ROOT, run_cli

SCENARIO = "examples/plan/household.yaml"
TARGETS = "examples/plan/targets.yaml"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def test_plan_json_is_checked_and_compared_with_the_naive_plan() -> None:
    result = run_cli("plan", SCENARIO, "--targets", TARGETS, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    assert data["kind"] == "rebalance" and data["currency"] == "USD"
    assert data["trades"], "the example is outside its band: something must trade"
    # Every planned trade was run through taxpack check, in the same order.
    assert [t["id"] for t in data["check"]["trades"]] == [t["id"] for t in data["trades"]]
    assert data["solver"]["status"] == "Optimal"
    assert Decimal(data["solver"]["gap"]) <= Decimal(data["solver"]["gap_limit"])
    assert Decimal(data["tax"]["total"]) <= Decimal(data["naive"]["tax"]["total"])
    parts = Decimal(data["naive"]["tax"]["total"]) + Decimal(data["naive"]["tax"]["leakage_change"]) \
        - Decimal(data["tax"]["total"]) - Decimal(data["tax"]["leakage_change"])
    assert abs(Decimal(data["saving"]) - parts) <= Decimal("0.02")  # each figure is rounded to the cent
    assert all(abs(Decimal(v)) <= Decimal(data["band"]) for v in data["drift"].values())
    assert all(Decimal(v) >= 0 for v in data["cash_left"].values())
    # Whole shares: no security of the example is fractional.
    assert all(Decimal(t["quantity"]) == Decimal(t["quantity"]).to_integral_value() for t in data["trades"])
    # Restricted ITOT is never bought.
    assert not [t for t in data["trades"] if t["security"] == "ITOT" and t["side"] == "buy"]


def test_plan_output_is_byte_identical_on_rerun() -> None:
    first = run_cli("plan", SCENARIO, "--targets", TARGETS, "--format", "json")
    second = run_cli("plan", SCENARIO, "--targets", TARGETS, "--format", "json")
    assert first.output == second.output


@pytest.mark.parametrize("fmt, marker", [("table", "net bill of the year"), ("markdown", "# taxpack plan"), ("csv", "id,side,account")])
def test_plan_text_formats(fmt: str, marker: str) -> None:
    result = run_cli("plan", SCENARIO, "--targets", TARGETS, "--format", fmt)
    assert result.exit_code in (0, 1), result.output
    assert marker in result.output
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.output)))
        assert rows and all(r["side"] in ("buy", "sell") for r in rows)


def test_plan_raise_sells_only_in_the_account() -> None:
    result = run_cli("plan", SCENARIO, "--raise", "5000", "--account", "al-brokerage", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    assert data["kind"] == "raise"
    assert {(t["side"], t["account"]) for t in data["trades"]} == {("sell", "al-brokerage")}
    assert Decimal(data["cash_left"]["al-brokerage"]) >= 0
    # Nothing superfluous: without any one unit sold the 5,000 would not be reached.
    cheapest = min(Decimal(t["price"]) for t in data["trades"])
    assert Decimal(data["cash_left"]["al-brokerage"]) < cheapest


def test_plot_is_a_png(tmp_path: Path) -> None:
    target = tmp_path / "bands.png"
    result = run_cli("plan", SCENARIO, "--targets", TARGETS, "--format", "json", "--plot", str(target))
    assert result.exit_code in (0, 1), result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nothing_to_plan_is_an_input_error() -> None:
    result = run_cli("plan", SCENARIO)
    assert result.exit_code == 3
    assert "nothing to plan" in result.output


def test_raise_needs_an_account() -> None:
    result = run_cli("plan", SCENARIO, "--raise", "100")
    assert result.exit_code == 3
    assert "--raise and --account go together" in result.output


def test_targets_error_names_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "targets.yaml"
    bad.write_text("taxpack: 1\ntargets:\n  - {security: VTI, weight: 0.5}\n  - {security: NOPE, weight: 0.4}\n", encoding="utf-8")
    result = run_cli("plan", SCENARIO, "--targets", str(bad))
    assert result.exit_code == 3
    assert "targets.yaml:4:5: error: security 'NOPE' is not in the scenario" in result.output
    assert "targets.yaml:3:3: error: the target weights add up to 0.9, not 1" in result.output


def test_targets_schema_error_names_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "targets.yaml"
    bad.write_text("taxpack: 1\nband: 2\ntargets:\n  - {security: VTI, weight: 1}\n", encoding="utf-8")
    result = run_cli("plan", SCENARIO, "--targets", str(bad))
    assert result.exit_code == 3
    assert "targets.yaml:2:7: schema error: band: 2 is out of range (expected at most 1)" in result.output


def test_harvest_json_and_table() -> None:
    result = run_cli("harvest", SCENARIO, "--targets", TARGETS, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    vti = [c for c in data["candidates"] if c["security"] == "VTI"]
    assert vti and vti[0]["lots"] == [{"transaction": "t2", "quantity": "60"}]
    # Bought at 335, worth 310: a loss of 25 a unit on 60 units.
    assert vti[0]["loss"] == "1500.00"
    assert "VTI" not in vti[0]["replacements"] and "ITOT" not in vti[0]["replacements"]
    assert {h["until"] for h in vti[0]["do_not_buy_back"]} == {"2026-04-01"}
    table = run_cli("harvest", SCENARIO, "--targets", TARGETS, "--format", "table")
    assert "do not rebuy" in table.output and "household" in table.output


def test_harvest_price_option_is_checked() -> None:
    result = run_cli("harvest", SCENARIO, "--price", "VTI")
    assert result.exit_code == 2
    assert "SECURITY=PRICE" in result.output


def test_a_target_without_any_price_is_named(tmp_path: Path) -> None:
    targets = tmp_path / "targets.yaml"
    targets.write_text("taxpack: 1\ntargets:\n  - {security: VTI, weight: 0.5}\n  - {security: ITOT, weight: 0.5}\n", encoding="utf-8")
    result = run_cli("plan", SCENARIO, "--targets", str(targets))
    assert result.exit_code == 3
    assert "targets.yaml:4:5: error: target ITOT has no price for any of its members (ITOT)" in result.output


@pytest.mark.parametrize("fmt, marker", [("csv", "jurisdiction,taxpayer,account"), ("markdown", "# taxpack harvest")])
def test_harvest_text_formats(fmt: str, marker: str) -> None:
    result = run_cli("harvest", SCENARIO, "--targets", TARGETS, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert marker in result.output
    assert "VTI" in result.output
