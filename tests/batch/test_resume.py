"""--resume: the households already written are kept, a cut-off last line is redone, the file ends as an uninterrupted run's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxpack.engine.batch.detail import DETAILS
from taxpack.engine.batch.jobs import Job
from taxpack.engine.batch.runner import read_existing, run_batch
from taxpack.engine.core.documents import display_path
from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.law.registry import pack_set

from .helpers import jsonl, oversold, small


@pytest.fixture(scope="module", params=DETAILS)
def job(request: pytest.FixtureRequest) -> Job:
    """Every test at both detail levels: a summary line holds other packs' stamps than a full one."""
    return Job("check", pack_set(), detail=request.param)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    records: list = [small(seed) for seed in range(800, 812)]
    records[5] = oversold(805)  # an error line is resumed like any other
    return jsonl(tmp_path / "in.jsonl", records)


@pytest.fixture
def reference(tmp_path: Path, source: Path, job: Job) -> Path:
    out = tmp_path / "reference.jsonl"
    run_batch(job, source, out, workers=1)
    return out


@pytest.mark.parametrize("kept, cut", [(0, 0), (0, 37), (4, 0), (4, 1), (5, 200), (11, 0), (11, -1), (12, 0)])
def test_resume_after_an_interruption_gives_the_uninterrupted_file(tmp_path: Path, source: Path, reference: Path, job: Job,
                                                                  kept: int, cut: int) -> None:
    """`kept` complete lines, then `cut` bytes of the next one (-1: all of it but its newline)."""
    whole = reference.read_bytes().splitlines(keepends=True)
    partial = b"".join(whole[:kept])
    if kept < len(whole) and cut:
        nxt = whole[kept]
        partial += nxt[:-1] if cut == -1 else nxt[:cut]
    out = tmp_path / "out.jsonl"
    out.write_bytes(partial)
    assert read_existing(out, job).count == kept
    summary = run_batch(job, source, out, workers=2, resume=True)
    assert out.read_bytes() == reference.read_bytes()
    assert summary.resumed == kept
    # The counts cover the whole input, resumed households included: the same as an uninterrupted run's.
    fresh = run_batch(job, source, tmp_path / "again.jsonl", workers=1)
    assert summary.to_json_dict() == fresh.to_json_dict() | {"resumed": kept}


def test_resume_without_an_output_runs_everything(tmp_path: Path, source: Path, reference: Path, job: Job) -> None:
    out = tmp_path / "new.jsonl"
    run_batch(job, source, out, workers=1, resume=True)
    assert out.read_bytes() == reference.read_bytes()


def test_a_damaged_line_before_the_last_stops_the_resume_with_its_place(tmp_path: Path, source: Path, reference: Path, job: Job) -> None:
    whole = reference.read_bytes().splitlines(keepends=True)
    whole[2] = b'{"not": "a result"}\n'
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"".join(whole[:6]))
    with pytest.raises(TaxpackError) as caught:
        run_batch(job, source, out, workers=1, resume=True)
    assert caught.value.span is not None and caught.value.span.line == 3
    assert out.read_bytes() == b"".join(whole[:6])  # nothing touched


def test_an_output_of_another_input_is_not_resumed(tmp_path: Path, reference: Path, job: Job) -> None:
    other = jsonl(tmp_path / "other.jsonl", [small(seed) for seed in range(900, 905)])
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"".join(reference.read_bytes().splitlines(keepends=True)[:3]))
    with pytest.raises(TaxpackError) as caught:
        run_batch(job, other, out, workers=1, resume=True)
    assert "the same input as the run being resumed" in caught.value.render()
    assert caught.value.span is not None and caught.value.span.line == 1


