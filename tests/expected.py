"""Expected-output files for bad inputs, in the style of Catala's test suite.

Each bad case `NAME.yaml` (or a folder `NAME/`) has `NAME.expected` beside it: the exact text the
user sees. The expected files are the specification of the messages; they were written and reviewed
by hand. To re-write them after a deliberate change of wording, run the tests with
`TAXPACK_UPDATE_EXPECTED=1` and review `git diff` line by line before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from taxpack.cli.main import cli

REPO_ROOT = Path(__file__).resolve().parent.parent
UPDATE = os.environ.get("TAXPACK_UPDATE_EXPECTED") == "1"


def expected_path(case: Path) -> Path:
    return case.with_suffix(".expected") if case.is_file() else case.parent / (case.name + ".expected")


def relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def run_cli(*args: str) -> Result:
    """Run `taxpack ARGS...` in this process, as a user would from the repository root."""
    return CliRunner().invoke(cli, list(args), prog_name="taxpack")


def compare(case: Path, actual: str) -> None:
    """`actual` must equal the case's .expected file exactly (or rewrite it in update mode)."""
    target = expected_path(case)
    if UPDATE:
        target.write_text(actual, encoding="utf-8")
        pytest.skip(f"updated {relative(target)}")
    assert target.is_file(), f"{relative(target)} is missing: write the exact expected message there"
    assert actual == target.read_text(encoding="utf-8")


def assert_validate_reports(case: Path) -> None:
    """`taxpack pack validate CASE` (from the repository root): exit 1, no traceback, exactly the expected text."""
    result = run_cli("pack", "validate", relative(case))
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    compare(case, result.output)
