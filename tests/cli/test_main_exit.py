"""The `taxpack` executable leaves without tearing the heap down (cli/main.py `main`): what it prints and the
exit code it ends with must be exactly what the command gives in process, whatever the exit path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from taxpack.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "household" / "scenario.yaml"


def executable(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "taxpack.cli", *args], capture_output=True, cwd=ROOT)


def test_the_whole_output_is_written_and_the_exit_code_kept() -> None:
    alone = CliRunner().invoke(cli, ["check", str(EXAMPLE), "--format", "json"])
    ran = executable("check", str(EXAMPLE), "--format", "json")
    assert ran.returncode == alone.exit_code != 0  # the bundled example has warnings: a non-zero code survives
    assert ran.stdout == alone.stdout_bytes and ran.stdout.endswith(b"}\n")


def test_an_input_error_keeps_exit_3_and_its_message() -> None:
    ran = executable("check", "no-such-scenario.yaml")
    assert ran.returncode == 3
    assert b"no-such-scenario.yaml" in ran.stderr and b"Traceback" not in ran.stderr


def test_a_closed_pipe_keeps_the_exit_code() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte (`taxpack check ... | head -0`)
    try:
        writer = subprocess.run([sys.executable, "-m", "taxpack.cli", "check", str(EXAMPLE), "--format", "json"],
                                stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT)
    finally:
        os.close(write_end)
    assert writer.returncode == 1
    assert b"Traceback" not in writer.stderr and b"Exception ignored" not in writer.stderr
