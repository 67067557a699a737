"""Small households written as real scenario and targets files, loaded the way a user's are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set
from taxpack.engine.plan.targets import Targets, load_targets

PACKS = pack_set()


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def buy(tid: str, account: str, security: str, date: str, quantity: Any, price: Any) -> dict[str, Any]:
    return {"id": tid, "account": account, "security": security, "date": date, "side": "buy", "quantity": str(quantity), "price": str(price)}


def sell(tid: str, account: str, security: str, date: str, quantity: Any, price: Any, lots: str = "fifo") -> dict[str, Any]:
    return {"id": tid, "account": account, "security": security, "date": date, "side": "sell", "quantity": str(quantity),
            "price": str(price), "lots": lots}


def scenario(tmp_path: Path, taxpayers: list[dict], accounts: list[dict], securities: list[dict], transactions: list[dict],
             as_of: str = "2026-03-02", groups: list[dict] | None = None):
    data: dict[str, Any] = {"taxpack": 1, "as_of": as_of, "taxpayers": taxpayers, "accounts": accounts, "securities": securities,
                            "transactions": transactions}
    if groups:
        data["identity_groups"] = groups
    return load_scenario(write(tmp_path, "scenario.yaml", data))


def targets(tmp_path: Path, sc, data: dict[str, Any]) -> Targets:
    return load_targets(write(tmp_path, "targets.yaml", {"taxpack": 1, **data}), sc)
