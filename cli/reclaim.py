"""`taxpack reclaim SCENARIO`: dividend withholding above the treaty rate that can be reclaimed, where, by when, and what is lost."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click


@click.command("reclaim")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default=None,
              help="Output format (default: table on a terminal, json otherwise).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the deadlines are measured from (default: the scenario's as_of).")
@click.option("--pack", "pack_paths", multiple=True, type=click.Path(path_type=Path), help="Use this pack (folder or file) instead of the bundled one with the same id.")
def command(scenario: Path, fmt: str | None, as_of: dt.datetime | None, pack_paths: tuple[Path, ...]) -> None:
    """Per source country: the withholding above the treaty rate that can still be reclaimed (form, authority,
    deadline), what is lost for good (past the deadline, in a wrapper, above the credit at home) and what is
    creditable at home, from the scenario's dividends (docs/reclaims.md)."""
    from taxpack.engine.consequences.reclaims import reclaim_report, report_json
    from taxpack.engine.consequences.serialize import dumps
    from taxpack.engine.inputs.scenario import load_scenario
    from taxpack.engine.law.registry import pack_set
    from taxpack.engine.report.reclaim_formats import render_csv, render_markdown, render_table

    loaded = load_scenario(scenario)
    report = reclaim_report(loaded, pack_set(pack_paths), as_of.date() if as_of else None)
    data = report_json(report)
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    if fmt == "json":
        text = dumps(data, 2)
    elif fmt == "csv":
        text = render_csv(data)
    elif fmt == "markdown":
        text = render_markdown(data)
    else:
        text = render_table(data)
    click.echo(text, nl=False)
    sys.exit(0)
