"""The rule-evaluator interface: which of a pack's declarative rules fire for one trade, and why.

A pack's `rules` are conditions over trade facts; an evaluator returns the rules that hold, in pack
order, each with every leaf comparison it tested, the value it saw and whether it held. Two backends
implement it and must agree: `python` (the reference) and `durable` (durable_rules, a C Rete engine).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Protocol, Sequence

import attrs

from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.rule_compiler import CompiledPack, CompiledRule, leaf_held

# Chosen by the stress run (benchmarks/rules_stress.py; figures and reasons in docs/rules-evaluation.md):
# durable_rules survived 100,000+ random evaluations with no crash and no disagreement, so it is the
# default where it imports; elsewhere (Python 3.13+, no C compiler) the reference evaluator is used.
DEFAULT_BACKEND = "durable"
BACKENDS: tuple[str, ...] = ("durable", "python")


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


def available_backends() -> tuple[str, ...]:
    """The backends that work on this interpreter, default first when it is available."""
    from taxpack.engine.rules.durable_backend import durable_available

    names = [b for b in BACKENDS if b != "durable" or durable_available()]
    return tuple(sorted(names, key=lambda b: b != DEFAULT_BACKEND))


def get_evaluator(name: str | None = None) -> Evaluator:
    """The evaluator called `name`; None means the default (durable, or python where durable cannot run)."""
    from taxpack.engine.rules.durable_backend import DurableEvaluator, durable_available
    from taxpack.engine.rules.python_backend import PythonEvaluator

    if name is None:
        name = DEFAULT_BACKEND if DEFAULT_BACKEND != "durable" or durable_available() else "python"
    if name == "python":
        return PythonEvaluator()
    if name == "durable":
        return DurableEvaluator()
    raise TaxpackError(f"unknown rules backend '{name}'", None, "one of " + ", ".join(BACKENDS))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
