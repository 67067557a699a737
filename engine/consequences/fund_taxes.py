"""Fund gains taxed before the sale: what a year basket's `taxed_before` says was already taxed.

Some regimes tax a fund's unrealised gain while it is held, and the sale then taxes only the rest:

- `vorabpauschale`: each calendar year, the value at its start x the year's base rate x a factor,
  capped at the year's increase, less 1/12 per full month before the purchase month; the sale's gain is
  reduced by the amounts taxed while the units were held, in full (DE §18, §19(1) InvStG);
- `mark_to_market`: each year end the units are valued: an increase is ordinary income and becomes
  basis, a decrease is deductible only down to the inclusions not yet reversed; the sale's gain is
  against that basis, and the part of a loss below the original cost is an ordinary capital loss (US §1296);
- `deemed_disposal`: every N years after the acquisition the units are deemed sold and bought back at
  their value (IE s.747E(6)); the sale's gain runs from the last deemed reacquisition.

Each needs the fund's price on the days that count (the turns of the year, the anniversaries): the
scenario's `prices:`. A day without a price is named in a finding and that year counts for nothing
(the gain of the sale is then the larger, never the smaller). Nothing here names a country: the
methods, rates and periods come from the pack.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable, Mapping

import attrs

from taxpack.engine.consequences.year_bill import CURRENT, UNKNOWN, spread_key
from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.core.errors import EvaluationError
from taxpack.engine.core.household import Finding, LotMatch, Scenario, Security, Transaction
from taxpack.engine.core.money import money_text, percent_text
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.year_rules import Basket, YearRules, allocate_by_day, year_rules
from taxpack.engine.lots.ledger import Ledger, Sale

ZERO = Decimal(0)
PRICE_DAYS = 7  # a price up to a week before (or after) the day it stands for: the last trading day of a year
Pieces = list[tuple[Decimal, bool]]  # (amount, annual): annual=False skips the baskets taxed year by year


@attrs.frozen
class LotEarlier:
    """What a regime taxed of one lot before its sale, and how the sale's amount splits."""

    basket: Basket
    method: str
    taxed: Decimal  # the part of the lot's gain taxed before the sale (lens currency)
    pieces: tuple[tuple[Decimal, bool], ...]
    missing: tuple[dt.date, ...]  # days whose price was needed and not given
    detail: tuple[str, ...]  # one line per year or anniversary


