"""Many households at once: each household is one independent check (or plan), so a batch spreads them
over processes or a Dask cluster and writes one JSON line per household, in input order.

The input is a folder of scenario files (sorted by name) or a JSON Lines file (one scenario object per
line). Every worker receives the packs once (`Job`), then only household texts; a household whose input
is wrong gets its error, with its place, in its own line, and the batch goes on. Output lines are made
by the same function in every mode, so a run on one core, on many, or on a cluster gives the same bytes.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import attrs

from taxpack.engine.batch.households import (
    Item,
    count_items,
    read_items,
)
from taxpack.engine.batch.jobs import IN_FLIGHT_PER_WORKER, STATUS_BY_CODE, STATUSES, Coded, Job, in_order, init_worker, run_in_worker, run_item_coded
from taxpack.engine.core.documents import display_path
from taxpack.engine.core.errors import (
    EXIT_OK,
    SemanticError,
    Span,
)


def local_lines(job: Job, items: Iterable[Item], workers: int) -> Iterator[Coded]:
    """One process per worker, each given the job once; one worker runs in this process."""
    if workers <= 1:
        for item in items:
            yield run_item_coded(job, item)
        return
    with cf.ProcessPoolExecutor(max_workers=workers, initializer=init_worker, initargs=(job,)) as pool:
        try:
            yield from in_order(items, lambda item: pool.submit(run_in_worker, item),
                                lambda fs: cf.wait(fs, return_when=cf.FIRST_COMPLETED).done,
                                lambda f: f.result(), workers * IN_FLIGHT_PER_WORKER)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


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
        if record.get("packs") != job.stamp:
            raise SemanticError("this output was written with other packs (versions or hashes differ)", Span(shown, number),
                                "the same packs as the run being resumed, or no --resume")
        codes.append(record["exit_code"])
        offset += len(line) + 1
    return Resumed(len(codes), tuple(codes), offset)


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

    def to_json_dict(self) -> dict[str, Any]:
        # No time here: the summary of a run is as reproducible as its output.
        return {"batch": self.kind, "households": self.households, **{s: self.counts[s] for s in STATUSES},
                "resumed": self.resumed, "exit_code": self.exit_code}

    def render(self) -> str:
        rate = (self.households - self.resumed) / self.seconds if self.seconds > 0 else 0.0
        resumed = f" ({self.resumed} already written)" if self.resumed else ""
        return (f"batch {self.kind}: {self.households} households{resumed}: {self.counts['ok']} ok, {self.counts['warnings']} warnings, "
                f"{self.counts['blocked']} blocked, {self.counts['error']} errors; {self.seconds:.1f} s, {rate:.1f} households/s on {self.workers}")


# ---------------------------------------------------------------------------------------------- batch


def worst_exit(codes: Iterable[int]) -> int:
    """The batch's exit code: the highest of its households' (0 all ok, 1 warnings, 2 blocked, 3 input errors, 4 a bug)."""
    return max(codes, default=EXIT_OK)


def run_batch(job: Job, input_path: Path, output: Path, *, workers: int | None = None, dask: str | None = None,
              resume: bool = False, progress: Callable[[int, int], None] | None = None) -> Summary:
    """Run `job` on every household of `input_path`, writing `output` (JSON Lines) in input order.

    `progress(done, total)` is called once before the first household and after each one written
    (households already written by an earlier run count as done); the command line draws it."""
    start = time.monotonic()
    if dask:
        try:
            from taxpack.engine.batch.cluster import dask_lines, parse_address
        except ImportError as error:
            raise SemanticError(f"--dask needs dask.distributed, which does not import here ({error})", None,
                                "pip install 'taxpack[batch]', or a local run without --dask") from None
        parse_address(dask)  # a wrong address is said before anything is written
    if output.resolve() == input_path.resolve():
        raise SemanticError("OUTPUT is INPUT: the households would be overwritten by their results", Span(display_path(output)),
                            "another file for --out")
    total = count_items(input_path, output)
    resumed = read_existing(output, job) if resume else Resumed(0, (), 0)
    items = _skip_resumed(read_items(input_path, output), output, resumed)
    counts = {s: 0 for s in STATUSES}
    codes: list[int] = []
    for code in resumed.codes:
        counts[STATUS_BY_CODE[code]] += 1
        codes.append(code)
    if resume and output.exists():
        with output.open("r+b") as f:
            f.truncate(resumed.keep_bytes)  # drop the line an interruption cut short
    if dask:
        lines = dask_lines(job, items, dask)
        where = f"Dask {dask}"
    else:
        n = workers or default_workers()
        lines = local_lines(job, items, n)
        where = f"{n} local worker{'s' if n != 1 else ''}"
    done = resumed.count
    if progress is not None:
        progress(done, total)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("ab" if resume else "wb") as out:
        for code, line in lines:
            out.write(line.encode("utf-8"))
            counts[STATUS_BY_CODE[code]] += 1
            codes.append(code)
            done += 1
            if progress is not None:
                progress(done, total)
    return Summary(job.kind, sum(counts.values()), counts, resumed.count, worst_exit(codes), time.monotonic() - start, where)
