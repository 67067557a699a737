"""A lens's year bill as pieces the planner's program can write: polyhedral cells, each with a linear tax.

`YearBill.compute` prices a year from the net amount of each basket: offsets between baskets (each a
min of a loss and a share of a gain), the net loss that reduces other income up to a limit, the
inclusion rate and the allowance, rates or brackets stacked on other income, surtaxes and surcharges.
Every step is linear once it is known which side of each comparison the amounts fall on. Running the
same steps on affine expressions of the baskets' nets, and forking at every comparison whose side the
amounts do not fix, splits the box of possible nets into cells on which the tax is linear: the year's
tax is exactly the piecewise-linear function the cells describe. The planner writes their union as a
disjunction (Balas' convex hull, as for the US netting before), so its relaxation is the convex
envelope of the tax over the box, and the tax is exact wherever the solver lands.

The steps mirror `YearBill.compute` one by one, reading every value through the same `YearBill`
(`value`, the taxpayer's income and marginal rate); `tests/plan/test_year_model.py` checks that every
cell's tax equals `YearBill.compute` at points inside it. Cells that cannot hold inside the box are
pruned with a small linear program.

Tests on the year's sale prices (a basket exempt when they are small, the part above a cap moved) are not
steps here: the plan's amounts come without their sale prices, and YearBill then does not apply the tests
either (`YearLens.price_at` marks them so); a basket the plan cannot move keeps the history's result, a
constant the calibration adds (or, where it is not one, the model is refused).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Iterator, Mapping, Sequence

import attrs

from taxpack.engine.consequences.year_bill import YearBill
from taxpack.engine.law import year_rules as _year_rules

ZERO = Decimal(0)
ONE = Decimal(1)
PART = getattr(_year_rules, "PART", "@")  # how a spread basket's amounts are keyed per tax year


@attrs.frozen
class Aff:
    """An affine expression of the baskets' opening nets: sum(coef[b] x N_b) + const."""

    coef: Mapping[str, Decimal] = attrs.field(factory=dict)
    const: Decimal = ZERO

    @staticmethod
    def of(value: Decimal) -> "Aff":
        return Aff({}, Decimal(value))

    def __add__(self, other: "Aff") -> "Aff":
        coef = dict(self.coef)
        for k, v in other.coef.items():
            coef[k] = coef.get(k, ZERO) + v
        return Aff({k: v for k, v in coef.items() if v != 0}, self.const + other.const)

    def __neg__(self) -> "Aff":
        return Aff({k: -v for k, v in self.coef.items()}, -self.const)

    def __sub__(self, other: "Aff") -> "Aff":
        return self + (-other)

    def scale(self, factor: Decimal) -> "Aff":
        factor = Decimal(factor)
        if factor == 0:
            return Aff()
        return Aff({k: v * factor for k, v in self.coef.items()}, self.const * factor)

    @property
    def constant(self) -> bool:
        return not self.coef

    def at(self, point: Mapping[str, Decimal]) -> Decimal:
        return self.const + sum((v * point.get(k, ZERO) for k, v in self.coef.items()), ZERO)

    def bounds(self, box: Mapping[str, tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
        lo = hi = self.const
        for k, v in self.coef.items():
            a, b = box[k]
            lo += min(v * a, v * b)
            hi += max(v * a, v * b)
        return lo, hi


@attrs.frozen
class Cell:
    """Where the nets satisfy every `constraints` (each >= 0), the year's tax is `tax` and the part a
    foreign tax credit may reduce is `creditable`."""

    constraints: tuple[Aff, ...]
    tax: Aff
    creditable: Aff


class _Fork(Exception):
    def __init__(self, expr: Aff) -> None:
        super().__init__("fork")
        self.expr = expr


class _Path:
    """One run of the steps: the sides already chosen, and the constraints they add."""

    def __init__(self, choices: Sequence[bool], box: Mapping[str, tuple[Decimal, Decimal]]) -> None:
        self.choices = choices
        self.at = 0
        self.box = box
        self.constraints: list[Aff] = []
        self.missing: list[str] = []
        self.decided: dict[tuple[Any, ...], bool] = {}  # a comparison met again is answered as before

    def ge0(self, expr: Aff) -> bool:
        """Whether `expr >= 0` here: decided by the box when it can be, else by the next choice (or a fork)."""
        lo, hi = expr.bounds(self.box)
        if lo >= 0:
            return True
        if hi <= 0:
            return False
        key = _key(expr)
        if key in self.decided:
            return self.decided[key]
        if _key(-expr) in self.decided:
            return not self.decided[_key(-expr)]
        if self.at < len(self.choices):
            choice = self.choices[self.at]
            self.at += 1
            self.constraints.append(expr if choice else -expr)
            self.decided[key] = choice
            return choice
        raise _Fork(expr)

    def need(self, value: tuple[Any, tuple[str, ...]]) -> Any:
        found, missing = value
        self.missing.extend(missing)
        return found


def _key(expr: Aff) -> tuple[Any, ...]:
    return (tuple(sorted(expr.coef.items())), expr.const)


def cells(bill: YearBill, box: Mapping[str, tuple[Decimal, Decimal]], carried: Mapping[str, Decimal] | None = None,
          price: Callable[[Mapping[str, Decimal]], Any] | None = None) -> tuple[list[Cell], tuple[str, ...]]:
    """The cells of `bill`'s tax over `box` (basket -> (lowest, highest) net of the basket's own gains and
    losses), with `carried` (basket -> loss carried in) applied as YearBill applies it; and anything missing.

    With `price` (the YearBill of a point: its Bill), each cell is checked at a point inside it: a constant
    difference common to every cell (a tax the plan cannot move, e.g. gains of the year spread over their
    holding period) is added to the cells; any other difference means the steps here no longer mirror
    YearBill, and the model is refused (named in `missing`), never used wrong."""
    out: list[Cell] = []
    missing: set[str] = set()
    pending: list[list[bool]] = [[]]
    while pending:
        choices = pending.pop()
        path = _Path(choices, box)
        try:
            tax, creditable = _steps(bill, path, carried or {})
        except _Fork as fork:
            for side in (True, False):  # pushed in reverse: the >= 0 side is explored first
                constraint = fork.expr if side else -fork.expr
                if feasible([*path.constraints, constraint], box):
                    pending.append([*choices, side])
            continue
        missing.update(path.missing)
        out.append(Cell(tuple(path.constraints), tax, creditable))
    if price is not None and out and not missing:
        out, wrong = _calibrated(out, box, price)
        if wrong:
            missing.add(wrong)
    return out, tuple(sorted(missing))


def _calibrated(found: list[Cell], box: Mapping[str, tuple[Decimal, Decimal]],
                price: Callable[[Mapping[str, Decimal]], Any]) -> tuple[list[Cell], str | None]:
    differences = []
    for cell in found:
        point = _point(cell.constraints, box)
        if point is None:
            continue
        bill = price(point)
        if bill.tax is None or bill.creditable is None:
            return found, "; ".join(bill.missing) or "a value the year needs"
        differences.append((bill.tax - cell.tax.at(point), bill.creditable - cell.creditable.at(point)))
    if not differences:
        return found, None
    tax, creditable = differences[0]
    if any(abs(t - tax) > TOLERANCE or abs(c - creditable) > TOLERANCE for t, c in differences):
        return found, "a step of the year the planner does not model (its cells differ from YearBill)"
    if abs(tax) <= TOLERANCE and abs(creditable) <= TOLERANCE:
        return found, None
    return [Cell(c.constraints, c.tax + Aff.of(tax), c.creditable + Aff.of(creditable)) for c in found], None


TOLERANCE = Decimal("0.01")


def evaluate(cell_list: Sequence[Cell], point: Mapping[str, Decimal]) -> Cell | None:
    """The first cell holding `point` (for tests and checks)."""
    for cell in cell_list:
        if all(c.at(point) >= 0 for c in cell.constraints):
            return cell
    return None


def _steps(bill: YearBill, path: _Path, carried: Mapping[str, Decimal]) -> tuple[Aff, Aff]:
    """`YearBill.compute` on affine nets of the baskets' own gains and losses (step 1's netting is `opening`)."""
    rules = bill.rules
    section = bill.section
    estimate = bill.estimate
    jurisdiction = bill.jurisdiction
    # A basket the box does not let move is a constant (so a basket the plan never touches asks for nothing).
    net: dict[str, Aff] = {b.id: Aff.of(path.box[b.id][0]) if path.box[b.id][0] == path.box[b.id][1] else Aff({b.id: ONE})
                           for b in rules.baskets}
    spread = {b.id for b in rules.baskets if _spreads(rules, b.id)}
    for b in spread:
        if not net[b].constant:
            path.missing.append(f"gains spread over their holding period ({rules.basket(b).title}) are not modelled by the planner")

    # 1. Weights, pots, ordinary losses (where the pack's baskets have them).
    ordinary_saving = Aff()
    for basket in rules.baskets:
        weight = getattr(basket, "weight", None)
        if weight is not None:
            value = path.need(bill.value(weight))
            if value is not None:
                net[basket.id] = net[basket.id].scale(Decimal(value))
    for basket in rules.baskets:
        into = getattr(basket, "into", None)
        if into is not None:
            net[into] = net.get(into, Aff()) + net[basket.id]
            net[basket.id] = Aff()
    ordinary = Aff()
    for basket in rules.baskets:
        if basket.losses == "ordinary" and not path.ge0(net[basket.id]):
            ordinary = ordinary - net[basket.id]
            net[basket.id] = Aff()
    for basket in rules.baskets:
        loss_weight = getattr(basket, "loss_weight", None)
        if loss_weight is not None and not path.ge0(net[basket.id]):
            value = path.need(bill.value(loss_weight))
            if value is not None:
                net[basket.id] = net[basket.id].scale(Decimal(value))
    if not (ordinary.constant and ordinary.const == 0):
        rate = bill.taxpayer.marginal_rate.get(jurisdiction)
        if rate is None:
            path.missing.append(f"marginal_rate for {jurisdiction}")
        else:
            ordinary_saving = ordinary.scale(rate)

    # 2. Losses carried in.
    for into, amount in carried.items():
        net[into] = net.get(into, Aff()) - Aff.of(amount)

    # 3. Offsets, in the pack's order and share.
    for offset in rules.offsets:
        for target in offset.against:
            if path.ge0(net.get(offset.loss, Aff())):
                break
            if path.ge0(-net.get(target, Aff())):
                continue
            cap = net[target]
            if offset.share is not None:
                share = path.need(bill.value(offset.share))
                if share is None:
                    continue
                cap = cap.scale(Decimal(share))
            loss = -net[offset.loss]
            use = loss if path.ge0(cap - loss) else cap
            net[offset.loss] = net[offset.loss] + use
            net[target] = net[target] - use

    # 4. A net loss left may reduce other income up to a limit, at the marginal rate.
    saving = ordinary_saving
    rule = rules.other_income_offset
    if rule is not None:
        loss_left = Aff()
        for b in rule.order:
            if b in net and not path.ge0(net[b]):
                loss_left = loss_left - net[b]
        if not loss_left.constant or loss_left.const > 0:
            limit = path.need(bill.value(rule.limit))
            if limit is not None:
                cap = Aff.of(Decimal(limit))
                deduction = loss_left if path.ge0(cap - loss_left) else cap
                if rule.saving != "none":
                    rate = bill.taxpayer.marginal_rate.get(jurisdiction)
                    if rate is None:
                        path.missing.append(f"marginal_rate for {jurisdiction}")
                    else:
                        saving = deduction.scale(rate)

    # 6. Inclusion, allowance.
    inclusion = Decimal(path.need(bill.value(section.get("inclusion_rate", 1))) or 1)
    base: dict[str, Aff] = {}
    positive: dict[str, Aff] = {}
    for each in rules.baskets:
        share = inclusion if each.inclusion is None else inclusion * Decimal(path.need(bill.value(each.inclusion)) or 0)
        positive[each.id] = net[each.id] if path.ge0(net[each.id]) else Aff()
        base[each.id] = positive[each.id].scale(share)
    if section.get("allowance") is not None:
        allowance = path.need(bill.value(section["allowance"]))
        left = Aff.of(Decimal(allowance) if allowance is not None else ZERO)
        if rules.allowance_threshold:
            within = Aff()
            for b in rules.allowance_order:
                within = within + base.get(b, Aff())
            # at_most: taxed when above the threshold; below: taxed from it (the boundary itself is a face either way)
            if (not path.ge0(left - within)) if rules.allowance_threshold == "at_most" else path.ge0(within - left):
                left = Aff()
        for b in rules.allowance_order:
            if b not in base:
                continue
            take = left if path.ge0(base[b] - left) else base[b]
            base[b] = base[b] - take
            left = left - take

    # Rates.
    tax = Aff()
    pooled = Aff()
    for basket in rules.baskets:
        if basket.tax is None:
            pooled = pooled + base[basket.id]
    for basket in rules.baskets:
        if basket.id in spread:
            base[basket.id] = Aff()  # taxed on its own (a constant here: the calibration adds it)
    for basket in rules.baskets:
        if basket.tax is not None and basket.id not in spread:
            stack = Aff()
            for b in basket.stack_on:
                stack = stack + base[b]
            tax = tax + _tax_by(bill, path, {**estimate, **basket.tax}, base[basket.id], stack)
    stack = Aff()
    for basket in rules.baskets:
        if basket.tax is None:
            for b in basket.stack_on:
                stack = stack + base[b]
    tax = tax + _tax_by(bill, path, estimate, pooled, stack)
    gain = Aff()
    for each in rules.baskets:
        gain = gain + positive[each.id]
    not_creditable = Aff()
    unsurcharged = Aff()
    for surtax in estimate.get("surtaxes") or []:
        scope = surtax.get("baskets")
        reach = gain
        if surtax.get("on", "net") == "taxable" or scope:
            values = base if surtax.get("on") == "taxable" else positive
            reach = Aff()
            for b, v in values.items():
                if not scope or b in scope:
                    reach = reach + v
        part = _surtax(bill, path, surtax, reach)
        tax = tax + part
        if surtax.get("surcharged") is False:
            unsurcharged = unsurcharged + part
        if surtax.get("creditable") is False:
            not_creditable = not_creditable + part
    for surcharge in estimate.get("surcharges") or []:
        rate = path.need(bill.value(surcharge["rate"]))
        if rate is not None:
            tax = tax + (tax - unsurcharged).scale(Decimal(rate))
    total = tax - saving
    return total, total - not_creditable


def _spreads(rules: Any, basket: str) -> bool:
    spread = getattr(rules, "spread", None)
    return bool(spread(basket)) if spread is not None else False


def opening(ly: Any) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """A lens year's nets per basket of its own gains and losses (a basket that allows no loss keeps its gains;
    a basket that spreads its gains over the years sums its parts), and the losses carried into each basket
    as YearBill carries them (oldest first; not expired; into their basket or the pack's pool)."""
    rules, billing = ly.rules, ly.billing
    raw: dict[str, Decimal] = {}
    for basket in rules.baskets:
        if _spreads(rules, basket.id):
            prefix = f"{basket.id}{PART}"
            raw[basket.id] = sum((t.gains + t.losses for k, t in ly.totals.items() if k.startswith(prefix)), ZERO)
            continue
        t = ly.totals.get(basket.id)
        if t is None:
            raw[basket.id] = ZERO
        else:
            raw[basket.id] = t.gains if basket.losses == "not_allowed" else t.gains + t.losses
    carried: dict[str, Decimal] = {}
    for c, use in billing.carried_use(ly.carried, ly.year):  # the same choice of usable losses and yearly caps as YearBill.compute
        keeps = rules.carry_forward and rules.carry_forward.keeps_basket and c.basket in raw
        target = c.basket if keeps else billing._pool()
        if use > 0:
            carried[target] = carried.get(target, ZERO) + use
    return raw, carried


def _tax_by(bill: YearBill, path: _Path, spec: Mapping[str, Any], base: Aff, stack: Aff) -> Aff:
    if base.constant and base.const == 0:
        return Aff()
    method = spec.get("method")
    jurisdiction = bill.jurisdiction
    if method == "flat":
        rate = path.need(bill.value(spec["rate"]))
        return Aff() if rate is None else base.scale(Decimal(rate))
    if method == "marginal_rate":
        rate = bill.taxpayer.marginal_rate.get(jurisdiction)
        if rate is None:
            path.missing.append(f"marginal_rate for {jurisdiction}")
            return Aff()
        return base.scale(rate)
    if method == "brackets":
        if bill.other_income is None:
            path.missing.append(f"other_income for {jurisdiction}")
            return Aff()
        brackets = path.need(bill.value(spec["brackets"]))
        if brackets is None:
            return Aff()
        below = stack + Aff.of(bill.other_income)
        return _bracket_tax(path, brackets, below + base) - _bracket_tax(path, brackets, below)
    path.missing.append(f"a known estimate method (got {method!r}) in pack {bill.pack.id}")
    return Aff()


def _bracket_tax(path: _Path, brackets: list[Mapping[str, Any]], amount: Aff) -> Aff:
    """`year_bill.bracket_tax` on an affine amount: the bracket it ends in is a choice of the path."""
    tax = Aff()
    for i, bracket in enumerate(brackets):
        start = Decimal(bracket["from"])
        end = Decimal(brackets[i + 1]["from"]) if i + 1 < len(brackets) else None
        if path.ge0(Aff.of(start) - amount):
            break
        rate = Decimal(bracket["rate"])
        if end is not None and path.ge0(amount - Aff.of(end)):
            tax = tax + Aff.of((end - start) * rate)
        else:
            tax = tax + (amount - Aff.of(start)).scale(rate)
            break
    return tax


def _surtax(bill: YearBill, path: _Path, spec: Mapping[str, Any], gain: Aff) -> Aff:
    if path.ge0(-gain):
        return Aff()
    status = bill.taxpayer.filing_status
    if status is None or bill.other_income is None:
        path.missing.append(f"{'filing_status' if status is None else 'other_income'} for {bill.jurisdiction} (for {spec.get('id', 'a surtax')})")
        return Aff()
    threshold = path.need(bill.value(spec["threshold"]))
    rate = path.need(bill.value(spec["rate"]))
    if threshold is None or rate is None:
        return Aff()
    excess = Aff.of(bill.other_income - Decimal(threshold)) + gain
    if not path.ge0(excess):
        return Aff()
    return (gain if path.ge0(excess - gain) else excess).scale(Decimal(rate))


# -- small linear programs: is a cell possible inside the box, and the range of an expression ------------


INTERIOR = Decimal("0.005")  # a cell thinner than this (money) is a face of its neighbours: they cover it


def feasible(constraints: Sequence[Aff], box: Mapping[str, tuple[Decimal, Decimal]]) -> bool:
    """Whether the constraints leave a cell with an interior in the box (a face alone is its neighbours')."""
    return _lp([Aff(c.coef, c.const - INTERIOR) for c in constraints], box, None, 1) is not None


def extreme(cell_list: Sequence[Cell], box: Mapping[str, tuple[Decimal, Decimal]], of: str, sense: int) -> Decimal:
    """The least (sense 1) or greatest (sense -1) value of each cell's `of` ('tax' or 'creditable') over the box."""
    values = []
    for cell in cell_list:
        value = _lp(cell.constraints, box, getattr(cell, of), sense)
        if value is not None:
            values.append(value)
    if not values:
        return ZERO
    return min(values) if sense > 0 else max(values)


def _point(constraints: Sequence[Aff], box: Mapping[str, tuple[Decimal, Decimal]]) -> dict[str, Decimal] | None:
    """A point well inside the cell (each constraint at least INTERIOR from its bound where the cell allows)."""
    found: dict[str, Decimal] = {}
    if _lp([Aff(c.coef, c.const - INTERIOR) for c in constraints], box, None, 1, found) is None:
        return None
    return found


def _lp(constraints: Sequence[Aff], box: Mapping[str, tuple[Decimal, Decimal]], objective: Aff | None, sense: int,
        point: dict[str, Decimal] | None = None) -> Decimal | None:
    """Solve min (sense 1) or max (sense -1) of `objective` over the box and `constraints`; None if infeasible."""
    from taxpack.engine.plan.milp import _highs, _num, _quiet

    highspy = _highs()
    keys = sorted(box)
    h = _quiet(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    # A little room on the box, so that cells touching it at a point still count (the solver's tolerance).
    for k in keys:
        lo, hi = box[k]
        h.addVar(_num(lo) - 1e-6, _num(hi) + 1e-6)
    index = {k: i for i, k in enumerate(keys)}
    for c in constraints:
        cols = [index[k] for k in c.coef]
        if not cols:
            continue
        h.addRow(-_num(c.const) - 1e-7, highspy.kHighsInf, len(cols), cols, [_num(v) for k, v in c.coef.items()])
    if objective is not None:
        for k, v in objective.coef.items():
            h.changeColCost(index[k], _num(v) * sense)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return None
    if point is not None:
        values = h.getSolution().col_value
        for k in keys:
            lo, hi = box[k]
            point[k] = min(hi, max(lo, Decimal(repr(values[index[k]]))))
    if objective is None:
        return ZERO
    value = Decimal(repr(h.getInfo().objective_function_value)) * sense + objective.const
    return value


def each_point(box: Mapping[str, tuple[Decimal, Decimal]], steps: int) -> Iterator[dict[str, Decimal]]:
    """A grid over the box (for tests)."""
    keys = sorted(box)

    def rec(i: int, point: dict[str, Decimal]) -> Iterator[dict[str, Decimal]]:
        if i == len(keys):
            yield dict(point)
            return
        lo, hi = box[keys[i]]
        for s in range(steps + 1 if hi != lo else 1):
            point[keys[i]] = lo + (hi - lo) * s / steps
            yield from rec(i + 1, point)

    yield from rec(0, {})
