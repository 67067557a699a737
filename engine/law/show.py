"""What a pack says on a given day: each parameter's value in force, its start date and its source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from taxpack.engine.law.pack import Pack


def format_value(value: Any) -> str:
    """A parameter value as a reviewer reads it: decimals as written, brackets as `from+ rate` lines."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {format_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        if value and all(isinstance(b, dict) and set(b) == {"from", "rate"} for b in value):
            return ", ".join(f"{b['from']}+ {b['rate']}" for b in value)
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def values_in_force(pack: Pack, day: dt.date) -> list[dict[str, Any]]:
    rows = []
    for name in sorted(pack.parameters):
        parameter = pack.parameters[name]
        dated = parameter.at(day)
        if dated is None:
            rows.append({"name": name, "value": None, "value_text": "(no value in force)", "since": None,
                         "source": None, "citation": "", "confidence": "", "unit": parameter.unit, "uncertain": None})
            continue
        source = pack.source(dated.source)
        rows.append({
            "name": name,
            "unit": parameter.unit,
            "value": dated.value,
            "value_text": format_value(dated.value) + (f" {parameter.unit}" if parameter.unit in ("days", "weeks", "months", "years") else "") + (f" {parameter.currency}" if parameter.currency and parameter.unit == "money" else ""),
            "since": dated.start.isoformat(),
            "source": dated.source,
            "citation": source.citation if source else "",
            "url": source.url if source else None,
            "confidence": source.confidence if source else "",
            "uncertain": dated.uncertain,
        })
    return rows
