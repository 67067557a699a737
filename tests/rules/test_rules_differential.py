"""Differential test: the durable_rules backend and the reference evaluator agree, hit for hit.

Every rule of every bundled pack (whatever packs exist when the test runs) and of the synthetic
pack is evaluated on generated facts: values clustered at each threshold the rules compare with
(exactly equal, one cent and a tenth of a cent either side, far finer), absent facts, huge amounts,
dates around every parameter change. Both backends must return identical hits and explanations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxpack.engine.law.facts import FACT_TYPES
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import bundled_packs
from taxpack.engine.law.rule_compiler import compile_pack, leaf_held, tree_held
from taxpack.engine.rules.evaluator import available_backends, get_evaluator

from .helpers import synthetic

pytestmark = pytest.mark.skipif("durable" not in available_backends(), reason="durable_rules does not import here")


def packs_with_rules() -> list[Pack]:
    return [p for p in bundled_packs() if p.section("rules")] + [synthetic()]


PACKS = packs_with_rules()


def thresholds(pack: Pack) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for rule in compile_pack(pack).rules:
        for leaf in rule.leaves:
            if leaf.param is not None:
                values = [v.value for v in pack.parameters[leaf.param].values if v.value is not None]
            elif leaf.op == "exists":
                values = []
            else:
                values = list(leaf.literal) if isinstance(leaf.literal, tuple) else [leaf.literal]
            found.setdefault(leaf.fact, []).extend(values)
    return found


NUDGES = [Decimal(0), Decimal("0.01"), Decimal("-0.01"), Decimal("0.001"), Decimal("-0.001"),
          Decimal("1E-15"), Decimal("-1E-15"), Decimal(1), Decimal(-1)]
WORDS = ["buy", "sell", "etf", "fund", "share", "US", "CA", "IE", "DE", "EUR", "USD", "ira", "taxable", "reit", "ucits", ""]


def number_strategy(kind: str, near: list[Any]) -> st.SearchStrategy[Any]:
    numbers = [Decimal(v) for v in near if isinstance(v, (int, Decimal)) and not isinstance(v, bool)]
    options: list[st.SearchStrategy[Any]] = [
        st.decimals(min_value=-10**12, max_value=10**12, allow_nan=False, allow_infinity=False, places=p) for p in (0, 2, 6)
    ]
    options.append(st.sampled_from([Decimal(10) ** 25, -Decimal(10) ** 25, Decimal(2**62), Decimal(-(2**62)), Decimal(0)]))
    if numbers:
        options.append(st.builds(lambda b, n: b + n, st.sampled_from(numbers), st.sampled_from(NUDGES)))
        options.append(st.builds(lambda b, n: b + n, st.sampled_from(numbers), st.sampled_from(NUDGES)))
    values = st.one_of(options)
    if kind == "integer":
        return values.map(lambda d: int(d.to_integral_value()))
    return st.one_of(values, values.map(lambda d: int(d.to_integral_value())))


def fact_strategy(name: str, near: list[Any], pack: Pack) -> st.SearchStrategy[Any]:
    kind = FACT_TYPES[name]
    if kind in ("money", "number", "integer"):
        value: st.SearchStrategy[Any] = number_strategy(kind, near)
    elif kind == "date":
        dates = [v for v in near if isinstance(v, dt.date)]
        around = st.dates(pack.coverage_from - dt.timedelta(days=10), pack.coverage_to + dt.timedelta(days=10))
        value = st.one_of(around, st.builds(lambda d, n: d + dt.timedelta(days=n), st.sampled_from(dates), st.integers(-1, 1))) if dates else around
    elif kind == "boolean":
        value = st.booleans()
    elif kind == "text":
        value = st.sampled_from(sorted({v for v in near if isinstance(v, str)} | set(WORDS)))
    else:
        pool = sorted({v for v in near if isinstance(v, str)} | set(WORDS[:8]))
        value = st.lists(st.sampled_from(pool), max_size=3, unique=True).map(tuple)
    return st.one_of(st.none(), value)


def cases(pack: Pack) -> st.SearchStrategy[tuple[dict[str, Any], dt.date]]:
    """(facts, trade date) for `pack`: every fact its rules test, and a day in its coverage."""
    compiled = compile_pack(pack)
    near = thresholds(pack)
    facts = st.fixed_dictionaries({name: fact_strategy(name, near.get(name, []), pack) for name in compiled.facts})
    changes = sorted({v.start for p in pack.parameters.values() for v in p.values if pack.coverage_from < v.start <= pack.coverage_to})
    days = st.dates(pack.coverage_from, pack.coverage_to)
    if changes:
        days = st.one_of(days, st.builds(lambda d, n: max(pack.coverage_from, d + dt.timedelta(days=n)), st.sampled_from(changes), st.integers(-1, 0)))
    return st.tuples(facts, days)


CASES = {p.sha256: cases(p) for p in PACKS}


@pytest.mark.parametrize("pack", PACKS, ids=[p.ref for p in PACKS])
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_backends_agree(pack: Pack, data: st.DataObject) -> None:
    facts, day = data.draw(CASES[pack.sha256])
    durable = get_evaluator("durable").evaluate(pack, facts, day)
    python = get_evaluator("python").evaluate(pack, facts, day)
    assert durable == python
    # and the explanation is consistent with the hit: the tree of the leaves' values holds
    compiled = compile_pack(pack)
    for hit in python:
        (rule,) = [r for r in compiled.rules if r.id == hit.rule_id]
        assert tree_held(rule.when, [c.held for c in hit.conditions])
        for leaf, cond in zip(rule.leaves, hit.conditions):
            assert cond.held == leaf_held(leaf.fact_type, leaf.op, cond.actual, cond.expected)


@pytest.mark.parametrize("pack", PACKS, ids=[p.ref for p in PACKS])
def test_every_rule_can_fire_on_both_backends(pack: Pack) -> None:
    """For each rule, facts built from its own leaves make it fire (when satisfiable) on both backends.

    The facts are chosen by brute force over each leaf's own values, so this does not depend on the
    random generator reaching every rule.
    """
    compiled = compile_pack(pack)
    near = thresholds(pack)
    day = pack.coverage_to
    for rule in compiled.rules:
        names = sorted({leaf.fact for leaf in rule.leaves})
        candidates = {name: _candidates(name, near.get(name, [])) for name in names}
        facts = _search(rule, names, candidates, pack, day)
        if facts is None:
            continue  # unsatisfiable by construction (e.g. `in: []`)
        for backend in ("python", "durable"):
            hits = [h.rule_id for h in get_evaluator(backend).evaluate(pack, facts, day)]
            assert rule.id in hits, (backend, rule.id, facts)


def _candidates(name: str, near: list[Any]) -> list[Any]:
    kind = FACT_TYPES[name]
    if kind in ("money", "number", "integer"):
        out = [None]
        for v in near:
            if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
                out += [v, v - 1, v + 1] if kind == "integer" else [Decimal(v), Decimal(v) - 1, Decimal(v) + 1]
        return out + [0]
    if kind == "date":
        return [None] + [d + dt.timedelta(days=n) for d in near if isinstance(d, dt.date) for n in (-1, 0, 1)]
    if kind == "boolean":
        return [None, True, False]
    if kind == "text":
        return [None, "zz"] + [v for v in near if isinstance(v, str)]
    return [None, (), ("zz",)] + [(v,) for v in near if isinstance(v, str)]


def _search(rule: Any, names: list[str], candidates: dict[str, list[Any]], pack: Pack, day: dt.date) -> dict[str, Any] | None:
    from itertools import islice, product

    from taxpack.engine.law.rule_compiler import normalize_facts, resolve_params

    compiled = compile_pack(pack)
    params = resolve_params(compiled, pack, day)
    for combo in islice(product(*(candidates[n] for n in names)), 200_000):
        facts = dict(zip(names, combo))
        values = normalize_facts(compiled.facts, facts)
        if rule.predicate(values, params):
            return facts
    return None
