"""Messages that quote parameters (`{param:NAME}`), values confirmed only until a date (`confirmed_until`),
and the warning `pack validate` gives for a parameter nothing reads (tests/rules/data/quoted_params.yaml)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from taxpack.engine.consequences.year_bill import BasketTotals, YearBill
from taxpack.engine.core.household import Taxpayer
from taxpack.engine.law.load import load_pack
from taxpack.engine.law.pack import LawDay
from taxpack.engine.law.year_rules import year_rules
from taxpack.engine.rules.evaluator import get_evaluator
from taxpack.engine.rules.explain import hit_to_finding, render_message

DATA = Path(__file__).resolve().parent / "data"
PACK = load_pack(DATA / "quoted_params.yaml")
EXE = Path(sys.executable).parent / "taxpack"


def _finding(day: dt.date):  # type: ignore[no-untyped-def]
    facts = {"trade.side": "sell", "trade.date": day, "security.id": "ABC"}
    (hit,) = get_evaluator("python").evaluate(PACK, facts, PACK.law_day(day))
    return hit_to_finding(PACK, hit, facts)


def test_a_message_quotes_the_rate_in_force_on_the_trade_date() -> None:
    """One rate, written once as a dated parameter: 33% in 2025, 30.5% from 2026; money with separators, durations plain."""
    assert _finding(dt.date(2025, 12, 31)).message == (
        "Gains on ABC are taxed at 33% above 1,270 EUR a year; a repurchase within 4 weeks counts")
    assert _finding(dt.date(2026, 1, 2)).message.startswith("Gains on ABC are taxed at 30.5% above 1,270 EUR")


def test_a_quoted_value_brings_its_caveats() -> None:
    """The 2026 rate rests on a secondary source and the allowance is confirmed only until 2025: both say so."""
    assert _finding(dt.date(2025, 6, 1)).caveat is None
    caveat = _finding(dt.date(2026, 6, 1)).caveat or ""
    assert "parameter cgt.rate: source confidence: secondary (A tax blog's summary of the 2026 budget)" in caveat
    assert "cgt.allowance: the 2025 value applied to 2026: not yet published (confirmed until 2025-12-31)" in caveat


def test_without_a_day_a_quoted_parameter_is_left_as_written() -> None:
    assert render_message("at {param:cgt.rate}", {}) == "at {param:cgt.rate}"


def test_a_value_read_past_its_confirmation_says_so_in_the_estimate() -> None:
    """The year bill reads the allowance for 2026 (and for a day past the coverage: the pack's last day,
    which remembers the day asked for): the caveat names the year the value was confirmed for."""
    rules = year_rules(PACK)
    me = Taxpayer("me", "XQ")
    for day, year in ((dt.date(2026, 3, 1), 2026), (dt.date(2027, 1, 1), 2027)):
        bill = YearBill(PACK, rules, me, PACK.law_day(day), "XQ").compute({rules.baskets[0].id: BasketTotals(D(10000))})
        assert f"cgt.allowance: the 2025 value applied to {year}: not yet published (confirmed until 2025-12-31)" in bill.caveats
    bill = YearBill(PACK, rules, me, PACK.law_day(dt.date(2025, 3, 1)), "XQ").compute({rules.baskets[0].id: BasketTotals(D(10000))})
    assert not any("not yet published" in c for c in bill.caveats)
    assert bill.tax == (D(10000) - 1270) * D("0.33")


def test_the_law_day_past_the_coverage_is_the_last_day_and_remembers_the_day_asked() -> None:
    day = PACK.law_day(dt.date(2027, 3, 1))
    assert day == dt.date(2026, 12, 31) and isinstance(day, LawDay) and day.requested == dt.date(2027, 3, 1)
    assert PACK.law_day(dt.date(2020, 1, 1)) == dt.date(2025, 1, 1)
    assert PACK.value("cgt.rate", day).value == D("0.305")  # the value itself is the last one


def test_validate_warns_on_a_parameter_nothing_reads_and_keeps_exit_0(tmp_path: Path) -> None:
    if not EXE.is_file():
        pytest.skip(f"no taxpack command beside {sys.executable}")
    text = (DATA / "quoted_params.yaml").read_text(encoding="utf-8")
    text = text.replace("parameters:\n", "parameters:\n  cgt.unused:\n    description: Read by nothing\n    unit: rate\n"
                                         "    values:\n      2025-01-01: {value: 0.1, source: act}\n", 1)
    path = tmp_path / "pack.yaml"
    path.write_text(text, encoding="utf-8")
    run = subprocess.run([str(EXE), "pack", "validate", str(path)], capture_output=True, text=True)
    assert run.returncode == 0
    assert run.stdout.splitlines()[0] == (
        f"{path}:18:5: warning: parameter 'cgt.unused' is read by no section or rule: changing it changes nothing "
        "(expected {param: NAME} in a section or a rule condition, {param:NAME} in a rule message, or remove it)")
    assert run.stdout.splitlines()[-1].endswith("ok, 1 warning")
    as_json = json.loads(subprocess.run([str(EXE), "pack", "validate", "--format", "json", str(path)], capture_output=True, text=True).stdout)
    assert as_json[0]["valid"] is True and [w["kind"] for w in as_json[0]["warnings"]] == ["warning"]
    github = subprocess.run([str(EXE), "pack", "validate", "--format", "github", str(path)], capture_output=True, text=True)
    assert github.returncode == 0 and github.stdout.startswith("::warning file=")
    # cgt.window is read only by a rule message: that counts as read.
    assert "cgt.window" not in run.stdout
