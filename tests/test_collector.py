"""The cyclic collector is paused for a replay and left as the caller had it (engine/core/collector.py)."""

from __future__ import annotations

import gc

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
