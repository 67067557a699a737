"""`residence_findings`: sales on either side of a planned move, as `taxpack check` will flag them.

Each case follows the packs' own statements: Canada's step-up on arrival (ITA s.128.1(1)), Italy's
and Ireland's lack of an exit tax (TUIR art. 166; TCA s.29A for temporary non-residents), France's
deferred exit tax ending on a sale (art. 167 bis), Germany's exit value for 1% shares (§17(2) EStG),
Canada's loss carry-back against the departure gain (s.128.1(8)) and the US treaty election.
"""

from __future__ import annotations

from taxpack.engine.consequences.residence_change import residence_findings
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set
from taxpack.engine.lots.lens import lenses_for

from .helpers import D, write_scenario

PACKS = pack_set()


def findings(tmp_path, residence, moves, sale_date, gain, currency="EUR", side="sell"):
    person = {"id": "p", "residence": residence, "citizenship": [residence],
              "residence_changes": [{"date": d, "to": to} for d, to in moves]}
    accounts = [{"id": "acct", "owner": "p", "country": residence, "currency": currency, "wrapper": "taxable"}]
    securities = [{"id": "S", "currency": currency, "country": residence, "kind": "share"}]
    trade = {"id": "t1", "account": "acct", "security": "S", "date": sale_date, "side": side, "quantity": "10", "price": "200"}
    path = write_scenario(tmp_path, taxpayer=person, accounts=accounts, securities=securities,
                          buys=[("b1", "acct", "S", "2020-03-02", "10@100")], extra={"trades": [trade]})
    scenario = load_scenario(path)
    trade = scenario.trades[0]
    lenses, _ = lenses_for(trade, scenario, PACKS)
    out = []
    for lens in lenses:
        out.extend(residence_findings(trade, lens, scenario, PACKS, gain=D(gain)))
    return {f.code: f for f in out}


def test_sale_before_a_move_to_a_step_up_country_without_exit_tax(tmp_path):
    found = findings(tmp_path, "IT", [("2026-09-01", "CA")], "2026-08-01", "1000")
    f = found["sale_before_move_step_up"]
    assert f.severity == "warning" and f.pack.startswith("ca@") and "31 days before the move to CA" in f.message
    assert "Italy" in f.message or "no exit tax" in f.message


def test_a_loss_before_the_move_is_not_flagged(tmp_path):
    assert "sale_before_move_step_up" not in findings(tmp_path, "IT", [("2026-09-01", "CA")], "2026-08-01", "-1000")


def test_sale_after_arrival_in_canada_uses_the_value_on_arrival(tmp_path):
    found = findings(tmp_path, "IT", [("2026-02-01", "CA")], "2026-03-02", "1000")
    assert found["cost_not_stepped_up"].severity == "warning"
    assert "--date 2026-02-01 --to CA" in found["cost_not_stepped_up"].message


def test_after_leaving_france_for_germany(tmp_path):
    found = findings(tmp_path, "FR", [("2026-02-01", "DE")], "2026-03-02", "1000")
    # France's deferred exit tax falls due on a sale; Germany keeps the cost except for 1% shares.
    assert found["exit_tax_deferral_ends"].pack.startswith("fr@")
    assert "at least 1%" in found["arrival_exit_value"].message
    assert found["double_tax_risk"].severity == "warning"


def test_temporary_non_residence_after_leaving_ireland(tmp_path):
    found = findings(tmp_path, "IE", [("2026-02-01", "ES")], "2026-03-02", "1000")
    assert found["temporary_non_residence"].pack.startswith("ie@")
    assert "within 5 years" in found["temporary_non_residence"].message
    # Five years after leaving, no more.
    assert "temporary_non_residence" not in findings(tmp_path, "IE", [("2021-02-01", "ES")], "2026-03-02", "1000")


def test_loss_after_leaving_canada_for_the_us(tmp_path):
    found = findings(tmp_path, "CA", [("2026-02-01", "US")], "2026-03-02", "-500", currency="CAD")
    assert found["exit_tax_loss_carryback"].pack.startswith("ca@")
    assert found["arrival_exit_value"].pack.startswith("us@") and "may elect" in found["arrival_exit_value"].message
    assert "double_tax_risk" not in found


def test_nothing_without_moves_or_on_a_buy(tmp_path):
    assert findings(tmp_path, "IT", [], "2026-03-02", "1000") == {}
    assert findings(tmp_path, "IT", [("2026-09-01", "CA")], "2026-08-01", "0", side="buy") == {}
