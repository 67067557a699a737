"""`taxpack import FORMAT FILE... --household FILE`: broker exports into a scenario (and the totals to check them)."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from taxpack.cli.options import checked_output
from taxpack.engine.inputs.importers.formats import FORMATS


def _accounts(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        broker, sep, target = value.rpartition("=")
        if not target or (sep and not broker):
            raise click.BadParameter(f"'{value}' is not BROKER_ACCOUNT=ID or ID (expected e.g. U1234567=ibkr-taxable)")
        out[broker] = target
    return out


def _fractions(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for value in values:
        sid, sep, text = value.partition("=")
        try:
            if not sep or not sid:
                raise InvalidOperation
            fraction = Decimal(text)
            if not fraction.is_finite() or not 0 <= fraction <= 1:
                raise InvalidOperation
        except InvalidOperation:
            raise click.BadParameter(f"'{value}' is not SECURITY=FRACTION with a fraction from 0 to 1 (expected e.g. KD=0.0925)") from None
        out[sid] = fraction
    return out


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(sorted(FORMATS)))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--household", required=True, type=click.Path(path_type=Path),
              help="A scenario with the taxpayers and accounts (and any securities already described); the imported records are added to it.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the scenario here (default: standard output).")
@click.option("--transactions-csv", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the trades as taxpack's transactions CSV (for `check --transactions`); the scenario then holds the rest.")
@click.option("--account", "accounts", multiple=True, callback=_accounts, metavar="BROKER_ACCOUNT=ID|ID",
              help="The household account of a broker account number (repeatable); a bare ID names the account of files without a number (Schwab, DEGIRO).")
@click.option("--cost-fraction", "fractions", multiple=True, callback=_fractions, metavar="SECURITY=FRACTION",
              help="A spin-off's share of the old cost that moves to the new security, as the issuer states it (Form 8937).")
def command(fmt: str, files: tuple[Path, ...], household: Path, out: Path | None, transactions_csv: Path | None,
            accounts: dict[str, str], fractions: dict[str, Decimal]) -> None:
    """Read broker exports in FORMAT into a scenario, and print the totals per account to compare with the statements."""
    from taxpack.engine.core.documents import display_path
    from taxpack.engine.core.files import write_text_atomic
    from taxpack.engine.inputs.importers.assemble import ImportOptions, assemble
    from taxpack.engine.inputs.importers.assemble import transactions_csv as csv_text
    from taxpack.engine.inputs.importers.statement import Statement

    inputs: list[tuple[str, Path | str | None]] = [("--household", household), *(("an input file", f) for f in files)]
    checked_output(out, "--out", inputs)
    checked_output(transactions_csv, "--transactions-csv", [*inputs, ("--out", out)])
    importer = FORMATS[fmt]
    statement = Statement(fmt)
    for path in files:
        statement.extend(importer.read(path, display_path(path)))
    result = assemble(statement, household, ImportOptions(accounts, fractions), out, transactions_apart=transactions_csv is not None)
    if transactions_csv is not None:
        write_text_atomic(transactions_csv, csv_text(result.transactions))
    if out is not None:
        write_text_atomic(out, result.yaml)
        click.echo(result.summary, nl=False)
    else:
        click.echo(result.yaml, nl=False)
        click.echo(result.summary, nl=False, err=True)
    sys.exit(0)


command.help = (command.help or "") + "\n\n\b\nFormats (docs/imports.md):\n" + "\n".join(f"  {name:<14} {importer.title}" for name, importer in FORMATS.items())
