"""Ireland TCA 1997 s.581(3), on the test pack tests/losses/data/ie_four_week.yaml, derived from the text.

s.581(3): "Where a loss accrues to a person on the disposal of shares and such person reacquires shares
of the same class within 4 weeks after the disposal, that loss shall not be allowable ... otherwise than
by deduction from a chargeable gain accruing to such person on the disposal of the shares reacquired;
but, if the quantity of shares so reacquired is less than the quantity so disposed of, such proportion
of the loss shall be allowable ... as bears the same proportion to the loss on the disposal as the
quantity not reacquired bears to the quantity disposed of." (4)(b): the same where the acquisition after
the disposal is made by the spouse.

Step by step for the first case: 100 shares cost EUR 5,000 and are sold for EUR 4,000 (loss 1,000);
60 are reacquired within 4 weeks. Quantity not reacquired / disposed of = 40/100: EUR 400 is allowable
now, EUR 600 is restricted to gains on the 60 reacquired shares. The restriction does not change their
cost (EUR 2,400): it is not added to basis.
"""

from __future__ import annotations

import pytest

from .helpers import D, buy, finding, household, lot_costs, pack, recognised, run, sell

IE = pack("ie_four_week")


def ie(txs, **kw):
    return household(txs, currency="EUR", residence="IE", **kw)


def _first_case(resale_price):
    return [buy("b", "2025-01-02", 100, 50), sell("s", "2025-03-03", 100, 40), buy("back", "2025-03-20", 60, 40),
            sell("s2", "2025-06-02", 60, resale_price)]


def test_restricted_in_proportion_to_shares_reacquired_and_not_added_to_basis():
    book, _ = run(IE, ie(_first_case(40)[:3]))
    sale = book.sales["s"]
    assert sale.gain == D(-1000)
    assert sale.disallowed == D(600)
    assert recognised(sale) == D(-400)
    assert [(q, c) for q, c, _ in lot_costs(book)] == [(D(60), D(2400))]
    f = finding(sale, "four_week_rule")
    assert f.facts["loss.deferred"] == D(600)
    assert "usable only against a gain on" in f.message


def test_restricted_loss_set_against_the_gain_on_the_reacquired_shares():
    # resold at 50: gain 600 on the reacquired shares absorbs the 600 restricted
    book, _ = run(IE, ie(_first_case(50)))
    s2 = book.sales["s2"]
    assert s2.gain == D(600)
    assert s2.released == D(-600) and recognised(s2) == 0
    # resold at 45: gain 300 absorbs 300; the other 300 has no gain to go against
    book, _ = run(IE, ie(_first_case(45)))
    s2 = book.sales["s2"]
    assert s2.gain == D(300) and s2.released == D(-300) and recognised(s2) == 0
    f = finding(s2, "four_week_rule")
    assert f.facts["loss.stranded"] == D(300) and f.severity == "info"


@pytest.mark.parametrize("when, restricted", [
    ("2025-03-31", True),   # 28 days = 4 weeks after 3 March
    ("2025-04-01", False),  # 29 days
    ("2025-02-26", False),  # before the disposal: s.581(1) identification, not (3)
])
def test_four_weeks_after_only(when, restricted):
    txs = [buy("b", "2025-01-02", 100, 50), buy("r", when, 100, 40), sell("s", "2025-03-03", 100, 40, lots="fifo")]
    book, _ = run(IE, ie(txs))
    sale = book.sales["s"]
    expected = D(1000) if restricted else D(0)
    assert sale.disallowed == expected


def test_same_day_reacquisition_counts_only_after_the_disposal():
    after = [buy("b", "2025-01-02", 100, 50), sell("s", "2025-03-03", 100, 40), buy("r", "2025-03-03", 100, 40)]
    before = [buy("b", "2025-01-02", 100, 50), buy("r", "2025-03-03", 100, 40), sell("s", "2025-03-03", 100, 40)]
    assert run(IE, ie(after))[0].sales["s"].disallowed == D(1000)
    assert run(IE, ie(before))[0].sales["s"].disallowed == D(0)


def test_spouse_reacquisition_counts():
    accounts = (("brk", "me", "taxable"), ("sp-brk", "sp", "taxable"))
    txs = [buy("b", "2025-01-02", 100, 50), sell("s", "2025-03-03", 100, 40), buy("r", "2025-03-10", 100, 40, account="sp-brk")]
    assert run(IE, ie(txs, accounts=accounts))[0].sales["s"].disallowed == D(1000)
