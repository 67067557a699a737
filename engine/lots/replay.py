"""Replay a household's history and candidate trades through one jurisdiction's ledger.

Events run in date order (history before candidates on the same day; candidates in the order given),
so every sale sees exactly the lots that existed then, and every loss rule can look both back and
forward in the same event list.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

import attrs

from taxpack.engine.core.household import Scenario, Transaction
from taxpack.engine.inputs.fx import FxTable
from taxpack.engine.law.pack import Pack
from taxpack.engine.losses.family import LossRuleSet
from taxpack.engine.lots.ledger import Ledger, Sale
from taxpack.engine.lots.pool import Lot
from taxpack.engine.lots.reorganisations import apply_event, events_by_day, separate_pools


def event_order(scenario: Scenario) -> list[Transaction]:
    """History and candidate trades in the order they happen."""
    indexed = [(tx.date, 0, i, tx) for i, tx in enumerate(scenario.transactions)]
    indexed += [(tx.date, 1, i, tx) for i, tx in enumerate(scenario.trades)]
    return [item[-1] for item in sorted(indexed, key=lambda item: item[:3])]


@attrs.frozen
class LensBook:
    """The result of replaying one pack over the household: each sale and buy, and the final ledger."""

    pack: Pack
    ledger: Ledger
    sales: dict[str, Sale]
    buys: dict[str, Lot]
    foreign_cost: dict[str, Decimal] = attrs.field(factory=dict)  # after each candidate trade, for its owner


def replay(pack: Pack, scenario: Scenario, fx: FxTable, events: Sequence[Transaction] | None = None) -> LensBook:
    events = list(events) if events is not None else event_order(scenario)
    ledger = Ledger(pack, scenario, fx)
    losses = LossRuleSet(pack, scenario, ledger, events)
    sales: dict[str, Sale] = {}
    buys: dict[str, Lot] = {}
    foreign_cost: dict[str, Decimal] = {}
    # Corporate actions and cost adjustments take effect at the start of their day: that day's trades see them.
    ledger.separate = separate_pools(pack, scenario, events)
    ledger.prepare(events)
    changes = events_by_day(scenario)
    next_change = 0
    for index, tx in enumerate(events):
        while next_change < len(changes) and changes[next_change][0] <= tx.date:
            apply_event(ledger, changes[next_change][2])
            next_change += 1
        if tx.side == "buy":
            buys[tx.id] = ledger.buy(tx)
        else:
            sale = ledger.sell(tx)
            losses.on_sale(sale, index)
            sales[tx.id] = sale
        if tx.candidate:
            foreign_cost[tx.id] = ledger.foreign_cost(scenario.account(tx.account).owner)
    for _, _, change in changes[next_change:]:
        if change.date <= scenario.as_of:  # the positions after the last trade include what happened since
            apply_event(ledger, change)
    return LensBook(pack, ledger, sales, buys, foreign_cost)
