"""The future of a loss sale: until when a repurchase, in which accounts, would cost how much of the loss.

For a sale at a loss, each loss rule of the pack that covers the security gives the last day on which
buying back the same (or an equivalent) security would still bite, and what it would do per holder:
defer the loss into the replacement, restrict it, or lose it for good (a purchase in an IRA or a
registered plan).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from taxpack.engine.core.household import Scenario
from taxpack.engine.core.money import money_text
from taxpack.engine.law.pack import Pack
from taxpack.engine.losses.family import ZERO
from taxpack.engine.losses.holders import holder_view
from taxpack.engine.losses.identity import equivalents
from taxpack.engine.losses.spec import sale_window

_OUTCOME = {
    "add_to_replacement_basis": ("deferred", "deferred into the replacement's basis"),
    "usable_against_reacquired": ("restricted", "usable only against a gain on the shares bought back"),
    "defer_until_replacement_sold": ("deferred_until_sold", "deferred until the shares bought back are sold"),
}


def repurchase_horizon(pack: Pack, scenario: Scenario, sale: Any) -> list[dict[str, Any]]:
    """For a loss sale: per rule and per group of accounts, the last day a repurchase counts and the loss at stake.

    `amount` is the part of the loss still exposed (the loss on the slices sold at a loss, less what the
    rules already disallowed for purchases already made), `per_unit` the loss per unit still exposed.
    Rows come in a stable order: rule, relation (self before spouse), wrapper.
    """
    if not getattr(sale, "taxable", True):
        return []
    loss_slices = [(take, match) for take, match in zip(sale.takes, sale.matches) if match.gain < 0]
    if not loss_slices:
        return []
    loss = sum((-m.gain for _, m in loss_slices), ZERO)
    units = sum((t.quantity for t, _ in loss_slices), ZERO)
    exposed = loss - sale.disallowed
    if exposed <= 0 or units <= 0:
        return []
    per_unit = loss / units
    exposed_units = exposed / per_unit
    tx = sale.tx
    seller = scenario.account(tx.account).owner
    security = scenario.security(tx.security)
    currency = pack.currency or ""
    rows: list[dict[str, Any]] = []
    for rule in pack.sections.loss_rules or ():
        if not rule.applies(security):
            continue
        window = sale_window(rule, pack, rule.event_day(tx), pack.law_day(tx.date))
        matching = equivalents(scenario, tx.security, rule.identity)
        groups: dict[tuple[str, str, str], list[str]] = {}
        for account in sorted(scenario.accounts, key=lambda a: a.id):
            view = holder_view(rule, pack, scenario, seller, account)
            if view.status == "ignored":
                continue
            groups.setdefault((view.relation, view.wrapper, view.status), []).append(account.id)
        source = pack.source(rule.source)
        for (relation, wrapper, status), accounts in sorted(groups.items(), key=lambda kv: (kv[0][0] != "self", kv[0][1], kv[0][2])):
            effective = status if status != "uncertain" else "uncertain"
            if status == "permanent":
                outcome, words = "lost", "lost for good (no basis to carry it)"
            elif status == "uncertain":
                outcome, words = "uncertain", f"at risk (whether a purchase in a {wrapper} counts under {rule.id} is uncertain)"
            else:
                outcome, words = _OUTCOME[rule.effect]
            whose = "your" if relation == "self" else "your spouse's"
            others = [s for s in matching if s != tx.security]
            what = tx.security + (f" (or {', '.join(others)})" if others else "")
            condition = f" and still held on {window.end.isoformat()}" if rule.held_at_end else ""
            message = (f"{rule.title}: buying {what} in {whose} {wrapper} account{'s' if len(accounts) > 1 else ''} "
                       f"{', '.join(accounts)} on or before {window.end.isoformat()}{condition} would leave up to "
                       f"{money_text(exposed, pack, grouped=True)} {currency} of this loss {words}; from {(window.end + dt.timedelta(days=1)).isoformat()} it is free")
            rows.append({
                "rule": rule.id,
                "code": rule.code,
                "jurisdiction": pack.jurisdiction,
                "until": window.end,
                "free_from": window.end + dt.timedelta(days=1),
                "window_start": window.start,
                "relation": relation,
                "wrapper": wrapper,
                "accounts": accounts,
                "securities": sorted(matching),
                "outcome": outcome,
                "status": effective,
                "held_at_end": rule.held_at_end,
                "amount": exposed,
                "per_unit": per_unit,
                "quantity": exposed_units,
                "currency": currency,
                "citation": source.citation if source else "",
                "message": message,
            })
    return rows

