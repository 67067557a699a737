"""Python's cyclic garbage collector, paused while a replay builds objects that all live to the end.

A replay allocates hundreds of thousands of small objects (lots, slices, findings) that stay alive
until the result is written. Each automatic collection re-scans every one of them and frees nothing:
on a 30,000-lot household that is more than half of a `taxpack check`. Reference counting still frees
everything that goes out of use at once; only reference cycles wait until the collector runs again.

When the pause ends, what the block built is filed with the old objects (the oldest generation) instead of
the young ones: otherwise the first automatic collection after the pause scans all of it at once (0.2-0.3 s
after a 500-security plan) to find nothing to free. Cycles among them wait for the next full collection.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block without automatic cyclic collections, and restore the collector's state after it
    (nested uses, and callers that already turned it off, are left as they were)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # freeze() then unfreeze() moves every tracked object into the oldest generation without scanning it.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
