"""Every bad scenario in tests/scenarios/bad/ is refused with its exact message.

YAML and JSON scenarios go through `taxpack pack validate` (which recognises a scenario by its
`taxpack:` key). CSV transactions and trades go through the library, `load_scenario(household,
transactions_csv=..., trades_csv=...)`, and the message is `str(error)`: the file, the row (the
header is row 1), the column, what is wrong and what was expected. `NAME.expected` beside each case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.inputs.scenario import load_scenario
from tests.expected import REPO_ROOT, assert_validate_reports, compare, expected_path, relative

BAD = REPO_ROOT / "tests" / "scenarios" / "bad"
GOOD = REPO_ROOT / "tests" / "scenarios" / "good"
FILE_CASES = sorted(p for p in BAD.iterdir() if p.suffix in (".yaml", ".json"))
CSV_CASES = sorted((BAD / "csv").glob("*.csv"))
# The household every CSV case is read with; a case named *_trades.csv is the trades file, read
# after the valid history tests/scenarios/good/transactions.csv.
HOUSEHOLD = GOOD / "csv_household.yaml"
HISTORY = GOOD / "transactions.csv"


def test_there_are_at_least_15_bad_scenarios_in_each_form() -> None:
    assert len(FILE_CASES) >= 15
    assert len(CSV_CASES) >= 15
    assert {p.suffix for p in FILE_CASES} == {".yaml", ".json"}


def test_every_expected_file_has_its_case() -> None:
    cases = {expected_path(c) for c in FILE_CASES + CSV_CASES}
    orphans = [relative(e) for e in BAD.rglob("*.expected") if e not in cases]
    assert orphans == []


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.name for c in FILE_CASES])
def test_bad_scenario_file(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    assert_validate_reports(case)


@pytest.mark.parametrize("case", CSV_CASES, ids=[c.name for c in CSV_CASES])
def test_bad_scenario_csv(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    if case.stem.endswith("_trades"):
        kwargs = {"transactions_csv": relative(HISTORY), "trades_csv": relative(case)}
    else:
        kwargs = {"transactions_csv": relative(case)}
    with pytest.raises(TaxpackError) as caught:
        load_scenario(relative(HOUSEHOLD), **kwargs)
    compare(case, str(caught.value) + "\n")
