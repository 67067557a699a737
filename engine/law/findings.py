"""Building findings that explain themselves: pack, version, hash, citation, confidence, facts.

Engine stages (lots, loss rules, withholding, estimates) raise findings through `make_finding`, so
every finding names the rule, the pack id@version and sha256, and the citation and URL of the source
it rests on; a source that is less than verified, or a value marked uncertain, adds a caveat.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping, Sequence

from taxpack.engine.core.household import Finding
from taxpack.engine.law.pack import DatedValue, Pack


def caveat_for(pack: Pack, source_id: str | None, extra: str | None = None, more: Sequence[str] = ()) -> str | None:
    """The caveat a finding carries: the pack's own `uncertain` text, any weak source confidence, and
    the `uncertain` notes of the dated values it relied on (`more`), each once."""
    parts: list[str] = []
    if extra:
        parts.append(extra)
    source = pack.source(source_id)
    if source is not None and source.confidence != "verified":
        parts.append(f"source confidence: {source.confidence} ({source.citation})")
    for note in more:
        if note not in parts:
            parts.append(note)
    return "; ".join(parts) if parts else None


def value_caveat(pack: Pack, name: str, dated: DatedValue | None) -> str | None:
    """What an estimate that uses parameter `name`'s value must say about it: its `uncertain` note (which also
    says when the value is read past its `confirmed_until`) and its source when less than verified."""
    if dated is None:
        return None
    parts = [dated.uncertain] if dated.uncertain else []
    source = pack.source(dated.source)
    if source is not None and source.confidence != "verified":
        parts.append(f"{name}: source confidence: {source.confidence} ({source.citation})")
    return "; ".join(parts) or None


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
    caveats: Sequence[str] = (),
    conditions: tuple[Mapping[str, Any], ...] = (),
) -> Finding:
    """The one way a finding is made: it names the rule, the pack (id@version, sha256), the source it rests
    on with its confidence, the facts it saw; `uncertain` and `caveats` (uncertain values it used) and a
    source less than verified become its caveat."""
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
        caveat=caveat_for(pack, source, uncertain, caveats),
        facts=dict(sorted((facts or {}).items())),
        conditions=conditions,
        amount=amount,
    )
