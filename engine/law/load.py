"""Load and validate a jurisdiction pack: parse (with positions), check the schema, check the meaning.

A pack is a folder holding `pack.yaml` and, optionally, `tests/*.yaml` (each a list of test cases),
or a single pack file. `load_pack` returns a `Pack` or raises an `ErrorList` with every problem found,
each at its `file:line:col`. The checks the schema cannot express live in `semantic_errors`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Mapping

from taxpack.engine.core.documents import Document, JsonPath, display_path, load_yaml, load_yaml_text
from taxpack.engine.core.errors import ErrorList, ParseError, SchemaError, SemanticError, Span, TaxpackError
from taxpack.engine.core.limits import MAX_RULES
from taxpack.engine.core.money import Rounding
from taxpack.engine.core.schemas import did_you_mean
from taxpack.engine.core.schemas import validate as schema_validate
from taxpack.engine.law.facts import FACT_TYPES
from taxpack.engine.law.hashing import content_hash
from taxpack.engine.law.pack import DatedValue, Pack, Parameter, Source
from taxpack.engine.law.sections import build_sections
from taxpack.engine.law.year_rules import year_errors

PACK_FILE = "pack.yaml"
DURATION_UNITS = ("days", "weeks", "months", "years")
NUMBER_UNITS = ("money", "rate", "count") + DURATION_UNITS


def pack_files(path: Path) -> tuple[Path, list[Path]]:
    """The main file and the test files of the pack at `path` (a folder or a file)."""
    if path.is_dir():
        main = path / PACK_FILE
        tests = sorted((path / "tests").glob("*.yaml")) if (path / "tests").is_dir() else []
        return main, tests
    return path, []


def load_pack(path: Path | str, shown_as: str | None = None) -> Pack:
    """Load, validate and build the pack at `path`; raise `ErrorList` if anything is wrong."""
    path = Path(path)
    main, test_files = pack_files(path)
    if path.is_dir() and not main.is_file():
        raise ErrorList([ParseError(f"there is no {PACK_FILE} in this folder", Span(shown_as or display_path(path)),
                                    f"a pack folder holding {PACK_FILE}, a pack file, or a scenario file")])
    if path.is_dir():
        for file in [main, *test_files]:  # a pack folder's files are its own: a link may not lead out of it
            _inside_pack(file, path)
    shown = shown_as or display_path(main)
    document = load_yaml(main, shown)
    test_docs = [load_yaml(f, display_path(f) if shown_as is None else str(Path(shown).parent / "tests" / f.name)) for f in test_files]
    return build_pack(document, test_docs, str(path))


def _inside_pack(file: Path, folder: Path) -> None:
    """A link in a pack folder that leads outside it is refused, without reading (or quoting) what it leads to."""
    if not file.is_symlink():
        return
    try:
        real, root = file.resolve(strict=True), folder.resolve(strict=True)
    except (OSError, RuntimeError):
        return  # a broken link or a loop: reading the file says which
    if root not in real.parents:
        raise ErrorList([ParseError(f"is a link to a file outside the pack folder {display_path(folder)}", Span(display_path(file)),
                                    "a pack's files inside its own folder")])


def load_pack_text(text: str, shown: str, tests: list[tuple[str, str]] = ()) -> Pack:  # type: ignore[assignment]
    """Load a pack from text (used for packs read from git history)."""
    document = load_yaml_text(text, shown)
    test_docs = [load_yaml_text(t, name) for name, t in tests]
    return build_pack(document, test_docs, shown)


def build_pack(document: Document, test_docs: list[Document], path: str) -> Pack:
    errors: list[TaxpackError] = []
    if not isinstance(document.data, dict):
        raise ErrorList([SchemaError(f"the file {_top_level(document.data)}, not a pack", document.span(),
                                     "a mapping of keys: format, kind, id, title, version, coverage, sources, ...")])
    errors.extend(schema_validate(document, "pack"))
    rules = document.data.get("rules")
    if isinstance(rules, list) and len(rules) > MAX_RULES:
        errors.append(SemanticError(f"the pack has {len(rules)} rules, more than the {MAX_RULES} taxpack evaluates in one pack",
                                    document.key_span(("rules",)), f"at most {MAX_RULES} rules in one pack"))
    tests: list[Any] = list(document.data.get("tests") or [])
    for tdoc in test_docs:
        data = tdoc.data
        if isinstance(data, dict) and "tests" in data:
            data = data["tests"]
        if not isinstance(data, list):
            errors.append(SchemaError(f"the test file {_top_level(tdoc.data)}, not test cases", tdoc.span(),
                                      "a list of test cases, or a mapping with the key 'tests' holding one"))
            continue
        errors.extend(schema_validate(tdoc, "pack-tests"))
        tests.extend(data)
    if errors:
        raise ErrorList(errors)
    errors.extend(semantic_errors(document, test_docs))
    if errors:
        raise ErrorList(errors)
    data = document.data
    sources = {
        sid: Source(sid, s["citation"], s["confidence"], s.get("url"), s.get("note"))
        for sid, s in (data.get("sources") or {}).items()
    }
    parameters = {name: _parameter(document, name, p) for name, p in (data.get("parameters") or {}).items()}
    full = dict(data)
    if test_docs:
        full["tests"] = tests
    pack = Pack(
        id=data["id"],
        kind=data["kind"],
        title=data["title"],
        version=data["version"],
        coverage_from=_date(data["coverage"]["from"]),
        coverage_to=_date(data["coverage"]["to"]),
        sha256=content_hash(full),
        data=full,
        document=document,
        sources=sources,
        parameters=parameters,
        sections=build_sections(document),
        path=path,
        jurisdiction=data.get("jurisdiction"),
        currency=data.get("currency"),
        rounding=_rounding(data.get("rounding")),
    )
    # The rules are compiled (operand types, parameters against facts) so a bad rule is a validation
    # error at its file:line:col, not a surprise during `check`.
    from taxpack.engine.law.rule_compiler import compile_pack

    compile_pack(pack)
    return pack


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _top_level(data: Any) -> str:
    if data is None:
        return "is empty"
    if isinstance(data, list):
        return "holds a list at the top level"
    if isinstance(data, dict):
        return "holds a mapping without the key 'tests'"
    return f"holds a single value ({data!r})"


def _parameter(document: Document, name: str, raw: Mapping[str, Any]) -> Parameter:
    values = tuple(
        DatedValue(_date(start), v.get("value"), v["source"], v.get("uncertain"), document.span(("parameters", name, "values", start)))
        for start, v in raw["values"].items()
    )
    return Parameter(name, raw["description"], raw["unit"], values, raw.get("by"), raw.get("currency"), document.span(("parameters", name)),
                     _date(raw["confirmed_until"]) if raw.get("confirmed_until") else None)


# ------------------------------------------------------------------------------------------------
# Semantic checks: what the schema cannot say
# ------------------------------------------------------------------------------------------------


def semantic_errors(document: Document, test_docs: list[Document] = ()) -> list[TaxpackError]:  # type: ignore[assignment]
    data = document.data
    errors: list[TaxpackError] = []
    sources = set((data.get("sources") or {}).keys())
    parameters: Mapping[str, Any] = data.get("parameters") or {}
    coverage = data["coverage"]
    cov_from, cov_to = _date(coverage["from"]), _date(coverage["to"])
    if cov_from > cov_to:
        errors.append(SemanticError(f"coverage: 'to' {cov_to} is before 'from' {cov_from}", document.span(("coverage", "to")),
                                    f"a date on or after {cov_from}"))

    # Every `source:` anywhere must name an entry of `sources`.
    for path, sid in _walk_key(data, "source"):
        if isinstance(sid, dt.date):
            # Passed the schema as ISO text, but the engine would look up a date, not the id.
            errors.append(SemanticError(f"source {sid} is read as a date, not as a source id", document.span(path),
                                        "a source id; put it in quotes if it looks like a date"))
        elif isinstance(sid, str) and sid not in sources:
            errors.append(SemanticError(f"unknown source '{sid}'{did_you_mean(sid, sources)}", document.span(path), _known("sources", sources)))
    for tdoc in test_docs:
        for path, sid in _walk_key(tdoc.data, "source"):
            if isinstance(sid, str) and sid not in sources:
                errors.append(SemanticError(f"unknown source '{sid}'{did_you_mean(sid, sources)}", tdoc.span(path),
                                            _known("sources of the pack", sources)))

    # Parameters: dates in order, values of the declared unit, in force over the whole coverage.
    for name, param in parameters.items():
        dates = [_date(d) for d in param["values"]]
        keys = list(param["values"].keys())
        for i in range(1, len(dates)):
            if dates[i] <= dates[i - 1]:
                errors.append(SemanticError(
                    f"parameter '{name}': value dates must increase, but {dates[i]} comes after {dates[i - 1]}",
                    document.key_span(("parameters", name, "values", keys[i])), "dates in increasing order"))
        for start, entry in param["values"].items():
            value = entry.get("value")
            if value is None:
                continue
            problem = _unit_problem(param["unit"], value, param.get("by"))
            if problem:
                errors.append(SemanticError(f"parameter '{name}' value of {start}: {problem[0]}",
                                            document.span(("parameters", name, "values", start, "value")), problem[1]))
        if dates and dates == sorted(dates) and cov_from <= cov_to:
            errors.extend(_coverage_gaps(document, name, keys, [param["values"][k].get("value") for k in keys], cov_from, cov_to))

    # Every {param: name} must exist; durations must point at duration parameters.
    for path, ref in _walk_param_refs(data):
        if ref not in parameters:
            errors.append(SemanticError(f"unknown parameter '{ref}'{did_you_mean(ref, parameters)}", document.span(path),
                                        _known("parameters", parameters)))
        elif _expects_duration(path) and parameters[ref]["unit"] not in DURATION_UNITS:
            errors.append(SemanticError(
                f"parameter '{ref}' has unit '{parameters[ref]['unit']}' but is used as a duration",
                document.span(path), "a parameter with unit days, weeks, months or years"))

    lots = data.get("lots")
    if isinstance(lots, dict):
        methods = lots.get("methods") or []
        for key in ("default", "mandatory"):
            if lots.get(key) and lots[key] not in methods:
                errors.append(SemanticError(f"lots.{key}: '{lots[key]}' is not one of the methods lots.methods allows",
                                            document.span(("lots", key)), f"one of {', '.join(methods)}, or add '{lots[key]}' to lots.methods"))

    # Rule and loss-rule ids are unique; rule conditions name known facts.
    seen: dict[str, JsonPath] = {}
    for section in ("loss_rules", "rules"):
        for i, rule in enumerate(data.get(section) or []):
            rid = rule.get("id")
            if rid in seen:
                first = document.span(seen[rid])
                errors.append(SemanticError(f"duplicate rule id '{rid}' (first at line {first.line})", document.span((section, i, "id"))))
            else:
                seen[rid] = (section, i, "id")
    for i, rule in enumerate(data.get("rules") or []):
        for path, cond in _walk_conditions(rule.get("when"), ("rules", i, "when")):
            fact = cond.get("fact")
            if fact is not None and fact not in FACT_TYPES:
                errors.append(SemanticError(f"rule '{rule.get('id')}': unknown fact '{fact}'{did_you_mean(fact, FACT_TYPES)}",
                                            document.span(path + ("fact",)), "a fact listed in docs/pack-format.md#facts"))
            for op in ("lt", "le", "gt", "ge"):
                if op in cond and fact in FACT_TYPES and FACT_TYPES[fact] in ("text", "boolean", "list"):
                    errors.append(SemanticError(f"rule '{rule.get('id')}': '{op}' compares an order, but fact '{fact}' is {FACT_TYPES[fact]}", document.span(path + (op,)), "eq, ne, in, not_in or exists"))
    errors.extend(year_errors(document))
    return errors


def _unit_problem(unit: str, value: Any, by: str | None) -> tuple[str, str] | None:
    if by is not None:
        if not isinstance(value, dict):
            return (f"a parameter keyed by '{by}' needs a mapping of {by} to value", "a mapping such as {single: ..., married_joint: ...}")
        for key, item in value.items():
            problem = _unit_problem(unit, item, None)
            if problem:
                return (f"entry '{key}': {problem[0]}", problem[1])
        return None
    is_number = isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if unit in ("money",) and not is_number:
        return (f"{_show(value)} is not an amount of money", "a number such as 1270 or 1270.00")
    if unit == "rate":
        if not is_number:
            return (f"{_show(value)} is not a rate", "a number between 0 and 1, e.g. 0.15")
        if not (0 <= value <= 1):
            return (f"rate {value} is outside 0 to 1", "a fraction between 0 and 1: 15% is written 0.15")
    if unit in ("count",) + DURATION_UNITS and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return (f"{_show(value)} is not a whole number of {unit}", "a whole number, 0 or more")
    if unit == "boolean" and not isinstance(value, bool):
        return (f"{_show(value)} is not true or false", "true or false")
    if unit == "text" and not isinstance(value, str):
        return (f"{_show(value)} is not text", "text")
    if unit == "brackets":
        if not isinstance(value, list) or not value:
            return ("brackets must be a list of {from: amount, rate: r}", "a list of {from: 0, rate: 0.0}, ...")
        last = None
        for n, b in enumerate(value, 1):
            if not isinstance(b, dict) or set(b) != {"from", "rate"}:
                return (f"bracket {n} is not {{from: amount, rate: r}}", "{from: 0, rate: 0.15}")
            if not (isinstance(b["from"], (int, Decimal)) and not isinstance(b["from"], bool)):
                return (f"bracket {n}: 'from' {_show(b['from'])} is not an amount", "a number such as 48350")
            if last is not None and b["from"] <= last:
                return (f"bracket {n} starts at {b['from']}, not above bracket {n - 1} at {last}", "brackets in increasing order of 'from'")
            last = b["from"]
            if not (isinstance(b["rate"], (int, Decimal)) and not isinstance(b["rate"], bool) and 0 <= b["rate"] <= 1):
                return (f"bracket {n}: rate {_show(b['rate'])} is outside 0 to 1", "a fraction between 0 and 1: 15% is written 0.15")
    return None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _coverage_gaps(document: Document, name: str, keys: list[str], values: list[Any],
                   cov_from: dt.date, cov_to: dt.date) -> list[TaxpackError]:
    """Every stretch of the coverage where the parameter has no value: before its first value, or after a null."""
    errors: list[TaxpackError] = []
    starts = [_date(k) for k in keys]
    in_force = [i for i, start in enumerate(starts) if start <= cov_from]
    if not in_force or values[in_force[-1]] is None:
        later = [i for i, start in enumerate(starts) if start > cov_from and values[i] is not None]
        until = f"{starts[later[0]] - dt.timedelta(days=1)}" if later else f"{cov_to}"
        if not in_force:
            span = document.key_span(("parameters", name, "values", keys[0]))
            what = f"its first value starts on {starts[0]}"
        else:
            span = document.key_span(("parameters", name, "values", keys[in_force[-1]]))
            what = f"its value of {starts[in_force[-1]]} is null"
        errors.append(SemanticError(
            f"parameter '{name}' has no value from {cov_from} (where the pack's coverage starts) to {min(_date(until), cov_to)}: {what}",
            span, f"a value dated on or before {cov_from}"))
    for i, start in enumerate(starts):
        if values[i] is None and cov_from < start <= cov_to:
            gap_end = starts[i + 1] - dt.timedelta(days=1) if i + 1 < len(starts) else cov_to
            gap_end = min(gap_end, cov_to)
            errors.append(SemanticError(
                f"parameter '{name}' ends (value null) on {start}, inside the pack's coverage: no value covers {start} to {gap_end}",
                document.key_span(("parameters", name, "values", keys[i])),
                f"a value in force until {cov_to}, or a coverage that ends before {start}"))
    return errors


def _known(what: str, names: Any) -> str:
    names = sorted(names)
    if not names:
        return f"the name of an entry of '{what}'; this pack has none"
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"one of {shown}"


def _walk_key(value: Any, key: str, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    """Every scalar value of `key` in the tree (skips the `sources` registry and inline test scenarios)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if (k == "sources" and not path) or k == "scenario":
                continue
            if k == key and not isinstance(v, (dict, list)):
                yield path + (k,), v
            else:
                yield from _walk_key(v, key, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_key(v, key, path + (i,))


def _walk_param_refs(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, dict):
        if set(value) == {"param"} and isinstance(value["param"], str):
            yield path + ("param",), value["param"]
            return
        for k, v in value.items():
            if k in ("parameters", "tests") and not path:
                continue
            yield from _walk_param_refs(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk_param_refs(v, path + (i,))


def _expects_duration(path: JsonPath) -> bool:
    keys = [p for p in path if isinstance(p, str)]
    return ("window" in keys and keys[-2] in ("before", "after")) or (keys[-2:] == ["long_term_after", "param"])


def _walk_conditions(cond: Any, path: JsonPath) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    if not isinstance(cond, dict):
        return
    if "fact" in cond:
        yield path, cond
    for key in ("all", "any"):
        for i, sub in enumerate(cond.get(key) or []):
            yield from _walk_conditions(sub, path + (key, i))
    if "not" in cond:
        yield from _walk_conditions(cond["not"], path + ("not",))


def _rounding(spec: Any) -> Rounding:
    """The pack's `rounding:` section (validated by the schema); absent: to the cent, half-even."""
    if not spec:
        return Rounding()
    return Rounding(Decimal(str(spec.get("quantum", "0.01"))), str(spec.get("mode", "half_even")))
