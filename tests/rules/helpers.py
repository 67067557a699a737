"""Shared pieces of the rule-evaluation tests: the synthetic pack and the backends to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxpack.engine.law.load import load_pack
from taxpack.engine.law.pack import Pack
from taxpack.engine.rules.evaluator import available_backends

DATA = Path(__file__).resolve().parent / "data"


def synthetic() -> Pack:
    return load_pack(DATA / "synthetic.yaml")


def backends() -> list[object]:
    """Both backends; durable is skipped, with the reason, where it does not import (Python 3.13+)."""
    have = available_backends()
    return [
        name if name in have else pytest.param(name, marks=pytest.mark.skip(reason="durable_rules does not import here"))
        for name in ("python", "durable")
    ]
