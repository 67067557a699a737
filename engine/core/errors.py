"""Errors a user can cause, each carrying where it happened and what was expected.

Every error taxpack raises for bad input is a `TaxpackError` with a `Span` (file, line, column, or
CSV row and column). The CLI prints `str(error)` and exits with the error's code; no traceback.
Exit codes are stable and documented in the README and in `taxpack --help`.
"""

from __future__ import annotations

from typing import Iterable

import attrs

# Stable exit codes shared by every command (documented in README.md, "Exit codes").
EXIT_OK = 0
EXIT_WARNINGS = 1  # check: warnings; pack validate / pack diff / pack test: invalid, different, failed
EXIT_BLOCKING = 2  # check: a blocking finding
EXIT_INPUT = 3  # the input is wrong; the message says where
EXIT_INTERNAL = 4  # a bug in taxpack itself (please report it)


@attrs.frozen(order=True)
class Span:
    """A place in a user's file: 1-based line and column for YAML/JSON, row and column for CSV."""

    file: str
    line: int | None = None
    col: int | None = None
    # For CSV: `line` is the physical row number (header = 1) and `column` names the CSV column.
    column: str | None = None

    def __str__(self) -> str:
        if self.column is not None:
            return f"{self.file}:{self.line}: column '{self.column}'"
        if self.line is None:
            return self.file
        if self.col is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.col}"


class TaxpackError(Exception):
    """Base of every error a user can cause. `str()` is the whole message shown to the user."""

    exit_code = EXIT_INPUT
    kind = "error"

    def __init__(self, message: str, span: Span | None = None, expected: str | None = None) -> None:
        self.message = message
        self.span = span
        self.expected = expected
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.span}: " if self.span is not None else ""
        text = f"{where}{self.kind}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text

    def as_dict(self) -> dict[str, object]:
        span = self.span
        return {
            "kind": self.kind,
            "message": self.message,
            "expected": self.expected,
            "file": span.file if span else None,
            "line": span.line if span else None,
            "col": span.col if span else None,
            "column": span.column if span else None,
        }


class ParseError(TaxpackError):
    """The file cannot be read as YAML, JSON or CSV at all (syntax, encoding, unsafe tag, alias bomb)."""

    kind = "parse error"


class SchemaError(TaxpackError):
    """The file parses but does not have the documented shape (JSON Schema)."""

    kind = "schema error"


class SemanticError(TaxpackError):
    """The file has the right shape but says something inconsistent (unknown id, overlapping dates...)."""

    kind = "error"


class EvaluationError(TaxpackError):
    """The inputs are valid one by one but cannot be evaluated together (no rate, no pack covers a date)."""

    kind = "error"


class ErrorList(TaxpackError):
    """Several errors found in one pass; validation reports them all, not only the first."""

    def __init__(self, errors: Iterable[TaxpackError]) -> None:
        self.errors = sorted(errors, key=_error_sort_key)
        message = "\n".join(e.render() for e in self.errors)
        self.message = message
        self.span = self.errors[0].span if self.errors else None
        self.expected = None
        Exception.__init__(self, message)

    def render(self) -> str:
        return "\n".join(e.render() for e in self.errors)


def _error_sort_key(error: TaxpackError) -> tuple[str, int, int, str]:
    span = error.span
    if span is None:
        return ("", 0, 0, error.message)
    return (span.file, span.line or 0, span.col or 0, error.message)
