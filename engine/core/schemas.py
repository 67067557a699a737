"""JSON Schema validation with errors mapped back to `file:line:col`.

The schemas in `schemas/` are what an editor uses for completion; here they check a parsed `Document`
and turn each jsonschema error into a `SchemaError` at the node it concerns, with the path and what
was expected, in words a pack author can act on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Iterable, Mapping

import jsonschema
from jsonschema.exceptions import ValidationError

from taxpack.engine.core.documents import Document, did_you_mean, to_json_types
from taxpack.engine.core.errors import SchemaError


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict[str, Any]:
    """Load `schemas/<name>.schema.json` from the installed package."""
    text = resources.files("taxpack.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


# The schemas' date pattern: text of that form must also be a day of the calendar ("2024-02-31" is not), or
# it would pass validation and fail later, where no place is known.
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _validator_class(schema: dict[str, Any]) -> Any:
    """The schema's validator class, its `pattern` keyword also refusing a date of the right form that is no day."""
    cls = jsonschema.validators.validator_for(schema)
    base_pattern = cls.VALIDATORS["pattern"]

    def pattern(validator: Any, value: Any, instance: Any, node: Any) -> Iterable[ValidationError]:
        produced = list(base_pattern(validator, value, instance, node))
        yield from produced
        if not produced and value == DATE_PATTERN and isinstance(instance, str):
            try:
                dt.date.fromisoformat(instance)
            except ValueError:
                yield ValidationError(f"{instance!r} is not a day of the calendar", validator="pattern", validator_value=value,
                                      instance=instance, schema=node)

    return jsonschema.validators.extend(cls, {"pattern": pattern})


@lru_cache(maxsize=None)
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = load_schema(name)
    validator: jsonschema.protocols.Validator = _validator_class(schema)(schema)
    return validator


@lru_cache(maxsize=None)
def _item_validator(name: str, key: str) -> jsonschema.protocols.Validator:
    schema = load_schema(name)
    validator: jsonschema.protocols.Validator = _validator_class(schema)(schema["properties"][key]["items"])
    return validator


def validate(document: Document, schema_name: str, fast_items: Mapping[str, Callable[[Any], bool]] | None = None) -> list[SchemaError]:
    """All schema errors of `document`, each at its node, sorted by position.

    `fast_items` maps a top-level list (e.g. `transactions`) to an exact, quick check of one item: items
    it accepts skip jsonschema (which is slow on 10,000 rows); the others get jsonschema's full errors.
    """
    validator = _validator(schema_name)
    data = document.data
    raw: list[ValidationError] = []
    if fast_items and isinstance(data, dict):
        # The big lists are checked row by row on the parsed values; only rows the quick check does
        # not accept are converted and given to jsonschema.
        instance = to_json_types({k: v for k, v in data.items() if k not in fast_items})
        for key, accepts in fast_items.items():
            if key not in data:
                continue
            items = data[key]
            if not isinstance(items, list):
                instance[key] = to_json_types(items)
                continue
            instance[key] = []  # checked item by item below
            item_validator = _item_validator(schema_name, key)
            for i, item in enumerate(items):
                if accepts(item):
                    continue
                for error in item_validator.iter_errors(to_json_types(item)):
                    error.path.extendleft((i, key))  # re-root the error at transactions[i]
                    raw.append(error)
    else:
        instance = to_json_types(data)
    raw.extend(validator.iter_errors(instance))
    errors = [error for e in _leaf_errors(raw) for error in _to_errors(document, e, schema_name)]
    unique: dict[str, SchemaError] = {}
    for found in errors:
        unique.setdefault(found.render(), found)
    return sorted(unique.values(), key=lambda e: (e.span.line or 0, e.span.col or 0, e.message) if e.span else (0, 0, e.message))


# Errors that say precisely what is wrong even inside one branch of a oneOf/anyOf.
_CLEAR = ("enum", "const", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "additionalProperties", "required", "minItems")
_JSON_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float, Decimal)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _leaf_errors(errors: Iterable[ValidationError]) -> Iterable[ValidationError]:
    """For oneOf/anyOf, the errors of the one branch the value was plainly meant for, if there is one.

    A branch is meant when it accepts the value's type and the value has the keys the branch requires
    (`{days: 30.5}` is meant as a duration, not as `{param: NAME}`). Its errors are reported when
    they are precise; otherwise the oneOf itself is reported, with what each branch expects.
    """
    for error in errors:
        if error.validator not in ("oneOf", "anyOf") or not error.context:
            yield error
            continue
        branches = error.validator_value if isinstance(error.validator_value, list) else []
        meant = [i for i, branch in enumerate(branches) if _branch_fits(branch, error.instance)]
        if len(meant) != 1:
            yield error
            continue
        branch = [e for e in error.context if e.relative_schema_path[0] == meant[0]]
        deeper = any(len(e.absolute_path) > len(error.absolute_path) for e in branch)
        clear = all(e.validator in _CLEAR for e in branch)
        if branch and (deeper or clear or not _schema_node(error).get("description")):
            yield from _leaf_errors(branch)
        else:
            yield error


def _branch_fits(branch: Any, instance: Any) -> bool:
    if not isinstance(branch, dict):
        return True
    kind = branch.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if not any(_JSON_TYPES.get(k, lambda v: True)(instance) for k in kinds):
            return False
    if isinstance(instance, dict) and any(key not in instance for key in branch.get("required", ())):
        return False
    return True