def test_an_output_of_other_packs_or_another_command_is_not_resumed(tmp_path: Path, source: Path, reference: Path, job: Job) -> None:
    out = tmp_path / "out.jsonl"
    first = json.loads(reference.read_bytes().splitlines()[0])
    if job.detail == "full":
        first["packs"][0]["sha256"] = "0" * 64
    else:
        first["packs"]["set"] = "0" * 12
    out.write_text(json.dumps(first) + "\n", encoding="utf-8")
    with pytest.raises(TaxpackError, match="other packs"):
        run_batch(job, source, out, workers=1, resume=True)
    if job.detail == "summary":  # the set is the same, but a pack the line used is not one of this run's
        first = json.loads(reference.read_bytes().splitlines()[0])
        first["packs"]["used"][0] = first["packs"]["used"][0][:-1] + ("0" if first["packs"]["used"][0][-1] != "0" else "1")
        out.write_text(json.dumps(first) + "\n", encoding="utf-8")
        with pytest.raises(TaxpackError, match="other packs"):
            run_batch(job, source, out, workers=1, resume=True)
    first = json.loads(reference.read_bytes().splitlines()[0])
    first["batch"] = "plan"
    out.write_text(json.dumps(first) + "\n", encoding="utf-8")
    with pytest.raises(TaxpackError, match="batch plan"):
        run_batch(job, source, out, workers=1, resume=True)


def test_the_output_is_never_read_as_a_household_nor_written_over_the_input(tmp_path: Path, job: Job) -> None:
    folder = tmp_path / "households"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(small(1)), encoding="utf-8")
    out = folder / "results.json"  # a .json file inside the input folder
    run_batch(job, folder, out, workers=1)
    run_batch(job, folder, out, workers=1, resume=True)
    assert [json.loads(x)["source"].endswith("a.json") for x in out.read_text(encoding="utf-8").splitlines()] == [True]
    source = jsonl(tmp_path / "in.jsonl", [small(1)])
    before = source.read_bytes()
    with pytest.raises(TaxpackError, match="OUTPUT is INPUT"):
        run_batch(job, source, source, workers=1)
    assert source.read_bytes() == before


def test_resume_after_the_command_is_killed(tmp_path: Path, job: Job) -> None:
    """A real interruption: SIGKILL to the command and its workers while they write, then --resume."""
    import os
    import signal
    import subprocess
    import sys
    import time

    source = jsonl(tmp_path / "in.jsonl", [small(seed) for seed in range(1000, 1300)])
    reference = tmp_path / "reference.jsonl"
    run_batch(job, source, reference, workers=2)
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "taxpack.cli", "batch", "check", str(source), "--out", str(out), "--workers", "2", "--detail", job.detail]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and (not out.exists() or out.stat().st_size < 50_000):
        time.sleep(0.02)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    written = out.read_bytes()
    if len(written) >= len(reference.read_bytes()):
        pytest.skip("the command finished before it could be killed (a very fast machine): nothing to resume")
    assert reference.read_bytes().startswith(written)  # what was written is a prefix of the full output
    summary = run_batch(job, source, out, workers=2, resume=True)
    assert out.read_bytes() == reference.read_bytes()
    assert summary.resumed == written.count(b"\n")


def test_an_output_of_the_other_detail_level_is_not_resumed(tmp_path: Path, source: Path, reference: Path, job: Job) -> None:
    """Lines of two levels in one file would be neither level: refused (exit 3) at the first line, nothing touched."""
    other = "full" if job.detail == "summary" else "summary"
    out = tmp_path / "out.jsonl"
    run_batch(Job("check", pack_set(), detail=other), source, out, workers=1)
    kept = b"".join(out.read_bytes().splitlines(keepends=True)[:4])
    out.write_bytes(kept)
    with pytest.raises(TaxpackError) as caught:
        run_batch(job, source, out, workers=1, resume=True)
    assert caught.value.exit_code == 3
    assert caught.value.render() == (f"{display_path(out)}:1: error: this output was written with --detail {other}, not --detail {job.detail}: "
                                     f"its lines would mix two levels (expected --detail {other}, as in the run being resumed, or no --resume)")
    assert out.read_bytes() == kept
