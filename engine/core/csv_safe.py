"""Cells of CSV files we write, safe to open in a spreadsheet (CSV formula injection).

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
strip first) as a formula: a security id or a message taken from an input file could carry one into a
file a user then opens. `csv_safe` puts an apostrophe before such a cell, which spreadsheets show as text
and never run. A plain number (`-1000.00`, `+5`) is left as it is: it is no formula, and tools reading the
file must see the number.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def csv_safe(value: Any) -> str:
    """The cell's text, with a leading apostrophe when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_safe_row(values: Iterable[Any]) -> list[str]:
    """Every cell of a row through `csv_safe`."""
    return [csv_safe(v) for v in values]
