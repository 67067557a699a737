"""Compile a pack's declarative rules once: a typed condition tree, Python predicates and durable rulesets.

A pack rule says *when* (a tree of `all`/`any`/`not` over fact comparisons) and *then* (a finding).
Compiling checks every comparison against the fact catalogue's types, folds `{param: NAME}` into a
slot resolved on the trade date, and emits the same logic twice: plain-Python closures (the reference
evaluator) and a durable_rules JSON ruleset (see docs/rules-evaluation.md for the encoding).

Semantics, shared by both evaluators (the reference is `leaf_held`):
- an absent fact (missing or None) makes every comparison false except `exists: false`;
- `eq`/`ne`/`in`/`not_in` compare values of the fact's type; `lt`/`le`/`gt`/`ge` numbers, money, dates;
- on a `list` fact, `eq V` means "V is among the items", `ne V` "V is not", `in [..]` "some item is
  listed", `not_in [..]` "no item is listed";
- `not` negates its whole subtree, so `not: {fact: x, eq: 1}` holds when x is absent.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

import attrs

from taxpack.engine.core.errors import EvaluationError, SemanticError, Span
from taxpack.engine.law.facts import FACT_TYPES
from taxpack.engine.law.pack import Pack

OPS: tuple[str, ...] = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "exists")
ORDER_OPS = ("lt", "le", "gt", "ge")
NUMERIC_TYPES = ("money", "number", "integer")
# Parameter units whose values compare with each fact type (a `rate` is a number, a duration a count).
UNIT_KINDS: dict[str, str] = {
    "money": "numeric", "rate": "numeric", "count": "numeric", "days": "numeric", "weeks": "numeric",
    "months": "numeric", "years": "numeric", "boolean": "boolean", "text": "text",
}
# durable_rules keeps integers as signed 64-bit; values beyond this bound are clamped (see _bounds).
INT_LIMIT = 2**62
MAX_SCALE = 18


# ------------------------------------------------------------------------------------------------
# The condition tree
# ------------------------------------------------------------------------------------------------


@attrs.frozen
class Leaf:
    """One comparison `{fact: NAME, OP: VALUE}`; `index` is its place in document order in the rule."""

    index: int
    fact: str
    fact_type: str
    op: str
    literal: Any  # the coerced VALUE (a tuple for in/not_in); None when `param` is set
    param: str | None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class All:
    children: tuple["Node", ...]


@attrs.frozen
class AnyOf:
    children: tuple["Node", ...]


@attrs.frozen
class Not:
    child: "Node"


Node = Leaf | All | AnyOf | Not
Predicate = Callable[[Mapping[str, Any], Sequence[Any]], bool]


@attrs.frozen
class CompiledRule:
    """A rule ready to run: its tree, its leaves in document order, and its Python predicate."""

    index: int
    id: str
    code: str
    severity: str
    message: str
    source: str
    caveat: str | None
    when: Node
    leaves: tuple[Leaf, ...]
    predicate: Predicate = attrs.field(eq=False, repr=False)
    leaf_predicates: tuple[Predicate, ...] = attrs.field(eq=False, repr=False)


@attrs.frozen
class CompiledPack:
    """Every rule of one pack, compiled; `params` are the parameter names the rules use, sorted."""

    ref: str
    sha256: str
    rules: tuple[CompiledRule, ...]
    facts: tuple[str, ...]  # fact names the rules test, sorted
    params: tuple[str, ...]
    param_kinds: tuple[str, ...]  # numeric | boolean | text, per param
    scale: int  # numbers are compared by durable as integers of 10**-scale units
    durable: "DurableRuleset"


@attrs.frozen
class DurableRuleset:
    """The durable_rules JSON form of a pack's rules and how to build the one message per evaluation.

    `fields` maps a fact name to its field stem (`f3`); `param_fields` a parameter to its field
    (`p0`); `python_leaves` lists the (rule index, leaf index) pairs durable cannot express exactly,
    evaluated in Python before asserting and passed as boolean fields `b{rule}_{leaf}`.
    """

    definition: Mapping[str, Any] = attrs.field(repr=False)
    fields: Mapping[str, str]
    param_fields: Mapping[str, str]
    python_leaves: tuple[tuple[int, int], ...]
    rule_names: Mapping[str, int]  # durable rule name -> rule index


# ------------------------------------------------------------------------------------------------
# Values: normalisation and the reference comparison
# ------------------------------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _value_fits(kind: str, value: Any) -> bool:
    """Does a scalar VALUE (or a list fact's item) belong to the fact type `kind`?"""
    if kind in NUMERIC_TYPES:
        return is_number(value) and (not isinstance(value, Decimal) or value.is_finite())
    if kind == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("text", "list"):
        return isinstance(value, str)
    return False


def normalize_facts(names: Sequence[str], facts: Mapping[str, Any]) -> dict[str, Any]:
    """The facts `names` from `facts`, checked against their catalogue types; absent ones are None.

    A wrongly typed fact is a bug in the stage that computed it (never a user error): it is refused
    loudly, and a float is never accepted where money or a number is expected.
    """
    out: dict[str, Any] = {}
    for name in names:
        value = facts.get(name)
        if value is None:
            out[name] = None
            continue
        kind = FACT_TYPES[name]
        if kind == "list":
            if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, frozenset, set)):
                raise EvaluationError(f"fact '{name}' must be a list of text, got {type(value).__name__}")
            items = tuple(sorted(value)) if isinstance(value, (set, frozenset)) else tuple(value)
            if not all(isinstance(v, str) for v in items):
                raise EvaluationError(f"fact '{name}' must be a list of text items")
            out[name] = items
            continue
        if not _value_fits(kind, value):
            raise EvaluationError(
                f"fact '{name}' is {kind} but was given {type(value).__name__} {value!r}"
                + (" (money and numbers must be Decimal or int, never float)" if isinstance(value, float) else "")
            )
        out[name] = value
    return out


