"""`taxpack pack list`: one line per bundled pack, with the version, coverage and hash of each."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from taxpack.engine.core.documents import load_yaml
from taxpack.engine.law.load import load_pack
from taxpack.engine.law.registry import bundled_packs
from tests.expected import REPO_ROOT, run_cli

BUNDLED = sorted(p.parent for p in (REPO_ROOT / "jurisdictions").glob("*/pack.yaml"))


def _declared(folder: Path) -> dict:
    """id, version and coverage as the pack file states them (read directly, not through the registry)."""
    data = load_yaml(folder / "pack.yaml").data
    return {"id": data["id"], "version": data["version"], "from": str(data["coverage"]["from"]), "to": str(data["coverage"]["to"])}


def test_text_lists_every_bundled_pack_sorted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the packs are package data: any working folder will do
    result = run_cli("pack", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    declared = sorted((_declared(f) for f in BUNDLED), key=lambda d: d["id"])
    assert len(lines) == len(declared) >= 1
    for line, pack in zip(lines, declared):
        fields = line.split()
        assert fields[0] == pack["id"] and fields[1] == pack["version"]
        assert f"{pack['from']}..{pack['to']}" in fields
        assert re.fullmatch(r"[0-9a-f]{12}", fields[fields.index(f"{pack['from']}..{pack['to']}") + 1])


def test_json_gives_full_hashes_that_match_the_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    bundled_packs.cache_clear()  # read the files now, as the loader below does
    result = run_cli("pack", "list", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    by_id = {r["id"]: r for r in rows}
    for folder in BUNDLED:
        pack = load_pack(folder)
        row = by_id[pack.id]
        assert row["sha256"] == pack.sha256 and re.fullmatch(r"[0-9a-f]{64}", row["sha256"])
        assert row["coverage"] == [pack.coverage_from.isoformat(), pack.coverage_to.isoformat()]
        assert (row["version"], row["kind"], row["jurisdiction"]) == (pack.version, pack.kind, pack.jurisdiction)


def test_output_is_deterministic() -> None:
    assert run_cli("pack", "list").output == run_cli("pack", "list").output
    assert run_cli("pack", "list", "--format", "json").output == run_cli("pack", "list", "--format", "json").output
