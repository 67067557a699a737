"""Hand cases for every operator, absent facts, dated parameters, money at the boundary and nesting.

Each case runs on both backends. The expected outcomes follow from the synthetic pack's own text
(tests/rules/data/synthetic.yaml) and the documented semantics (docs/pack-format.md "Rules",
docs/rules-evaluation.md), not from running the code.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest

from taxpack.engine.core.errors import ErrorList, EvaluationError
from taxpack.engine.law.load import load_pack
from taxpack.engine.rules.evaluator import get_evaluator

from .helpers import DATA, backends, synthetic

JUNE_30 = dt.date(2025, 6, 30)
JULY_1 = dt.date(2025, 7, 1)
PACK = synthetic()


@pytest.fixture(params=backends())
def fired(request: pytest.FixtureRequest) -> Any:
    evaluator = get_evaluator(request.param)

    def run(facts: dict[str, Any], day: dt.date = JUNE_30) -> list[str]:
        # syn.always fires on every evaluation (exists true OR exists false); leave it out of the cases.
        return [h.rule_id for h in evaluator.evaluate(PACK, facts, day) if h.rule_id != "syn.always"]

    return run


def test_nothing_known_fires_only_the_tautology(fired: Any) -> None:
    assert fired({}) == []


@pytest.mark.parametrize(("gain", "day", "hit"), [
    # threshold -1000 until 30 June, -500.00 from 1 July; `le` includes the threshold itself
    (D("-700"), JUNE_30, False), (D("-700"), JULY_1, True),
    (D("-1000"), JUNE_30, True), (-1000, JUNE_30, True), (D("-1000.00"), JUNE_30, True),
    (D("-999.999"), JUNE_30, False), (D("-1000.001"), JUNE_30, True),
    (D("-500.00"), JULY_1, True), (D("-499.99"), JULY_1, False), (D("-500.0000001"), JULY_1, True),
    (D("-499.9999999"), JULY_1, False), (D("-1E+30"), JULY_1, True), (D("1E+30"), JULY_1, False),
])
def test_param_threshold_changes_on_its_date(fired: Any, gain: Any, day: dt.date, hit: bool) -> None:
    assert ("syn.loss_threshold" in fired({"trade.gain": gain}, day)) is hit


@pytest.mark.parametrize(("proceeds", "hit"), [
    (D("1000"), True), (1000, True), (D("1000.000"), True), (D("1E+3"), True),
    (D("1000.001"), False), (D("999.999"), False), (D("1000.0000000000001"), False), (D("-1000"), False),
])
def test_eq_money_is_exact(fired: Any, proceeds: Any, hit: bool) -> None:
    assert ("syn.eq_money" in fired({"trade.proceeds": proceeds})) is hit


@pytest.mark.parametrize(("cost", "ne", "gt"), [
    # the limit is 100000.005, finer than the pack's 0.01 quantum: compared exactly all the same
    (D("100000.005"), False, False), (D("100000.0050"), False, False), (D("100000.00"), True, False),
    (D("100000.01"), True, True), (D("100000.0051"), True, True), (D("100000.0049"), True, False),
    (100000, True, False), (100001, True, True),
])
def test_precision_finer_than_the_quantum(fired: Any, cost: Any, ne: bool, gt: bool) -> None:
    hits = fired({"household.foreign_property_cost": cost})
    assert ("syn.ne_money_param" in hits, "syn.gt_money_param" in hits) == (ne, gt)


@pytest.mark.parametrize(("value", "hit"), [
    (D("-0.005"), False), (D("-0.0051"), True), (D("-0.01"), True), (D("0"), False), (D("-0.004999"), False), (-1, True),
])
def test_lt_at_the_boundary(fired: Any, value: Any, hit: bool) -> None:
    assert ("syn.lt_money" in fired({"trade.value": value})) is hit


@pytest.mark.parametrize(("days", "day", "hit"), [
    (30, JUNE_30, True), (29, JUNE_30, False), (60, JULY_1, False), (61, JULY_1, True), (30, JULY_1, False),
])
def test_integer_against_a_duration_parameter(fired: Any, days: int, day: dt.date, hit: bool) -> None:
    assert ("syn.ge_integer_param" in fired({"trade.days_held": days}, day)) is hit


@pytest.mark.parametrize(("days", "hit"), [(30, True), (31, False), (-5, True)])
def test_integer_against_a_fraction(fired: Any, days: int, hit: bool) -> None:
    assert ("syn.le_integer" in fired({"trade.days_to_ex_dividend": days})) is hit


@pytest.mark.parametrize(("quantity", "hit"), [
    (D("100.5"), False), (D("100.51"), True), (D("100.5000001"), True), (100, False), (101, True),
])
def test_gt_number(fired: Any, quantity: Any, hit: bool) -> None:
    assert ("syn.gt_number" in fired({"trade.quantity": quantity})) is hit


@pytest.mark.parametrize(("day", "spring", "edge"), [
    (dt.date(2025, 3, 1), True, False), (dt.date(2025, 2, 28), False, False), (dt.date(2025, 6, 30), True, False),
    (dt.date(2025, 7, 1), False, False), (dt.date(2025, 4, 1), False, False), (dt.date(2025, 1, 1), False, True),
    (dt.date(2025, 12, 31), False, True), (dt.date(2024, 12, 31), False, False),
])
def test_dates(fired: Any, day: dt.date, spring: bool, edge: bool) -> None:
    hits = fired({"trade.date": day})
    assert ("syn.dates" in hits, "syn.date_in" in hits) == (spring, edge)


@pytest.mark.parametrize(("facts", "hit"), [
    ({"security.kind": "etf", "security.country": "IE", "account.wrapper": "taxable"}, True),
    ({"security.kind": "fund", "security.country": "IE", "account.wrapper": "tfsa"}, True),
    ({"security.kind": "share", "security.country": "IE", "account.wrapper": "taxable"}, False),
    ({"security.kind": "etf", "security.country": "US", "account.wrapper": "taxable"}, False),
    ({"security.kind": "etf", "security.country": "IE", "account.wrapper": "ira"}, False),
    ({"security.kind": "etf", "security.country": "IE"}, False),  # not_in on an absent fact is false
    ({"security.kind": "ETF", "security.country": "IE", "account.wrapper": "taxable"}, False),  # text is exact
])
def test_text_operators(fired: Any, facts: dict[str, Any], hit: bool) -> None:
    assert ("syn.text_ops" in fired(facts)) is hit


def test_text_and_boolean_parameters_follow_the_date(fired: Any) -> None:
    assert "syn.text_param" in fired({"security.currency": "EUR"}, JUNE_30)
    assert "syn.text_param" not in fired({"security.currency": "EUR"}, JULY_1)
    assert "syn.text_param" in fired({"security.currency": "GBP"}, JULY_1)
    assert "syn.bool_param" in fired({"account.taxable": True}, JUNE_30)
    assert "syn.bool_param" not in fired({"account.taxable": True}, JULY_1)
    assert "syn.bool_param" in fired({"account.taxable": False}, JULY_1)


@pytest.mark.parametrize(("facts", "hit"), [
    ({"security.listed": False}, True), ({"security.listed": True}, False),
    ({"trade.in_kind_contribution": True}, True), ({"trade.in_kind_contribution": False}, False),
    ({"taxpayer.citizen": True}, False), ({"taxpayer.citizen": False}, False),  # not_in [true, false]: never
])
def test_boolean_operators(fired: Any, facts: dict[str, Any], hit: bool) -> None:
    assert ("syn.bool_ops" in fired(facts)) is hit


@pytest.mark.parametrize(("facts", "hit"), [
    ({"taxpayer.id": "p1"}, True), ({"taxpayer.id": "p1", "taxpayer.filing_status": None}, True),
    ({"taxpayer.id": "p1", "taxpayer.filing_status": "single"}, False), ({}, False),
])
def test_exists(fired: Any, facts: dict[str, Any], hit: bool) -> None:
    assert ("syn.exists" in fired(facts)) is hit


@pytest.mark.parametrize(("tags", "tagged", "untagged"), [
    (("reit",), True, False), (("ucits",), True, False), (("etc", "x"), True, False),
    (("ucits", "synthetic"), False, False), (("reit", "synthetic"), True, False),
    ((), False, True), (("x", "y"), False, True), (None, False, False),
])
def test_list_operators(fired: Any, tags: Any, tagged: bool, untagged: bool) -> None:
    hits = fired({"security.tags": tags})
    assert ("syn.list_ops" in hits, "syn.list_negatives" in hits) == (tagged, untagged)


def test_list_against_a_parameter(fired: Any) -> None:
    # `ne` on a list: the parameter's tag is not among the items (reit until June, ucits from July)
    assert "syn.list_param" not in fired({"security.tags": ("reit",)}, JUNE_30)
    assert "syn.list_param" in fired({"security.tags": ("reit",)}, JULY_1)
    assert "syn.list_param" in fired({"security.tags": ()}, JULY_1)


def test_empty_lists_never_match(fired: Any) -> None:
    assert "syn.empty_lists" not in fired({"trade.side": "buy", "security.tags": ("reit",)})


NESTED_BASE = {"trade.gain": D("-1"), "trade.side": "buy", "account.wrapper": "taxable", "security.listed": True,
               "position.value_after": D("10"), "lens.basis": "residence"}


@pytest.mark.parametrize(("change", "hit"), [
    ({}, True),
    ({"trade.gain": D("0")}, False),  # neither a loss nor a sell
    ({"trade.gain": D("0"), "trade.side": "sell"}, True),
    ({"trade.gain": None}, True),  # not (gain >= 0) holds when the gain is unknown
    ({"account.wrapper": "ira"}, False),
    ({"account.wrapper": None}, True),
    ({"security.listed": False}, False),
    ({"position.value_after": None}, False),  # not (not exists)
    ({"lens.basis": "source"}, False),  # not not (basis != source)
    ({"lens.basis": None}, False),  # ne on an absent fact is false, even under two nots
])
def test_nested_all_any_not(fired: Any, change: dict[str, Any], hit: bool) -> None:
    facts = {**NESTED_BASE, **change}
    assert ("syn.nested" in fired(facts)) is hit


def test_hits_come_in_pack_order(fired: Any) -> None:
    facts = {"trade.gain": D("-2000"), "trade.proceeds": D("1000"), "security.currency": "EUR",
             "taxpayer.id": "p1", "security.tags": ("reit",)}
    assert fired(facts) == ["syn.loss_threshold", "syn.eq_money", "syn.text_param", "syn.exists", "syn.list_ops"]


@pytest.mark.parametrize("backend", backends())
def test_explanation_lists_every_leaf(backend: str) -> None:
    hits = get_evaluator(backend).evaluate(PACK, {**NESTED_BASE}, JULY_1)
    (nested,) = [h for h in hits if h.rule_id == "syn.nested"]
    rows = [(c.fact, c.op, c.expected, c.actual, c.held) for c in nested.conditions]
    assert rows == [
        ("trade.gain", "ge", 0, D("-1"), False),
        ("trade.side", "eq", "sell", "buy", False),
        ("account.wrapper", "in", ("ira",), "taxable", False),
        ("security.listed", "eq", False, True, False),
        ("position.value_after", "exists", True, D("10"), True),
        ("lens.basis", "ne", "source", "residence", True),
    ]
    (loss,) = [h for h in get_evaluator(backend).evaluate(PACK, {"trade.gain": D("-600")}, JULY_1)
               if h.rule_id == "syn.loss_threshold"]
    (cond,) = loss.conditions
    assert (cond.expected, cond.param, cond.uncertain) == (D("-500.00"), "syn.loss_threshold", "announced, not enacted")


@pytest.mark.parametrize("backend", backends())
def test_float_money_is_refused(backend: str) -> None:
    with pytest.raises(EvaluationError, match="never float"):
        get_evaluator(backend).evaluate(PACK, {"trade.gain": -700.0}, JUNE_30)


def test_wrong_operand_types_are_errors_with_positions() -> None:
    # Loading a pack compiles its rules, so the errors come out of load_pack (and `taxpack pack validate`).
    with pytest.raises(ErrorList) as caught:
        load_pack(DATA / "bad_operands.yaml")
    messages = [str(e) for e in caught.value.errors]
    assert len(messages) == 4
    assert messages[0].startswith("tests/rules/data/bad_operands.yaml:") or "bad_operands.yaml:" in messages[0]
    assert all(e.span is not None and e.span.line for e in caught.value.errors)
    text = "\n".join(messages)
    for expected in ("'yes' is not a boolean value", "keyed by filing_status", "unit 'text'", "5 is not a date value"):
        assert expected in text