def leaf_held(fact_type: str, op: str, actual: Any, expected: Any) -> bool:
    """The reference meaning of one comparison (see the module docstring)."""
    if op == "exists":
        return (actual is not None) is bool(expected)
    if actual is None:
        return False
    if fact_type == "list":
        if op == "eq":
            return expected in actual
        if op == "ne":
            return expected not in actual
        if op == "in":
            return any(item in actual for item in expected)
        if op == "not_in":
            return not any(item in actual for item in expected)
        raise AssertionError(op)
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "le":
        return bool(actual <= expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "ge":
        return bool(actual >= expected)
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    raise AssertionError(op)


def tree_held(node: Node, held: Sequence[bool]) -> bool:
    """The value of a tree given every leaf's value (`held[leaf.index]`)."""
    if isinstance(node, Leaf):
        return held[node.index]
    if isinstance(node, All):
        return all(tree_held(c, held) for c in node.children)
    if isinstance(node, AnyOf):
        return any(tree_held(c, held) for c in node.children)
    return not tree_held(node.child, held)


def resolve_params(compiled: CompiledPack, pack: Pack, day: dt.date) -> tuple[Any, ...]:
    """Every parameter the rules use, at its value in force on `day`, checked against its unit."""
    values = []
    for name, kind in zip(compiled.params, compiled.param_kinds):
        value = pack.value(name, day).value
        ok = (is_number(value) and (not isinstance(value, Decimal) or value.is_finite())) if kind == "numeric" else (
            isinstance(value, bool) if kind == "boolean" else isinstance(value, str))
        if not ok:
            raise EvaluationError(
                f"pack {pack.ref}: parameter '{name}' on {day.isoformat()} is {value!r}, not a {kind} value a rule can compare",
                pack.parameters[name].span)
        values.append(value)
    return tuple(values)


# ------------------------------------------------------------------------------------------------
# Compiling
# ------------------------------------------------------------------------------------------------

_CACHE: dict[str, CompiledPack] = {}


def compile_pack(pack: Pack) -> CompiledPack:
    """The compiled rules of `pack`, built once per content hash."""
    cached = _CACHE.get(pack.sha256)
    if cached is not None:
        return cached
    compiled = _compile(pack)
    _CACHE[pack.sha256] = compiled
    return compiled


def _compile(pack: Pack) -> CompiledPack:
    raw_rules = list(pack.section("rules") or [])
    errors: list[SemanticError] = []
    trees: list[tuple[Node, tuple[Leaf, ...]]] = []
    for i, rule in enumerate(raw_rules):
        leaves: list[Leaf] = []
        tree = _node(pack, rule.get("id", f"#{i}"), rule["when"], ("rules", i, "when"), leaves, errors)
        trees.append((tree, tuple(leaves)))
        for key in ("message", "caveat"):
            _check_quoted(pack, rule.get("id", f"#{i}"), rule["then"].get(key) or "", ("rules", i, "then", key), errors)
    if errors:
        from taxpack.engine.core.errors import ErrorList

        raise ErrorList(errors)
    params = sorted({leaf.param for _, leaves in trees for leaf in leaves if leaf.param})
    param_kinds = tuple(UNIT_KINDS[pack.parameters[p].unit] for p in params)
    param_index = {p: k for k, p in enumerate(params)}
    facts = sorted({leaf.fact for _, leaves in trees for leaf in leaves})
    rules = []
    for i, (rule, (tree, rule_leaves)) in enumerate(zip(raw_rules, trees)):
        then = rule["then"]
        leaf_preds = tuple(_leaf_predicate(leaf, param_index) for leaf in rule_leaves)
        rules.append(CompiledRule(
            index=i, id=rule["id"], code=then["code"], severity=then["severity"], message=then["message"],
            source=then["source"], caveat=then.get("caveat"), when=tree, leaves=rule_leaves,
            predicate=_predicate(tree, leaf_preds), leaf_predicates=leaf_preds,
        ))
    scale = _scale(pack, rules, params)
    ruleset = durable_ruleset(tuple(rules), facts, params, param_kinds, scale)
    return CompiledPack(pack.ref, pack.sha256, tuple(rules), tuple(facts), tuple(params), param_kinds, scale, ruleset)


_QUOTABLE_UNITS = ("money", "rate", "days", "weeks", "months", "years", "count", "boolean", "text")
PARAM_PLACEHOLDER = re.compile(r"\{param:\s*([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)\}")


def message_params(template: str) -> list[str]:
    """The parameters a message template quotes with `{param:NAME}`, in order, each once."""
    return list(dict.fromkeys(PARAM_PLACEHOLDER.findall(template)))


def _check_quoted(pack: Pack, rid: str, text: str, path: tuple[Any, ...], errors: list[SemanticError]) -> None:
    """Every `{param:NAME}` in a rule's message names a parameter with one value a day (not a table, not keyed)."""
    for name in re.findall(r"\{param:\s*([^}]*)\}", text):
        parameter = pack.parameters.get(name.strip())
        if parameter is None:
            errors.append(SemanticError(f"rule '{rid}': {{param:{name}}} names no parameter of this pack", pack.span(path),
                                        "{param:NAME} with NAME a key of `parameters`"))
        elif parameter.by or parameter.unit not in _QUOTABLE_UNITS:
            errors.append(SemanticError(f"rule '{rid}': {{param:{name}}} cannot be quoted in a message (unit {parameter.unit}"
                                        f"{', keyed by ' + parameter.by if parameter.by else ''})", pack.span(path),
                                        "a parameter with one value a day: a rate, an amount, a duration, a count or a text"))


def _node(pack: Pack, rid: str, cond: Mapping[str, Any], path: tuple[Any, ...], leaves: list[Leaf],
          errors: list[SemanticError]) -> Node:
    if "all" in cond:
        return All(tuple(_node(pack, rid, c, path + ("all", k), leaves, errors) for k, c in enumerate(cond["all"])))
    if "any" in cond:
        return AnyOf(tuple(_node(pack, rid, c, path + ("any", k), leaves, errors) for k, c in enumerate(cond["any"])))
    if "not" in cond:
        return Not(_node(pack, rid, cond["not"], path + ("not",), leaves, errors))
    fact = cond["fact"]
    (op,) = [k for k in cond if k != "fact"]
    span = pack.span(path + (op,))
    kind = FACT_TYPES.get(fact)
    leaf = Leaf(len(leaves), fact, kind or "text", op, None, None, span)
    leaves.append(leaf)
    if kind is None:
        errors.append(SemanticError(f"rule '{rid}': unknown fact '{fact}'", pack.span(path + ("fact",)),
                                    "a fact listed in docs/pack-format.md#facts"))
        return leaf
    value = cond[op]
    problem = _operand_problem(pack, kind, op, value)
    if problem:
        errors.append(SemanticError(f"rule '{rid}': {fact} {op} {_show(value)}: {problem[0]}", span, problem[1]))
        return leaf
    if isinstance(value, Mapping):
        leaf = attrs.evolve(leaf, param=value["param"])
    elif op in ("in", "not_in"):
        leaf = attrs.evolve(leaf, literal=tuple(value))
    else:
        leaf = attrs.evolve(leaf, literal=value)
    leaves[-1] = leaf
    return leaf


def _operand_problem(pack: Pack, kind: str, op: str, value: Any) -> tuple[str, str] | None:
    """Why VALUE cannot be compared with a fact of type `kind` by `op`, or None."""
    if op == "exists":
        return None if isinstance(value, bool) else ("exists takes true or false", "exists: true or exists: false")
    if op in ORDER_OPS and kind not in NUMERIC_TYPES + ("date",):
        return (f"'{op}' compares an order, but the fact is {kind}", "eq, ne, in, not_in or exists")
    if isinstance(value, Mapping):
        name = value.get("param")
        parameter = pack.parameters.get(name) if isinstance(name, str) else None
        if parameter is None:
            return (f"unknown parameter '{name}'", "a parameter of this pack")
        if parameter.by is not None:
            return (f"parameter '{name}' is keyed by {parameter.by}; a rule can only compare a single value",
                    "a parameter without 'by'")
        if op in ("in", "not_in"):
            return ("in/not_in take a list written in the rule", "a list such as [etf, fund]")
        unit_kind = UNIT_KINDS.get(parameter.unit)
        fact_kind = "numeric" if kind in NUMERIC_TYPES else ("text" if kind == "list" else kind)
        if unit_kind != fact_kind:
            return (f"parameter '{name}' has unit '{parameter.unit}', which does not compare with a {kind} fact",
                    f"a parameter whose unit fits a {kind} fact")
        return None
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            return ("in/not_in take a list", "a list such as [etf, fund]")
        for item in value:
            if not _value_fits(kind, item):
                return (f"{_show(item)} is not a {kind if kind != 'list' else 'text'} value", _example(kind))
        return None
    if isinstance(value, list):
        return (f"'{op}' takes one value, not a list", "a single value, or use in/not_in")
    if not _value_fits(kind, value):
        return (f"{_show(value)} is not a {kind if kind != 'list' else 'text'} value", _example(kind))
    return None


def _example(kind: str) -> str:
    return {"money": "an amount such as 1000 or 1000.00", "number": "a number", "integer": "a whole number",
            "date": "a date YYYY-MM-DD", "boolean": "true or false"}.get(kind, "text")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping) and "param" in value:
        return f"{{param: {value['param']}}}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _leaf_predicate(leaf: Leaf, param_index: Mapping[str, int]) -> Predicate:
    name, kind, op = leaf.fact, leaf.fact_type, leaf.op
    if op == "exists":
        want = bool(leaf.literal)
        return lambda f, p: (f[name] is not None) is want
    if leaf.param is not None:
        k = param_index[leaf.param]
        return lambda f, p: leaf_held(kind, op, f[name], p[k])
    expected = leaf.literal
    # Fast paths for the common scalar comparisons; the rest go through the reference function.
    if kind != "list":
        if op == "eq":
            return lambda f, p: (a := f[name]) is not None and a == expected
        if op == "ne":
            return lambda f, p: (a := f[name]) is not None and a != expected
        if op == "in":
            return lambda f, p: (a := f[name]) is not None and a in expected
        if op == "lt":
            return lambda f, p: (a := f[name]) is not None and a < expected
        if op == "ge":
            return lambda f, p: (a := f[name]) is not None and a >= expected
    return lambda f, p: leaf_held(kind, op, f[name], expected)


