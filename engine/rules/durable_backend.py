"""The durable_rules backend: a pack's rules as a durable_rules ruleset, run one trade at a time.

durable_rules is a C Rete engine with known crash modes (../shared/reference/rules-engines.md A.1,
A.3). This wrapper follows the recipe that avoids them: a Host without background threads, one
ruleset per pack named `id@version`, string actions bound through `Host.get_action`, a lowest-priority
catch-all so every message is handled, one fact with a unique id per evaluation in its own state
(`sid`), deleted right after an action ran, integers for money and dates, and no history joins.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from typing import Any, Mapping

from taxpack.engine.core.errors import EvaluationError, TaxpackError
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.rule_compiler import (
    CATCH_ALL,
    CompiledPack,
    compile_pack,
    durable_message,
    leaf_held,
    normalize_facts,
    resolve_params,
)
from taxpack.engine.rules.hits import RuleHit, explain, make_hit

_LOCK = threading.RLock()  # durable never releases the GIL; one evaluation at a time per process
_RUNTIME: "_Runtime | None" = None
_IMPORT_ERROR: str | None = None


def durable_available() -> bool:
    """Whether durable_rules imports on this interpreter (it does not on Python 3.13+ from PyPI)."""
    return _engine_module() is not None


def _engine_module() -> Any:
    global _IMPORT_ERROR
    try:
        from durable import engine  # imported lazily: the C extension is optional
    except Exception as error:  # ImportError, or an undefined symbol on 3.13 (OSError/ImportError)
        _IMPORT_ERROR = f"{type(error).__name__}: {error}"
        return None
    return engine


class _Runtime:
    """One timer-less durable Host per process, with the rulesets registered so far."""

    def __init__(self, engine: Any) -> None:
        runtime = self

        class SyncHost(engine.Host):  # type: ignore[misc, name-defined, unused-ignore]
            def _run(self) -> None:
                # No dispatcher threads: actions run inside assert_fact, nothing races delete_state.
                pass

            def get_action(self, action_name: str) -> Any:
                return runtime.action(action_name)

        self.engine = engine
        self.host = SyncHost()
        self.names: dict[str, str] = {}  # pack sha256 -> ruleset name
        self.fired: set[int] = set()
        self.acted = False
        self.tid = 0

    def action(self, action_name: str) -> Any:
        # durable calls a one-argument function synchronously; anything it raises would be swallowed
        # into the state, so these only record what happened.
        if action_name == "seen":
            def seen(c: Any) -> None:
                self.acted = True
            return seen
        if action_name.startswith("hit:"):
            index = int(action_name[4:])

            def hit(c: Any) -> None:
                self.acted = True
                self.fired.add(index)
            return hit
        raise KeyError(action_name)

    def ruleset(self, compiled: CompiledPack) -> str:
        name = self.names.get(compiled.sha256)
        if name is None:
            taken = set(self.names.values())
            name = compiled.ref if compiled.ref not in taken else f"{compiled.ref}~{compiled.sha256[:12]}"
            # durable deletes `run` from the dict it is given: hand it a copy.
            self.host.set_rulesets({name: copy.deepcopy(dict(compiled.durable.definition))})
            self.names[compiled.sha256] = name
        return name

    def run(self, compiled: CompiledPack, message_for: Any) -> set[int]:
        name = self.ruleset(compiled)
        self.tid += 1
        message = message_for(self.tid)
        self.fired = set()
        self.acted = False
        self.host.assert_fact(name, message)
        if not self.acted:
            # Never call delete_state on a state where no action ran: durable 2.0.28 frees garbage.
            # The catch-all rule makes this unreachable; if it happens the state is leaked, not freed.
            raise RuntimeError(f"durable_rules ran no action for {name} (catch-all '{CATCH_ALL}' did not fire)")
        self.host.delete_state(name, message["sid"])
        return set(self.fired)


def _runtime() -> _Runtime:
    global _RUNTIME
    with _LOCK:
        if _RUNTIME is None:
            engine = _engine_module()
            if engine is None:
                raise TaxpackError(
                    f"the durable rules backend is not available on this Python ({_IMPORT_ERROR}); "
                    "durable_rules 2.0.28 needs Python 3.11 or 3.12 and a C compiler to install",
                    None, "--rules-backend python",
                )
            _RUNTIME = _Runtime(engine)
        return _RUNTIME


class DurableEvaluator:
    """Decides which rules fire with durable_rules; explains them with the reference comparison."""

    name = "durable"

    def __init__(self) -> None:
        self._runtime = _runtime()

    def evaluate(self, pack: Pack, facts: Mapping[str, Any], day: dt.date) -> list[RuleHit]:
        compiled = compile_pack(pack)
        if not compiled.rules:
            return []
        values = normalize_facts(compiled.facts, facts)
        params = resolve_params(compiled, pack, day)
        python_values = {}
        for r, l in compiled.durable.python_leaves:
            leaf = compiled.rules[r].leaves[l]
            expected = params[compiled.params.index(leaf.param)]
            python_values[(r, l)] = leaf_held(leaf.fact_type, leaf.op, values[leaf.fact], expected)
        with _LOCK:
            try:
                fired = self._runtime.run(
                    compiled, lambda tid: durable_message(compiled, values, params, python_values, tid))
            except Exception as error:
                text = str(error)
                if "error code" not in text:
                    raise
                # durable_rules has fixed limits (a condition's size, rules firing on one fact); a pack that passes
                # them is refused at its rules, with the evaluator that has none.
                raise EvaluationError(
                    f"pack {pack.ref}: the durable_rules engine cannot evaluate these rules ({text})",
                    pack.document.key_span(("rules",)), "smaller rules (fewer conditions in one rule), or --rules-backend python") from None
        return [make_hit(rule, explain(pack, compiled, rule, values, params, day))
                for rule in compiled.rules if rule.index in fired]
