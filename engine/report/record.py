"""Audit records: enough to replay a decision later and get the same bytes.

A record holds the SHA-256 of every input file (and of the FX override), the packs used with their
versions and content hashes, the taxpack version and the full JSON output. `taxpack check` writes it
with `--record FILE`; replaying the same inputs with the same packs must reproduce `output` exactly.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

from taxpack.engine import __version__
from taxpack.engine.core.documents import display_path, read_bytes
from taxpack.engine.core.files import write_text_atomic
from taxpack.engine.core.household import Scenario
from taxpack.engine.law.registry import PackSet


def file_sha256(path: Path | str) -> str:
    return hashlib.sha256(read_bytes(path, display_path(path))).hexdigest()


def write_record(path: Path, inputs: Sequence[Path], scenario: Scenario, packs: PackSet, output: dict[str, Any]) -> None:
    files = [{"path": display_path(p), "sha256": file_sha256(p)} for p in inputs]
    if scenario.fx_rates:
        files.append({"path": display_path(scenario.fx_rates), "sha256": file_sha256(scenario.fx_rates)})
    record = {
        "record": 1,
        "taxpack": __version__,
        "inputs": files,
        "packs": packs.stamp(),
        "output_sha256": hashlib.sha256(json.dumps(output, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest(),
        "output": output,
    }
    # Nothing half-written: the record appears whole or not at all; a folder that cannot be written is exit 3.
    write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
