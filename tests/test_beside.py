"""Work beside this process (engine/core/beside.py): the same result with or without a child, errors raised here,
a child stopped when the block is left early, and no child where the user or the machine says one process."""

from __future__ import annotations

import os
import time
from decimal import Decimal

import pytest

from taxpack.engine.core.beside import SERIAL_ENV, Beside, may_fork

FORKS = may_fork()


def _work() -> dict[str, object]:
    return {"pid": os.getpid(), "total": sum((Decimal("0.01") * i for i in range(10_000)), Decimal(0))}


def test_the_result_is_the_same_with_or_without_a_child() -> None:
    with Beside(_work) as child:
        forked = child.result()
    with Beside(_work, fork=False) as here:
        local = here.result()
    assert forked["total"] == local["total"] == Decimal("499950.00")
    assert local["pid"] == os.getpid()
    assert child.forked is FORKS and not here.forked
    if FORKS:  # on a machine with two cores (CI's has two) the work really ran in another process
        assert forked["pid"] != os.getpid()


def test_an_error_in_the_work_is_raised_here_as_without_a_child() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(os.getpid())
        raise ValueError("the work's own error")

    with Beside(failing) as child:
        with pytest.raises(ValueError, match="the work's own error"):
            child.result()
    assert calls == [os.getpid()]  # the child's attempt is in the child's memory; here it ran once, and raised


def test_leaving_the_block_early_stops_the_child() -> None:
    if not FORKS:
        pytest.skip("one core or fork unavailable: no child to stop")
    started = time.perf_counter()
    with pytest.raises(RuntimeError):
        with Beside(lambda: time.sleep(60)) as child:
            pid = child._pid
            raise RuntimeError("the solver failed")
    assert time.perf_counter() - started < 10
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_serial_when_the_user_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERIAL_ENV, "1")
    assert not may_fork()
    with Beside(_work) as here:
        assert here.result()["pid"] == os.getpid()
    monkeypatch.setenv(SERIAL_ENV, "0")
    assert may_fork() is FORKS


def test_a_child_that_does_not_answer_in_time_is_stopped_and_the_work_done_here() -> None:
    if not FORKS:
        pytest.skip("one core or fork unavailable: no child to wait for")
    parent = os.getpid()

    def stuck_in_the_child() -> str:
        if os.getpid() != parent:
            time.sleep(60)  # as a child stuck on a lock would
        return "done here"

    started = time.perf_counter()
    with Beside(stuck_in_the_child) as child:
        pid = child._pid
        assert child.result(timeout=0.5) == "done here"
    assert time.perf_counter() - started < 10
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_worker_threads_keep_the_work_here_and_daemon_threads_do_not() -> None:
    import threading

    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, daemon=False)
    display = threading.Thread(target=stop.wait, daemon=True)
    try:
        display.start()
        assert may_fork() is FORKS  # a progress bar's redraw thread is a daemon
        worker.start()
        assert not may_fork()
        with Beside(_work) as here:
            assert not here.forked and here.result()["pid"] == os.getpid()
    finally:
        stop.set()
        worker.join()
        display.join()
