"""Benchmark: the same 10,000-transaction FIFO job in taxpack and in rp2 (https://github.com/eprbell/rp2).

One holder, one account, one asset (USD): buys and sells on a random price walk (two decimals), quantities
with up to four decimals, no fees, every sell covered by what is held. taxpack replays it through the US
pack's ledger (FIFO, its default) with the pack's wash-sale rule taken out (rp2 has none: it computes crypto
gains, which §1091 does not reach), rp2 through its own engine (`compute_tax` with its FIFO plugin, the way
`rp2_us -m fifo` calls it, without writing the ODS reports). Both total gains must agree to the cent (the
script fails loudly otherwise); both times and their ratio are printed. Goal (issue 22): taxpack at least
10 times faster.

Timed on each side, in CPU seconds of the process with the cyclic garbage collector off (as `taxpack check`
runs): building the transactions from plain rows (each engine validates its inputs there) and computing every
sale's gain; the best of `--repeat` runs. rp2 runs in its own virtual environment,
never a dependency of taxpack:

    python3 -m venv ~/.cache/taxpack-bench/rp2-venv && ~/.cache/taxpack-bench/rp2-venv/bin/pip install rp2==1.7.2
    python benchmarks/rp2_bench.py [--transactions 10000] [--repeat 3] [--rp2-python ~/.cache/taxpack-bench/rp2-venv/bin/python]

(`--setup` creates that environment with pip.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = Path.home() / ".cache" / "taxpack-bench" / "rp2-venv"
RP2_VERSION = "1.7.2"
START = dt.date(2015, 1, 2)

Row = tuple[str, str, str, str, str]  # (side, date, seconds into the day, quantity, price)


def job(n: int, seed: int = 11) -> list[Row]:
    """`n` rows in time order: about 60% buys, the rest sells of part of what is held."""
    rng = random.Random(seed)
    price = Decimal("300.00")
    held = Decimal(0)
    rows: list[Row] = []
    day = START
    second = 0
    for i in range(n):
        if i % 3 == 0:
            day += dt.timedelta(days=1)
            second = 0
        second += 1
        price = max(Decimal("1.00"), price + Decimal(rng.randint(-800, 820)) / 100)
        if held > 0 and rng.random() < 0.4:
            quantity = min(held, Decimal(rng.randint(1, 40_000)) / 10_000)
            held -= quantity
            rows.append(("sell", day.isoformat(), str(second), str(quantity), str(price)))
        else:
            quantity = Decimal(rng.randint(1, 50_000)) / 10_000
            held += quantity
            rows.append(("buy", day.isoformat(), str(second), str(quantity), str(price)))
    return rows


# -- taxpack --------------------------------------------------------------------------------------------


def taxpack_side(rows: list[Row], repeat: int) -> tuple[float, Decimal, str]:
    """Best seconds to build the scenario and replay it, the total gain, and the pack used."""
    import attrs

    from taxpack.engine.core.household import Account, Scenario, Security, Taxpayer, Transaction
    from taxpack.engine.inputs.fx import FxTable
    from taxpack.engine.law.load import load_pack
    from taxpack.engine.lots.replay import replay

    us = load_pack(ROOT / "jurisdictions" / "us")
    pack = attrs.evolve(us, sections=attrs.evolve(us.sections, loss_rules=()))  # no wash-sale rule, as in rp2
    best, total = float("inf"), Decimal(0)
    for _ in range(repeat):
        gc.collect()
        gc.disable()  # as `taxpack check` runs (and rp2 below): the cyclic collector only re-scans live objects
        start = time.process_time()
        txs = tuple(Transaction(f"t{i}", "acct", "COIN", dt.date.fromisoformat(day), side, Decimal(q), Decimal(p), Decimal(0))
                    for i, (side, day, _s, q, p) in enumerate(rows))
        scenario = Scenario(as_of=dt.date.fromisoformat(rows[-1][1]) + dt.timedelta(days=1),
                            taxpayers=(Taxpayer("p", "US", ("US",)),), accounts=(Account("acct", "p", "US", "USD"),),
                            securities=(Security("COIN", "USD", "US", kind="crypto"),), transactions=txs)
        book = replay(pack, scenario, FxTable({}, "none"))
        total = sum((sale.gain for sale in book.sales.values()), Decimal(0))
        best = min(best, time.process_time() - start)
        gc.enable()
    return best, total, f"{us.ref} without its loss rules"


# -- rp2 (run inside rp2's environment) -------------------------------------------------------------------

_RP2_CONFIG = """[general]
assets = COIN
exchanges = Broker
holders = p

[in_header]
timestamp = 0
asset = 1
exchange = 2
holder = 3
transaction_type = 4
spot_price = 5
crypto_in = 6
fiat_fee = 7

[out_header]
timestamp = 0
asset = 1
exchange = 2
holder = 3
transaction_type = 4
spot_price = 5
crypto_out_no_fee = 6
crypto_fee = 7

