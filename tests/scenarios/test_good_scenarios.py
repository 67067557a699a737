"""The good scenarios in tests/scenarios/good/ load with exact decimals, dates and resolved paths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from taxpack.engine.core.household import SpecificLot
from taxpack.engine.inputs.scenario import load_scenario
from tests.expected import REPO_ROOT, relative, run_cli

GOOD = REPO_ROOT / "tests" / "scenarios" / "good"


@pytest.mark.parametrize("name", ["household.yaml", "household.json", "csv_household.yaml"])
def test_good_scenario_validates(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    result = run_cli("pack", "validate", relative(GOOD / name))
    assert result.exit_code == 0, result.output
    assert result.output.endswith(" ok\n") and "scenario" in result.output


def test_household_yaml() -> None:
    s = load_scenario(GOOD / "household.yaml")
    assert s.as_of == dt.date(2026, 3, 2) and s.id == "household-test"
    alice, bob = s.taxpayers
    assert alice.spouse == "bob" and alice.citizenship == ("US",)
    # Bare and quoted numbers are both exact decimals.
    assert alice.other_income == {"US": Decimal("85000"), "CA": Decimal("110000.00")}
    assert alice.marginal_rate["CA"] == Decimal("0.4341")
    # `to: NO` is Norway, not false.
    assert [(c.date, c.to) for c in bob.residence_changes] == [(dt.date(2027, 7, 1), "NO")]
    assert [a.wrapper for a in s.accounts] == ["taxable", "tfsa", "taxable"]
    b2 = s.transactions[1]
    assert (b2.quantity, b2.price, b2.fees) == (Decimal("12.5"), Decimal("250.10"), Decimal("0"))
    assert all(type(t.quantity) is Decimal and type(t.price) is Decimal for t in s.transactions + s.trades)
    t1, t2, t3 = s.trades
    assert t1.lots == "hifo" and t1.candidate
    assert t2.lots == (SpecificLot("b1", Decimal("6")), SpecificLot("b2", Decimal("4.5")))
    assert sum(lot.quantity for lot in t2.lots) == t2.quantity  # 6 + 4.5 = 10.5
    assert t3.side == "buy" and t3.lots is None
    # The FX override is resolved relative to the scenario file, not the working folder.
    assert s.fx_rates == str((GOOD / "rates.csv").resolve())


def test_json_is_the_same_format() -> None:
    s = load_scenario(GOOD / "household.json")
    assert s.transactions[0].price == Decimal("231.50")
    assert s.trades[0].price == Decimal("210.50") and s.trades[0].lots == "fifo"


def test_csv_transactions_and_trades(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    s = load_scenario(relative(GOOD / "csv_household.yaml"), transactions_csv=relative(GOOD / "transactions.csv"),
                      trades_csv=relative(GOOD / "trades.csv"))
    b1, b2 = s.transactions
    assert (b1.id, b1.quantity, b1.price, b1.fees, b1.candidate) == ("b1", Decimal("100"), Decimal("231.50"), Decimal("1.00"), False)
    assert (b2.currency, b2.settlement_date) == ("USD", dt.date(2025, 9, 16))
    t1, t2 = s.trades
    assert t1.lots == "hifo" and t1.candidate
    assert t2.lots == (SpecificLot("b1", Decimal("6")), SpecificLot("b2", Decimal("4.5")))
    # Rows keep their place: trades.csv has a blank line 3, so t2 is on line 4.
    assert (str(t1.span), str(t2.span)) == ("tests/scenarios/good/trades.csv:2", "tests/scenarios/good/trades.csv:4")


def test_history_in_both_file_and_csv_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(Exception) as caught:
        load_scenario(relative(GOOD / "household.yaml"), transactions_csv=relative(GOOD / "transactions.csv"))
    assert str(caught.value) == (
        "tests/scenarios/good/household.yaml:21:3: error: the scenario already lists transactions; "
        "give them in the file or in --transactions, not both"
    )


def test_ids_that_look_like_dates_are_text() -> None:
    from taxpack.engine.core.documents import load_yaml_text
    from taxpack.engine.inputs.scenario import build_scenario

    text = ("taxpack: 1\nas_of: 2026-03-02\ntaxpayers: [{id: 2024-01-01, residence: CA}]\n"
            "accounts: [{id: 2024-01-02, owner: 2024-01-01, country: CA, currency: CAD}]\n"
            "securities: [{id: S, currency: CAD, country: CA}]\n")
    s = build_scenario(load_yaml_text(text, "s.yaml"), GOOD)
    assert (s.taxpayers[0].id, s.accounts[0].id, s.accounts[0].owner) == ("2024-01-01", "2024-01-02", "2024-01-01")
    assert s.as_of == dt.date(2026, 3, 2)
