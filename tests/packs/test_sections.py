"""The typed views of pack sections (`pack.sections`): built once per pack, defaults in one place, places kept."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from taxpack.engine.core.errors import ErrorList, EvaluationError
from taxpack.engine.inputs.fx import DEFAULT_LOOKBACK_DAYS
from taxpack.engine.law.load import load_pack_text
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import bundled_packs
from taxpack.engine.law.sections import CapitalGains, Fees, Sections, dotted
from tests.expected import REPO_ROOT

SECTIONS = ("scope", "holding_period", "lots", "fx", "capital_gains", "loss_rules", "no_loss_rule", "withholding",
            "foreign_tax_credit", "wrappers", "treaties", "exit_tax", "arrival")

# The smallest jurisdiction pack (tests/packs/good/minimal.yaml); tests add sections to it.
MINIMAL = """\
format: 1
kind: jurisdiction
id: xa
jurisdiction: XA
title: Minimal test jurisdiction
version: 1.0.0
currency: EUR
coverage: {from: 2024-01-01, to: 2024-12-31}
sources:
  act-1: {citation: "Test Act s.1", confidence: verified}
scope: {source: act-1, residents: true}
holding_period: {source: act-1, rule: none}
lots: {source: act-1, pool_scope: account, methods: [fifo], default: fifo}
fx: {source: act-1, legs: each_leg_own_date, date: trade, missing_rate: error}
"""


def bundled(pack_id: str) -> Pack:
    return next(p for p in bundled_packs() if p.id == pack_id)


def small(extra: str = "") -> Pack:
    return load_pack_text(MINIMAL + extra, "small.yaml")


def line_of(pack: Pack, line: int) -> str:
    return (REPO_ROOT / pack.path / "pack.yaml").read_text(encoding="utf-8").splitlines()[line - 1]


@pytest.mark.parametrize("pack", bundled_packs(), ids=lambda p: p.id)
def test_every_bundled_pack_has_its_views_and_none_for_what_it_lacks(pack: Pack) -> None:
    assert isinstance(pack.sections, Sections)
    for name in SECTIONS:
        assert (getattr(pack.sections, name) is not None) == (name in pack.data), name
    if pack.kind == "jurisdiction":
        assert pack.sections.lots is not None and pack.sections.fx is not None and pack.sections.scope is not None
    for i, rule in enumerate(pack.sections.loss_rules or ()):
        assert (rule.index, rule.path, rule.id) == (i, ("loss_rules", i), pack.data["loss_rules"][i]["id"])


def test_a_few_exact_views() -> None:
    us, ca, de, es = bundled("us"), bundled("ca"), bundled("de"), bundled("es")
    assert us.sections.lots.default == "fifo" and "specific" in us.sections.lots.methods
    assert us.sections.lots.average_kinds == ("etf", "fund") and us.sections.lots.mandatory is None
    assert (ca.sections.lots.pool_scope, ca.sections.lots.mandatory) == ("taxable_accounts", "average")
    assert [(pot.id, pot.kinds) for pot in de.sections.capital_gains.loss_offset.pots] == [("shares", ("share",))]
    assert us.sections.scope.citizens is True and ca.sections.scope.citizens is False
    assert es.sections.fx.missing_rate == "error" and es.sections.fx.max_lookback_days == DEFAULT_LOOKBACK_DAYS
    wash = us.sections.loss_rules[0]
    assert (wash.id, wash.code, wash.spouse, wash.tacking, wash.window.exclude_sale_day) == ("us.wash_sale", "wash_sale", True, True, True)
    assert wash.window.before == {"param": "wash_sale.window_before"}  # a parameter stays a reference: values are dated
    assert wash.wrappers["ira"] == "permanent" and list(wash.wrappers) == sorted(wash.wrappers)
    assert us.sections.wrapper("ira").taxable is False and us.sections.wrapper("tfsa").taxable is True
    assert us.sections.wrapper("no-such-wrapper") is None and de.sections.wrappers == {}


def test_short_term_estimate_is_the_estimate_with_its_keys_replaced() -> None:
    estimate = bundled("us").sections.capital_gains.estimate
    assert (estimate.method, estimate.short_term.method) == ("brackets", "marginal_rate")
    assert estimate.short_term.brackets == estimate.brackets  # not given under short_term: the estimate's
    assert estimate.short_term.source == "irc-1222" and estimate.short_term.path == ("capital_gains", "estimate", "short_term")


def test_a_deemed_gain_is_taxed_by_capital_gains_with_the_exit_tax_keys_replaced() -> None:
    de = bundled("de")
    deemed = de.sections.exit_tax.gain_taxation
    cg = deemed.capital_gains
    assert isinstance(cg, CapitalGains) and deemed.stack_on_other_income is True
    assert cg.inclusion_rate == {"param": "exit_tax.taxable_share"} and cg.estimate.method == "marginal_rate"
    # source and note stay the capital_gains section's; keys not replaced keep their own place in the file
    assert cg.source == de.sections.capital_gains.source
    assert cg.loss_offset == de.sections.capital_gains.loss_offset and cg.loss_offset.path == ("capital_gains", "loss_offset")
    assert cg.estimate.path == ("exit_tax", "gain_taxation", "estimate")
    nl = bundled("nl").sections
    assert nl.exit_tax.gain_taxation.stack_on_other_income is False
    assert (nl.capital_gains.taxed, nl.exit_tax.gain_taxation.capital_gains.taxed) == (False, True)


def test_treaty_rows() -> None:
    rows = bundled("treaties").sections.treaties
    us_ca = next(r for r in rows if (r.source_country, r.resident_of) == ("US", "CA"))
    assert us_ca.accounts["rrsp"].dividends == 0 and us_ca.accounts["rrsp"].creditable is None  # not stated
    assert us_ca.accounts["tfsa"].creditable is False
    assert us_ca.in_force(dt.date(2025, 6, 30))
    assert all(r.path == ("treaties", i) for i, r in enumerate(rows))


def test_a_view_keeps_its_place_in_the_pack_file() -> None:
    us = bundled("us")
    lots = us.sections.lots
    assert lots.span.file == "jurisdictions/us/pack.yaml"
    assert line_of(us, lots.span.line - 1) == "lots:" and line_of(us, lots.span.line).strip().startswith("source:")
    rule = us.sections.loss_rules[0]
    assert line_of(us, rule.span.line).strip() == "- id: us.wash_sale"
    short = us.sections.capital_gains.estimate.short_term
    assert line_of(us, short.span.line).strip().startswith("short_term: {method: marginal_rate")
    # a merged view points each key at its own place: the loss offset the exit tax did not replace is capital_gains'
    de = bundled("de")
    merged = de.sections.exit_tax.gain_taxation.capital_gains
    assert line_of(de, merged.span.line - 1).strip() == "gain_taxation:"
    assert merged.loss_offset.span == de.sections.capital_gains.loss_offset.span


def test_defaults_apply_when_a_key_is_absent() -> None:
    s = small().sections
    assert s.lots.fees == Fees(path=("lots", "fees"), span=s.lots.span)
    assert (s.lots.fees.buy, s.lots.fees.sell) == ("add_to_cost", "deduct_from_proceeds")
    assert s.fx.max_lookback_days == DEFAULT_LOOKBACK_DAYS and s.fx.currency_gains is None
    assert (s.holding_period.date, s.holding_period.long_term_after) == ("trade", None)
    assert (s.scope.citizens, s.scope.non_resident_gains) == (False, False)
    for name in ("capital_gains", "loss_rules", "no_loss_rule", "withholding", "foreign_tax_credit", "wrappers", "treaties",
                 "exit_tax", "arrival"):
        assert getattr(s, name) is None, name  # absent: None, never an empty mapping
    assert s.wrapper("rrsp") is None


def test_defaults_of_the_free_form_sections() -> None:
    s = small("""\
