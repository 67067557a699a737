"""A sweep of hostile and careless inputs across every command (issue 17): each must end in exit 0-3 with
its place, never an internal error, a traceback, a hang, a file touched outside its place or a lost result.

    python tests/hostile/sweep.py                 # every case, a table of classes with counts and exit codes
    python tests/hostile/sweep.py --class paths   # one class
    python tests/hostile/sweep.py --list          # the cases, without running them
    python tests/hostile/sweep.py --failures      # also print each failing case with its output

The cases are generated (same cases every run), each in a fresh folder under a temporary work folder; the
command is `python -m taxpack.cli` with the repository this file belongs to first on the path (its
`tests/tree`), so the same script measures any checkout. Every child runs with a 4 GB address-space limit,
so a case that would read a device or a huge file cannot exhaust the machine: it fails (MemoryError, a
crash) instead. tests/hostile/test_sweep.py runs a representative part of it in the test suite.

A case passes when: the exit code is one the case allows (3 for wrong input; 1 for `pack validate` of a
bad pack; 0-2 where the input is valid), no "Traceback" or "internal error" is printed, an error names its
place (`file:line:col`, `file:row: column 'x'`, `FILE:` for a whole file, or the option), nothing of a file
that is not the user's input is echoed, and the case's own invariant holds (outputs intact, results
complete, processes gone).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import importlib.util
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
TREE = REPO / "tests" / "tree"
SECRET = "TOPSECRET-issue17"
MEMORY_LIMIT = 4 * 1024**3
SPARSE = 30 * 1024**3  # a 30 GB file that takes no disk: reading it whole would take minutes and 30 GB

_spec = importlib.util.spec_from_file_location("taxpack_sweep_households", REPO / "benchmarks" / "households.py")
assert _spec and _spec.loader
_households = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_households)

# Copies of the bundled examples (examples/household, examples/plan) as they were when the sweep was
# written: the cases edit them by text, so they must not move when the examples do.
DATA = Path(__file__).resolve().parent / "data"
EXAMPLE = (DATA / "household.yaml").read_text(encoding="utf-8")
PRICES = (DATA / "prices.csv").read_text(encoding="utf-8")
PLAN_HOUSEHOLD = (DATA / "plan-household.yaml").read_text(encoding="utf-8")
PLAN_TARGETS = (DATA / "plan-targets.yaml").read_text(encoding="utf-8")

# Lines of the bundled example that the cases change (a case fails loudly if the example drifts).
T1 = "quantity: 50, price: 300.00, fees: 1.00, lots: hifo"
TX1 = "date: 2025-05-12, side: buy, quantity: 100, price: 280.00, fees: 1.00"
T1_DATE = "security: VTI, date: 2026-03-02, side: sell"
MARGINAL = "marginal_rate: {CA: 0.4341}"
OTHER_INCOME = "other_income: {US: 95000, CA: 130000}"
VTI_YIELD = "dividend_yield: 0.013, name: Vanguard"
T3_LOTS = "quantity: 20, price: 405.00, fees: 1.00, lots: fifo"
AS_OF = "as_of: 2026-03-02"


def scenario(*replacements: tuple[str, str], text: str = EXAMPLE) -> str:
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"the sweep's base scenario no longer holds {old!r}")
        text = text.replace(old, new, 1)
    return text


def without_trades(text: str = EXAMPLE) -> str:
    return text[: text.index("\ntrades:\n") + 1]


TX_HEADER = "id,account,security,date,side,quantity,price,fees,lots\n"
TRADE_ROW = "t1,us-brokerage,VTI,2026-03-02,sell,50,300.00,1.00,hifo\n"
TX_ROWS = [
    "b-vti-1,us-brokerage,VTI,2025-05-12,buy,100,280.00,1.00,\n",
    "b-vti-2,us-brokerage,VTI,2025-11-03,buy,50,330.00,1.00,\n",
]


def small_household(seed: int) -> dict[str, Any]:
    return _households.household(seed, transactions=12, trades=2, securities=5)


def jsonl(records: list[Any]) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, separators=(",", ":"))) + "\n" for r in records)


# ------------------------------------------------------------------------------------------ the case


@dataclass
class Run:
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class Case:
    cls: str
    name: str
    argv: list[str]
    files: dict[str, Any] = field(default_factory=dict)
    exits: frozenset[int] = frozenset({3})
    place: str | None = "file"  # line | file | option | any | None
    check: Callable[[Path, Run], list[str]] | None = None
    kind: str = "plain"  # plain | pipe | signal | concurrent
    timeout: float = 60.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.cls}/{self.name}"


# File specs: text or bytes, or one of these.
def link(target: str) -> tuple[str, str]:
    return ("link", target)


def fifo() -> tuple[str]:
    return ("fifo",)


def sparse(size: int = SPARSE) -> tuple[str, int]:
    return ("sparse", size)


def folder() -> tuple[str]:
    return ("dir",)


def copytree(source: Path) -> tuple[str, str]:
    return ("copytree", str(source))


def materialize(where: Path, files: dict[str, Any]) -> None:
    for rel, spec in files.items():
        path = where / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(spec, str):
            path.write_text(spec, encoding="utf-8")
        elif isinstance(spec, bytes):
            path.write_bytes(spec)
        elif spec[0] == "link":
            os.symlink(spec[1], path)
        elif spec[0] == "fifo":
            os.mkfifo(path)
        elif spec[0] == "sparse":
            with open(path, "wb") as f:
                f.truncate(spec[1])
        elif spec[0] == "dir":
            path.mkdir(exist_ok=True)
        elif spec[0] == "copytree":
            shutil.copytree(spec[1], path, symlinks=True)
        else:  # pragma: no cover
            raise ValueError(spec)


# ------------------------------------------------------------------------------------------ running


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TREE)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop("COLUMNS", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    _default_signals()


def _default_signals() -> None:
    """Signals as in a terminal: a sweep started in the background (`... &`) has SIGINT ignored, and its
    children would inherit that, which would make every SIGINT case pass or fail for the wrong reason."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def command(argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "taxpack.cli", *argv]


