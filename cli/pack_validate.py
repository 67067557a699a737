"""`taxpack pack validate PATH...`: check packs (and scenarios) against the schema and their meaning."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from taxpack.engine.errors import ErrorList, TaxpackError
from taxpack.engine.validation import ValidationResult, validate_path


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="github: workflow commands that annotate the lines in a pull request.")
def command(paths: tuple[Path, ...], fmt: str) -> None:
    """Validate pack folders or files (and scenario files). Exit 0 if all are valid, 1 if not."""
    results = [validate_path(p) for p in paths]
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        for result in results:
            for error in result.errors:
                if fmt == "github":
                    span = error.span
                    loc = f"file={span.file},line={span.line or 1},col={span.col or 1}" if span else ""
                    click.echo(f"::error {loc}::{error.kind}: {error.message}" + (f" (expected {error.expected})" if error.expected else ""))
                else:
                    click.echo(error.render())
            if fmt == "text":
                status = "" if result.kind == "skipped" else ("ok" if result.ok else f"{len(result.errors)} error(s)")
                extra = f" {result.label}" if result.label else ""
                click.echo(f"{result.path}:{extra} {status}".rstrip(), err=not result.ok)
    sys.exit(0 if all(r.ok for r in results) else 1)
