"""The rule-evaluator interface: which of a pack's declarative rules fire for one trade, and why.

A pack's `rules` are conditions over trade facts; an evaluator returns the rules that hold, in pack
order, each with every leaf comparison it tested, the value it saw and whether it held. Two backends
implement it and must agree: `python` (the reference) and `durable` (durable_rules, a C Rete engine).
"""

from __future__ import annotations

from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.rules.durable_backend import DurableEvaluator, durable_available
from taxpack.engine.rules.hits import ConditionResult, Evaluator, RuleHit
from taxpack.engine.rules.python_backend import PythonEvaluator

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "ConditionResult", "Evaluator", "RuleHit", "available_backends", "get_evaluator"]

# Chosen by the stress run (benchmarks/rules_stress.py; figures and reasons in docs/rules-evaluation.md):
# durable_rules survived 100,000+ random evaluations with no crash and no disagreement, so it is the
# default where it imports; elsewhere (Python 3.13+, no C compiler) the reference evaluator is used.
DEFAULT_BACKEND = "durable"
BACKENDS: tuple[str, ...] = ("durable", "python")


def available_backends() -> tuple[str, ...]:
    """The backends that work on this interpreter, default first when it is available."""
    names = [b for b in BACKENDS if b != "durable" or durable_available()]
    return tuple(sorted(names, key=lambda b: b != DEFAULT_BACKEND))


def get_evaluator(name: str | None = None) -> Evaluator:
    """The evaluator called `name`; None means the default (durable, or python where durable cannot run)."""
    if name is None:
        name = DEFAULT_BACKEND if DEFAULT_BACKEND != "durable" or durable_available() else "python"
    if name == "python":
        return PythonEvaluator()
    if name == "durable":
        return DurableEvaluator()
    raise TaxpackError(f"unknown rules backend '{name}'", None, "one of " + ", ".join(BACKENDS))
