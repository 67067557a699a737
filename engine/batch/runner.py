"""Many households at once: each household is one independent check (or plan), so a batch spreads them
over processes or a Dask cluster and writes one JSON line per household, in input order.

The input is a folder of scenario files (sorted by name) or a JSON Lines file (one scenario object per
line). Every worker receives the packs once (`Job`), then only household texts; a household whose input
is wrong gets its error, with its place, in its own line, and the batch goes on. Output lines are made
by the same function in every mode, so a run on one core, on many, or on a cluster gives the same bytes.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import errno
import json
import os
import signal
import stat
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import attrs

from taxpack.engine.batch.detail import file_packs, line_packs
from taxpack.engine.batch.households import (
    Item,
    count_items,
    other_files,
    read_items,
    scenario_files,
)
from taxpack.engine.batch.jobs import IN_FLIGHT_PER_WORKER, STATUS_BY_CODE, STATUSES, Coded, Job, in_order, init_worker, run_in_worker, run_item_coded
from taxpack.engine.core.documents import display_path
from taxpack.engine.core.errors import (
    EXIT_OK,
    SemanticError,
    Span,
)
from taxpack.engine.core.files import same_file

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the output is not locked
    fcntl = None  # type: ignore[assignment]


def local_lines(job: Job, items: Iterable[Item], workers: int) -> Iterator[Coded]:
    """One process per worker, each given the job once; one worker runs in this process."""
    if workers <= 1:
        for item in items:
            yield run_item_coded(job, item)
        return
    with cf.ProcessPoolExecutor(max_workers=workers, initializer=init_local_worker, initargs=(job,)) as pool:
        try:
            yield from in_order(items, lambda item: pool.submit(run_in_worker, item),
                                lambda fs: cf.wait(fs, return_when=cf.FIRST_COMPLETED).done,
                                lambda f: f.result(), workers * IN_FLIGHT_PER_WORKER)
        except BaseException:
            stop_pool(pool)
            raise


def stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Stop the workers now (an interruption, an error): households in progress are abandoned, not awaited."""
    table = getattr(pool, "_processes", None) or {}  # the pool's own processes (no public accessor)
    processes = list(table.values())
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)  # before shutdown() drops it
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():  # pragma: no cover - a worker that ignores SIGTERM
            process.kill()
            process.join(timeout=5)
    # A worker stopped while it sent a result leaves half a message in the result pipe, and the pool's
    # manager thread waits for the rest forever (the interpreter would hang at exit joining it). With every
    # worker gone, closing this process's end of the pipe ends that wait: the manager sees a broken pool.
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()


# The locked output's descriptor: a worker forked while it is open closes its copy, so the lock ends with
# the command (a worker that outlives it for a moment does not hold the output).
_OUTPUT_FDS: set[int] = set()


def init_local_worker(job: Job) -> None:
    """A local worker process: the job installed once; Ctrl-C (sent to the whole terminal's process group)
    is the parent's to handle, and the worker dies with its parent, even when the parent is killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for fd in list(_OUTPUT_FDS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _OUTPUT_FDS.clear()
    die_with_parent()
    init_worker(job)


def die_with_parent() -> None:
    """End this process when its parent ends: the kernel's parent-death signal on Linux, and a thread that
    watches the parent elsewhere (and as a second guard)."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # pragma: no cover - the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="taxpack-watch-parent", daemon=True).start()


