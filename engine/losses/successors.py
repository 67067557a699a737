"""Corporate actions as the wash-sale family sees them: successor securities, and units across splits.

- An identifier change (and a split that changes the ISIN) continues the same shares under a new id: the
  two ids are identical property. A share exchange (merger) gives shares of another corporation; whether a
  loss rule sees them as the same is the pack's `corporate_actions.share_exchange.successor` (US Pub. 550:
  the predecessor's and successor's stock *may* be substantially identical, so the match is of low
  confidence and the finding says so). Shares received in the action itself are never a purchase: only
  trades are replacements.
- A split between a loss sale and a purchase changes what a unit is: 100 shares sold, a 2-for-1 split,
  200 bought back are a full replacement. `unit_factor` gives the units one sold unit has become.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from taxpack.engine.core.household import CorporateAction, Scenario
from taxpack.engine.law.pack import Pack
from taxpack.engine.losses.identity import IdentityMatch, accepts

ONE = Decimal(1)
_RENAMES = ("identifier_change",)


def _link(pack: Pack, action: CorporateAction) -> tuple[str, str] | None:
    """(level, confidence) at which the action's new security is the old one, for this pack; None: not the same."""
    if action.new_security is None or action.new_security == action.security:
        return None
    if action.type in _RENAMES or action.type == "split":
        return ("identical", "high")
    if action.type == "merger":
        section = pack.sections.corporate_actions
        rule = section.share_exchange if section is not None else None
        if rule is not None and rule.successor is not None:
            return (rule.successor.identity, "low" if rule.successor.identity == "substantially_identical" else "medium")
    return None


def successors(pack: Pack, scenario: Scenario, security_id: str, wanted: str) -> dict[str, IdentityMatch]:
    """Securities linked to `security_id` by corporate actions (either way, through chains), at the level the rule accepts."""
    found: dict[str, IdentityMatch] = {}
    frontier = [(security_id, "identical", "high")]
    seen = {security_id}
    while frontier:
        current, level, confidence = frontier.pop()
        for action in scenario.corporate_actions:
            link = _link(pack, action)
            if link is None:
                continue
            if action.security == current:
                other = action.new_security
            elif action.new_security == current:
                other = action.security
            else:
                continue
            assert other is not None
            step_level = "identical" if level == link[0] == "identical" else "substantially_identical"
            step_confidence = min((confidence, link[1]), key=("low", "medium", "high").index)
            if other in seen or not accepts(wanted, step_level):
                continue
            seen.add(other)
            found[other] = IdentityMatch(other, step_level, step_confidence, f"{action.type.replace('_', ' ')} {action.id}")
            frontier.append((other, step_level, step_confidence))
    return dict(sorted(found.items()))


def unit_factor(scenario: Scenario, sold: str, bought: str, account: str, start: dt.date, end: dt.date) -> Decimal:
    """Units of `bought` that one unit of `sold` held on `start` has become by `end` (splits, stock dividends, exchanges
    in between, taking effect at the start of their day); 1 when no action leads from one to the other."""
    if not scenario.corporate_actions:
        return ONE
    factor, current = ONE, sold
    for action in sorted(scenario.corporate_actions, key=lambda a: a.date):
        if not (start < action.date <= end) or action.security != current or action.account not in (None, account):
            continue
        if action.type in ("split", "merger") and action.ratio is not None:
            factor *= action.ratio.factor
        elif action.type == "stock_dividend" and action.ratio is not None:
            factor *= ONE + action.ratio.factor
        if action.type in ("split", "merger", "identifier_change") and action.new_security:
            current = action.new_security
    return factor if current == bought else ONE
