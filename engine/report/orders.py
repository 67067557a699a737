"""Orders a broker can execute, from a plan or from harvest candidates (`--orders FILE.csv`).

One line per sale lot (the lot named for specific identification by its purchase: date, unit price and
the cost of the units sold), one per purchase, then the "do not buy before" lines: for each account and
security a loss rule watches after a sale at a loss, the first day a purchase no longer trips it. The
columns are documented in docs/planning.md ("Orders"). Every cell goes through `csv_safe`.

Both read the command's JSON form (as the other formats do) and the scenario, where the lots' purchases are.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Iterable, Mapping

import attrs

from taxpack.engine.core.csv_safe import csv_safe_row
from taxpack.engine.core.household import Scenario, Transaction
from taxpack.engine.core.money import money_text, number_text

COLUMNS = ["kind", "account", "security", "quantity", "limit_price", "currency", "lot", "lot_acquired", "lot_price",
           "lot_cost", "do_not_buy_before", "rule", "jurisdiction", "outcome", "source", "note"]
KIND_ORDER = {"sell": 0, "buy": 1, "do_not_buy": 2}


@attrs.frozen
class OrderLine:
    kind: str  # sell | buy | do_not_buy
    account: str
    security: str
    quantity: str = ""
    limit_price: str = ""
    currency: str = ""
    lot: str = ""
    lot_acquired: str = ""
    lot_price: str = ""
    lot_cost: str = ""
    do_not_buy_before: str = ""
    rule: str = ""
    jurisdiction: str = ""
    outcome: str = ""
    source: str = ""  # the plan trade or harvest candidate the line comes from
    note: str = ""

    def row(self) -> list[str]:
        return [getattr(self, c) for c in COLUMNS]


def _purchases(scenario: Scenario) -> dict[str, Transaction]:
    return {t.id: t for t in scenario.transactions if t.side == "buy"}


def _currency(scenario: Scenario, security: str, tx: Transaction | None = None) -> str:
    if tx is not None and tx.currency:
        return tx.currency
    try:
        return scenario.security(security).currency
    except KeyError:
        return ""


def _sale_lines(scenario: Scenario, account: str, security: str, quantity: str, lots: Any, limits: Mapping[str, Decimal],
                source: str, note: str = "") -> list[OrderLine]:
    """One line per lot the sale takes (specific identification), or one line when no lot is named."""
    purchases = _purchases(scenario)
    limit = number_text(limits[security]) if security in limits else ""
    named = [l for l in lots if isinstance(l, Mapping) and l.get("transaction")] if isinstance(lots, list) else []
    if not named:
        return [OrderLine("sell", account, security, quantity, limit, _currency(scenario, security), source=source, note=note)]
    out = []
    for l in named:
        units = Decimal(str(l["quantity"]))
        tx = purchases.get(str(l["transaction"]))
        if tx is None:  # a lot opened otherwise than by a purchase of the history: named, not described
            out.append(OrderLine("sell", account, security, number_text(units), limit, _currency(scenario, security),
                                 lot=str(l["transaction"]), source=source, note=note))
            continue
        cost = (tx.price * tx.quantity + tx.fees) * units / tx.quantity if tx.quantity else Decimal(0)
        out.append(OrderLine("sell", account, security, number_text(units), limit, _currency(scenario, security, tx),
                             lot=tx.id, lot_acquired=tx.date.isoformat(), lot_price=number_text(tx.price),
                             lot_cost=money_text(cost) or "", source=source, note=note))
    return out


def _hold_lines(horizon: Iterable[Mapping[str, Any]], jurisdiction: str | None, source: str) -> list[OrderLine]:
    """For each account and security a loss rule watches, the first day a purchase is free of it."""
    out = []
    for h in horizon:
        for account in h.get("accounts") or []:
            for security in h.get("securities") or []:
                out.append(OrderLine("do_not_buy", str(account), str(security), do_not_buy_before=str(h["free_from"]),
                                     rule=str(h.get("rule") or ""), jurisdiction=str(h.get("jurisdiction") or jurisdiction or ""),
                                     outcome=str(h.get("outcome") or ""), source=source))
    return out


def _merge_holds(lines: list[OrderLine]) -> list[OrderLine]:
    """One do-not-buy line per (account, security, rule): the latest date, every source and outcome named."""
    merged: dict[tuple[str, str, str, str], OrderLine] = {}
    for line in lines:
        key = (line.account, line.security, line.jurisdiction, line.rule)
        have = merged.get(key)
        if have is None:
            merged[key] = line
            continue
        sources = sorted(set(have.source.split(";")) | {line.source})
        outcomes = sorted(set(have.outcome.split(";")) | {line.outcome})
        merged[key] = attrs.evolve(have, do_not_buy_before=max(have.do_not_buy_before, line.do_not_buy_before),
                                   source=";".join(sources), outcome=";".join(o for o in outcomes if o))
    return sorted(merged.values(), key=lambda l: (l.do_not_buy_before, l.account, l.security, l.jurisdiction, l.rule))


def plan_orders(data: Mapping[str, Any], scenario: Scenario, limits: Mapping[str, Decimal] | None = None) -> list[OrderLine]:
    """Sales lot by lot and purchases of a plan (its JSON form), then the repurchase windows its sales open."""
    limits = limits or {}
    sells: list[OrderLine] = []
    buys: list[OrderLine] = []
    for t in data["trades"]:
        if t["side"] == "sell":
            sells += _sale_lines(scenario, t["account"], t["security"], str(t["quantity"]), t.get("lots"), limits, t["id"])
        else:
            limit = number_text(limits[t["security"]]) if t["security"] in limits else ""
            buys.append(OrderLine("buy", t["account"], t["security"], str(t["quantity"]), limit, _currency(scenario, t["security"]),
                                  source=t["id"]))
    holds: list[OrderLine] = []
    for t in (data.get("check") or {}).get("trades") or []:  # only sales at a loss open a window
        holds += _hold_lines(t.get("repurchase_horizon") or [], None, str(t["id"]))
    return sells + buys + _merge_holds(holds)


def harvest_orders(data: Mapping[str, Any], scenario: Scenario, limits: Mapping[str, Decimal] | None = None) -> list[OrderLine]:
    """One sale per holding among the harvest candidates, then every repurchase window of every candidate.

    Candidates are listed per lens, so one holding can appear under two lenses (a US citizen's Canadian
    account: the US and the Canadian lens). It is sold once: as the lens that names lots says (the lots
    for specific identification), else as the first lens listed; the note names the lenses and, when they
    disagree, the quantity each would sell."""
    limits = limits or {}
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for c in data["candidates"]:
        groups.setdefault((c["account"], c["security"]), []).append(c)
    sells: list[OrderLine] = []
    holds: list[OrderLine] = []
    for (account, security), candidates in groups.items():
        chosen = next((c for c in candidates if any(l.get("transaction") for l in c.get("lots") or [])), candidates[0])
        lenses = [f"{c['jurisdiction']}/{c['taxpayer']}" for c in candidates]
        note = ""
        if len(candidates) > 1:
            quantities = {str(c["quantity"]) for c in candidates}
            note = f"candidate under {', '.join(lenses)}"
            if len(quantities) > 1:
                note += "; quantities differ (" + ", ".join(f"{c['jurisdiction']} {c['quantity']}" for c in candidates) + \
                        f"): this line follows {chosen['jurisdiction']}"
        source = f"{chosen['jurisdiction']}/{chosen['taxpayer']}/{account}/{security}"
        sells += _sale_lines(scenario, account, security, str(chosen["quantity"]), chosen.get("lots"), limits, source, note)
        for c in candidates:
            holds += _hold_lines(c.get("do_not_buy_back") or [], c["jurisdiction"], f"{c['jurisdiction']}/{c['taxpayer']}/{account}/{security}")
    return sells + _merge_holds(holds)


def render_orders_csv(lines: Iterable[OrderLine]) -> str:
    """The orders file: a header, then one row per line; cells escaped against formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow(csv_safe_row(line.row()))
    return buffer.getvalue()
