"""What an evaluation returns: the rules that fired, each with every comparison it made.

Both backends (`python_backend`, `durable_backend`) build their hits with `explain` and `make_hit`, from
the reference comparison, so an explanation never depends on the backend that decided the rule fired.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Protocol, Sequence

import attrs

from taxpack.engine.law.pack import Pack
from taxpack.engine.law.rule_compiler import CompiledPack, CompiledRule, leaf_held


@attrs.frozen
class ConditionResult:
    """One leaf comparison of a rule: the fact, the operator, the value compared with, the value seen.

    `param` names the pack parameter `expected` came from (resolved on the trade date), and
    `uncertain` carries that value's `uncertain:` note, so a finding relying on it says so.
    """

    fact: str
    op: str
    expected: Any
    actual: Any
    held: bool
    param: str | None = None
    uncertain: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fact": self.fact, "op": self.op, "expected": _plain(self.expected),
                               "actual": _plain(self.actual), "held": self.held}
        if self.param is not None:
            out["param"] = self.param
        if self.uncertain is not None:
            out["uncertain"] = self.uncertain
        return out


@attrs.frozen
class RuleHit:
    """A rule that fired: what to say (code, severity, message template, source) and why."""

    rule_id: str
    code: str
    severity: str
    message_template: str
    source: str
    caveat: str | None
    conditions: tuple[ConditionResult, ...]


class Evaluator(Protocol):
    """Evaluates a pack's rules against one trade's facts on the trade date."""

    name: str

    def evaluate(self, pack: Pack, facts: Mapping[str, Any], day: dt.date) -> list[RuleHit]:
        ...


def explain(pack: Pack, compiled: CompiledPack, rule: CompiledRule, facts: Mapping[str, Any],
            params: Sequence[Any], day: dt.date) -> tuple[ConditionResult, ...]:
    """Every leaf of `rule` (document order) with the value seen and whether it held.

    Both backends build the explanation with this one function, from the reference comparison;
    the backends differ in deciding *whether* the rule fires.
    """
    results = []
    for leaf in rule.leaves:
        actual = facts[leaf.fact]
        uncertain = None
        if leaf.param is not None:
            expected = params[compiled.params.index(leaf.param)]
            uncertain = pack.value(leaf.param, day).uncertain
        else:
            expected = leaf.literal
        results.append(ConditionResult(leaf.fact, leaf.op, expected, actual,
                                       leaf_held(leaf.fact_type, leaf.op, actual, expected), leaf.param, uncertain))
    return tuple(results)


def make_hit(rule: CompiledRule, conditions: tuple[ConditionResult, ...]) -> RuleHit:
    return RuleHit(rule.id, rule.code, rule.severity, rule.message, rule.source, rule.caveat, conditions)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
