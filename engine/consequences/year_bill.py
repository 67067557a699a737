"""The year's tax of one taxpayer under one lens: baskets, offsets, carried losses, allowance, rates.

A capital gains bill is a year's computation, not a sum of per-trade taxes: losses net first within a
basket, then across baskets in the pack's order, then losses carried from earlier years come in, a
net loss may reduce other income, an allowance covers what is left up to its amount, and the rates
(flat, brackets stacked on the taxpayer's other income, or the marginal rate) price the rest. The
steps are kept so `--explain` can show them; nothing is guessed: missing data is named.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from taxpack.engine.core.errors import EvaluationError
from taxpack.engine.core.household import Taxpayer
from taxpack.engine.core.money import money_text, percent_text
from taxpack.engine.law.findings import value_caveat
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.year_rules import PART, PROCEEDS, UNPRICED, YearRules

ZERO = Decimal(0)


@attrs.frozen
class Carried:
    """A loss brought into a year (or carried out of it): its basket, its size (positive) and the tax
    year it arose in (for the pack's carry-forward limit)."""

    basket: str
    amount: Decimal
    year: int
    original: Decimal | None = None  # the loss as it arose (a pack that caps each year's use at a share of it)

    def as_dict(self, pack: Pack) -> dict[str, Any]:
        out: dict[str, Any] = {"basket": self.basket, "amount": money_text(self.amount, pack), "year": self.year}
        if self.original is not None:
            out["original"] = money_text(self.original, pack)
        return out


@attrs.frozen
class Bill:
    """A year's bill. `tax` is None when data is missing (`missing` names it); `steps` explain it."""

    tax: Decimal | None
    gains_tax: Decimal | None
    other_income_saving: Decimal
    missing: tuple[str, ...]
    caveats: tuple[str, ...]
    net: Mapping[str, Decimal]  # per basket after offsets and carried losses
    taxable: Mapping[str, Decimal]  # per basket after inclusion and allowance
    carry_after: tuple[Carried, ...]
    expired: tuple[Carried, ...]
    allowance_used: Decimal
    steps: tuple[str, ...]
    not_creditable: Decimal = ZERO  # surtaxes a foreign tax credit cannot reduce (US NIIT)
    carry_back: tuple[Carried, ...] = ()  # the year's net loss that may instead reduce earlier years' tax (pack `carry_back`)

    @property
    def creditable(self) -> Decimal | None:
        """The part of the tax a credit for another country's tax may reduce."""
        return None if self.tax is None else self.tax - self.not_creditable


@attrs.define
class BasketTotals:
    """Gains and losses of one basket in one year (kept apart: a basket may disallow losses)."""

    gains: Decimal = ZERO
    losses: Decimal = ZERO  # zero or negative

    def add(self, amount: Decimal) -> None:
        if amount >= 0:
            self.gains += amount
        else:
            self.losses += amount

    def copy(self) -> "BasketTotals":
        return BasketTotals(self.gains, self.losses)


class YearBill:
    """Prices a year of gains for one taxpayer under one pack, on the pack's law of `day`."""

    def __init__(self, pack: Pack, rules: YearRules, taxpayer: Taxpayer, day: dt.date, jurisdiction: str,
                 other_income: Decimal | None = None) -> None:
        self.pack = pack
        self.rules = rules
        self.taxpayer = taxpayer
        self.day = day
        self.jurisdiction = jurisdiction
        self.other_income = other_income if other_income is not None else taxpayer.other_income.get(jurisdiction)
        cg = pack.section("capital_gains") or {}
        self.section: Mapping[str, Any] = cg
        self.estimate: Mapping[str, Any] = cg.get("estimate") or {}
        # The bills already computed, by their exact inputs: pricing a trade's timing alternatives asks for
        # the same year (the year without the trade, next year with nothing in it) many times over.
        self._memo: dict[Any, Bill] = {}

    # -- values --------------------------------------------------------------------------------------

    def _value(self, ref: Any, missing: list[str]) -> Any:
        """A literal or a parameter's value on the day; a parameter keyed `by` a taxpayer attribute
        (filing_status) is read at the taxpayer's key, and a missing key is recorded, not guessed."""
        if isinstance(ref, Mapping) and "param" in ref:
            parameter = self.pack.parameters.get(ref["param"])
            if parameter is not None and parameter.by:
                key = getattr(self.taxpayer, parameter.by, None)
                if key is None:
                    missing.append(f"{parameter.by} for {self.jurisdiction}")
                    return None
                return self.pack.resolve(ref, self.day, key)
        return self.pack.resolve(ref, self.day)

    def _uncertain(self, ref: Any) -> str | None:
        """The caveat of a value the bill uses: its `uncertain` note (a value read past its `confirmed_until`
        included) and its source when that is less than verified."""
        if not (isinstance(ref, Mapping) and "param" in ref):
            return None
        parameter = self.pack.parameters.get(ref["param"])
        if parameter is None or parameter.by:
            dated = parameter.at(self.day) if parameter is not None else None
        else:
            dated = self.pack.resolve_dated(ref, self.day)
        return value_caveat(self.pack, ref["param"], dated)

    def _note(self, caveats: list[str], ref: Any) -> None:
        """Add the caveat of a value the bill uses (`_uncertain`) to `caveats`, once."""
        note = self._uncertain(ref)
        if note and note not in caveats:
            caveats.append(note)

    # -- the computation -----------------------------------------------------------------------------

    def compute(self, totals: Mapping[str, BasketTotals], carried: Sequence[Carried] = (), year: int | None = None,
                explain: bool = False) -> Bill:
        """The bill of a year whose realised amounts per basket are `totals`, with losses `carried` in
        (`explain`: with the steps of the computation, for the summary and `--explain`)."""
        key = (tuple((b, t.gains, t.losses) for b, t in totals.items()), tuple(carried), year, explain)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._compute(totals, carried, year, explain)
        return found

    def _compute(self, totals: Mapping[str, BasketTotals], carried: Sequence[Carried], year: int | None,
                 explain: bool) -> Bill:
        if not self.section:
            return _absent(f"a capital_gains section in pack {self.pack.id}")
        if self.section.get("taxed") is False:
            return Bill(ZERO, ZERO, ZERO, (), (), {}, {}, tuple(carried), (), ZERO, ("gains are not taxed",))
        method = self.estimate.get("method")
        if method is None or method == "none":
            return _absent(f"an estimate method in pack {self.pack.id}")
        rules = self.rules
        year = rules.tax_year(self.day) if year is None else year
        missing: list[str] = []
        caveats: list[str] = [] if rules.declared else [
            f"pack {self.pack.id} has no `year` section: gains are netted as its capital_gains section implies"]
        steps: list[str] = []
        cur = self.pack.currency or ""

        # 0. Tests on the year's sale prices: a basket exempt when they are small, the part above a cap moved.
        totals = self._proceeds(totals, missing, caveats, steps if explain else None)

        # 1. Each basket nets its own gains and losses (a basket may not allow losses at all); a weight
        # scales the net (gains and losses alike) and a basket may pour it into another's pot.
        net: dict[str, Decimal] = {}
        spread: dict[str, dict[str, Decimal]] = {}  # basket -> tax year (or "current") -> gain spread to it
        for basket in rules.baskets:
            if rules.spread(basket.id):
                spread[basket.id] = parts = _spread_parts(totals, basket.id)
                net[basket.id] = sum(parts.values(), ZERO)
                if parts and explain:
                    steps.append(f"{basket.title}: gains {self._m(net[basket.id])} {cur}, spread over their holding period")
                continue
            t = totals.get(basket.id, BasketTotals())
            if basket.losses == "not_allowed" and t.losses:
                if explain:
                    steps.append(f"{basket.title}: a loss of {self._m(-t.losses)} {cur} is not allowable")
                net[basket.id] = t.gains
            else:
                net[basket.id] = t.gains + t.losses
            if t.gains or t.losses:
                if explain:
                    steps.append(f"{basket.title}: gains {self._m(t.gains)}, losses {self._m(-t.losses)}, net {self._m(net[basket.id])} {cur}")
        ordinary_loss = self._pots(net, missing, caveats, steps if explain else None)

        # 2. Losses carried from earlier years, oldest first, return to their basket (or the pack's pool); a pack
        # may cap what each year's loss gives in one year (the rest stays carried).
        usable, expired = self._usable(carried, year)
        origins: dict[str, list[Carried]] = {}
        held_back: list[Carried] = []
        for c, use in self._carried_use(usable, missing, caveats):
            target = c.basket if rules.carry_forward and rules.carry_forward.keeps_basket and c.basket in net else self._pool()
            if use < c.amount:
                held_back.append(Carried(target, c.amount - use, c.year, c.original))
                if explain:
                    steps.append(f"loss of {c.year}: {self._m(c.amount - use)} {cur} of it cannot be used this year (the yearly cap)")
            if use <= 0:
                continue
            net[target] = net.get(target, ZERO) - use
            origins.setdefault(target, []).append(Carried(c.basket, use, c.year, c.original))
            if explain:
                steps.append(f"loss of {c.year} carried forward: {self._m(use)} {cur} into {rules.basket(target).title}")
        for c in expired:
            if explain:
                steps.append(f"loss of {c.year} ({self._m(c.amount)} {cur}) can no longer be carried: expired")

        # 3. A basket's net loss reduces other baskets' net gains, in the pack's order and share.
        for offset in rules.offsets:
            for target in offset.against:
                if net.get(offset.loss, ZERO) >= 0:
                    break
                if net.get(target, ZERO) <= 0:
                    continue
                cap = net[target]
                if offset.share is not None:
                    share = self._value(offset.share, missing)
                    if share is None:
                        continue
                    cap = net[target] * Decimal(share)
                    self._note(caveats, offset.share)
                use = min(-net[offset.loss], cap)
                net[offset.loss] += use
                net[target] -= use
                if explain:
                    steps.append(f"{rules.basket(offset.loss).title} loss offsets {self._m(use)} {cur} of {rules.basket(target).title}")

        # 4. A net loss left may reduce other income (US: up to $3,000 a year, short-term loss first).
        saving = self._saving("marginal_rate", ordinary_loss, missing) if ordinary_loss else ZERO
        deducted: dict[str, Decimal] = {}
        offset_rule = rules.other_income_offset
        if offset_rule is not None:
            loss_left = sum((-net[b] for b in offset_rule.order if net.get(b, ZERO) < 0), ZERO)
            if loss_left > 0:
                limit = self._value(offset_rule.limit, missing)
                if limit is not None:
                    deduction = min(loss_left, Decimal(limit))
                    saving += self._saving(offset_rule.saving, deduction, missing)
                    # The carryover worksheet (Schedule D): the deduction uses up loss only as far as
                    # taxable income absorbs it; short-term loss goes first.
                    used = deduction if self.other_income is None else min(deduction, max(ZERO, self.other_income))
                    for b in offset_rule.order:
                        if used <= 0:
                            break
                        if net.get(b, ZERO) < 0:
                            take = min(-net[b], used)
                            deducted[b] = take
                            used -= take
                    if explain:
                        steps.append(f"net capital loss deducted from other income: {self._m(deduction)} {cur}"
                                     + (f", saving {self._m(saving)} {cur}" if saving else ""))

        # 5. What is left: carried losses (oldest used first, so the newest are what carries on).
        carry_after: list[Carried] = []
        capped = rules.carry_forward is not None and rules.carry_forward.annual_share is not None
        if rules.carry_forward is not None:
            for basket in rules.baskets:
                left = -net[basket.id] - deducted.get(basket.id, ZERO)
                if left <= 0 or not basket.carry:
                    continue
                carry_after.extend(_attribute(left, basket.id, origins.get(basket.id, []), year, capped))
            if held_back:
                carry_after = _merged(carry_after + held_back)
        carry_after = [c for c in carry_after if not self._expires(c, year + 1)]
        # ... and the year's own net loss, which a pack may let reduce the tax of earlier years instead (reported).
        carry_back: list[Carried] = []
        if rules.carry_back is not None:
            for basket in rules.baskets:
                left = -net[basket.id] - deducted.get(basket.id, ZERO) - sum((c.amount for c in origins.get(basket.id, [])), ZERO)
                if left > 0 and basket.carry:
                    carry_back.append(Carried(basket.id, left, year))
                    if explain:
                        years = self._value(rules.carry_back.years, missing)
                        steps.append(f"{basket.title}: the net loss of {self._m(left)} {cur} may instead reduce the tax of the "
                                     f"{years} years before {year} (carried back: those years are outside the scenario, not priced)")

        # 6. Inclusion rate, allowance, then the rates.
        inclusion = Decimal(self._value(self.section.get("inclusion_rate", 1), missing) or 1)
        base = {}
        for each in rules.baskets:
            share = inclusion if each.inclusion is None else inclusion * Decimal(self._value(each.inclusion, missing) or 0)
            base[each.id] = max(ZERO, net[each.id]) * share
            if share != 1 and net[each.id] > 0:
                if explain:
                    steps.append(f"{each.title}: {percent_text(share)} of the net gain is taxable")
        allowance_used = ZERO
        if self.section.get("allowance") is not None:
            allowance = self._value(self.section["allowance"], missing)
            left = Decimal(allowance) if allowance is not None else ZERO
            within = sum((base.get(b, ZERO) for b in rules.allowance_order), ZERO)
            if rules.allowance_threshold and (within > left if rules.allowance_threshold == "at_most" else within >= left):
                if explain:
                    steps.append(f"gains {'above' if rules.allowance_threshold == 'at_most' else 'not below'} the threshold of "
                                 f"{self._m(left)} {cur}: all of them are taxed")
                left = ZERO  # a threshold (Freigrenze), not an allowance
            for b in rules.allowance_order:
                take = min(left, base.get(b, ZERO))
                if take > 0:
                    base[b] -= take
                    left -= take
                    allowance_used += take
            if allowance_used:
                if explain:
                    steps.append(f"allowance used: {self._m(allowance_used)} {cur}")
        for ref in (self.section.get("inclusion_rate"), self.section.get("allowance"), self.estimate.get("rate"),
                    *(b.inclusion for b in rules.baskets), *((b.tax or {}).get("rate") for b in rules.baskets if b.id not in spread)) + tuple(
                extra.get("rate") for extra in list(self.estimate.get("surcharges") or []) + list(self.estimate.get("surtaxes") or [])):
            self._note(caveats, ref)

        tax = ZERO
        pooled = ZERO
        not_creditable = ZERO
        for basket in rules.baskets:
            if basket.tax is None:
                pooled += base[basket.id]
            elif basket.id in spread:
                base[basket.id] = ZERO
                spread_tax, interest = self._spread_tax(basket.title, basket.tax, spread[basket.id], year, missing, caveats,
                                                        steps if explain else None)
                tax += spread_tax + interest
                not_creditable += interest  # interest is not a tax: no foreign tax credit reduces it
        for basket in rules.baskets:
            if basket.tax is not None and basket.id not in spread and base[basket.id] > 0:
                stack = sum((base[b] for b in basket.stack_on), ZERO)
                part = self._tax_by({**self.estimate, **basket.tax}, base[basket.id], stack, missing)
                if part is not None:
                    tax += part
                    if explain:
                        steps.append(f"{basket.title}: {self._m(base[basket.id])} {cur} taxed {self._m(part)} {cur}")
        if pooled > 0:
            stack = sum((base[b] for basket in rules.baskets if basket.tax is None for b in basket.stack_on), ZERO)
            part = self._tax_by(self.estimate, pooled, stack, missing)
            if part is not None:
                tax += part
                if explain:
                    steps.append(f"taxable gains {self._m(pooled)} {cur}: tax {self._m(part)} {cur}")
        net_gain = sum((max(ZERO, v) for v in net.values()), ZERO)
        unsurcharged = ZERO
        for surtax in self.estimate.get("surtaxes") or []:
            part = self._surtax(surtax, self._surtax_gain(surtax, net, base, net_gain), missing)
            if part:
                tax += part
                if surtax.get("surcharged") is False:
                    unsurcharged += part  # a surcharge on the tax does not reach it (LU: the care contribution)
                if surtax.get("creditable") is False:
                    not_creditable += part
                if explain:
                    steps.append(f"{surtax.get('id', 'surtax')}: {self._m(part)} {cur}"
                                 + ("" if surtax.get("creditable", True) else " (no foreign tax credit reduces it)"))
        for surcharge in self.estimate.get("surcharges") or []:
            rate = self._value(surcharge["rate"], missing)
            if rate is not None and tax - unsurcharged:
                part = (tax - unsurcharged) * Decimal(rate)
                tax += part
                if explain:
                    steps.append(f"{surcharge.get('id', 'surcharge')} {percent_text(rate)}: {self._m(part)} {cur}")
        if missing:
            return Bill(None, None, saving, tuple(sorted(set(missing))), tuple(caveats), net, base, tuple(carry_after),
                        tuple(expired), allowance_used, tuple(steps), carry_back=tuple(carry_back))
        return Bill(tax - saving, tax, saving, (), tuple(caveats), net, base, tuple(carry_after), tuple(expired), allowance_used,
                    tuple(steps), not_creditable, tuple(carry_back))

    # -- for the planner (engine/plan/yearmodel.py reads values as compute does) ------------------------

    def value(self, ref: Any) -> tuple[Any, tuple[str, ...]]:
        """A literal or a parameter's value on the bill's day, as `compute` reads it, and what is missing for it."""
        missing: list[str] = []
        return self._value(ref, missing), tuple(missing)

    def carried_use(self, carried: Sequence[Carried], year: int) -> list[tuple[Carried, Decimal]]:
        """The losses carried into `year` that are not expired, oldest first, each with the part of it `compute`
        uses this year (all of it, or the pack's yearly share of the loss as it arose)."""
        usable, _ = self._usable(carried, year)
        return self._carried_use(usable, [], [])

    # -- carried losses, proceeds (steps 0 and 2) ---------------------------------------------------------

    def _carried_use(self, usable: Sequence[Carried], missing: list[str], caveats: list[str]) -> list[tuple[Carried, Decimal]]:
        carry = self.rules.carry_forward
        share_ref = carry.annual_share if carry is not None else None
        if share_ref is None:
            return [(c, c.amount) for c in usable]
        share = self._value(share_ref, missing)
        if share is None:
            return [(c, c.amount) for c in usable]
        self._note(caveats, share_ref)
        out = []
        for c in usable:
            if c.original is None:
                note = (f"the loss of {c.year} carried into {c.basket} is given without the amount it had when it arose (`original`): "
                        f"at most {percent_text(share)} of the {self._m(c.amount)} still to use is used this year")
                if note not in caveats:
                    caveats.append(note)
            out.append((c, min(c.amount, Decimal(share) * (c.original if c.original is not None else c.amount))))
        return out

    def _proceeds(self, totals: Mapping[str, BasketTotals], missing: list[str], caveats: list[str],
                  steps: list[str] | None) -> Mapping[str, BasketTotals]:
        """The totals after the tests on the year's sale prices: a basket whose qualifying sale prices are small
        counts for nothing (CZ CZK 100,000, FI EUR 1,000); of a basket whose sale prices exceed a cap, the share
        above it moves to another basket, gains and losses pro rata (CZ: time-tested income above CZK 40 million).
        Sale prices travel under BASKET#proceeds; an amount without one (BASKET#unpriced) stops the test, said."""
        rules = self.rules
        if not any(b.proceeds_exempt is not None or b.proceeds_cap is not None for b in rules.baskets):
            return totals
        cur = self.pack.currency or ""
        out = dict(totals)
        for basket in rules.baskets:
            rule = basket.proceeds_exempt
            t = out.get(basket.id)
            if rule is None or t is None or not (t.gains or t.losses):
                continue
            if any(_amount(totals, b + UNPRICED) > 0 for b in rule.of):
                self._proceeds_unknown(basket.title, rule.of, caveats)
                continue
            limit = self._value(rule.limit, missing)
            if limit is None:
                continue
            self._note(caveats, rule.limit)
            proceeds = sum((_amount(totals, b + PROCEEDS) for b in rule.of), ZERO)
            if proceeds <= Decimal(limit) if rule.boundary == "at_most" else proceeds < Decimal(limit):
                out[basket.id] = BasketTotals()
                if steps is not None:
                    steps.append(f"{basket.title}: the year's sale prices of {self._m(proceeds)} {cur} are "
                                 f"{'at most' if rule.boundary == 'at_most' else 'below'} {self._m(Decimal(limit))} {cur}: "
                                 f"gains of {self._m(t.gains)} {cur} are exempt and losses of {self._m(-t.losses)} {cur} do not count")
            elif steps is not None:
                steps.append(f"{basket.title}: the year's sale prices of {self._m(proceeds)} {cur} exceed the exemption's limit "
                             f"of {self._m(Decimal(limit))} {cur}")
        for basket in rules.baskets:
            cap = basket.proceeds_cap
            t = out.get(basket.id)
            if cap is None or t is None or not (t.gains or t.losses) or not self._value(cap.applies, missing):
                continue
            if _amount(totals, basket.id + UNPRICED) > 0:
                self._proceeds_unknown(basket.title, (basket.id,), caveats)
                continue
            above = self._value(cap.above, missing)
            proceeds = _amount(totals, basket.id + PROCEEDS)
            if above is None or proceeds <= Decimal(above):
                continue
            self._note(caveats, cap.above)
            share = (proceeds - Decimal(above)) / proceeds
            moved = BasketTotals(t.gains * share, t.losses * share)
            out[basket.id] = BasketTotals(t.gains - moved.gains, t.losses - moved.losses)
            target = out.get(cap.into, BasketTotals()).copy()
            target.gains += moved.gains
            target.losses += moved.losses
            out[cap.into] = target
            if steps is not None:
                steps.append(f"{basket.title}: the year's sale prices of {self._m(proceeds)} {cur} exceed {self._m(Decimal(above))} {cur}: "
                             f"{percent_text(share)} of its amounts (gains {self._m(moved.gains)}, losses {self._m(-moved.losses)} {cur}) "
                             f"go to {rules.basket(cap.into).title}")
        return out

    def _proceeds_unknown(self, title: str, baskets: Sequence[str], caveats: list[str]) -> None:
        note = (f"{title}: the year holds amounts whose sale price is not known (given as realised without "
                f"{' / '.join(b + PROCEEDS for b in baskets)}, or planned): the test on the year's sale prices is not applied")
        if note not in caveats:
            caveats.append(note)

    def _surtax_gain(self, spec: Mapping[str, Any], net: Mapping[str, Decimal], base: Mapping[str, Decimal], net_gain: Decimal) -> Decimal:
        """What a surtax reaches: the positive nets of every basket (default), or of `baskets`, or with `on: taxable`
        their taxable bases (after inclusion, allowance or threshold)."""
        scope = spec.get("baskets")
        if spec.get("on", "net") != "taxable" and not scope:
            return net_gain
        values = base if spec.get("on") == "taxable" else {b: max(ZERO, v) for b, v in net.items()}
        return sum((v for b, v in values.items() if not scope or b in scope), ZERO)

    # -- weights, pots and ordinary losses (step 1) -----------------------------------------------------

    def _pots(self, net: dict[str, Decimal], missing: list[str], caveats: list[str], steps: list[str] | None) -> Decimal:
        """Each basket's `weight` applied to its net, nets poured `into` another basket, the ordinary loss of
        the `losses: ordinary` baskets taken out (returned: it reduces other income in full), and a basket's
        `loss_weight` applied to its net loss (SE: 70% of a net loss on listed shares counts against the rest)."""
        rules = self.rules
        cur = self.pack.currency or ""
        for basket in rules.baskets:
            if basket.weight is None or not net.get(basket.id):
                continue
            weight = self._value(basket.weight, missing)
            if weight is None:
                continue
            net[basket.id] *= Decimal(weight)
            self._note(caveats, basket.weight)
            if steps is not None:
                steps.append(f"{basket.title}: {percent_text(weight)} of it counts, {self._m(net[basket.id])} {cur}")
        for basket in rules.baskets:
            if basket.into is not None and net.get(basket.id):
                net[basket.into] = net.get(basket.into, ZERO) + net[basket.id]
                if steps is not None:
                    steps.append(f"{basket.title}: {self._m(net[basket.id])} {cur} joins {rules.basket(basket.into).title}")
                net[basket.id] = ZERO
        ordinary = ZERO
        for basket in rules.baskets:
            if basket.losses == "ordinary" and net.get(basket.id, ZERO) < 0:
                ordinary -= net[basket.id]
                if steps is not None:
                    steps.append(f"{basket.title}: a net loss of {self._m(-net[basket.id])} {cur} reduces ordinary income")
                net[basket.id] = ZERO
        for basket in rules.baskets:
            if basket.loss_weight is None or net.get(basket.id, ZERO) >= 0:
                continue
            weight = self._value(basket.loss_weight, missing)
            if weight is None:
                continue
            self._note(caveats, basket.loss_weight)
            if steps is not None:
                steps.append(f"{basket.title}: {percent_text(weight)} of its net loss of {self._m(-net[basket.id])} {cur} counts")
            net[basket.id] *= Decimal(weight)
        return ordinary

    # -- gains spread over their holding period (excess distributions) -------------------------------

    def _spread_tax(self, title: str, spec: Mapping[str, Any], parts: Mapping[str, Decimal], year: int, missing: list[str],
                    caveats: list[str], steps: list[str] | None) -> tuple[Decimal, Decimal]:
        """(tax, interest) on gains spread by tax year: the current year's share taxed as `spec.current`
        says; each earlier year's share at `spec.rate` in force in that year, plus interest at
        `spec.interest` from that year's return due date (`spec.due`, MM-DD of the next year) to this
        year's (US §1291(a)(1), (c); Form 8621 Part V)."""
        cur = self.pack.currency or ""
        tax = interest = ZERO
        if UNKNOWN in parts:
            missing.append(f"the purchase dates of the units sold from an average-cost pool ({title}: the gain is spread over the holding period)")
        current = parts.get(CURRENT, ZERO)
        if current:
            part = self._tax_by({**self.estimate, **(spec.get("current") or {"method": "marginal_rate"})}, current, ZERO, missing)
            if part is not None:
                tax += part
                if steps is not None:
                    steps.append(f"{title}: {self._m(current)} {cur} allocated to {year}, ordinary income: tax {self._m(part)} {cur}")
        due = _month_day(spec.get("due", "04-15"))
        end = dt.date(year + 1, *due)
        for key in sorted(k for k in parts if k not in (CURRENT, UNKNOWN)):
            earlier, amount = int(key), parts[key]
            rate = self._dated(spec.get("rate"), dt.date(earlier, 12, 31), missing, caveats)
            factor = self._interest_factor(spec.get("interest"), dt.date(earlier + 1, *due), end, missing, caveats)
            if rate is None or factor is None:
                continue
            increase = amount * Decimal(rate)
            charge = increase * (factor - 1)
            tax += increase
            interest += charge
            if steps is not None:
                steps.append(f"{title}: {self._m(amount)} {cur} allocated to {earlier}, taxed at that year's top rate "
                             f"{percent_text(rate)}: {self._m(increase)} {cur}, interest to {end.isoformat()}: {self._m(charge)} {cur}")
        return tax, interest

    def _dated(self, ref: Any, day: dt.date, missing: list[str], caveats: list[str]) -> Any:
        """A literal, or a parameter's value in force on `day` (not held to the pack's coverage: the rate
        of an earlier year); what is missing is named, an uncertain value's note joins the caveats."""
        if ref is None:
            missing.append(f"a rate in an excess_distribution basket of pack {self.pack.id}")
            return None
        try:
            dated = self.pack.resolve_dated(ref, day)
        except EvaluationError:
            missing.append(f"{ref.get('param') if isinstance(ref, Mapping) else ref} on {day.isoformat()} (pack {self.pack.id})")
            return None
        if dated is None:
            return ref
        note = value_caveat(self.pack, ref["param"], dated)
        if note and note not in caveats:
            caveats.append(note)
        return dated.value

    def _interest_factor(self, ref: Any, start: dt.date, end: dt.date, missing: list[str], caveats: list[str]) -> Decimal | None:
        """1 plus the interest on 1 from `start` to `end`, compounded daily at the rate of each quarter
        (§6621(a)(2), §6622: the yearly rate over the days of the year, 365 or 366)."""
        # Fast path (issue 22, speed): a bill is computed thousands of times with the same periods; the factor of
        # (rate, start, end) is worked out once per YearBill, what it adds to `missing` and `caveats` replayed.
        key = (id(ref), start, end)
        memo = self.__dict__.setdefault("_factor_memo", {})
        if key not in memo:
            added: tuple[list[str], list[str]] = ([], [])
            memo[key] = (self._interest_factor_of(ref, start, end, *added), added)
        factor, (more, notes) = memo[key]
        missing.extend(more)
        caveats.extend(note for note in notes if note not in caveats)
        return factor

    def _interest_factor_of(self, ref: Any, start: dt.date, end: dt.date, missing: list[str], caveats: list[str]) -> Decimal | None:
        if end <= start:
            return Decimal(1)
        factor = Decimal(1)
        day = start
        while day < end:
            first_month = 3 * ((day.month - 1) // 3) + 1
            nxt = dt.date(day.year + 1, 1, 1) if first_month == 10 else dt.date(day.year, first_month + 3, 1)
            stop = min(nxt, end)
            rate = self._dated(ref, day, missing, caveats)
            if rate is None:
                return None
            days_in_year = 366 if calendar.isleap(day.year) else 365
            factor *= (1 + Decimal(rate) / days_in_year) ** (stop - day).days
            day = stop
        return factor

    # -- pieces --------------------------------------------------------------------------------------

    def _pool(self) -> str:
        carry = self.rules.carry_forward
        return carry.into if carry is not None and carry.into else self.rules.baskets[0].id

    def _years(self) -> int | None:
        carry = self.rules.carry_forward
        if carry is None:
            return 0
        if carry.years is None:
            return None
        return int(self._value(carry.years, []))

    def _expires(self, carried: Carried, in_year: int) -> bool:
        years = self._years()
        return years is not None and in_year - carried.year > years

    def _usable(self, carried: Sequence[Carried], year: int) -> tuple[list[Carried], list[Carried]]:
        if self.rules.carry_forward is None:
            return [], list(carried)
        ordered = sorted(carried, key=lambda c: (c.year, c.basket))
        return [c for c in ordered if not self._expires(c, year)], [c for c in ordered if self._expires(c, year)]

    def _saving(self, how: str, deduction: Decimal, missing: list[str]) -> Decimal:
        if how == "none" or deduction <= 0:
            return ZERO
        rate = self.taxpayer.marginal_rate.get(self.jurisdiction)
        if rate is None:
            missing.append(f"marginal_rate for {self.jurisdiction}")
            return ZERO
        return deduction * rate

    def _tax_by(self, spec: Mapping[str, Any], base: Decimal, stack: Decimal, missing: list[str]) -> Decimal | None:
        method = spec.get("method")
        if base == 0:
            return ZERO
        if method == "flat":
            rate = self._value(spec["rate"], missing)
            return None if rate is None else base * Decimal(rate)
        if method == "marginal_rate":
            rate = self.taxpayer.marginal_rate.get(self.jurisdiction)
            if rate is None:
                missing.append(f"marginal_rate for {self.jurisdiction}")
                return None
            return base * rate
        if method == "brackets":
            # Brackets stack the gain on top of the taxpayer's other income of the year (and of the
            # baskets the pack puts underneath, e.g. US short-term gains under long-term ones).
            if self.other_income is None:
                missing.append(f"other_income for {self.jurisdiction}")
            brackets = self._value(spec["brackets"], missing)
            if brackets is None or self.other_income is None:
                return None
            below = self.other_income + stack
            return bracket_tax(brackets, below + base) - bracket_tax(brackets, below)
        missing.append(f"a known estimate method (got {method!r}) in pack {self.pack.id}")
        return None

    def _surtax(self, spec: Mapping[str, Any], gain: Decimal, missing: list[str]) -> Decimal:
        if gain <= 0:
            return ZERO
        status = self.taxpayer.filing_status
        if status is None or self.other_income is None:
            missing.append(f"{'filing_status' if status is None else 'other_income'} for {self.jurisdiction} (for {spec.get('id', 'a surtax')})")
            return ZERO
        threshold = self._value(spec["threshold"], missing)
        rate = self._value(spec["rate"], missing)
        if threshold is None or rate is None:
            return ZERO
        excess = max(ZERO, self.other_income + gain - Decimal(threshold))
        return min(gain, excess) * Decimal(rate)

    def _m(self, value: Decimal) -> str:
        return money_text(value, self.pack, grouped=True) or ""


def bracket_tax(brackets: list[Mapping[str, Any]], amount: Decimal) -> Decimal:
    """Tax on `amount` under progressive `brackets` ([{from, rate}], increasing `from`)."""
    tax = ZERO
    for i, bracket in enumerate(brackets):
        start = Decimal(bracket["from"])
        end = Decimal(brackets[i + 1]["from"]) if i + 1 < len(brackets) else None
        if amount <= start:
            break
        top = amount if end is None else min(amount, end)
        tax += (top - start) * Decimal(bracket["rate"])
    return tax


def _attribute(left: Decimal, basket: str, origins: list[Carried], year: int, original: bool = False) -> list[Carried]:
    """The loss `left` in `basket` at the end of `year`, by the year it arose: carried losses were used
    oldest first, so what remains is this year's loss, then the newest carried ones (`original`: this
    year's loss keeps its amount as it arose, for a pack that caps each year's use at a share of it)."""
    out: list[Carried] = []
    carried_total = sum((c.amount for c in origins), ZERO)
    current = max(ZERO, left - carried_total)
    if current > 0:
        out.append(Carried(basket, current, year, current if original else None))
    rest = left - current
    for c in sorted(origins, key=lambda c: c.year, reverse=True):
        if rest <= 0:
            break
        take = min(rest, c.amount)
        out.append(Carried(basket, take, c.year, c.original))
        rest -= take
    return sorted(out, key=lambda c: (c.year, c.basket))


def _merged(carried: Sequence[Carried]) -> list[Carried]:
    """Carried losses of one basket and year as one (a part used this year and a part held back by a yearly cap)."""
    out: dict[tuple[int, str], Carried] = {}
    for c in carried:
        found = out.get((c.year, c.basket))
        out[(c.year, c.basket)] = c if found is None else Carried(c.basket, found.amount + c.amount, c.year, found.original or c.original)
    return [out[k] for k in sorted(out)]


def _amount(totals: Mapping[str, BasketTotals], key: str) -> Decimal:
    """The positive total kept under `key` (a basket's sale prices, or its count of amounts without one)."""
    t = totals.get(key)
    return t.gains if t is not None else ZERO


CURRENT = "current"  # the share of a spread gain allocated to the year of sale
UNKNOWN = "unknown"  # a spread gain whose holding period is not known


def spread_key(basket: str, part: str | int) -> str:
    """The totals key of the share of a spread basket's gain allocated to `part` (a tax year, current, unknown)."""
    return f"{basket}{PART}{part}"


def _spread_parts(totals: Mapping[str, BasketTotals], basket: str) -> dict[str, Decimal]:
    """The gains of a spread basket by tax year ("BASKET@2024", "BASKET@current"); its losses go elsewhere."""
    prefix = basket + PART
    return {k[len(prefix):]: t.gains for k, t in sorted(totals.items()) if k.startswith(prefix) and t.gains}


def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(part) for part in str(text).split("-"))
    return month, day


def _absent(what: str) -> Bill:
    return Bill(None, None, ZERO, (what,), (), {}, {}, (), (), ZERO, ())
