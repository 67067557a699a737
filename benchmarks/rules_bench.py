#!/usr/bin/env python3
"""Evaluations per second of the two rule evaluators, on the US pack's rules and a synthetic 20-rule pack.

One evaluation = all of a pack's rules against one trade's facts (what `taxpack check` does per trade
and lens), including fact normalisation, parameter resolution on the trade date and the explanation
of every rule that fires. Facts are random, clustered at the rules' thresholds (see rules_stress.py).

Usage: python benchmarks/rules_bench.py [--evaluations 20000] [--seed 3]
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rules_stress import interesting_values, random_day, random_facts  # noqa: E402

SYNTHETIC_20 = """
format: 1
kind: jurisdiction
id: bench20
jurisdiction: XX
title: Synthetic 20-rule pack for the evaluator benchmark
version: 1.0.0
currency: USD
coverage: {from: 2025-01-01, to: 2025-12-31}
sources:
  s: {citation: "Synthetic", confidence: verified}
parameters:
  t.loss:
    description: a loss threshold that changes mid-year
    unit: money
    currency: USD
    values:
      2025-01-01: {value: -1000, source: s}
      2025-07-01: {value: -500, source: s}
scope: {source: s, residents: true, citizens: false, non_resident_gains: false}
holding_period: {source: s, rule: none}
lots: {source: s, pool_scope: account, methods: [fifo], default: fifo}
fx: {source: s, legs: each_leg_own_date, date: trade, missing_rate: error}
rules:
"""

RULE_BODIES = [
    "{fact: trade.gain, le: {param: t.loss}}",
    "{fact: trade.gain, gt: 10000}",
    "{all: [{fact: trade.side, eq: sell}, {fact: trade.gain, lt: 0}]}",
    "{all: [{fact: trade.side, eq: buy}, {fact: security.kind, in: [etf, fund]}, {fact: security.country, ne: US}]}",
    "{fact: trade.proceeds, ge: 50000.00}",
    "{fact: trade.days_held, lt: 31}",
    "{fact: trade.days_to_ex_dividend, le: 60}",
    "{fact: account.wrapper, in: [ira, roth_ira, tfsa, rrsp]}",
    "{not: {fact: account.taxable, eq: true}}",
    "{any: [{fact: security.listed, eq: false}, {fact: security.tags, in: [reit, ucits]}]}",
    "{fact: trade.date, ge: 2025-12-01}",
    "{all: [{fact: trade.term, eq: short}, {fact: trade.gain, gt: 0}]}",
    "{fact: household.foreign_property_cost, gt: 100000}",
    "{fact: position.value_after, le: 0}",
    "{fact: taxpayer.filing_status, exists: false}",
    "{all: [{fact: lens.basis, eq: citizenship}, {fact: taxpayer.resident, eq: false}]}",
    "{any: [{fact: trade.method_requested, ne: fifo}, {not: {fact: trade.method_used, exists: true}}]}",
    "{fact: security.currency, not_in: [USD, EUR]}",
    "{all: [{fact: trade.quantity, gt: 1000}, {fact: trade.value, gt: 25000.50}]}",
    "{all: [{fact: trade.in_kind_contribution, eq: true}, {fact: trade.gain, lt: 0}]}",
]


def synthetic_pack() -> Any:
    from taxpack.engine.law.load import load_pack_text

    rules = "".join(
        f"  - id: bench.r{i:02d}\n    when: {body}\n    then: {{code: r{i:02d}, severity: info, source: s, message: \"rule {i}\"}}\n"
        for i, body in enumerate(RULE_BODIES)
    )
    return load_pack_text(SYNTHETIC_20 + rules, "bench20.yaml")


def measure(evaluator: Any, pack: Any, cases: list[tuple[dict[str, Any], dt.date]]) -> tuple[float, int]:
    evaluator.evaluate(pack, cases[0][0], cases[0][1])  # warm-up: compile and register
    hits = 0
    t0 = time.perf_counter()
    for facts, day in cases:
        hits += len(evaluator.evaluate(pack, facts, day))
    return time.perf_counter() - t0, hits


def main(argv: list[str]) -> int:
    from taxpack.engine.law import rule_compiler as rules_compile
    from taxpack.engine.law.registry import find_bundled
    from taxpack.engine.rules.evaluator import available_backends, get_evaluator

    n = int(argv[argv.index("--evaluations") + 1]) if "--evaluations" in argv else 20_000
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 3
    packs = [p for p in (find_bundled("us"), synthetic_pack()) if p is not None]
    print(f"Python {sys.version.split()[0]}, {n} evaluations per cell, backends available: {', '.join(available_backends())}\n")
    print("| pack | rules | backend | evaluations/s | us/evaluation | hits |")
    print("|---|---:|---|---:|---:|---:|")
    for pack in packs:
        rnd = random.Random(seed)
        near = interesting_values([pack])
        cases = [(random_facts(rnd, near, pack.coverage_from, pack.coverage_to), random_day(rnd, pack)) for _ in range(n)]
        t0 = time.perf_counter()
        rules_compile._CACHE.pop(pack.sha256, None)
        compiled = rules_compile.compile_pack(pack)
        compile_ms = 1000 * (time.perf_counter() - t0)
        results = {}
        for backend in ("python", "durable"):
            if backend not in available_backends():
                print(f"| {pack.ref} | {len(compiled.rules)} | {backend} | n/a | n/a | n/a |")
                continue
            seconds, hits = measure(get_evaluator(backend), pack, cases)
            results[backend] = hits
            print(f"| {pack.ref} | {len(compiled.rules)} | {backend} | {n / seconds:,.0f} | {1e6 * seconds / n:.1f} | {hits} |", flush=True)
        if len(set(results.values())) > 1:
            print(f"  WARNING: the backends found different numbers of hits: {results}")
        print(f"|  ({pack.ref} compiled to Python closures and durable JSON in {compile_ms:.2f} ms) | | | | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
