"""A date of the right form that is no day of the calendar is a user error with its place, in YAML and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.expected import run_cli

SCENARIO = """taxpack: 1
as_of: 2025-01-02
taxpayers: [{id: a, residence: US}]
accounts: [{id: b, owner: a, country: US, currency: USD}]
securities: [{id: X, currency: USD, country: US, kind: share}]
transactions:
  - {id: b1, account: b, security: X, date: "2024-02-31", side: buy, quantity: 10, price: 5}
trades:
  - {id: t1, account: b, security: X, date: 2024-12-02, side: sell, quantity: 10, price: 6}
"""


def test_yaml_text_date(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    result = run_cli("check", str(path))
    assert result.exit_code == 3
    assert f"{path}:7:45: schema error: transactions[0].date: 2024-02-31 is not a day of the calendar (expected a real date, YYYY-MM-DD)" in result.output


def test_json_date(tmp_path: Path) -> None:
    import yaml
    path = tmp_path / "s.json"
    path.write_text(json.dumps(yaml.safe_load(SCENARIO), default=str))
    result = run_cli("check", str(path))
    assert result.exit_code == 3
    assert "transactions[0].date: 2024-02-31 is not a day of the calendar" in result.output
    assert "internal error" not in result.output
