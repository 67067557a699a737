"""Each broker format imports its fixture (written from the format's documentation) into a scenario
that loads, with the fixture's numbers, and prints totals per account that equal the fixture's sums."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from taxpack.engine.inputs.importers import formats
from taxpack.engine.inputs.importers.formats import FORMATS
from taxpack.engine.inputs.scenario import load_scenario
from tests.expected import REPO_ROOT, relative, run_cli

FIXTURES = REPO_ROOT / "tests" / "imports" / "fixtures"
PACKAGE = REPO_ROOT / "engine" / "inputs" / "importers"
SHARED = {"__init__", "statement", "formats", "assemble", "ibkr_flex"}  # not formats themselves
D = Decimal


def test_every_format_module_is_listed() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")} - SHARED
    listed = {importer.read.__module__.rsplit(".", 1)[1] for importer in FORMATS.values()}
    assert modules == listed
    assert formats.FORMATS.keys() == {"ibkr-flex-xml", "ibkr-flex-csv", "schwab-csv", "questrade", "degiro"}


def run_import(tmp_path: Path, fmt: str, files: list[str], household: str, *extra: str) -> tuple[str, Path]:
    out = tmp_path / "scenario.yaml"
    result = run_cli("import", fmt, *[relative(FIXTURES / f) for f in files], "--household", relative(FIXTURES / household),
                     "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    return result.output, out


@pytest.fixture(autouse=True)
def _root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


@pytest.mark.parametrize("fmt,file", [("ibkr-flex-xml", "ibkr.xml"), ("ibkr-flex-csv", "ibkr.csv")])
def test_ibkr(tmp_path: Path, fmt: str, file: str) -> None:
    summary, out = run_import(tmp_path, fmt, [file], "ibkr_household.yaml", "--account", "U1234567=ibkr")
    # 10 x 822.79 + 100 x 168.84 bought; 40 x 227.65 sold; commissions 1 + 1 + 1.05; dividends 2 x 25, 2 x 3.75 withheld.
    assert "  USD: 2 buys 25,111.90, 1 sale 9,106.00, fees 3.05, 2 dividends gross 50.00 withheld 7.50\n" in summary
    assert "  corporate actions: 1 split\n" in summary
    assert "cash: Deposits/Withdrawals (USD 30,000.00)" in summary  # listed, not dropped
    s = load_scenario(out)
    assert [(t.id, t.side, t.quantity, t.price, t.fees) for t in s.transactions] == [
        ("ibkr-1001", "buy", D(10), D("822.79"), D(1)), ("ibkr-1002", "buy", D(100), D("168.84"), D(1)),
        ("ibkr-1003", "sell", D(40), D("227.65"), D("1.05"))]
    assert s.transactions[2].settlement_date == dt.date(2025, 2, 11)
    assert [(d.date, d.gross, d.withheld, d.source_country) for d in s.dividends] == [
        (dt.date(2024, 5, 16), D(25), D("3.75"), "US"), (dt.date(2024, 8, 15), D(25), D("3.75"), "US")]
    (split,) = s.corporate_actions
    assert (split.type, split.security, split.date, split.ratio.new, split.ratio.old, split.account) == ("split", "NVDA", dt.date(2024, 6, 10), 10, 1, "ibkr")
    nvda = s.security("NVDA")
    assert (nvda.country, nvda.kind, nvda.currency) == ("US", "share", "USD")  # from the ISIN and IBKR's subCategory


def test_ibkr_xml_and_csv_give_the_same_scenario(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "c").mkdir()
    _, xml = run_import(tmp_path / "x", "ibkr-flex-xml", ["ibkr.xml"], "ibkr_household.yaml", "--account", "U1234567=ibkr")
    _, csv = run_import(tmp_path / "c", "ibkr-flex-csv", ["ibkr.csv"], "ibkr_household.yaml", "--account", "U1234567=ibkr")
    a, b = load_scenario(xml), load_scenario(csv)
    assert a.transactions == b.transactions and a.securities == b.securities  # spans are not compared
    assert [(d.id, d.gross, d.withheld, d.date) for d in a.dividends] == [(d.id, d.gross, d.withheld, d.date) for d in b.dividends]
    assert [(c.type, c.ratio, c.date) for c in a.corporate_actions] == [(c.type, c.ratio, c.date) for c in b.corporate_actions]


def test_schwab(tmp_path: Path) -> None:
    summary, out = run_import(tmp_path, "schwab-csv", ["schwab.csv"], "schwab_household.yaml", "--account", "XXXX-1234=schwab")
    # buys 50 x 99.80 + 5 x 852.37 + 0.0041 x 122.00; sale 10 x 104.73; dividends 157.78 + 0.50, tax 55.22
    assert "  USD: 3 buys 9,252.35, 1 sale 1,047.30, fees 0.02, 2 dividends gross 158.28 withheld 55.22\n" in summary
    assert "not imported: 1 x Schwab: MoneyLink Transfer (USD 10,000.00)" in summary
    s = load_scenario(out)
    assert [t.date for t in s.transactions] == sorted(t.date for t in s.transactions)  # the newest-first file, in time order
    assert s.transactions[2].quantity == D("0.0041") and "schwab.csv:6: dividend reinvestment" in out.read_text()
    nvs = next(d for d in s.dividends if d.security == "NVS")
    assert (nvs.gross, nvs.withheld, nvs.date) == (D("157.78"), D("55.22"), dt.date(2025, 3, 14))
    (split,) = s.corporate_actions
    assert (split.type, split.added, split.ratio) == ("split", D(45), None)


def test_questrade(tmp_path: Path) -> None:
    summary, out = run_import(tmp_path, "questrade", ["questrade.csv"], "questrade_household.yaml", "--account", "51234567=qt-tfsa")
    assert "  CAD: 1 buy 2,540.00, fees 4.95, 1 dividend gross 8.50 withheld 0.00\n" in summary
    assert "  USD: 1 buy 2,961.50, fees 4.95, 1 dividend gross 9.31 withheld 1.40\n" in summary
    s = load_scenario(out)
    vti = next(d for d in s.dividends if d.security == "VTI")
    assert (vti.gross, vti.withheld, vti.currency) == (D("9.31"), D("1.40"), "USD")


def test_questrade_account_type_must_match_the_wrapper(tmp_path: Path) -> None:
    household = tmp_path / "hh.yaml"
    household.write_text((FIXTURES / "questrade_household.yaml").read_text().replace("wrapper: tfsa", "wrapper: taxable"))
    result = run_cli("import", "questrade", relative(FIXTURES / "questrade.csv"), "--household", str(household), "--account", "51234567=qt-tfsa")
    assert result.exit_code == 3
    assert "tests/imports/fixtures/questrade.csv:2: column 'Account Type': error: the broker says account 51234567 is a TFSA, the household says 'qt-tfsa' is taxable" in result.output


def test_degiro(tmp_path: Path) -> None:
    summary, out = run_import(tmp_path, "degiro", ["degiro_transactions.csv", "degiro_account.csv"], "degiro_household.yaml", "--account", "degiro")
    assert "  EUR: 1 buy 1,915.20, fees 3.90, 1 dividend gross 35.00 withheld 9.10\n" in summary
    assert "corporate actions: 1 split" in summary
    s = load_scenario(out)
    nvda = next(t for t in s.transactions if t.security == "NVDA")
    # EUR 2.00 + 9.88 AutoFX at DEGIRO's 1.0871 USD per EUR: the fees in the trade's currency.
    assert nvda.fees == (D("2.00") + D("9.88")) * D("1.0871") and nvda.currency is None and nvda.price == D("859.64")
    (split,) = s.corporate_actions
    assert split.ratio.factor == 10  # the pair -5 @ 1208.88 / +50 @ 120.888 is a split, not a sale
    assert all(t.side == "buy" for t in s.transactions)


def test_missing_security_details_are_listed_with_the_line_to_add(tmp_path: Path) -> None:
    household = tmp_path / "hh.yaml"
    household.write_text((FIXTURES / "degiro_household.yaml").read_text().replace(
        "  - {id: ENI, currency: EUR, country: IT, kind: share, isin: IT0003132476, name: Eni SpA}\n", ""))
    result = run_cli("import", "degiro", relative(FIXTURES / "degiro_transactions.csv"), "--household", str(household), "--account", "degiro")
    assert result.exit_code == 3
    assert ("tests/imports/fixtures/degiro_transactions.csv:2: error: security IT0003132476 is not in the household and the export does not give its kind "
            f"(expected an entry under securities in {household}: {{id: IT0003132476, currency: EUR, country: IT, kind: share|etf|fund|bond, isin: IT0003132476}})") in result.output


def test_transactions_csv_feeds_check(tmp_path: Path) -> None:
    out, history = tmp_path / "household.yaml", tmp_path / "history.csv"
    result = run_cli("import", "questrade", relative(FIXTURES / "questrade.csv"), "--household", relative(FIXTURES / "questrade_household.yaml"),
                     "--account", "51234567=qt-tfsa", "--out", str(out), "--transactions-csv", str(history))
    assert result.exit_code == 0, result.output
    assert "transactions:" not in out.read_text()
    s = load_scenario(out, transactions_csv=history)
    assert [(t.security, t.quantity, t.price, t.fees) for t in s.transactions] == [("XEI.TO", D(100), D("25.40"), D("4.95")), ("VTI", D(10), D("296.15"), D("4.95"))]
    assert len(s.dividends) == 2