class EarlierTaxes:
    """The `taxed_before` regimes of one lens, for the sales of its ledger."""

    def __init__(self, pack: Pack, scenario: Scenario, ledger: Ledger) -> None:
        self.pack = pack
        self.rules: YearRules = year_rules(pack)
        self.scenario = scenario
        self.ledger = ledger
        self._cache: dict[tuple[Any, ...], LotEarlier | None] = {}
        # Whether any basket of this lens taxes before the sale or spreads a gain (else nothing to say).
        self.active = any(b.taxed_before for b in self.rules.baskets) or any(self.rules.spread(b.id) for b in self.rules.baskets)
        self.deemed = any((b.taxed_before or {}).get("method") == "deemed_disposal" for b in self.rules.baskets)

    def splitter(self, security: Security, sold: dt.date) -> Callable[[LotMatch, Decimal], Pieces] | None:
        """For check's `realised`: a lot's amount split as the regime of its basket says (None: no regime)."""
        if not any(b.taxed_before for b in self.rules.baskets):
            return None

        def split(match: LotMatch, amount: Decimal) -> Pieces:
            found = self.lot(security, match, amount, sold)
            return [(amount, True)] if found is None else list(found.pieces)
        return split

    def lot(self, security: Security, match: LotMatch, amount: Decimal, sold: dt.date) -> LotEarlier | None:
        key = (security.id, match.lot, match.account, match.quantity, amount, sold)
        if key not in self._cache:
            self._cache[key] = self._lot(security, match, amount, sold)
        return self._cache[key]

    def _lot(self, security: Security, match: LotMatch, amount: Decimal, sold: dt.date) -> LotEarlier | None:
        acquired = match.acquired
        if acquired is None or match.quantity <= 0:
            return None
        sign = 1 if amount > 0 else -1
        basket = self.rules.basket(self.rules.basket_for(match.term, security.kind, tuple(security.tags), security.country, sign,
                                                         match.adjusted_acquired or acquired, sold, fund_kind=security.fund_kind,
                                                         election=security.pfic_election))
        spec = basket.taxed_before
        if not spec:
            return None
        method = spec["method"]
        if method == "vorabpauschale":
            return self._vorabpauschale(basket, spec, security, match, amount, acquired, sold)
        if method == "mark_to_market":
            return self._mark_to_market(basket, security, match, amount, acquired, sold)
        return self._deemed_disposal(basket, spec, security, match, amount, acquired, sold)

    # -- the regimes ------------------------------------------------------------------------------------

    def _vorabpauschale(self, basket: Basket, spec: Mapping[str, Any], security: Security, match: LotMatch, amount: Decimal,
                        acquired: dt.date, sold: dt.date) -> LotEarlier:
        taxed = ZERO
        missing: list[dt.date] = []
        detail: list[str] = []
        for year in range(acquired.year, sold.year):
            start, end = self._turn(security, year), self._turn(security, year + 1)
            if start is None or end is None:
                missing.extend(d for d, p in ((dt.date(year, 1, 1), start), (dt.date(year + 1, 1, 1), end)) if p is None)
                continue
            rate = self._param(spec.get("rate"), dt.date(year, 1, 1))
            factor = self._param(spec.get("factor", 1), dt.date(year, 1, 1))
            if rate is None or factor is None:
                detail.append(f"{year}: no base rate in pack {self.pack.id}")
                continue
            months = 12 - (acquired.month - 1) if year == acquired.year else 12
            per_unit = vorabpauschale(start[0], end[0], Decimal(rate), Decimal(factor), ZERO, months)
            if per_unit <= 0:
                detail.append(f"{year}: none")
                continue
            value, _ = self.ledger.convert_on(per_unit * match.quantity, start[1], dt.date(year + 1, 1, 2))
            taxed += value
            detail.append(f"{year}: {_num(per_unit)} a unit ({_num(start[0])} x {percent_text(rate)} x {percent_text(factor)}"
                          + (f", {months}/12" if months != 12 else "") + f"), {self._m(value)}")
        if any(d.security == security.id and acquired.year <= d.date.year < sold.year for d in self.scenario.dividends):
            detail.append("distributions of those years reduce the Vorabpauschale and are not deducted here")
        return LotEarlier(basket, "vorabpauschale", taxed, ((amount - taxed, True),), tuple(missing), tuple(detail))

    def _mark_to_market(self, basket: Basket, security: Security, match: LotMatch, amount: Decimal,
                        acquired: dt.date, sold: dt.date) -> LotEarlier:
        cost = match.cost
        basis = cost
        unreversed = ZERO
        missing: list[dt.date] = []
        detail: list[str] = []
        for year in range(acquired.year, sold.year):
            end = self._turn(security, year + 1)
            if end is None:
                missing.append(dt.date(year, 12, 31))
                break
            value, _ = self.ledger.convert_on(end[0] * match.quantity, end[1], dt.date(year, 12, 31))
            change = value - basis
            if change >= 0:
                unreversed += change
                basis = value
                detail.append(f"{year}: value {self._m(value)}, ordinary income {self._m(change)}")
            else:
                allowed = min(-change, unreversed)
                unreversed -= allowed
                basis -= allowed
                detail.append(f"{year}: value {self._m(value)}, ordinary loss {self._m(allowed)}")
        if missing:  # the basis is unknown: the whole gain since purchase is this year's
            unreversed = ZERO
            detail.append("without the year-end values the whole gain since purchase is counted in the year of sale")
        pieces: tuple[tuple[Decimal, bool], ...]
        if amount >= 0 or unreversed == 0:
            pieces = ((amount - unreversed, True),) if amount >= 0 else ((amount, False),)
        else:  # a loss below cost: ordinary down to the inclusions, the rest a capital loss
            pieces = ((-unreversed, True), (amount, False))
        return LotEarlier(basket, "mark_to_market", unreversed, pieces, tuple(missing), tuple(detail))

    def _deemed_disposal(self, basket: Basket, spec: Mapping[str, Any], security: Security, match: LotMatch, amount: Decimal,
                         acquired: dt.date, sold: dt.date) -> LotEarlier | None:
        every = self._every(spec, sold)
        if every is None:
            return None
        events = anniversaries(acquired, every, sold)
        if not events:
            return None
        last = events[-1]
        price = self._price(security, last)
        if price is None:
            return LotEarlier(basket, "deemed_disposal", ZERO, ((amount, True),), (last,),
                              tuple(f"deemed disposal on {d.isoformat()}" for d in events))
        value, _ = self.ledger.convert_on(price[0] * match.quantity, price[1], last)
        taxed = value - match.cost
        rate = _flat_rate(self.pack, basket, spec, last)
        tax = f", tax about {self._m(max(ZERO, taxed) * rate)} at {percent_text(rate)}" if rate is not None else ""
        detail = tuple(f"deemed disposal on {d.isoformat()}" for d in events[:-1]) + (
            f"deemed disposal on {last.isoformat()}: value {self._m(value)}, gain {self._m(taxed)}{tax}",)
        return LotEarlier(basket, "deemed_disposal", taxed, ((amount - taxed, True),), (), detail)

    # -- values -----------------------------------------------------------------------------------------

    def _every(self, spec: Mapping[str, Any], day: dt.date) -> Duration | None:
        raw = spec.get("every")
        if isinstance(raw, Mapping) and "param" in raw:
            years = self._param(raw, self.pack.law_day(day))
            return None if years is None else Duration(years=int(years))
        return Duration.from_mapping(raw) if raw else None

    def _param(self, ref: Any, day: dt.date) -> Any:
        try:
            return self.pack.resolve(ref, day)
        except EvaluationError:
            return None

    def _price(self, security: Security, day: dt.date) -> tuple[Decimal, str] | None:
        found = self.scenario.price_on(security.id, day, PRICE_DAYS)
        return None if found is None else (found.price, found.currency)

    def _turn(self, security: Security, year: int) -> tuple[Decimal, str] | None:
        """The value at the turn of the year (start of `year`): a price of 1 January, else of the last
        days of the year before, else of the first days of `year` (the year's first redemption price)."""
        day = dt.date(year, 1, 1)
        found = self.scenario.price_on(security.id, day, PRICE_DAYS)
        if found is None:
            later = self.scenario.price_on(security.id, day + dt.timedelta(days=PRICE_DAYS), PRICE_DAYS)
            found = later if later is not None and later.date >= day else None
        return None if found is None else (found.price, found.currency)

    def _m(self, value: Decimal) -> str:
        return f"{money_text(value, self.pack, grouped=True)} {self.pack.currency}"


