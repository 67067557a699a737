"""`taxpack pack validate PATH...`: check packs (and scenarios) against the schema and their meaning."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from taxpack.engine.core.errors import TaxpackError


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="github: workflow commands that annotate the lines in a pull request.")
@click.option("--since", "since", metavar="GITREV", default=None,
              help="CI guard: also fail when a pack's content changed since GITREV without a new version and a CHANGELOG.md line naming it.")
def command(paths: tuple[Path, ...], fmt: str, since: str | None) -> None:
    """Validate pack folders or files (and scenario files). Exit 0 if all are valid, 1 if not.

    Warnings (a parameter no section or rule reads) are printed but do not change the exit code."""
    from taxpack.engine.law.validate import validate_path

    results = [validate_path(p) for p in paths]
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        for result in results:
            for error in (*result.errors, *result.warnings):
                if fmt == "github":
                    click.echo(github_annotation(error))
                else:
                    click.echo(error.render())
            if fmt == "text":
                count = len(result.errors)
                status = "" if result.kind == "skipped" else ("ok" if result.ok else f"{count} error{'' if count == 1 else 's'}")
                if result.warnings:
                    status += f", {len(result.warnings)} warning{'' if len(result.warnings) == 1 else 's'}"
                extra = f" {result.label}" if result.label else ""
                click.echo(f"{result.path}:{extra} {status}".rstrip(), err=not result.ok)
    guard_ok = True
    if since is not None:
        from taxpack.engine.law.guard import guard_since

        guard = guard_since(since, paths)
        guard_ok = guard.ok
        for line in guard.lines(fmt):
            click.echo(line, err=(fmt == "json" or (fmt == "text" and not guard.ok)))
    sys.exit(0 if all(r.ok for r in results) and guard_ok else 1)


def github_annotation(error: TaxpackError) -> str:
    """A GitHub Actions workflow command that puts the error on its line in a pull request's diff.

    GitHub reads `%`, CR and LF as escapes in the message, and also `:` and `,` in the properties.
    """
    span = error.span
    message = error.message + (f" (expected {error.expected})" if error.expected else "")
    props = [f"title={_escape_property('taxpack ' + error.kind)}"]
    if span is not None:
        props = [f"file={_escape_property(span.file)}", f"line={span.line or 1}", f"col={span.col or 1}"] + props
    level = "warning" if error.kind == "warning" else "error"
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
