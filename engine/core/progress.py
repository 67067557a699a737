"""How a long engine function says how far it has got: a callback, `progress(stage, done, total)`.

`stage` names the step in words ("replaying the history", "solving"); `done` and `total` count its
units (None when the step cannot be counted, e.g. a solver run). The engine only calls it; drawing it
is the command line's job (cli/progress.py), and a library caller may pass nothing.
"""

from __future__ import annotations

from typing import Callable, Optional

ProgressCallback = Callable[[str, Optional[int], Optional[int]], None]


def no_progress(stage: str, done: int | None = None, total: int | None = None) -> None:
    """The callback that reports nothing."""