def vorabpauschale(start: Decimal, end: Decimal, rate: Decimal, factor: Decimal, distributions: Decimal, months: int) -> Decimal:
    """The Vorabpauschale of one unit for one year (§18 InvStG): the base return (value at the start x
    rate x factor) capped at the year's increase plus distributions, less the distributions, never below
    zero; in the year of purchase `months` twelfths of it (1/12 less per full month before the purchase)."""
    base = start * rate * factor
    base = min(base, max(ZERO, end - start + distributions))
    return max(ZERO, base - distributions) * months / 12


def anniversaries(acquired: dt.date, every: Duration, before: dt.date) -> list[dt.date]:
    """The days `every`, 2 x `every`... after `acquired` that fall before `before`."""
    out = []
    day = shift(acquired, every, +1, "decreasing")
    while day < before:
        out.append(day)
        day = shift(day, every, +1, "decreasing")
    return out


def fund_findings(trade: Transaction, sale: Sale | None, security: Security, earlier: EarlierTaxes,
                  held: Callable[[], list[dict[str, Any]]]) -> list[Finding]:
    """What the regimes taxed before this sale (per method, with the amounts) and, for a deemed-disposal
    regime, when the units still held are next deemed sold; a spread gain's years (Form 8621 Part V)."""
    pack = earlier.pack
    rules = earlier.rules
    out: list[Finding] = []
    if not earlier.active:
        return out
    if sale is not None and sale.taxable:
        by_method: dict[str, list[LotEarlier]] = {}
        scale = (sale.gain + sale.disallowed) / sale.gain if sale.gain != 0 else Decimal(1)
        for m in sale.matches:
            found = earlier.lot(security, m, m.gain * scale, trade.date)
            if found is not None and (found.taxed or found.missing or found.detail):
                by_method.setdefault(found.method, []).append(found)
        for method, lots in sorted(by_method.items()):
            out.append(_earlier_finding(pack, trade, security, method, lots))
        out.extend(_spread_findings(pack, rules, trade, sale, security, scale))
    if earlier.deemed:
        out.extend(_next_deemed(earlier, security, trade, held()))
    return out


