"""Validate any taxpack input file (pack or scenario) and collect every error with its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Mapping

import attrs

from taxpack.engine.core.documents import display_path, load_yaml
from taxpack.engine.core.errors import ErrorList, SemanticError, TaxpackError
from taxpack.engine.law.load import PACK_FILE, load_pack
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.rule_compiler import message_params


class PackWarning(SemanticError):
    """Something a pack author should look at that does not make the pack invalid (exit code unchanged)."""

    kind = "warning"


@attrs.frozen
class ValidationResult:
    path: str
    kind: str
    errors: tuple[TaxpackError, ...]
    label: str = ""
    warnings: tuple[TaxpackError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "valid": self.ok, "label": self.label, "errors": [e.as_dict() for e in self.errors],
                "warnings": [w.as_dict() for w in self.warnings]}


def _quoted(pack: Pack) -> Iterator[str]:
    for rule in pack.section("rules") or ():
        then = rule.get("then") or {}
        for key in ("message", "caveat"):
            yield from message_params(then.get(key) or "")


def _referenced(value: Any, skip_top: bool = True) -> Iterator[str]:
    """Every `{param: NAME}` in a document (the parameters and the tests excepted)."""
    if isinstance(value, Mapping):
        if set(value) == {"param"} and isinstance(value["param"], str):
            yield value["param"]
            return
        for key, item in value.items():
            if skip_top and key in ("parameters", "tests"):
                continue
            yield from _referenced(item, False)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced(item, False)


def pack_warnings(pack: Pack) -> list[TaxpackError]:
    """Parameters that no section, rule condition or rule message reads: a value edited there changes nothing."""
    used = set(_referenced(pack.data)) | set(_quoted(pack))
    unused = [(name, parameter) for name, parameter in pack.parameters.items() if name not in used]
    unused.sort(key=lambda item: (item[1].span.line or 0) if item[1].span is not None else 0)
    return [PackWarning(f"parameter '{name}' is read by no section or rule: changing it changes nothing", parameter.span,
                        "{param: NAME} in a section or a rule condition, {param:NAME} in a rule message, or remove it")
            for name, parameter in unused]


def _errors(exc: TaxpackError) -> tuple[TaxpackError, ...]:
    return tuple(exc.errors) if isinstance(exc, ErrorList) else (exc,)


def validate_path(path: Path) -> ValidationResult:
    """A pack folder or file, or a scenario file (recognised by its `taxpack:` key)."""
    shown = display_path(path)
    kind = "pack"
    if path.is_dir() and (path.name == "__pycache__" or path.name.startswith(".")):
        # `jurisdictions/*` also matches Python's byte-code cache once the package has been imported.
        return ValidationResult(shown, "skipped", (), "skipped: not a pack folder")
    if path.is_file() and path.suffix.lower() not in (".yaml", ".yml", ".json"):
        # A shell glob such as `jurisdictions/*` also matches __init__.py or a README: say so, do not fail.
        return ValidationResult(shown, "skipped", (), "skipped: not a YAML or JSON file")
    if path.is_file() and path.name != PACK_FILE:
        try:
            doc = load_yaml(path)
        except TaxpackError as exc:
            return ValidationResult(shown, "file", _errors(exc))
        if isinstance(doc.data, dict) and "taxpack" in doc.data:
            from taxpack.engine.inputs.scenario import load_scenario

            try:
                scenario = load_scenario(path)
            except TaxpackError as exc:
                return ValidationResult(shown, "scenario", _errors(exc))
            return ValidationResult(shown, "scenario", (), f"scenario, {len(scenario.trades)} trade(s)")
    try:
        pack = load_pack(path)
    except TaxpackError as exc:
        return ValidationResult(shown, kind, _errors(exc))
    return ValidationResult(shown, kind, (), f"{pack.ref} sha256:{pack.sha256[:12]}", tuple(pack_warnings(pack)))
