"""Pack rules: the evaluator interface and its two backends (durable_rules and plain Python)."""

from .evaluator import ConditionResult, Evaluator, RuleHit, available_backends, get_evaluator
from .findings import hit_to_finding

__all__ = ["ConditionResult", "Evaluator", "RuleHit", "available_backends", "get_evaluator", "hit_to_finding"]
