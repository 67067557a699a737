"""The content hash of a pack: SHA-256 of its canonical form.

Canonical form = the parsed pack (and its test files) as JSON with sorted keys, decimals as strings
and dates as ISO text. Reformatting or editing comments leaves the hash unchanged; any change of
meaning changes it. Findings and audit records quote it so a decision can be replayed exactly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any


def canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, Decimal)):
        # 1, 1.0 and 1.00 mean the same number: one canonical text for all of them.
        number = Decimal(value).normalize()
        return {"$n": format(number, "f")}
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
