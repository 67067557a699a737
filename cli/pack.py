"""`taxpack pack ...`: the commands that work on packs. Each sub-command is its own module."""

from __future__ import annotations

import click

from . import pack_list, pack_show, pack_validate
from .main import EXIT_CODES_HELP, TaxpackGroup


@click.group(cls=TaxpackGroup, epilog=EXIT_CODES_HELP)
def pack() -> None:
    """List, show, validate, test, audit and compare jurisdiction packs."""


for _module in (pack_list, pack_show, pack_validate):
    pack.add_command(_module.command)

for _name in ("pack_test", "pack_audit", "pack_diff"):
    try:
        _mod = __import__(f"taxpack.cli.{_name}", fromlist=["command"])
    except ModuleNotFoundError as _exc:
        if _exc.name != f"taxpack.cli.{_name}":
            raise
    else:
        pack.add_command(_mod.command)
