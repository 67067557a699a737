"""`taxpack pack test [ID|PATH...]`: run packs' own test cases (all bundled packs by default)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("test")
@click.argument("packs", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rules-backend", type=click.Choice(["durable", "python"]), default=None)
def command(packs: tuple[str, ...], fmt: str, rules_backend: str | None) -> None:
    """Run the test cases of the given packs (ids or paths). Exit 0 if all pass, 1 if any fails."""
    from taxpack.engine.core.errors import SemanticError
    from taxpack.engine.law.load import load_pack
    from taxpack.engine.law.registry import bundled_packs, find_bundled
    from taxpack.engine.packtests.cases import run_pack_tests

    chosen = []
    for ref in packs:
        pack = find_bundled(ref)
        if pack is None and Path(ref).exists():
            pack = load_pack(Path(ref))
        if pack is None:
            raise SemanticError(f"no pack '{ref}' (give a bundled pack id or a pack folder or file)")
        chosen.append(pack)
    results = [r for pack in (chosen or list(bundled_packs())) for r in run_pack_tests(pack, rules_backend=rules_backend)]
    failed = [r for r in results if not r.ok]
    if fmt == "json":
        click.echo(json.dumps([{"pack": r.case.pack.ref, "name": r.case.name, "ok": r.ok, "where": str(r.case.span),
                                "failures": list(r.failures)} for r in results], indent=2))
    else:
        for r in results:
            click.echo(f"{'ok  ' if r.ok else 'FAIL'} {r.case.pack.id}: {r.case.name}")
            for failure in r.failures:
                click.echo(f"     {r.case.span}: {failure}")
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)