def _predicate(node: Node, leaf_preds: Sequence[Predicate]) -> Predicate:
    if isinstance(node, Leaf):
        return leaf_preds[node.index]
    if isinstance(node, Not):
        inner = _predicate(node.child, leaf_preds)
        return lambda f, p: not inner(f, p)
    children = tuple(_predicate(c, leaf_preds) for c in node.children)
    if isinstance(node, All):
        if len(children) == 1:
            return children[0]
        return lambda f, p: all(c(f, p) for c in children)
    if len(children) == 1:
        return children[0]
    return lambda f, p: any(c(f, p) for c in children)


def _decimals(value: Any) -> int:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return max(0, -exponent) if isinstance(exponent, int) else 0
    return 0


def _scale(pack: Pack, rules: Sequence[CompiledRule], params: Sequence[str]) -> int:
    """Decimal places at which every number a rule compares is an exact integer (money: the quantum's)."""
    quantum = pack.rounding.quantum
    places = {_decimals(Decimal(str(quantum)) if not isinstance(quantum, Decimal) else quantum)}
    for rule in rules:
        for leaf in rule.leaves:
            if leaf.fact_type not in NUMERIC_TYPES:
                continue
            if leaf.param is not None:
                places.update(_decimals(v.value) for v in pack.parameters[leaf.param].values)
            elif leaf.op != "exists":
                items = leaf.literal if isinstance(leaf.literal, tuple) else (leaf.literal,)
                places.update(_decimals(v) for v in items)
    scale = max(places)
    if scale > MAX_SCALE:
        raise SemanticError(f"pack {pack.ref}: a rule compares a number with more than {MAX_SCALE} decimal places",
                            pack.span(("rules",)))
    return scale


