"""The reclaim report: withholding above the treaty rate, the route and deadline each source pack names, and what is lost.

Rates are the packs' (DE 26.375% statutory, IT 26%, treaty 15%); deadlines are the rules the sources state (BZSt: 4 years
after the end of the payment year; Agenzia delle Entrate: 48 months from the withholding; ...), computed here by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from taxpack.engine.consequences.reclaims import deadline_of, reclaim_report
from taxpack.engine.inputs.scenario import load_scenario
from taxpack.engine.law.registry import pack_set
from tests.expected import REPO_ROOT, relative, run_cli

D = Decimal
PACKS = pack_set(())
EXAMPLE = REPO_ROOT / "examples" / "household" / "scenario.yaml"
FIXTURES = REPO_ROOT / "tests" / "imports" / "fixtures"


@pytest.mark.parametrize("country,paid,deadline", [
    ("DE", "2024-05-21", "2028-12-31"),  # 4 years after the end of the calendar year (§50c(3) EStG, BZSt)
    ("FR", "2024-05-21", "2026-12-31"),  # 31 December of the second year after payment (forms 5000/5001)
    ("ES", "2024-05-21", "2029-01-20"),  # 4 years from 20 January of the following year (Modelo 210)
    ("IT", "2024-05-21", "2028-05-21"),  # 48 months from the withholding (Pescara)
    ("IT", "2024-02-29", "2028-02-29"),
    ("IE", "2024-05-21", "2028-12-31"),  # 4 years after the end of the year (Revenue)
    ("NL", "2024-05-21", "2027-12-31"),  # 3 years after the end of the year (IB 92, unverified)
    ("US", "2024-05-21", "2028-06-15"),  # 3 years from the 1040-NR's due date, 15 June of the following year
    ("CA", "2024-05-21", "2026-12-31"),  # 2 years after the end of the year of remittance (NR7-R)
    ("CH", "2025-03-14", "2028-12-31"),  # 3 years after the end of the year the income fell due (art. 32(1) VStG)
])
def test_each_source_pack_names_its_deadline(country: str, paid: str, deadline: str) -> None:
    pack = PACKS.get(country)
    assert pack is not None and pack.sections.withholding is not None
    reclaim = pack.sections.withholding.reclaim
    assert reclaim is not None and reclaim.form and reclaim.authority and pack.source(reclaim.source) is not None
    assert deadline_of(reclaim, dt.date.fromisoformat(paid)) == dt.date.fromisoformat(deadline)


def test_the_bundled_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alice (resident in Canada) had 26.375% withheld on her SAP dividends; the Germany-Canada treaty allows 15%:
    66.00 x 11.375% = 7.51 and 70.50 x 11.375% = 8.02 can be reclaimed from the BZSt until 31 December 2028 and 2029."""
    monkeypatch.chdir(REPO_ROOT)
    result = run_cli("reclaim", relative(EXAMPLE), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (de,) = data["countries"]
    assert (de["source_country"], de["currency"], de["gross"], de["withheld"]) == ("DE", "EUR", "136.50", "36.00")
    assert (de["reclaimable"], de["next_deadline"], de["authority"]) == ("15.52", "2028-12-31", "Bundeszentralamt für Steuern (BZSt)")
    assert (de["lost"], de["expired"], de["creditable"]) == ("0.00", "0.00", "20.48")  # 9.90 + 10.575 within Canada's 15% credit cap
    lines = [(d["id"], d["reclaimable"], d["deadline"], d["allowed_rate"], d["basis"]) for d in data["dividends"]]
    assert lines == [("sap-2024", "7.51", "2028-12-31", "0.15", "treaty"), ("sap-2025", "8.02", "2029-12-31", "0.15", "treaty")]
    finding = data["dividends"][0]["findings"][0]
    assert (finding["code"], finding["confidence"]) == ("withholding_reclaimable", "verified")
    assert finding["url"].startswith("https://www.bzst.de/")


def test_the_bundled_example_after_the_deadline() -> None:
    report = reclaim_report(load_scenario(EXAMPLE), PACKS, dt.date(2029, 1, 1))
    first, second = report.lines
    assert (first.reclaimable, round(first.expired, 2)) == (0, D("7.51"))  # lost: the 2024 claim closed on 31 December 2028
    assert [f.code for f in first.findings] == ["withholding_reclaim_expired"]
    assert second.reclaimable == D("8.015")


def test_a_wrapper_loses_the_withholding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """US dividends in a TFSA: 15% withheld under the treaty, and the TFSA cannot credit it: lost for good."""
    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "qt.yaml"
    assert run_cli("import", "questrade", relative(FIXTURES / "questrade.csv"), "--household", relative(FIXTURES / "questrade_household.yaml"),
                   "--account", "51234567=qt-tfsa", "--out", str(out)).exit_code == 0
    report = reclaim_report(load_scenario(out), PACKS)
    (line,) = report.lines
    assert (line.source_country, line.withheld, line.reclaimable, line.lost, line.creditable) == ("US", D("1.40"), 0, D("1.40"), 0)
    assert line.lost_reason == "not creditable: the account is a wrapper outside the taxable computation"
    assert report.domestic == 1  # the XEI distribution: Canadian, nothing withheld abroad


def test_italian_withholding_for_a_german_resident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENI through DEGIRO: 26% withheld, 15% under the Italy-Germany treaty: 11% of 35.00 = 3.85 from Pescara within 48 months."""
    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "dg.yaml"
    assert run_cli("import", "degiro", relative(FIXTURES / "degiro_transactions.csv"), relative(FIXTURES / "degiro_account.csv"),
                   "--household", relative(FIXTURES / "degiro_household.yaml"), "--account", "degiro", "--out", str(out)).exit_code == 0
    (line,) = reclaim_report(load_scenario(out), PACKS).lines
    assert (line.source_country, line.reclaimable, line.deadline, line.creditable) == ("IT", D("3.85"), dt.date(2029, 5, 21), D("5.25"))
    assert line.authority == "Agenzia delle Entrate, Centro Operativo di Pescara"


def test_swiss_withholding_for_a_us_resident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Novartis ADRs (Schwab): Switzerland withheld its 35% Verrechnungssteuer (55.22 of 157.78); the Switzerland-US
    treaty row lets it keep 15% (157.78 x 15% = 23.667, creditable in the US), so 55.22 - 23.667 = 31.553 can be
    reclaimed from the ESTV on form 82 I until 31 December 2028 (art. 32(1) VStG: 3 years after the end of 2025)."""
    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "schwab.yaml"
    assert run_cli("import", "schwab-csv", relative(FIXTURES / "schwab.csv"), "--household", relative(FIXTURES / "schwab_household.yaml"),
                   "--account", "XXXX-1234=schwab", "--out", str(out)).exit_code == 0
    report = reclaim_report(load_scenario(out), PACKS, dt.date(2025, 6, 30))
    (line,) = report.lines
    assert (line.source_country, line.basis, line.entitled_rate, line.withheld) == ("CH", "treaty", D("0.15"), D("55.22"))
    assert (round(line.reclaimable, 2), round(line.creditable, 2), line.lost) == (D("31.55"), D("23.67"), 0)
    assert line.deadline == dt.date(2028, 12, 31) and line.form is not None and "82 I" in line.form
    assert line.authority is not None and line.authority.startswith("Eidgenoessische Steuerverwaltung (ESTV)")
    assert [f.code for f in line.findings] == ["withholding_reclaimable"]
    assert report.domestic == 1  # the NVDA dividend of a US resident


def test_a_country_without_a_pack() -> None:
    """A US resident's Toyota ADR dividend (15.315% withheld in Japan): no JP pack and no treaty row JP-US, so the rate
    Japan may keep is not claimed to be known; nothing is reclaimable, lost or creditable by our reckoning."""
    report = reclaim_report(load_scenario(REPO_ROOT / "tests" / "reclaims" / "fixtures" / "japan.yaml"), PACKS)
    (line,) = report.lines
    assert (line.source_country, line.basis, line.entitled_rate, line.withheld) == ("JP", "unknown", None, D("7.35"))
    assert line.lost_reason == "no pack for JP and no treaty row JP-US: the rate it may keep is not known"
    assert (line.reclaimable, line.deadline, line.form) == (0, None, None)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_every_format_says_the_same(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    result = run_cli("reclaim", relative(EXAMPLE), "--format", fmt)
    assert result.exit_code == 0
    assert "7.51" in result.output and "2028-12-31" in result.output and "8.02" in result.output
    again = run_cli("reclaim", relative(EXAMPLE), "--format", fmt)
    assert again.output == result.output  # the same bytes for the same inputs
