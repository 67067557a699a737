"""`taxpack pack ...`: the commands that work on packs. Each sub-command is its own module."""

from __future__ import annotations

import click

from taxpack.cli import pack_audit, pack_diff, pack_list, pack_show, pack_test, pack_validate
from taxpack.cli.group import EXIT_CODES_HELP, TaxpackGroup

COMMANDS: tuple[click.Command, ...] = (
    pack_list.command, pack_show.command, pack_validate.command, pack_test.command, pack_audit.command, pack_diff.command,
)


@click.group(cls=TaxpackGroup, epilog=EXIT_CODES_HELP)
def pack() -> None:
    """List, show, validate, test, audit and compare jurisdiction packs."""


for _command in COMMANDS:
    pack.add_command(_command)
