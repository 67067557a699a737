"""A usage error (bad option value, unknown option) is an input error: exit 3, never 2 (2 = blocking)."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taxpack.cli", *args], capture_output=True, text=True)


def test_bad_date_option_exits_3() -> None:
    result = run("pack", "show", "us", "--as-of", "2025-13-01")
    assert result.returncode == 3
    assert "Invalid value for '--as-of'" in result.stderr and "Traceback" not in result.stderr


def test_unknown_option_exits_3() -> None:
    result = run("check", "--no-such-option")
    assert result.returncode == 3


def test_help_exits_0_and_documents_exit_codes() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "3  the input is wrong" in result.stdout