[intra_header]
timestamp = 0
asset = 1
from_exchange = 2
from_holder = 3
to_exchange = 4
to_holder = 5
crypto_sent = 6
crypto_received = 7
"""


def rp2_side(rows: list[Row], repeat: int) -> dict[str, Any]:
    """Inside rp2's environment: best seconds and the total gain (as text) of rp2's FIFO computation."""
    from importlib.metadata import version

    from prezzemolo.avl_tree import AVLTree
    from rp2.accounting_engine import AccountingEngine
    from rp2.configuration import MIN_DATE, Configuration
    from rp2.in_transaction import InTransaction
    from rp2.input_data import InputData
    from rp2.out_transaction import OutTransaction
    from rp2.plugin.accounting_method.fifo import AccountingMethod
    from rp2.plugin.country.us import US
    from rp2.rp2_decimal import RP2Decimal
    from rp2.tax_engine import compute_tax
    from rp2.transaction_set import TransactionSet

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "job.ini"
        path.write_text(_RP2_CONFIG, encoding="utf-8")
        configuration = Configuration(str(path), US())
    zero = RP2Decimal("0")
    best, total = float("inf"), RP2Decimal("0")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        start = time.process_time()
        methods: AVLTree[int, Any] = AVLTree()
        methods.insert_node(MIN_DATE.year, AccountingMethod())
        engine = AccountingEngine(years_2_methods=methods)
        ins = TransactionSet(configuration, "IN", "COIN")
        outs = TransactionSet(configuration, "OUT", "COIN")
        intra = TransactionSet(configuration, "INTRA", "COIN")
        for i, (side, day, second, q, p) in enumerate(rows):
            stamp = f"{day}T00:00:00+00:00"
            stamp = (dt.datetime.fromisoformat(stamp) + dt.timedelta(seconds=int(second))).isoformat()
            if side == "buy":
                ins.add_entry(InTransaction(configuration, stamp, "COIN", "Broker", "p", "Buy", RP2Decimal(p), RP2Decimal(q),
                                            fiat_fee=zero, row=i + 1, unique_id=f"t{i}"))
            else:
                outs.add_entry(OutTransaction(configuration, stamp, "COIN", "Broker", "p", "Sell", RP2Decimal(p), RP2Decimal(q),
                                              zero, row=i + 1, unique_id=f"t{i}"))
        computed = compute_tax(configuration, engine, InputData("COIN", ins, outs, intra))
        total = sum((gl.fiat_gain for gl in computed.gain_loss_set), RP2Decimal("0"))
        best = min(best, time.process_time() - start)
        gc.enable()
    return {"seconds": best, "total": str(total), "version": version("rp2")}


# -- main -----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rp2-python", type=Path, default=DEFAULT_VENV / "bin" / "python",
                        help="the interpreter of the environment rp2 is installed in")
    parser.add_argument("--setup", action="store_true", help=f"create {DEFAULT_VENV} with rp2=={RP2_VERSION} (pip) and stop")
    parser.add_argument("--rp2-side", type=Path, help=argparse.SUPPRESS)  # internal: run rp2 on this job file
    args = parser.parse_args()
    if args.setup:
        subprocess.run([sys.executable, "-m", "venv", str(DEFAULT_VENV)], check=True)
        subprocess.run([str(DEFAULT_VENV / "bin" / "pip"), "install", f"rp2=={RP2_VERSION}"], check=True)
        return
    if args.rp2_side is not None:
        rows = [tuple(r) for r in json.loads(args.rp2_side.read_text(encoding="utf-8"))]
        print(json.dumps(rp2_side(rows, args.repeat)))  # type: ignore[arg-type]
        return
    if not args.rp2_python.exists():
        raise SystemExit(f"rp2's environment is missing ({args.rp2_python}): run `python benchmarks/rp2_bench.py --setup` "
                         "or give --rp2-python")
    rows = job(args.transactions)
    sells = sum(1 for r in rows if r[0] == "sell")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "job.json"
        path.write_text(json.dumps(rows), encoding="utf-8")
        proc = subprocess.run([str(args.rp2_python), __file__, "--rp2-side", str(path), "--repeat", str(args.repeat)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"rp2 failed (exit {proc.returncode})")
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    seconds, total, pack = taxpack_side(rows, args.repeat)
    cent = Decimal("0.01")
    ours_c, theirs_c = total.quantize(cent), Decimal(theirs["total"]).quantize(cent)
    print(f"FIFO job: {len(rows):,} transactions ({len(rows) - sells:,} buys, {sells:,} sells), one asset, no fees; best of {args.repeat}")
    print(f"taxpack ({pack}): {seconds:.3f} s, total gain {ours_c} USD")
    print(f"rp2 {theirs['version']} (compute_tax, FIFO): {theirs['seconds']:.3f} s, total gain {theirs_c} USD")
    if ours_c != theirs_c:
        raise SystemExit(f"TOTAL GAINS DIFFER: taxpack {total} against rp2 {theirs['total']} (difference {total - Decimal(theirs['total'])})")
    ratio = theirs["seconds"] / seconds
    print(f"same total gain to the cent; taxpack is {ratio:.1f} times as fast (goal: at least 10): {'met' if ratio >= 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
