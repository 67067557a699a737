"""Shared test fixtures: where the repository, the bundled packs and the peer corpora are.

The conformance corpora live in ../shared/corpora beside the repository (`TAXPACK_CORPORA` names another
folder). Where one is absent or unreadable its tests are skipped, and the run's summary says which
corpora were skipped in one line; in CI (the environment variable `CI` set, as .ci/run does) a missing or
unreadable corpus fails the run instead, so CI can never pass without the conformance checks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
CORPORA = Path(os.environ["TAXPACK_CORPORA"]) if os.environ.get("TAXPACK_CORPORA") else SHARED / "corpora"
# corpus name -> why its tests were skipped, for the one summary line
SKIPPED_CORPORA: dict[str, str] = {}


def in_ci() -> bool:
    """CI sets CI (CI=1 in .ci/run; CI=true on most services); empty, 0, false or no mean not in CI."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


def corpus_problem(path: Path) -> str | None:
    """Why the corpus folder cannot be used (absent, unreadable, no readable CSV file), or None."""
    if not path.exists():
        return "absent"
    if not path.is_dir() or not os.access(path, os.R_OK | os.X_OK):
        return "unreadable (not a readable folder)"
    files = sorted(path.glob("*.csv"))
    if not files:
        return "unreadable (no CSV file in it)"
    for f in files:
        try:
            with f.open("rb") as handle:
                handle.read(1)
        except OSError as exc:
            return f"unreadable ({f.name}: {exc.strerror or exc})"
    return None


def corpus(name: str) -> Path:
    """The folder of a peer corpus. Absent or unreadable: the test is skipped with the reason (and the
    corpus named in the run's summary), or fails in CI."""
    path = CORPORA / name
    problem = corpus_problem(path)
    if problem is not None:
        reason = f"conformance corpus {path} is {problem} (it lives in ../shared/corpora beside the repository)"
        if in_ci():
            pytest.fail(f"{reason}; in CI (CI is set) the conformance corpora must be present and readable", pytrace=False)
        SKIPPED_CORPORA.setdefault(name, problem)
        pytest.skip(reason)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SKIPPED_CORPORA:
        names = ", ".join(f"{n} ({why})" if why != "absent" else n for n, why in sorted(SKIPPED_CORPORA.items()))
        terminalreporter.write_line(f"conformance corpora skipped: {names} (looked in {CORPORA}; in CI this fails the run)")
