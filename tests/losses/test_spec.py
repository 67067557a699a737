"""The pieces of a loss rule on their own: window counting, who counts, what is "the same"."""

from __future__ import annotations

import datetime as dt

from taxpack.engine.core.household import Account, IdentityGroup, Security
from taxpack.engine.losses.holders import holder_view, spouses
from taxpack.engine.losses.identity import accepts, equivalents
from taxpack.engine.losses.spec import sale_window

from .helpers import buy, household, pack, pack_variant

CA = pack("ca_superficial")
IE = pack("ie_four_week")


def rule_of(p, i=0):
    return p.sections.loss_rules[i]


def test_thirty_days_either_side_is_61_days_by_default_59_when_the_sale_day_counts():
    sale = dt.date(2025, 9, 1)
    w = sale_window(rule_of(CA), CA, sale, sale)
    assert (w.start, w.end) == (dt.date(2025, 8, 2), dt.date(2025, 10, 1))
    assert (w.end - w.start).days + 1 == 61
    counted = pack_variant("ca_superficial", ("exclude_sale_day: true", "exclude_sale_day: false"))
    w = sale_window(rule_of(counted), counted, sale, sale)
    assert (w.start, w.end) == (dt.date(2025, 8, 3), dt.date(2025, 9, 30))


def test_four_weeks_after_and_nothing_before():
    sale = dt.date(2025, 3, 3)
    w = sale_window(rule_of(IE), IE, sale, sale)
    assert (w.start, w.end) == (sale, dt.date(2025, 3, 31))
    assert w.before.is_zero


def test_applies_to_listed_and_kinds():
    es = pack("es_two_month")
    listed, unlisted = rule_of(es, 0), rule_of(es, 1)
    share = Security(id="X", currency="EUR", country="ES")
    private = Security(id="P", currency="EUR", country="ES", listed=False)
    assert listed.applies(share) and not listed.applies(private)
    assert unlisted.applies(private) and not unlisted.applies(share)
    kinds = pack_variant("es_two_month", ("applies_to: {listed: true}", "applies_to: {listed: true, kinds: [etf]}"))
    assert not rule_of(kinds, 0).applies(share)


def test_who_counts():
    s = household([buy("b", "2025-01-02", 1, 1)], currency="CAD", residence="CA",
                  accounts=(("brk", "me", "taxable"), ("sp", "sp", "taxable"), ("fr", "friend", "taxable"),
                            ("tfsa", "me", "tfsa"), ("resp", "me", "resp")))
    rule = rule_of(CA)
    view = lambda a: holder_view(rule, CA, s, "me", s.account(a))  # noqa: E731
    assert spouses(s, "me") == {"sp"} and spouses(s, "sp") == {"me"}
    assert (view("brk").status, view("brk").relation) == ("counts", "self")
    assert (view("sp").status, view("sp").relation) == ("counts", "spouse")
    assert view("fr").status == "ignored"
    assert view("tfsa").status == "permanent" and view("tfsa").effective == "permanent"
    # a wrapper the pack does not define counts as taxable (the ledger's rule): the purchase counts
    assert view("resp").status == "counts"
    exempt = Account(id="x", owner="me", country="CA", currency="CAD", wrapper="rrsp")  # defined, not taxable, not in who
    no_rrsp = pack_variant("ca_superficial", ("wrappers: {rrsp: permanent, rrif: permanent, tfsa: permanent}", "wrappers: {tfsa: permanent}"))
    assert holder_view(rule_of(no_rrsp), no_rrsp, s, "me", exempt).status == "uncertain"
    assert holder_view(rule_of(no_rrsp), no_rrsp, s, "me", exempt).effective == "permanent"
    taxable_only = pack_variant("ca_superficial", ("own_accounts: all", "own_accounts: taxable"),
                                ("wrappers: {rrsp: permanent, rrif: permanent, tfsa: permanent}", "wrappers: {tfsa: permanent}"))
    assert holder_view(rule_of(taxable_only), taxable_only, s, "me", exempt).status == "ignored"


def test_identity_levels():
    assert accepts("identical", "identical") and not accepts("identical", "substantially_identical")
    assert accepts("substantially_identical", "identical") and accepts("substantially_identical", "substantially_identical")
    groups = (IdentityGroup(id="g", level="substantially_identical", confidence="low"),)
    s = household([buy("b", "2025-01-02", 1, 1, security="A")], securities=(("A", "g"), ("B", "g"), ("C", None)), groups=groups)
    assert set(equivalents(s, "A", "substantially_identical")) == {"A", "B"}
    assert equivalents(s, "A", "substantially_identical")["B"].confidence == "low"
    assert set(equivalents(s, "A", "identical")) == {"A"}
    assert set(equivalents(s, "C", "substantially_identical")) == {"C"}
