"""Terminal tables (`rich`) of `taxpack exit`, `taxpack pack diff`, `taxpack pack audit` and the batch summary.

Golden files at 100 columns without colour (tests/cli/expected/*.txt; `TAXPACK_UPDATE_EXPECTED=1` rewrites
them, then read them); for every table: no line over 100 columns, each footnote written once and every
mark pointing at one, colour only when asked. Through a pseudo-terminal, the commands print these tables
on a terminal; off a terminal (the other tests) they print the plain text they always did.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taxpack.engine.law.diff import diff_packs
from taxpack.engine.law.load import load_pack
from taxpack.engine.law.weak_spots import audit_pack
from taxpack.engine.report.terminal import audit_tables, batch_summary_table, diff_tables, exit_tables
from taxpack.engine.review.impact import replay
from tests.exit.test_cli_exit import exit_args
from tests.expected import REPO_ROOT, run_cli

EXPECTED = Path(__file__).resolve().parent / "expected"
UPDATE = os.environ.get("TAXPACK_UPDATE_EXPECTED") == "1"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)


def exit_data(tmp_path: Path) -> dict:
    result = run_cli(*exit_args(tmp_path, "--format", "json", "--compare"))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def rich_diff(impact: bool, color: bool = False) -> str:
    if not impact:
        return diff_tables(diff_packs(load_pack("tests/diff/pairs/rich/old.yaml"), load_pack("tests/diff/pairs/rich/new.yaml")), color=color)
    old, new = load_pack("tests/diff/impact/old.yaml"), load_pack("tests/diff/impact/new_two.yaml")
    diff = diff_packs(old, new)
    return diff_tables(diff, replay(["tests/diff/impact/scenario.yaml"], old, new, diff), color=color)


def audit(color: bool = False) -> str:
    return audit_tables(audit_pack(load_pack("tests/diff/pairs/rich/new.yaml")), color=color)


BATCH = {"batch": "check", "households": 12, "ok": 7, "warnings": 3, "blocked": 1, "error": 1, "resumed": 2, "exit_code": 3}


def outputs(tmp_path: Path) -> dict[str, str]:
    return {
        "exit": exit_tables(exit_data(tmp_path), color=False),
        "diff": rich_diff(False),
        "diff-impact": rich_diff(True),
        "audit": audit(),
        "batch": batch_summary_table(BATCH, 4.0, "2 local workers", color=False),
    }


def check_notes(text: str) -> None:
    """Every [n] in the body has its note, every note is used, and no note text is written twice."""
    body, _, notes = text.partition("\nNotes\n")
    defined = re.findall(r"^ *\[(\d+)\] (.*)$", notes, re.M)
    numbers = [int(n) for n, _ in defined]
    assert numbers == list(range(1, len(numbers) + 1))
    used = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    assert used == set(numbers)
    starts = [t for _, t in defined]
    assert len(set(starts)) == len(starts)


@pytest.mark.parametrize("name", ["exit", "diff", "diff-impact", "audit", "batch"])
def test_golden_at_100_columns(name: str, tmp_path: Path) -> None:
    text = outputs(tmp_path)[name]
    assert not ANSI.search(text)
    assert max(len(line) for line in text.splitlines()) <= 100
    check_notes(text)
    path = EXPECTED / f"{name}.txt"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_each_caveat_once(tmp_path: Path) -> None:
    # The exit example has one reason shared by five holdings: one note, five marks.
    text = outputs(tmp_path)["exit"]
    assert text.count("all property is deemed sold at fair market value") == 1
    (mark,) = re.findall(r"^ *\[(\d+)\] all property is deemed sold at fair market value", text, re.M)
    assert text.split("\nNotes\n")[0].count(f"[{mark}]") == 5


def test_colour_only_when_asked(tmp_path: Path) -> None:
    coloured = rich_diff(False, color=True)
    assert ANSI.search(coloured)
    assert ANSI.sub("", coloured).replace("{+", "").replace("+}", "") != ""
    # Coloured, the changed words are styled instead of bracketed.
    assert "[-s.9-]" not in coloured and "s.9(2)" in ANSI.sub("", coloured)
    assert all(len(ANSI.sub("", line)) <= 100 for line in coloured.splitlines())


def test_narrow_terminal_fits(tmp_path: Path) -> None:
    text = exit_tables(exit_data(tmp_path), color=False, width=60)
    assert max(len(line) for line in text.splitlines()) <= 60


def _on_terminal(args: list[str]) -> str:
    """stdout of `taxpack ARGS` when stdout is a pseudo-terminal 100 columns wide."""
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS="100", LINES="50", TERM="xterm-256color")
    child = subprocess.Popen([sys.executable, "-m", "taxpack.cli", *args], cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                             stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    child.wait(timeout=300)
    os.close(master)
    return out.decode("utf-8").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_the_commands_draw_the_tables_on_a_terminal_only() -> None:
    diff_args = ["pack", "diff", "tests/diff/pairs/rich/old.yaml", "tests/diff/pairs/rich/new.yaml"]
    shown = _on_terminal(diff_args)
    assert ANSI.search(shown) and "Sources and citations" in shown
    assert ANSI.sub("", shown) == ANSI.sub("", rich_diff(False, color=True))
    plain = run_cli(*diff_args).output  # not a terminal: the plain text, unchanged
    assert plain == (REPO_ROOT / "tests" / "diff" / "expected" / "rich.txt").read_text(encoding="utf-8")
    audit_shown = _on_terminal(["pack", "audit", "us"])
    assert "item(s) to review" in audit_shown and ANSI.search(audit_shown) and "\nNotes\n" in ANSI.sub("", audit_shown)
