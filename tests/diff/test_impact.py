"""The impact replay: which trades a pack change touches, lens by lens, and the rules responsible.

The comparison of two `taxpack check` results is tested on results written by hand in the JSON shape
`check` publishes (issue 6). The end-to-end replay runs the real `taxpack check`; it is skipped, with
the reason, where `taxpack.engine.consequences.check` cannot be imported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxpack.engine.law.diff import diff_packs
from taxpack.engine.law.load import load_pack
from taxpack.engine.review.impact import FieldDelta, LensImpact, compare_results, replay
from tests.expected import REPO_ROOT, run_cli

HERE = Path(__file__).resolve().parent
IMPACT = HERE / "impact"



def packs() -> tuple[Any, Any]:
    return load_pack(IMPACT / "old.yaml"), load_pack(IMPACT / "new.yaml")


def consequence(gain: str, findings: list[dict[str, str]] = (), **extra: Any) -> dict[str, Any]:  # type: ignore[assignment]
    return {"jurisdiction": "XA", "currency": "EUR", "proceeds": "6000.00", "cost": "4000.00", "gain": gain,
            "disallowed_loss": "0.00", "term": "none", "lots": [{"transaction": "b1", "quantity": "400"}],
            "findings": list(findings), **extra}


LARGE = {"code": "large_sale", "severity": "info", "message": "6000.00 is above the reporting threshold",
         "rule": "xa.large_sale", "citation": "Test Act 2024 s.1 - capital gains"}


def result(*trades: tuple[str, list[dict[str, Any]]], version: str = "1.0.0") -> dict[str, Any]:
    return {"packs": [{"id": "xa", "version": version, "sha256": version * 8}],
            "trades": [{"id": tid, "consequences": cons} for tid, cons in trades], "positions": []}


# ------------------------------------------------------------------------------------------------
# Comparing two results (no engine needed)
# ------------------------------------------------------------------------------------------------


def test_same_consequences_under_two_versions_are_no_impact() -> None:
    old, new = packs()
    diff = diff_packs(old, new)
    # Only the pack identity differs (it always does between versions), and "2000.0" is "2000.00".
    a = result(("t1", [consequence("2000.00", pack="xa@1.0.0", pack_sha256="a" * 64)]))
    b = result(("t1", [consequence("2000.0", pack="xa@1.0.1", pack_sha256="b" * 64)]), version="1.0.1")
    assert compare_results(a, b, diff, new) == ()


def test_a_finding_that_appears_names_its_rule_and_the_changed_parameter() -> None:
    old, new = packs()
    diff = diff_packs(old, new)
    a = result(("t1", [consequence("2000.00")]), ("t2", [consequence("2000.00")]))
    b = result(("t1", [consequence("2000.00")]), ("t2", [consequence("2000.00", [LARGE])]))
    (lens,) = compare_results(a, b, diff, new)
    assert (lens.trade, lens.jurisdiction, lens.change, lens.fields) == ("t2", "XA", "changed", ())
    (finding,) = lens.findings
    assert (finding.change, finding.code, finding.rule, finding.severity) == ("added", "large_sale", "xa.large_sale", "info")
    assert lens.responsible == ("xa.large_sale", "/parameters/large_sale.threshold")


def test_figures_before_and_after_and_a_lens_that_disappears() -> None:
    old, new = packs()
    diff = diff_packs(old, new)
    us = dict(consequence("100.00"), jurisdiction="US", currency="USD")
    a = result(("t1", [consequence("2000.00", estimated_tax="600.00"), us]))
    b = result(("t1", [consequence("1800.00", estimated_tax="594.00", term="long")]))
    impacts = compare_results(a, b, diff, new)
    assert [(i.jurisdiction, i.change) for i in impacts] == [("US", "disappeared"), ("XA", "changed")]
    xa = impacts[1]
    assert xa.fields == (FieldDelta("gain", "2000.00", "1800.00"), FieldDelta("term", "none", "long"),
                         FieldDelta("estimated_tax", "600.00", "594.00"))
    # The diffed pack is XA's: its changed paths are named for the XA lens only.
    assert impacts[0].responsible == ()
    assert xa.responsible == ("/parameters/large_sale.threshold",)


def test_lots_are_compared_lot_by_lot() -> None:
    old, new = packs()
    diff = diff_packs(old, new)
    lots_a = [{"lot": "b1", "quantity": "40", "cost": "12000.00", "pack": "xa@1.0.0"}, {"lot": "b2", "quantity": "10", "cost": "3000.00"}]
    lots_b = [{"lot": "b1", "quantity": "30", "cost": "9000.00", "pack": "xa@1.0.1"}, {"lot": "b3", "quantity": "10", "cost": "2000.00"}]
    (lens,) = compare_results(result(("t1", [consequence("1.00", lots=lots_a)])), result(("t1", [consequence("1.00", lots=lots_b)])), diff, new)
    assert lens.fields == (
        FieldDelta("lots[b1].cost", "12000.00", "9000.00"),
        FieldDelta("lots[b1].quantity", "40", "30"),
        FieldDelta("lots[b3]", None, '{"cost": "2000.00", "lot": "b3", "quantity": "10"}'),
        FieldDelta("lots[b2]", '{"cost": "3000.00", "lot": "b2", "quantity": "10"}', None),
    )


def test_a_finding_whose_citation_changes_is_reported_changed() -> None:
    old, new = packs()
    diff = diff_packs(old, new)
    moved = dict(LARGE, citation="Test Act 2024 s.1(2)")
    (lens,) = compare_results(result(("t2", [consequence("1.00", [LARGE])])), result(("t2", [consequence("1.00", [moved])])), diff, new)
    (finding,) = lens.findings
    assert finding.change == "changed"
    assert finding.fields == (FieldDelta("citation", "Test Act 2024 s.1 - capital gains", "Test Act 2024 s.1(2)"),)


# ------------------------------------------------------------------------------------------------
# End to end, through the real `taxpack check`
# ------------------------------------------------------------------------------------------------


def test_moving_a_threshold_changes_exactly_the_trades_that_cross_it() -> None:
    # Proceeds: t1 300 x 10 = 3,000; t2 400 x 15 = 6,000; t3 200 x 60 = 12,000 EUR. The reporting
    # threshold moves from 10,000 to 5,000 EUR: only t2 crosses it (t3 was and stays above, t1 below).
    old, new = packs()
    diff = diff_packs(old, new)
    (scenario,) = replay([IMPACT / "scenario.yaml"], old, new, diff)
    assert scenario.trades == 3
    assert scenario.trades_changed == ("t2",)
    (lens,) = scenario.lenses
    assert (lens.trade, lens.jurisdiction, lens.change, lens.fields) == ("t2", "XA", "changed", ())
    assert [(f.change, f.code, f.rule) for f in lens.findings] == [("added", "large_sale", "xa.large_sale")]
    assert "xa.large_sale" in lens.responsible and "/parameters/large_sale.threshold" in lens.responsible


def test_an_equivalent_pack_changes_no_trade() -> None:
    old = load_pack(IMPACT / "old.yaml")
    same = load_pack(HERE / "pairs" / "reformat" / "new.yaml")
    (scenario,) = replay([IMPACT / "scenario.yaml"], old, same, diff_packs(old, same))
    assert scenario.lenses == ()


def test_cli_impact_in_every_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    args = ["pack", "diff", "tests/diff/impact/old.yaml", "tests/diff/impact/new.yaml", "--impact", "tests/diff/impact/scenario.yaml"]
    text = run_cli(*args)
    assert text.exit_code == 1, text.output
    assert "tests/diff/impact/scenario.yaml: 1 of 3 trade(s) change" in text.output
    assert "trade t2, lens XA" in text.output and "+ finding large_sale" in text.output
    data = json.loads(run_cli(*args, "--format", "json").output)
    (impact,) = data["impact"]
    assert impact["trades_changed"] == ["t2"]
    markdown = run_cli(*args, "--format", "markdown").output
    assert "### Impact on scenarios" in markdown and "| `t2` | XA | finding `large_sale` added (rule `xa.large_sale`) | (none) | info: 6000.00 is above the reporting threshold |" in markdown
    python = run_cli(*args, "--format", "json", "--rules-backend", "python").output
    assert json.loads(python)["impact"] == data["impact"]


def test_lens_impact_is_plain_data() -> None:
    # The JSON renderer reads these fields by name: keep them.
    assert [f.name for f in LensImpact.__attrs_attrs__] == ["trade", "jurisdiction", "change", "fields", "findings", "responsible",
                                                                "moved_by", "together"]


# ------------------------------------------------------------------------------------------------
# Which change moved which trade (each change replayed alone)
# ------------------------------------------------------------------------------------------------


def test_each_changed_trade_is_attributed_to_the_change_that_moved_it() -> None:
    # new_two.yaml: the threshold 10,000 -> 5,000 EUR, the flat rate 0.30 -> 0.25, act-9 re-cited.
    # Gains (bought at 10): t1 0, t2 400 x 5 = 2,000, t3 200 x 50 = 10,000 EUR; tax with the 5.5%
    # surcharge: t2 2,000 x 0.30 x 1.055 = 633.00 -> 2,000 x 0.25 x 1.055 = 527.50, t3 3,165.00 -> 2,637.50.
    old, new = load_pack(IMPACT / "old.yaml"), load_pack(IMPACT / "new_two.yaml")
    diff = diff_packs(old, new)
    assert len(diff.changed_paths()) == 3
    (scenario,) = replay([IMPACT / "scenario.yaml"], old, new, diff)
    assert scenario.trades_changed == ("t2", "t3")
    t2, t3 = scenario.lenses
    assert FieldDelta("estimated_tax", "633.00", "527.50") in t2.fields
    assert [(f.change, f.code) for f in t2.findings] == [("added", "large_sale")]
    assert t2.moved_by == ("/parameters/capital_gains.rate", "/parameters/large_sale.threshold") and not t2.together
    assert t3.fields == (FieldDelta("estimated_tax", "3165.00", "2637.50"), FieldDelta("net_tax", "3165.00", "2637.50"))
    assert t3.moved_by == ("/parameters/capital_gains.rate",) and not t3.together
    assert t3.responsible == ("/parameters/capital_gains.rate",)


def test_changes_that_move_a_trade_only_together_are_said_so() -> None:
    # new_rule.yaml adds a rule and the parameter it reads (4,000 EUR): only t1 (3,000 EUR) is below it.
    old, new = load_pack(IMPACT / "old.yaml"), load_pack(IMPACT / "new_rule.yaml")
    diff = diff_packs(old, new)
    (scenario,) = replay([IMPACT / "scenario.yaml"], old, new, diff)
    (t1,) = scenario.lenses
    assert t1.trade == "t1" and [(f.change, f.code) for f in t1.findings] == [("added", "small_sale")]
    assert t1.together and set(t1.moved_by) == {"/parameters/small_sale.threshold", "/rules/xa.small_sale"}


def test_a_change_applied_alone_is_that_change_only() -> None:
    from taxpack.engine.law.diff import same
    from taxpack.engine.review.impact import apply_change, pack_with_change

    old, new = load_pack(IMPACT / "old.yaml"), load_pack(IMPACT / "new_two.yaml")
    alone = pack_with_change(old, new, "/parameters/capital_gains.rate")
    # The one-change pack differs from the old by that parameter only, and from the new by the others.
    assert diff_packs(old, alone).changed_paths() == ("/parameters/capital_gains.rate",)
    assert set(diff_packs(alone, new).changed_paths()) == {"/sources/act-9", "/parameters/large_sale.threshold"}
    # Keyed lists are addressed by their entries' keys: a section field inside a loss rule.
    data = apply_change(old.data, {**old.data, "loss_rules": [dict(old.data["loss_rules"][0], window={"before": {"days": 5}, "after": {"days": 61}})]},
                        "/loss_rules/xa.repurchase/window/after")
    assert same(data["loss_rules"][0]["window"]["after"], {"days": 61})
    assert same(data["loss_rules"][0]["window"]["before"], old.data["loss_rules"][0]["window"]["before"])


def test_cli_says_when_changes_act_only_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    args = ["pack", "diff", "tests/diff/impact/old.yaml", "tests/diff/impact/new_rule.yaml", "--impact", "tests/diff/impact/scenario.yaml"]
    text = run_cli(*args).output
    assert "responsible: xa.small_sale, /parameters/small_sale.threshold, /rules/xa.small_sale (only together: no change alone moves it)" in text
    (impact,) = json.loads(run_cli(*args, "--format", "json").output)["impact"]
    (lens,) = impact["lenses"]
    assert lens["together"] is True and sorted(lens["moved_by"]) == ["/parameters/small_sale.threshold", "/rules/xa.small_sale"]
