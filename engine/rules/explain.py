"""Turn a rule that fired into a `Finding`: the message, the citation, the confidence and the why.

A finding must explain itself: the rule id, the pack (id@version and content hash), the source it
cites and how sure the pack is of that source, the facts the rule looked at and each condition with
the value seen. Anything less than a `verified` source, or an `uncertain:` parameter, is a caveat.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Mapping

from taxpack.engine.core.household import Finding
from taxpack.engine.law.facts import FACT_TYPES
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.rules.hits import RuleHit

PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z0-9_]+)+)\}")
ABSENT = "(unknown)"


def format_value(value: Any) -> str:
    """A fact as a message shows it: Decimal plainly (no exponent), dates ISO, booleans lowercase."""
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return ", ".join(format_value(v) for v in items)
    return str(value)


def render_message(template: str, facts: Mapping[str, Any], pack: Pack | None = None) -> str:
    """`template` with every `{fact.name}` replaced by the fact's value (absent: "(unknown)").

    Money facts are shown rounded as the pack says (the facts themselves stay exact in the finding)."""
    def show(name: str) -> str:
        value = facts.get(name)
        if pack is not None and isinstance(value, Decimal) and FACT_TYPES.get(name) == "money":
            from taxpack.engine.core.money import money_text

            return money_text(value, pack) or ABSENT
        return format_value(value)

    return PLACEHOLDER.sub(lambda m: show(m.group(1)), template)


def hit_to_finding(pack: Pack, hit: RuleHit, facts: Mapping[str, Any], *, amount: Decimal | None = None) -> Finding:
    """A rule that fired, as a finding: its message with the facts filled in, and every condition it tested."""
    notes = [f"parameter {c.param} is uncertain: {c.uncertain}" for c in hit.conditions if c.uncertain]
    names = sorted({c.fact for c in hit.conditions})
    return make_finding(
        pack, code=hit.code, severity=hit.severity, message=render_message(hit.message_template, facts, pack),
        rule=hit.rule_id, source=hit.source, facts={name: _plain(facts.get(name)) for name in names},
        amount=amount, uncertain=hit.caveat, caveats=notes, conditions=tuple(c.as_dict() for c in hit.conditions),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, set, frozenset)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return value
