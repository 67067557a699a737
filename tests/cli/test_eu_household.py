"""The example household over Portugal, Sweden, Denmark and the United Kingdom (examples/eu-household).

Figures derived by hand from the packs' cited rules and the ECB reference rates of each leg's date (the PT pack
converts each leg at its own date, CIRS art. 23; the rates are those of the bundled ECB history):

  DKK per EUR: 7.459 (2024-01-15), 7.474 (2026-06-15); SEK per EUR: 11.1 (2023-03-01), 10.8975 (2026-06-15);
  GBP per EUR: 0.83498 (2022-02-01), 0.86483 (2026-06-15).

  t1 Novo Nordisk B: 60 x 300 / 7.474 - 60 x 700 / 7.459 = 2,408.35 - 5,630.78 = -3,222.43 EUR
  t2 Volvo B:        300 x 280 / 10.8975 - 300 x 215 / 11.1 = 7,708.19 - 5,810.81 = 1,897.38 EUR
  Both held more than 2 and less than 5 years (CIRS art. 43(5), Lei 31/2024: 10% excluded): Ana's 2026 balance
  is -1,325.05, so no tax (art. 72(1): 28% on a positive balance) and the loss is not carried forward without
  aggregation (art. 55(1)(d)). Moving t2 alone to 2027 would tax its gain there: 1,897.38 x 90% x 28% = 478.14.
  t3 LifeStrategy 80% units (an open-ended fund, the same band): 40 x 290 / 0.86483 - 40 x 250 / 0.83498
     = 13,413.04 - 11,976.33 = 1,436.71 EUR.
James left the UK on 1 September 2024 (TCGA 1992 s.1M, Sch. 1: a return within 5 years taxes gains on assets held
before leaving): his sales in June 2026 carry the UK's temporary non-residence warning; Ana's do not.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.expected import REPO_ROOT, run_cli

D = Decimal
SCENARIO = REPO_ROOT / "examples" / "eu-household" / "scenario.yaml"


@pytest.fixture(scope="module")
def output() -> dict:
    result = run_cli("check", str(SCENARIO), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.output)
    assert data["exit_code"] == result.exit_code
    return data


def _pt(data: dict, trade: str) -> dict:
    (entry,) = [t for t in data["trades"] if t["id"] == trade]
    (lens,) = [c for c in entry["consequences"] if c["jurisdiction"] == "PT"]
    return lens


def test_each_leg_at_its_own_ecb_rate(output: dict) -> None:
    assert (_pt(output, "t1")["gain"], _pt(output, "t2")["gain"], _pt(output, "t3")["gain"]) == ("-3222.43", "1897.38", "1436.71")
    assert {_pt(output, t)["currency"] for t in ("t1", "t2", "t3", "t4")} == {"EUR"}


def test_a_loss_nets_within_the_band_and_is_then_lost(output: dict) -> None:
    lenses = {(lens["taxpayer"], lens["jurisdiction"]): lens for lens in output["summary"]["household"]["lenses"]}
    ana = lenses[("ana", "PT")]
    assert (D(ana["net_tax"]), ana["carry_forward_after"]) == (0, [])
    assert any("net -1,325.05 EUR" in step for step in ana["steps"])
    assert "loss_carry_needs_aggregation" in {f["code"] for f in _pt(output, "t1")["findings"]}
    (timing,) = [t for t in output["trades"] if t["id"] == "t2"][0]["timing"]
    assert (timing["date"], D(timing["change"])) == ("2027-01-01", D("478.14"))  # 1,897.38 x 90% x 28%


def test_the_uk_temporary_non_residence_warning(output: dict) -> None:
    for trade in ("t3", "t4"):
        codes = {(f["code"], f["severity"]) for f in _pt(output, trade)["findings"]}
        assert ("temporary_non_residence", "warning") in codes
    for trade in ("t1", "t2"):
        assert "temporary_non_residence" not in {f["code"] for f in _pt(output, trade)["findings"]}
    # No lens but Portugal's: none of SE, DK or GB taxes a non-resident's gain on listed portfolio shares.
    assert {c["jurisdiction"] for t in output["trades"] for c in t["consequences"]} == {"PT"}


def test_each_band_is_reduced_by_its_own_exclusion_before_netting(output: dict) -> None:
    """CIRS art. 43(5)-(6): James's fund gain (held 4 years, 10% excluded) and Legal & General loss (held 7 years,
    20% excluded) are reduced by their own band's exclusion and then netted: 28% x (1,436.71 x 90% - 519.55 x 80%)
    = 28% x 877.40 = 245.67 (netting first and excluding 10% of the rest would give 231.12). Selling t4 in 2027
    instead loses its -519.55 x 80% x 28% = 116.38 of relief."""
    lenses = {(lens["taxpayer"], lens["jurisdiction"]): lens for lens in output["summary"]["household"]["lenses"]}
    assert D(lenses[("james", "PT")]["net_tax"]) == D("245.67")
    (timing,) = [t for t in output["trades"] if t["id"] == "t4"][0]["timing"]
    assert (timing["date"], D(timing["change"])) == ("2027-01-01", D("116.38"))
