"""`taxpack pack diff OLD NEW`: what changed in law between two versions of a pack, and whom it touches.

Each side is a pack folder or file, or `PATH@GITREV` read from git history. Exit 0 when the two are
equivalent in meaning (formatting or comments only), 1 when they differ, 3 when an input is wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True,
              help="markdown: to paste into a review; json: stable keys for tools.")
@click.option("--impact", "scenarios", multiple=True, type=click.Path(path_type=Path),
              help="Replay this scenario through both versions and list the trades whose consequences change (repeatable).")
@click.option("--rules-backend", type=click.Choice(["durable", "python"]), default=None,
              help="Rules evaluator for --impact (default: durable where available).")
def command(old: str, new: str, fmt: str, scenarios: tuple[Path, ...], rules_backend: str | None) -> None:
    """Compare two versions of a pack by meaning. OLD and NEW: a pack folder or file, or PATH@GITREV
    (e.g. `taxpack pack diff jurisdictions/us@main jurisdictions/us`).

    Exit 0 when equivalent (formatting or comments only), 1 when different, 3 when an input is wrong.
    """
    from taxpack.engine.core.errors import EXIT_OK, EXIT_WARNINGS
    from taxpack.engine.law.diff import diff_packs
    from taxpack.engine.law.gitrev import load_spec, parse_spec
    from taxpack.engine.report.diff_formats import RENDERERS

    old_pack = load_spec(parse_spec(old))
    new_pack = load_spec(parse_spec(new))
    diff = diff_packs(old_pack, new_pack)
    impact = None
    if scenarios:
        from taxpack.engine.review.impact import replay

        impact = replay(scenarios, old_pack, new_pack, diff, rules_backend=rules_backend)
    if fmt == "text" and sys.stdout.isatty():  # a terminal: tables, changed words in colour, notes once
        from taxpack.cli.progress import terminal_width
        from taxpack.engine.report.terminal import diff_tables

        click.echo(diff_tables(diff, impact, color=True, width=terminal_width()), nl=False)
    else:
        click.echo(RENDERERS[fmt](diff, impact), nl=False)
    sys.exit(EXIT_OK if diff.equivalent else EXIT_WARNINGS)