# ------------------------------------------------------------------------------------------------
# The durable_rules encoding (plain JSON; durable itself is only imported by durable_backend)
# ------------------------------------------------------------------------------------------------
#
# One message per evaluation carries every fact the pack's rules test, under short field names:
# - money, number, integer: `fN_lo` and `fN_hi`, the floor and the ceiling of value * 10**scale.
#   Every threshold is an exact integer at that scale, so `x < t` is `lo < T`, `x <= t` is `hi <= T`,
#   `x > t` is `hi > T`, `x >= t` is `lo >= T` and `x == t` is `lo == T and hi == T`: exact for any
#   precision of x, with no float anywhere. Values beyond +-2**62 are clamped, which keeps every
#   comparison with an in-range threshold exact.
# - date: `fN`, the day ordinal. boolean: `fN`. text: `fN`, compared for equality only.
# - list: `fN` (the items, matched with $iany/$iall) and `fN_n` (how many; $iall is false on []).
# - parameters: `pK`, encoded like the facts they are compared with, referenced as {"$m": "pK"}.
# - leaves durable cannot express exactly (a list fact against a parameter): `bR_L`, the leaf's
#   value computed in Python before the message is asserted.
# `not` is pushed down to the leaves (negation normal form): not(leaf) = absent OR complement(leaf).
# Every rule's expression starts with a positive test on `tid`: an expression whose first test is a
# bare $nex inside an $or made durable 2.0.28 loop forever (measured while writing this).

