"""Progress bars: on stderr, on a terminal only, never with --quiet, and stdout the same bytes either way.

The commands run in child processes whose stderr is a pseudo-terminal (a real TTY, as a user has) or a
pipe. `TAXPACK_PROGRESS_DELAY=0` shows the bar from the start (the default waits a second, so that a
quick run prints nothing); a delay longer than the run shows that a quick run prints nothing at all.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.expected import REPO_ROOT

CHECK = ["check", "examples/household/scenario.yaml", "--format", "json"]
PLAN = ["plan", "examples/plan/household.yaml", "--targets", "examples/plan/targets.yaml", "--format", "json"]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def run(args: list[str], *, tty: bool, delay: str = "0") -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) of `taxpack ARGS` with stderr on a pseudo-terminal or a pipe."""
    env = dict(os.environ, TAXPACK_PROGRESS_DELAY=delay, TERM="xterm-256color", COLUMNS="100")
    command = [sys.executable, "-m", "taxpack.cli", *args]
    if not tty:
        done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, timeout=300, check=False)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        err += chunk
    out = child.stdout.read() if child.stdout else b""
    child.wait(timeout=300)
    os.close(master)
    return child.returncode, out, err


@pytest.mark.parametrize("args,title", [(CHECK, b"check"), (PLAN, b"plan")], ids=["check", "plan"])
def test_bar_on_a_terminal_and_the_same_stdout_everywhere(args: list[str], title: bytes) -> None:
    code_tty, out_tty, err_tty = run(args, tty=True)
    code_pipe, out_pipe, err_pipe = run(args, tty=False)
    code_quiet, out_quiet, err_quiet = run([*args, "--quiet"], tty=True)
    assert code_tty == code_pipe == code_quiet
    assert out_tty == out_pipe == out_quiet
    assert title in err_tty  # the bar was drawn on the terminal
    assert err_pipe == b"" and err_quiet == b""


def test_a_run_shorter_than_the_delay_prints_nothing() -> None:
    _, out, err = run(CHECK, tty=True, delay="600")
    assert err == b"" and out.startswith(b"{")


def test_the_engine_reports_its_stages_to_a_callback(tmp_path: Path) -> None:
    from taxpack.engine.consequences.check import run_check
    from taxpack.engine.inputs.scenario import load_scenario
    from taxpack.engine.law.registry import pack_set

    seen: list[tuple[str, int | None, int | None]] = []
    scenario = load_scenario(REPO_ROOT / "examples" / "household" / "scenario.yaml")
    run_check(scenario, pack_set(), progress=lambda stage, done, total: seen.append((stage, done, total)))
    trades = [s for s in seen if s[0] == "checking the trades"]
    assert [d for _, d, _ in trades] == list(range(len(scenario.trades)))
    assert all(t == len(scenario.trades) for _, _, t in trades)
    assert any(s[0] == "replaying the history" for s in seen)
