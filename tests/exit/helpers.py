"""Build small scenarios for the exit-tax tests: one taxpayer, a few accounts, bought lots, prices."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from taxpack.engine.inputs.prices import Price, PriceBook
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set
from taxpack.engine.residency.departure import ExitInputs
from taxpack.engine.residency.simulate import ExitResult, simulate_exit, to_json_dict

D = Decimal


def write_scenario(tmp_path: Path, *, taxpayer: dict[str, Any], accounts: list[dict[str, Any]],
                   securities: list[dict[str, Any]], buys: list[tuple[str, str, str, str, str]],
                   fx_rates: str | None = None, extra: dict[str, Any] | None = None, as_of: str = "2026-01-15") -> Path:
    """`buys`: (id, account, security, date, "quantity@price"); the scenario is written as JSON (valid YAML)."""
    transactions = []
    for tid, account, security, date, qp in buys:
        quantity, price = qp.split("@")
        transactions.append({"id": tid, "account": account, "security": security, "date": date, "side": "buy",
                             "quantity": quantity, "price": price})
    data: dict[str, Any] = {"taxpack": 1, "id": "exit-test", "as_of": as_of, "taxpayers": [taxpayer], "accounts": accounts,
                            "securities": securities, "transactions": transactions}
    if fx_rates is not None:
        (tmp_path / "rates.csv").write_text(fx_rates)
        data["fx"] = {"rates": "rates.csv"}
    data.update(extra or {})
    path = tmp_path / "scenario.yaml"
    path.write_text(json.dumps(data, indent=1))
    return path


def prices(day: str, **values: str) -> PriceBook:
    """Prices on one day: `prices("2026-06-30", ACME="400 CAD")`."""
    out = []
    for security, text in values.items():
        amount, currency = text.split()
        out.append(Price(security, dt.date.fromisoformat(day), D(amount), currency))
    return PriceBook(out)


def run(path: Path, taxpayer: str, date: str, to: str, book: PriceBook, compare: bool = False, **inputs: Any) -> ExitResult:
    scenario = load_scenario(path)
    return simulate_exit(scenario, pack_set(), taxpayer, dt.date.fromisoformat(date), to, book, ExitInputs(**inputs), compare=compare)


def holding(result: ExitResult, security: str, pool: str | None = None) -> Any:
    found = [o for o in result.departure.outcomes if o.holding.security == security and (pool is None or o.holding.pool == pool)]
    assert len(found) == 1, found
    return found[0]


def arrival_cost(result: ExitResult, security: str, account: str | None = None) -> Any:
    assert result.arrival is not None
    found = [c for c in result.arrival.costs if c.holding.security == security and (account is None or account in c.holding.accounts)]
    assert len(found) == 1, found
    return found[0]


def json_of(result: ExitResult) -> dict[str, Any]:
    return to_json_dict(result)
