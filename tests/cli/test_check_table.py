"""`taxpack check` for a reader (issue 18): the terminal table, `--explain TRADE`, and the CSV and Markdown
that carry the household's net tax.

Golden files at 100 columns without colour (tests/cli/expected/check.txt, check-explain-t6.txt;
`TAXPACK_UPDATE_EXPECTED=1` rewrites them, then read the diff). Besides the golden files, each figure the
table shows is checked against the JSON of the same run (net tax first, the household at the top, the
timing advice), each caveat is written once, and every line fits.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import os
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from taxpack.engine.report.check_formats import CSV_COLUMNS, render_csv
from taxpack.engine.report.check_table import BASIS, amount, check_tables, explain_trade, timing_line
from tests.cli.test_terminal_tables import ANSI, _on_terminal, check_notes
from tests.expected import REPO_ROOT, run_cli

EXAMPLE = "examples/household/scenario.yaml"
EXPECTED = Path(__file__).resolve().parent / "expected"
UPDATE = os.environ.get("TAXPACK_UPDATE_EXPECTED") == "1"
# The CSV's columns before issue 18: their positions are a contract with the files' readers.
CSV_COLUMNS_BEFORE = [
    "trade", "account", "security", "date", "side", "quantity", "jurisdiction", "basis", "currency", "taxable",
    "method", "proceeds", "cost", "gain", "disallowed_loss", "recognized_gain", "term", "estimated_tax",
    "estimate_missing", "findings", "worst_severity",
]


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setenv("COLUMNS", "100")  # the width a table takes off a terminal (shutil.get_terminal_size)


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)
    try:
        return json.loads(run_cli("check", EXAMPLE, "--format", "json").stdout)
    finally:
        os.chdir(cwd)


def flat(text: str) -> str:
    """The text with every run of white space made one space (wrapped lines joined)."""
    return " ".join(text.split())


def golden(name: str, text: str) -> None:
    path = EXPECTED / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# -- the table -------------------------------------------------------------------------------------

def test_golden_table_at_100_columns(data: dict[str, Any]) -> None:
    result = run_cli("check", EXAMPLE, "--format", "table")
    assert result.exit_code == 1  # the example has warnings
    text = result.stdout
    assert text == check_tables(data, color=False, width=100)
    assert not ANSI.search(text)
    assert max(len(line) for line in text.splitlines()) <= 100
    check_notes(text)
    golden("check.txt", text)


def test_household_net_tax_is_at_the_top(data: dict[str, Any]) -> None:
    text = check_tables(data, color=False)
    household = data["summary"]["household"]
    top = f"Household tax on these trades: net {amount(household['net_tax'])} {household['currency']}"
    assert top in text and text.index(top) < text.index("Trades")
    table = text[text.index(top):text.index("Trades")]
    for lens in household["lenses"]:  # a row per country, taxpayer and year: net tax first
        row = rf"^{lens['jurisdiction']} +{lens['taxpayer']} +{lens['year']} +{lens['currency']} +" + " +".join(
            re.escape(amount(lens[k])) for k in ("net_tax", "gross_tax", "credits", "tax_before", "tax_after"))
        assert re.search(row, table, re.M), row


def test_one_row_per_trade_and_lens_with_the_net_tax_first(data: dict[str, Any]) -> None:
    text = check_tables(data, color=False, width=240)  # wide enough for no cell to wrap: a row is a line
    header = next(line for line in text.splitlines() if line.startswith("lens "))
    assert header.index("net tax") < header.index("gross") < header.index("credit") < header.index("gain") < header.index("term") \
        < header.index("loss rule") < header.index("flags")
    blocks = re.split(r"\n(?=\S+  (?:sell|buy) )", text[text.index(header):])[1:]
    assert [b.split()[0] for b in blocks] == [t["id"] for t in data["trades"]]
    for trade, block in zip(data["trades"], blocks):
        base = data["summary"]["household"]["currency"]
        if trade["net_tax"] is not None:
            assert block.splitlines()[0].endswith(f"household net tax {amount(trade['net_tax'])} {base}")
        for c in trade["consequences"]:
            first = [c["net_tax"], c["estimated_tax"], c["foreign_tax_credit"], c["gain"]] if trade["side"] == "sell" else []
            cells = r" +".join(re.escape(amount(v)) for v in first) if first else r"- +- +- +-"
            row = rf"^{c['jurisdiction']} {BASIS[c['basis']]} +{c['currency']} +{cells} "
            assert re.search(row, block, re.M), (trade["id"], row)
            if trade["side"] == "sell" and Decimal(c["disallowed_loss"]):
                code = next(f["code"] for f in c["findings"] if "loss_rule.id" in f["facts"])
                assert re.search(rf"{row}.* {code.replace('_', ' ')} {re.escape(amount(c['disallowed_loss']))} ", block, re.M)


def test_timing_advice_is_a_short_line_per_alternative(data: dict[str, Any]) -> None:
    text = flat(check_tables(data, color=False))
    base = data["summary"]["household"]["currency"]
    shown = 0
    for trade in data["trades"]:
        for a in trade["timing"]:
            days = (dt.date.fromisoformat(a["date"]) - dt.date.fromisoformat(trade["date"])).days
            assert f"→ wait {days} days ({a['date']}, {a['why']}): save {amount(-Decimal(a['change']))} {base}" in text
            shown += 1
    assert shown >= 2  # t3 and t6 of the example save by waiting for the next tax year


def test_timing_line_wording() -> None:
    # The brief's example: a sale that becomes long-term under the US in 23 days.
    line = timing_line({"date": "2026-03-25", "why": "long-term under US", "net_tax": "10.00", "change": "-120.00", "missing": []},
                       "2026-03-02", "CAD")
    assert line == "wait 23 days (2026-03-25, long-term under US): save 120.00 CAD"
    dearer = timing_line({"date": "2026-03-03", "why": "x", "net_tax": "1", "change": "5.5", "missing": []}, "2026-03-02", "EUR")
    assert dearer == "wait 1 day (2026-03-03, x): costs 5.5 EUR more"


def test_each_caveat_is_written_once(data: dict[str, Any]) -> None:
    text = check_tables(data, color=False)
    body, _, notes = text.partition("\nNotes\n")
    caveats = {f["caveat"] for t in data["trades"] for c in t["consequences"] for f in c["findings"] if f["caveat"]}
    for caveat in caveats:
        assert flat(notes).count(flat(caveat)) == 1, caveat
        assert flat(caveat) not in flat(body)
    # The TFSA/FHSA superficial-loss caveat belongs to t1 and t2 under CA: one note, two marks.
    (mark,) = re.findall(r"^ *\[(\d+)\] FHSA and RESP", notes, re.M)
    assert body.count(f"[{mark}]") == 2


def test_colour_only_on_a_terminal(data: dict[str, Any]) -> None:
    assert ANSI.search(check_tables(data, color=True))
    assert ANSI.sub("", check_tables(data, color=True)) == check_tables(data, color=False)


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_terminal_gets_the_table_in_colour_and_a_pipe_gets_json() -> None:
    shown = _on_terminal(["check", EXAMPLE])
    assert ANSI.search(shown)
    assert ANSI.sub("", shown) == (EXPECTED / "check.txt").read_text(encoding="utf-8")
    piped = run_cli("check", EXAMPLE)
    assert json.loads(piped.stdout)["trades"]


def test_narrow_terminal_fits(data: dict[str, Any]) -> None:
    for width in (60, 80):
        text = check_tables(data, color=False, width=width)
        assert max(len(line) for line in text.splitlines()) <= width
        check_notes(text)


# -- --explain ---------------------------------------------------------------------------------------

def test_golden_explain_of_one_trade() -> None:
    result = run_cli("check", EXAMPLE, "--explain", "t6")  # a trade id: the explanation, even off a terminal
    assert result.exit_code == 1
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    golden("check-explain-t6.txt", result.stdout)


def test_explain_shows_the_full_reasoning_of_the_trade(data: dict[str, Any]) -> None:
    for trade in data["trades"]:
        text = flat(explain_trade(data, trade["id"], color=False))
        assert text.startswith(f"{trade['id']}: {trade['side']} {trade['quantity']} {trade['security']}")
        for c in trade["consequences"]:
            for lot in c["lots"]:
                assert lot["lot"] in text
                for r in lot["rates"]:
                    assert f"{r['pair']} {r['date']} {r['rate_date']} {r['rate']}" in text
            for f in c["findings"]:
                assert flat(f["message"]) in text and flat(f["citation"]) in text
                if f["caveat"]:
                    assert flat(f"caveat: {f['caveat']}") in text
                for cond in f["conditions"]:
                    assert f"if {cond['fact']} {cond['op']}" in text
            if trade["side"] == "sell" and c["taxable"]:
                lens = next(x for x in data["summary"]["household"]["lenses"]
                            if (x["jurisdiction"], x["taxpayer"], x["year"]) == (c["jurisdiction"], trade["taxpayer"], c["tax_year"]))
                for i, step in enumerate(lens["steps"], 1):
                    assert flat(f"{i}. {step}") in text
    # The credit line of the example: the US credits Canada's tax on the SAP sale.
    t6 = flat(explain_trade(data, "t6", color=False))
    credit = next(f for c in data["trades"][5]["consequences"] for f in c["findings"] if f["code"] == "foreign_tax_credit")
    assert "Credits between countries INFO foreign_tax_credit: " + flat(credit["message"]) in t6


def test_explain_alone_explains_every_trade() -> None:
    text = run_cli("check", EXAMPLE, "--format", "table", "--explain").stdout
    for trade in ("t1", "t2", "t3", "t4", "t5", "t6"):
        assert re.search(rf"^{trade}: (sell|buy) ", text, re.M)
    assert "Household tax on these trades" in text


def test_explain_an_unknown_trade_is_an_input_error() -> None:
    result = run_cli("check", EXAMPLE, "--explain", "t7")
    assert result.exit_code == 3
    assert result.output == (f"{EXAMPLE}: error: --explain t7: the scenario has no candidate trade with this id "
                             "(expected one of t1, t2, t3, t4, t5, t6)\n")
    assert "did you mean 't1'?" in run_cli("check", EXAMPLE, "--explain", "t1 ").output


# -- CSV and Markdown --------------------------------------------------------------------------------

def test_csv_appends_the_credit_and_net_tax(data: dict[str, Any]) -> None:
    assert CSV_COLUMNS[:len(CSV_COLUMNS_BEFORE)] == CSV_COLUMNS_BEFORE
    assert CSV_COLUMNS[len(CSV_COLUMNS_BEFORE):] == ["foreign_tax_credit", "net_tax"]
    rows = list(csv.DictReader(io.StringIO(run_cli("check", EXAMPLE, "--format", "csv").stdout)))
    expected = [(t["id"], c["jurisdiction"], c["foreign_tax_credit"] or "", c["net_tax"] or "") for t in data["trades"] for c in t["consequences"]]
    assert [(r["trade"], r["jurisdiction"], r["foreign_tax_credit"], r["net_tax"]) for r in rows] == expected


def test_csv_cells_cannot_start_a_formula(data: dict[str, Any]) -> None:
    hostile = copy.deepcopy(data)
    hostile["trades"][0]["account"] = "=HYPERLINK(\"http://x\")"
    hostile["trades"][0]["consequences"][0]["estimate_missing"] = ["@SUM(A1)"]
    row = next(csv.reader(io.StringIO(render_csv(hostile).splitlines()[1])))
    assert row[1] == "'=HYPERLINK(\"http://x\")" and row[CSV_COLUMNS.index("estimate_missing")] == "'@SUM(A1)"
    assert row[CSV_COLUMNS.index("gain")] == data["trades"][0]["consequences"][0]["gain"]  # a negative number stays a number


def test_markdown_shows_the_household_net_tax_first(data: dict[str, Any]) -> None:
    text = run_cli("check", EXAMPLE, "--format", "markdown").stdout
    household = data["summary"]["household"]
    assert text.index("## Household tax") < text.index("## t1:")
    assert f"**Net tax {household['net_tax']} {household['currency']}**" in text
    for trade in data["trades"]:
        for c in trade["consequences"]:
            if trade["side"] == "sell":
                assert f"| {c['jurisdiction']} | {c['basis']} | {c['currency']} | **{c['net_tax']}** | {c['estimated_tax']} | " \
                       f"{c['foreign_tax_credit']} |" in text
    one = run_cli("check", EXAMPLE, "--format", "markdown", "--explain", "t3").stdout
    assert "## t3:" in one and "## t1:" not in one and "## Household tax" not in one
    steps = next(x for x in household["lenses"] if x["jurisdiction"] == "CA")["steps"]
    assert all(f"{i}. {s}" in one for i, s in enumerate(steps, 1))
