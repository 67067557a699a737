"""`taxpack harvest SCENARIO`: holdings to sell at a loss, what each saves, what replaces it, and until when not to buy back."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from taxpack.cli.options import LIMIT_HELP, ORDERS_HELP, checked_output, pack_inputs, security_prices, within_limits, write_orders


def _prices(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Decimal]:
    """Today's prices: exact decimals, 0 or more (a worthless holding is priced 0), within taxpack's limits."""
    out = {}
    for value in values:
        sid, sep, price = value.partition("=")
        try:
            if not sep or not sid:
                raise InvalidOperation
            number = Decimal(price)
        except InvalidOperation:
            raise click.BadParameter(f"'{value}' is not SECURITY=PRICE (expected e.g. VTI=231.50)") from None
        if not number.is_finite() or number < 0:
            raise click.BadParameter(f"'{value}': a price is a number of at least 0 (expected e.g. VTI=231.50)")
        within_limits(number, price)
        out[sid] = number
    return out


@click.command("harvest")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--targets", type=click.Path(path_type=Path), help="Targets file: its prices, do-not-sell list and groups (replacements within a target group first).")
@click.option("--price", "prices", multiple=True, callback=_prices, help="Today's price, SECURITY=PRICE (repeatable; overrides the targets).")
@click.option("--transactions", type=click.Path(path_type=Path), help="Executed history as CSV (instead of the scenario's `transactions`).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default=None,
              help="Output format (default: table on a terminal, json otherwise).")
@click.option("--pack", "pack_paths", multiple=True, type=click.Path(path_type=Path), help="Use this pack instead of the bundled one with the same id.")
@click.option("--orders", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE.csv", help=ORDERS_HELP)
@click.option("--limit", "limits", multiple=True, callback=security_prices, metavar="SECURITY=PRICE", help=LIMIT_HELP)
@click.option("--data-dir", "data_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A folder the scenario's fx.rates file may be in, besides the scenario's own folder (repeatable).")
def command(scenario: Path, targets: Path | None, prices: dict[str, Decimal], transactions: Path | None, fmt: str | None,
            pack_paths: tuple[Path, ...], orders: Path | None, limits: dict[str, Decimal], data_dirs: tuple[Path, ...]) -> None:
    """List loss-harvesting candidates of SCENARIO per lens."""
    import attrs

    from taxpack.engine.consequences.serialize import dumps
    from taxpack.engine.core.errors import SemanticError
    from taxpack.engine.inputs.scenario import load_scenario
    from taxpack.engine.law.registry import pack_set
    from taxpack.engine.plan.harvest import harvest
    from taxpack.engine.plan.targets import Targets, load_targets
    from taxpack.engine.report.plan_formats import render_harvest_csv, render_harvest_markdown, render_harvest_table

    checked_output(orders, "--orders", [("the scenario", scenario), ("--targets", targets), ("--transactions", transactions), *pack_inputs(pack_paths)])
    loaded = load_scenario(scenario, transactions, data_dirs=data_dirs)
    known = {s.id for s in loaded.securities}
    for sid in sorted(prices):
        if sid not in known:
            raise SemanticError(f"--price {sid}: not a security of the scenario", None, "a security id of the scenario")
    for sid in sorted(limits):
        if sid not in known:
            raise SemanticError(f"--limit {sid}: not a security of the scenario", None, "a security id of the scenario")
    goals = load_targets(targets, loaded) if targets is not None else Targets()
    if prices:
        goals = attrs.evolve(goals, prices={**goals.prices, **prices})
    result = harvest(loaded, pack_set(pack_paths), targets=goals)
    data = result.to_json_dict()
    if orders is not None:
        from taxpack.engine.report.orders import harvest_orders, render_orders_csv

        write_orders(orders, render_orders_csv(harvest_orders(data, loaded, limits)))
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    if fmt == "table":
        from taxpack.cli.progress import terminal_width

        tty = sys.stdout.isatty()  # colour and the terminal's width on a terminal only
        text = render_harvest_table(data, color=tty, width=terminal_width() if tty else 100)
    else:
        text = {"json": dumps, "csv": render_harvest_csv, "markdown": render_harvest_markdown}[fmt](data)
    click.echo(text, nl=False)
