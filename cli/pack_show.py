"""`taxpack pack show ID --as-of DATE`: the values in force that day, each with its source."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import click


@click.command("show")
@click.argument("pack_id")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Show the values in force on this date (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(pack_id: str, as_of: dt.datetime | None, fmt: str) -> None:
    """Show a bundled pack's parameters in force on a date, with their sources."""
    from taxpack.engine.core.documents import did_you_mean
    from taxpack.engine.core.errors import SemanticError
    from taxpack.engine.law.registry import bundled_packs, find_bundled
    from taxpack.engine.law.show import values_in_force

    pack = find_bundled(pack_id)
    if pack is None:
        ids = sorted(p.id for p in bundled_packs())
        raise SemanticError(f"no bundled pack '{pack_id}'{did_you_mean(pack_id.lower(), ids)}",
                            None, f"one of {', '.join(ids)}")
    day = as_of.date() if as_of else dt.date.today()
    rows = values_in_force(pack, day)
    if fmt == "json":
        click.echo(json.dumps({"pack": pack.id, "version": pack.version, "sha256": pack.sha256, "as_of": day.isoformat(),
                               "coverage": [pack.coverage_from.isoformat(), pack.coverage_to.isoformat()],
                               "covered": pack.covers(day), "values": _plain(rows)}, indent=2))
        return
    click.echo(f"{pack.title}")
    click.echo(f"pack {pack.ref}  sha256 {pack.sha256}")
    click.echo(f"values in force on {day.isoformat()}")
    if not pack.covers(day):
        click.echo(f"warning: {day.isoformat()} is outside the pack's coverage ({pack.coverage_from} to {pack.coverage_to}): "
                   "the pack does not answer for this date, and the values below may no longer (or not yet) be the law")
    click.echo("")
    for row in rows:
        flag = "  [uncertain: " + row["uncertain"] + "]" if row.get("uncertain") else ""
        click.echo(f"{row['name']} = {row['value_text']}")
        click.echo(f"    since {row['since']}  source: {row['citation']}  ({row['confidence']}){flag}")


def _plain(value: Any) -> Any:
    """JSON-ready: every number as exact decimal text (as in `taxpack check --format json`), dates as ISO text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)):
        return format(Decimal(value), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
