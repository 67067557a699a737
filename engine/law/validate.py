"""Validate any taxpack input file (pack or scenario) and collect every error with its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from taxpack.engine.core.documents import display_path, load_yaml
from taxpack.engine.core.errors import ErrorList, TaxpackError
from taxpack.engine.law.load import PACK_FILE, load_pack


@attrs.frozen
class ValidationResult:
    path: str
    kind: str
    errors: tuple[TaxpackError, ...]
    label: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "valid": self.ok, "label": self.label, "errors": [e.as_dict() for e in self.errors]}


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
    return ValidationResult(shown, kind, (), f"{pack.ref} sha256:{pack.sha256[:12]}")
