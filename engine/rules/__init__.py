"""Pack rules: the evaluator interface and its two backends (durable_rules and plain Python)."""

from taxpack.engine.rules.evaluator import ConditionResult, Evaluator, RuleHit, available_backends, get_evaluator
from taxpack.engine.rules.explain import hit_to_finding

__all__ = ["ConditionResult", "Evaluator", "RuleHit", "available_backends", "get_evaluator", "hit_to_finding"]
