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
from decimal import Context, Decimal
from typing import Any, Iterable, Iterator, Sequence

import attrs

from taxpack.engine.core.errors import EvaluationError, Span
from taxpack.engine.core.household import RateUsed

ZERO = Decimal(0)
# Bookkeeping context: sums and differences of quantities and costs are exact (shares of a cost are
# divisions and round to the ambient 28 digits), so the slices of a lot always add up to the lot.
BOOK = Context(prec=200)


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
    adjustments: tuple[dict[str, Any], ...] = ()  # a new tuple per change: most lots have none (no list each)
    version: int = 0  # bumped when the cost per unit changes (adjust, split): older heap entries are stale
    adjusted: Decimal = ZERO  # the part of `cost` that loss rules added (lens currency), kept apart for the price/FX split

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
    adjusted: Decimal = ZERO  # the slice's share of the lot's loss-rule adjustments (included in `cost`)


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
        # The lots each purchase opened: the lot itself, or the list of its parts once one is split (most purchases
        # stay one lot: no list each). Read through `of_origin`.
        self.by_origin: dict[str, Lot | list[Lot]] = {}
        self._heaps: dict[str, list[tuple[Any, ...]]] = {}
        self.adjusted = ZERO  # on average cost: the part of `cost` that loss rules added
        self.native_currency: str | None = None  # the trade currency of the lots (their cost_native's)

    # -- building ---------------------------------------------------------------------------

    def add(self, lot: Lot) -> None:
        lots = self.lots
        last = lots[-1] if lots else None
        if last is not None and (lot.acquired < last.acquired or (lot.acquired == last.acquired and lot.seq < last.seq)):
            # Bought before a lot already held (history given out of order): keep the list in acquisition
            # order (Lot.sort_key). The search is O(log n); the insert moves pointers in C.
            index = bisect.bisect_right(lots, lot.sort_key(), lo=self.head, key=Lot.sort_key)
            lots.insert(index, lot)
        else:
            lots.append(lot)
        self._file(lot)
        add = BOOK.add
        self.quantity = add(self.quantity, lot.quantity)
        self.cost = add(self.cost, lot.cost)
        if self.native_currency is None:
            self.native_currency = lot.native_currency
        if self.cost_native is not None and lot.cost_native is not None and lot.native_currency == self.native_currency:
            self.cost_native = add(self.cost_native, lot.cost_native)
        else:
            self.cost_native = None  # bought in several currencies: the pool has no single trade-currency cost
        if self._heaps:
            for method, heap in self._heaps.items():
                heapq.heappush(heap, self._heap_entry(method, lot))

    def of_origin(self, origin: str) -> Sequence[Lot]:
        """The lots the purchase `origin` opened in this pool (one, or the parts it was split into), in the order made."""
        found = self.by_origin.get(origin)
        if found is None:
            return ()
        return found if isinstance(found, list) else (found,)

    def _file(self, lot: Lot) -> None:
        found = self.by_origin.get(lot.origin)
        if found is None:
            self.by_origin[lot.origin] = lot
        elif isinstance(found, list):
            found.append(lot)
        else:
            self.by_origin[lot.origin] = [found, lot]

    def open_lots(self) -> Iterator[Lot]:
        """The lots still holding units, in acquisition order (no copy of the list)."""
        lots = self.lots
        for i in range(self.head, len(lots)):
            lot = lots[i]
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
        """Remove `quantity` units by `method` (or the named lots) and return the slices taken.

        Nothing changes when the sale cannot be made (more than is held, a named lot short of units).
        On average cost the sale's cost is the pool's cost per unit times the quantity, computed once
        and shared among the lots it takes (which then only give quantities and dates).
        """
        if quantity <= 0:
            raise EvaluationError(f"a sale of {quantity} units: the quantity sold must be positive", span, "a positive quantity")
        if quantity > self.quantity:
            raise EvaluationError(
                f"the sale of {quantity} exceeds the {self.quantity} held in {self._describe()}", span,
                f"a quantity of at most {self.quantity}")
        share: tuple[Decimal, Decimal | None, Decimal] | None = None  # on average cost: (cost, native cost, adjusted) of the sale
        if self.average:
            whole = quantity == self.quantity
            native_total = None
            if self.cost_native is not None:
                native_total = self.cost_native if whole else self.cost_native * quantity / self.quantity
            share = (self.cost if whole else self.cost * quantity / self.quantity, native_total,
                     self.adjusted if whole else self.adjusted * quantity / self.quantity)
        plan: Iterable[tuple[Lot, Decimal]]
        if specific is not None:
            plan = self._plan_specific(quantity, specific, span)
        else:
            plan = self._plan_method(method, quantity)
        takes: list[Take] = []
        remaining = quantity
        allocated, allocated_native, allocated_adjusted = ZERO, ZERO, ZERO
        for lot, part in plan:
            remaining = BOOK.subtract(remaining, part)
            if share is None:
                takes.append(self._slice(lot, part))
                continue
            total, native_total, adjusted_total = share
            if remaining == 0:  # the last slice takes what is left of the sale's cost: the parts add up exactly
                cost = BOOK.subtract(total, allocated)
                native = BOOK.subtract(native_total, allocated_native) if native_total is not None else None
                adjusted = BOOK.subtract(adjusted_total, allocated_adjusted)
            else:
                cost = total * part / quantity
                native = native_total * part / quantity if native_total is not None else None
                adjusted = adjusted_total * part / quantity
            allocated = BOOK.add(allocated, cost)
            if native is not None:
                allocated_native = BOOK.add(allocated_native, native)
            allocated_adjusted = BOOK.add(allocated_adjusted, adjusted)
            takes.append(self._slice(lot, part, cost, native, adjusted))
        self._compact()
        return takes

    def _plan_method(self, method: str, quantity: Decimal) -> Iterator[tuple[Lot, Decimal]]:
        """Lots in the method's order with the part of each to take (lazy: the pool changes as they are taken)."""
        remaining = quantity
        for lot in self._iter_order(method):
            part = min(remaining, lot.quantity)
            remaining = BOOK.subtract(remaining, part)
            yield lot, part
            if remaining == 0:
                return

    def _plan_specific(self, quantity: Decimal, specific: list[tuple[str, Decimal]], span: Span | None) -> list[tuple[Lot, Decimal]]:
        """The named lots and parts, checked before anything is taken."""
        named = sum((qty for _, qty in specific), ZERO)
        if named != quantity:
            raise EvaluationError(f"the lots named add up to {named} but the sale is of {quantity}", span,
                                  "lot quantities that add up to the quantity sold")
        wanted: dict[str, Decimal] = {}  # per lot, in the order first named (a lot may be named twice)
        for origin, qty in specific:
            if qty <= 0:
                raise EvaluationError(f"lot '{origin}': the quantity named, {qty}, must be positive", span, "a positive quantity")
            wanted[origin] = BOOK.add(wanted.get(origin, ZERO), qty)
        plan: list[tuple[Lot, Decimal]] = []
        for origin, qty in wanted.items():
            lots = [lot for lot in self.of_origin(origin) if lot.quantity > 0]
            if not lots:
                raise EvaluationError(f"no lot '{origin}' is open in {self._describe()}", span,
                                      "the id of a buy of this security whose units are still held in this pool")
            held = sum((lot.quantity for lot in lots), ZERO)
            if held < qty:
                raise EvaluationError(f"lot '{origin}' holds {held} units, fewer than the {qty} named", span, f"at most {held}")
            remaining = qty
            for lot in lots:
                part = min(remaining, lot.quantity)
                plan.append((lot, part))
                remaining = BOOK.subtract(remaining, part)
                if remaining == 0:
                    break
        return plan

    def _slice(self, lot: Lot, part: Decimal, cost: Decimal | None = None, native: Decimal | None = None,
               adjusted: Decimal = ZERO) -> Take:
        """Take `part` units of `lot`; on average cost the caller gives the slice's share of the sale's cost."""
        if not self.average:
            cost = lot.cost if part == lot.quantity else lot.cost * part / lot.quantity
            native = None
            if lot.cost_native is not None:
                native = lot.cost_native if part == lot.quantity else lot.cost_native * part / lot.quantity
            adjusted = lot.adjusted if part == lot.quantity else lot.adjusted * part / lot.quantity
            lot.cost = BOOK.subtract(lot.cost, cost)
            lot.adjusted = BOOK.subtract(lot.adjusted, adjusted)
            if lot.cost_native is not None and native is not None:
                lot.cost_native = BOOK.subtract(lot.cost_native, native)
        else:
            self.adjusted = BOOK.subtract(self.adjusted, adjusted)
        assert cost is not None
        take = Take(lot, part, cost, native, lot.holding_from, lot.acquired, lot.adjustments, adjusted)
        # A slice leaves the lot's cost per unit as it was: its heap entries stay valid (no version bump).
        lot.quantity = BOOK.subtract(lot.quantity, part)
        self.quantity = BOOK.subtract(self.quantity, part)
        self.cost = BOOK.subtract(self.cost, cost)
        if self.cost_native is not None:
            self.cost_native = BOOK.subtract(self.cost_native, native) if native is not None else None
        if self.quantity == 0:
            self.cost = self.adjusted = ZERO  # an empty pool has no cost (the books are exact, so this only normalises -0 and 0E-n)
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
                lot = entry[-1]
                if lot.quantity == 0 or entry[-2] != lot.version:
                    # Used up, or superseded: a change of cost (adjust, split) pushed a fresh entry.
                    heapq.heappop(heap)
                    continue
                yield lot
                if lot.quantity > 0:  # the sale ended inside this lot, whose entry stays valid
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
        allocated = ZERO
        for lot in list(self.of_origin(origin)):
            if remaining == 0:
                break
            if lot.quantity == 0:
                continue
            part = min(remaining, lot.quantity)
            # The part that completes the quantity takes the rest of the amount: the shares add up exactly.
            share = BOOK.subtract(amount, allocated) if part == remaining else amount * part / quantity
            allocated = BOOK.add(allocated, share)
            target = lot if part == lot.quantity else self._split(lot, part)
            if not self.average:
                target.cost = BOOK.add(target.cost, share)
                target.adjusted = BOOK.add(target.adjusted, share)
            else:
                self.adjusted = BOOK.add(self.adjusted, share)
            target.adjustments = (*target.adjustments, {**note, "quantity": part, "amount": share})
            if holding_from is not None and holding_from < target.holding_from:
                target.holding_from = holding_from
            target.version += 1
            self.cost = BOOK.add(self.cost, share)
            if not self.average:
                for method, heap in self._heaps.items():
                    heapq.heappush(heap, self._heap_entry(method, target))
            remaining = BOOK.subtract(remaining, part)
        return BOOK.subtract(quantity, remaining)

    def _split(self, lot: Lot, part: Decimal) -> Lot:
        """Split `part` units off `lot` into a new lot right after it (same dates, proportional cost)."""
        cost = lot.cost * part / lot.quantity
        native = lot.cost_native * part / lot.quantity if lot.cost_native is not None else None
        n = len(self.of_origin(lot.origin))
        new = Lot(
            id=f"{lot.origin}.{n}", origin=lot.origin, seq=(lot.seq[0], lot.seq[1] + n), owner=lot.owner,
            account=lot.account, security=lot.security, acquired=lot.acquired, quantity=part, cost=cost,
            cost_native=native, native_currency=lot.native_currency, rate=lot.rate, holding_from=lot.holding_from,
            adjustments=lot.adjustments, adjusted=lot.adjusted * part / lot.quantity,
        )
        lot.quantity = BOOK.subtract(lot.quantity, part)
        lot.cost = BOOK.subtract(lot.cost, cost)
        lot.adjusted = BOOK.subtract(lot.adjusted, new.adjusted)
        if lot.cost_native is not None and native is not None:
            lot.cost_native = BOOK.subtract(lot.cost_native, native)
        lot.version += 1
        # Right after its parent and earlier splits (same date, later seq): O(log n) search, no list.index.
        index = bisect.bisect_right(self.lots, new.sort_key(), lo=self.head, key=Lot.sort_key)
        self.lots.insert(index, new)
        self._file(new)
        for method, heap in self._heaps.items():
            heapq.heappush(heap, self._heap_entry(method, lot))
            heapq.heappush(heap, self._heap_entry(method, new))
        return new

    # -- corporate actions (engine/lots/reorganisations.py) --------------------------------------

    def _repush(self, lot: Lot) -> None:
        lot.version += 1
        for method, heap in self._heaps.items():
            heapq.heappush(heap, self._heap_entry(method, lot))

    def scale(self, lots: list[Lot], new: Decimal, old: Decimal, note: dict[str, Any]) -> None:
        """Each lot holds `new` units for `old` at the same cost and dates (a split, a stock dividend spreading the cost)."""
        for lot in lots:
            units = BOOK.multiply(lot.quantity, new) / old
            self.quantity = BOOK.add(self.quantity, BOOK.subtract(units, lot.quantity))
            lot.quantity = units
            lot.adjustments = (*lot.adjustments, dict(note))
            self._repush(lot)

    def _shares(self, lots: list[Lot], fraction: Decimal = Decimal(1)) -> list[tuple[Lot, Decimal, Decimal | None, Decimal]]:
        """(lot, cost, native cost, loss-rule part) of `fraction` of each lot: its own on lots, its share of the pool's on average cost."""
        out = []
        for lot in lots:
            if self.average:
                share = lot.quantity / self.quantity if self.quantity else ZERO
                native = self.cost_native * share * fraction if self.cost_native is not None else None
                out.append((lot, self.cost * share * fraction, native, self.adjusted * share * fraction))
            else:
                native = lot.cost_native * fraction if lot.cost_native is not None else None
                out.append((lot, lot.cost * fraction, native, lot.adjusted * fraction))
        return out

    def remove(self, lots: list[Lot]) -> list[tuple[Lot, Decimal, Decimal, Decimal | None, Decimal]]:
        """Take these lots out whole (to another pool): each with its units, cost, native cost and loss-rule part."""
        shares = [(lot, lot.quantity, cost, native, adjusted) for lot, cost, native, adjusted in self._shares(lots)]
        for lot, _units, cost, native, adjusted in shares:
            self.quantity = BOOK.subtract(self.quantity, lot.quantity)
            self.cost = BOOK.subtract(self.cost, cost)
            if self.cost_native is not None:
                self.cost_native = BOOK.subtract(self.cost_native, native) if native is not None else None
            if self.average:
                self.adjusted = BOOK.subtract(self.adjusted, adjusted)
            lot.quantity = ZERO
        if self.quantity == 0:
            self.cost = self.adjusted = ZERO
            if self.cost_native is not None:
                self.cost_native = ZERO
        self._compact()
        return shares

    def split_cost(self, lots: list[Lot], fraction: Decimal, note: dict[str, Any]) -> list[tuple[Lot, Decimal, Decimal | None]]:
        """Move `fraction` of these lots' cost out of the pool (to a spun-off security); the lots keep their units and dates."""
        moved = []
        for lot, cost, native, adjusted in self._shares(lots, fraction):
            self.cost = BOOK.subtract(self.cost, cost)
            if self.cost_native is not None and native is not None:
                self.cost_native = BOOK.subtract(self.cost_native, native)
            if self.average:
                self.adjusted = BOOK.subtract(self.adjusted, adjusted)
            else:
                lot.cost = BOOK.subtract(lot.cost, cost)
                lot.adjusted = BOOK.subtract(lot.adjusted, adjusted)
                if lot.cost_native is not None and native is not None:
                    lot.cost_native = BOOK.subtract(lot.cost_native, native)
            lot.adjustments = (*lot.adjustments, dict(note))
            self._repush(lot)
            moved.append((lot, cost, native))
        return moved

    def reduce_cost(self, lots: list[Lot], amount: Decimal, native: Decimal | None, note: dict[str, Any]) -> list[tuple[Lot, Decimal]]:
        """Reduce the cost of these lots by `amount` (negative: add to it), shared by units; a cost cannot go below zero:
        the lots (or the pool, on average cost) whose reduction exceeds their cost are returned with the excess."""
        units = sum((lot.quantity for lot in lots), ZERO)
        excesses: list[tuple[Lot, Decimal]] = []
        if self.average:
            # One cost for the pool (CA s.47): the reduction of the whole pool, and one excess.
            total_native = native
            self.cost = BOOK.subtract(self.cost, amount)
            if self.cost_native is not None and total_native is not None:
                self.cost_native = max(BOOK.subtract(self.cost_native, total_native), ZERO)
            if self.cost < 0:
                excesses.append((lots[0], -self.cost))
                self.cost = ZERO
            for lot in lots:
                lot.adjustments = (*lot.adjustments, dict(note))
            return excesses
        for lot in lots:
            part = amount * lot.quantity / units
            native_part = native * lot.quantity / units if native is not None else None
            new_cost = BOOK.subtract(lot.cost, part)
            if new_cost < 0:
                excesses.append((lot, -new_cost))
                part = lot.cost
                new_cost = ZERO
            lot.cost = new_cost
            self.cost = BOOK.subtract(self.cost, part)
            if lot.cost_native is not None and native_part is not None:
                applied = min(native_part, lot.cost_native)
                lot.cost_native = BOOK.subtract(lot.cost_native, applied)
                if self.cost_native is not None:
                    self.cost_native = BOOK.subtract(self.cost_native, applied)
            lot.adjustments = (*lot.adjustments, dict(note))
            self._repush(lot)
        return excesses

    def _describe(self) -> str:
        return " / ".join(self.key)
