"""`taxpack pack audit [ID...]`: the weak spots a reviewer should look at first.

Lists every value or section whose source is less than verified, every value marked uncertain, and
every source without a URL, per pack.
"""

from __future__ import annotations

import json
import sys

import click


@click.command("audit")
@click.argument("packs", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(packs: tuple[str, ...], fmt: str) -> None:
    """Report values with weak or missing citations, or marked uncertain."""
    from taxpack.engine.core.errors import SemanticError
    from taxpack.engine.law.registry import bundled_packs, find_bundled
    from taxpack.engine.law.weak_spots import audit_pack

    chosen = []
    for ref in packs:
        pack = find_bundled(ref)
        if pack is None:
            raise SemanticError(f"no bundled pack '{ref}' (see `taxpack pack list`)")
        chosen.append(pack)
    rows = [row for pack in (chosen or list(bundled_packs())) for row in audit_pack(pack)]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if sys.stdout.isatty():  # a terminal: one table per pack, each citation once as a footnote, colour
        from taxpack.cli.progress import terminal_width
        from taxpack.engine.report.terminal import audit_tables

        click.echo(audit_tables(rows, color=True, width=terminal_width()), nl=False)
        return
    for row in rows:
        click.echo(f"{row['where']}: {row['pack']} {row['item']}: {row['issue']}")
    click.echo(f"{len(rows)} item(s) to review")
