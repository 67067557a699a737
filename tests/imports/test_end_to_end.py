"""Each format's fixture imported and checked end to end: `taxpack import`, then `taxpack check` on the scenario written.

The expected figures are the fixtures' own numbers worked by hand: a split of the lots bought (IBKR and DEGIRO 10-for-1,
Schwab by the 45 units received), commissions in the cost, FIFO in the US lens.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.expected import REPO_ROOT, relative, run_cli

FIXTURES = REPO_ROOT / "tests" / "imports" / "fixtures"


def imported_and_checked(tmp_path: Path, fmt: str, files: list[str], household: str, account: str) -> dict:
    out = tmp_path / "scenario.yaml"
    imported = run_cli("import", fmt, *[relative(FIXTURES / f) for f in files], "--household", relative(FIXTURES / household),
                       "--account", account, "--out", str(out))
    assert imported.exit_code == 0, imported.output
    checked = run_cli("check", str(out), "--format", "json")
    assert checked.exit_code in (0, 1), checked.output  # warnings are fine; an input error or a blocking finding is not
    return json.loads(checked.output)


def lens(data: dict, trade: str, jurisdiction: str) -> dict:
    (found,) = [c for t in data["trades"] if t["id"] == trade for c in t["consequences"] if c["jurisdiction"] == jurisdiction]
    return found


@pytest.fixture(autouse=True)
def _root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


@pytest.mark.parametrize("fmt,file", [("ibkr-flex-xml", "ibkr.xml"), ("ibkr-flex-csv", "ibkr.csv")])
def test_ibkr(tmp_path: Path, fmt: str, file: str) -> None:
    data = imported_and_checked(tmp_path, fmt, [file], "ibkr_household.yaml", "U1234567=ibkr")
    nvda = lens(data, "t1", "US")  # 10 bought for 8,227.90 + 1.00, split 10-for-1: 50 of the 100 cost 4,114.45
    assert (nvda["cost"], nvda["proceeds"], nvda["term"]) == ("4114.45", "7898.50", "long")
    assert nvda["lots"][0]["quantity"] == "50"
    aapl = lens(data, "t2", "US")  # 100 bought for 16,884 + 1; 40 sold in February: the last 60 cost 10,131.00
    assert (aapl["cost"], aapl["proceeds"]) == ("10131.00", "12309.20")
    assert lens(data, "t1", "CA")["method"] == "average"  # the residence lens computes the same lots in CAD


def test_schwab(tmp_path: Path) -> None:
    data = imported_and_checked(tmp_path, "schwab-csv", ["schwab.csv"], "schwab_household.yaml", "XXXX-1234=schwab")
    nvda = lens(data, "t1", "US")  # 5 bought for 4,261.85, 45 received in the split: 20 of the 50 cost 1,704.74
    assert (nvda["cost"], nvda["proceeds"], nvda["gain"], nvda["term"]) == ("1704.74", "3159.80", "1455.06", "long")


def test_questrade(tmp_path: Path) -> None:
    data = imported_and_checked(tmp_path, "questrade", ["questrade.csv"], "questrade_household.yaml", "51234567=qt-tfsa")
    xei = lens(data, "t1", "CA")  # 100 bought for 2,540.00 + 4.95: 50 cost 1,272.475; inside the TFSA
    assert (xei["cost"], xei["taxable"]) == ("1272.48", False)


def test_degiro(tmp_path: Path) -> None:
    data = imported_and_checked(tmp_path, "degiro", ["degiro_transactions.csv", "degiro_account.csv"], "degiro_household.yaml", "degiro")
    nvda = lens(data, "t1", "DE")
    # 5 bought, the 00:00 pair a 10-for-1 split (not a sale): 25 of the 50 sold, the other 25 keep the same cost.
    (left,) = [row for row in data["positions"]["DE"] if row["security"] == "NVDA"]
    assert nvda["lots"][0]["quantity"] == "25" and left["quantity"] == "25" and left["cost"] == nvda["cost"]