def _earlier_finding(pack: Pack, trade: Transaction, security: Security, method: str, lots: list[LotEarlier]) -> Finding:
    spec = lots[0].basket.taxed_before or {}
    taxed = sum((lot.taxed for lot in lots), ZERO)
    missing = sorted({d for lot in lots for d in lot.missing})
    cur = pack.currency or ""
    money = money_text(taxed, pack, grouped=True)
    lines = "; ".join(line for lot in lots for line in lot.detail)
    if method == "vorabpauschale" and not lines:
        message = f"{security.id}: the advance lump sums (Vorabpauschalen) taxed while these units were held reduce the gain of this sale in full; none could be computed"
    elif method == "vorabpauschale":
        message = (f"{security.id}: the advance lump sums (Vorabpauschalen) taxed while these units were held, {money} {cur}, "
                   f"reduce the gain of this sale in full ({lines})")
    elif method == "mark_to_market":
        message = (f"{security.id}: marked to market each year end, {money} {cur} of the gain was ordinary income of earlier years "
                   f"and is in the basis; this sale's gain over that basis is ordinary income ({lines})")
    else:
        message = (f"{security.id}: units deemed sold and bought back at their value ({lines}); this sale's gain runs from "
                   f"that value, the {money} {cur} taxed on the deemed disposal is not taxed again")
        if any(piece < 0 for lot in lots for piece, _ in lot.pieces):
            message += "; the value has fallen since: part of the tax paid then can be repaid on a claim"
    uncertain = None
    if missing:
        days = ", ".join(d.isoformat() for d in missing)
        uncertain = (f"no price of {security.id} for {days} in the scenario's prices: those years count for nothing here, "
                     "so the gain shown is the larger one")
    return make_finding(pack, code=f"taxed_before_{method}", severity="info" if not missing else "warning", message=message,
                        rule=f"{pack.id}.year.{lots[0].basket.id}.taxed_before", source=spec.get("source") or lots[0].basket.source,
                        uncertain=uncertain or spec.get("uncertain"), amount=taxed,
                        facts={"security.id": security.id, "trade.id": trade.id})


def _spread_findings(pack: Pack, rules: YearRules, trade: Transaction, sale: Sale, security: Security, scale: Decimal) -> list[Finding]:
    """A gain spread over the holding period: how much went to the year of sale and to each earlier year."""
    year = rules.tax_year(trade.date)
    shares: dict[str, Decimal] = {}
    basket_id = None
    for m in sale.matches:
        amount = m.gain * scale
        if amount <= 0:
            continue
        start = m.adjusted_acquired or m.acquired
        found = rules.basket_for(m.term, security.kind, tuple(security.tags), security.country, 1, start, trade.date,
                                 fund_kind=security.fund_kind, election=security.pfic_election)
        if not rules.spread(found):
            continue
        basket_id = found
        parts = allocate_by_day(amount, start, trade.date, rules.tax_year, rules.year_start) if start is not None else {UNKNOWN: amount}
        for part, share in parts.items():
            key = CURRENT if part == year else str(part)
            shares[key] = shares.get(key, ZERO) + share
    if basket_id is None:
        return []
    basket = rules.basket(basket_id)
    cur = pack.currency or ""
    earlier = ", ".join(f"{k}: {money_text(v, pack, grouped=True)}" for k, v in sorted(shares.items()) if k not in (CURRENT, UNKNOWN))
    current = money_text(shares.get(CURRENT, ZERO), pack, grouped=True)
    message = (f"{security.id}: the gain is an excess distribution, spread over each day held: {current} {cur} to {year} "
               f"(ordinary income)" + (f", and to earlier years {earlier} {cur}, each taxed at that year's top rate plus interest "
                                        "to this year's return due date" if earlier else "") +
               f" ({basket.title}); it is not a capital gain")
    return [make_finding(pack, code="excess_distribution", severity="warning", message=message, rule=f"{pack.id}.year.{basket_id}",
                         source=(basket.tax or {}).get("source") or basket.source, amount=sum(shares.values(), ZERO),
                         facts={"security.id": security.id, "trade.id": trade.id,
                                **{spread_key("spread", k): v for k, v in sorted(shares.items())}})]


