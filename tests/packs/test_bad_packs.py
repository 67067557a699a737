"""Every bad pack in tests/packs/bad/ is refused with its exact message, `file:line:col` included.

A case is a YAML file or a pack folder; `NAME.expected` beside it holds what `taxpack pack validate`
prints (stdout and stderr as the terminal shows them). Exit code 1, never a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.expected import REPO_ROOT, assert_validate_reports, expected_path, relative

BAD = REPO_ROOT / "tests" / "packs" / "bad"
CASES = sorted(p for p in BAD.iterdir() if p.suffix in (".yaml", ".yml") or p.is_dir())


def test_there_are_at_least_25_bad_packs() -> None:
    assert len(CASES) >= 25


def test_every_expected_file_has_its_case() -> None:
    orphans = [relative(e) for e in BAD.glob("*.expected") if not any(expected_path(c) == e for c in CASES)]
    assert orphans == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_pack(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    assert_validate_reports(case)


def test_all_bad_packs_at_once_in_a_real_process() -> None:
    """One `taxpack pack validate` over every case: each case's report, in order, and exit 1."""
    exe = Path(sys.executable).parent / "taxpack"
    if not exe.is_file():
        pytest.skip(f"no taxpack command beside {sys.executable}")
    proc = subprocess.run([str(exe), "pack", "validate", *[relative(c) for c in CASES]], cwd=REPO_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", timeout=120)
    assert "Traceback" not in proc.stdout
    assert proc.returncode == 1
    assert proc.stdout == "".join(expected_path(c).read_text(encoding="utf-8") for c in CASES)
