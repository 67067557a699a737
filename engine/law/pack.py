"""A loaded jurisdiction pack: sources, dated parameters, treatment sections, rules and tests.

Parameters follow OpenFisca: each value is in force from its date until the next one, and carries the
source (statute, regulation, guidance) it comes from. `Pack.value(name, day)` is how every engine stage
reads law; nothing in `engine/` holds a rate, a window or a threshold of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from taxpack.engine.core.documents import Document, JsonPath
from taxpack.engine.core.errors import EvaluationError, Span
from taxpack.engine.core.money import Rounding
from taxpack.engine.law.sections import Sections


@attrs.frozen
class Source:
    """A legal or official source, and how sure the pack's authors are of what they read there."""

    id: str
    citation: str
    confidence: str  # verified | secondary | unverified | open
    url: str | None = None
    note: str | None = None


@attrs.frozen
class DatedValue:
    """One value of a parameter, in force from `start` until the next value's start."""

    start: dt.date
    value: Any
    source: str
    uncertain: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


class LawDay(dt.date):
    """The day whose law a pack gives for a `requested` day outside its coverage (`Pack.law_day`).

    It is that date in every comparison; `requested` lets a parameter say that its last confirmed value
    is applied to a later year whose figure is not yet published (`Parameter.confirmed_until`)."""

    requested: dt.date | None

    def __new__(cls, year: int, month: int, day: int, requested: dt.date | None = None) -> "LawDay":
        made = super().__new__(cls, year, month, day)
        made.requested = requested
        return made

    def __reduce__(self) -> tuple[Any, ...]:
        return (LawDay, (self.year, self.month, self.day, self.requested))


def requested_day(day: dt.date) -> dt.date:
    """The day a law day was asked for (the day itself for an ordinary date)."""
    return getattr(day, "requested", None) or day


@attrs.frozen
class Parameter:
    """A named, dated legal value: a rate, threshold, window or allowance.

    `confirmed_until` (optional) is the last day the values are confirmed by a publication: an indexed
    amount read for a later day (a pack covering a year not yet published, or a horizon past the pack's
    coverage) is its last value, with a caveat saying so."""

    name: str
    description: str
    unit: str
    values: tuple[DatedValue, ...]
    by: str | None = None
    currency: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)
    confirmed_until: dt.date | None = None

    def at(self, day: dt.date) -> DatedValue | None:
        """The value in force on `day`, or None when none is (before the first, or ended by null)."""
        current: DatedValue | None = None
        for dated in self.values:
            if dated.start <= day:
                current = dated
            else:
                break
        if current is None or current.value is None:
            return None
        note = self.unpublished(day)
        if note is not None:
            return attrs.evolve(current, uncertain=f"{current.uncertain}; {note}" if current.uncertain else note)
        return current

    def unpublished(self, day: dt.date) -> str | None:
        """The caveat of a value read for a day after `confirmed_until`, or None."""
        asked = requested_day(day)
        if self.confirmed_until is None or asked <= self.confirmed_until:
            return None
        return (f"{self.name}: the {self.confirmed_until.year} value applied to {asked.year}: not yet published "
                f"(confirmed until {self.confirmed_until.isoformat()})")


@attrs.frozen
class Pack:
    """A validated pack. `data` is the validated document; `parameters` and `sections` are its typed views."""

    id: str
    kind: str
    title: str
    version: str
    coverage_from: dt.date
    coverage_to: dt.date
    sha256: str
    data: Mapping[str, Any] = attrs.field(eq=False, repr=False)
    document: Document = attrs.field(eq=False, repr=False)
    sources: Mapping[str, Source] = attrs.field(eq=False, repr=False)
    parameters: Mapping[str, Parameter] = attrs.field(eq=False, repr=False)
    sections: Sections = attrs.field(eq=False, repr=False)
    path: str = ""
    jurisdiction: str | None = None
    currency: str | None = None
    rounding: Rounding = Rounding()

    @property
    def ref(self) -> str:
        """`id@version`, the name under which findings cite this pack."""
        return f"{self.id}@{self.version}"

    def section(self, name: str) -> Any:
        """A section as written in the document: for `rules`, `tests` and the comparisons of raw documents
        (`pack diff`). The engine reads the other sections through `sections`."""
        return self.data.get(name)

    def span(self, path: JsonPath) -> Span:
        return self.document.span(path)

    def law_day(self, day: dt.date) -> dt.date:
        """The date whose values the pack gives for `day`: a day before the coverage reads its first
        values, a day after it its last (history and horizons reach beyond what a pack covers); that
        last day remembers the day asked for (`LawDay`), so an indexed amount confirmed only until then
        says it is applied to a later year."""
        if day > self.coverage_to:
            last = self.coverage_to
            return LawDay(last.year, last.month, last.day, requested=requested_day(day))
        return max(day, self.coverage_from)

    def covers(self, day: dt.date) -> bool:
        return self.coverage_from <= day <= self.coverage_to

    def require_coverage(self, day: dt.date, span: Span | None = None) -> None:
        if not self.covers(day):
            raise EvaluationError(
                f"no pack covers {day.isoformat()} for {self.jurisdiction or self.id}: pack {self.ref} covers "
                f"{self.coverage_from.isoformat()} to {self.coverage_to.isoformat()}",
                span,
            )

    def value(self, name: str, day: dt.date, key: str | None = None, span: Span | None = None) -> DatedValue:
        """The dated value of parameter `name` on `day` (for a keyed parameter, the entry `key`)."""
        parameter = self.parameters.get(name)
        if parameter is None:
            raise EvaluationError(f"pack {self.ref} has no parameter '{name}'", span)
        dated = parameter.at(day)
        if dated is None:
            raise EvaluationError(
                f"pack {self.ref}: parameter '{name}' has no value in force on {day.isoformat()}", span
            )
        if key is not None:
            table = dated.value
            if not isinstance(table, Mapping) or key not in table:
                raise EvaluationError(
                    f"pack {self.ref}: parameter '{name}' has no entry '{key}' on {day.isoformat()}", span
                )
            return attrs.evolve(dated, value=table[key])
        return dated

    def resolve(self, value: Any, day: dt.date, key: str | None = None) -> Any:
        """A section field: a literal, or `{param: name}` resolved to its value on `day`."""
        if isinstance(value, Mapping) and set(value) == {"param"}:
            return self.value(value["param"], day, key).value
        return value

    def resolve_dated(self, value: Any, day: dt.date, key: str | None = None) -> DatedValue | None:
        """Like `resolve`, but keeps the source of a parameter value (None for a literal)."""
        if isinstance(value, Mapping) and set(value) == {"param"}:
            return self.value(value["param"], day, key)
        return None

    def source(self, sid: str | None) -> Source | None:
        return self.sources.get(sid) if sid else None

    def citation(self, sid: str | None) -> str:
        source = self.source(sid)
        return source.citation if source else ""
