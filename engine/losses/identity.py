"""Which securities a loss rule treats as "the same" as the one sold, and how sure that is.

A security is always identical to itself. Others count only through a scenario identity group: no
authority defines "substantially identical" for two funds on one index, so the group's level and
confidence are data, and every finding that relies on a group says how sure the match is.
"""

from __future__ import annotations

import attrs

from taxpack.engine.core.household import Scenario

LEVELS = ("identical", "substantially_identical")
CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}


@attrs.frozen
class IdentityMatch:
    """Security `security` matches the one sold at `level`, with `confidence`, through `group` (None: itself)."""

    security: str
    level: str
    confidence: str
    group: str | None = None


def accepts(wanted: str, level: str) -> bool:
    """A rule asking for `identical` takes only identical matches; `substantially_identical` takes both."""
    if wanted == "identical":
        return level == "identical"
    return level in LEVELS


def equivalents(scenario: Scenario, security_id: str, wanted: str) -> dict[str, IdentityMatch]:
    """Every security that counts as the same as `security_id` for a rule asking for `wanted`."""
    found = {security_id: IdentityMatch(security_id, "identical", "high")}
    security = scenario.security(security_id)
    gid = security.identity_group
    if not gid:
        return found
    group = scenario.group(gid)
    level = group.level if group is not None else "substantially_identical"
    confidence = group.confidence if group is not None else "low"
    if not accepts(wanted, level):
        return found
    for other in scenario.securities:
        if other.id != security_id and other.identity_group == gid:
            found[other.id] = IdentityMatch(other.id, level, confidence, gid)
    return dict(sorted(found.items()))


def weakest(matches: list[IdentityMatch]) -> IdentityMatch | None:
    """The least certain match among those a finding relies on (how sure the finding is)."""
    if not matches:
        return None
    return min(matches, key=lambda m: (CONFIDENCE_ORDER.get(m.confidence, 0), m.group is None, m.security))
