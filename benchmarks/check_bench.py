"""Benchmark: `taxpack check` on one generated household of 10,000 transactions and 1,000 trades.

Prints wall time and peak memory of the whole command (parse, validate, replay every lens, rules,
estimates, JSON output) as a user runs it. Goal (issue 6): under 2 seconds on a 2-core machine.

    python benchmarks/check_bench.py [--transactions 10000] [--trades 1000] [--backend python|durable]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from households import household  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=10_000)
    parser.add_argument("--trades", type=int, default=1_000)
    parser.add_argument("--backend", choices=["python", "durable"], default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = household(7, transactions=args.transactions, trades=args.trades, securities=40, residence="CA")
    data["taxpayers"][0]["citizenship"] = ["US"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        cmd = [sys.executable, "-m", "taxpack.cli", "check", str(path), "--format", "json"]
        if args.backend:
            cmd += ["--rules-backend", args.backend]
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if proc.returncode >= 3:
                print(proc.stderr)
                raise SystemExit(proc.returncode)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out = json.loads(proc.stdout)
    n_cons = sum(len(t["consequences"]) for t in out["trades"])
    print(f"taxpack check: {args.transactions} transactions, {args.trades} candidate trades, {n_cons} consequences, rules backend {out['rules_backend']}")
    print(f"wall time (whole command, {args.runs} runs): best {min(times):.2f} s, median {sorted(times)[len(times)//2]:.2f} s")
    print(f"peak memory (max RSS of the child): {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
