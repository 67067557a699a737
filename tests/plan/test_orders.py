"""`--orders FILE.csv` of `taxpack plan` and `taxpack harvest`: broker-ready lines, checked against the plan,
the harvest candidates and the scenario's purchases; cells escaped against formula injection; the file
written whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from taxpack.engine.core.csv_safe import csv_safe
from taxpack.engine.report.orders import COLUMNS, OrderLine, render_orders_csv
from tests.expected import REPO_ROOT, run_cli

PLAN = ("examples/plan/household.yaml", "--targets", "examples/plan/targets.yaml")
HOUSEHOLD = "examples/household/scenario.yaml"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def purchases(scenario: str) -> dict[str, dict]:
    import yaml

    data = yaml.safe_load((REPO_ROOT / scenario).read_text(encoding="utf-8"))
    return {t["id"]: t for t in data["transactions"] if t["side"] == "buy"}


def test_plan_orders_are_the_plan_lot_by_lot_with_the_purchases_and_the_repurchase_windows(tmp_path: Path) -> None:
    out = tmp_path / "orders.csv"
    result = run_cli("plan", *PLAN, "--format", "json", "--orders", str(out), "--limit", "VTI=305")
    assert result.exit_code in (0, 1), result.output
    plan = json.loads(result.output)
    lines = rows(out)
    bought = purchases(PLAN[0])
    # Every sale's lines add up to the trade, in the trade's account and security; every purchase is one line.
    for t in plan["trades"]:
        mine = [r for r in lines if r["source"] == t["id"] and r["kind"] == t["side"]]
        assert sum(Decimal(r["quantity"]) for r in mine) == Decimal(t["quantity"])
        assert {(r["account"], r["security"]) for r in mine} == {(t["account"], t["security"])}
        assert all(r["limit_price"] == ("305" if t["security"] == "VTI" else "") for r in mine)
        if t["side"] == "sell" and isinstance(t.get("lots"), list):
            assert [(r["lot"], r["quantity"]) for r in mine] == [(l["transaction"], l["quantity"]) for l in t["lots"]]
    # A named lot is described by its purchase in the scenario (date, unit price, cost of the units sold).
    named = [r for r in lines if r["lot"]]
    assert named, "the example's plan sells VTI lot t2 in al-brokerage"
    for r in named:
        p = bought[r["lot"]]
        assert r["lot_acquired"] == str(p["date"]) and Decimal(r["lot_price"]) == Decimal(str(p["price"]))
        assert Decimal(r["lot_cost"]) == (Decimal(str(p["price"])) * Decimal(r["quantity"])).quantize(Decimal("0.01"))
    # The order of the file: sales, purchases, then the do-not-buy lines.
    kinds = [r["kind"] for r in lines]
    assert kinds == sorted(kinds, key=["sell", "buy", "do_not_buy"].index)
    # Each do-not-buy line is a repurchase window of a sale of the plan: account and security watched, first free day.
    windows = {(a, s, h["rule"], h["free_from"]) for t in plan["check"]["trades"] for h in t.get("repurchase_horizon") or []
               for a in h["accounts"] for s in h["securities"]}
    holds = [r for r in lines if r["kind"] == "do_not_buy"]
    assert holds and {(r["account"], r["security"], r["rule"], r["do_not_buy_before"]) for r in holds} == windows
    assert all(dt.date.fromisoformat(r["do_not_buy_before"]) > dt.date.fromisoformat(plan["as_of"]) for r in holds)


def test_harvest_orders_sell_each_holding_once_and_keep_every_window(tmp_path: Path) -> None:
    out = tmp_path / "orders.csv"
    result = run_cli("harvest", HOUSEHOLD, "--format", "json", "--orders", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    lines = rows(out)
    sells = [r for r in lines if r["kind"] == "sell"]
    holdings = {(c["account"], c["security"]) for c in data["candidates"]}
    # The example's XIC in ca-taxable is a candidate under both the CA and the US lens: sold once.
    assert sorted((r["account"], r["security"]) for r in sells) == sorted(holdings)
    xic = [r for r in sells if r["security"] == "XIC"]
    assert [(r["lot"], r["quantity"], r["lot_acquired"]) for r in xic] == [("b-xic-1", "400", "2025-06-02")]
    assert "CA/alice" in xic[0]["note"] and "US/alice" in xic[0]["note"]
    # Fees of the purchase go into the lot's cost (400 x 42.00 + 9.95).
    assert xic[0]["lot_cost"] == "16809.95"
    windows = {(c["jurisdiction"], h["rule"], a, s, h["free_from"]) for c in data["candidates"] for h in c["do_not_buy_back"]
               for a in h["accounts"] for s in h["securities"]}
    holds = {(r["jurisdiction"], r["rule"], r["account"], r["security"], r["do_not_buy_before"]) for r in lines if r["kind"] == "do_not_buy"}
    assert holds == windows


def test_orders_are_the_same_bytes_on_a_rerun(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    run_cli("harvest", HOUSEHOLD, "--format", "json", "--orders", str(first))
    run_cli("harvest", HOUSEHOLD, "--format", "json", "--orders", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_the_file_is_replaced_whole_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    out = tmp_path / "orders.csv"
    out.write_text("an older file\n" * 1000, encoding="utf-8")
    run_cli("harvest", HOUSEHOLD, "--format", "json", "--orders", str(out))
    assert out.read_text(encoding="utf-8").startswith(",".join(COLUMNS) + "\n")
    assert "an older file" not in out.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]


def test_an_orders_file_in_a_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    result = run_cli("harvest", HOUSEHOLD, "--format", "json", "--orders", str(tmp_path / "nowhere" / "orders.csv"))
    assert result.exit_code == 3
    assert "does not exist" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("args", [("--limit", "NOPE=10"), ("--limit", "VTI"), ("--limit", "VTI=-1")])
def test_a_wrong_limit_is_an_input_error(args: tuple[str, ...], tmp_path: Path) -> None:
    """Exit 3 from the command as installed (a usage error is an input error), nothing written."""
    result = subprocess.run([sys.executable, "-m", "taxpack.cli", "harvest", HOUSEHOLD, "--orders", str(tmp_path / "o.csv"), *args],
                            cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert "--limit" in result.stderr
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("cell,written", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+1", "'+1+1"), ("-1+cmd", "'-1+cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("-1000.00", "-1000.00"), ("+5", "+5"), ("VTI", "VTI"), (None, ""), ("", ""),
])
def test_csv_safe(cell: str | None, written: str) -> None:
    assert csv_safe(cell) == written


def test_order_cells_are_escaped() -> None:
    text = render_orders_csv([OrderLine("sell", "=cmd|' /C calc'!A0", "@VTI", "10", note="-2+3")])
    (row,) = list(csv.DictReader(text.splitlines()))
    assert (row["account"], row["security"], row["quantity"], row["note"]) == ("'=cmd|' /C calc'!A0", "'@VTI", "10", "'-2+3")