class Interrupted(BaseException):
    """SIGINT or SIGTERM during a batch: the workers are stopped and every complete result line is in the
    output, which `--resume` continues. Not an error of the input: its exit code is 128 + the signal."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.written = 0
        self.total = 0
        self.output = ""
        super().__init__(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    def render(self) -> str:
        return (f"batch interrupted by {self.name}: {self.written} of {self.total} households written to {self.output}; "
                "run the same command with --resume to finish")


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` in the main thread for the duration (a second signal while the
    batch stops is ignored); elsewhere (a batch run from a thread) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def open_output(output: Path) -> int:
    """The output file, opened without truncating it and locked for this run: a second run on the same
    output is refused (exit 3) instead of writing into the first one's results."""
    shown = display_path(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(output, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    except OSError as error:
        problem = {errno.EISDIR: "is a folder", errno.EACCES: "cannot be written: permission denied",
                   errno.EPERM: "cannot be written: permission denied", errno.EROFS: "is on a read-only file system",
                   errno.ELOOP: "is a loop of symbolic links"}.get(error.errno or 0, f"cannot be written: {error.strerror}")
        raise SemanticError(f"OUTPUT {shown} {problem}", Span(shown), "a file name for --out in a folder you can write") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SemanticError(f"OUTPUT {shown} is not a regular file (a device, a pipe or a socket)", Span(shown), "a file name for --out")
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise SemanticError(f"another taxpack batch is writing {shown} now; two runs on one output would mix their results",
                                Span(shown), "another --out, or wait until that run ends (then --resume if it was interrupted)") from None
    _OUTPUT_FDS.add(fd)
    return fd


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------------------------- resume


@attrs.frozen
class Resumed:
    count: int  # households already written
    codes: tuple[int, ...]  # their exit codes
    keep_bytes: int  # the size of the complete lines; anything after is a truncated line to rewrite


def read_existing(output: Path, job: Job) -> Resumed:
    """The complete result lines of an earlier run, each checked; the unfinished line an interruption left is dropped."""
    if not output.exists():
        return Resumed(0, (), 0)
    shown = display_path(output)
    lines = output.read_bytes().split(b"\n")
    # Every line but the last ended with a newline, which is written last: those are complete. The last
    # piece (empty after a clean run) is what an interruption cut short, and is written again.
    codes: list[int] = []
    offset = 0
    for number, line in enumerate(lines[:-1], start=1):
        try:
            record = json.loads(line.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            record = None
        if (not isinstance(record, dict) or not isinstance(record.get("source"), str)
                or record.get("exit_code") not in STATUS_BY_CODE or record.get("status") != STATUS_BY_CODE[record["exit_code"]]):
            raise SemanticError("this line is not a complete result line, so the output cannot be resumed", Span(shown, number),
                                "an output written by `taxpack batch`; remove the file to start again")
        if record.get("batch") != job.kind:
            raise SemanticError(f"this output was written by `batch {record.get('batch')}`, not `batch {job.kind}`", Span(shown, number),
                                "the same command as the run being resumed")
        detail = record.get("detail", "full")  # a full line is today's line: it has no `detail`
        if detail != job.detail:
            raise SemanticError(f"this output was written with --detail {detail}, not --detail {job.detail}: its lines would mix two levels",
                                Span(shown, number), f"--detail {detail}, as in the run being resumed, or no --resume")
        if not _same_packs(record.get("packs"), job):
            raise SemanticError("this output was written with other packs (versions or hashes differ)", Span(shown, number),
                                "the same packs as the run being resumed, or no --resume")
        codes.append(record["exit_code"])
        offset += len(line) + 1
    return Resumed(len(codes), tuple(codes), offset)


def _same_packs(written: Any, job: Job) -> bool:
    """Whether a line's packs are the job's: every stamp (full), or the set's digest and each pack it used (summary)."""
    if job.detail == "full":
        return bool(written == job.stamp)
    if not isinstance(written, dict) or not isinstance(written.get("used"), list):
        return False
    mine = line_packs(job.stamp, [s["id"] for s in job.stamp])
    return written.get("set") == mine["set"] and all(isinstance(u, str) and u in mine["used"] for u in written["used"])


def _skip_resumed(items: Iterator[Item], output: Path, resumed: Resumed) -> Iterator[Item]:
    """The items after those already written, checking that the written ones are this input's first ones."""
    if resumed.count:
        shown = display_path(output)
        with output.open("rb") as f:
            for number in range(1, resumed.count + 1):
                written = json.loads(f.readline())["source"]
                item = next(items, None)
                if item is None or item.source != written:
                    raise SemanticError(
                        f"line {number} of the output is household '{written}', but the input's household {number} is "
                        f"{repr(item.source) if item else 'missing'}", Span(shown, number),
                        "the same input as the run being resumed")
    return items


# -------------------------------------------------------------------------------------------- summary


@attrs.frozen
class Summary:
    kind: str
    households: int
    counts: dict[str, int]
    resumed: int
    exit_code: int
    seconds: float = attrs.field(eq=False)
    workers: str = attrs.field(eq=False)
    # Files of a folder input that are not households (a rates file, notes): named, so none goes unmentioned.
    not_households: tuple[str, ...] = attrs.field(default=(), eq=False)
    # The lines' detail level; at "summary", the run's full pack stamps (each line holds only short ones).
    detail: str = "full"
    packs: tuple[dict[str, str], ...] = attrs.field(default=(), eq=False)

    def to_json_dict(self) -> dict[str, Any]:
        # No time here: the summary of a run is as reproducible as its output.
        out = {"batch": self.kind, "households": self.households, **{s: self.counts[s] for s in STATUSES},
               "resumed": self.resumed, "exit_code": self.exit_code}
        if self.detail != "full":  # --detail full: the summary as it always was
            out |= {"detail": self.detail, "packs": file_packs(self.packs)}
        return out

    def render(self) -> str:
        rate = (self.households - self.resumed) / self.seconds if self.seconds > 0 else 0.0
        resumed = f" ({self.resumed} already written)" if self.resumed else ""
        others = ""
        if self.not_households:
            names = ", ".join(self.not_households[:5]) + (", ..." if len(self.not_households) > 5 else "")
            others = f"\n{len(self.not_households)} file(s) of the input folder are not scenarios (.yaml, .yml, .json) and were not run: {names}"
        return (f"batch {self.kind}: {self.households} households{resumed}: {self.counts['ok']} ok, {self.counts['warnings']} warnings, "
                f"{self.counts['blocked']} blocked, {self.counts['error']} errors; {self.seconds:.1f} s, {rate:.1f} households/s on {self.workers}"
                + others)


# ---------------------------------------------------------------------------------------------- batch


def worst_exit(codes: Iterable[int]) -> int:
    """The batch's exit code: the highest of its households' (0 all ok, 1 warnings, 2 blocked, 3 input errors, 4 a bug)."""
    return max(codes, default=EXIT_OK)


def check_paths(input_path: Path, output: Path, others: Sequence[tuple[str, Path | None]] = ()) -> None:
    """OUTPUT may be none of the inputs: not INPUT, not a household of a folder INPUT, not a file given with
    another option (`others`: (option, path) pairs such as ("--targets", FILE))."""
    shown = display_path(output)
    if same_file(output, input_path):
        raise SemanticError("OUTPUT is INPUT: the households would be overwritten by their results", Span(shown),
                            "another file for --out")
    if input_path.is_dir() and Path(output.name).suffix.lower() in (".yaml", ".yml", ".json"):
        for household in scenario_files(input_path):
            # An earlier run's output inside the input folder is not a household (and is written again).
            if same_file(household, output) and not _is_output(output):
                raise SemanticError(f"OUTPUT is the household {display_path(household)} of INPUT: it would be overwritten by the results",
                                    Span(shown), "another file for --out, outside the input folder or with another suffix")
    for option, path in others:
        if path is not None and same_file(output, path):
            raise SemanticError(f"OUTPUT is the file given with {option}: it would be overwritten by the results", Span(shown),
                                "another file for --out")


def _is_output(path: Path) -> bool:
    """Whether the file at `path` is empty or was written by `taxpack batch` (its first line is a result line)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as f:
            first = f.readline(1 << 20)
    except OSError:
        return False
    if not first.strip():
        return True
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and "batch" in record and "source" in record and "exit_code" in record


def run_batch(job: Job, input_path: Path, output: Path, *, workers: int | None = None, dask: str | None = None,
              resume: bool = False, progress: Callable[[int, int], None] | None = None,
              others: Sequence[tuple[str, Path | None]] = ()) -> Summary:
    """Run `job` on every household of `input_path`, writing `output` (JSON Lines) in input order.

    `progress(done, total)` is called once before the first household and after each one written
    (households already written by an earlier run count as done); the command line draws it.

    OUTPUT is locked for the run (a second run on it is refused); each result line is written whole, so
    whatever stops the run (SIGINT or SIGTERM, raised here as `Interrupted` after the workers are stopped
    and the lines written; a kill; a lost cluster) leaves complete lines that `resume=True` continues.
    `others` are files given with other options, which OUTPUT may not be."""
    start = time.monotonic()
    if dask:
        try:
            from taxpack.engine.batch.cluster import connect, dask_lines, parse_address
        except ImportError as error:
            raise SemanticError(f"--dask needs dask.distributed, which does not import here ({error})", None,
                                "pip install 'taxpack[batch]', or a local run without --dask") from None
        parse_address(dask)  # a wrong address is said before anything is written
    total = count_items(input_path, output)  # INPUT first: a missing one, a device, a loop of links
    check_paths(input_path, output, others)
    fd = open_output(output)
    try:
        resumed = read_existing(output, job) if resume else Resumed(0, (), 0)
        items = _skip_resumed(read_items(input_path, output), output, resumed)
        counts = {s: 0 for s in STATUSES}
        codes: list[int] = []
        for code in resumed.codes:
            counts[STATUS_BY_CODE[code]] += 1
            codes.append(code)
        done = resumed.count
        lines: Iterator[Coded] | None = None
        try:
            with interruptible():
                if dask:
                    connection = connect(dask)  # an unreachable scheduler is said before the output is touched
                    lines = dask_lines(job, items, dask, connection)
                    where = f"Dask {dask}"
                else:
                    n = max(1, min(workers or default_workers(), total - resumed.count))  # no idle processes
                    lines = local_lines(job, items, n)
                    where = f"{n} local worker{'s' if n != 1 else ''}"
                try:
                    os.ftruncate(fd, resumed.keep_bytes)  # a fresh run starts empty; a resumed one drops a line cut short
                    os.lseek(fd, 0, os.SEEK_END)
                except OSError as error:
                    raise SemanticError(f"OUTPUT {display_path(output)} cannot be written: {error.strerror}", Span(display_path(output)),
                                        "a regular file for --out in a folder you can write") from None
                if progress is not None:
                    progress(done, total)
                try:
                    with os.fdopen(fd, "ab", closefd=False) as out:
                        for code, line in lines:
                            out.write(line.encode("utf-8"))  # a whole line at a time: what is flushed is resumable
                            counts[STATUS_BY_CODE[code]] += 1
                            codes.append(code)
                            done += 1
                            if progress is not None:
                                progress(done, total)
                except OSError as error:  # a full disk, a file system gone read-only: the lines so far stay
                    raise SemanticError(f"OUTPUT {display_path(output)} cannot be written any more: {error.strerror} "
                                        f"({done} of {total} households written)", Span(display_path(output)),
                                        "room on the disk; then the same command with --resume") from None
        except Interrupted as stop:  # the complete lines are written (the `with` closed the file); stop the workers
            if lines is not None and hasattr(lines, "close"):
                lines.close()
            stop.written, stop.total, stop.output = done, total, display_path(output)
            raise
    finally:
        _OUTPUT_FDS.discard(fd)
        os.close(fd)  # the lock goes with it
    names = tuple(other_files(input_path, (output,))) if input_path.is_dir() else ()
    return Summary(job.kind, sum(counts.values()), counts, resumed.count, worst_exit(codes), time.monotonic() - start, where, names,
                   job.detail, tuple(job.stamp))
