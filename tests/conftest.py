"""Shared test fixtures: where the repository, the bundled packs and the peer corpora are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
CORPORA = SHARED / "corpora"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


def corpus(name: str) -> Path:
    """The folder of a peer corpus; the test is skipped, with the reason, when it is absent."""
    path = CORPORA / name
    if not path.is_dir():
        pytest.skip(f"conformance corpus {path} is absent (it lives in ../shared/corpora beside the repository)")
    return path
