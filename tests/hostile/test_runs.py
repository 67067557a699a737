"""Issue 17, items 4-6: outputs written whole and never over an input, a batch output locked, every file of a
folder batch accounted for, interruptions that stop the workers and leave a resumable output, ranges and
CSV cells, and the command-line mistakes that used to be "a bug in taxpack"."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taxpack.engine.core.csv_safe import csv_safe
from tests.expected import REPO_ROOT, run_cli

DATA = REPO_ROOT / "tests" / "hostile" / "data"
HOUSEHOLD = (DATA / "household.yaml").read_text(encoding="utf-8")
PLAN_HOUSEHOLD = (DATA / "plan-household.yaml").read_text(encoding="utf-8")
PLAN_TARGETS = (DATA / "plan-targets.yaml").read_text(encoding="utf-8")
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from households import household as generated  # noqa: E402


def taxpack(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taxpack.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records), encoding="utf-8")
    return path


def small(seed: int) -> dict:
    return generated(seed, transactions=12, trades=2, securities=5)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# ---------------------------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("record, words", [
    ("s.yaml", "is also the scenario"),
    ("./d/../s.yaml", "is also the scenario"),
    ("link.json", "is also the scenario"),
    ("r.csv", "is also the scenario's fx rates file"),
    ("no/such/folder/r.json", "does not exist"),
    ("d", "is a folder"),
])
def test_a_record_that_would_overwrite_an_input_or_cannot_be_written_is_refused_first(tmp_path: Path, record: str, words: str) -> None:
    rates = "date,currency,quote,rate\n2026-03-02,USD,CAD,1.35\n"
    text = HOUSEHOLD.replace("as_of: 2026-03-02", "as_of: 2026-03-02\nfx: {rates: r.csv}")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "r.csv").write_text(rates, encoding="utf-8")
    (tmp_path / "d").mkdir()
    os.symlink("s.yaml", tmp_path / "link.json")
    result = run_cli("check", "s.yaml", "--record", record, "--format", "json")
    assert result.exit_code == 3, result.output
    assert words in result.output and "Traceback" not in result.output
    assert (tmp_path / "s.yaml").read_text(encoding="utf-8") == text and (tmp_path / "r.csv").read_text(encoding="utf-8") == rates


def test_a_record_is_written_whole_and_replaces_the_old_one(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(HOUSEHOLD, encoding="utf-8")
    (tmp_path / "r.json").write_text("old", encoding="utf-8")
    result = run_cli("check", "s.yaml", "--record", "r.json", "--format", "json")
    assert result.exit_code in (0, 1, 2), result.output
    record = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert record["record"] == 1 and record["inputs"][0]["path"] == "s.yaml"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "r.json", "s.yaml"] or not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from taxpack.engine.core.errors import TaxpackError
    from taxpack.engine.core.files import write_bytes_atomic

    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(TaxpackError) as caught:
        write_bytes_atomic(target, b"new")
    assert "no space left" in str(caught.value)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.png"]


@pytest.mark.parametrize("plot, words", [("t.yaml", "is also --targets"), ("no/such/p.png", "does not exist"), ("d", "is a folder")])
def test_a_plot_that_would_overwrite_an_input_or_cannot_be_written_is_refused_before_the_plan(tmp_path: Path, plot: str, words: str) -> None:
    (tmp_path / "h.yaml").write_text(PLAN_HOUSEHOLD, encoding="utf-8")
    (tmp_path / "t.yaml").write_text(PLAN_TARGETS, encoding="utf-8")
    (tmp_path / "d").mkdir()
    start = time.monotonic()
    result = run_cli("plan", "h.yaml", "--targets", "t.yaml", "--plot", plot, "--format", "json")
    assert result.exit_code == 3 and words in result.output
    assert time.monotonic() - start < 10  # said before the solver runs
    assert (tmp_path / "t.yaml").read_text(encoding="utf-8") == PLAN_TARGETS


def test_the_plot_is_a_png_written_whole(tmp_path: Path) -> None:
    (tmp_path / "h.yaml").write_text(PLAN_HOUSEHOLD, encoding="utf-8")
    (tmp_path / "t.yaml").write_text(PLAN_TARGETS, encoding="utf-8")
    result = run_cli("plan", "h.yaml", "--targets", "t.yaml", "--plot", "bands.png", "--format", "json")
    assert result.exit_code in (0, 1, 2), result.output
    assert (tmp_path / "bands.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_that_would_start_a_formula_is_written_as_text(cell: str) -> None:
    assert csv_safe(cell) == "'" + cell
    assert csv_safe("-1000.00") == "-1000.00" and csv_safe("+5") == "+5" and csv_safe("VTI") == "VTI"


def test_every_csv_format_escapes_its_cells(tmp_path: Path) -> None:
    from taxpack.engine.report.check_formats import render_csv

    data = json.loads(run_cli("check", str(REPO_ROOT / "tests" / "hostile" / "data" / "household.yaml"), "--format", "json").output)
    data["trades"][0]["id"] = "=HYPERLINK(\"http://x\")"
    data["trades"][0]["security"] = "@evil"
    rows = list(csv.reader(io.StringIO(render_csv(data))))
    cells = [c for row in rows[1:] for c in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'@evil" in cells
    assert not [c for c in cells if c[:1] in ("=", "@", "\t", "\r") or (c[:1] in ("+", "-") and not c[1:2].isdigit())]


def test_every_csv_writer_of_the_engine_escapes_its_rows() -> None:
    """Each CSV writer's data rows go through csv_safe_row (the header rows are constants of ours)."""
    import re

    unescaped = []
    for path in sorted((REPO_ROOT / "engine").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"writer\.writerow\((?!csv_safe_row\()([^)\n]*)", text):
            if not re.fullmatch(r"[A-Za-z_]*(COLUMNS|columns|HEADER|header|_CSV)", match.group(1).strip()):  # a header row
                unescaped.append(f"{path.relative_to(REPO_ROOT)}: {match.group(0)}")
    assert unescaped == []


