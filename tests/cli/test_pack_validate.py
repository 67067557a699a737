"""`taxpack pack validate PATH...`: text, json and github formats; exit 0 when all are valid, 1 if not."""

from __future__ import annotations

import json
import re

import pytest

from tests.expected import REPO_ROOT, relative, run_cli

BAD = REPO_ROOT / "tests" / "packs" / "bad"
GOOD = REPO_ROOT / "tests" / "packs" / "good"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def test_bundled_jurisdictions_pass() -> None:
    """`taxpack pack validate jurisdictions/*`, as the shell expands it."""
    paths = sorted(relative(p) for p in (REPO_ROOT / "jurisdictions").iterdir() if p.name != "__pycache__")
    result = run_cli("pack", "validate", *paths)
    assert result.exit_code == 0, result.output
    # Warnings (a parameter nothing reads) are printed above a path's summary and do not change the exit code.
    lines = [line for line in result.output.splitlines() if ": warning: parameter '" not in line]
    assert len(lines) == len(paths)
    for path, line in zip(paths, lines):
        assert line.startswith(f"{path}: ")
        assert re.search(r" ok(, \d+ warnings?)?$", line) or line.endswith("skipped: not a YAML or JSON file"), line


def test_text_reports_errors_and_a_summary_per_path() -> None:
    bad, good = BAD / "unknown_source.yaml", GOOD / "minimal.yaml"
    result = run_cli("pack", "validate", relative(bad), relative(good))
    assert result.exit_code == 1
    expected = (BAD / "unknown_source.expected").read_text(encoding="utf-8")
    assert result.output.startswith(expected)
    assert result.output[len(expected):].startswith(f"{relative(good)}: xa@1.0.0 sha256:")
    assert result.output.endswith(" ok\n")


def test_all_good_exits_0() -> None:
    result = run_cli("pack", "validate", relative(GOOD / "minimal.yaml"), relative(GOOD / "folder"))
    assert result.exit_code == 0, result.output


def test_json_format() -> None:
    result = run_cli("pack", "validate", "--format", "json", relative(BAD / "wrong_type.yaml"), relative(GOOD / "minimal.yaml"))
    assert result.exit_code == 1
    bad, good = json.loads(result.output)
    assert (bad["path"], bad["kind"], bad["valid"]) == ("tests/packs/bad/wrong_type.yaml", "pack", False)
    assert bad["errors"] == [
        {"kind": "schema error", "message": "title: the number 2024 has the wrong type", "expected": 'text, in quotes: "2024"',
         "file": "tests/packs/bad/wrong_type.yaml", "line": 6, "col": 8, "column": None},
        {"kind": "schema error", "message": "sources.act-1.citation: a list has the wrong type", "expected": "text",
         "file": "tests/packs/bad/wrong_type.yaml", "line": 11, "col": 21, "column": None},
    ]
    assert good["valid"] is True and good["errors"] == [] and good["label"].startswith("xa@1.0.0 sha256:")


def test_github_format_annotates_lines_and_escapes_percent() -> None:
    result = run_cli("pack", "validate", "--format", "github", relative(BAD / "rate_above_one.yaml"), relative(GOOD / "minimal.yaml"))
    assert result.exit_code == 1
    # GitHub reads %XX as an escape: the '%' of "15%" must be written %25. Valid packs print nothing.
    assert result.output == (
        "::error file=tests/packs/bad/rate_above_one.yaml,line=21,col=27,title=taxpack error::"
        "parameter 'cgt.rate' value of 2024-01-01: rate 20 is outside 0 to 1 "
        "(expected a fraction between 0 and 1: 15%25 is written 0.15)\n"
    )


def test_github_format_for_a_parse_error() -> None:
    result = run_cli("pack", "validate", "--format", "github", relative(BAD / "duplicate_key.yaml"))
    assert result.output == (
        "::error file=tests/packs/bad/duplicate_key.yaml,line=12,col=1,title=taxpack parse error::"
        "duplicate key 'version' (first at line 7)\n"
    )


def test_scenarios_are_recognised_by_their_taxpack_key() -> None:
    result = run_cli("pack", "validate", "tests/scenarios/good/household.json")
    assert result.exit_code == 0
    assert result.output == "tests/scenarios/good/household.json: scenario, 1 trade(s) ok\n"


def test_missing_paths_and_folders_without_a_pack() -> None:
    result = run_cli("pack", "validate", "no/such/pack.yaml", "tests/cli")
    assert result.exit_code == 1
    assert result.output == (
        "no/such/pack.yaml: parse error: file not found\n"
        "no/such/pack.yaml: 1 error\n"
        "tests/cli: parse error: there is no pack.yaml in this folder "
        "(expected a pack folder holding pack.yaml, a pack file, or a scenario file)\n"
        "tests/cli: 1 error\n"
    )


def test_files_that_are_not_yaml_are_skipped_not_failed() -> None:
    result = run_cli("pack", "validate", "jurisdictions/__init__.py", relative(GOOD / "minimal.yaml"))
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "jurisdictions/__init__.py: skipped: not a YAML or JSON file"


def test_paths_are_shown_relative_to_the_working_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    result = run_cli("pack", "validate", "duplicate_key.yaml")
    assert result.output.startswith("duplicate_key.yaml:12:1: parse error: ")
    monkeypatch.chdir(REPO_ROOT / "tests")
    result = run_cli("pack", "validate", str(BAD / "duplicate_key.yaml"))
    assert result.output.startswith("packs/bad/duplicate_key.yaml:12:1: parse error: ")
