"""The `taxpack` command: wiring only. Each sub-command lives in its own module and calls the library.

Exit codes (stable): 0 ok / nothing to flag; 1 warnings (check), invalid (pack validate), different
(pack diff) or failed (pack test); 2 a blocking finding (check); 3 the input is wrong (the message
says where); 4 an internal error (a bug: please report it).

Every command is registered here, in `COMMANDS`, by name: a missing module fails at import and in
tests/cli/test_commands.py, never silently.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any

import click

from taxpack.cli import batch, check, harvest, pack, plan, reclaim
from taxpack.cli import exit as exit_command
from taxpack.cli import import_ as import_command
from taxpack.cli.group import EXIT_CODES_HELP, TaxpackGroup
from taxpack.engine import __version__

COMMANDS: tuple[click.Command, ...] = (check.command, plan.command, harvest.command, exit_command.command, batch.command,
                                      import_command.command, reclaim.command, pack.pack)


@click.group(cls=TaxpackGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="taxpack")
def cli() -> None:
    """taxpack: annotate candidate trades with their tax consequences under every jurisdiction that taxes them."""


for _command in COMMANDS:
    cli.add_command(_command)

def main() -> None:
    """The `taxpack` executable: `run()`, then leave without taking the heap apart object by object.

    A large check holds about a million small objects until its end; Python's normal exit frees them one by
    one (0.4 s of a 3 s run on 10,000 transactions) although the system reclaims the memory at once. Exit
    handlers still run and the output is flushed first; while another thread runs, the normal exit is kept.
    """
    try:
        run()
        code: Any = 0
    except SystemExit as stop:
        code = stop.code
    if threading.active_count() > 1:
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)  # what sys.exit does with a message
        code = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)  # let Python's own exit report what it can
    os._exit(code)


def run() -> None:
    """Run the command (raises SystemExit with its exit code). A usage error (unknown option, bad date) is an
    input error: exit 3, not click's 2, because 2 means a blocking finding."""
    try:
        cli.main(prog_name="taxpack", standalone_mode=False)
    except click.UsageError as error:
        error.show()
        sys.exit(3)
    except click.ClickException as error:
        error.show()
        sys.exit(3)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
