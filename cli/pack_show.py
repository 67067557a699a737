"""`taxpack pack show ID --as-of DATE`: the values in force that day, each with its source."""

from __future__ import annotations

import datetime as dt
import json

import click

from taxpack.engine.errors import SemanticError
from taxpack.engine.packs.registry import find_bundled
from taxpack.engine.packs.show import values_in_force


@click.command("show")
@click.argument("pack_id")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Show the values in force on this date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(pack_id: str, as_of: dt.datetime | None, fmt: str) -> None:
    """Show a bundled pack's parameters in force on a date, with their sources."""
    pack = find_bundled(pack_id)
    if pack is None:
        raise SemanticError(f"no bundled pack '{pack_id}' (see `taxpack pack list`)")
    day = as_of.date() if as_of else dt.date.today()
    rows = values_in_force(pack, day)
    if fmt == "json":
        click.echo(json.dumps({"pack": pack.id, "version": pack.version, "sha256": pack.sha256, "as_of": day.isoformat(),
                               "covered": pack.covers(day), "values": rows}, indent=2, default=str))
        return
    click.echo(f"{pack.title}")
    click.echo(f"pack {pack.ref}  sha256 {pack.sha256}")
    covered = "" if pack.covers(day) else "  (OUTSIDE the pack's coverage: values shown may be stale)"
    click.echo(f"values in force on {day.isoformat()}{covered}")
    click.echo("")
    for row in rows:
        flag = "  [uncertain: " + row["uncertain"] + "]" if row.get("uncertain") else ""
        click.echo(f"{row['name']} = {row['value_text']}")
        click.echo(f"    since {row['since']}  source: {row['citation']}  ({row['confidence']}){flag}")