def test_an_id_that_would_start_a_formula_is_refused_in_a_csv_input(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(HOUSEHOLD[: HOUSEHOLD.index("\ntrades:\n") + 1], encoding="utf-8")
    (tmp_path / "t.csv").write_text("id,account,security,date,side,quantity,price\n\"=cmd|x\",us-brokerage,VTI,2026-03-02,sell,5,300\n",
                                    encoding="utf-8")
    result = run_cli("check", "s.yaml", "--trades", "t.csv", "--format", "csv")
    assert result.exit_code == 3 and "t.csv:2: column 'id': parse error:" in result.output


# ---------------------------------------------------------------------------------------------- ranges


@pytest.mark.parametrize("old, new, words", [
    ("marginal_rate: {CA: 0.4341}", "marginal_rate: {CA: 0.4341, US: 7}", "marginal_rate"),
    ("marginal_rate: {CA: 0.4341}", "marginal_rate: {CA: '43'}", "marginal_rate"),
    ("dividend_yield: 0.013, name: Vanguard", "dividend_yield: '-2', name: Vanguard", "dividend_yield"),
    ("quantity: 50, price: 300.00, fees: 1.00, lots: hifo", "quantity: 50, price: '-300', fees: 1.00, lots: hifo", "price"),
])
def test_rates_outside_0_to_1_and_negative_prices_are_refused_at_their_place(tmp_path: Path, old: str, new: str, words: str) -> None:
    assert old in HOUSEHOLD
    (tmp_path / "s.yaml").write_text(HOUSEHOLD.replace(old, new), encoding="utf-8")
    result = run_cli("check", "s.yaml", "--format", "json")
    line = HOUSEHOLD.splitlines().index(next(x for x in HOUSEHOLD.splitlines() if old in x)) + 1
    assert result.exit_code == 3 and f"s.yaml:{line}:" in result.output and words in result.output, result.output


@pytest.mark.parametrize("option", ["VTI=-5", "VTI=NaN", "VTI=Infinity", "VTI=1e400"])
def test_a_harvest_price_must_be_a_number_of_at_least_0(tmp_path: Path, option: str) -> None:
    (tmp_path / "h.yaml").write_text(PLAN_HOUSEHOLD, encoding="utf-8")
    result = taxpack("harvest", "h.yaml", "--price", option, "--format", "json", cwd=tmp_path)
    assert result.returncode == 3 and "Invalid value for '--price'" in result.stderr, result.stderr


def test_a_pack_with_more_rules_than_the_limit_is_invalid(tmp_path: Path) -> None:
    from taxpack.engine.core.limits import MAX_RULES

    text = (REPO_ROOT / "jurisdictions" / "ca" / "pack.yaml").read_text(encoding="utf-8")
    rule = ("  - id: ca.extra_{i}\n    title: extra\n    when:\n      all:\n        - {{fact: trade.side, eq: sell}}\n"
            "    then:\n      code: extra_{i}\n      severity: info\n      message: extra\n      source: ita-39-1-1\n")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pack.yaml").write_text(text.replace("\nrules:\n", "\nrules:\n" + "".join(rule.format(i=i) for i in range(MAX_RULES + 1)), 1),
                                              encoding="utf-8")
    result = run_cli("pack", "validate", "p")
    assert result.exit_code == 1 and f"more than the {MAX_RULES} taxpack evaluates" in result.output
    line = text.splitlines().index("rules:") + 1
    assert f"p/pack.yaml:{line}:1: error:" in result.output


