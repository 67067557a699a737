"""The reference rule evaluator: a pack's conditions as plain-Python closures.

It defines what a rule means (see `rule_compiler.leaf_held`); the durable_rules backend must agree with it
on every pack test and on the stress run. It has no dependency beyond the standard library.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from taxpack.engine.law.pack import Pack
from taxpack.engine.law.rule_compiler import compile_pack, normalize_facts, resolve_params
from taxpack.engine.rules.hits import RuleHit, explain, make_hit


class PythonEvaluator:
    """Evaluates each compiled predicate in pack order; explains the rules that fire."""

    name = "python"

    def evaluate(self, pack: Pack, facts: Mapping[str, Any], day: dt.date) -> list[RuleHit]:
        compiled = compile_pack(pack)
        if not compiled.rules:
            return []
        values = normalize_facts(compiled.facts, facts)
        params = resolve_params(compiled, pack, day)
        return [make_hit(rule, explain(pack, compiled, rule, values, params, day))
                for rule in compiled.rules if rule.predicate(values, params)]
