"""Work run in a second process beside this one, where the machine has a core to spare.

A plan checks two sets of trades with the full engine: the plan's and the naive plan's. The naive one is
known before the solver starts, so on a machine with two cores it runs in a forked child while HiGHS
solves, and only its small result comes back (pickled through a pipe). Where that is not possible or not
wise (no `os.fork`, one core, a worker thread running, `TAXPACK_SERIAL` set) the work runs in this
process when its result is asked for. Either way the result is the same object, computed the same way.

The child only computes: it writes nothing to the terminal (a display thread of the parent may have held
the terminal's lock when it forked) and leaves with `os._exit`. A child that fails, dies or does not answer
in time is not trusted: the parent does the work itself, and raises the work's own error if there is one.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import threading
import time
import warnings
from typing import Callable, Generic, TypeVar

T = TypeVar("T")

SERIAL_ENV = "TAXPACK_SERIAL"  # set (to anything but "" or "0"): never fork


def may_fork() -> bool:
    """Fork only with a second core, no worker thread (a pool's thread may hold a lock the child needs; it
    would stay held there forever), and not where the user asked for one process. Daemon threads (a progress
    bar's timer and redraw) are allowed: the child takes none of their locks."""
    if os.environ.get(SERIAL_ENV, "") not in ("", "0") or not hasattr(os, "fork"):
        return False
    main = threading.main_thread()
    if threading.current_thread() is not main or any(t is not main and not t.daemon for t in threading.enumerate()):
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores >= 2


class Beside(Generic[T]):
    """`work()` started in a forked child when `start()` may fork; `result()` waits for it. Use as a context
    manager: leaving the block early (the solver raised) stops and reaps the child."""

    def __init__(self, work: Callable[[], T], *, fork: bool = True) -> None:
        self._work = work
        self._fork = fork
        self._pid: int | None = None
        self._read: int | None = None
        self.forked = False

    def __enter__(self) -> Beside[T]:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if not (self._fork and may_fork()):
            return
        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12+ warns when it sees native threads (HiGHS's idle workers): the child never calls into them.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: compute, write, and leave without running the parent's exit handlers
            code = 1
            try:
                os.close(read)
                sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # never the parent's terminal
                warnings.simplefilter("ignore")
                data = pickle.dumps(self._work(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(data)
                code = 0
            except BaseException:  # noqa: BLE001 - the parent computes it again and reports any error itself
                pass
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._read, self.forked = pid, read, True

    def result(self, timeout: float | None = None) -> T:
        """The child's result; or the work done here if no child ran, or the child failed or gave no answer within
        `timeout` seconds (an error in the work is then raised here, as if there had been no child)."""
        if self._pid is None:
            return self._work()
        data = self._answer(timeout)
        if data is None:
            self.close()  # too slow, or stuck: stop it and do the work here
            return self._work()
        assert self._pid is not None
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if os.waitstatus_to_exitcode(status) == 0 and data:
            value: T = pickle.loads(data)
            return value
        return self._work()

    def _answer(self, timeout: float | None) -> bytes | None:
        """Everything the child writes, up to its end of the pipe; None if that takes more than `timeout`."""
        assert self._read is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        chunks = []
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._read], [], [], wait)
            if not ready:
                return None
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(self._read)
        self._read = None
        return b"".join(chunks)

    def close(self) -> None:
        if self._read is not None:
            os.close(self._read)
            self._read = None
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self._pid, 0)
            self._pid = None