COMPLEMENT = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le", "in": "not_in", "not_in": "in"}
PRESENT_TID = {"$ex": {"tid": 1}}
CATCH_ALL = "zz_seen"

Expr = Any  # a durable JSON expression, or True / False for a constant


def bounds(value: int | Decimal, scale: int) -> tuple[int, int]:
    """floor and ceiling of value * 10**scale, clamped to +-INT_LIMIT; exact integer arithmetic."""
    if isinstance(value, int):
        v = value * 10**scale
        v = max(-INT_LIMIT, min(INT_LIMIT, v))
        return v, v
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    n = int("".join(map(str, digits)) or "0")
    if sign:
        n = -n
    e = exponent + scale
    if n == 0:
        return 0, 0
    if len(digits) + e > 20:  # |value * 10**scale| >= 10**19 > INT_LIMIT
        v = INT_LIMIT if n > 0 else -INT_LIMIT
        return v, v
    if e >= 0:
        lo = hi = n * 10**e
    else:
        d = 10 ** (-e)
        lo, hi = n // d, -((-n) // d)
    return max(-INT_LIMIT, min(INT_LIMIT, lo)), max(-INT_LIMIT, min(INT_LIMIT, hi))


def exact_int(value: int | Decimal, scale: int, what: str) -> int:
    lo, hi = bounds(value, scale)
    if lo != hi or abs(lo) >= INT_LIMIT:
        raise EvaluationError(f"{what}: {value} cannot be compared exactly at 10**-{scale} (out of range)")
    return lo