def _schema_node(error: ValidationError) -> Mapping[str, Any]:
    """The schema node an error is about; a boolean schema (`true`/`false`) has no keywords, so it reads as empty."""
    return error.schema if isinstance(error.schema, Mapping) else {}


def _forms(schema: Mapping[str, Any]) -> str:
    """What a oneOf/anyOf accepts, in words: its description, or each branch's."""
    if schema.get("description"):
        return str(schema["description"])
    words = []
    for branch in schema.get("oneOf") or schema.get("anyOf") or []:
        if branch.get("description"):
            words.append(str(branch["description"]))
        elif "enum" in branch:
            words.append("one of " + ", ".join(json.dumps(v) for v in branch["enum"]))
        elif isinstance(branch.get("type"), str):
            words.append(_article(branch["type"]))
    return "; or ".join(words) or "see the schema"


def _path_text(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _condition_text(schema_name: str, error: ValidationError) -> str:
    """For a key required by an `if`/`then` of the schema: the condition, e.g. " when kind is 'jurisdiction'"."""
    path = list(error.absolute_schema_path)
    if "then" not in path:
        return ""
    node: Any = load_schema(schema_name)
    for part in path[: path.index("then")]:
        node = node[part]
    tests = [f"{key} is {json.dumps(sub['const'])}" for key, sub in (node.get("if", {}).get("properties") or {}).items() if "const" in sub]
    return f" when {' and '.join(tests)}" if tests else ""


def _to_errors(document: Document, error: ValidationError, schema_name: str) -> list[SchemaError]:
    path = tuple(error.absolute_path)
    where = _path_text(path)
    span = document.span(path)
    validator, value = error.validator, error.validator_value
    instance = error.instance
    if validator == "required" and isinstance(value, list):
        missing = [name for name in value if isinstance(instance, dict) and name not in instance]
        names = ", ".join(f"'{name}'" for name in missing) or "?"
        plural = "s" if len(missing) > 1 else ""
        return [SchemaError(f"{where}: missing required key{plural} {names}{_condition_text(schema_name, error)}", span)]
    if validator == "additionalProperties" and isinstance(instance, dict):
        properties = _schema_node(error).get("properties") or {}
        allowed = sorted(properties.keys())
        extras = sorted(k for k in instance if k not in properties)
        hint = f"one of {', '.join(allowed)}" if allowed else "no other keys"
        # One error per unknown key, each at its own key, so that an editor underlines every typo.
        return [
            SchemaError(f"{where}: unknown key '{key}'{did_you_mean(key, allowed)}", document.key_span(path + (key,)), hint)
            for key in extras
        ]
    return [_to_error(document, error)]


def _to_error(document: Document, error: ValidationError) -> SchemaError:
    path = tuple(error.absolute_path)
    where = _path_text(path)
    span = document.span(path)
    validator, value = error.validator, error.validator_value
    instance = error.instance
    if validator == "propertyNames":
        return SchemaError(f"{where}: invalid name: {error.message}", span)
    if validator == "enum" and isinstance(value, list):
        return SchemaError(f"{where}: {json.dumps(instance, default=str)} is not allowed", span, "one of " + ", ".join(json.dumps(v) for v in value))
    if validator == "const":
        return SchemaError(f"{where}: {json.dumps(instance, default=str)} is not allowed", span, json.dumps(value))
    if validator == "type":
        kinds = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        kind = " or ".join(kinds)
        expected = _article(kind)
        if kind == "string" and (isinstance(instance, (int, float)) or hasattr(instance, "as_tuple")):
            # `version: 1.0` or `id: 2024` are read as numbers; quotes make them text.
            expected += f", in quotes: \"{instance}\""
        return SchemaError(f"{where}: {_describe(instance)} has the wrong type", span, expected)
    if validator == "pattern":
        described = _schema_node(error).get("description") or f"text matching {value}"
        if value == DATE_PATTERN and isinstance(instance, str) and re.search(DATE_PATTERN, instance):
            return SchemaError(f"{where}: {instance} is not a day of the calendar", span, "a real date, YYYY-MM-DD")
        return SchemaError(f"{where}: {json.dumps(instance, default=str)} has the wrong form", span, described)
    if validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        words = {"minimum": "at least", "exclusiveMinimum": "more than", "maximum": "at most", "exclusiveMaximum": "less than"}
        return SchemaError(f"{where}: {instance} is out of range", span, f"{words[validator]} {value}")
    if validator in ("minItems", "minProperties"):
        state = "is empty" if not instance else "has too few entries"
        return SchemaError(f"{where}: {state}", span, f"at least {value} {'entry' if value == 1 else 'entries'}")
    if validator == "minLength":
        return SchemaError(f"{where}: is empty", span, f"at least {value} character{'' if value == 1 else 's'}")
    if validator in ("maxProperties",):
        return SchemaError(f"{where}: has too many keys", span, f"at most {value}")
    if validator in ("oneOf", "anyOf"):
        if isinstance(instance, dict) and instance:
            keys = ", ".join(f"'{k}'" for k in instance)
            described = f"a mapping with the key{'s' if len(instance) > 1 else ''} {keys}"
        else:
            described = _describe(instance)
        return SchemaError(f"{where}: {described} does not match any allowed form", span, _forms(_schema_node(error)))
    return SchemaError(f"{where}: {error.message}", span)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (dict,)):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        return f"the text {json.dumps(value)}"
    return f"the number {value}"


def _article(kind: str) -> str:
    names = {"object": "a mapping", "array": "a list", "string": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false"}
    return " or ".join(names.get(k.strip(), k) for k in kind.split(" or "))
