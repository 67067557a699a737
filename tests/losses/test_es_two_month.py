"""Spain art. 33.5.f/g LIRPF, on the test pack tests/losses/data/es_two_month.yaml, derived from the text.

33.5.f: losses on listed securities are not computed "cuando el contribuyente hubiera adquirido valores
homogéneos dentro de los dos meses anteriores o posteriores a dichas transmisiones"; the losses not
computed "se integrarán a medida que se transmitan los valores que permanezcan en el patrimonio del
contribuyente" (text as quoted by DGT V0046-20). 33.5.g: the same with one year for unlisted ones.
Months run date to date and a date the month lacks falls on its last day (Código Civil art. 5.1:
`month_rounding: decreasing`).

Step by step for the first case: 100 shares cost EUR 1,000 and are sold for EUR 800 on 31 March (loss
200); 100 homogeneous shares are bought on 31 May, two months after (inside). The 200 is not computed
in March; it is integrated when those 100 are sold (1 September, for EUR 900: gain 100, and the 200
deferred comes in: -100 recognised then). A purchase on 1 June is outside the window.
"""

from __future__ import annotations

import datetime as dt

import pytest

from taxpack.engine.losses.spec import sale_window

from .helpers import D, buy, finding, household, lot_costs, pack, pack_variant, recognised, run, sell

ES = pack("es_two_month")


def es(txs, **kw):
    return household(txs, currency="EUR", residence="ES", **kw)


def test_deferred_until_the_replacement_is_sold_then_released():
    txs = [buy("b", "2025-01-10", 100, 10), sell("s", "2025-03-31", 100, 8), buy("r", "2025-05-31", 100, 8),
           sell("s2", "2025-09-01", 100, 9)]
    book, _ = run(ES, es(txs))
    s, s2 = book.sales["s"], book.sales["s2"]
    assert s.gain == D(-200) and s.disallowed == D(200) and recognised(s) == 0
    assert s2.gain == D(100)  # the replacement keeps its own cost (800): nothing added to basis
    assert s2.released == D(-200) and recognised(s2) == D(-100)
    f = finding(s2, "two_month_rule")
    assert f.facts["loss.released"] == D(200) and f.facts["loss_rule.from_sales"] == ["s"]


def test_two_months_after_31_march_is_31_may():
    base = [buy("b", "2025-01-10", 100, 10), sell("s", "2025-03-31", 100, 8)]
    assert run(ES, es(base + [buy("r", "2025-05-31", 100, 8)]))[0].sales["s"].disallowed == D(200)
    assert run(ES, es(base + [buy("r", "2025-06-01", 100, 8)]))[0].sales["s"].disallowed == 0


def test_homogeneous_bought_before_and_still_held():
    txs = [buy("old", "2024-06-03", 100, 10), buy("new", "2025-02-15", 100, 8), sell("s", "2025-03-31", 100, 8)]
    book, _ = run(ES, es(txs))
    assert book.sales["s"].gain == D(-200)  # FIFO (art. 37.2): the old shares are the ones sold
    assert book.sales["s"].disallowed == D(200)
    assert [(q, c) for q, c, _ in lot_costs(book)] == [(D(100), D(800))]


def test_partial_repurchase_defers_the_loss_on_the_shares_replaced():
    txs = [buy("b", "2025-01-10", 100, 10), sell("s", "2025-03-31", 100, 8), buy("r", "2025-04-15", 40, 8)]
    sale = run(ES, es(txs))[0].sales["s"]
    assert sale.disallowed == D(80) and recognised(sale) == D(-120)


def test_only_the_taxpayer_counts():
    accounts = (("brk", "me", "taxable"), ("sp-brk", "sp", "taxable"))
    txs = [buy("b", "2025-01-10", 100, 10), sell("s", "2025-03-31", 100, 8), buy("r", "2025-04-15", 100, 8, account="sp-brk")]
    assert run(ES, es(txs, accounts=accounts))[0].sales["s"].disallowed == 0


def test_unlisted_securities_one_year():
    txs = [buy("b", "2025-01-10", 100, 10), sell("s", "2025-03-31", 100, 8), buy("r", "2026-02-27", 100, 8)]
    assert run(ES, es(txs, listed=False))[0].sales["s"].disallowed == D(200)
    assert run(ES, es(txs, listed=True))[0].sales["s"].disallowed == 0


ROUNDING = ("month_rounding: decreasing", "month_rounding: increasing")
ONE_MONTH = ("{value: 2, source: lirpf-33-5-f}", "{value: 1, source: lirpf-33-5-f}")


@pytest.mark.parametrize("rounding, end", [("decreasing", dt.date(2025, 2, 28)), ("increasing", dt.date(2025, 3, 1))])
def test_one_month_after_31_january_under_both_roundings(rounding, end):
    p = pack_variant("es_two_month", ONE_MONTH, *([ROUNDING] if rounding == "increasing" else []))
    window = sale_window(p.sections.loss_rules[0], p, dt.date(2025, 1, 31), dt.date(2025, 1, 31))
    assert (window.start, window.end) == (dt.date(2024, 12, 31), end)


@pytest.mark.parametrize("rounding, deferred", [("decreasing", False), ("increasing", True)])
def test_two_months_after_31_december_a_purchase_on_1_march(rounding, deferred):
    # 31 Dec + 2 months has no 31 Feb: decreasing -> 28 Feb (1 March is out); increasing -> 1 March (in)
    p = ES if rounding == "decreasing" else pack_variant("es_two_month", ROUNDING)
    txs = [buy("b", "2024-06-03", 100, 10), sell("s", "2024-12-31", 100, 8), buy("r", "2025-03-01", 100, 8)]
    sale = run(p, es(txs))[0].sales["s"]
    assert sale.disallowed == (D(200) if deferred else 0)


def test_a_month_window_without_a_rounding_rule_is_an_error_where_the_date_is_ambiguous():
    from taxpack.engine.core.errors import EvaluationError

    p = pack_variant("es_two_month", ("      month_rounding: decreasing\n", ""))
    rule = p.sections.loss_rules[0]
    assert sale_window(rule, p, dt.date(2025, 3, 15), dt.date(2025, 3, 15)).end == dt.date(2025, 5, 15)
    with pytest.raises(EvaluationError, match="month_rounding"):
        sale_window(rule, p, dt.date(2024, 12, 31), dt.date(2024, 12, 31))