def test_a_rule_too_large_for_durable_rules_is_an_input_error_at_the_pack_rules(tmp_path: Path) -> None:
    from taxpack.engine.rules.durable_backend import durable_available

    if not durable_available():
        pytest.skip("durable_rules does not import on this Python")
    text = (REPO_ROOT / "jurisdictions" / "ca" / "pack.yaml").read_text(encoding="utf-8")
    leaves = "".join(f"          - {{fact: trade.gain, eq: {i}}}\n" for i in range(40))
    rule = (f"  - id: ca.wide\n    title: wide\n    when:\n      all:\n        - {{fact: trade.side, eq: sell}}\n        - any:\n{leaves}"
            "    then:\n      code: wide\n      severity: info\n      message: wide\n      source: ita-39-1-1\n")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pack.yaml").write_text(text.replace("\nrules:\n", "\nrules:\n" + rule, 1), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(HOUSEHOLD, encoding="utf-8")
    result = run_cli("check", "s.yaml", "--pack", "p", "--format", "json", "--rules-backend", "durable")
    assert result.exit_code == 3 and "durable_rules engine cannot evaluate these rules" in result.output
    assert run_cli("check", "s.yaml", "--pack", "p", "--format", "json", "--rules-backend", "python").exit_code in (0, 1, 2)


# ---------------------------------------------------------------------------------------------- batch


def test_a_second_run_on_the_same_output_is_refused_and_the_first_one_is_intact(tmp_path: Path) -> None:
    from taxpack.engine.batch.runner import open_output

    jsonl(tmp_path / "h.jsonl", [small(i) for i in range(3)])
    (tmp_path / "o.jsonl").write_text("the first run's results\n", encoding="utf-8")
    fd = open_output(tmp_path / "o.jsonl")  # a run in progress holds the lock
    try:
        result = taxpack("batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "1", cwd=tmp_path)
    finally:
        os.close(fd)
    assert result.returncode == 3 and "another taxpack batch is writing o.jsonl" in result.stderr
    assert (tmp_path / "o.jsonl").read_text(encoding="utf-8") == "the first run's results\n"
    assert taxpack("batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "1", cwd=tmp_path).returncode in (0, 1, 2)


def test_every_file_of_a_folder_is_a_result_or_an_error_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, name in enumerate(["a.yaml", "b.YAML", "c.yml", "d.json"]):
        (folder / name).write_text(json.dumps(small(i)), encoding="utf-8")
    (folder / "e.yaml").mkdir()
    os.mkfifo(folder / "f.yaml")
    os.symlink("nowhere.yaml", folder / "g.yaml")
    os.symlink("h.yaml", folder / "h.yaml")
    (folder / "i.json").write_bytes(b"")
    (folder / "rates.csv").write_text("date,currency,quote,rate\n", encoding="utf-8")
    (folder / ".hidden.yaml").write_text("not a household", encoding="utf-8")
    result = taxpack("batch", "check", "in", "--out", "o.jsonl", "--workers", "1", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    lines = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["source"] for x in lines] == [f"in/{n}" for n in ("a.yaml", "b.YAML", "c.yml", "d.json", "e.yaml", "f.yaml", "g.yaml", "h.yaml", "i.json")]
    errors = {x["source"]: x["error"]["message"] for x in lines if x["status"] == "error"}
    assert errors["in/e.yaml"] == "in/e.yaml: parse error: is a folder, not a file (expected a file)"
    assert "named pipe" in errors["in/f.yaml"] and "does not exist" in errors["in/g.yaml"] and "loop" in errors["in/h.yaml"]
    assert "rates.csv" in result.stderr  # named: not a household, not run


@pytest.mark.parametrize("out, words", [("in/b.yaml", "OUTPUT is the household in/b.yaml"), ("h.jsonl", "OUTPUT is INPUT")])
def test_an_output_that_is_an_input_is_refused(tmp_path: Path, out: str, words: str) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "b.yaml").write_text(json.dumps(small(1)), encoding="utf-8")
    jsonl(tmp_path / "h.jsonl", [small(2)])
    source = "in" if out.startswith("in/") else "h.jsonl"
    before = (tmp_path / out).read_bytes()
    result = taxpack("batch", "check", source, "--out", out, "--workers", "1", cwd=tmp_path)
    assert result.returncode == 3 and words in result.stderr
    assert (tmp_path / out).read_bytes() == before


def test_a_summary_that_cannot_be_written_is_said_before_the_households_run(tmp_path: Path) -> None:
    jsonl(tmp_path / "h.jsonl", [small(i) for i in range(3)])
    for summary, words in (("no/such/s.json", "does not exist"), ("h.jsonl", "is also INPUT"), ("o.jsonl", "is also OUTPUT")):
        result = taxpack("batch", "check", "h.jsonl", "--out", "o.jsonl", "--summary", summary, "--workers", "1", cwd=tmp_path)
        assert result.returncode == 3 and words in result.stderr, result.stderr
        assert not (tmp_path / "o.jsonl").exists()


def test_an_unreachable_dask_scheduler_is_an_input_error(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    jsonl(tmp_path / "h.jsonl", [small(1)])
    for address in ("tcp://127.0.0.1:9",):  # nothing listens there: refused, then the connect timeout
        result = taxpack("batch", "check", "h.jsonl", "--out", "o.jsonl", "--dask", address, cwd=tmp_path, timeout=60)
        assert result.returncode == 3 and f"--dask {address}: no Dask scheduler can be reached there" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / "o.jsonl").read_bytes()


def _descendants(pid: int) -> set[int]:
    found, frontier = set(), {pid}
    while frontier:
        children = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as f:
                        if int(f.read().rsplit(b")", 1)[1].split()[1]) in frontier:
                            children.add(int(entry))
                except (OSError, ValueError, IndexError):
                    continue
        children -= found
        found |= children
        frontier = children
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                    alive.add(pid)
        except OSError:
            continue
    return alive


@pytest.fixture(scope="module")
def interrupted_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """Households enough for a run of a few seconds, and the output of an uninterrupted run of them."""
    folder = tmp_path_factory.mktemp("batch")
    jsonl(folder / "h.jsonl", [generated(seed, transactions=40, trades=4, securities=8) for seed in range(200)])
    assert taxpack("batch", "check", "h.jsonl", "--out", "reference.jsonl", "--workers", "2", cwd=folder).returncode in (0, 1, 2)
    return folder / "h.jsonl", (folder / "reference.jsonl").read_bytes()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGKILL, None)])  # SIGTERM (143): the same path, in the sweep
