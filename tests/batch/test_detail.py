"""--detail: a summary line (the default) is at most 5 kB for the benchmark's households and says what the
full line says, in figures and codes; a full line is the line batch always wrote, byte for byte."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

from taxpack.engine import __version__
from taxpack.engine.batch.households import PlanRequest, household_document, read_items
from taxpack.engine.batch.jobs import Job, run_item
from taxpack.engine.batch.runner import run_batch
from taxpack.engine.consequences.check import run_check
from taxpack.engine.consequences.serialize import dumps, to_json_dict
from taxpack.engine.inputs.scenario import build_scenario
from taxpack.engine.law.registry import pack_set
from tests.expected import run_cli

from .helpers import households, jsonl, lines, oversold, small, unknown_account

MAX_LINE = 5_000  # issue 22: at most 5 kB per household by default
PROSE = {"message", "citation", "url", "caveat", "steps", "reason", "why", "notes", "facts", "conditions", "positions"}  # prose, explanations


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The benchmark's households (benchmarks/households.py `mixed_household`, the seeds batch_bench.py starts with)."""
    path = tmp_path_factory.mktemp("mixed") / "households.jsonl"
    households.write_jsonl(path, 200)
    return path


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


def test_summary_lines_of_the_benchmarks_households_are_at_most_5_kB(tmp_path: Path, mixed: Path) -> None:
    out = tmp_path / "check.jsonl"
    run_batch(Job("check", pack_set()), mixed, out, workers=2)
    sizes = [len(line) for line in out.read_bytes().splitlines(keepends=True)]
    assert len(sizes) == 200 and max(sizes) <= MAX_LINE, max(sizes)
    assert all(not (PROSE & set(_keys(r["result"]))) for r in lines(out))


def test_summary_lines_of_cash_raising_plans_are_at_most_5_kB(tmp_path: Path, mixed: Path) -> None:
    first = tmp_path / "first.jsonl"
    first.write_bytes(b"".join(mixed.read_bytes().splitlines(keepends=True)[:40]))
    out = tmp_path / "plan.jsonl"
    job = Job("plan", pack_set(), plan=PlanRequest(amount=Decimal(1000), account="p1-taxable"))
    run_batch(job, first, out, workers=2)
    sizes = [len(line) for line in out.read_bytes().splitlines(keepends=True)]
    assert len(sizes) == 40 and max(sizes) <= MAX_LINE, max(sizes)
    records = lines(out)
    assert sum(r["status"] != "error" for r in records) >= 35
    assert all(not (PROSE & set(_keys(r.get("result", {})))) for r in records)


def _item_lines(job: Job, source: Path) -> list[str]:
    return [run_item(job, item) for item in read_items(source)]


def test_a_full_line_is_the_line_batch_always_wrote(tmp_path: Path) -> None:
    """The line as it was before --detail existed: the check's JSON, every pack's stamp, no `detail` key."""
    source = jsonl(tmp_path / "in.jsonl", [small(61), unknown_account(62), small(63), oversold(64)])
    packs = pack_set()
    full = _item_lines(Job("check", packs, detail="full"), source)
    for item, line in zip(read_items(source), full, strict=True):
        record = json.loads(line)
        assert set(record) == {"taxpack", "batch", "source", "packs", "household", "status", "exit_code", "result" if record["exit_code"] < 3 else "error"}
        if "result" in record:
            checked = run_check(build_scenario(household_document(item), Path(item.base)), packs)
            old = {"taxpack": __version__, "batch": "check", "source": item.source, "packs": packs.stamp(), "result": to_json_dict(checked),
                   "household": record["household"], "status": record["status"], "exit_code": checked.exit_code}
            assert line == dumps(old)


