"""Test packs for the lot engine: the bundled packs with their coverage widened, and small stand-ins.

Conformance corpora and property tests replay histories that start years before a bundled pack's
coverage. `widened` moves a pack's coverage start and the first value of every parameter back to a
given day (the law itself is unchanged: the same sections, lot methods and holding periods), and can
drop the loss rules so that a test sees the lot engine alone.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from taxpack.engine.core.household import Account, Scenario, Security, Taxpayer, Transaction
from taxpack.engine.law.load import load_pack, load_pack_text
from taxpack.engine.law.pack import Pack

REPO_ROOT = Path(__file__).resolve().parents[2]
JURISDICTIONS = REPO_ROOT / "jurisdictions"


@functools.cache
def widened(pack_dir: str, start: dt.date, *, loss_rules: bool = False, shown: str | None = None) -> Pack:
    """The bundled pack `pack_dir` with coverage from `start` and each parameter's first value in force from `start`."""
    text = (JURISDICTIONS / pack_dir / "pack.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    data["coverage"]["from"] = start
    for parameter in (data.get("parameters") or {}).values():
        values = parameter["values"]
        first = min(values)
        if first > start:
            values[start] = values.pop(first)
        parameter["values"] = dict(sorted(values.items()))
    if not loss_rules:
        data.pop("loss_rules", None)
    dumped = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200)
    return load_pack_text(dumped, shown or f"{pack_dir}-widened.yaml")


def us_like(start: dt.date = dt.date(2010, 1, 1), *, loss_rules: bool = False) -> Pack:
    """The US pack (lots per account, FIFO default, HIFO/LIFO/LOFO/specific allowed, calendar holding rule)."""
    return widened("us", start, loss_rules=loss_rules, shown="us-widened.yaml")


@functools.cache
def ca_pack() -> Pack:
    """The bundled Canadian pack (one pool across non-registered accounts at average cost, CAD, each leg at its own date)."""
    return load_pack(JURISDICTIONS / "ca")


@functools.cache
def de_pack() -> Pack:
    """The bundled German pack (FIFO per depot, mandatory; EUR; each leg at its own date; no holding period)."""
    return load_pack(JURISDICTIONS / "de")


def household(transactions: list[Transaction], *, securities: tuple[Security, ...], accounts: tuple[Account, ...] | None = None,
              residence: str = "US", citizenship: tuple[str, ...] = (), as_of: dt.date = dt.date(2026, 12, 31),
              trades: list[Transaction] | None = None, fx_rates: str | None = None) -> Scenario:
    """One taxpayer (`alice`) with one taxable account (`acct`) unless accounts are given."""
    accounts = accounts or (Account("acct", "alice", residence, securities[0].currency),)
    return Scenario(
        as_of=as_of,
        taxpayers=(Taxpayer("alice", residence, citizenship),),
        accounts=accounts,
        securities=securities,
        transactions=tuple(transactions),
        trades=tuple(trades or ()),
        fx_rates=fx_rates,
    )


def tx(tid: str, day: dt.date, side: str, quantity: str | Decimal, price: str | Decimal, *, account: str = "acct",
       security: str = "SEC", fees: str | Decimal = "0", lots: Any = None, currency: str | None = None,
       candidate: bool = False) -> Transaction:
    return Transaction(tid, account, security, day, side, Decimal(quantity), Decimal(price), Decimal(fees),
                       currency=currency, lots=lots, candidate=candidate)
