"""Building findings that explain themselves: pack, version, hash, citation, confidence, facts.

Engine stages (lots, loss rules, withholding, estimates) raise findings through `make_finding`, so
every finding names the rule, the pack id@version and sha256, and the citation and URL of the source
it rests on; a source that is less than verified, or a value marked uncertain, adds a caveat.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from taxpack.engine.core.household import Finding
from taxpack.engine.law.pack import Pack


def caveat_for(pack: Pack, source_id: str | None, extra: str | None = None) -> str | None:
    """The caveat a finding carries: the pack's own `uncertain` text and any weak source confidence."""
    parts: list[str] = []
    if extra:
        parts.append(extra)
    source = pack.source(source_id)
    if source is not None and source.confidence != "verified":
        parts.append(f"source confidence: {source.confidence} ({source.citation})")
    return "; ".join(parts) if parts else None


def make_finding(
    pack: Pack,
    *,
    code: str,
    severity: str,
    message: str,
    rule: str,
    source: str | None,
    facts: Mapping[str, Any] | None = None,
    amount: Decimal | None = None,
    uncertain: str | None = None,
    conditions: tuple[Mapping[str, Any], ...] = (),
) -> Finding:
    src = pack.source(source)
    return Finding(
        code=code,
        severity=severity,
        message=message,
        rule=rule,
        pack=pack.ref,
        pack_sha256=pack.sha256,
        citation=src.citation if src else "",
        url=src.url if src else None,
        confidence=src.confidence if src else "open",
        caveat=caveat_for(pack, source, uncertain),
        facts=dict(sorted((facts or {}).items())),
        conditions=conditions,
        amount=amount,
    )
