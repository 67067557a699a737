"""`taxpack pack list`: the bundled packs with their versions, coverage and hashes."""

from __future__ import annotations

import json

import click


@click.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(fmt: str) -> None:
    """List the bundled jurisdiction packs."""
    from taxpack.engine.law.registry import bundled_packs

    packs = bundled_packs()
    if fmt == "json":
        rows = [{"id": p.id, "kind": p.kind, "jurisdiction": p.jurisdiction, "version": p.version, "title": p.title,
                 "coverage": [p.coverage_from.isoformat(), p.coverage_to.isoformat()], "sha256": p.sha256} for p in packs]
        click.echo(json.dumps(rows, indent=2))
        return
    for p in packs:
        click.echo(f"{p.id:<10} {p.version:<8} {p.jurisdiction or '--':<3} {p.coverage_from}..{p.coverage_to}  {p.sha256[:12]}  {p.title}")
