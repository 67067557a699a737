"""The suite imports the working tree: an edit to engine/ is what the tests see, installed copy or not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import taxpack.cli
import taxpack.engine
import taxpack.jurisdictions

ROOT = Path(__file__).resolve().parent.parent


def test_engine_cli_and_packs_come_from_the_checkout() -> None:
    assert Path(taxpack.engine.__file__).resolve().parent == ROOT / "engine"
    assert Path(taxpack.cli.__file__).resolve().parent == ROOT / "cli"
    assert Path(taxpack.jurisdictions.__file__).resolve().parent == ROOT / "jurisdictions"


def test_processes_the_tests_start_use_the_checkout_too() -> None:
    out = subprocess.run([sys.executable, "-c", "import taxpack.engine; print(taxpack.engine.__file__)"],
                         capture_output=True, text=True, check=True, cwd="/")
    assert Path(out.stdout.strip()).resolve().parent == ROOT / "engine"
