"""Invariants of the exclusion spread (§877A(a)(3), Notice 2009-85 3.B) that could fail."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from taxpack.engine.lots.pool import BOOK
from taxpack.engine.residency.departure import allocate_exclusion, compare

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=2)


@given(st.lists(money, min_size=1, max_size=12), money)
def test_exclusion_spread(gains, exclusion):
    shares = allocate_exclusion(gains, exclusion)
    total = sum(gains, Decimal(0))
    # Never more than the exclusion, never more than all the gains, and exactly the smaller of the two.
    added = Decimal(0)
    for share in shares:
        added = BOOK.add(added, share)  # exact, as the engine adds them
    assert added == min(total, exclusion)
    for gain, share in zip(gains, shares):
        assert Decimal(0) <= share <= gain + Decimal("1e-18")
    # In proportion to the gains: the relieved share of each gain is the same (but for the last item's rounding).
    if total > exclusion and len(gains) > 1:
        ratio = exclusion / total
        for gain, share in list(zip(gains, shares))[:-1]:
            assert abs(share - gain * ratio) <= Decimal("1e-18")


@given(money, money)
def test_at_least_and_above(value, threshold):
    assert compare(value, threshold, "above") == (value > threshold)
    assert compare(value, threshold, "at_least") == compare(value, threshold, None) == (value >= threshold)
