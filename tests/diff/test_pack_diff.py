"""`diff_packs` on pairs of small packs, one pair per kind of change a compliance reviewer must see.

Each pair `tests/diff/pairs/CASE/{old,new}.yaml` differs by exactly the change its name says (the old
side is the same pack in every case), so each test can assert the whole structured diff: the change
it expects is there, with the right dates and values, and nothing else is reported.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from taxpack.engine.law.diff import ConditionChange, FieldChange, PackDiff, ValueChange, diff_conditions, diff_packs
from taxpack.engine.law.load import load_pack

PAIRS = Path(__file__).resolve().parent / "pairs"
CASES = sorted(p.name for p in PAIRS.iterdir() if p.is_dir())


def pair(case: str) -> PackDiff:
    return diff_packs(load_pack(PAIRS / case / "old.yaml"), load_pack(PAIRS / case / "new.yaml"))


def kinds(diff: PackDiff) -> dict[str, int]:
    """How many entries each kind of change has (0s dropped), plus whether the version moved."""
    counts = {k: n for k, n in diff.counts().items() if n}
    if diff.version:
        counts["version"] = 1
    return counts


def test_every_case_is_a_valid_pair_on_the_same_old_pack() -> None:
    olds = {(PAIRS / c / "old.yaml").read_text(encoding="utf-8") for c in CASES}
    assert len(olds) == 1
    assert len(CASES) >= 12


def test_reformatting_and_comments_are_equivalent() -> None:
    diff = pair("reformat")
    assert diff.equivalent
    assert kinds(diff) == {}
    # The two files really are written differently (else the test would prove nothing).
    old = (PAIRS / "reformat" / "old.yaml").read_text(encoding="utf-8")
    new = (PAIRS / "reformat" / "new.yaml").read_text(encoding="utf-8")
    assert old != new and "0.3," in new and "10000.00" in new and "# the main act" in new


def test_every_other_case_differs() -> None:
    for case in CASES:
        diff = pair(case)
        assert diff.equivalent == (case == "reformat"), case
        if case != "reformat":
            assert kinds(diff), f"{case}: hashes differ but no change is reported"


def test_version_bump_only() -> None:
    diff = pair("version_bump")
    assert not diff.equivalent
    assert diff.version == ("1.0.0", "1.0.1")
    assert kinds(diff) == {"version": 1}


def test_metadata_title_and_coverage() -> None:
    diff = pair("metadata_changed")
    assert kinds(diff) == {"metadata": 2}
    assert diff.metadata == (
        FieldChange("/title", "changed", "Test jurisdiction XA", "Test jurisdiction XA - capital gains of individuals"),
        FieldChange("/coverage/to", "changed", dt.date(2025, 12, 31), dt.date(2026, 12, 31)),
    )


def test_rate_change_starting_in_the_middle_of_a_year() -> None:
    diff = pair("rate_mid_year")
    assert kinds(diff) == {"parameters": 1}
    (p,) = diff.parameters
    assert (p.name, p.change, p.unit) == ("capital_gains.rate", "changed", "rate")
    # A new dated value from 1 July 2025: the old pack had 0.30 in force that day, since 2024-01-01.
    assert p.values == (
        ValueChange("2025-07-01", "added", Decimal("0.30"), Decimal("0.33"), "act-1", "act-2", old_since="2024-01-01", until=None),
    )
    assert p.used_by == ("/capital_gains/estimate/rate",)


def test_value_ended() -> None:
    diff = pair("value_ended")
    assert kinds(diff) == {"parameters": 1}
    (p,) = diff.parameters
    assert p.name == "solidarity.rate"
    (v,) = p.values
    assert (v.start, v.change, v.old, v.new, v.old_since, v.new_source) == ("2026-01-01", "ended", Decimal("0.055"), None, "2024-01-01", "act-2")


def test_parameter_added_and_removed() -> None:
    diff = pair("parameter_added_removed")
    assert kinds(diff) == {"parameters": 2, "sections": 1}
    added, removed = diff.parameters
    assert (added.name, added.change, added.unit, added.currency) == ("capital_gains.annual_allowance", "added", "money", "EUR")
    # Each dated value is listed, with the day before the next start as its last day in force.
    assert [(v.start, v.change, v.new, v.until) for v in added.values] == [
        ("2024-01-01", "added", 1000, "2024-12-31"),
        ("2025-01-01", "added", 1500, None),
    ]
    assert added.used_by == ("/capital_gains/allowance",)
    assert (removed.name, removed.change) == ("solidarity.rate", "removed")
    assert [(v.start, v.old) for v in removed.values] == [("2024-01-01", Decimal("0.055"))]
    assert removed.used_by == ("/capital_gains/estimate/surcharges/soli/rate",)
    (section,) = diff.sections
    assert section.section == "capital_gains"
    assert [(f.path, f.change) for f in section.fields] == [
        ("/capital_gains/allowance", "added"),
        ("/capital_gains/estimate/surcharges", "removed"),
    ]


def test_parameter_description_and_by_changed() -> None:
    diff = pair("parameter_fields")
    assert kinds(diff) == {"parameters": 2}
    rate, soli = diff.parameters
    assert (rate.name, rate.fields, rate.values) == (
        "capital_gains.rate",
        (FieldChange("/description", "changed", "Flat rate on net capital gains", "Flat rate on net capital gains and on fund distributions"),),
        (),
    )
    assert soli.name == "solidarity.rate"
    assert soli.fields == (FieldChange("/by", "added", None, "filing_status"),)
    assert [(v.start, v.change, v.old, v.new) for v in soli.values] == [
        ("2024-01-01", "changed", Decimal("0.055"), {"single": Decimal("0.055"), "married_joint": Decimal("0.055")})]


def test_window_changed() -> None:
    diff = pair("window_changed")
    assert kinds(diff) == {"sections": 1}
    (section,) = diff.sections
    # A duration is compared whole: the reviewer reads "30 days → 61 days", not a nested key.
    assert section.fields == (FieldChange("/loss_rules/xa.repurchase/window/after", "changed", {"days": 30}, {"days": 61}),)


def test_lot_methods_changed() -> None:
    diff = pair("lot_methods")
    assert kinds(diff) == {"sections": 1}
    (section,) = diff.sections
    assert section.fields == (FieldChange("/lots/methods", "changed", ["fifo", "lifo", "hifo", "average"], ["fifo", "average", "specific"]),)


def test_threshold_changed_on_the_same_date_with_its_source() -> None:
    diff = pair("threshold_changed")
    assert kinds(diff) == {"parameters": 1}
    (p,) = diff.parameters
    assert p.name == "large_sale.threshold"
    assert p.values == (ValueChange("2024-01-01", "changed", 10000, 15000, "act-1", "act-2"),)
    # Where the threshold bites: the rule condition that compares proceeds with it.
    assert p.used_by == ("/rules/xa.large_sale/when/all/1/gt",)


def test_rules_added_removed_and_changed_condition_by_condition() -> None:
    diff = pair("rules_changed")
    assert kinds(diff) == {"parameters": 1, "rules": 3}  # the removed rule's threshold parameter went with it
    by_id = {r.id: r for r in diff.rules}
    assert [r.id for r in diff.rules] == ["xa.foreign_fund", "xa.large_sale", "xa.short_sale"]
    assert by_id["xa.large_sale"].change == "removed"
    assert by_id["xa.short_sale"].change == "added"
    changed = by_id["xa.foreign_fund"]
    assert changed.change == "changed"
    assert changed.conditions == (
        ConditionChange("all › any", "account.taxable", "eq", "changed", True, False, new_op="ne"),
        ConditionChange("all", "security.kind", "in", "changed", ["etf", "fund"], ["etf", "fund", "bond"]),
        ConditionChange("all", "trade.value", "ge", "added", None, 5000),
        ConditionChange("all", "security.country", "ne", "removed", "XA", None),
    )
    assert [(f.path, f.old, f.new) for f in changed.then] == [
        ("/then/message", "{security.id} is a foreign fund", "{security.id} is a foreign fund: check the reporting rules first"),
        ("/then/severity", "warning", "blocking"),
        ("/then/source", "act-1", "act-2"),
    ]
    assert changed.structure is None  # the all/any/not tree kept its shape


def test_citation_changed() -> None:
    diff = pair("citation_changed")
    assert kinds(diff) == {"sources": 1, "citations": 1}
    (c,) = diff.citations
    assert c.source == "act-9"
    assert c.old == "Test Act 2024 s.9 - loss on a sale followed by a repurchase"
    assert c.new.startswith("Test Act 2024 s.9(2) as amended")
    # Everything that cites it: the loss rule, the window parameter's value, a test.
    assert c.used_by == ("/loss_rules/xa.repurchase", "/parameters/repurchase.window_before/values/2024-01-01",
                         "/tests/a repurchase within 30 days")


def test_tests_added_removed_and_changed() -> None:
    diff = pair("tests_changed")
    assert kinds(diff) == {"tests": 3}
    assert [(t.name, t.change) for t in diff.tests] == [
        ("a gain at the flat rate", "changed"),
        ("a loss with no repurchase", "added"),
        ("a repurchase within 30 days", "removed"),
    ]
    assert diff.tests[0].fields == (FieldChange("/expect/t1/XA/estimated_tax", "added", None, Decimal("30.00")),)


def test_rich_amendment_reports_each_change_once() -> None:
    diff = pair("rich")
    assert kinds(diff) == {"version": 1, "sources": 1, "citations": 1, "parameters": 1, "sections": 2, "rules": 1, "tests": 1}
    assert diff.version == ("1.0.0", "1.1.0")
    assert [s.section for s in diff.sections] == ["lots", "loss_rules"]


def test_diff_is_deterministic_and_symmetric_in_what_it_names() -> None:
    for case in CASES:
        a, b = pair(case), pair(case)
        assert a == b
        back = diff_packs(load_pack(PAIRS / case / "new.yaml"), load_pack(PAIRS / case / "old.yaml"))
        assert kinds(back) == kinds(a), case


@pytest.mark.parametrize("old, new, expected", [
    # The same condition moved inside the list is no change.
    ({"all": [{"fact": "a.b", "eq": 1}, {"fact": "c.d", "eq": 2}]}, {"all": [{"fact": "c.d", "eq": 2}, {"fact": "a.b", "eq": 1}]}, ()),
    # 1 and 1.00 are one number.
    ({"fact": "trade.gain", "lt": 0}, {"fact": "trade.gain", "lt": Decimal("0.00")}, ()),
    # Under `not`, a leaf is not the same condition as one directly under `all`.
    ({"all": [{"fact": "x.y", "eq": 1}]}, {"all": [{"not": {"fact": "x.y", "eq": 1}}]},
     (ConditionChange("all › not", "x.y", "eq", "added", None, 1), ConditionChange("all", "x.y", "eq", "removed", 1, None))),
])
def test_condition_alignment(old: dict, new: dict, expected: tuple) -> None:
    assert diff_conditions(old, new) == expected


def test_a_change_of_structure_is_shown_whole() -> None:
    from taxpack.engine.law.diff import _diff_rules

    rule = {"id": "r", "then": {"code": "c", "severity": "info", "message": "m", "source": "s"}}
    old = dict(rule, when={"all": [{"fact": "a.b", "eq": 1}, {"fact": "c.d", "eq": 2}]})
    new = dict(rule, when={"any": [{"fact": "a.b", "eq": 1}, {"fact": "c.d", "eq": 2}]})
    (change,) = _diff_rules([old], [new])
    assert change.structure == ("all(a.b eq 1, c.d eq 2)", "any(a.b eq 1, c.d eq 2)")


def test_reordering_rules_is_reported() -> None:
    from taxpack.engine.law.diff import _diff_rules

    then = {"code": "c", "severity": "info", "message": "m", "source": "s"}
    a = {"id": "a", "when": {"fact": "x.y", "eq": 1}, "then": then}
    b = {"id": "b", "when": {"fact": "x.y", "eq": 2}, "then": then}
    (change,) = _diff_rules([a, b], [b, a])
    assert change.change == "reordered"
    assert change.fields == (FieldChange("/rules", "reordered", ["a", "b"], ["b", "a"]),)