def _next_deemed(earlier: EarlierTaxes, security: Security, trade: Transaction, held: list[dict[str, Any]]) -> list[Finding]:
    """The next deemed disposal of each lot of `security` still held at the end of the scenario."""
    rules = earlier.rules
    pack = earlier.pack
    out = []
    lines = []
    total = ZERO
    priced = True
    basket: Basket | None = None
    for position in held:
        if position["security"] != security.id or not position["taxable"]:
            continue
        for lot in position["lots"]:
            acquired = dt.date.fromisoformat(lot["acquired"])
            candidate = rules.basket(rules.basket_for("none", security.kind, tuple(security.tags), security.country, 1, acquired,
                                                      trade.date, fund_kind=security.fund_kind, election=security.pfic_election))
            spec = candidate.taxed_before
            if not spec or spec.get("method") != "deemed_disposal":
                continue
            every = earlier._every(spec, trade.date)
            if every is None:
                continue
            basket = candidate
            day = shift(acquired, every, +1, "decreasing")
            while day <= trade.date:
                day = shift(day, every, +1, "decreasing")
            quantity = Decimal(lot["quantity"])
            price = earlier._price(security, trade.date) or ((trade.price, trade.currency or security.currency) if trade.price else None)
            if price is None:
                priced = False
                lines.append(f"{_num(quantity)} units bought {acquired.isoformat()}: {day.isoformat()}")
                continue
            value, _ = earlier.ledger.convert_on(price[0] * quantity, price[1], trade.date)
            gain = value - Decimal(lot["cost"])
            rate = _flat_rate(pack, candidate, spec, day)
            tax = max(ZERO, gain) * rate if rate is not None else None
            if tax is not None:
                total += tax
            lines.append(f"{_num(quantity)} units bought {acquired.isoformat()}: {day.isoformat()}, gain at today's price "
                         f"{money_text(gain, pack, grouped=True)}" + (f", tax {money_text(tax, pack, grouped=True)}" if tax is not None else ""))
    if basket is None or not lines:
        return []
    spec = basket.taxed_before or {}
    cur = pack.currency or ""
    message = (f"{security.id} is deemed sold and bought back every {_every_text(spec, earlier, trade.date)} while held, without a sale: "
               + "; ".join(lines) + (f" (about {money_text(total, pack, grouped=True)} {cur} at today's price)" if priced and total else ""))
    out.append(make_finding(pack, code="deemed_disposal", severity="warning", message=message, rule=f"{pack.id}.year.{basket.id}.taxed_before",
                            source=spec.get("source") or basket.source, amount=total if priced else None,
                            uncertain=None if priced else f"no price of {security.id} to estimate the tax of the deemed disposal",
                            facts={"security.id": security.id, "trade.id": trade.id}))
    return out


def _flat_rate(pack: Pack, basket: Basket, spec: Mapping[str, Any], day: dt.date) -> Decimal | None:
    tax = spec.get("tax") or basket.tax or {}
    if tax.get("method") != "flat":
        return None
    try:
        return Decimal(pack.resolve(tax.get("rate"), pack.law_day(day)))
    except EvaluationError:
        return None


def _every_text(spec: Mapping[str, Any], earlier: EarlierTaxes, day: dt.date) -> str:
    every = earlier._every(spec, day)
    if every is None:
        return "period"
    for unit in ("years", "months", "weeks", "days"):
        amount = getattr(every, unit)
        if amount:
            return f"{amount} {unit if amount != 1 else unit[:-1]}"
    return "period"


def _num(value: Decimal) -> str:
    text = format(value.quantize(Decimal("0.0001")).normalize(), "f")
    return text