def durable_ruleset(rules: Sequence[CompiledRule], facts: Sequence[str], params: Sequence[str],
                    param_kinds: Sequence[str], scale: int) -> DurableRuleset:
    fields = {name: f"f{i}" for i, name in enumerate(facts)}
    param_fields = {name: f"p{k}" for k, name in enumerate(params)}
    python_leaves: list[tuple[int, int]] = []
    definition: dict[str, Any] = {}
    rule_names: dict[str, int] = {}
    for rule in rules:
        for leaf in rule.leaves:
            if leaf.fact_type == "list" and leaf.param is not None:
                python_leaves.append((rule.index, leaf.index))
        enc = _Encoder(rule.index, fields, param_fields, set(python_leaves), scale)
        expr = enc.node(rule.when, False)
        if expr is False:
            continue  # can never fire (e.g. `in: []`): no durable rule at all
        name = f"r{rule.index}"
        rule_names[name] = rule.index
        body = PRESENT_TID if expr is True else _and([PRESENT_TID, expr])
        definition[name] = {"all": [{"m": body}], "run": f"hit:{rule.index}"}
    # Lowest priority, matches every message: no assert is ever "unhandled", so an action always
    # runs in the state and delete_state never frees uninitialised memory (rules-engines.md A.1).
    definition[CATCH_ALL] = {"all": [{"m": PRESENT_TID}], "pri": 1000000, "run": "seen"}
    return DurableRuleset(definition, fields, param_fields, tuple(python_leaves), rule_names)


def _and(items: Sequence[Expr]) -> Expr:
    flat: list[Any] = []
    for item in items:
        if item is True:
            continue
        if item is False:
            return False
        for sub in item["$and"] if isinstance(item, dict) and set(item) == {"$and"} else [item]:
            if sub not in flat:  # the same presence test twice adds nothing
                flat.append(sub)
    if not flat:
        return True
    return flat[0] if len(flat) == 1 else {"$and": flat}


def _or(items: Sequence[Expr]) -> Expr:
    flat: list[Any] = []
    for item in items:
        if item is False:
            continue
        if item is True:
            return True
        if isinstance(item, dict) and set(item) == {"$or"}:
            flat.extend(item["$or"])
        else:
            flat.append(item)
    if not flat:
        return False
    return flat[0] if len(flat) == 1 else {"$or": flat}