def test_an_interrupted_batch_stops_its_workers_and_resumes_exactly(tmp_path: Path, sig: int, code: int | None,
                                                                    interrupted_input: tuple[Path, bytes]) -> None:
    source, reference = interrupted_input
    shutil.copy(source, tmp_path / "h.jsonl")
    command = [sys.executable, "-m", "taxpack.cli", "batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "2"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and (not (tmp_path / "o.jsonl").exists() or b"\n" not in (tmp_path / "o.jsonl").read_bytes()):
        time.sleep(0.02)
    workers = _descendants(process.pid)
    if process.poll() is not None:
        pytest.skip("the batch ended before it could be interrupted (a very fast machine)")
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=30)  # no hang: the workers do not keep the pipes open
    if code is not None:
        assert process.returncode == code
        assert "Traceback" not in stderr.decode() and "interrupted by" in stderr.decode() and "--resume" in stderr.decode()
    if code is None:
        time.sleep(2.5)  # a worker whose parent was killed notices within a second or two (SIGINT, SIGTERM: stopped at once)
    assert not _alive(workers), "worker processes outlived the batch"
    written = (tmp_path / "o.jsonl").read_bytes()
    assert written.count(b"\n") < reference.count(b"\n")
    assert reference.startswith(written[: written.rfind(b"\n") + 1])  # complete lines, the run's first ones
    assert taxpack("batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "2", "--resume", cwd=tmp_path).returncode in (0, 1, 2)
    assert (tmp_path / "o.jsonl").read_bytes() == reference


# ---------------------------------------------------------------------------------------------- pipes


@pytest.mark.parametrize("args", [["pack", "show", "us", "--as-of", "2025-06-01"], ["check", "big.json", "--format", "json", "--pretty"]])
def test_output_into_a_pipe_closed_early_ends_quietly_with_the_commands_own_code(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "big.json").write_text(json.dumps(generated(11, transactions=300, trades=60, securities=12)), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "taxpack.cli", *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # `| head -1`
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert process.returncode in (0, 1, 2), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr and "Exception ignored" not in stderr
