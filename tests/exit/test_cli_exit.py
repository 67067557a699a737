"""`taxpack exit`: formats, prices from a CSV or the scenario, errors with their place, byte-identical reruns."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.expected import REPO_ROOT, run_cli

EXAMPLE = "examples/household/scenario.yaml"
PRICES = """\
security,date,price,currency
VTI,2026-06-30,320.00,USD
ITOT,2026-06-30,150.00,USD
XIC,2026-06-30,45.00,CAD
MSFT,2026-06-30,450.00,USD
SAP,2026-06-30,220.00,EUR
"""


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def prices_file(tmp_path: Path, text: str = PRICES) -> str:
    path = tmp_path / "prices.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def exit_args(tmp_path: Path, *extra: str) -> list[str]:
    return ["exit", EXAMPLE, "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--prices", prices_file(tmp_path), *extra]


def test_json_leaving_canada_for_the_us(tmp_path):
    result = run_cli(*exit_args(tmp_path, "--format", "json", "--compare"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    dep = data["departure"]
    assert data["move"] == {"from": "CA", "to": "US", "date": "2026-07-01", "valuation_date": "2026-06-30"}
    assert dep["exit_tax_applies"] is True and dep["pack"].startswith("ca@") and dep["citation"].startswith("ITA s.128.1(4)(b)")
    status = {(h["security"], h["pool"]): h["status"] for h in dep["holdings"]}
    assert status[("XIC", "tfsa")] == "excluded" and status[("VTI", "taxable accounts")] == "deemed_sold"
    # The estimate is the deemed gains, half taxable, at the 43.41% marginal rate given in the scenario.
    gains = sum(Decimal(h["deemed_gain"]) for h in dep["holdings"] if h["status"] == "deemed_sold")
    assert gains == Decimal(dep["totals"]["deemed_gain"])
    assert abs(Decimal(dep["totals"]["tax"]) - gains * Decimal("0.5") * Decimal("0.4341")) <= Decimal("0.01")
    assert {r["form"] for r in dep["reporting"]} == {"T1161", "T1243"}
    assert data["arrival"]["pack"].startswith("us@")
    rules = {(h["security"], tuple(h["accounts"])): h["rule"] for h in data["arrival"]["holdings"]}
    assert rules[("VTI", ("us-brokerage",))] == "election" and rules[("XIC", ("tfsa",))] == "historical"
    assert [r["security"] for r in data["compare"]] == ["ITOT", "MSFT", "SAP", "VTI", "XIC"]


def test_table_and_markdown(tmp_path):
    table = run_cli(*exit_args(tmp_path, "--format", "table", "--compare"))
    assert table.exit_code == 0 and "alice leaves CA for US on 2026-07-01" in table.output
    assert "Reporting: Form T1161: required" in table.output and "Sell before or after the move" in table.output
    markdown = run_cli(*exit_args(tmp_path, "--format", "markdown"))
    assert markdown.exit_code == 0 and markdown.output.startswith("# alice leaves CA for US")
    assert "| security | pool | quantity |" in markdown.output


def test_byte_identical_reruns(tmp_path):
    first = run_cli(*exit_args(tmp_path, "--format", "json", "--compare")).output
    assert first == run_cli(*exit_args(tmp_path, "--format", "json", "--compare")).output


def test_missing_price_names_the_security(tmp_path):
    result = run_cli("exit", EXAMPLE, "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US",
                     "--prices", prices_file(tmp_path, PRICES.replace("SAP,2026-06-30,220.00,EUR\n", "")))
    assert result.exit_code == 3
    assert "no price for SAP on 2026-06-30" in result.output and "never guessed" in result.output


def test_each_missing_price_is_said_once(tmp_path):
    # XIC is held in two pools (taxable and TFSA): one error for it, with every other security's.
    result = run_cli("exit", EXAMPLE, "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US",
                     "--prices", prices_file(tmp_path, "security,date,price,currency\n"))
    assert result.exit_code == 3
    assert result.output.count("no price for XIC") == 1
    assert all(f"no price for {s} " in result.output for s in ("VTI", "ITOT", "MSFT", "SAP"))


def test_bad_price_cell_says_row_and_column(tmp_path):
    result = run_cli("exit", EXAMPLE, "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US",
                     "--prices", prices_file(tmp_path, PRICES.replace("320.00", "lots")))
    assert result.exit_code == 3
    assert "prices.csv:2: column 'price'" in result.output


def test_unknown_taxpayer_and_no_move(tmp_path):
    result = run_cli("exit", EXAMPLE, "--taxpayer", "zoe", "--date", "2026-07-01", "--to", "US", "--prices", prices_file(tmp_path))
    assert result.exit_code == 3 and "unknown taxpayer 'zoe'" in result.output
    result = run_cli("exit", EXAMPLE, "--taxpayer", "alice", "--date", "2026-07-01", "--to", "CA", "--prices", prices_file(tmp_path))
    assert result.exit_code == 3 and "no move to simulate" in result.output


def test_bad_stake_is_a_usage_error(tmp_path):
    result = run_cli(*exit_args(tmp_path, "--stake", "SAP=two"))
    assert result.exit_code != 0 and "SECURITY=SHARE" in result.output  # 3 from the installed command (main maps usage errors)


def test_prices_from_the_scenario(tmp_path):
    text = (REPO_ROOT / EXAMPLE).read_text(encoding="utf-8")
    rows = [line.split(",") for line in PRICES.splitlines()[1:]]
    block = "prices:\n" + "".join(f"  - {{security: {s}, date: {d}, price: {p}, currency: {c}}}\n" for s, d, p, c in rows)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(text + block, encoding="utf-8")
    # the example reads its dividends from a file beside it
    (tmp_path / "dividends.yaml").write_text((REPO_ROOT / EXAMPLE).with_name("dividends.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    from_scenario = run_cli("exit", str(scenario), "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--format", "json")
    assert from_scenario.exit_code == 0, from_scenario.output
    from_csv = run_cli(*exit_args(tmp_path, "--format", "json"))
    strip = lambda out: {k: v for k, v in json.loads(out).items() if k != "scenario"}  # noqa: E731
    assert strip(from_scenario.output)["departure"] == strip(from_csv.output)["departure"]


def test_help_lists_the_command():
    result = run_cli("--help")
    assert "exit" in result.output
    result = run_cli("exit", "--help")
    assert "--compare" in result.output and "--prices" in result.output


def test_unknown_stake_security(tmp_path):
    result = run_cli(*exit_args(tmp_path, "--stake", "NOPE=0.1"))
    assert result.exit_code == 3 and "--stake names unknown security NOPE" in result.output


def test_history_from_a_csv(tmp_path):
    household = tmp_path / "household.yaml"
    household.write_text(
        "taxpack: 1\nas_of: 2026-03-02\n"
        "taxpayers:\n  - {id: ann, residence: CA, marginal_rate: {CA: 0.5}}\n"
        "accounts:\n  - {id: cash, owner: ann, country: CA, currency: CAD}\n"
        "securities:\n  - {id: XIC, currency: CAD, country: CA, kind: etf}\n", encoding="utf-8")
    history = tmp_path / "tx.csv"
    history.write_text("id,account,security,date,side,quantity,price\n"
                       "b1,cash,XIC,2021-06-01,buy,20,40.00\n", encoding="utf-8")
    result = run_cli("exit", str(household), "--taxpayer", "ann", "--date", "2026-07-01", "--to", "US",
                     "--transactions", str(history), "--prices", prices_file(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output
    dep = json.loads(result.output)["departure"]
    # 20 x (45 - 40) = 100 deemed gain; 50 taxable at 50%.
    assert [(h["security"], h["deemed_gain"]) for h in dep["holdings"]] == [("XIC", "100.00")]
    assert dep["totals"]["tax"] == "25.00"
