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
from taxpack.engine.core.money import percent_text
from taxpack.engine.law.facts import FACT_TYPES
from taxpack.engine.law.findings import make_finding
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.rule_compiler import PARAM_PLACEHOLDER, message_params
from taxpack.engine.rules.hits import RuleHit

PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z0-9_]+)+)\}")
ABSENT = "(unknown)"


def param_text(pack: Pack, name: str, value: Any) -> str:
    """A parameter's value as a message quotes it: a rate as a percentage (0.33 -> 33%), money with thousands
    separators and no trailing zeros (1,270), anything else plainly."""
    unit = pack.parameters[name].unit
    if unit == "rate" and isinstance(value, (Decimal, int)):
        return percent_text(value)
    if unit == "money" and isinstance(value, (Decimal, int)):
        amount = Decimal(value)
        return format(amount.normalize() if amount == amount.to_integral_value() else amount, ",f")
    return format_value(value)


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


def render_message(template: str, facts: Mapping[str, Any], pack: Pack | None = None, day: dt.date | None = None) -> str:
    """`template` with every `{fact.name}` replaced by the fact's value (absent: "(unknown)"), and every
    `{param:NAME}` by the pack's parameter in force on `day` (the trade's law day), so a rate is written once.

    Money facts are shown rounded as the pack says (the facts themselves stay exact in the finding)."""
    if pack is not None and day is not None:
        template = PARAM_PLACEHOLDER.sub(lambda m: param_text(pack, m.group(1), pack.value(m.group(1), day).value), template)
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
    traded = facts.get("trade.date")
    day = pack.law_day(traded) if isinstance(traded, dt.date) else None
    if day is not None:
        notes += quoted_param_notes(pack, hit.message_template, day)
    return make_finding(
        pack, code=hit.code, severity=hit.severity, message=render_message(hit.message_template, facts, pack, day),
        rule=hit.rule_id, source=hit.source, facts={name: _plain(facts.get(name)) for name in names},
        amount=amount, uncertain=hit.caveat, caveats=notes, conditions=tuple(c.as_dict() for c in hit.conditions),
    )


def quoted_param_notes(pack: Pack, template: str, day: dt.date) -> list[str]:
    """The caveats of the parameters a message quotes: an uncertain value, a source less than verified."""
    notes: list[str] = []
    for name in message_params(template):
        dated = pack.value(name, day)
        if dated.uncertain:
            notes.append(f"parameter {name} is uncertain: {dated.uncertain}")
        source = pack.source(dated.source)
        if source is not None and source.confidence != "verified":
            notes.append(f"parameter {name}: source confidence: {source.confidence} ({source.citation})")
    return notes


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, set, frozenset)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return value
