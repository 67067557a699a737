"""Every bad export in tests/imports/bad/ is refused with its exact message (exit 3, no traceback).

A case is named FORMAT.NAME.EXT; it is imported with the household of its broker's good fixture, as a
user would from the repository root. NAME.expected beside it holds what the user sees.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.expected import REPO_ROOT, compare, expected_path, relative, run_cli

BAD = REPO_ROOT / "tests" / "imports" / "bad"
FIXTURES = REPO_ROOT / "tests" / "imports" / "fixtures"
CASES = sorted(p for p in BAD.iterdir() if p.suffix != ".expected")
HOUSEHOLD = {
    "ibkr-flex-xml": ("ibkr_household.yaml", "U1234567=ibkr"),
    "ibkr-flex-csv": ("ibkr_household.yaml", "U1234567=ibkr"),
    "schwab-csv": ("schwab_household.yaml", "XXXX-1234=schwab"),
    "questrade": ("questrade_household.yaml", "51234567=qt-tfsa"),
    "degiro": ("degiro_household.yaml", "degiro"),
}


def test_every_expected_file_has_its_case() -> None:
    orphans = [relative(e) for e in BAD.glob("*.expected") if e not in {expected_path(c) for c in CASES}]
    assert orphans == []


def test_the_issue_cases_are_there() -> None:
    names = {c.name.split(".")[1] for c in CASES}
    assert {"truncated", "changed_header", "unknown_action_code"} <= names


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_export(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    fmt = case.name.split(".")[0]
    household, account = HOUSEHOLD[fmt]
    result = run_cli("import", fmt, relative(case), "--household", relative(FIXTURES / household), "--account", account)
    assert "Traceback" not in result.output
    assert result.exit_code == 3, result.output
    compare(case, result.output)
