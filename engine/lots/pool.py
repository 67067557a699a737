"""A pool of identical securities as one jurisdiction sees it, and the lots in it.

The pool's scope comes from the pack: one per account (US; Germany per depot), or one across all of a
taxpayer's taxable accounts (Canada s.47, France). Lots keep their own cost until the pool is on
average cost, where only the pool's total cost matters and lots only carry quantities and dates.
Structures are chosen so a sale costs O(k log n) for the k lots it touches, not O(n).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from decimal import Decimal
from typing import Any, Iterator

import attrs

from ..errors import EvaluationError, Span
from ..model import RateUsed

ZERO = Decimal(0)


@attrs.define(eq=False)
class Lot:
    """Units bought together (or the part of them a wash sale adjusted), with their cost in the lens currency."""

    id: str
    origin: str  # the buy transaction that opened it
    seq: tuple[int, int]  # creation order, for stable sorting (split parts sort after their parent)
    owner: str
    account: str
    security: str
    acquired: dt.date
    quantity: Decimal
    cost: Decimal  # total, lens currency, fees included, adjustments included (unused on average pools)
    cost_native: Decimal | None  # total in the trade currency (for the price/FX split)
    native_currency: str
    rate: RateUsed | None
    holding_from: dt.date  # start of the holding period (earlier than `acquired` after tacking)
    adjustments: list[dict[str, Any]] = attrs.field(factory=list)
    version: int = 0

    def sort_key(self) -> tuple[dt.date, tuple[int, int]]:
        return (self.acquired, self.seq)


@attrs.frozen
class Take:
    """A slice of a lot consumed by a sale: the lot as it was, the quantity and the cost taken."""

    lot: Lot
    quantity: Decimal
    cost: Decimal
    cost_native: Decimal | None
    holding_from: dt.date
    acquired: dt.date
    adjustments: tuple[dict[str, Any], ...] = ()


class Pool:
    """Open lots of one security in one pool scope."""

    def __init__(self, key: tuple[str, ...], average: bool = False) -> None:
        self.key = key
        self.average = average
        self.lots: list[Lot] = []
        self.head = 0
        self.quantity = ZERO
        self.cost = ZERO
        self.cost_native: Decimal | None = ZERO
        self.by_origin: dict[str, list[Lot]] = {}
        self._heaps: dict[str, list[tuple[Any, ...]]] = {}

    # -- building ---------------------------------------------------------------------------

    def add(self, lot: Lot) -> None:
        if self.lots and lot.sort_key() < self.lots[-1].sort_key():
            keys = [l.sort_key() for l in self.lots]
            self.lots.insert(bisect.bisect_right(keys, lot.sort_key()), lot)
            self.head = 0
        else:
            self.lots.append(lot)
        self.by_origin.setdefault(lot.origin, []).append(lot)
        self.quantity += lot.quantity
        self.cost += lot.cost
        if self.cost_native is not None and lot.cost_native is not None:
            self.cost_native += lot.cost_native
        else:
            self.cost_native = None
        for method, heap in self._heaps.items():
            heapq.heappush(heap, self._heap_entry(method, lot))

    def open_lots(self) -> Iterator[Lot]:
        for lot in self.lots[self.head:]:
            if lot.quantity > 0:
                yield lot

    def unit_cost(self, lot: Lot) -> Decimal:
        if self.average:
            return self.cost / self.quantity if self.quantity else ZERO
        return lot.cost / lot.quantity if lot.quantity else ZERO

    def lot_cost(self, lot: Lot) -> Decimal:
        """A lot's cost as the law sees it now (its share of the pool's total on average cost)."""
        if self.average:
            return self.cost * lot.quantity / self.quantity if self.quantity else ZERO
        return lot.cost

    def switch_to_average(self) -> None:
        """From now on the pool is on average cost (an election, or the mandatory method)."""
        self.average = True

    # -- consuming -------------------------------------------------------------------------

    def take(self, method: str, quantity: Decimal, specific: list[tuple[str, Decimal]] | None = None, span: Span | None = None) -> list[Take]:
        """Remove `quantity` units by `method` (or the named lots) and return the slices taken."""
        if quantity > self.quantity:
            raise EvaluationError(
                f"the sale of {quantity} exceeds the {self.quantity} held in {self._describe()}", span,
                f"a quantity of at most {self.quantity}")
        takes: list[Take] = []
        if specific is not None:
            for origin, qty in specific:
                remaining = qty
                for lot in self.by_origin.get(origin, []):
                    if remaining == 0:
                        break
                    if lot.quantity == 0:
                        continue
                    part = min(remaining, lot.quantity)
                    takes.append(self._slice(lot, part))
                    remaining -= part
                if remaining > 0:
                    held = sum((l.quantity for l in self.by_origin.get(origin, [])), ZERO) + (qty - remaining)
                    raise EvaluationError(f"lot '{origin}' holds {held} units, fewer than the {qty} named", span, f"at most {held}")
        else:
            remaining = quantity
            for lot in self._iter_order(method):
                part = min(remaining, lot.quantity)
                takes.append(self._slice(lot, part))
                remaining -= part
                if remaining == 0:
                    break
        self._compact()
        return takes

    def _slice(self, lot: Lot, part: Decimal) -> Take:
        if self.average:
            cost = self.cost if part == self.quantity else self.cost * part / self.quantity
            native = None
            if self.cost_native is not None:
                native = self.cost_native if part == self.quantity else self.cost_native * part / self.quantity
        else:
            cost = lot.cost if part == lot.quantity else lot.cost * part / lot.quantity
            native = None
            if lot.cost_native is not None:
                native = lot.cost_native if part == lot.quantity else lot.cost_native * part / lot.quantity
            lot.cost -= cost
            if lot.cost_native is not None and native is not None:
                lot.cost_native -= native
        take = Take(lot, part, cost, native, lot.holding_from, lot.acquired, tuple(lot.adjustments))
        lot.quantity -= part
        lot.version += 1
        self.quantity -= part
        self.cost -= cost
        if self.cost_native is not None:
            self.cost_native = self.cost_native - native if native is not None else None
        if self.quantity == 0:
            self.cost = ZERO  # no residue from divisions once the pool is empty
            if self.cost_native is not None:
                self.cost_native = ZERO
        return take

    def _iter_order(self, method: str) -> Iterator[Lot]:
        if method in ("fifo", "average"):
            i = self.head
            while i < len(self.lots):
                lot = self.lots[i]
                if lot.quantity > 0:
                    yield lot
                i += 1
        elif method == "lifo":
            i = len(self.lots) - 1
            while i >= self.head:
                lot = self.lots[i]
                if lot.quantity > 0:
                    yield lot
                i -= 1
        elif method in ("hifo", "lofo"):
            heap = self._heap(method)
            while heap:
                entry = heap[0]
                lot: Lot = entry[-1]
                if lot.quantity == 0 or entry[-2] != lot.version:
                    heapq.heappop(heap)
                    if lot.quantity > 0:
                        heapq.heappush(heap, self._heap_entry(method, lot))
                    continue
                yield lot
                if lot.quantity > 0 and entry[-2] == lot.version:  # untouched: stop to avoid looping
                    return
        else:  # pragma: no cover
            raise ValueError(method)

    def _heap(self, method: str) -> list[tuple[Any, ...]]:
        if method not in self._heaps:
            heap = [self._heap_entry(method, lot) for lot in self.open_lots()]
            heapq.heapify(heap)
            self._heaps[method] = heap
        return self._heaps[method]

    def _heap_entry(self, method: str, lot: Lot) -> tuple[Any, ...]:
        unit = lot.cost / lot.quantity if lot.quantity else ZERO
        key = -unit if method == "hifo" else unit
        return (key, lot.acquired, lot.seq, lot.version, lot)

    def _compact(self) -> None:
        while self.head < len(self.lots) and self.lots[self.head].quantity == 0:
            self.head += 1
        while len(self.lots) > self.head and self.lots[-1].quantity == 0:
            self.lots.pop()
        if self.head > 1024 and self.head > len(self.lots) // 2:
            self.lots = self.lots[self.head:]
            self.head = 0

    # -- adjusting -------------------------------------------------------------------------

    def adjust(self, origin: str, quantity: Decimal, amount: Decimal, holding_from: dt.date | None, note: dict[str, Any]) -> Decimal:
        """Add `amount` to the cost of `quantity` units of the lots opened by `origin` (splitting a lot if needed).

        Returns the quantity actually adjusted (less than asked when fewer units remain open).
        """
        remaining = quantity
        for lot in list(self.by_origin.get(origin, [])):
            if remaining == 0:
                break
            if lot.quantity == 0:
                continue
            part = min(remaining, lot.quantity)
            share = amount * part / quantity if part != quantity else amount
            target = lot if part == lot.quantity else self._split(lot, part)
            if not self.average:
                target.cost += share
            target.adjustments.append({**note, "quantity": part, "amount": share})
            if holding_from is not None and holding_from < target.holding_from:
                target.holding_from = holding_from
            target.version += 1
            self.cost += share
            if not self.average:
                for method, heap in self._heaps.items():
                    heapq.heappush(heap, self._heap_entry(method, target))
            remaining -= part
        return quantity - remaining

    def _split(self, lot: Lot, part: Decimal) -> Lot:
        """Split `part` units off `lot` into a new lot right after it (same dates, proportional cost)."""
        cost = lot.cost * part / lot.quantity
        native = lot.cost_native * part / lot.quantity if lot.cost_native is not None else None
        n = len(self.by_origin[lot.origin])
        new = Lot(
            id=f"{lot.origin}.{n}", origin=lot.origin, seq=(lot.seq[0], lot.seq[1] + n), owner=lot.owner,
            account=lot.account, security=lot.security, acquired=lot.acquired, quantity=part, cost=cost,
            cost_native=native, native_currency=lot.native_currency, rate=lot.rate, holding_from=lot.holding_from,
            adjustments=list(lot.adjustments),
        )
        lot.quantity -= part
        lot.cost -= cost
        if lot.cost_native is not None and native is not None:
            lot.cost_native -= native
        lot.version += 1
        index = self.lots.index(lot)
        self.lots.insert(index + 1, new)
        self.by_origin[lot.origin].append(new)
        for method, heap in self._heaps.items():
            heapq.heappush(heap, self._heap_entry(method, lot))
            heapq.heappush(heap, self._heap_entry(method, new))
        return new

    def _describe(self) -> str:
        return " / ".join(self.key)
