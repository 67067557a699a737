"""The same households on one process, on a process pool and on a two-worker Dask LocalCluster: the same bytes."""

from __future__ import annotations

import json
from pathlib import Path

from taxpack.engine.batch.jobs import Job
from taxpack.engine.batch.runner import run_batch
from taxpack.engine.core.documents import display_path
from taxpack.engine.law.registry import pack_set

from .helpers import jsonl, lines, oversold, small, uncovered_date, unknown_account


def test_200_households_locally_and_on_a_local_dask_cluster_byte_for_byte(tmp_path: Path) -> None:
    records: list[object] = [small(seed) for seed in range(196)]
    # A few broken households among them: their error lines must be the same bytes in every mode too.
    records[17:17] = [unknown_account(1000)]
    records[80:80] = ['{"taxpack": 1, "as_of": "2026-03-02", ']
    records[150:150] = [oversold(1001)]
    records.append(uncovered_date(1002))
    assert len(records) == 200
    source = jsonl(tmp_path / "households.jsonl", records)
    job = Job("check", pack_set())
    local = tmp_path / "local.jsonl"
    on_dask = tmp_path / "dask.jsonl"
    local_summary = run_batch(job, source, local, workers=2)
    dask_summary = run_batch(job, source, on_dask, dask="local:2")
    assert on_dask.read_bytes() == local.read_bytes()
    assert dask_summary == local_summary
    out = lines(local)
    assert len(out) == 200
    assert [r["source"] for r in out] == [f"{display_path(source)}:{n}" for n in range(1, 201)]
    assert [i for i, r in enumerate(out) if r["status"] == "error"] == [17, 80, 150, 199]
    assert local_summary.counts["error"] == 4
    assert sum(local_summary.counts.values()) == 200
    # Every line is stamped with the packs the workers used, which are the ones this process loaded: at the
    # default detail level, the digest of the set and each pack the line used as id@version+hash.
    mine = {f"{p['id']}@{p['version']}+{p['sha256'][:12]}" for p in job.stamp}
    assert len({r["packs"]["set"] for r in out}) == 1
    assert all(set(r["packs"]["used"]) <= mine and (r["packs"]["used"] or r["status"] == "error") for r in out)


def test_one_worker_in_this_process_gives_the_same_bytes_as_a_pool(tmp_path: Path) -> None:
    source = jsonl(tmp_path / "h.jsonl", [small(seed) for seed in range(300, 330)])
    job = Job("check", pack_set())
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch(job, source, one, workers=1)
    run_batch(job, source, two, workers=2)
    assert one.read_bytes() == two.read_bytes()
    assert [json.loads(x)["household"] for x in one.read_text().splitlines()] == [f"household-{s}" for s in range(300, 330)]


def test_results_come_out_in_input_order_whatever_order_they_finish_in() -> None:
    import concurrent.futures as cf
    import random
    import time

    from taxpack.engine.batch.households import Item
    from taxpack.engine.batch.jobs import in_order

    rng = random.Random(4)
    delays = [rng.random() / 200 for _ in range(120)]
    items = [Item(i, f"s{i}", "s", None, b"", ".") for i in range(120)]
    in_flight: list[int] = []
    seen = 0

    def work(item: Item) -> tuple[int, str]:
        time.sleep(delays[item.index])
        return 0, item.source

    def submit(item: Item) -> cf.Future:
        in_flight.append(item.index - seen)
        return pool.submit(work, item)

    with cf.ThreadPoolExecutor(max_workers=6) as pool:
        out = []
        for _, line in in_order(items, submit, lambda fs: cf.wait(fs, return_when=cf.FIRST_COMPLETED).done, lambda f: f.result(), 10):
            out.append(line)
            seen += 1
    assert out == [f"s{i}" for i in range(120)]
    assert max(in_flight) < 10  # never more than the window between the next line to write and the newest task


def test_progress_bar_on_a_terminal_only() -> None:
    """The batch reports (done, total); the command line's bar draws it on a terminal only (cli/progress.py)."""
    import io

    from taxpack.cli.progress import Bar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        with Bar("batch check", stream=stream, delay=0) as bar:
            for done in range(1, 5):
                bar.count(done, 4)
    quiet = Terminal()
    with Bar("batch check", stream=quiet, delay=0, quiet=True) as bar:
        bar.count(4, 4)
    assert pipe.getvalue() == "" and quiet.getvalue() == ""
    assert "batch check" in terminal.getvalue() and "4/4" in terminal.getvalue()
