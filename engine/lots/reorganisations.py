"""Corporate actions and the user's cost adjustments, applied to one jurisdiction's book of lots.

Each action changes the lots the way the lens's pack says (`corporate_actions`): a split multiplies the
units of each lot at the same cost; an identifier change moves the lots to the new security; a share
exchange moves them at the old cost (with the cash received as the pack says: a gain up to the cash,
a reduction of the cost, or income); a spin-off divides the cost between the old lots and new lots of
the spun-off security (by values, or the issuer's fraction; or, where deferral needs an election not
made, adds the new units at their value as a dividend); a return of capital reduces the cost, and what
exceeds it is a gain; a stock dividend spreads the cost (US) or adds units at the dividend's amount
(CA); cash in lieu sells the fraction of a unit. Holding periods carry over: the lots keep their dates.

Gains and income the actions realise are kept in `Ledger.realised`; every lot an action touched
carries a note (`corporate_action`), so a later sale names the action and its source. A kind of action
the pack does not state is an error that names the pack and the key: nothing is assumed.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any, Iterable

import attrs

from taxpack.engine.core.dates import Duration, shift
from taxpack.engine.core.errors import EvaluationError
from taxpack.engine.core.household import CorporateAction, CostAdjustment, Finding, Scenario
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.sections import CorporateActions
from taxpack.engine.lots.pool import BOOK, ZERO, Lot, Pool

if TYPE_CHECKING:  # the ledger imports this module
    from taxpack.engine.lots.ledger import Ledger

ONE = Decimal(1)
PACK_KEYS = {"split": "split", "identifier_change": "identifier_change", "merger": "share_exchange", "spin_off": "spin_off",
             "return_of_capital": "return_of_capital", "stock_dividend": "stock_dividend"}


@attrs.frozen
class Realised:
    """A gain or income an action (or a cost adjustment) realised under this lens, in the lens currency."""

    action: str  # the corporate action's or the cost adjustment's id
    kind: str  # capital_gain | income
    account: str
    security: str
    date: dt.date
    amount: Decimal
    term: str  # short | long | none (capital gains); none for income
    why: str
    finding: Finding


def _rule(ledger: "Ledger", action: CorporateAction, key: str) -> Any:
    section: CorporateActions | None = ledger.pack.sections.corporate_actions
    rule = getattr(section, key, None) if section is not None else None
    if rule is None:
        raise EvaluationError(
            f"corporate action '{action.id}' ({action.type}): pack {ledger.pack.ref} does not say how a {key.replace('_', ' ')} is taxed",
            action.span, f"a `corporate_actions.{key}` entry in pack {ledger.pack.id}, with its source")
    return rule


def _held(ledger: "Ledger", security: str, account: str | None) -> list[tuple[Pool, list[Lot]]]:
    """The pools holding `security` (in `account` only, if given), each with its open lots of that account."""
    found = []
    for key in sorted(ledger.pools):
        if key[2] != security:
            continue
        pool = ledger.pools[key]
        lots = [lot for lot in pool.open_lots() if account is None or lot.account == account]
        if lots:
            found.append((pool, lots))
    return found


def _note(action: CorporateAction, **more: Any) -> dict[str, Any]:
    return {"corporate_action": action.id, "type": action.type, **{k: v for k, v in more.items() if v is not None}}


def _ratio_text(action: CorporateAction) -> str | None:
    return f"{_plain(action.ratio.new)}:{_plain(action.ratio.old)}" if action.ratio is not None else None


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def apply_action(ledger: "Ledger", action: CorporateAction) -> None:
    """Apply one corporate action to the ledger's lots (all accounts holding the security, or the action's account)."""
    held = _held(ledger, action.security, action.account)
    if not held:
        if action.account is not None and any(getattr(action, f) is not None for f in ("added", "cash", "cash_in_lieu", "amount")):
            raise EvaluationError(f"corporate action '{action.id}': account {action.account} holds no {action.security} on {action.date}",
                                  action.span, "an action on a security the account holds that day (or no account-specific amounts)")
        return
    rule = _rule(ledger, action, PACK_KEYS[action.type])
    if action.type == "split":
        _split(ledger, action, held, rule)
    elif action.type == "identifier_change":
        _move(ledger, action, held, action.new_security or action.security, (ONE, ONE), rule)
    elif action.type == "merger":
        _merger(ledger, action, held, rule)
    elif action.type == "spin_off":
        _spin_off(ledger, action, held, rule)
    elif action.type == "return_of_capital":
        _return_of_capital(ledger, action, held, rule)
    else:
        _stock_dividend(ledger, action, held, rule)


# ---------------------------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------------------------


def _factor(action: CorporateAction, lots: list[Lot]) -> tuple[Decimal, Decimal]:
    """(new, old): `new` units for every `old` (kept apart, so that 600 x 1/3 is 200, not 199.99...)."""
    if action.ratio is not None:
        return action.ratio.new, action.ratio.old
    held = sum((lot.quantity for lot in lots), ZERO)
    assert action.added is not None  # checked when the scenario was read: a split has a ratio or `added`
    return held + action.added, held


def _split(ledger: "Ledger", action: CorporateAction, held: list[tuple[Pool, list[Lot]]], rule: Any) -> None:
    for pool, lots in held:
        factor = _factor(action, lots)
        note = _note(action, ratio=_ratio_text(action) or f"{_plain(factor[0])}:{_plain(factor[1])}", source=rule.source)
        if action.new_security and action.new_security != action.security:
            _move(ledger, action, [(pool, lots)], action.new_security, factor, rule)
            continue
        pool.scale(lots, factor[0], factor[1], note)
        _cash_in_lieu(ledger, action, pool, lots)


def _move(ledger: "Ledger", action: CorporateAction, held: list[tuple[Pool, list[Lot]]], security: str, factor: tuple[Decimal, Decimal],
          rule: Any, cost_change: Any = None) -> None:
    """Lots out of their pool into the pool of `security`, `new` units for `old`, same dates; `cost_change(lot, units, cost, native)`
    may change a cost."""
    for pool, lots in held:
        removed = pool.remove(lots)
        moved: list[Lot] = []
        for lot, units, cost, native, adjusted in removed:
            account = ledger.scenario.account(lot.account)
            key = ledger.pool_key(account, security)
            ledger._note_pool(key, account, security)
            if cost_change is not None:
                cost, native = cost_change(lot, units, cost, native)
            new = Lot(
                id=lot.id, origin=lot.origin, seq=lot.seq, owner=lot.owner, account=lot.account, security=security,
                acquired=lot.acquired, quantity=BOOK.multiply(units, factor[0]) / factor[1], cost=cost, cost_native=native,
                native_currency=lot.native_currency, rate=lot.rate, holding_from=lot.holding_from,
                adjustments=(*lot.adjustments, _note(action, ratio=_ratio_text(action), new_security=security, source=rule.source)),
                adjusted=adjusted,
            )
            ledger.pool(key).add(new)
            ledger.lot_owner[new.origin] = key
            moved.append(new)
        if moved:
            target = ledger.pool(ledger.pool_key(ledger.scenario.account(moved[0].account), security))
            _cash_in_lieu(ledger, action, target, moved)


def _cash_in_lieu(ledger: "Ledger", action: CorporateAction, pool: Pool, lots: list[Lot]) -> None:
    """The fraction of a unit paid in cash is sold for that cash: a gain or loss against the cost of the fraction."""
    if action.cash_in_lieu is None:
        return
    rule = _rule(ledger, action, "cash_in_lieu")
    units = sum((lot.quantity for lot in lots), ZERO)
    fraction = units - units.to_integral_value(rounding=ROUND_FLOOR)
    if fraction == 0:
        raise EvaluationError(f"corporate action '{action.id}': cash in lieu, but the {_plain(units)} units after it are whole",
                              action.span, "cash_in_lieu only when the account would receive a fraction of a unit")
    method = "average" if pool.average else "fifo"
    takes = pool.take(method, fraction, None, action.span)
    cash, _ = ledger.convert_on(action.cash_in_lieu, _currency(ledger, action), action.date, action.span)
    cost = sum((t.cost for t in takes), ZERO)
    gain = cash - cost
    term = ledger.term(min(t.holding_from for t in takes), action.date)
    _realise(ledger, action, "capital_gain", lots[0].account, pool.key[2], gain, term, rule,
             f"cash in lieu of {_plain(fraction)} unit: proceeds {_money(cash)}, cost {_money(cost)}")


# ---------------------------------------------------------------------------------------------
# Share exchange (merger) and spin-off
# ---------------------------------------------------------------------------------------------


def _merger(ledger: "Ledger", action: CorporateAction, held: list[tuple[Pool, list[Lot]]], rule: Any) -> None:
    new_security = action.new_security or action.security
    assert action.ratio is not None
    if not rule.deferred:
        raise EvaluationError(f"corporate action '{action.id}': pack {ledger.pack.ref} taxes this share exchange as a sale, which taxpack does not compute yet",
                              action.span, "enter the exchange as a sale of the old shares and a purchase of the new ones")
    cash_total = action.cash or ZERO
    ratio = (action.ratio.new, action.ratio.old)
    if not cash_total:
        _move(ledger, action, held, new_security, ratio, rule)
        return
    treatment = rule.boot.treatment if rule.boot is not None else None
    if treatment is None:
        raise EvaluationError(f"corporate action '{action.id}': pack {ledger.pack.ref} does not say how cash received in a share exchange is taxed",
                              action.span, f"`corporate_actions.share_exchange.boot` in pack {ledger.pack.id}")
    boot_source = rule.boot.source or rule.source
    cash, _ = ledger.convert_on(cash_total, _currency(ledger, action), action.date, action.span)
    units = sum((lot.quantity for _, lots in held for lot in lots), ZERO)
    account = held[0][1][0].account
    if treatment == "income":
        # DE §20(4a) S.2: the cash is capital income; the new shares keep the old cost.
        _realise(ledger, action, "income", account, action.security, cash, "none", rule, f"cash of {_money(cash)} received in the exchange", boot_source)
        _move(ledger, action, held, new_security, ratio, rule)
        return
    gains: list[tuple[Lot, Decimal]] = []

    def change(lot: Lot, lot_units: Decimal, cost: Decimal, native: Decimal | None) -> tuple[Decimal, Decimal | None]:
        boot = cash * lot_units / units
        if treatment == "reduces_cost":
            # CA s.86(1): the new shares cost the old ACB less the boot; a gain only where the boot exceeds it.
            new_cost = max(cost - boot, ZERO)
            gain = max(boot - cost, ZERO)
        else:
            # US §356(a)/§358(a): gain realised on the exchange, recognised up to the boot; basis = old basis - boot + gain.
            if action.fmv_new is None:
                raise EvaluationError(f"corporate action '{action.id}': cash was received, and under {ledger.pack.id} the gain it brings depends on the "
                                      "value of the new shares", action.span, "fmv_new: the value of one new unit on the exchange date")
            value, _ = ledger.convert_on(action.fmv_new * lot_units * ratio[0] / ratio[1], _currency(ledger, action, new_security), action.date, action.span)
            realised = boot + value - cost
            gain = max(min(realised, boot), ZERO)
            new_cost = cost - boot + gain
        gains.append((lot, gain))
        share = new_cost / cost if cost else ZERO
        return new_cost, (native * share if native is not None else None)

    _move(ledger, action, held, new_security, ratio, rule, change)
    for lot, gain in gains:
        if gain:
            _realise(ledger, action, "capital_gain", lot.account, action.security, gain, ledger.term(lot.holding_from, action.date), rule,
                     f"cash received in the exchange ({treatment.replace('_', ' ')})", boot_source)


def _spin_off(ledger: "Ledger", action: CorporateAction, held: list[tuple[Pool, list[Lot]]], rule: Any) -> None:
    new_security = action.new_security
    assert new_security is not None and action.ratio is not None
    factor = action.ratio.factor
    if rule.requires_election and not action.elected:
        # CA s.86.1 without the election: the new shares are a dividend at their value, which is their cost.
        if action.fmv_new is None:
            raise EvaluationError(f"corporate action '{action.id}': without the election pack {ledger.pack.id} taxes the spin-off as a dividend at the "
                                  "new shares' value", action.span, "fmv_new (the value of one new unit), or elected: true")
        for _pool, lots in held:
            for lot in lots:
                units = lot.quantity * factor
                value, _ = ledger.convert_on(action.fmv_new * units, _currency(ledger, action, new_security), action.date, action.span)
                _new_lot(ledger, action, lot, new_security, units, value, None, action.date, rule)
                _realise(ledger, action, "income", lot.account, action.security, value, "none", rule,
                         f"spin-off without the election: {_plain(units)} units of {new_security} at their value")
        return
    if action.cost_fraction is not None:
        fraction = action.cost_fraction
    else:
        assert action.fmv_old is not None and action.fmv_new is not None
        fraction = factor * action.fmv_new / (action.fmv_old + factor * action.fmv_new)
    for pool, lots in held:
        parts = pool.split_cost(lots, fraction, _note(action, new_security=new_security, cost_fraction=_plain(fraction), source=rule.source))
        for lot, cost, native in parts:
            _new_lot(ledger, action, lot, new_security, lot.quantity * factor, cost, native, None, rule)


def _new_lot(ledger: "Ledger", action: CorporateAction, parent: Lot, security: str, units: Decimal, cost: Decimal, native: Decimal | None,
             acquired: dt.date | None, rule: Any) -> None:
    """Units of another security received for `parent`: its dates (or `acquired`, when they are a dividend), the cost given."""
    account = ledger.scenario.account(parent.account)
    key = ledger.pool_key(account, security)
    ledger._note_pool(key, account, security)
    origin = f"{action.id}:{parent.origin}"
    ledger.seq += 1
    lot = Lot(id=origin, origin=origin, seq=(ledger.seq, 0), owner=parent.owner, account=parent.account, security=security,
              acquired=acquired or parent.acquired, quantity=units, cost=cost, cost_native=native if acquired is None else None,
              native_currency=parent.native_currency, rate=parent.rate if acquired is None else None, holding_from=acquired or parent.holding_from,
              adjustments=(_note(action, from_security=parent.security, source=rule.source),))
    ledger.pool(key).add(lot)
    ledger.lot_owner[origin] = key


# ---------------------------------------------------------------------------------------------
# Cost: return of capital, stock dividends, the user's adjustments
# ---------------------------------------------------------------------------------------------


def _return_of_capital(ledger: "Ledger", action: CorporateAction, held: list[tuple[Pool, list[Lot]]], rule: Any) -> None:
    units = sum((lot.quantity for _, lots in held for lot in lots), ZERO)
    per_unit = action.amount_per_share if action.amount_per_share is not None else (action.amount or ZERO) / units
    currency = _currency(ledger, action)
    for pool, lots in held:
        total = per_unit * sum((lot.quantity for lot in lots), ZERO)
        amount, _ = ledger.convert_on(total, currency, action.date, action.span)
        native = total if currency == pool.native_currency else None
        note = _note(action, amount=-amount, source=rule.source)
        for lot, excess in pool.reduce_cost(lots, amount, native, note):
            _realise(ledger, action, "capital_gain", lot.account, action.security, excess, ledger.term(lot.holding_from, action.date), rule,
                     "return of capital above the cost: the cost is now zero")


def _stock_dividend(ledger: "Ledger", action: CorporateAction, held: list[tuple[Pool, list[Lot]]], rule: Any) -> None:
    assert action.ratio is not None
    per_unit = action.ratio.factor  # new units for each unit held
    if rule.treatment == "spread_cost":
        for pool, lots in held:
            pool.scale(lots, action.ratio.old + action.ratio.new, action.ratio.old, _note(action, ratio=_ratio_text(action), source=rule.source))
            _cash_in_lieu(ledger, action, pool, lots)
        return
    # income_at_amount (CA s.248(1), s.52(3)): the new units cost the dividend's amount, which is income.
    if action.amount is None:
        raise EvaluationError(f"corporate action '{action.id}': pack {ledger.pack.id} taxes a stock dividend at its amount (the increase of paid-up capital)",
                              action.span, "amount: the amount per new share")
    for _pool, lots in held:
        for lot in lots:
            units = lot.quantity * per_unit
            value, _ = ledger.convert_on(action.amount * units, _currency(ledger, action), action.date, action.span)
            _new_lot(ledger, action, lot, action.security, units, value, None, action.date, rule)
            _realise(ledger, action, "income", lot.account, action.security, value, "none", rule, f"stock dividend of {_plain(units)} units")


def apply_adjustment(ledger: "Ledger", adjustment: CostAdjustment) -> None:
    """The user's change of cost (with its reason), spread over the account's units of the security by quantity."""
    if adjustment.jurisdictions and ledger.pack.jurisdiction not in adjustment.jurisdictions:
        return
    held = _held(ledger, adjustment.security, adjustment.account)
    if not held:
        raise EvaluationError(f"cost adjustment '{adjustment.id}': account {adjustment.account} holds no {adjustment.security} on {adjustment.date}",
                              adjustment.span, "an adjustment of units held that day")
    currency = adjustment.currency or ledger.scenario.security(adjustment.security).currency
    for pool, lots in held:
        share = adjustment.amount * sum((lot.quantity for lot in lots), ZERO) / sum((lot.quantity for _, ls in held for lot in ls), ZERO)
        amount, _ = ledger.convert_on(share, currency, adjustment.date, adjustment.span)
        note = {"cost_adjustment": adjustment.id, "reason": adjustment.reason, "amount": amount}
        if amount >= 0:
            pool.reduce_cost(lots, -amount, share if currency == pool.native_currency else None, note)
            continue
        excesses = pool.reduce_cost(lots, -amount, -share if currency == pool.native_currency else None, note)
        if not excesses:
            continue
        section = ledger.pack.sections.corporate_actions
        rule = section.return_of_capital if section is not None else None
        if rule is None:
            raise EvaluationError(f"cost adjustment '{adjustment.id}' takes the cost below zero, and pack {ledger.pack.ref} does not say what that is",
                                  adjustment.span, f"a `corporate_actions.return_of_capital` entry in pack {ledger.pack.id}, or a smaller reduction")
        for lot, excess in excesses:
            finding = make_finding(ledger.pack, code="negative_cost_gain", severity="warning",
                                   message=f"cost adjustment {adjustment.id} ({adjustment.reason}) takes the cost of {adjustment.security} below zero: "
                                           f"{_money(excess)} {ledger.currency} is a gain and the cost is now zero",
                                   rule=f"{ledger.pack.id}.corporate_actions.return_of_capital", source=rule.source, uncertain=rule.uncertain,
                                   facts={"adjustment.id": adjustment.id, "adjustment.reason": adjustment.reason}, amount=excess)
            ledger.realised.append(Realised(adjustment.id, "capital_gain", lot.account, adjustment.security, adjustment.date, excess,
                                            ledger.term(lot.holding_from, adjustment.date), "negative cost", finding))


# ---------------------------------------------------------------------------------------------


def _currency(ledger: "Ledger", action: CorporateAction, security: str | None = None) -> str:
    return action.currency or ledger.scenario.security(security or action.security).currency


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def _realise(ledger: "Ledger", action: CorporateAction, kind: str, account: str, security: str, amount: Decimal, term: str, rule: Any,
             why: str, source: str | None = None) -> None:
    word = "a capital gain" if kind == "capital_gain" and amount >= 0 else ("a capital loss" if kind == "capital_gain" else "income")
    finding = make_finding(
        ledger.pack, code=f"corporate_action_{kind}", severity="info",
        message=f"{action.type.replace('_', ' ')} {action.id} of {security} on {action.date}: {why}; {_money(amount)} {ledger.currency} is {word}",
        rule=f"{ledger.pack.id}.corporate_actions", source=source or rule.source, uncertain=rule.uncertain,
        facts={"action.id": action.id, "action.type": action.type, "account.id": account}, amount=amount)
    ledger.realised.append(Realised(action.id, kind, account, security, action.date, amount, term, why, finding))


def action_findings(pack: Pack, adjustments: Iterable[dict[str, Any]], seen: set[str]) -> list[Finding]:
    """One finding per corporate action or cost adjustment behind the lots a sale takes: what changed them, and the law."""
    section = pack.sections.corporate_actions
    out: list[Finding] = []
    for note in adjustments:
        ident = note.get("corporate_action") or note.get("cost_adjustment")
        if ident is None or ident in seen:
            continue
        seen.add(ident)
        if "corporate_action" in note:
            what = note["type"].replace("_", " ")
            details = ", ".join(f"{k} {v}" for k, v in note.items() if k in ("ratio", "new_security", "from_security", "cost_fraction"))
            rule = getattr(section, PACK_KEYS.get(note["type"], note["type"]), None) if section is not None else None
            out.append(make_finding(pack, code="lot_changed_by_corporate_action", severity="info",
                                    message=f"the lots sold went through {what} {ident}" + (f" ({details})" if details else ""),
                                    rule=f"{pack.id}.corporate_actions", source=note.get("source"),
                                    uncertain=rule.uncertain if rule is not None else None, facts={"action.id": ident}))
        else:
            out.append(make_finding(pack, code="lot_cost_adjusted", severity="info",
                                    message=f"the cost of the lots sold includes adjustment {ident}: {note['reason']}",
                                    rule=f"{pack.id}.lots", source=None, facts={"adjustment.id": ident}))
    return out


def separate_pools(pack: Pack, scenario: Scenario, events: Iterable[Any]) -> dict[str, tuple[bool, str]]:
    """For each cost pool of the scenario: kept apart under this pack, or why not.

    CA s.7(1.31): employee-option shares are not identical to the others only if they are sold within the pack's
    period (30 days) of their acquisition, with no other identical shares bought or sold in between (and designated
    in the return); otherwise they join the average cost of the identical shares. A pack that keeps no such pool
    for the reason (the US keeps lots anyway) treats the units as any others.
    """
    lots = pack.sections.lots
    rules = lots.separate_pools if lots is not None else {}
    events = list(events)
    result: dict[str, tuple[bool, str]] = {}
    for cost_pool in scenario.cost_pools:
        rule = rules.get(cost_pool.reason)
        if rule is None:
            result[cost_pool.id] = (False, f"pack {pack.id} keeps no separate pool for {cost_pool.reason.replace('_', ' ')} units")
            continue
        mine = [tx for tx in events if tx.pool == cost_pool.id]
        buys = sorted((tx for tx in mine if tx.side == "buy"), key=lambda tx: tx.date)
        sells = sorted((tx for tx in mine if tx.side == "sell"), key=lambda tx: tx.date)
        within = Duration.from_mapping(rule.within, rule.span)
        why = ""
        if not buys:
            why = "no purchase goes into it"
        elif not sells:
            why = f"its units are not sold within {within} of their acquisition"
        else:
            owner = scenario.account(cost_pool.account).owner
            for sell in sells:
                bought = max((b.date for b in buys if b.date <= sell.date), default=None)
                if bought is None or sell.date > shift(bought, within, month_rounding="decreasing"):
                    why = f"sale {sell.id} on {sell.date} is more than {within} after the acquisition"
                    break
            if not why:
                first, last = buys[0].date, sells[-1].date
                mine_ids = {tx.id for tx in mine}
                between = [tx for tx in events if tx.id not in mine_ids and tx.security == cost_pool.security and first < tx.date < last
                           and scenario.account(tx.account).owner == owner]
                if between:
                    why = f"{between[0].id} ({between[0].side} of identical shares on {between[0].date}) falls between the acquisition and the sale"
        result[cost_pool.id] = (not why, why)
    return result


def pool_not_kept_finding(ledger: "Ledger", tx: Any) -> Finding:
    """A sale from a cost pool the pack would keep apart, but not this time: its units were averaged with the identical ones."""
    reason = ledger.scenario.cost_pool(tx.pool).reason
    rule = ledger.lots_section.separate_pools[reason]
    average = ledger.pool(ledger.pool_key(ledger.scenario.account(tx.account), tx.security)).average
    return make_finding(ledger.pack, code="separate_pool_not_kept", severity="warning",
                        message=f"cost pool {tx.pool} is not kept apart: {ledger.separate[tx.pool][1]}; its units are "
                                + ("averaged with the identical ones" if average else "lots like any others"),
                        rule=f"{ledger.pack.id}.lots.separate_pools", source=rule.source, uncertain=rule.uncertain,
                        facts={"trade.pool": tx.pool, "pool.reason": reason})


def events_by_day(scenario: Scenario) -> list[tuple[dt.date, int, CorporateAction | CostAdjustment]]:
    """Corporate actions and cost adjustments in date order (actions first on a day, each in the order given)."""
    items: list[tuple[dt.date, int, CorporateAction | CostAdjustment]] = [(a.date, i, a) for i, a in enumerate(scenario.corporate_actions)]
    items += [(c.date, len(items) + i, c) for i, c in enumerate(scenario.cost_adjustments)]
    items.sort(key=lambda item: (item[0], item[1]))
    return items


def apply_event(ledger: "Ledger", event: CorporateAction | CostAdjustment) -> None:
    if isinstance(event, CorporateAction):
        apply_action(ledger, event)
    else:
        apply_adjustment(ledger, event)

