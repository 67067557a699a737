"""A missing conformance corpus is never silent: the run's summary names it, and in CI it fails the run.

Each case runs the adlr conformance tests in a child pytest with `TAXPACK_CORPORA` pointing at a folder
made here (absent, or holding an adlr folder with no CSV file), with and without `CI` set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def _pytest(corpora: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_")}
    env["TAXPACK_CORPORA"] = str(corpora)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/conformance/test_adlr.py"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_absent_corpora_are_named_in_one_summary_line(tmp_path: Path) -> None:
    run = _pytest(tmp_path / "nowhere", None)
    assert run.returncode == 0, run.stdout[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("conformance corpora skipped:")]
    assert lines == [f"conformance corpora skipped: adlr (looked in {tmp_path / 'nowhere'}; in CI this fails the run)"]


def test_an_unreadable_corpus_is_named_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "adlr").mkdir()
    run = _pytest(tmp_path, "0")  # CI=0 is not CI
    assert run.returncode == 0, run.stdout[-2000:]
    assert "conformance corpora skipped: adlr (unreadable (no CSV file in it))" in run.stdout


@pytest.mark.parametrize("ci", ["1", "true"])
def test_in_ci_a_missing_corpus_fails_the_run(tmp_path: Path, ci: str) -> None:
    run = _pytest(tmp_path / "nowhere", ci)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "in CI (CI is set) the conformance corpora must be present and readable" in run.stdout
    assert "conformance corpora skipped" not in run.stdout