@attrs.define
class _Encoder:
    rule: int
    fields: Mapping[str, str]
    param_fields: Mapping[str, str]
    python: set[tuple[int, int]]
    scale: int

    def node(self, node: Node, negated: bool) -> Expr:
        if isinstance(node, Leaf):
            return self.leaf(node, negated)
        if isinstance(node, Not):
            return self.node(node.child, not negated)
        parts = [self.node(c, negated) for c in node.children]
        conjunction = isinstance(node, All) != negated  # De Morgan
        return _and(parts) if conjunction else _or(parts)

    def presence_field(self, leaf: Leaf) -> str:
        stem = self.fields[leaf.fact]
        return f"{stem}_lo" if leaf.fact_type in NUMERIC_TYPES else stem

    def leaf(self, leaf: Leaf, negated: bool) -> Expr:
        if (self.rule, leaf.index) in self.python:
            return {f"b{self.rule}_{leaf.index}": not negated}
        present = {"$ex": {self.presence_field(leaf): 1}}
        absent = {"$nex": {self.presence_field(leaf): 1}}
        if leaf.op == "exists":
            return present if bool(leaf.literal) != negated else absent
        if not negated:
            return _and([present, self.compare(leaf, leaf.op)])
        return _or([absent, _and([present, self.compare(leaf, COMPLEMENT[leaf.op])])])

    def operand(self, leaf: Leaf, value: Any) -> Any:
        if leaf.param is not None:
            return {"$m": self.param_fields[leaf.param]}
        if leaf.fact_type in NUMERIC_TYPES:
            return exact_int(value, self.scale, f"rule {self.rule} threshold")
        if leaf.fact_type == "date":
            return value.toordinal()
        return value

    def compare(self, leaf: Leaf, op: str) -> Expr:
        """The test for `op` on a present fact (op may be the complement of the leaf's own)."""
        stem = self.fields[leaf.fact]
        kind = leaf.fact_type
        if op in ("in", "not_in") and kind != "list":
            items = leaf.literal
            one = "eq" if op == "in" else "ne"
            if kind == "boolean":  # two values: reduce to a constant or one equality
                wanted = {v for v in items} if op == "in" else {True, False} - set(items)
                if len(wanted) == 2:
                    return True
                if not wanted:
                    return False
                return {stem: next(iter(wanted))}
            parts = [self.scalar(kind, stem, one, self.operand(leaf, v)) for v in items]
            return _or(parts) if op == "in" else _and(parts)
        if kind == "list":
            return self.list_test(stem, op, leaf.literal)
        return self.scalar(kind, stem, op, self.operand(leaf, leaf.literal))

    def scalar(self, kind: str, stem: str, op: str, ref: Any) -> Expr:
        if kind in NUMERIC_TYPES:
            lo, hi = f"{stem}_lo", f"{stem}_hi"
            return {
                "eq": lambda: {"$and": [{lo: ref}, {hi: ref}]},
                "ne": lambda: {"$or": [{"$neq": {lo: ref}}, {"$neq": {hi: ref}}]},
                "lt": lambda: {"$lt": {lo: ref}},
                "le": lambda: {"$lte": {hi: ref}},
                "gt": lambda: {"$gt": {hi: ref}},
                "ge": lambda: {"$gte": {lo: ref}},
            }[op]()
        if kind == "boolean" and not isinstance(ref, dict):
            return {stem: ref if op == "eq" else not ref}
        if op == "eq":
            return {stem: ref}
        if op == "ne":
            return {"$neq": {stem: ref}}
        durable_op = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}[op]
        return {durable_op: {stem: ref}}

    def list_test(self, stem: str, op: str, literal: Any) -> Expr:
        values = list(literal) if op in ("in", "not_in") else [literal]
        if not values:
            return False if op == "in" else True
        if op in ("eq", "in"):
            items = [{"$i": v} for v in values]
            return {"$iany": {stem: items[0] if len(items) == 1 else {"$or": items}}}
        items = [{"$neq": {"$i": v}} for v in values]
        none_listed = {"$iall": {stem: items[0] if len(items) == 1 else {"$and": items}}}
        return {"$or": [{f"{stem}_n": 0}, none_listed]}


def durable_message(compiled: CompiledPack, facts: Mapping[str, Any], params: Sequence[Any],
                    python_values: Mapping[tuple[int, int], bool], tid: int) -> dict[str, Any]:
    """The one message asserted for an evaluation (`facts` normalised, `params` resolved)."""
    ruleset = compiled.durable
    scale = compiled.scale
    message: dict[str, Any] = {"sid": str(tid), "tid": tid}
    for name, stem in ruleset.fields.items():
        value = facts.get(name)
        if value is None:
            continue
        kind = FACT_TYPES[name]
        if kind in NUMERIC_TYPES:
            message[f"{stem}_lo"], message[f"{stem}_hi"] = bounds(value, scale)
        elif kind == "date":
            message[stem] = value.toordinal()
        elif kind == "list":
            message[stem] = list(value)
            message[f"{stem}_n"] = len(value)
        else:
            message[stem] = value
    for name, kind, value in zip(compiled.params, compiled.param_kinds, params):
        field = ruleset.param_fields[name]
        message[field] = exact_int(value, scale, f"parameter '{name}'") if kind == "numeric" else value
    for (r, leaf), held in python_values.items():
        message[f"b{r}_{leaf}"] = held
    return message
