"""An exact, quick schema check of one transaction or trade row.

jsonschema is thorough but slow on a history of 10,000 rows. This function accepts a row only when
`schemas/scenario.schema.json` would (same patterns, applied the same way with `re.search`); any row it
does not accept goes to jsonschema, which reports the errors. So it can only make validation faster,
never more lenient: tests/scenarios/test_fastcheck.py checks it against jsonschema on generated rows.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from taxpack.engine.core.schemas import DATE_PATTERN

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_DATE = re.compile(DATE_PATTERN)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_UNSIGNED = re.compile(r"^\d{1,15}(\.\d{1,20})?$")  # the schema's POSITIVE and NONNEG text (tools/gen_scenario_schema.py)
_REQUIRED = ("id", "account", "security", "date", "side", "quantity", "price")
_ALLOWED = frozenset(_REQUIRED + ("fees", "currency", "settlement_date", "lots", "in_kind", "note", "pool"))
_METHODS = frozenset(("fifo", "lifo", "hifo", "lofo", "average"))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _id(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 1 and _ID.search(value) is not None


def _positive(value: Any) -> bool:
    if _is_number(value):
        return value > 0
    return isinstance(value, str) and _UNSIGNED.search(value) is not None


def _non_negative(value: Any) -> bool:
    if _is_number(value):
        return value >= 0
    return isinstance(value, str) and _UNSIGNED.search(value) is not None


def _date(value: Any) -> bool:
    # A YAML date is written back as YYYY-MM-DD before jsonschema sees it, which the pattern accepts.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return 1 <= value.year <= 9999
    if not (isinstance(value, str) and _DATE.search(value) is not None):
        return False
    try:  # the form alone is not enough: "2024-02-31" goes to jsonschema, which says it is no day
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def transaction_ok(row: Any) -> bool:
    """True only if the schema accepts `row` (as parsed: dates as `date` objects or ISO text)."""
    if not isinstance(row, dict):
        return False
    for key in _REQUIRED:
        if key not in row:
            return False
    for key in row:
        if key not in _ALLOWED:
            return False
    if not (_id(row["id"]) and _id(row["account"]) and _id(row["security"])):
        return False
    if not _date(row["date"]):
        return False
    if row["side"] not in ("buy", "sell") or not isinstance(row["side"], str):
        return False
    if not (_positive(row["quantity"]) and _non_negative(row["price"])):
        return False
    if "fees" in row and not _non_negative(row["fees"]):
        return False
    if "currency" in row and not (isinstance(row["currency"], str) and _CURRENCY.search(row["currency"])):
        return False
    if "settlement_date" in row and not _date(row["settlement_date"]):
        return False
    if "in_kind" in row and not isinstance(row["in_kind"], bool):
        return False
    if "note" in row and not isinstance(row["note"], str):
        return False
    if "pool" in row and not _id(row["pool"]):
        return False
    if "lots" in row:
        lots = row["lots"]
        if isinstance(lots, str):
            return lots in _METHODS
        if not isinstance(lots, list) or not lots:
            return False
        for item in lots:
            if not isinstance(item, dict) or set(item) != {"transaction", "quantity"}:
                return False
            if not (_id(item["transaction"]) and _positive(item["quantity"])):
                return False
    return True


FAST_ITEMS = {"transactions": transaction_ok, "trades": transaction_ok}
