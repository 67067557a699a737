#!/usr/bin/env python3
"""Stress run: many random rule evaluations on durable_rules, each compared with the reference evaluator.

durable_rules is a C engine with known memory-safety bugs (../shared/reference/rules-engines.md), so
the evaluations run in a child process under `-X faulthandler`: a SIGSEGV is observed and reported,
not fatal to the run. The child evaluates every bundled pack's rules plus the synthetic test pack on
random facts (values clustered at every threshold the rules use, absent facts, huge and very precise
amounts, dates on both sides of every parameter change) and compares hits and explanations.

Usage:
    python benchmarks/rules_stress.py [--evaluations 100000] [--children 1] [--seed 1]
                                      [--python PATH ...]   # other interpreters with taxpack + durable
    python benchmarks/rules_stress.py child N SEED           # one child (what the parent runs)

Prints, per interpreter and child: evaluations, evaluations/s (both evaluators together), crashes
(signal exits), disagreements, and the first disagreement if any. Exit 0 only when every child
survived with no disagreement; that is the condition for durable_rules being the default backend.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SYNTHETIC = REPO / "tests" / "rules" / "data" / "synthetic.yaml"


# ------------------------------------------------------------------------------------------------
# Random facts clustered at the rules' own thresholds
# ------------------------------------------------------------------------------------------------


def interesting_values(packs: list[Any]) -> dict[str, list[Any]]:
    """Every literal and parameter value the rules compare each fact with (all dated values)."""
    from taxpack.engine.law.rule_compiler import compile_pack

    found: dict[str, list[Any]] = {}
    for pack in packs:
        for rule in compile_pack(pack).rules:
            for leaf in rule.leaves:
                values: list[Any] = []
                if leaf.param is not None:
                    values = [v.value for v in pack.parameters[leaf.param].values if v.value is not None]
                elif leaf.op != "exists":
                    values = list(leaf.literal) if isinstance(leaf.literal, tuple) else [leaf.literal]
                bucket = found.setdefault(leaf.fact, [])
                for v in values:
                    if v not in bucket:
                        bucket.append(v)
    return found


NUDGES = [Decimal(0), Decimal("0.01"), Decimal("-0.01"), Decimal("0.001"), Decimal("-0.001"),
          Decimal("0.005"), Decimal("-0.005"), Decimal("1E-12"), Decimal("-1E-12"), Decimal(1), Decimal(-1)]
WORDS = ["buy", "sell", "etf", "fund", "share", "bond", "US", "CA", "DE", "IE", "EUR", "USD", "GBP", "CAD",
         "ira", "roth_ira", "taxable", "tfsa", "rrsp", "reit", "ucits", "residence", "citizenship", "source",
         "short", "long", "", "x"]


def random_number(rnd: random.Random, kind: str, near: list[Any]) -> Any:
    numbers = [v for v in near if isinstance(v, (int, Decimal)) and not isinstance(v, bool)]
    roll = rnd.random()
    if numbers and roll < 0.6:
        base = Decimal(rnd.choice(numbers))
        value = base + rnd.choice(NUDGES)
    elif roll < 0.7:
        value = Decimal(rnd.choice([10**25, -(10**25), 2**62, -(2**62), 2**63, 0]))
    else:
        places = rnd.choice([0, 0, 2, 2, 3, 8, 15])
        value = Decimal(rnd.randint(-10**9, 10**9)).scaleb(-places)
    if kind == "integer":
        return int(value.to_integral_value())
    if kind in ("money", "number") and rnd.random() < 0.2:
        return int(value.to_integral_value())
    return value


def random_facts(rnd: random.Random, near: dict[str, list[Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    from taxpack.engine.law.facts import FACT_TYPES

    facts: dict[str, Any] = {}
    for name, kind in FACT_TYPES.items():
        if rnd.random() < 0.12:
            continue  # absent
        options = near.get(name, [])
        if kind in ("money", "number", "integer"):
            facts[name] = random_number(rnd, kind, options)
        elif kind == "date":
            dates = [v for v in options if isinstance(v, dt.date)]
            if dates and rnd.random() < 0.6:
                facts[name] = rnd.choice(dates) + dt.timedelta(days=rnd.choice([-1, 0, 0, 1]))
            else:
                facts[name] = start + dt.timedelta(days=rnd.randint(-20, (end - start).days + 20))
        elif kind == "boolean":
            facts[name] = rnd.random() < 0.5
        elif kind == "text":
            texts = [v for v in options if isinstance(v, str)]
            facts[name] = rnd.choice(texts) if texts and rnd.random() < 0.7 else rnd.choice(WORDS)
        elif kind == "list":
            pool = [v for v in options if isinstance(v, str)] + WORDS[:8]
            facts[name] = tuple(rnd.sample(pool, rnd.randint(0, min(3, len(pool)))))
    return facts


def random_day(rnd: random.Random, pack: Any) -> dt.date:
    changes = sorted({v.start for p in pack.parameters.values() for v in p.values
                      if pack.coverage_from < v.start <= pack.coverage_to})
    if changes and rnd.random() < 0.4:
        day = rnd.choice(changes) + dt.timedelta(days=rnd.choice([-1, 0]))
    else:
        day = pack.coverage_from + dt.timedelta(days=rnd.randint(0, (pack.coverage_to - pack.coverage_from).days))
    return max(pack.coverage_from, min(pack.coverage_to, day))


def stress_packs() -> list[Any]:
    from taxpack.engine.law.load import load_pack
    from taxpack.engine.law.registry import bundled_packs

    packs = [p for p in bundled_packs() if p.section("rules")]
    if SYNTHETIC.is_file():
        packs.append(load_pack(SYNTHETIC))
    return packs


# ------------------------------------------------------------------------------------------------
# The child: evaluate and compare
# ------------------------------------------------------------------------------------------------


def child(n: int, seed: int) -> None:
    from taxpack.engine.rules.evaluator import get_evaluator

    durable = get_evaluator("durable")
    python = get_evaluator("python")
    packs = stress_packs()
    near = interesting_values(packs)
    rnd = random.Random(seed)
    cases = []
    for _ in range(n):
        pack = rnd.choice(packs)
        day = random_day(rnd, pack)
        cases.append((pack, random_facts(rnd, near, pack.coverage_from, pack.coverage_to), day))
    disagreements = 0
    first: dict[str, Any] | None = None
    hits = 0
    t0 = time.perf_counter()
    for i, (pack, facts, day) in enumerate(cases):
        a = durable.evaluate(pack, facts, day)
        b = python.evaluate(pack, facts, day)
        hits += len(b)
        if a != b:
            disagreements += 1
            if first is None:
                first = {"case": i, "pack": pack.ref, "day": day.isoformat(),
                         "facts": {k: str(v) for k, v in sorted(facts.items())},
                         "durable": [h.rule_id for h in a], "python": [h.rule_id for h in b]}
    seconds = time.perf_counter() - t0
    print(json.dumps({"evaluations": n, "seconds": round(seconds, 2), "pairs_per_s": round(n / seconds),
                      "hits": hits, "disagreements": disagreements, "first_disagreement": first,
                      "python": sys.version.split()[0], "packs": [p.ref for p in packs]}), flush=True)


def run_child(python: str, n: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run([python, "-X", "faulthandler", "-W", "ignore::DeprecationWarning", os.path.abspath(__file__),
                           "child", str(n), str(seed)], capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t0
    lines = proc.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        result = {"evaluations": None, "stderr_tail": proc.stderr[-1500:]}
    result.update(rc=proc.returncode, crashed=proc.returncode < 0, wall_s=round(wall, 1), interpreter=python)
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["child"]:
        child(int(argv[1]), int(argv[2]))
        return 0
    evaluations, children, seed = 100_000, 1, 1
    pythons = [sys.executable]
    args = list(argv)
    while args:
        flag = args.pop(0)
        if flag == "--evaluations":
            evaluations = int(args.pop(0))
        elif flag == "--children":
            children = int(args.pop(0))
        elif flag == "--seed":
            seed = int(args.pop(0))
        elif flag == "--python":
            pythons.append(args.pop(0))
        else:
            print(__doc__)
            return 2
    per_child = evaluations // children
    ok = True
    print(f"{'interpreter':<40} {'child':>5} {'evaluations':>11} {'pairs/s':>8} {'hits':>7} {'crash':>6} {'disagree':>8} {'rc':>4}")
    for python in pythons:
        for c in range(children):
            r = run_child(python, per_child, seed + c)
            ok = ok and not r["crashed"] and r["rc"] == 0 and r.get("disagreements") == 0
            print(f"{r.get('python', python)[:40]:<40} {c:>5} {str(r.get('evaluations')):>11} {str(r.get('pairs_per_s')):>8} "
                  f"{str(r.get('hits')):>7} {str(r['crashed']):>6} {str(r.get('disagreements')):>8} {r['rc']:>4}", flush=True)
            if r.get("first_disagreement"):
                print("  first disagreement:", json.dumps(r["first_disagreement"]))
            if r.get("stderr_tail"):
                print("  stderr:", r["stderr_tail"])
    print("verdict:", "durable survived with no crash and no disagreement" if ok else "durable FAILED (crash or disagreement)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
