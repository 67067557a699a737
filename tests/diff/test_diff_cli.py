"""`taxpack pack diff` as a reviewer runs it: formats, exit codes, PATH@GITREV, and the CI guard
`taxpack pack validate --since GITREV`, on throw-away git repositories built with the real git.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.expected import REPO_ROOT, run_cli

PAIRS = Path(__file__).resolve().parent / "pairs"
EXPECTED = Path(__file__).resolve().parent / "expected"
RICH = ("tests/diff/pairs/rich/old.yaml", "tests/diff/pairs/rich/new.yaml")

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(REPO_ROOT)
    return REPO_ROOT


# ------------------------------------------------------------------------------------------------
# Formats and exit codes
# ------------------------------------------------------------------------------------------------


def test_equivalent_exits_0(at_repo_root: Path) -> None:
    result = run_cli("pack", "diff", "tests/diff/pairs/reformat/old.yaml", "tests/diff/pairs/reformat/new.yaml")
    assert result.exit_code == 0, result.output
    assert "EQUIVALENT: same content (formatting or comments only)" in result.output


@pytest.mark.parametrize("case", sorted(p.name for p in PAIRS.iterdir() if p.is_dir() and p.name != "reformat"))
def test_different_exits_1_in_every_format(at_repo_root: Path, case: str) -> None:
    for fmt in ("text", "markdown", "json"):
        result = run_cli("pack", "diff", f"tests/diff/pairs/{case}/old.yaml", f"tests/diff/pairs/{case}/new.yaml", "--format", fmt)
        assert result.exit_code == 1, (fmt, result.output)
        assert "Traceback" not in result.output


def test_text_snapshot_of_a_rich_amendment(at_repo_root: Path) -> None:
    # tests/diff/expected/rich.txt was read line by line against the pair: version 1.0.0 → 1.1.0; the
    # rate 0.30 → 0.33 from 1 July 2025 under act-2 (secondary); hifo no longer allowed; the repurchase
    # window after the sale 30 → 61 days; bonds added to the foreign-fund rule; act-9 re-cited; one new test.
    result = run_cli("pack", "diff", *RICH)
    assert result.exit_code == 1
    assert result.output == (EXPECTED / "rich.txt").read_text(encoding="utf-8")


def test_markdown_snapshot_of_a_rich_amendment(at_repo_root: Path) -> None:
    result = run_cli("pack", "diff", *RICH, "--format", "markdown")
    assert result.exit_code == 1
    assert result.output == (EXPECTED / "rich.md").read_text(encoding="utf-8")


def test_markdown_tables_are_well_formed(at_repo_root: Path) -> None:
    text = (EXPECTED / "rich.md").read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            widths = {line.replace("\\|", "").count("|") for line in rows}
            assert len(widths) == 1, block


def test_json_has_stable_keys_and_decimal_strings(at_repo_root: Path) -> None:
    result = run_cli("pack", "diff", *RICH, "--format", "json")
    data = json.loads(result.output)
    assert list(data) == ["old", "new", "equivalent", "counts", "version", "metadata", "sources", "citations",
                          "parameters", "sections", "rules", "tests"]
    (param,) = data["parameters"]
    assert param["values"] == [{
        "start": "2025-07-01", "change": "added", "old": "0.30", "new": "0.33", "old_source": "act-1",
        "new_source": "act-2", "old_since": "2024-01-01", "until": None, "fields": [],
    }]
    # Byte-identical on a second run.
    assert run_cli("pack", "diff", *RICH, "--format", "json").output == result.output


def test_bad_inputs_exit_3_with_the_place(at_repo_root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((PAIRS / "rich" / "new.yaml").read_text(encoding="utf-8").replace("version: 1.1.0", "version: one"), encoding="utf-8")
    result = run_cli("pack", "diff", "tests/diff/pairs/rich/old.yaml", str(bad))
    assert result.exit_code == 3
    assert "bad.yaml:7:" in result.output and "Traceback" not in result.output
    result = run_cli("pack", "diff", "tests/diff/pairs/rich/old.yaml@no-such-rev", "tests/diff/pairs/rich/new.yaml")
    assert result.exit_code == 3
    assert "unknown git revision 'no-such-rev'" in result.output


# ------------------------------------------------------------------------------------------------
# PATH@GITREV and the CI guard, on a throw-away repository
# ------------------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env_args = ["-c", "user.name=taxpack tests", "-c", "user.email=tests@taxpack.invalid", "-c", "commit.gpgsign=false"]
    result = subprocess.run(["git", *env_args, *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout


def make_repo(tmp_path: Path) -> Path:
    """A repository with a folder pack `jurisdictions/xa` (pack.yaml + tests/extra.yaml) and a CHANGELOG."""
    repo = tmp_path / "repo"
    pack = repo / "jurisdictions" / "xa"
    (pack / "tests").mkdir(parents=True)
    text = (PAIRS / "rich" / "old.yaml").read_text(encoding="utf-8")
    head, _, tests = text.partition("\ntests:\n")
    (pack / "pack.yaml").write_text(head + "\n", encoding="utf-8")
    (pack / "tests" / "extra.yaml").write_text(tests, encoding="utf-8")
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n## Unreleased\n\n- Pack `xa` 1.0.0: first version.\n", encoding="utf-8")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "xa 1.0.0")
    return repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@needs_git
def test_diff_against_the_previous_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path)
    pack = repo / "jurisdictions" / "xa"
    edit(pack / "pack.yaml", "      2024-01-01: {value: 0.30, source: act-1}\n",
         "      2024-01-01: {value: 0.30, source: act-1}\n      2025-07-01: {value: 0.33, source: act-2}\n")
    edit(pack / "pack.yaml", "version: 1.0.0", "version: 1.1.0")
    edit(pack / "tests" / "extra.yaml", "gain: 100.00", "gain: 110.00")
    git(repo, "commit", "-q", "-am", "xa 1.1.0")
    monkeypatch.chdir(repo)

    result = run_cli("pack", "diff", "jurisdictions/xa@HEAD~1", "jurisdictions/xa", "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["old"]["label"] == "jurisdictions/xa/pack.yaml@HEAD~1"
    assert (data["old"]["version"], data["new"]["version"]) == ("1.0.0", "1.1.0")
    assert [(p["name"], [(v["start"], v["change"], v["old"], v["new"]) for v in p["values"]]) for p in data["parameters"]] == [
        ("capital_gains.rate", [("2025-07-01", "added", "0.30", "0.33")])]
    # The tests folder at HEAD~1 was read too: the changed expectation shows.
    assert [(t["name"], [f["path"] for f in t["fields"]]) for t in data["tests"]] == [
        ("a gain at the flat rate", ["/expect/t1/XA/gain"])]

    # Both sides from history; the same revision twice is equivalent.
    assert run_cli("pack", "diff", "jurisdictions/xa@HEAD~1", "jurisdictions/xa@HEAD").exit_code == 1
    assert run_cli("pack", "diff", "jurisdictions/xa@HEAD", "jurisdictions/xa").exit_code == 0
    # A single-file path at a revision, and a path that did not exist then.
    assert run_cli("pack", "diff", "jurisdictions/xa/pack.yaml@HEAD~1", "jurisdictions/xa/pack.yaml").exit_code == 1
    missing = run_cli("pack", "diff", "jurisdictions/zz@HEAD~1", "jurisdictions/xa")
    assert missing.exit_code == 3
    assert "there is no pack at 'jurisdictions/zz' in revision HEAD~1" in missing.output
    bad_rev = run_cli("pack", "diff", "jurisdictions/xa@HEAD~5", "jurisdictions/xa")
    assert bad_rev.exit_code == 3
    assert "jurisdictions/xa@HEAD~5: error: unknown git revision 'HEAD~5'" in bad_rev.output


@needs_git
def test_guard_fails_a_content_change_without_a_version_bump(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path)
    monkeypatch.chdir(repo)
    # Only comments and layout: same hash, nothing to ask.
    edit(repo / "jurisdictions" / "xa" / "pack.yaml", "format: 1\n", "format: 1   # pack format\n")
    ok = run_cli("pack", "validate", "--since", "HEAD", "jurisdictions/xa")
    assert ok.exit_code == 0, ok.output
    assert "1 pack(s) compared, 0 changed" in ok.output

    edit(repo / "jurisdictions" / "xa" / "pack.yaml", "after: {days: 30}", "after: {days: 61}")
    result = run_cli("pack", "validate", "--since", "HEAD", "jurisdictions/xa")
    assert result.exit_code == 1
    assert "jurisdictions/xa: pack `xa` changed since HEAD (old: 1.0.0 sha256 " in result.output
    assert "missing: a new version: the content changed but the version is still 1.0.0" in result.output
    assert "missing: a CHANGELOG.md entry: CHANGELOG.md has not changed since HEAD" in result.output

    # The version alone is not enough...
    edit(repo / "jurisdictions" / "xa" / "pack.yaml", "version: 1.0.0", "version: 1.1.0")
    result = run_cli("pack", "validate", "--since", "HEAD", "jurisdictions/xa")
    assert result.exit_code == 1
    assert "new version" not in result.output
    assert "CHANGELOG.md has not changed since HEAD" in result.output

    # ...nor a CHANGELOG line that names another version or another pack.
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(changelog.read_text(encoding="utf-8") + "- Pack `xb` 1.1.0: unrelated.\n- Pack `xa` 1.0.1: typo.\n", encoding="utf-8")
    result = run_cli("pack", "validate", "--since", "HEAD", "jurisdictions/xa")
    assert result.exit_code == 1
    assert "a CHANGELOG.md line naming pack `xa` and version 1.1.0" in result.output

    changelog.write_text(changelog.read_text(encoding="utf-8") + "- Pack `xa` 1.1.0: repurchase window after a loss sale 30 → 61 days.\n", encoding="utf-8")
    result = run_cli("pack", "validate", "--since", "HEAD", "jurisdictions/xa")
    assert result.exit_code == 0, result.output
    assert "1 pack(s) compared, 1 changed" in result.output

    # Committed, the same check against the commit before passes too (what CI runs on a branch).
    git(repo, "commit", "-q", "-am", "xa 1.1.0")
    assert run_cli("pack", "validate", "--since", "HEAD~1", "jurisdictions/xa").exit_code == 0
    # And a version that goes down is refused.
    edit(repo / "jurisdictions" / "xa" / "pack.yaml", "version: 1.1.0", "version: 0.9.0")
    edit(repo / "CHANGELOG.md", "1.1.0: repurchase", "0.9.0: repurchase")
    result = run_cli("pack", "validate", "--since", "HEAD~1", "jurisdictions/xa")
    assert result.exit_code == 1
    assert "a higher version: 1.0.0 → 0.9.0 goes down" in result.output


@needs_git
def test_guard_asks_a_changelog_line_for_a_new_pack_and_reports_a_bad_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path)
    monkeypatch.chdir(repo)
    shutil.copytree(repo / "jurisdictions" / "xa", repo / "jurisdictions" / "xb")
    edit(repo / "jurisdictions" / "xb" / "pack.yaml", "id: xa\njurisdiction: XA", "id: xb\njurisdiction: XB")
    result = run_cli("pack", "validate", "--since", "HEAD", "jurisdictions/xa", "jurisdictions/xb")
    assert result.exit_code == 1
    assert "jurisdictions/xb: pack `xb` changed since HEAD (old: absent;" in result.output
    edit(repo / "CHANGELOG.md", "first version.\n", "first version.\n- Pack `xb` 1.0.0: new test jurisdiction.\n")
    assert run_cli("pack", "validate", "--since", "HEAD", "jurisdictions/xa", "jurisdictions/xb").exit_code == 0

    bad = run_cli("pack", "validate", "--since", "nope", "jurisdictions/xa")
    assert bad.exit_code == 3
    assert "unknown git revision 'nope'" in bad.output
