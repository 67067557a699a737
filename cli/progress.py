"""Progress on stderr for runs that take a while (batch, plan, large checks): a `rich` bar on a terminal,
nothing elsewhere, nothing with `--quiet`.

The engine knows nothing of terminals: its long functions take a callback `progress(stage, done, total)`
(`total` None when the stage cannot be counted, e.g. the solver). `Bar` is such a callback. It shows
only once the run has lasted `delay` seconds (one by default; `TAXPACK_PROGRESS_DELAY` sets another, for
tests), so a quick run prints nothing at all, and it clears itself when the run ends: stdout is never
touched, so a command's output is the same bytes whether or not stderr is a terminal.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType
from typing import IO, Any

DEFAULT_DELAY = 1.0


def _delay() -> float:
    try:
        return float(os.environ.get("TAXPACK_PROGRESS_DELAY", DEFAULT_DELAY))
    except ValueError:
        return DEFAULT_DELAY


def shows_progress(stream: IO[str] | None, quiet: bool) -> bool:
    """A bar is drawn only on a terminal that can redraw a line, and never with --quiet."""
    if quiet or stream is None:
        return False
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return bool(tty) and os.environ.get("TERM") != "dumb"


class Bar:
    """A progress display for one run: `with Bar("plan", quiet=q) as bar: work(progress=bar)`."""

    def __init__(self, title: str, *, quiet: bool = False, stream: IO[str] | None = None, delay: float | None = None) -> None:
        self.title = title
        self.stream = sys.stderr if stream is None else stream
        self.enabled = shows_progress(self.stream, quiet)
        self.delay = _delay() if delay is None else delay
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self._timer: threading.Timer | None = None
        self._state: tuple[str, int | None, int | None] = (title, None, None)
        self._shown = False

    # -- the callback the engine calls ---------------------------------------------------------

    def __call__(self, stage: str, done: int | None = None, total: int | None = None) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._state = (stage, done, total)
            if self._shown:
                self._apply()

    def count(self, done: int, total: int) -> None:
        """For callers that count one kind of thing (a batch's households)."""
        self(self.title, done, total)

    # -- display -------------------------------------------------------------------------------

    def _apply(self) -> None:
        stage, done, total = self._state
        description = self.title if stage == self.title else f"{self.title}: {stage}"
        self._progress.update(self._task, description=description, total=total, completed=done or 0)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        with self._lock:
            if self._shown or not self.enabled:
                return
            console = Console(file=self.stream, force_terminal=True, width=None)
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True)
            self._task = self._progress.add_task(self.title, total=None)
            self._progress.start()
            self._shown = True
            self._apply()

    def __enter__(self) -> Bar:
        if self.enabled:
            if self.delay <= 0:
                self._show()
            else:
                self._timer = threading.Timer(self.delay, self._show)
                self._timer.daemon = True
                self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._shown:
                self._progress.stop()
                self._shown = False
            self.enabled = False


def terminal_width(limit: int = 100) -> int:
    """The width for terminal tables: the terminal's, at most `limit` columns."""
    import shutil

    return max(40, min(limit, shutil.get_terminal_size((limit, 24)).columns))
