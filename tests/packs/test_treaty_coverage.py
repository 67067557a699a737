"""The bundled treaty table covers every ordered pair (source country, residence country) of the bundled country packs.

An invariant of the data, not of the code: a new country pack without its rows, a row dropped or ended before the end of
the coverage, or a row citing a source the treaties pack does not hold fails here. "No treaty" rows (no `relief`) must
carry the source country's statutory rate, as the pack's header says.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import bundled_packs
from tests.expected import REPO_ROOT

PACKS = bundled_packs()
COUNTRIES = sorted(p.jurisdiction for p in PACKS if p.kind == "jurisdiction" and p.jurisdiction)
(TREATIES,) = [p for p in PACKS if p.kind == "treaties"]
ROWS = TREATIES.sections.treaties or ()
DAYS = (dt.date(2024, 1, 1), dt.date(2025, 6, 30), dt.date(2026, 12, 31))  # the coverage of every pack: start, middle, end


def _by_jurisdiction() -> dict[str, Pack]:
    return {p.jurisdiction: p for p in PACKS if p.kind == "jurisdiction" and p.jurisdiction}


def test_every_country_folder_is_a_pack() -> None:
    folders = sorted(d.name for d in (REPO_ROOT / "jurisdictions").iterdir() if (d / "pack.yaml").is_file() and d.name != "treaties")
    assert len(folders) == len(COUNTRIES) == 31


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_every_ordered_pair_has_a_row_in_force(day: dt.date) -> None:
    in_force = {(r.source_country, r.resident_of) for r in ROWS if r.in_force(day)}
    missing = [(s, r) for s in COUNTRIES for r in COUNTRIES if s != r and (s, r) not in in_force]
    assert missing == []
    assert len(in_force) == len(COUNTRIES) * (len(COUNTRIES) - 1) == 930


def test_no_pair_has_two_rows_in_force_at_once() -> None:
    for day in DAYS:
        pairs = [(r.source_country, r.resident_of) for r in ROWS if r.in_force(day)]
        assert len(pairs) == len(set(pairs))


def test_every_row_is_cited_and_a_rate() -> None:
    for row in ROWS:
        source = TREATIES.source(row.source)
        assert source is not None and source.citation, (row.source_country, row.resident_of)
        assert source.confidence in ("verified", "secondary", "unverified")
        for day in DAYS:
            if row.in_force(day):
                assert Decimal(0) <= Decimal(str(TREATIES.resolve(row.dividends, day))) <= 1
        for case in row.accounts.values():
            assert TREATIES.source(case.source) is not None


def test_a_pair_without_a_treaty_carries_the_statutory_rate() -> None:
    """Rows with no `relief` route (no treaty in force, or the treaty sets no limit): the source pack's own rate."""
    packs = _by_jurisdiction()
    no_treaty = [r for r in ROWS if r.relief is None]
    assert {("US", "HR"), ("FR", "DK"), ("ES", "DK")} <= {(r.source_country, r.resident_of) for r in no_treaty}
    for row in no_treaty:
        source = packs[row.source_country]
        withholding = source.sections.withholding
        assert withholding is not None and withholding.dividends_non_resident is not None
        day = row.start or DAYS[0]
        statutory = Decimal(str(source.resolve(withholding.dividends_non_resident, source.law_day(day))))
        assert Decimal(str(TREATIES.resolve(row.dividends, day))) == statutory, (row.source_country, row.resident_of)
