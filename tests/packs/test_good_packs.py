"""The good packs in tests/packs/good/ load, validate (exit 0) and read as their authors wrote them."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from taxpack.engine.law.load import load_pack, load_pack_text
from tests.expected import REPO_ROOT, relative, run_cli

GOOD = REPO_ROOT / "tests" / "packs" / "good"
CASES = sorted(p for p in GOOD.iterdir() if p.suffix == ".yaml" or (p / "pack.yaml").is_file())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_good_pack_validates(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    result = run_cli("pack", "validate", relative(case))
    assert result.exit_code == 0, result.output
    pack = load_pack(case)
    # A parameter nothing reads is a warning (exit code unchanged): norway.yaml's table exists only to be read back.
    unused = ["dividends.treaty_countries"] if case.name == "norway.yaml" else []
    warnings = "".join(f"{relative(case)}:{pack.parameters[name].span.line}:{pack.parameters[name].span.col}: warning: parameter '{name}' "
                       "is read by no section or rule: changing it changes nothing (expected {param: NAME} in a section or a rule "
                       "condition, {param:NAME} in a rule message, or remove it)\n" for name in unused)
    suffix = f", {len(unused)} warning" if unused else ""
    assert result.output == f"{warnings}{relative(case)}: {pack.ref} sha256:{pack.sha256[:12]} ok{suffix}\n"


def test_single_file_pack() -> None:
    pack = load_pack(GOOD / "minimal.yaml")
    assert (pack.id, pack.kind, pack.jurisdiction, pack.currency) == ("xa", "jurisdiction", "XA", "EUR")
    assert (pack.coverage_from, pack.coverage_to) == (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert pack.sources["act-1"].confidence == "verified"


def test_folder_pack_reads_its_test_files() -> None:
    pack = load_pack(GOOD / "folder")
    names = [t["name"] for t in pack.data["tests"]]
    # tests/from_file.yaml (a {tests: [...]} mapping) sorts before tests/gains.yaml (a plain list).
    assert names == ["Loss of 4 x (90 - 100) = -40, no repurchase, so no finding", "FIFO gain on a partial sale"]
    assert pack.value("capital_gains.rate", dt.date(2024, 6, 1)).value == Decimal("0.25")
    # The 24-month value starts 2025-07-01 and is marked uncertain; the day before, 12 months is in force.
    assert pack.value("holding.long_term_after", dt.date(2025, 6, 30)).value == 12
    later = pack.value("holding.long_term_after", dt.date(2025, 7, 1))
    assert (later.value, later.uncertain) == (24, "announced in a budget, not enacted")


def test_folder_pack_hash_covers_its_test_files(tmp_path: Path) -> None:
    """Changing a test file changes the pack's hash: the tests are part of what the hash vouches for."""
    folder = tmp_path / "xc"
    (folder / "tests").mkdir(parents=True)
    (folder / "pack.yaml").write_text((GOOD / "folder" / "pack.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    cases = (GOOD / "folder" / "tests" / "gains.yaml").read_text(encoding="utf-8")
    (folder / "tests" / "gains.yaml").write_text(cases, encoding="utf-8")
    before = load_pack(folder).sha256
    (folder / "tests" / "gains.yaml").write_text(cases.replace("gain: 200.00", "gain: 201.00"), encoding="utf-8")
    assert load_pack(folder).sha256 != before


def test_norway_stays_text() -> None:
    pack = load_pack(GOOD / "norway.yaml")
    assert pack.id == "no" and pack.jurisdiction == "NO" and pack.currency == "NOK"
    table = pack.value("dividends.treaty_countries", dt.date(2024, 5, 17)).value
    assert table == {"countries": ["NO", "SE", "DK"], "yes": "ON", "off": "OFF"}


def test_bom_is_ignored_and_accents_survive() -> None:
    assert (GOOD / "bom.yaml").read_bytes().startswith(b"\xef\xbb\xbf")
    pack = load_pack(GOOD / "bom.yaml")
    assert pack.title == "Pack saved with a byte order mark (Sévigné, Größe)"


def test_treaties_pack_needs_no_jurisdiction_sections() -> None:
    pack = load_pack(GOOD / "treaties.yaml")
    assert pack.kind == "treaties" and pack.jurisdiction is None
    assert pack.value("xa_xb.dividends", dt.date(2025, 3, 1)).uncertain == "protocol ratified but not yet in force"


def test_hash_ignores_layout_and_comments_but_not_meaning() -> None:
    """The same pack written in block style, with comments and 0.250 for 0.25, has the same hash."""
    text = (GOOD / "minimal.yaml").read_text(encoding="utf-8")
    reflowed = text.replace("coverage: {from: 2024-01-01, to: 2024-12-31}",
                            "# a comment\ncoverage:\n  to: 2024-12-31\n  from: 2024-01-01")
    assert reflowed != text
    assert load_pack_text(reflowed, "a.yaml").sha256 == load_pack_text(text, "b.yaml").sha256
    changed = text.replace("to: 2024-12-31", "to: 2024-12-30")
    assert load_pack_text(changed, "c.yaml").sha256 != load_pack_text(text, "b.yaml").sha256


def test_validate_json_lists_every_good_pack_as_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    result = run_cli("pack", "validate", "--format", "json", *[relative(c) for c in CASES])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [r["path"] for r in rows] == [relative(c) for c in CASES]
    assert all(r["valid"] and r["errors"] == [] and r["kind"] == "pack" for r in rows)


def test_folder_pack_cases_pass_through_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder pack's own cases (figures derived by hand in the test files) run and pass."""
    from taxpack.cli.pack import pack as pack_group

    if "test" not in pack_group.commands:
        pytest.skip("`taxpack pack test` is not available in this build")
    monkeypatch.chdir(REPO_ROOT)
    result = run_cli("pack", "test", relative(GOOD / "folder"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2 passed, 0 failed"
