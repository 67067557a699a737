"""What every command shares: the exit codes it documents, and a click group that turns every user
error into its message and exit code, never a traceback."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import click

from taxpack.engine.core.errors import EXIT_INTERNAL, TaxpackError

EXIT_CODES_HELP = """\b
Exit codes:
  0  nothing to flag / valid / equivalent / passed
  1  warnings (check), invalid (pack validate), different (pack diff), failed (pack test)
  2  a blocking finding (check)
  3  the input is wrong; the message says where (file:line:col, or CSV row and column)
  4  internal error (a bug in taxpack; please report it)
"""


class TaxpackGroup(click.Group):
    """A click group that turns every user error into its message and exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        drop_output_on_broken_pipe()  # `taxpack ... | head`: the rest of the output goes nowhere, quietly
        try:
            return super().invoke(ctx)
        except TaxpackError as error:
            click.echo(error.render(), err=True)
            sys.exit(error.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:  # pragma: no cover
            sys.exit(130)
        except Exception as error:  # pragma: no cover - a bug; keep the message short, no traceback
            click.echo(f"internal error: {type(error).__name__}: {error} (this is a bug in taxpack; please report it)", err=True)
            sys.exit(EXIT_INTERNAL)


# Output into a pipe whose reader has gone (`taxpack check ... | head`): the rest of the output is dropped
# quietly and the command ends with its own exit code, never with a BrokenPipeError traceback or an
# "Exception ignored" message when Python flushes standard output at exit.


class _DropOnBrokenPipe(io.RawIOBase):
    """Standard output's file descriptor; once the reader is gone, writes succeed and go nowhere."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self.broken = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        size = len(data)
        if self.broken:
            return size
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._fd, view)
            except BrokenPipeError:
                self.broken = True
                return size
            view = view[written:]
        return size


def drop_output_on_broken_pipe() -> None:
    """Replace `sys.stdout` (when it is the process's real standard output, not a terminal and not a test
    runner's capture) with one that survives the reader leaving. Idempotent."""
    stdout = sys.stdout
    if stdout is None or stdout is not sys.__stdout__ or isinstance(getattr(stdout, "buffer", None), _Buffered):
        return
    try:
        if stdout.fileno() != 1 or os.isatty(1):
            return
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    stdout.flush()
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(_Buffered(_DropOnBrokenPipe(1)), encoding=stdout.encoding,
                                                   errors=stdout.errors, line_buffering=stdout.line_buffering)


class _Buffered(io.BufferedWriter):
    """A BufferedWriter over the pipe-safe descriptor (its own class, so it is installed once)."""
