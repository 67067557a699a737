"""`taxpack check`: every format, every exit code, bad input with the place, byte-identical reruns."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

import pytest

from tests.expected import REPO_ROOT, run_cli

EXAMPLE = "examples/household/scenario.yaml"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


HOUSEHOLD = """
taxpack: 1
as_of: 2026-03-02
taxpayers:
  - {id: ann, residence: US, citizenship: [US], filing_status: single, other_income: {US: 40000}}
accounts:
  - {id: brk, owner: ann, country: US, currency: USD}
securities:
  - {id: AAA, currency: USD, country: US, kind: share}
transactions:
  - {id: b1, account: brk, security: AAA, date: 2024-01-10, side: buy, quantity: 10, price: 100, fees: 0}
"""


def household(tmp: Path, trades: str, extra: str = "") -> Path:
    return write(tmp, "s.yaml", HOUSEHOLD + extra + "trades:\n" + textwrap.indent(textwrap.dedent(trades).strip() + "\n", "  "))


# -- formats -------------------------------------------------------------------------------------

def test_json_has_the_documented_names() -> None:
    result = run_cli("check", EXAMPLE, "--format", "json")
    data = json.loads(result.stdout)
    assert {"packs", "trades", "positions", "summary"} <= set(data)
    assert all({"id", "version", "sha256"} <= set(p) for p in data["packs"])
    consequence = data["trades"][0]["consequences"][0]
    for key in ("jurisdiction", "currency", "proceeds", "cost", "gain", "disallowed_loss", "term", "lots", "findings"):
        assert key in consequence
    finding = next(f for t in data["trades"] for c in t["consequences"] for f in c["findings"])
    assert {"code", "severity", "message", "rule", "citation"} <= set(finding)
    assert isinstance(consequence["gain"], str)  # amounts are decimal strings


def test_the_example_shows_what_it_promises() -> None:
    """A wash sale across accounts, a superficial loss through the TFSA, a loss in USD that is a gain in CAD,
    and withholding leakage in the TFSA."""
    data = json.loads(run_cli("check", EXAMPLE, "--format", "json").stdout)
    trades = {t["id"]: {c["jurisdiction"]: c for c in t["consequences"]} for t in data["trades"]}
    codes = lambda t, j: [f["code"] for f in trades[t][j]["findings"]]  # noqa: E731
    assert "wash_sale" in codes("t1", "US")
    assert "superficial_loss" in codes("t2", "CA")
    assert float(trades["t3"]["US"]["gain"]) < 0 < float(trades["t3"]["CA"]["gain"])  # sign only: the figures are in tests/lots
    assert "withholding_leakage" in codes("t4", "CA")
    assert "withholding_leakage" not in codes("t5", "CA")


def test_csv_is_one_row_per_trade_and_lens() -> None:
    data = json.loads(run_cli("check", EXAMPLE, "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(run_cli("check", EXAMPLE, "--format", "csv").stdout)))
    assert len(rows) == sum(len(t["consequences"]) for t in data["trades"])
    assert {(r["trade"], r["jurisdiction"]) for r in rows} == {(t["id"], c["jurisdiction"]) for t in data["trades"] for c in t["consequences"]}


def test_table_and_markdown_have_one_block_per_trade() -> None:
    table = run_cli("check", EXAMPLE, "--format", "table").stdout
    markdown = run_cli("check", EXAMPLE, "--format", "markdown").stdout
    for trade in ("t1", "t2", "t3", "t4", "t5", "t6"):
        assert f"\n{trade}  " in table
        assert f"\n## {trade}: " in markdown
    assert "by country" in table and "## By country" in markdown


def test_explain_shows_conditions_and_rates() -> None:
    out = run_cli("check", EXAMPLE, "--format", "table", "--explain").stdout
    assert "USD/CAD" in out
    assert "(held)" in out  # a rule's condition with the value seen


def test_same_inputs_give_byte_identical_json() -> None:
    first = run_cli("check", EXAMPLE, "--format", "json").stdout
    second = run_cli("check", EXAMPLE, "--format", "json").stdout
    assert first == second


def test_record_replays_to_the_same_bytes(tmp_path: Path) -> None:
    record = tmp_path / "audit.json"
    result = run_cli("check", EXAMPLE, "--format", "json", "--record", str(record))
    saved = json.loads(record.read_text(encoding="utf-8"))
    assert saved["output"] == json.loads(result.stdout)
    assert saved["packs"] == json.loads(result.stdout)["packs"]
    assert [i["path"] for i in saved["inputs"]] == [EXAMPLE]
    again = tmp_path / "again.json"
    run_cli("check", EXAMPLE, "--format", "json", "--record", str(again))
    assert again.read_bytes() == record.read_bytes()


# -- exit codes ----------------------------------------------------------------------------------

def test_exit_0_when_nothing_to_flag(tmp_path: Path) -> None:
    path = household(tmp_path, "- {id: t1, account: brk, security: AAA, date: 2026-03-02, side: sell, quantity: 5, price: 150}")
    result = run_cli("check", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    us = data["trades"][0]["consequences"][0]
    # 5 units bought at 100 on 2024-01-10, sold at 150: gain 250, long term; 2026 single, other income 40,000: 0% bracket
    assert (us["gain"], us["term"], us["estimated_tax"]) == ("250.00", "long", "0.00")


def test_exit_1_on_warnings() -> None:
    assert run_cli("check", EXAMPLE, "--format", "json").exit_code == 1


def test_exit_2_on_a_blocking_finding(tmp_path: Path) -> None:
    pack = (REPO_ROOT / "jurisdictions" / "us" / "pack.yaml").read_text(encoding="utf-8")
    pack = pack.replace("\nrules:\n", textwrap.dedent("""
        rules:
          - id: us.test_block_large_sale
            when: {fact: trade.proceeds, gt: 500}
            then: {code: large_sale, severity: blocking, message: "sale of {trade.proceeds}", source: irc-1091}
        """), 1)
    folder = tmp_path / "us"
    folder.mkdir()
    (folder / "pack.yaml").write_text(pack, encoding="utf-8")
    path = household(tmp_path, "- {id: t1, account: brk, security: AAA, date: 2026-03-02, side: sell, quantity: 5, price: 150}")
    result = run_cli("check", str(path), "--format", "json", "--pack", str(folder))
    assert result.exit_code == 2, result.output
    assert "large_sale" in result.stdout


# -- bad input: the place, exit 3, nothing written -----------------------------------------------

def _bad(tmp_path: Path, path: Path, *extra: str) -> str:
    record = tmp_path / "record.json"
    result = run_cli("check", str(path), "--format", "json", "--record", str(record), *extra)
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert not record.exists()
    assert "Traceback" not in result.output
    return result.stderr.strip()


def test_unknown_account(tmp_path: Path) -> None:
    path = household(tmp_path, "- {id: t1, account: nope, security: AAA, date: 2026-03-02, side: sell, quantity: 5, price: 150}")
    message = _bad(tmp_path, path)
    assert message == f"{path}:12:23: error: trade 't1': unknown account 'nope' (expected one of brk)"


def test_selling_more_than_is_held(tmp_path: Path) -> None:
    path = household(tmp_path, "- {id: t1, account: brk, security: AAA, date: 2026-03-02, side: sell, quantity: 50, price: 150}")
    message = _bad(tmp_path, path)
    assert message.startswith(f"{path}:12:5: ") and "exceeds the 10 held" in message, message


def test_a_date_no_pack_covers(tmp_path: Path) -> None:
    path = household(tmp_path, "- {id: t1, account: brk, security: AAA, date: 2027-03-02, side: sell, quantity: 5, price: 150}")
    message = _bad(tmp_path, path)
    assert message.startswith(f"{path}:12:5: ") and "no pack covers 2027-03-02" in message, message


def test_a_currency_with_no_rate(tmp_path: Path) -> None:
    path = household(tmp_path, "- {id: t1, account: brk, security: AAA, date: 2026-03-02, side: sell, quantity: 5, price: 150, currency: XAU}")
    message = _bad(tmp_path, path)
    assert message.startswith(f"{path}:12:5: ") and "XAU/USD" in message, message


def test_a_malformed_csv_row(tmp_path: Path) -> None:
    path = write(tmp_path, "h.yaml", HOUSEHOLD.split("transactions:")[0])
    tx = write(tmp_path, "tx.csv", """
        id,account,security,date,side,quantity,price,fees
        b1,brk,AAA,2024-01-10,buy,10,100,0
        b2,brk,AAA,2024-02-10,buy,ten,100,0
        """)
    trades = write(tmp_path, "tr.csv", """
        id,account,security,date,side,quantity,price,fees,lots
        t1,brk,AAA,2026-03-02,sell,5,150,0,fifo
        """)
    message = _bad(tmp_path, path, "--transactions", str(tx), "--trades", str(trades))
    assert message == f"{tx}:3: column 'quantity': parse error: 'ten' is not a decimal number (expected a decimal number such as 12.50)"


def test_csv_inputs_give_the_same_result_as_yaml(tmp_path: Path) -> None:
    yaml_path = household(tmp_path, "- {id: t1, account: brk, security: AAA, date: 2026-03-02, side: sell, quantity: 5, price: 150, lots: fifo}")
    path = write(tmp_path, "h.yaml", HOUSEHOLD.split("transactions:")[0])
    tx = write(tmp_path, "tx.csv", "id,account,security,date,side,quantity,price,fees\nb1,brk,AAA,2024-01-10,buy,10,100,0\n")
    trades = write(tmp_path, "tr.csv", "id,account,security,date,side,quantity,price,fees,lots\nt1,brk,AAA,2026-03-02,sell,5,150,0,fifo\n")
    a = json.loads(run_cli("check", str(yaml_path), "--format", "json").stdout)
    b = json.loads(run_cli("check", str(path), "--transactions", str(tx), "--trades", str(trades), "--format", "json").stdout)
    assert a["trades"] == b["trades"] and a["positions"] == b["positions"]
