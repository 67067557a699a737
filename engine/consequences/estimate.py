"""Tax estimates from a pack's `capital_gains` section: flat rates, brackets, or the taxpayer's marginal rate.

An estimate is only given when the pack and the taxpayer's data allow one; otherwise it is absent and
the output names what is missing ("filing_status for US"), never a guess. Gains of one tax year are
stacked in trade order, so each trade's estimate is the tax it adds given the trades before it, and
the per-trade figures add up to the year's total.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

import attrs

from taxpack.engine.core.household import Taxpayer
from taxpack.engine.law.findings import value_caveat
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.sections import CapitalGains, Surtax, TaxMethod

ZERO = Decimal(0)


@attrs.frozen
class Estimate:
    tax: Decimal | None
    missing: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()


@attrs.define
class YearGains:
    """Recognised gains of one taxpayer, one year, one lens, split by term (short/long/none)."""

    short: Decimal = ZERO
    long: Decimal = ZERO
    other: Decimal = ZERO

    def add(self, term_gains: Mapping[str, Decimal]) -> "YearGains":
        return YearGains(
            self.short + term_gains.get("short", ZERO),
            self.long + term_gains.get("long", ZERO),
            self.other + term_gains.get("none", ZERO),
        )

    @property
    def total(self) -> Decimal:
        return self.short + self.long + self.other


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


class Estimator:
    """Estimates one lens's tax for a taxpayer's year of gains."""

    def __init__(self, pack: Pack, taxpayer: Taxpayer, day: dt.date) -> None:
        self.pack = pack
        self.taxpayer = taxpayer
        self.day = day
        self.section: CapitalGains | None = pack.sections.capital_gains
        self.jurisdiction = pack.jurisdiction or pack.id

    def _value(self, ref: Any, missing: list[str] | None = None) -> Any:
        """A literal or a parameter's value on the day; a parameter keyed `by` a taxpayer attribute
        (filing_status) is read at the taxpayer's key, and a missing key is recorded, not guessed."""
        if _keyed(self.pack, ref):
            by = self.pack.parameters[ref["param"]].by or ""
            key = getattr(self.taxpayer, by, None)
            if key is None:
                if missing is not None:
                    missing.append(f"{by} for {self.jurisdiction}")
                return None
            return self.pack.resolve(ref, self.day, key)
        return self.pack.resolve(ref, self.day)

    def _uncertain(self, ref: Any) -> str | None:
        dated = self.pack.resolve_dated(ref, self.day)
        name = ref.get("param") if isinstance(ref, Mapping) else None
        return value_caveat(self.pack, name, dated) if name else None

    def tax(self, gains: YearGains) -> Estimate:
        """Tax on the year's gains (0 for a net loss; loss carry-forwards are not modelled)."""
        section = self.section
        if section is None:
            return Estimate(None, (f"a capital_gains section in pack {self.pack.id}",))
        if section.taxed is False:
            return Estimate(ZERO)
        estimate = section.estimate
        if estimate is None or estimate.method is None or estimate.method == "none":
            return Estimate(None, (f"an estimate method in pack {self.pack.id}",))
        caveats: list[str] = []
        # The rates of surcharges and surtaxes can be unsettled law too (FR: 2025 social levies).
        refs = [section.inclusion_rate, section.allowance, estimate.rate] + [extra.rate for extra in estimate.surcharges + estimate.surtaxes]
        for ref in refs:
            note = self._uncertain(ref) if ref is not None else None
            if note and note not in caveats:
                caveats.append(note)
        missing: list[str] = []
        inclusion = _dec(self._value(section.inclusion_rate, missing))
        # An allowance may depend on filing status (DE: EUR 1,000 single, EUR 2,000 joint).
        allowance = _dec(self._value(section.allowance, missing))
        short_spec = estimate.short_term
        if short_spec is not None and gains.short != 0:
            # Terms are netted against each other first (short against long), then each taxed its own way.
            st, lt = _net_terms(gains.short, gains.long + gains.other)
        else:
            st, lt = ZERO, gains.total
        tax = ZERO
        base_lt = max(ZERO, lt * inclusion - allowance)
        allowance_left = max(ZERO, allowance - lt * inclusion) if lt > 0 else allowance
        base_st = max(ZERO, st * inclusion - allowance_left)
        part = self._tax_by(estimate, base_lt, missing)
        if part is not None:
            tax += part
        if short_spec is not None and base_st > 0:
            part = self._tax_by(short_spec, base_st, missing)
            if part is not None:
                tax += part
        unsurcharged = ZERO
        for surtax in estimate.surtaxes:
            part = self._surtax(surtax, max(ZERO, st) + max(ZERO, lt), missing)
            if part is not None:
                tax += part
                if not surtax.surcharged:
                    unsurcharged += part  # the surcharges do not reach it
        for surcharge in estimate.surcharges:
            tax += (tax - unsurcharged) * _dec(self._value(surcharge.need("rate"), missing))
        if missing:
            return Estimate(None, tuple(sorted(set(missing))), tuple(caveats))
        return Estimate(tax, (), tuple(caveats))

    def _tax_by(self, spec: TaxMethod, base: Decimal, missing: list[str]) -> Decimal | None:
        method = spec.method
        if base == 0:
            return ZERO
        if method == "flat":
            rate = self._value(spec.need("rate"), missing)
            return None if rate is None else base * Decimal(rate)
        if method == "marginal_rate":
            rate = self.taxpayer.marginal_rate.get(self.jurisdiction)
            if rate is None:
                missing.append(f"marginal_rate for {self.jurisdiction}")
                return None
            return base * rate
        if method == "brackets":
            # Brackets stack the gain on top of the taxpayer's other income of the year.
            other = self.taxpayer.other_income.get(self.jurisdiction)
            if other is None:
                missing.append(f"other_income for {self.jurisdiction}")
            brackets = self._value(spec.need("brackets"), missing)
            if brackets is None or other is None:
                return None
            return bracket_tax(brackets, other + base) - bracket_tax(brackets, other)
        missing.append(f"a known estimate method (got {method!r}) in pack {self.pack.id}")
        return None

    def _surtax(self, spec: Surtax, gain: Decimal, missing: list[str]) -> Decimal | None:
        if gain <= 0:
            return ZERO
        status = self.taxpayer.filing_status
        other = self.taxpayer.other_income.get(self.jurisdiction)
        if status is None or other is None:
            missing.append(f"{'filing_status' if status is None else 'other_income'} for {self.jurisdiction} (for {spec.id})")
            return None
        threshold = self._value(spec.need("threshold"), missing)
        rate = self._value(spec.need("rate"), missing)
        if threshold is None or rate is None:
            return None
        excess = max(ZERO, other + gain - Decimal(threshold))
        return min(gain, excess) * Decimal(rate)


def _keyed(pack: Pack, ref: Any) -> bool:
    if isinstance(ref, Mapping) and "param" in ref:
        parameter = pack.parameters.get(ref["param"])
        return bool(parameter and parameter.by)
    return False


def _dec(value: Any) -> Decimal:
    """A resolved value as a Decimal. None (a keyed value this taxpayer has no key for, already recorded as
    missing) counts as 0: the estimate is withheld anyway."""
    return ZERO if value is None else Decimal(value)


def _net_terms(short: Decimal, long: Decimal) -> tuple[Decimal, Decimal]:
    """Net short against long: a net loss of one term reduces the net gain of the other."""
    if short < 0 < long:
        return ZERO, max(ZERO, long + short)
    if long < 0 < short:
        return max(ZERO, short + long), ZERO
    return short, long