capital_gains: {source: act-1}
foreign_tax_credit: {source: act-1, method: null}
exit_tax: {source: act-1, deferral: {}, min_residence: {years: 7}}
arrival: {source: act-1, step_up: true, scope: null}
loss_rules:
  - {id: xa.rule, code: rule, source: act-1, identity: identical, effect: add_to_replacement_basis, window: {before: {days: 30}, after: {days: 30}}}
""").sections
    cg = s.capital_gains
    assert (cg.taxed, cg.inclusion_rate, cg.allowance, cg.estimate, cg.loss_offset) == (True, Decimal(1), Decimal(0), None, None)
    assert s.foreign_tax_credit.method == "credit"  # written as null: the default
    assert s.exit_tax.deferral is None  # empty: absent, as the engine always read it
    assert (s.exit_tax.applies, s.exit_tax.deemed_disposal, s.exit_tax.disposal) == (None, None, "all")
    assert s.exit_tax.excluded_wrappers == () and s.exit_tax.kinds is None
    assert (s.arrival.scope, s.arrival.after_exit_tax) == ("all", None)
    rule = s.loss_rules[0]
    assert (rule.title, rule.own_accounts, rule.spouse, rule.match_order, rule.severity, rule.held_at_end, rule.tacking) == \
        ("xa.rule", "all", False, "acquisition", "warning", False, False)
    assert (rule.window.exclude_sale_day, rule.window.date, rule.window.month_rounding) == (True, "trade", None)
    assert (rule.applies_to.listed, rule.applies_to.kinds, dict(rule.wrappers)) == (None, None, {})


def test_a_key_the_engine_needs_is_an_error_at_its_place_when_it_is_read() -> None:
    minimum = small("exit_tax: {source: act-1, min_residence: {years: 7}}\n").sections.exit_tax.min_residence
    assert minimum.need("years") == 7
    with pytest.raises(EvaluationError) as raised:
        minimum.need("within_years")
    assert str(raised.value) == ("small.yaml:15:42: error: exit_tax.min_residence has no 'within_years', which the engine needs here "
                                 "(expected 'within_years:' in exit_tax.min_residence)")


def test_a_free_form_part_of_the_wrong_shape_is_an_error_at_its_place() -> None:
    with pytest.raises(ErrorList) as raised:
        small("exit_tax:\n  source: act-1\n  deferral: yes\n  reporting: T1161\n")
    assert str(raised.value) == (
        "small.yaml:17:13: error: exit_tax.deferral must be a mapping (expected 'deferral:' followed by indented keys, or {key: value, ...})\n"
        "small.yaml:18:14: error: exit_tax.reporting must be a list of mappings (expected 'reporting: [{...}, ...]')")


def test_dotted_paths() -> None:
    assert dotted(("exit_tax", "deferral")) == "exit_tax.deferral"
    assert dotted(("loss_rules", 2, "window")) == "loss_rules[2].window"
