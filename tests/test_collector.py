"""The cyclic collector is paused for a replay and left as the caller had it (engine/core/collector.py)."""

from __future__ import annotations

import gc
import weakref

import pytest

from taxpack.engine.core.collector import collector_paused


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_off_inside_and_as_it_was_after(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():  # nested: the inner block must not turn it back on
                pass
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError):
            with collector_paused():
                raise RuntimeError("an error inside the block")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()



class _Node:
    def __init__(self) -> None:
        self.other: object = self  # a reference cycle: only the cyclic collector frees it


def test_what_the_block_built_is_filed_as_old_and_still_collectable() -> None:
    """After the pause nothing is left frozen (a frozen object is never collected), the young generation holds
    none of the block's objects, and a cycle made inside the block is freed by the next full collection."""
    was = gc.isenabled()
    try:
        gc.enable()
        gc.collect()
        with collector_paused():
            built = [[i] for i in range(50_000)]
            cycle = weakref.ref(_Node())
        assert gc.get_freeze_count() == 0
        assert gc.get_count()[0] < 1_000
        assert len(built) == 50_000 and cycle() is not None  # the cycle waits: it is old now
        gc.collect()
        assert cycle() is None
    finally:
        gc.enable() if was else gc.disable()
