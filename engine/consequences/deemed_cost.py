"""A deemed acquisition cost: a share of the sale price, used where it gives a lower gain than the actual cost.

Some countries let the seller deduct a flat share of the sale price instead of what the units cost (SE
schablonmetoden: 20% of the price of listed shares, after selling costs, 48 kap. 15 § IL; FI
hankintameno-olettama: 20% of the price, 40% for units held at least 10 years, and no other costs, TVL 46 §).
The pack's `year.deemed_cost` says which shares apply to which lots; the lots ledger keeps the actual cost
(the sale's reported cost and gain), and the year's computation takes, lot by lot or for the whole sale as
the pack says, the lower of the two gains. A finding shows both costs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from taxpack.engine.core.household import Finding, Security
from taxpack.engine.core.money import money_text, percent_text
from taxpack.engine.law.findings import make_finding, value_caveat
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.year_rules import DeemedShare, YearRules
from taxpack.engine.lots.ledger import Sale

ZERO = Decimal(0)


@attrs.frozen
class DeemedGains:
    """A sale's gains with the deemed cost where it is the better one: `gains` per lot matched (in the ledger's
    order), the actual and the deemed cost of the lots a share applies to, the price the shares apply to."""

    gains: tuple[Decimal, ...]
    used: bool  # the deemed cost replaced the actual cost on some lot
    actual_cost: Decimal
    deemed_cost: Decimal
    price: Decimal
    actual_gain: Decimal
    gain: Decimal  # what the year's computation uses, summed over the lots a share applies to
    shares: tuple[Decimal, ...]
    caveats: tuple[str, ...] = ()


def deemed_gains(rules: YearRules, pack: Pack, sale: Sale, security: Security, on: dt.date | None = None) -> DeemedGains | None:
    """The gains of `sale` under the pack's deemed cost (None: the pack has none, or no share applies to its lots).
    `on`: the lots' holding periods as if sold that day (a timing alternative)."""
    spec = rules.deemed_cost
    if spec is None or not sale.matches or not sale.tx.quantity:
        return None
    sold = on or sale.tx.date
    day = pack.law_day(sale.tx.date)
    fees = sale.fees if spec.price == "gross" and sale.fees_treatment.get("sell") == "deduct_from_proceeds" else ZERO
    actual: list[Decimal] = []
    deemed: list[Decimal | None] = []
    actual_cost = deemed_cost = price_total = actual_gain = ZERO
    shares: list[Decimal] = []
    caveats: list[str] = []
    for m in sale.matches:
        actual.append(m.gain)
        entry = _entry(spec.shares, security, m.adjusted_acquired or m.acquired, sold)
        if entry is None:
            deemed.append(None)
            continue
        share = Decimal(pack.resolve(entry.share, day))
        if isinstance(entry.share, dict) and "param" in entry.share:
            note = value_caveat(pack, entry.share["param"], pack.resolve_dated(entry.share, day))
            if note and note not in caveats:
                caveats.append(note)
        price = m.proceeds + fees * m.quantity / sale.tx.quantity
        deemed.append(price - share * price)  # with the gross price, the selling costs are not deducted either
        actual_cost += m.cost
        deemed_cost += share * price
        price_total += price
        actual_gain += m.gain
        if share not in shares:
            shares.append(share)
    if not shares:
        return None
    if spec.per == "lot":
        gains = tuple(a if d is None else min(a, d) for a, d in zip(actual, deemed))
    else:
        better = sum((d for d in deemed if d is not None), ZERO) < actual_gain
        gains = tuple(a if d is None or not better else d for a, d in zip(actual, deemed))
    used = any(g != a for g, a in zip(gains, actual))
    gain = sum((g for g, d in zip(gains, deemed) if d is not None), ZERO)
    return DeemedGains(gains, used, actual_cost, deemed_cost, price_total, actual_gain, gain, tuple(shares), tuple(caveats))


def _entry(shares: tuple[DeemedShare, ...], security: Security, acquired: dt.date | None, sold: dt.date) -> DeemedShare | None:
    for entry in shares:
        if entry.matches(security.kind, security.listed, acquired, sold):
            return entry
    return None


def deemed_finding(rules: YearRules, pack: Pack, deemed: DeemedGains) -> Finding | None:
    """The finding on a sale at a gain that a deemed cost applies to: both costs, and which one the year uses."""
    spec = rules.deemed_cost
    if spec is None or deemed.actual_gain <= 0 and not deemed.used:
        return None
    cur = pack.currency or ""
    shares = " / ".join(percent_text(s) for s in deemed.shares)
    if spec.per == "lot":
        which = "the year's computation takes, lot by lot, the cost that gives the lower gain"
    else:
        which = ("the deemed cost gives the lower gain: the year's computation uses it" if deemed.used
                 else "the actual cost gives the lower gain: the year's computation uses it")
    price = "the sale price before selling costs (which are then not deducted)" if spec.price == "gross" else "the sale price after selling costs"
    message = (f"deemed acquisition cost: {shares} of {price} ({money_text(deemed.price, pack, grouped=True)} {cur}) is "
               f"{money_text(deemed.deemed_cost, pack, grouped=True)} {cur}, the actual cost {money_text(deemed.actual_cost, pack, grouped=True)} {cur}; "
               f"{which} (gain {money_text(deemed.gain, pack, grouped=True)} {cur}, against {money_text(deemed.actual_gain, pack, grouped=True)} {cur} "
               f"at the actual cost)")
    return make_finding(pack, code="deemed_cost", severity="info", message=message, rule=f"{pack.id}.year.deemed_cost",
                        source=spec.source, uncertain=spec.uncertain, caveats=deemed.caveats, amount=deemed.gain - deemed.actual_gain,
                        facts={"deemed_cost.actual": deemed.actual_cost, "deemed_cost.deemed": deemed.deemed_cost,
                               "deemed_cost.price": deemed.price, "deemed_cost.used": deemed.used})
