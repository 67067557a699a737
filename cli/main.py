"""The `taxpack` command: wiring only. Each sub-command lives in its own module and calls the library.

Exit codes (stable): 0 ok / nothing to flag; 1 warnings (check), invalid (pack validate), different
(pack diff) or failed (pack test); 2 a blocking finding (check); 3 the input is wrong (the message
says where); 4 an internal error (a bug: please report it).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from taxpack.engine import __version__
from taxpack.engine.errors import EXIT_INTERNAL, TaxpackError

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


@click.group(cls=TaxpackGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="taxpack")
def cli() -> None:
    """taxpack: annotate candidate trades with their tax consequences under every jurisdiction that taxes them."""


def _register() -> None:
    from . import pack  # noqa: F401  (registers the `pack` group and its commands)

    cli.add_command(pack.pack)
    for name in ("check", "plan", "harvest", "exit", "batch"):
        try:
            module = __import__(f"taxpack.cli.{name}", fromlist=["command"])
        except ModuleNotFoundError as exc:
            if exc.name == f"taxpack.cli.{name}":
                continue
            raise
        cli.add_command(module.command)


_register()


def main() -> None:
    """Run the command. A usage error (unknown option, bad date) is an input error: exit 3, not click's 2,
    because 2 means a blocking finding."""
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
