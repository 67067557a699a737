"""Benchmark: lot matching of candidate sells against a large pool, per method, at two sizes.

A pool of N lots (one security, one account, random prices, several lots a day) is built through the
ledger; then M candidate sells, each taking a couple of lots, are matched by FIFO, HIFO or average
cost. The time per candidate trade is printed for N = 100,000 / M = 1,000 and for ten times both
(N = 1,000,000 / M = 10,000), so that growth is visible. Goal (issue 3): well under 1 ms per trade,
growing no worse than n log n overall (per trade: no worse than log n).

The sell timings are the whole `Ledger.sell` path a candidate trade takes in `taxpack check`: the
pack's method choice, conversion, the pool's matching, proceeds split, term per lot and price/FX split.

    python benchmarks/lots_bench.py [--lots 100000] [--sells 1000] [--factor 10] [--methods fifo,hifo,average] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from taxpack.engine.core.household import Account, Scenario, Security, Taxpayer, Transaction  # noqa: E402
from taxpack.engine.inputs.fx import FxTable  # noqa: E402
from taxpack.engine.law.load import load_pack  # noqa: E402
from taxpack.engine.lots.ledger import Ledger  # noqa: E402

LOTS_PER_DAY = 50
LOT_SIZE = Decimal(10)
SELL_SIZE = Decimal(15)  # each sell takes one lot and a half: one or two slices
BLOCKS = 9


def run(pack, lots: int, sells: int, method: str, seed: int = 7) -> tuple[float, float, float, float, int]:
    """(µs per lot bought, µs for the first sell, µs per later sell, µs per sell overall, slices taken)."""
    rng = random.Random(seed)
    scenario = Scenario(
        as_of=dt.date(2100, 1, 1),
        taxpayers=(Taxpayer("p", "US", ("US",)),),
        accounts=(Account("acct", "p", "US", "USD"),),
        securities=(Security("ETF", "USD", "US", kind="etf"),),  # a fund share: average cost is allowed
    )
    ledger = Ledger(pack, scenario, FxTable({}, "none"))
    start_day = dt.date(1990, 1, 1)
    buys = [Transaction(f"b{i}", "acct", "ETF", start_day + dt.timedelta(days=i // LOTS_PER_DAY), "buy", LOT_SIZE,
                        Decimal(rng.randrange(5_000, 50_000)) / 100, Decimal("1.00")) for i in range(lots)]
    sell_day = buys[-1].date + dt.timedelta(days=1)
    candidates = [Transaction(f"s{j}", "acct", "ETF", sell_day, "sell", SELL_SIZE, Decimal(rng.randrange(5_000, 50_000)) / 100,
                              Decimal("1.00"), lots=method, candidate=True) for j in range(sells)]
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for tx in buys:
            ledger.buy(tx)
        t1 = time.perf_counter()
        slices = len(ledger.sell(candidates[0]).takes)  # HIFO/LOFO: builds the pool's heap, once
        t2 = time.perf_counter()
        # Later sells in BLOCKS blocks; the median block is reported, so that a burst of load from other
        # processes on the machine does not decide the figure.
        rest = candidates[1:]
        size = max(1, len(rest) // BLOCKS)
        blocks = []
        for start in range(0, len(rest), size):
            b0 = time.perf_counter()
            for tx in rest[start:start + size]:
                slices += len(ledger.sell(tx).takes)
            blocks.append((time.perf_counter() - b0) / len(rest[start:start + size]))
        t3 = time.perf_counter()
    finally:
        gc.enable()
    return ((t1 - t0) / lots * 1e6, (t2 - t1) * 1e6, statistics.median(blocks) * 1e6, (t3 - t1) / sells * 1e6, slices)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--sells", type=int, default=1_000)
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--methods", default="fifo,hifo,average")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and method; the fastest is shown")
    args = parser.parse_args()
    pack = load_pack(ROOT / "jurisdictions" / "us")
    sizes = [(args.lots, args.sells), (args.lots * args.factor, args.sells * args.factor)]
    print(f"lot matching, pack {pack.ref}, Python {sys.version.split()[0]}, garbage collector off while timing")
    print("µs per candidate sell: the first (HIFO builds the pool's heap then), each later one (median of")
    print(f"{BLOCKS} blocks), and overall (all sells, first included);")
    print("µs per lot bought (building the pool through Ledger.buy)")
    print(f"{'method':<8} {'lots':>10} {'sells':>7} {'first µs':>10} {'µs/sell':>8} {'overall':>8} {'µs/lot':>7} {'slices/sell':>11}")
    for method in args.methods.split(","):
        steady, overall = [], []
        for lots, sells in sizes:
            runs = [run(pack, lots, sells, method, seed=7) for _ in range(args.repeat)]
            buy_us, first_us, sell_us, all_us, slices = min(runs, key=lambda r: r[3])
            steady.append(sell_us)
            overall.append(all_us)
            print(f"{method:<8} {lots:>10,} {sells:>7,} {first_us:>10,.0f} {sell_us:>8.1f} {all_us:>8.1f} {buy_us:>7.1f} {slices / sells:>11.2f}")
        log_ratio = math.log(sizes[1][0]) / math.log(sizes[0][0])
        print(f"{method:<8} x{args.factor} lots and sells: per later sell x{steady[1] / steady[0]:.2f}, per sell overall "
              f"x{overall[1] / overall[0]:.2f} (a log n cost per sell would grow x{log_ratio:.2f})")


if __name__ == "__main__":
    main()