def test_full_lines_are_written_by_the_command_with_detail_full(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", [small(71), small(72)])
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", "check", str(source), "--out", str(out), "--workers", "1", "--detail", "full").exit_code in (0, 1)
    assert out.read_text(encoding="utf-8") == "".join(_item_lines(Job("check", pack_set(), detail="full"), source))


def test_a_summary_line_holds_the_full_lines_figures_and_codes(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", [households.mixed_household(seed) for seed in range(8)] + [oversold(81)])
    packs = pack_set()
    short = {p["id"]: f"{p['id']}@{p['version']}+{p['sha256'][:12]}" for p in packs.stamp()}
    for summary_line, full_line in zip(_item_lines(Job("check", packs), source), _item_lines(Job("check", packs, detail="full"), source), strict=True):
        s, f = json.loads(summary_line), json.loads(full_line)
        assert s["detail"] == "summary" and "detail" not in f
        for key in ("taxpack", "batch", "source", "household", "status", "exit_code"):
            assert s[key] == f[key]
        if "error" in f:
            assert s["error"] == f["error"] and s["packs"]["used"] == []  # errors in full, with their places
            continue
        sr, fr = s["result"], f["result"]
        assert (sr["as_of"], sr["exit_code"]) == (fr["as_of"], fr["exit_code"])
        assert sr["summary"]["jurisdictions"] == fr["summary"]["jurisdictions"]
        bill = fr["summary"]["household"]
        assert sr["summary"]["household"] == {**bill, "lenses": [{k: v for k, v in lens.items() if k != "steps"} for lens in bill["lenses"]]}
        used = set()
        assert [t["id"] for t in sr["trades"]] == [t["id"] for t in fr["trades"]]
        for st, ft in zip(sr["trades"], fr["trades"], strict=True):
            assert (st["net_tax"], st["taxpayer"]) == (ft["net_tax"], ft["taxpayer"])
            for sc, fc in zip(st["consequences"], ft["consequences"], strict=True):
                for key in ("jurisdiction", "basis", "tax_year", "gain", "net_tax", "disallowed_loss"):
                    assert sc[key] == fc[key]
                # The line drops the consequence's currency: it is its jurisdiction's, which summary.jurisdictions gives.
                assert fc["currency"] == {j["jurisdiction"]: j["currency"] for j in sr["summary"]["jurisdictions"]}[fc["jurisdiction"]]
                assert sorted((sev, code) for sev, codes in sc["findings"].items() for code in codes) == \
                    sorted((x["severity"], x["code"]) for x in fc["findings"])
                used.add(fc["pack"].split("@")[0])
            assert sorted((sev, j) for sev, js in st["not_taxed_by"].items() for j in js) == \
                sorted((n["severity"], n["jurisdiction"]) for n in ft["not_taxed_by"])
        # The packs once: each one the trades used, as id@version+hash, and the digest of the run's set.
        assert used <= {u.split("@")[0] for u in s["packs"]["used"]}
        assert set(s["packs"]["used"]) <= set(short.values())
    assert len(summary_line) < len(full_line)


def test_the_summary_file_holds_the_full_stamps_at_the_summary_level_only(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", [small(91)])
    for detail in ("summary", "full"):
        out, summary = tmp_path / f"{detail}.jsonl", tmp_path / f"{detail}.json"
        run_cli("batch", "check", str(source), "--out", str(out), "--summary", str(summary), "--detail", detail, "--workers", "1")
        data = json.loads(summary.read_text(encoding="utf-8"))
        if detail == "full":  # as it always was
            assert set(data) == {"batch", "households", "ok", "warnings", "blocked", "error", "resumed", "exit_code"}
        else:
            assert data["detail"] == "summary" and data["packs"]["stamps"] == pack_set().stamp()
            assert lines(out)[0]["packs"]["set"] == data["packs"]["set"]


def test_resuming_at_the_other_level_is_exit_3_with_the_line(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "in.jsonl", [small(95), small(96)])
    out = tmp_path / "out.jsonl"
    assert run_cli("batch", "check", str(source), "--out", str(out), "--workers", "1", "--detail", "full").exit_code in (0, 1)
    before = out.read_bytes()
    result = run_cli("batch", "check", str(source), "--out", str(out), "--workers", "1", "--resume")
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert ":1: error: this output was written with --detail full, not --detail summary" in result.stderr
    assert out.read_bytes() == before
