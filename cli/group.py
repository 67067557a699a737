"""What every command shares: the exit codes it documents, and a click group that turns every user
error into its message and exit code, never a traceback."""

from __future__ import annotations

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
