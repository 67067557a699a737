"""Small builders for loss-rule tests: a household in code, a replay, and the figures a test checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

from taxpack.engine.core.household import Account, IdentityGroup, Scenario, Security, Taxpayer, Transaction
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.load import load_pack, load_pack_text
from taxpack.engine.law.pack import Pack
from taxpack.engine.losses.family import LossRuleSet
from taxpack.engine.lots.ledger import Ledger, Sale
from taxpack.engine.lots.replay import LensBook, event_order
from tests.conftest import REPO_ROOT

DATA = Path(__file__).resolve().parent / "data"
NO_FX = FxTable({}, "none")
D = Decimal


def pack(name: str) -> Pack:
    """A bundled pack (`us`) or a test pack from tests/losses/data (`ca_superficial`, ...)."""
    path = DATA / f"{name}.yaml"
    if path.exists():
        return load_pack(path)
    return load_pack(REPO_ROOT / "jurisdictions" / name)


def pack_variant(name: str, *edits: tuple[str, str]) -> Pack:
    """A test pack with pieces of text replaced everywhere they occur (e.g. another month rounding)."""
    text = (DATA / f"{name}.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    return load_pack_text(text, f"{name}-variant.yaml")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def buy(tid: str, when: str, quantity, price, account: str = "brk", security: str = "X") -> Transaction:
    return Transaction(id=tid, account=account, security=security, date=day(when), side="buy", quantity=D(str(quantity)), price=D(str(price)))


def sell(tid: str, when: str, quantity, price, account: str = "brk", security: str = "X", lots=None) -> Transaction:
    return Transaction(id=tid, account=account, security=security, date=day(when), side="sell", quantity=D(str(quantity)),
                       price=D(str(price)), lots=lots)


def household(
    transactions: Sequence[Transaction],
    *,
    currency: str = "USD",
    residence: str = "US",
    accounts: Iterable[tuple[str, str, str]] = (("brk", "me", "taxable"),),
    securities: Iterable[tuple[str, str | None]] = (("X", None),),
    groups: Iterable[IdentityGroup] = (),
    spouse: bool = True,
    listed: bool = True,
) -> Scenario:
    """One or two taxpayers (me and my spouse), accounts (id, owner, wrapper), securities (id, identity group)."""
    taxpayers = [Taxpayer(id="me", residence=residence, citizenship=(residence,), filing_status="married_joint",
                          spouse="sp" if spouse else None)]
    taxpayers.append(Taxpayer(id="sp", residence=residence, citizenship=(residence,), filing_status="married_joint"))
    taxpayers.append(Taxpayer(id="friend", residence=residence, citizenship=(residence,), filing_status="single"))
    return Scenario(
        as_of=max(t.date for t in transactions),
        taxpayers=tuple(taxpayers),
        accounts=tuple(Account(id=a, owner=o, country=residence, currency=currency, wrapper=w) for a, o, w in accounts),
        securities=tuple(Security(id=s, currency=currency, country=residence, identity_group=g, listed=listed) for s, g in securities),
        transactions=tuple(transactions),
        identity_groups=tuple(groups),
    )


def run(p: Pack, scenario: Scenario, rules: bool = True) -> tuple[LensBook, LossRuleSet | None]:
    """Replay the household through one pack, with or without its loss rules."""
    events = event_order(scenario)
    ledger = Ledger(p, scenario, NO_FX)
    losses = LossRuleSet(p, scenario, ledger, events) if rules else None
    sales: dict[str, Sale] = {}
    buys = {}
    for index, tx in enumerate(events):
        if tx.side == "buy":
            buys[tx.id] = ledger.buy(tx)
        else:
            sale = ledger.sell(tx)
            if losses is not None:
                losses.on_sale(sale, index)
            sales[tx.id] = sale
    return LensBook(p, ledger, sales, buys), losses


def recognised(sale: Sale) -> Decimal:
    """The gain or loss the jurisdiction recognises on the sale (the ledger's sign convention for `released`)."""
    return sale.gain + sale.disallowed + sale.released


def lot_costs(book: LensBook, account: str = "brk", security: str = "X") -> list[tuple[Decimal, Decimal, dt.date]]:
    """Open lots of one pool: (quantity, cost, holding_from)."""
    out = []
    for row in book.ledger.positions():
        for lot in row["lots"]:
            if lot["account"] == account and row["security"] == security:
                out.append((lot["quantity"], lot["cost"], day(lot["holding_from"])))
    return out


def pool_cost(book: LensBook, owner: str, pool: str, security: str = "X") -> Decimal:
    for row in book.ledger.positions():
        if (row["owner"], row["pool"], row["security"]) == (owner, pool, security):
            return row["cost"]
    return D(0)


def codes(sale: Sale) -> list[str]:
    return sorted(f.code for f in sale.findings)


def finding(sale: Sale, code: str):
    found = [f for f in sale.findings if f.code == code]
    assert len(found) == 1, [f.message for f in sale.findings]
    return found[0]