def run_plain(argv: list[str], cwd: Path, timeout: float, limit: bool = True) -> Run:
    start = time.monotonic()
    process = subprocess.Popen(command(argv), cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_limit if limit else _default_signals)
    try:
        out, err = process.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        out, err = process.communicate()
        timed_out = True
    return Run(process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), time.monotonic() - start, timed_out)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _descendants(pid: int) -> set[int]:
    """Every process whose parent chain leads to `pid` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {p for p, pp in parents.items() if pp in frontier and p not in found}
        found |= children
        frontier = children
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state != b"Z":
                alive.add(pid)
        except OSError:
            continue
    return alive


def run_signal(case: Case, cwd: Path) -> Run:
    """Start a batch, wait until it has written some results, send the signal, then check what is left."""
    sig = case.extra["signal"]
    out = cwd / case.extra["out"]
    start = time.monotonic()
    process = subprocess.Popen(command(case.argv), cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_limit if case.extra.get("limit", True) else _default_signals)
    notes: list[str] = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= case.extra.get("after_lines", 3):
            break
        time.sleep(0.05)
    if process.poll() is not None:
        notes.append("the batch ended before it could be interrupted (the case needs more households)")
    family = _descendants(process.pid)
    try:
        if case.extra.get("group"):  # Ctrl-C in a terminal: the signal goes to the whole process group
            os.killpg(process.pid, sig)
        else:
            os.kill(process.pid, sig)
    except ProcessLookupError:  # it ended (and was reaped) just now: nothing to interrupt
        notes.append("the batch ended before it could be interrupted (the case needs more households)")
    try:
        stdout, stderr = process.communicate(timeout=case.timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(process.pid)
        stdout, stderr = process.communicate()
    family |= _descendants(process.pid)
    time.sleep(case.extra.get("grace", 3.0))
    left = _alive(family)
    if left:
        notes.append(f"{len(left)} process(es) of the batch still running after it ended: orphans")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    run = Run(process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"), time.monotonic() - start, timed_out, notes)
    if sig == signal.SIGKILL:
        run.returncode = None  # killed by the case itself: no exit code to judge
    return run


def run_pipe(case: Case, cwd: Path) -> Run:
    """The command's output into a reader that stops after one line (like `| head -1`)."""
    start = time.monotonic()
    process = subprocess.Popen(command(case.argv), cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_limit)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    try:
        stderr = process.stderr.read()
        process.wait(timeout=case.timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.wait()
        stderr = b""
        timed_out = True
    return Run(process.returncode, first.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"), time.monotonic() - start, timed_out)


def run_concurrent(case: Case, cwd: Path) -> Run:
    """Two runs of the same batch on the same --out at the same moment."""
    start = time.monotonic()
    processes = [subprocess.Popen(command(case.argv), cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_limit) for _ in range(2)]
    results = []
    timed_out = False
    for p in processes:
        try:
            out, err = p.communicate(timeout=case.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(p.pid)
            out, err = p.communicate()
            timed_out = True
        results.append((p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")))
    codes = [r[0] for r in results]
    # The worse of the two is what the case judges; both outputs are kept for the failure report.
    worst = max(results, key=lambda r: (r[0] not in (0, 1, 2, 3), r[0] == 3, r[0]))
    run = Run(worst[0], "\n".join(r[1] for r in results), "\n".join(r[2] for r in results), time.monotonic() - start, timed_out)
    run.notes.append(f"exit codes {codes}")
    case.extra["codes"] = codes
    return run


RUNNERS: dict[str, Callable[[Case, Path], Run]] = {
    "plain": lambda case, cwd: run_plain(case.argv, cwd, case.timeout, case.extra.get("limit", True)),
    "signal": run_signal,
    "pipe": run_pipe,
    "concurrent": run_concurrent,
}

# ------------------------------------------------------------------------------------------ judging

PLACE_LINE = re.compile(r"^\S[^\n]*?:\d+(?::\d+|: column '[^'\n]*')?: (?:parse error|schema error|error): ", re.M)
PLACE_FILE = re.compile(r"^\S[^\n]*?: (?:parse error|schema error|error): ", re.M)
PLACE_OPTION = re.compile(r"(?:Invalid value for '--?[\w-]+'|--[\w-]+|Error: )")
BATCH_LINE_PLACE = re.compile(r":\d+(?::\d+)?: (?:parse error|schema error|error): |^\S+: (?:parse error|schema error|error): ")


def judge(case: Case, run: Run, cwd: Path) -> list[str]:
    problems = list(run.notes) if case.kind != "concurrent" else []
    text = run.stdout + "\n" + run.stderr
    if run.timed_out:
        problems.append(f"no answer after {case.timeout:.0f} s (a hang)")
    if run.returncode is not None and run.returncode < 0:
        problems.append(f"killed by signal {-run.returncode}")
    elif run.returncode is not None and run.returncode not in case.exits:
        problems.append(f"exit {run.returncode}, expected {'/'.join(str(c) for c in sorted(case.exits))}")
    if "Traceback (most recent call last)" in text:
        problems.append("a traceback")
    if "internal error" in text:
        problems.append("internal error")
    if "Exception ignored" in text:
        problems.append("'Exception ignored' printed at exit")
    if SECRET in text or "root:x:0:0" in text:
        problems.append("echoed the content of a file that is not the user's input")
    validating = case.argv[:2] == ["pack", "validate"]
    if (run.returncode == 3 or (run.returncode == 1 and validating)) and case.place and not run.timed_out and run.returncode in case.exits:
        if case.place == "line" and not PLACE_LINE.search(text):
            problems.append("the error has no file:line:col or row and column")
        elif case.place == "file" and not (PLACE_LINE.search(text) or PLACE_FILE.search(text)):
            problems.append("the error names no file")
        elif case.place == "option" and not (PLACE_LINE.search(text) or PLACE_FILE.search(text) or PLACE_OPTION.search(text)):
            problems.append("the error names neither a file nor the option")
        elif case.place == "any" and not (run.stderr.strip() or run.stdout.strip()):
            problems.append("no message at all")
    if case.check is not None:
        try:
            problems.extend(case.check(cwd, run))
        except Exception as error:  # a check that cannot even read what it checks is a failure of the case
            problems.append(f"the case's check failed: {type(error).__name__}: {error}")
    return problems


# ------------------------------------------------------------------------------------------ checks


def unchanged(rel: str, content: str | bytes) -> Callable[[Path, Run], list[str]]:
    def check(cwd: Path, run: Run) -> list[str]:
        data = (cwd / rel).read_bytes()
        want = content.encode("utf-8") if isinstance(content, str) else content
        return [] if data == want else [f"{rel} was overwritten"]
    return check


def absent(rel: str) -> Callable[[Path, Run], list[str]]:
    def check(cwd: Path, run: Run) -> list[str]:
        return [f"{rel} was written although the command failed"] if (cwd / rel).exists() and run.returncode == 3 else []
    return check


def no_csv_formula(cwd: Path, run: Run) -> list[str]:
    import csv
    import io

    bad = []
    for row in csv.reader(io.StringIO(run.stdout)):
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cell):
                bad.append(cell)
    return [f"CSV cell {bad[0]!r} starts a spreadsheet formula"] if bad else []


def all_of(*checks: Callable[[Path, Run], list[str]]) -> Callable[[Path, Run], list[str]]:
    def check(cwd: Path, run: Run) -> list[str]:
        return [p for c in checks for p in c(cwd, run)]
    return check


def fast(seconds: float) -> Callable[[Path, Run], list[str]]:
    def check(cwd: Path, run: Run) -> list[str]:
        return [f"took {run.seconds:.1f} s: the mistake should be said before the work (at most {seconds:.0f} s)"] if run.seconds > seconds else []
    return check


# Reference outputs of clean batch runs, made once per input (by the same checkout's command).
_REFERENCES: dict[str, bytes] = {}
_REFERENCE_LOCK = threading.Lock()


def reference_output(work: Path, name: str, records: list[Any], argv_tail: list[str]) -> bytes:
    with _REFERENCE_LOCK:
        if name not in _REFERENCES:
            where = work / f"reference-{name}"
            where.mkdir(parents=True, exist_ok=True)
            (where / "h.jsonl").write_text(jsonl(records), encoding="utf-8")
            run = run_plain(["batch", "check", "h.jsonl", "--out", "o.jsonl", *argv_tail], where, 300)
            _REFERENCES[name] = (where / "o.jsonl").read_bytes() if (where / "o.jsonl").exists() else b""
            if not _REFERENCES[name]:
                _REFERENCES[name] = b"(the reference run failed: " + run.stderr.encode() + b")"
        return _REFERENCES[name]


def _without_packs(raw: bytes) -> list[Any]:
    """The result lines without their pack stamps (id, version, hash of every pack)."""
    out = []
    for line in raw.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            return [raw]
        if isinstance(record, dict):
            record.pop("packs", None)
            if isinstance(record.get("result"), dict):
                record["result"].pop("packs", None)
        out.append(record)
    return out


def batch_lines_complete(expected: int, out: str = "out.jsonl") -> Callable[[Path, Run], list[str]]:
    def check(cwd: Path, run: Run) -> list[str]:
        path = cwd / out
        if not path.exists():
            return [f"{out} missing"]
        raw = path.read_bytes()
        problems = []
        nuls = raw.count(b"\0")
        if nuls:
            problems.append(f"{out} holds {nuls} NUL bytes")
        lines = raw.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        good = 0
        for line in lines:
            try:
                json.loads(line)
                good += 1
            except ValueError:
                pass
        if good != expected:
            problems.append(f"{out} has {good} result lines, expected {expected} (one per input file)")
        return problems
    return check


# ------------------------------------------------------------------------------------------ the cases

NUMBERS = {
    "1e400": "1e400",
    "googol": "1" + "0" * 100,
    "1e-400": "1e-400",
    "huge-exponent": "1e999999999",
    "5000-digits": "9" * 5000,
}


def number_cases() -> list[Case]:
    cases = []
    base_no_trades = without_trades()
    for label, v in NUMBERS.items():
        fields: dict[str, tuple[list[str], dict[str, Any], frozenset[int], str]] = {
            "trade-quantity": (["check", "s.yaml"], {"s.yaml": scenario((T1, T1.replace("quantity: 50", f"quantity: {v}")))}, frozenset({3}), "line"),
            "trade-price": (["check", "s.yaml"], {"s.yaml": scenario((T1, T1.replace("price: 300.00", f"price: {v}")))}, frozenset({3}), "line"),
            "trade-fees": (["check", "s.yaml"], {"s.yaml": scenario((T1, T1.replace("fees: 1.00", f"fees: {v}")))}, frozenset({3}), "line"),
            "history-quantity": (["check", "s.yaml"], {"s.yaml": scenario((TX1, TX1.replace("quantity: 100", f"quantity: {v}")))}, frozenset({3}), "line"),
            "history-price": (["check", "s.yaml"], {"s.yaml": scenario((TX1, TX1.replace("price: 280.00", f"price: {v}")))}, frozenset({3}), "line"),
            "marginal-rate": (["check", "s.yaml"], {"s.yaml": scenario((MARGINAL, f"marginal_rate: {{CA: {v}}}"))}, frozenset({3}), "line"),
            "other-income": (["check", "s.yaml"], {"s.yaml": scenario((OTHER_INCOME, f"other_income: {{US: {v}, CA: 130000}}"))}, frozenset({3}), "line"),
            "dividend-yield": (["check", "s.yaml"], {"s.yaml": scenario((VTI_YIELD, f"dividend_yield: {v}, name: Vanguard"))}, frozenset({3}), "line"),
            "lot-quantity": (["check", "s.yaml"], {"s.yaml": scenario((T3_LOTS, f"quantity: 20, price: 405.00, fees: 1.00, lots: [{{transaction: b-msft, quantity: {v}}}]"))}, frozenset({3}), "line"),
            "csv-trade-quantity": (["check", "s.yaml", "--trades", "t.csv"], {"s.yaml": base_no_trades, "t.csv": TX_HEADER + TRADE_ROW.replace(",50,", f",{v},")}, frozenset({3}), "line"),
            "csv-trade-price": (["check", "s.yaml", "--trades", "t.csv"], {"s.yaml": base_no_trades, "t.csv": TX_HEADER + TRADE_ROW.replace(",300.00,", f",{v},")}, frozenset({3}), "line"),
            "fx-rate": (["check", "s.yaml"], {"s.yaml": scenario((AS_OF, AS_OF + "\nfx: {rates: rates.csv}")),
                                             "rates.csv": f"date,currency,quote,rate\n2026-03-02,USD,CAD,{v}\n"}, frozenset({3}), "line"),
            "prices-csv": (["exit", "s.yaml", "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--prices", "p.csv", "--format", "json"],
                           {"s.yaml": EXAMPLE, "p.csv": PRICES.replace("320.00", v, 1)}, frozenset({3}), "line"),
            "targets-price": (["plan", "h.yaml", "--targets", "t.yaml", "--format", "json"],
                              {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS.replace("VTI: 310.00", f"VTI: {v}")}, frozenset({3}), "line"),
            "targets-weight": (["plan", "h.yaml", "--targets", "t.yaml", "--format", "json"],
                               {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS.replace("weight: 0.30", f"weight: {v}")}, frozenset({3}), "line"),
            "harvest-price-option": (["harvest", "h.yaml", "--price", f"VTI={v}", "--format", "json"], {"h.yaml": PLAN_HOUSEHOLD}, frozenset({3}), "option"),
            "raise-option": (["plan", "h.yaml", "--raise", v, "--account", "al-brokerage", "--format", "json"], {"h.yaml": PLAN_HOUSEHOLD}, frozenset({3}), "option"),
            "pack-parameter": (["check", "s.yaml", "--pack", "us"], {"s.yaml": EXAMPLE, "us": copytree(REPO / "jurisdictions" / "us")}, frozenset({3}), "line"),
            "jsonl-quantity": (["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "1"], {}, frozenset({3}), None),
        }
        for name, (argv, files, exits, place) in fields.items():
            check = None
            if name == "pack-parameter":
                files = dict(files)
                files["__edit__"] = ("us/pack.yaml", "2024-01-01: {value: 30, source: irc-1091}", f"2024-01-01: {{value: {v}, source: irc-1091}}")
            if name == "jsonl-quantity":
                household = small_household(7)
                household["trades"][0]["quantity"] = "@@V@@"
                files = {"h.jsonl": jsonl([small_household(1), json.dumps(household, separators=(",", ":")).replace('"@@V@@"', v)])}
                check = batch_error_placed(2, 2)
            cases.append(Case("numbers", f"{name}:{label}", argv, files, exits, place, check))
    return cases


def batch_error_placed(expected: int, line: int, out: str = "o.jsonl", whole_input_refused_ok: bool = False) -> Callable[[Path, Run], list[str]]:
    """The batch wrote every household; the broken one's line is an input error (3) with its place. With
    `whole_input_refused_ok`, refusing the whole input (exit 3, its place on stderr, no result) passes too."""
    def check(cwd: Path, run: Run) -> list[str]:
        path = cwd / out
        if whole_input_refused_ok and run.returncode == 3 and (not path.exists() or not path.read_bytes().strip()):
            return [] if (PLACE_LINE.search(run.stderr) or PLACE_FILE.search(run.stderr)) else ["the input is refused without its place"]
        if not path.exists():
            return [f"{out} missing"]
        records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        if len(records) != expected:
            return [f"{out} has {len(records)} lines, expected {expected}"]
        record = records[line - 1]
        problems = []
        if record.get("exit_code") != 3:
            problems.append(f"household {line}: exit_code {record.get('exit_code')}, expected 3 (an input error)")
        message = (record.get("error") or {}).get("message", "")
        if "internal error" in message:
            problems.append(f"household {line}: internal error in its line")
        elif record.get("exit_code") == 3 and not BATCH_LINE_PLACE.search(message):
            problems.append(f"household {line}: its error has no place: {message[:80]!r}")
        if SECRET in message or "root:x:0:0" in message:
            problems.append(f"household {line}: its error echoes a file that is not the user's input")
        return problems
    return check


def deep_flow(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_block(depth: int) -> str:
    return "".join(" " * i + f"k{i}:\n" for i in range(depth)) + " " * depth + "v: 1\n"


def nesting_cases() -> list[Case]:
    cases = []
    for depth in (200, 1000, 3000, 100000):
        d = str(depth)
        flow = deep_flow(depth)
        items = {
            "scenario-yaml-flow": (["check", "s.yaml"], {"s.yaml": EXAMPLE + f"\nnote: {flow}\n"}, frozenset({3})),
            "scenario-yaml-map": (["check", "s.yaml"], {"s.yaml": EXAMPLE + "\nnote: " + "{a: " * depth + "1" + "}" * depth + "\n"}, frozenset({3})),
            "scenario-json": (["check", "s.json"], {"s.json": json.dumps({"taxpack": 1, "as_of": "2026-03-02"})[:-1] + ', "note": ' + flow + "}"}, frozenset({3})),
            "pack-yaml": (["pack", "validate", "p.yaml"], {"p.yaml": "format: 1\nkind: jurisdiction\nid: xx\nnote: " + flow + "\n"}, frozenset({1})),
            "targets": (["plan", "h.yaml", "--targets", "t.yaml"], {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS + "\nnote: " + flow + "\n"}, frozenset({3})),
            "jsonl-line": (["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "1"],
                           {"h.jsonl": jsonl([small_household(1), '{"taxpack": 1, "note": ' + flow + "}"])}, frozenset({3})),
        }
        if depth <= 3000:
            items["scenario-yaml-block"] = (["check", "s.yaml"], {"s.yaml": EXAMPLE + "\nnote:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + "v\n"}, frozenset({3}))
        for name, (argv, files, exits) in items.items():
            check = batch_error_placed(2, 2) if name == "jsonl-line" else None
            place = None if name == "jsonl-line" else ("line" if depth >= 200 else "file")
            cases.append(Case("nesting", f"{name}:{d}", argv, files, exits, place, check, timeout=60))
    return cases


ENCODINGS = {
    "utf-16-bom": lambda text: text.encode("utf-16"),
    "utf-16le-no-bom": lambda text: text.encode("utf-16-le"),
    "utf-32": lambda text: text.encode("utf-32"),
    "nul-inside": lambda text: text.replace(",", ",\0", 1).encode("utf-8"),
    "latin-1": lambda text: (text.replace('{"', '{"Müller', 1) if text.startswith("{") else text + "# Müller\n").encode("latin-1"),
    "control-char": lambda text: text.replace("id: t1,", "id: t1\x07,", 1).encode("utf-8") if "id: t1," in text else ("\x1b[31m" + text).encode("utf-8"),
}


def encoding_cases() -> list[Case]:
    cases = []
    targets = {
        "scenario": (["check", "f.yaml"], EXAMPLE, frozenset({3}), "f.yaml"),
        "scenario-json": (["check", "f.json"], json.dumps(small_household(3)), frozenset({3}), "f.json"),
        "transactions-csv": (["check", "s.yaml", "--transactions", "f.csv"], TX_HEADER + "".join(TX_ROWS), frozenset({3}), "f.csv"),
        "fx-csv": (["check", "s.yaml"], "date,currency,quote,rate\n2026-03-02,USD,CAD,1.35\n", frozenset({3}), "f.csv"),
        "prices-csv": (["exit", "s.yaml", "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--prices", "f.csv", "--format", "json"], PRICES, frozenset({3}), "f.csv"),
        "targets": (["plan", "h.yaml", "--targets", "f.yaml", "--format", "json"], PLAN_TARGETS, frozenset({3}), "f.yaml"),
        "pack": (["pack", "validate", "f.yaml"], (REPO / "jurisdictions" / "ie" / "pack.yaml").read_text(encoding="utf-8"), frozenset({1}), "f.yaml"),
        "jsonl": (["batch", "check", "f.jsonl", "--out", "o.jsonl", "--workers", "1"], jsonl([small_household(1)]), frozenset({3}), "f.jsonl"),
    }
    for enc, encode in ENCODINGS.items():
        for name, (argv, text, exits, fname) in targets.items():
            files: dict[str, Any] = {fname: encode(text)}
            if name == "transactions-csv":
                files["s.yaml"] = scenario(("transactions:\n", "transactions_moved:\n"), text=without_trades()).split("transactions_moved:\n")[0]
            if name == "fx-csv":
                files["s.yaml"] = scenario((AS_OF, AS_OF + "\nfx: {rates: f.csv}"))
            if name == "prices-csv":
                files["s.yaml"] = EXAMPLE
            if name == "targets":
                files["h.yaml"] = PLAN_HOUSEHOLD
            place = None if name == "jsonl" else "file"
            check = None
            if name == "jsonl":
                check = batch_error_placed(1, 1, whole_input_refused_ok=True)
                exits = frozenset({3})
            cases.append(Case("encoding", f"{name}:{enc}", argv, files, exits, place, check))
    return cases


def size_cases() -> list[Case]:
    cases = []
    kinds = {"sparse-30GB": sparse(), "dev-zero": link("/dev/zero"), "fifo": fifo(), "dev-urandom": link("/dev/urandom")}
    for label, spec in kinds.items():
        t = 20.0
        items = {
            "scenario": (["check", "f.yaml"], {"f.yaml": spec}),
            "transactions-csv": (["check", "s.yaml", "--transactions", "f.csv"], {"s.yaml": without_trades().split("transactions:\n")[0], "f.csv": spec}),
            "trades-csv": (["check", "s.yaml", "--trades", "f.csv"], {"s.yaml": without_trades(), "f.csv": spec}),
            "targets": (["plan", "h.yaml", "--targets", "f.yaml"], {"h.yaml": PLAN_HOUSEHOLD, "f.yaml": spec}),
            "prices": (["exit", "s.yaml", "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--prices", "f.csv"], {"s.yaml": EXAMPLE, "f.csv": spec}),
            "pack": (["pack", "validate", "f.yaml"], {"f.yaml": spec}),
            "pack-option": (["check", "s.yaml", "--pack", "f.yaml"], {"s.yaml": EXAMPLE, "f.yaml": spec}),
            "fx-rates": (["check", "s.yaml"], {"s.yaml": scenario((AS_OF, AS_OF + "\nfx: {rates: f.csv}")), "f.csv": spec}),
            "jsonl": (["batch", "check", "f.jsonl", "--out", "o.jsonl", "--workers", "1"], {"f.jsonl": spec}),
            "batch-folder-file": (["batch", "check", "in", "--out", "o.jsonl", "--workers", "1"],
                                  {"in/a.yaml": json.dumps(small_household(1)), "in/b.yaml": spec, "in/c.yaml": json.dumps(small_household(2))}),
        }
        for name, (argv, files) in items.items():
            exits = frozenset({1}) if name == "pack" else frozenset({3})
            check = all_of(batch_lines_complete(3, "o.jsonl"), batch_error_placed(3, 2)) if name == "batch-folder-file" else None
            cases.append(Case("size", f"{name}:{label}", argv, files, exits, None if name == "batch-folder-file" else "file", check, timeout=t))
    # A file just over the size limit, written for real (not sparse): refused before it is parsed.
    big = EXAMPLE + "# " + "x" * 1000 + "\n"
    cases.append(Case("size", "scenario:70MB", ["check", "f.yaml"], {"f.yaml": big * (70 * 1024 * 1024 // len(big) + 1)}, frozenset({3}), "file", timeout=60))
    # One JSON Lines line bigger than the limit (the file is streamed; a line is read whole).
    cases.append(Case("size", "jsonl-line:70MB", ["batch", "check", "f.jsonl", "--out", "o.jsonl", "--workers", "1"],
                      {"f.jsonl": jsonl([small_household(1)]) + '{"taxpack": 1, "note": "' + "x" * (70 * 1024 * 1024) + '"}\n' + jsonl([small_household(2)])},
                      frozenset({3}), None, batch_error_placed(3, 2), timeout=90))
    return cases


def link_cases() -> list[Case]:
    secret_link = link("../../secret/secret.txt")
    return [
        Case("links", "scenario-loop", ["check", "a.yaml"], {"a.yaml": link("b.yaml"), "b.yaml": link("a.yaml")}),
        Case("links", "transactions-loop", ["check", "s.yaml", "--transactions", "a.csv"], {"s.yaml": without_trades().split("transactions:\n")[0], "a.csv": link("a.csv")}),
        Case("links", "fx-rates-loop", ["check", "s.yaml"], {"s.yaml": scenario((AS_OF, AS_OF + "\nfx: {rates: a.csv}")), "a.csv": link("b.csv"), "b.csv": link("a.csv")}),
        Case("links", "fx-rates-link-outside", ["check", "s.yaml"], {"s.yaml": scenario((AS_OF, AS_OF + "\nfx: {rates: r.csv}")), "r.csv": secret_link}, place="line"),
        Case("links", "fx-rates-link-etc-passwd", ["check", "s.yaml"], {"s.yaml": scenario((AS_OF, AS_OF + "\nfx: {rates: r.csv}")), "r.csv": link("/etc/passwd")}, place="line"),
        Case("links", "pack-folder-loop", ["pack", "validate", "p"], {"p": link("p")}, frozenset({1})),
        Case("links", "pack-yaml-loop", ["pack", "validate", "p"], {"p/pack.yaml": link("pack.yaml")}, frozenset({1})),
        Case("links", "pack-yaml-link-outside", ["pack", "validate", "p"], {"p/pack.yaml": link("../../secret/secret.txt")}, frozenset({1})),
        Case("links", "pack-yaml-link-etc", ["check", "s.yaml", "--pack", "p"], {"s.yaml": EXAMPLE, "p/pack.yaml": link("/etc/passwd")}),
        Case("links", "pack-yaml-link-other-pack", ["pack", "validate", "p"], {"p/pack.yaml": link(str(REPO / "jurisdictions" / "ie" / "pack.yaml"))}, frozenset({1})),
        Case("links", "batch-folder-dangling", ["batch", "check", "in", "--out", "o.jsonl", "--workers", "1"],
             {"in/a.yaml": json.dumps(small_household(1)), "in/b.yaml": link("nowhere.yaml"), "in/c.yaml": json.dumps(small_household(2))},
             frozenset({3}), None, batch_lines_complete(3, "o.jsonl")),
        Case("links", "batch-folder-loop", ["batch", "check", "in", "--out", "o.jsonl", "--workers", "1"],
             {"in/a.yaml": json.dumps(small_household(1)), "in/b.yaml": link("b.yaml"), "in/c.yaml": json.dumps(small_household(2))},
             frozenset({3}), None, batch_lines_complete(3, "o.jsonl")),
        Case("links", "batch-input-loop", ["batch", "check", "in.jsonl", "--out", "o.jsonl"], {"in.jsonl": link("in.jsonl")}),
        Case("links", "pack-test-scenario-link-outside", ["pack", "test", "p"], {"p": copytree(REPO / "jurisdictions" / "ie"),
                                                                                  "__pack_test__": "s.yaml", "p/tests/s.yaml": link("../../../secret/secret.txt")},
             frozenset({1, 3}), "any"),
    ]


def path_cases() -> list[Case]:
    cases = []
    names = {
        "etc-passwd": "/etc/passwd",
        "secret-absolute": "@SECRET@",
        "secret-relative": "../../secret/secret.txt",
        "dev-zero": "/dev/zero",
        "proc-environ": "/proc/self/environ",
        "a-folder": ".",
        "empty": "",
        "home": "~/.bashrc",
    }
    for label, name in names.items():
        cases.append(Case("paths", f"fx-rates:{label}", ["check", "s.yaml"],
                          {"s.yaml": scenario((AS_OF, AS_OF + f"\nfx: {{rates: '{name}'}}"))}, frozenset({3}), "line", timeout=20))
    for label, name in names.items():
        if label == "empty":
            continue
        cases.append(Case("paths", f"pack-test-scenario:{label}", ["pack", "test", "p"],
                          {"p": copytree(REPO / "jurisdictions" / "ie"), "__pack_test__": name}, frozenset({1, 3}), "any", timeout=30))
    for label in ("etc-passwd", "secret-relative", "dev-zero"):
        cases.append(Case("paths", f"batch-plan-targets:{label}", ["batch", "plan", "h.jsonl", "--out", "o.jsonl", "--workers", "1"],
                          {"h.jsonl": jsonl([{"scenario": small_household(1), "plan": {"targets": names[label]}}])}, frozenset({3}), None,
                          batch_error_placed(1, 1), timeout=30))
    return cases


def date_cases() -> list[Case]:
    cases = []
    for label, day in (("year-1", "0001-01-01"), ("year-9999", "9999-12-31"), ("year-1899", "1899-12-31")):
        fields = {
            "trade-date": scenario((T1_DATE, T1_DATE.replace("2026-03-02", day))),
            "history-date": scenario((TX1, TX1.replace("2025-05-12", day))),
            "as-of": scenario((AS_OF, f"as_of: {day}")),
            "resident-since": scenario(("    residence: CA\n    citizenship: [US]", f"    residence: CA\n    resident_since: {day}\n    citizenship: [US]")),
            "residence-change": scenario(("    residence: CA\n    citizenship: [US]", f"    residence: CA\n    residence_changes: [{{date: {day}, to: US}}]\n    citizenship: [US]")),
            "settlement-date": scenario((T1, T1 + f", settlement_date: {day}")),
            "ex-dividend": scenario((VTI_YIELD, f"ex_dividend_dates: [{day}], {VTI_YIELD}")),
        }
        for name, text in fields.items():
            cases.append(Case("dates", f"{name}:{label}", ["check", "s.yaml"], {"s.yaml": text}, frozenset({3}), "line"))
        cases.append(Case("dates", f"csv-trade-date:{label}", ["check", "s.yaml", "--trades", "t.csv"],
                          {"s.yaml": without_trades(), "t.csv": TX_HEADER + TRADE_ROW.replace("2026-03-02", day)}, frozenset({3}), "line"))
        cases.append(Case("dates", f"fx-csv-date:{label}", ["check", "s.yaml"],
                          {"s.yaml": scenario((AS_OF, AS_OF + "\nfx: {rates: r.csv}")), "r.csv": f"date,currency,quote,rate\n{day},USD,CAD,1.35\n"}, frozenset({3}), "line"))
        cases.append(Case("dates", f"exit-date-option:{label}", ["exit", "s.yaml", "--taxpayer", "alice", "--date", day, "--to", "US", "--prices", "p.csv"],
                          {"s.yaml": EXAMPLE, "p.csv": PRICES}, frozenset({3}), "option"))
        cases.append(Case("dates", f"pack-show-as-of:{label}", ["pack", "show", "ca", "--as-of", day], {}, frozenset({0, 3}), "option"))
        cases.append(Case("dates", f"jsonl-trade-date:{label}", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "1"],
                          {"h.jsonl": jsonl([_with_trade_date(small_household(4), day)])}, frozenset({3}), None, batch_error_placed(1, 1)))
    return cases


def _with_trade_date(household: dict[str, Any], day: str) -> dict[str, Any]:
    for trade in household["trades"]:
        trade["date"] = day
    return household


def _rules_pack(count: int, firing: bool, leaves: int = 1) -> str:
    text = (REPO / "jurisdictions" / "ca" / "pack.yaml").read_text(encoding="utf-8")
    gain = "lt: 999999999" if firing else "lt: -999999999"
    conditions = "".join(f"          - {{fact: trade.gain, eq: {i}}}\n" for i in range(leaves)) if leaves > 1 else ""
    rules = []
    for i in range(count):
        when = (f"      all:\n        - {{fact: trade.side, eq: sell}}\n        - any:\n{conditions}" if leaves > 1
                else f"      all:\n        - {{fact: trade.side, eq: sell}}\n        - {{fact: trade.gain, {gain}}}\n")
        rules.append(f"  - id: ca.extra_{i}\n    title: extra {i}\n    when:\n{when}    then:\n      code: extra_{i}\n"
                     f"      severity: info\n      message: \"extra {i}\"\n      source: ita-39-1-1\n")
    if "\nrules:\n" not in text:
        raise AssertionError("the sweep's CA pack has no rules: section")
    return text.replace("\nrules:\n", "\nrules:\n" + "".join(rules), 1)


def rules_cases() -> list[Case]:
    cases = []
    for count, firing in ((300, False), (1000, False), (120, True), (260, True)):
        label = f"{count}-{'firing' if firing else 'quiet'}"
        pack = _rules_pack(count, firing)
        cases.append(Case("rules", f"check:{label}", ["check", "s.yaml", "--pack", "p"], {"s.yaml": EXAMPLE, "p/pack.yaml": pack}, frozenset({3}), "line"))
        cases.append(Case("rules", f"validate:{label}", ["pack", "validate", "p"], {"p/pack.yaml": pack}, frozenset({1}), "line"))
    wide = _rules_pack(1, True, leaves=40)
    cases.append(Case("rules", "check:one-rule-40-conditions", ["check", "s.yaml", "--pack", "p"], {"s.yaml": EXAMPLE, "p/pack.yaml": wide}, frozenset({0, 1, 2, 3}), "line"))
    cases.append(Case("rules", "batch:300-rules", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "1", "--pack", "p"],
                      {"h.jsonl": jsonl([small_household(1)]), "p/pack.yaml": _rules_pack(300, False)}, frozenset({3}), "line"))
    return cases


def output_cases() -> list[Case]:
    ex = EXAMPLE
    h = jsonl([small_household(i) for i in range(3)])
    cases = [
        Case("outputs", "record-missing-folder", ["check", "s.yaml", "--record", "no/such/folder/r.json"], {"s.yaml": ex}, frozenset({3}), "file"),
        Case("outputs", "record-is-folder", ["check", "s.yaml", "--record", "d"], {"s.yaml": ex, "d": folder()}, frozenset({3}), "file"),
        Case("outputs", "record-proc", ["check", "s.yaml", "--record", "/proc/version"], {"s.yaml": ex}, frozenset({3}), "file"),
        Case("outputs", "record-is-scenario", ["check", "s.yaml", "--record", "s.yaml"], {"s.yaml": ex}, frozenset({3}), "file", unchanged("s.yaml", ex)),
        Case("outputs", "record-is-scenario-other-spelling", ["check", "s.yaml", "--record", "./x/../s.yaml"], {"s.yaml": ex, "x": folder()}, frozenset({3}), "file",
             unchanged("s.yaml", ex)),
        Case("outputs", "record-is-transactions", ["check", "s.yaml", "--transactions", "t.csv", "--record", "t.csv"],
             {"s.yaml": without_trades().split("transactions:\n")[0] + "trades: []\n", "t.csv": TX_HEADER + "".join(TX_ROWS)}, frozenset({3}), "file",
             unchanged("t.csv", TX_HEADER + "".join(TX_ROWS))),
        Case("outputs", "record-is-fx-rates", ["check", "s.yaml", "--record", "r.csv"],
             {"s.yaml": scenario((AS_OF, AS_OF + "\nfx: {rates: r.csv}")), "r.csv": "date,currency,quote,rate\n2026-03-02,USD,CAD,1.35\n"}, frozenset({3}), "file",
             unchanged("r.csv", "date,currency,quote,rate\n2026-03-02,USD,CAD,1.35\n")),
        Case("outputs", "record-link-to-scenario", ["check", "s.yaml", "--record", "r.json"], {"s.yaml": ex, "r.json": link("s.yaml")}, frozenset({0, 1, 2, 3}), "file",
             unchanged("s.yaml", ex)),
        Case("outputs", "plot-missing-folder", ["plan", "h.yaml", "--targets", "t.yaml", "--plot", "no/such/p.png", "--format", "json"],
             {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS}, frozenset({3}), "file", fast(20)),
        Case("outputs", "plot-is-folder", ["plan", "h.yaml", "--targets", "t.yaml", "--plot", "d", "--format", "json"],
             {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS, "d": folder()}, frozenset({3}), "file"),
        Case("outputs", "plot-is-targets", ["plan", "h.yaml", "--targets", "t.yaml", "--plot", "t.yaml", "--format", "json"],
             {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS}, frozenset({3}), "file", unchanged("t.yaml", PLAN_TARGETS)),
        Case("outputs", "summary-missing-folder", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--summary", "no/such/s.json", "--workers", "1"],
             {"h.jsonl": h}, frozenset({3}), "file", absent("o.jsonl")),
        Case("outputs", "summary-is-folder", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--summary", "d", "--workers", "1"],
             {"h.jsonl": h, "d": folder()}, frozenset({3}), "option", absent("o.jsonl")),
        Case("outputs", "summary-is-input", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--summary", "h.jsonl", "--workers", "1"],
             {"h.jsonl": h}, frozenset({3}), "file", unchanged("h.jsonl", h)),
        Case("outputs", "summary-is-out", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--summary", "o.jsonl", "--workers", "1"],
             {"h.jsonl": h}, frozenset({3}), "file"),
        Case("outputs", "out-is-input", ["batch", "check", "h.jsonl", "--out", "h.jsonl", "--workers", "1"], {"h.jsonl": h}, frozenset({3}), "file",
             unchanged("h.jsonl", h)),
        Case("outputs", "out-is-household-of-folder", ["batch", "check", "in", "--out", "in/b.yaml", "--workers", "1"],
             {"in/a.yaml": json.dumps(small_household(1)), "in/b.yaml": json.dumps(small_household(2))}, frozenset({3}), "file",
             unchanged("in/b.yaml", json.dumps(small_household(2)))),
        Case("outputs", "out-is-folder", ["batch", "check", "h.jsonl", "--out", "d", "--workers", "1"], {"h.jsonl": h, "d": folder()}, frozenset({3}), "option"),
        Case("outputs", "out-proc", ["batch", "check", "h.jsonl", "--out", "/proc/version", "--workers", "1"], {"h.jsonl": h}, frozenset({3}), "file"),
        Case("outputs", "out-is-targets", ["batch", "plan", "h.jsonl", "--out", "t.yaml", "--targets", "t.yaml", "--workers", "1"],
             {"h.jsonl": h, "t.yaml": PLAN_TARGETS}, frozenset({3}), "file", unchanged("t.yaml", PLAN_TARGETS)),
    ]
    return cases


def absurd_cases() -> list[Case]:
    return [
        Case("absurd", "marginal-rate-7", ["check", "s.yaml"], {"s.yaml": scenario((MARGINAL, "marginal_rate: {CA: 0.4341, US: 7}"))}, place="line"),
        Case("absurd", "marginal-rate-negative", ["check", "s.yaml"], {"s.yaml": scenario((MARGINAL, "marginal_rate: {CA: -0.4}"))}, place="line"),
        Case("absurd", "marginal-rate-text-43", ["check", "s.yaml"], {"s.yaml": scenario((MARGINAL, "marginal_rate: {CA: '43'}"))}, place="line"),
        Case("absurd", "dividend-yield-5", ["check", "s.yaml"], {"s.yaml": scenario((VTI_YIELD, "dividend_yield: 5, name: Vanguard"))}, place="line"),
        Case("absurd", "dividend-yield-text", ["check", "s.yaml"], {"s.yaml": scenario((VTI_YIELD, "dividend_yield: '-2', name: Vanguard"))}, place="line"),
        Case("absurd", "other-income-negative-text", ["check", "s.yaml"], {"s.yaml": scenario((OTHER_INCOME, "other_income: {US: '-5', CA: 130000}"))},
             frozenset({0, 1, 2, 3}), "line"),
        Case("absurd", "harvest-price-negative", ["harvest", "h.yaml", "--price", "VTI=-5", "--format", "json"], {"h.yaml": PLAN_HOUSEHOLD}, place="option"),
        Case("absurd", "harvest-price-nan", ["harvest", "h.yaml", "--price", "VTI=NaN", "--format", "json"], {"h.yaml": PLAN_HOUSEHOLD}, place="option"),
        Case("absurd", "harvest-price-infinity", ["harvest", "h.yaml", "--price", "VTI=Infinity", "--format", "json"], {"h.yaml": PLAN_HOUSEHOLD}, place="option"),
        Case("absurd", "targets-weight-negative", ["plan", "h.yaml", "--targets", "t.yaml", "--format", "json"],
             {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS.replace("weight: 0.30", "weight: -0.30")}, place="line"),
        Case("absurd", "targets-band-3", ["plan", "h.yaml", "--targets", "t.yaml", "--format", "json"],
             {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS.replace("band: 0.03", "band: 3")}, place="line"),
        Case("absurd", "targets-price-negative", ["plan", "h.yaml", "--targets", "t.yaml", "--format", "json"],
             {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS.replace("VTI: 310.00", "VTI: -310.00")}, place="line"),
        Case("absurd", "scenario-price-negative", ["exit", "s.yaml", "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--format", "json"],
             {"s.yaml": EXAMPLE + "prices:\n  - {security: VTI, date: 2026-06-30, price: -320.00, currency: USD}\n"}, place="line"),
        Case("absurd", "exit-stake-2", ["exit", "s.yaml", "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--stake", "VTI=2"],
             {"s.yaml": EXAMPLE}, place="option"),
        Case("absurd", "fx-rate-zero", ["check", "s.yaml"], {"s.yaml": scenario((AS_OF, AS_OF + "\nfx: {rates: r.csv}")),
                                                            "r.csv": "date,currency,quote,rate\n2026-03-02,USD,CAD,0\n"}, place="line"),
        Case("absurd", "workers-0", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "0"], {"h.jsonl": jsonl([small_household(1)])}, place="option"),
        Case("absurd", "time-limit-negative", ["plan", "h.yaml", "--targets", "t.yaml", "--time-limit", "-1"], {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS}, place="option"),
    ]


INJECTIONS = {
    "equals-cmd": "=cmd|' /C calc'!A0",
    "plus": "+1+cmd|x",
    "minus": "-2+3+cmd",
    "at-sum": "@SUM(A1:A9)",
    "tab": "\t=1+1",
}


def injection_cases() -> list[Case]:
    cases = []
    for label, payload in INJECTIONS.items():
        cell = '"' + payload.replace('"', '""') + '"'
        row = TRADE_ROW.replace("t1,", cell + ",", 1)
        cases.append(Case("csv-injection", f"check-trade-id:{label}", ["check", "s.yaml", "--trades", "t.csv", "--format", "csv"],
                          {"s.yaml": without_trades(), "t.csv": TX_HEADER + row}, frozenset({0, 1, 2, 3}), "line", no_csv_formula))
        lots_row = "b-vti-1,us-brokerage,VTI,2025-05-12,buy,100,280.00,1.00,\n".replace("b-vti-1", cell, 1)
        cases.append(Case("csv-injection", f"history-id:{label}", ["check", "s.yaml", "--transactions", "t.csv", "--format", "csv"],
                          {"s.yaml": without_trades().split("transactions:\n")[0] + "trades:\n  - {id: t1, account: us-brokerage, security: VTI, date: 2026-03-02, side: sell, quantity: 10, price: 300.00}\n",
                           "t.csv": TX_HEADER + lots_row}, frozenset({0, 1, 2, 3}), "line", no_csv_formula))
    return cases


def batch_cases(work: Path) -> list[Case]:
    forty = [small_household(i) for i in range(40)]
    # Enough households that the run is still going when the signal comes (a few seconds on one core).
    sixty = [_households.household(i, transactions=40, trades=4, securities=8) for i in range(100, 400)]
    cases: list[Case] = []

    def same_as_reference(name: str, records: list[Any], out: str = "o.jsonl", resume: list[str] | None = None) -> Callable[[Path, Run], list[str]]:
        def check(cwd: Path, run: Run) -> list[str]:
            problems = []
            if resume is not None:
                again = run_plain(resume, cwd, 300)
                if again.returncode not in (0, 1, 2):
                    problems.append(f"--resume exited {again.returncode}: {again.stderr.strip()[-200:]}")
            # The reference: an uninterrupted run of the same input, made now, beside it (the same names).
            clean = run_plain(["batch", "check", "h.jsonl", "--out", "reference.jsonl", "--workers", "1"], cwd, 300)
            reference = (cwd / "reference.jsonl").read_bytes() if (cwd / "reference.jsonl").exists() else clean.stderr.encode()
            data = (cwd / out).read_bytes() if (cwd / out).exists() else b""
            if data != reference and _without_packs(data) == _without_packs(reference):
                return problems  # the packs were edited while the case ran (a shared working tree): the results agree
            if data != reference:
                lines, nuls, want = data.count(b"\n"), data.count(b"\0"), reference.count(b"\n")
                problems.append(f"{out} differs from an uninterrupted run ({lines} lines, {nuls} NUL bytes; reference {want} lines)")
            return problems
        return check

    cases.append(Case("batch", "concurrent-same-out", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "1"],
                      {"h.jsonl": jsonl(forty)}, frozenset({0, 1, 2, 3}), None, same_as_reference("forty", forty), kind="concurrent", timeout=240))
    cases.append(Case("batch", "concurrent-same-out-two-workers", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "2"],
                      {"h.jsonl": jsonl(forty)}, frozenset({0, 1, 2, 3}), None, same_as_reference("forty", forty), kind="concurrent", timeout=240))
    folder_files = {f"in/h{i:02d}.yaml": json.dumps(small_household(i)) for i in range(4)}
    folder_files.update({"in/h04.YAML": json.dumps(small_household(4)), "in/h05.yml": json.dumps(small_household(5)),
                         "in/h06.yaml": folder(), "in/h07.yaml": fifo(), "in/h08.json": b"", "in/notes.txt": "not a household\n"})
    cases.append(Case("batch", "folder-odd-files", ["batch", "check", "in", "--out", "o.jsonl", "--workers", "1"], folder_files,
                      frozenset({3}), None, batch_lines_complete(9, "o.jsonl"), timeout=30))
    for sig, label, code in ((signal.SIGINT, "sigint", 130), (signal.SIGTERM, "sigterm", 143)):
        for workers in ("2", "1"):
            resume = ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", workers, "--resume"]
            cases.append(Case("signals", f"{label}-workers-{workers}", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", workers],
                              {"h.jsonl": jsonl(sixty)}, frozenset({code}), None, same_as_reference("sixty", sixty, resume=resume), kind="signal",
                              timeout=30, extra={"signal": sig, "out": "o.jsonl", "after_lines": 1}))
    cases.append(Case("signals", "ctrl-c-group-workers-2", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "2"],
                      {"h.jsonl": jsonl(sixty)}, frozenset({130}), None,
                      same_as_reference("sixty", sixty, resume=["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "2", "--resume"]),
                      kind="signal", timeout=30, extra={"signal": signal.SIGINT, "out": "o.jsonl", "after_lines": 1, "group": True}))
    cases.append(Case("signals", "sigkill-workers-2", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "2"],
                      {"h.jsonl": jsonl(sixty)}, frozenset({0}), None,
                      same_as_reference("sixty", sixty, resume=["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "2", "--resume"]),
                      kind="signal", timeout=30, extra={"signal": signal.SIGKILL, "out": "o.jsonl", "grace": 5.0}))
    cases.append(Case("signals", "sigint-dask-local", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--dask", "local:1"],
                      {"h.jsonl": jsonl(sixty)}, frozenset({130}), None,
                      same_as_reference("sixty", sixty, resume=["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "1", "--resume"]),
                      kind="signal", timeout=60, extra={"signal": signal.SIGINT, "out": "o.jsonl", "grace": 8.0, "limit": False}))
    return cases


def cli_cases() -> list[Case]:
    big = _households.household(11, transactions=300, trades=60, securities=12)
    cases = []
    for fmt in ("json", "table", "csv", "markdown"):
        cases.append(Case("cli", f"pipe-check-{fmt}", ["check", "big.json", "--format", fmt, "--explain"] if fmt != "json" else ["check", "big.json", "--format", "json", "--pretty"],
                          {"big.json": json.dumps(big)}, frozenset({0, 1, 2}), None, kind="pipe", timeout=60))
    cases.append(Case("cli", "pipe-pack-show", ["pack", "show", "us", "--as-of", "2025-06-01"], {}, frozenset({0}), None, kind="pipe"))
    cases.append(Case("cli", "pipe-pack-validate", ["pack", "validate", *[str(p) for p in sorted((REPO / "jurisdictions").iterdir()) if (p / "pack.yaml").is_file()]],
                      {}, frozenset({0}), None, kind="pipe"))
    cases.append(Case("cli", "pipe-harvest", ["harvest", "h.yaml", "--targets", "t.yaml", "--format", "table"],
                      {"h.yaml": PLAN_HOUSEHOLD, "t.yaml": PLAN_TARGETS}, frozenset({0, 1, 2}), None, kind="pipe"))
    for label, address in (("refused", "tcp://127.0.0.1:9"), ("unresolvable", "tcp://no-such-host.invalid:8786"), ("garbage", "::::"), ("wrong-scheme", "udp://127.0.0.1:8786")):
        cases.append(Case("cli", f"dask-{label}", ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--dask", address],
                          {"h.jsonl": jsonl([small_household(1)])}, frozenset({3}), "option", timeout=90, extra={"limit": False}))
    return cases


def all_cases(work: Path) -> list[Case]:
    return (number_cases() + nesting_cases() + encoding_cases() + size_cases() + link_cases() + path_cases() + date_cases()
            + rules_cases() + output_cases() + absurd_cases() + injection_cases() + batch_cases(work) + cli_cases())


# ------------------------------------------------------------------------------------------ set-up


def prepare(case: Case, where: Path, work: Path) -> None:
    files = dict(case.files)
    edit = files.pop("__edit__", None)
    pack_test = files.pop("__pack_test__", None)
    materialize(where, files)
    if edit is not None:
        rel, old, new = edit
        text = (where / rel).read_text(encoding="utf-8")
        if old not in text:
            raise AssertionError(f"{rel} no longer holds {old!r}")
        (where / rel).write_text(text.replace(old, new, 1), encoding="utf-8")
    if pack_test is not None:
        name = pack_test.replace("@SECRET@", str(work / "secret" / "secret.txt"))
        tests = where / "p" / "tests"
        for old in tests.glob("*.yaml"):
            old.unlink()
        (tests / "hostile.yaml").write_text(
            "tests:\n  - name: hostile scenario path\n    scenario: " + json.dumps(name) + "\n    expect: {t1: {IE: {gain: 0}}}\n", encoding="utf-8")
    for path in where.rglob("*"):
        if (path.is_file() and not path.is_symlink() and path.suffix in (".yaml", ".yml", ".json", ".csv", ".jsonl")
                and path.stat().st_size < 1_000_000):
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if "@SECRET@" in text:
                path.write_text(text.replace("@SECRET@", str(work / "secret" / "secret.txt")), encoding="utf-8")


def run_case(case: Case, work: Path, index: int) -> tuple[Case, Run, list[str]]:
    where = work / f"{index:03d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', case.id)}"
    where.mkdir(parents=True)
    try:
        prepare(case, where, work)
        run = RUNNERS[case.kind](case, where)
        problems = judge(case, run, where)
    except Exception as error:  # the sweep's own failure on a case: reported as that case's, the sweep goes on
        run = Run(None, "", "", 0.0)
        problems = [f"the sweep could not run the case: {type(error).__name__}: {error}"]
    shutil.rmtree(where, ignore_errors=True)
    return case, run, problems


def make_work(root: Path | None = None) -> Path:
    work = Path(tempfile.mkdtemp(prefix="taxpack-sweep-", dir=root))
    (work / "secret").mkdir()
    (work / "secret" / "secret.txt").write_text(f"{SECRET}\nroot:x:0:0:not-really\n", encoding="utf-8")
    return work


def outcome(run: Run, problems: list[str]) -> str:
    """The worst thing that happened, for the table: crash, hang, leak, loss, wrong, ok."""
    joined = " ".join(problems)
    if run.returncode == 4 or "internal error" in joined or "traceback" in joined or "killed by signal" in joined:
        return "crash"
    if "a hang" in joined:
        return "hang"
    if "echoed" in joined:
        return "leak"
    if any(w in joined for w in ("overwritten", "differs", "result lines", "NUL", "orphans", "missing", "lines, expected")):
        return "loss"
    return "wrong" if problems else "ok"


def sweep(cases: list[Case], jobs: int, work: Path, progress: bool = True) -> list[tuple[Case, Run, list[str]]]:
    # Reference outputs first (the signal and concurrency cases compare with them).
    results: list[tuple[Case, Run, list[str]]] = []
    heavy = [c for c in cases if c.kind in ("signal", "concurrent") or c.cls == "cli" and "dask" in c.name]
    light = [c for c in cases if c not in heavy]
    done = 0
    with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_case, c, work, i) for i, c in enumerate(light)]
        for future in cf.as_completed(futures):
            results.append(future.result())
            done += 1
            if progress and sys.stderr.isatty():
                print(f"\r{done}/{len(cases)}", end="", file=sys.stderr, flush=True)
    for i, c in enumerate(heavy, start=len(light)):  # one at a time: they time signals and measure processes
        results.append(run_case(c, work, i))
        done += 1
        if progress and sys.stderr.isatty():
            print(f"\r{done}/{len(cases)}", end="", file=sys.stderr, flush=True)
    if progress and sys.stderr.isatty():
        print(file=sys.stderr)
    order = {c.id: i for i, c in enumerate(cases)}
    return sorted(results, key=lambda r: order[r[0].id])


def table(results: list[tuple[Case, Run, list[str]]]) -> str:
    by_class: dict[str, list[tuple[Case, Run, list[str]]]] = defaultdict(list)
    for r in results:
        by_class[r[0].cls].append(r)
    lines = [f"{'class':<14} {'cases':>5} {'ok':>4} {'crash':>5} {'hang':>4} {'leak':>4} {'loss':>4} {'wrong':>5}  exit codes"]
    totals: Counter[str] = Counter()
    codes_all: Counter[str] = Counter()
    for cls, items in by_class.items():
        kinds = Counter(outcome(run, problems) for _, run, problems in items)
        codes = Counter("timeout" if run.timed_out else ("killed" if run.returncode is None else str(run.returncode)) for _, run, _ in items)
        totals.update(kinds)
        totals["cases"] += len(items)
        codes_all.update(codes)
        codes_text = " ".join(f"{k}:{v}" for k, v in sorted(codes.items()))
        lines.append(f"{cls:<14} {len(items):>5} {kinds['ok']:>4} {kinds['crash']:>5} {kinds['hang']:>4} {kinds['leak']:>4} {kinds['loss']:>4} {kinds['wrong']:>5}  {codes_text}")
    codes_text = " ".join(f"{k}:{v}" for k, v in sorted(codes_all.items()))
    lines.append(f"{'total':<14} {totals['cases']:>5} {totals['ok']:>4} {totals['crash']:>5} {totals['hang']:>4} {totals['leak']:>4} {totals['loss']:>4} {totals['wrong']:>5}  {codes_text}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--class", dest="only", action="append", help="run only this class (repeatable)")
    parser.add_argument("--name", help="run only cases whose name contains this text")
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)), help="cases run at once (default: one per core)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--failures", action="store_true", help="print each failing case with the end of its output")
    parser.add_argument("--json", metavar="FILE", help="also write every case's outcome as JSON")
    args = parser.parse_args()
    work = make_work()
    try:
        cases = all_cases(work)
        ids = [c.id for c in cases]
        duplicates = [i for i, n in Counter(ids).items() if n > 1]
        if duplicates:
            raise SystemExit(f"duplicate case ids: {duplicates}")
        if args.only:
            cases = [c for c in cases if c.cls in args.only]
        if args.name:
            cases = [c for c in cases if args.name in c.name]
        if args.list:
            for c in cases:
                print(c.id, " ".join(c.argv)[:120])
            print(f"{len(cases)} cases")
            return 0
        start = time.monotonic()
        results = sweep(cases, args.jobs, work)
        print(f"taxpack hostile-input sweep: {len(results)} cases, {time.monotonic() - start:.0f} s, checkout {REPO}")
        print(table(results))
        failing = [(c, run, p) for c, run, p in results if p]
        if args.failures:
            for c, run, p in failing:
                print(f"\nFAIL {c.id}: {'; '.join(p)}")
                print(f"  $ taxpack {' '.join(c.argv)[:200]}")
                for line in (run.stderr.strip().splitlines() or run.stdout.strip().splitlines())[-4:]:
                    print(f"  | {line[:220]}")
        if args.json:
            Path(args.json).write_text(json.dumps([{"id": c.id, "class": c.cls, "exit": run.returncode, "outcome": outcome(run, p), "problems": p,
                                                    "seconds": round(run.seconds, 2)} for c, run, p in results], indent=1), encoding="utf-8")
        return 1 if failing else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
