"""A generator of realistic synthetic households, for benchmarks and batch tests.

A household is a US citizen resident in Canada (or a resident of another covered country) with a
spouse, taxable accounts and wrappers, a few dozen securities in identity groups, a buy-and-hold
history with periodic contributions and occasional sales, and candidate trades on `as_of`. The same
seed always gives the same household (byte for byte), so benchmark figures are reproducible.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

COUNTRIES = {
    "CA": ("CAD", ["taxable", "tfsa", "rrsp"]),
    "US": ("USD", ["taxable", "ira", "roth_ira"]),
    "DE": ("EUR", ["taxable"]),
    "FR": ("EUR", ["taxable"]),
}
SECURITY_POOL = [
    ("VTI", "USD", "US", "etf", "us-total"), ("ITOT", "USD", "US", "etf", "us-total"), ("VOO", "USD", "US", "etf", "us-large"),
    ("IVV", "USD", "US", "etf", "us-large"), ("AAPL", "USD", "US", "share", None), ("MSFT", "USD", "US", "share", None),
    ("XIC", "CAD", "CA", "etf", "ca-total"), ("VCN", "CAD", "CA", "etf", "ca-total"), ("RY", "CAD", "CA", "share", None),
    ("SAP", "EUR", "DE", "share", None), ("ALV", "EUR", "DE", "share", None), ("MC", "EUR", "FR", "share", None),
]


def _money(rng: random.Random, low: float, high: float) -> str:
    # Prices are generated as cents (integers), so no float ever becomes money.
    return str(Decimal(rng.randint(int(low * 100), int(high * 100))) / 100)


def household(seed: int, *, transactions: int = 200, trades: int = 10, securities: int = 12,
              as_of: dt.date = dt.date(2026, 3, 2), residence: str | None = None) -> dict[str, Any]:
    """One synthetic household as a scenario dict (format 1)."""
    rng = random.Random(seed)
    residence = residence or rng.choice(["CA", "CA", "US", "DE", "FR"])
    currency, wrappers = COUNTRIES[residence]
    citizenship = ["US"] if residence == "CA" and rng.random() < 0.5 else [residence]
    taxpayers = [
        {"id": "p1", "residence": residence, "citizenship": citizenship, "filing_status": "married_separate" if "US" in citizenship else "single",
         "spouse": "p2", "other_income": {residence: 90000, "US": 90000}, "marginal_rate": {residence: "0.40", "US": "0.24"}},
        {"id": "p2", "residence": residence, "citizenship": [residence], "spouse": "p1"},
    ]
    accounts = [{"id": f"p1-{w}", "owner": "p1", "country": residence, "currency": currency, "wrapper": w} for w in wrappers]
    accounts.append({"id": "p2-taxable", "owner": "p2", "country": residence, "currency": currency, "wrapper": "taxable"})
    if residence != "US" and "US" in citizenship:
        accounts.append({"id": "p1-us", "owner": "p1", "country": "US", "currency": "USD", "wrapper": "taxable"})
    chosen = SECURITY_POOL[: max(1, min(securities, len(SECURITY_POOL)))]
    secs = [{"id": s[0], "currency": s[1], "country": s[2], "kind": s[3], "dividend_yield": "0.015", **({"identity_group": s[4]} if s[4] else {})} for s in chosen]
    extra = securities - len(chosen)
    for i in range(max(0, extra)):
        secs.append({"id": f"S{i:03d}", "currency": currency, "country": residence, "kind": "share", "dividend_yield": "0.01"})
    held: dict[tuple[str, str], list[tuple[str, Decimal]]] = {}
    txs: list[dict[str, Any]] = []
    start = as_of - dt.timedelta(days=3 * 365)
    span_days = (as_of - dt.timedelta(days=1) - start).days
    dates = sorted(start + dt.timedelta(days=rng.randint(0, span_days)) for _ in range(transactions))
    for i, day in enumerate(dates):
        account = rng.choice(accounts)
        sec = rng.choice(secs)
        key = (account["id"], sec["id"])
        lots = held.setdefault(key, [])
        total = sum((q for _, q in lots), Decimal(0))
        if total > 20 and rng.random() < 0.2:
            qty = Decimal(rng.randint(1, int(total) // 2))
            txs.append({"id": f"x{i}", "account": account["id"], "security": sec["id"], "date": day.isoformat(), "side": "sell",
                        "quantity": str(qty), "price": _money(rng, 40, 400), "fees": "1.00"})
            remaining = qty
            while remaining > 0:
                lid, q = lots[0]
                take = min(q, remaining)
                remaining -= take
                if take == q:
                    lots.pop(0)
                else:
                    lots[0] = (lid, q - take)
        else:
            qty = Decimal(rng.randint(5, 100))
            txs.append({"id": f"x{i}", "account": account["id"], "security": sec["id"], "date": day.isoformat(), "side": "buy",
                        "quantity": str(qty), "price": _money(rng, 40, 400), "fees": "1.00"})
            lots.append((f"x{i}", qty))
    candidates: list[dict[str, Any]] = []
    holdings = [(k, sum((q for _, q in v), Decimal(0))) for k, v in sorted(held.items())]
    holdings = [(k, q) for k, q in holdings if q >= 2]
    for j in range(trades):
        if holdings and rng.random() < 0.7:
            index = rng.randrange(len(holdings))
            (acc, sec_id), qty = holdings[index]
            sell = Decimal(rng.randint(1, max(1, int(qty) // 2)))
            holdings[index] = ((acc, sec_id), qty - sell)
            if qty - sell < 2:
                holdings.pop(index)
            candidates.append({"id": f"t{j}", "account": acc, "security": sec_id, "date": as_of.isoformat(), "side": "sell",
                           "quantity": str(sell), "price": _money(rng, 40, 400), "fees": "1.00",
                           "lots": rng.choice(["fifo", "hifo", "lifo"])})
        else:
            account = rng.choice(accounts)
            sec = rng.choice(secs)
            candidates.append({"id": f"t{j}", "account": account["id"], "security": sec["id"], "date": as_of.isoformat(), "side": "buy",
                           "quantity": str(rng.randint(1, 50)), "price": _money(rng, 40, 400), "fees": "0"})
    return {"taxpack": 1, "id": f"household-{seed}", "as_of": as_of.isoformat(), "taxpayers": taxpayers, "accounts": accounts,
            "securities": secs, "transactions": txs, "trades": candidates}


def mixed_household(seed: int) -> dict[str, Any]:
    """A small-to-medium household as a platform holds them by the thousand: 10 to 120 past transactions
    over three years, 4 to 12 securities, 1 to 6 candidate trades, residence drawn as in `household`.
    Sizes are drawn from their own generator, so `mixed_household(s)` differs from `household(s)` only in size."""
    rng = random.Random(f"size-{seed}")
    return household(seed, transactions=rng.randint(10, 120), trades=rng.randint(1, 6), securities=rng.randint(4, 12))


def write_jsonl(path: Any, count: int, *, start: int = 0, make: Any = None) -> None:
    """`count` households (seeds start, start+1, ...) as JSON Lines, the input of `taxpack batch`."""
    import json

    make = make or mixed_household
    with open(path, "w", encoding="utf-8") as f:
        for seed in range(start, start + count):
            f.write(json.dumps(make(seed), separators=(",", ":")) + "\n")


if __name__ == "__main__":  # pragma: no cover - print one household as JSON, or N of them as JSON Lines
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("seed", type=int, nargs="?", default=1)
    parser.add_argument("--jsonl", type=int, metavar="N", help="write N mixed households (seeds SEED...) as JSON Lines to stdout")
    args = parser.parse_args()
    if args.jsonl:
        for s in range(args.seed, args.seed + args.jsonl):
            sys.stdout.write(json.dumps(mixed_household(s), separators=(",", ":")) + "\n")
    else:
        print(json.dumps(household(args.seed), indent=2))
