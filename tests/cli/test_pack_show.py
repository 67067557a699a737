"""`taxpack pack show ID --as-of DATE`: the values in force that day, each with its source.

The US figures are those the IRS published: Rev. Proc. 2024-40 §2.03 (tax year 2025) and
Rev. Proc. 2023-34 §3.03 (tax year 2024), the taxable-income thresholds of the 0/15/20% rates on
long-term capital gains.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from taxpack.engine.law.registry import find_bundled
from tests.expected import run_cli


def _show(*args: str) -> str:
    result = run_cli("pack", "show", *args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def _param_block(output: str, name: str) -> tuple[str, str]:
    """The value line of parameter `name` and the 'since ... source' line under it."""
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{name} = "))
    return lines[index], lines[index + 1]


def test_us_2025_brackets_with_their_revenue_procedure() -> None:
    output = _show("us", "--as-of", "2025-06-30")
    assert "values in force on 2025-06-30" in output
    assert "outside the pack's coverage" not in output
    value, source = _param_block(output, "capital_gains.long_term_brackets")
    # Rev. Proc. 2024-40 §2.03: single $48,350 / $533,400; married filing jointly $96,700 / $600,050;
    # married filing separately $48,350 / $300,000; head of household $64,750 / $566,700.
    assert "single: 0+ 0, 48350+ 0.15, 533400+ 0.20" in value
    assert "married_joint: 0+ 0, 96700+ 0.15, 600050+ 0.20" in value
    assert "married_separate: 0+ 0, 48350+ 0.15, 300000+ 0.20" in value
    assert "head_of_household: 0+ 0, 64750+ 0.15, 566700+ 0.20" in value
    assert source.strip().startswith("since 2025-01-01  source: Rev. Proc. 2024-40")


def test_us_2024_brackets_are_the_earlier_procedure() -> None:
    value, source = _param_block(_show("us", "--as-of", "2024-12-31"), "capital_gains.long_term_brackets")
    # Rev. Proc. 2023-34 §3.03: single $47,025 / $518,900; married filing jointly $94,050 / $583,750.
    assert "single: 0+ 0, 47025+ 0.15, 518900+ 0.20" in value
    assert "married_joint: 0+ 0, 94050+ 0.15, 583750+ 0.20" in value
    assert "Rev. Proc. 2023-34" in source


def test_every_value_line_has_a_source_line() -> None:
    lines = _show("us", "--as-of", "2025-06-30").splitlines()
    body = lines[lines.index("") + 1:]
    assert body and len(body) % 2 == 0
    for value, source in zip(body[0::2], body[1::2]):
        assert " = " in value and source.startswith("    since ") and "  source: " in source


def test_jurisdiction_code_is_accepted() -> None:
    assert _show("US", "--as-of", "2025-06-30") == _show("us", "--as-of", "2025-06-30")


def test_a_date_outside_the_coverage_says_so() -> None:
    pack = find_bundled("us")
    assert pack is not None
    after = pack.coverage_to + dt.timedelta(days=1)
    output = _show("us", "--as-of", after.isoformat())
    assert output.splitlines()[3] == (
        f"warning: {after} is outside the pack's coverage ({pack.coverage_from} to {pack.coverage_to}): "
        "the pack does not answer for this date, and the values below may no longer (or not yet) be the law"
    )
    data = json.loads(_show("us", "--as-of", after.isoformat(), "--format", "json"))
    assert data["covered"] is False and data["coverage"] == [pack.coverage_from.isoformat(), pack.coverage_to.isoformat()]


def test_json_keeps_amounts_exact() -> None:
    data = json.loads(_show("us", "--as-of", "2025-06-30", "--format", "json"))
    assert data["covered"] is True and data["as_of"] == "2025-06-30"
    row = next(r for r in data["values"] if r["name"] == "capital_gains.long_term_brackets")
    assert row["value"]["single"] == [{"from": "0", "rate": "0"}, {"from": "48350", "rate": "0.15"}, {"from": "533400", "rate": "0.20"}]
    assert row["since"] == "2025-01-01" and row["source"] and "Rev. Proc. 2024-40" in row["citation"]


def test_unknown_pack_is_an_input_error() -> None:
    result = run_cli("pack", "show", "uss")
    assert result.exit_code == 3
    assert result.output.startswith("error: no bundled pack 'uss'; did you mean 'us'? (expected one of ")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("day", ["2025-02-30", "30/06/2025"])
def test_a_bad_date_is_refused_without_traceback(day: str) -> None:
    result = run_cli("pack", "show", "us", "--as-of", day)
    assert result.exit_code != 0 and "--as-of" in result.output and "Traceback" not in result.output
