"""Benchmark: `taxpack batch` on generated households, checks and cash-raising plans, one worker and two.

Writes N small-to-medium households (benchmarks/households.py `mixed_household`: 10-120 past
transactions, 4-12 securities, 1-6 candidate trades, residences CA/US/DE/FR) as JSON Lines, then runs
the whole command as a user does (`python -m taxpack.cli batch ...`) with --workers 1 and 2, and prints
households per second, per second per core and per CPU-second (CPU time of the command and its
workers, which other work on a shared machine does not lower), the bytes per household of the output (mean
and largest line) at the default detail level (summary) and, in one more two-worker run, at --detail full,
and whether the outputs of the runs at one level are the same bytes.

    python benchmarks/batch_bench.py [--households 10000] [--raise 1000] [--kinds check,plan] [--dask] [--no-full]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from households import write_jsonl  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(kind: str, source: Path, out: Path, extra: list[str]) -> tuple[float, float, dict[str, int]]:
    """Wall seconds and CPU seconds (the command and its worker processes) of one whole command."""
    summary = out.with_suffix(".summary.json")
    cmd = [sys.executable, "-m", "taxpack.cli", "batch", kind, str(source), "--out", str(out), "--summary", str(summary), *extra]
    start, cpu = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    if proc.returncode >= 4 or not summary.exists():
        print(proc.stderr)
        raise SystemExit(proc.returncode)
    return seconds, cpu, json.loads(summary.read_text(encoding="utf-8"))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--raise", dest="amount", default="1000", help="cash each plan raises in p1-taxable (account currency)")
    parser.add_argument("--kinds", default="check,plan")
    parser.add_argument("--dask", action="store_true", help="also run on a two-worker Dask LocalCluster (local:2)")
    parser.add_argument("--no-full", dest="full", action="store_false", help="no extra two-worker run with --detail full")
    args = parser.parse_args()
    n = args.households
    print(f"{n} generated households (mixed_household, seeds 0..{n - 1}); machine: {os.cpu_count()} cores, "
          f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "households.jsonl"
        write_jsonl(source, n)
        print(f"input: {source.stat().st_size / 1e6:.1f} MB of JSON Lines")
        for kind in args.kinds.split(","):
            extra = ["--raise", args.amount, "--account", "p1-taxable"] if kind == "plan" else []
            modes: list[tuple[str, int, list[str]]] = [("1 worker", 1, ["--workers", "1"]), ("2 workers", 2, ["--workers", "2"])]
            if args.dask:
                modes.append(("Dask local:2", 2, ["--dask", "local:2"]))
            if args.full:
                modes.append(("2 workers full", 2, ["--workers", "2", "--detail", "full"]))
            digests: dict[str, set[str]] = {}
            base_rate = None
            for label, cores, mode in modes:
                out = Path(tmp) / f"{kind}-{label.replace(' ', '-').replace(':', '')}.jsonl"
                seconds, cpu, summary = run(kind, source, out, extra + mode)
                detail = "full" if "full" in mode else "summary"
                digests.setdefault(detail, set()).add(digest(out))
                rate = n / seconds
                base_rate = base_rate or rate
                counts = ", ".join(f"{summary[s]} {s}" for s in ("ok", "warnings", "blocked", "error"))
                largest = max(len(line) for line in out.read_bytes().splitlines(keepends=True))
                # Per CPU-second: what one core does when nothing else runs (a shared machine lowers the wall figures only).
                print(f"batch {kind:5s} {label:14s}: {seconds:7.1f} s  {rate:7.1f} households/s  {rate / cores:7.1f} per core  "
                      f"x{rate / base_rate:.2f}  {n / cpu:7.1f} per CPU-second  ({counts}; output {out.stat().st_size / 1e6:.1f} MB, "
                      f"{out.stat().st_size / n:,.0f} bytes per household, largest {largest:,})")
            for detail, found in digests.items():
                print(f"batch {kind} ({detail}): outputs of every mode {'identical' if len(found) == 1 else 'DIFFER'} ({', '.join(sorted(found))})")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other work on the machine lowers every figure)")


if __name__ == "__main__":
    main()
