"""Inputs for the batch tests: generated households (benchmarks/households.py) and broken ones."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

from tests.expected import REPO_ROOT

_spec = importlib.util.spec_from_file_location("taxpack_bench_households", REPO_ROOT / "benchmarks" / "households.py")
assert _spec and _spec.loader
households = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(households)


def small(seed: int) -> dict[str, Any]:
    """A small household (a test of 200 of them must take seconds, not minutes)."""
    return households.household(seed, transactions=12, trades=2, securities=5)


def unknown_account(seed: int) -> dict[str, Any]:
    data = copy.deepcopy(small(seed))
    data["trades"][0]["account"] = "no-such-account"
    return data


def oversold(seed: int) -> dict[str, Any]:
    """A sale of more units than the account holds (every generated household holds fewer than 10,000)."""
    data = copy.deepcopy(small(seed))
    data["trades"] = [{"id": "big", "account": data["transactions"][0]["account"], "security": data["transactions"][0]["security"],
                       "date": data["as_of"], "side": "sell", "quantity": "1000000", "price": "10.00"}]
    return data


def uncovered_date(seed: int) -> dict[str, Any]:
    """Candidate trades dated 1990: no bundled pack is in force then."""
    data = copy.deepcopy(small(seed))
    for trade in data["trades"]:
        trade["date"] = "1990-01-02"
    return data


def jsonl(path: Path, records: list[Any]) -> Path:
    """One JSON object (or raw text, for a broken line) per line."""
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    return path


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
