"""`taxpack plan SCENARIO --targets TARGETS` or `--raise AMOUNT --account ID`: the least-tax trades."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from taxpack.cli.group import EXIT_CODES_HELP
from taxpack.cli.options import LIMIT_HELP, ORDERS_HELP, amount, checked_output, pack_inputs, security_prices, write_orders

EPILOG = EXIT_CODES_HELP.replace("Exit codes:", "Exit codes (plan: those of `taxpack check` on the planned trades):")
PLOT_BANDS = ("0.005", "0.01", "0.02", "0.05", "0.10")


@click.command("plan", epilog=EPILOG)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--targets", type=click.Path(path_type=Path), help="Targets file (weights, band, cash, budgets, lists): see docs/planning.md.")
@click.option("--raise", "raise_amount", callback=amount, metavar="AMOUNT", help="Cash to raise, in the account's currency (with --account).")
@click.option("--account", metavar="ID", help="The account in which to raise the cash.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True, help="Solver time limit in seconds, per solve; a plan not proven within --gap by then is marked \"not proven\" (notes, stderr).")
@click.option("--gap", callback=amount, default="10", show_default=True, metavar="MONEY", help="Absolute gap in money (plan currency) at which the solver may stop.")
@click.option("--transactions", type=click.Path(path_type=Path), help="Executed history as CSV (instead of the scenario's `transactions`).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default=None,
              help="Output format (default: table on a terminal, json otherwise).")
@click.option("--plot", type=click.Path(path_type=Path), help="Write a PNG of tax against drift band (rebalancing only).")
@click.option("--timing", is_flag=True, help="Show the solver's time (makes the output differ from run to run).")
@click.option("--pack", "pack_paths", multiple=True, type=click.Path(path_type=Path), help="Use this pack instead of the bundled one with the same id.")
@click.option("--rules-backend", type=click.Choice(["durable", "python"]), default=None, help="Rule evaluator for the check of the plan.")
@click.option("--orders", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE.csv", help=ORDERS_HELP)
@click.option("--limit", "limits", multiple=True, callback=security_prices, metavar="SECURITY=PRICE", help=LIMIT_HELP)
@click.option("--quiet", is_flag=True, help="No progress bar (drawn on stderr, on a terminal only, when the run lasts over a second).")
@click.option("--data-dir", "data_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A folder the scenario's fx.rates file may be in, besides the scenario's own folder (repeatable).")
def command(scenario: Path, targets: Path | None, raise_amount: Decimal | None, account: str | None, time_limit: float,
            gap: Decimal, transactions: Path | None, fmt: str | None, plot: Path | None, timing: bool,
            pack_paths: tuple[Path, ...], rules_backend: str | None, orders: Path | None, limits: dict[str, Decimal], quiet: bool,
            data_dirs: tuple[Path, ...]) -> None:
    """Plan the trades that restore TARGETS (or raise cash) at the least total tax over every lens."""
    import gc

    from taxpack.cli.progress import Bar
    from taxpack.engine.consequences.serialize import dumps
    from taxpack.engine.core.errors import SemanticError
    from taxpack.engine.inputs.scenario import load_scenario
    from taxpack.engine.law.registry import pack_set
    from taxpack.engine.plan.planning import band_curve, plan_raise, plan_rebalance
    from taxpack.engine.plan.targets import load_targets
    from taxpack.engine.report.plan_formats import plot_bands, render_plan_csv, render_plan_markdown, render_plan_table

    # As in `taxpack check`: what the run allocates lives to its end (the library pauses the collector during the plan;
    # the command also spares the one pass over everything when the plan returns).
    gc.disable()
    if (raise_amount is None) != (account is None):
        raise SemanticError("--raise and --account go together", None, "--raise AMOUNT --account ID")
    if raise_amount is None and targets is None:
        raise SemanticError("nothing to plan", None, "--targets TARGETS, or --raise AMOUNT --account ID")
    inputs = [("the scenario", scenario), ("--targets", targets), ("--transactions", transactions), *pack_inputs(pack_paths)]
    checked_output(plot, "--plot", inputs)
    checked_output(orders, "--orders", inputs + [("--plot", plot)])
    loaded = load_scenario(scenario, transactions, data_dirs=data_dirs)
    _check_limits(loaded, limits)
    packs = pack_set(pack_paths)
    goals = load_targets(targets, loaded) if targets is not None else None
    if plot is not None and (goals is None or raise_amount is not None):
        raise SemanticError("--plot draws tax against the drift band: it needs --targets and no --raise", None, "--targets TARGETS")
    with Bar("plan", quiet=quiet) as bar:
        if raise_amount is not None:
            result = plan_raise(loaded, packs, raise_amount, account or "", targets=goals, time_limit=time_limit, gap=gap,
                                rules_backend=rules_backend, progress=bar)
        else:
            assert goals is not None
            result = plan_rebalance(loaded, packs, goals, time_limit=time_limit, gap=gap, rules_backend=rules_backend, progress=bar)
        data = result.to_json_dict(timing=timing)
        if plot is not None:
            assert goals is not None
            bands = sorted({Decimal(b) for b in PLOT_BANDS} | {goals.band})
            curve = band_curve(loaded, packs, goals, bands, time_limit=time_limit, gap=gap, fx=result.problem.fx, progress=bar)
            plot_bands(curve, plot, result.problem.base)
    if orders is not None:
        from taxpack.engine.report.orders import plan_orders, render_orders_csv

        write_orders(orders, render_orders_csv(plan_orders(data, loaded, limits)))
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    if fmt == "table":
        from taxpack.cli.progress import terminal_width

        tty = sys.stdout.isatty()  # colour and the terminal's width on a terminal only
        text = render_plan_table(data, color=tty, width=terminal_width() if tty else 100)
    else:
        text = {"json": dumps, "csv": render_plan_csv, "markdown": render_plan_markdown}[fmt](data)
    click.echo(text, nl=False)
    unproven = result.proof_note()
    if unproven:  # in the output's notes too; said here for every format (the CSV holds only the trades)
        click.echo(f"taxpack plan: {unproven}", err=True)
    sys.exit(result.exit_code)


def _check_limits(scenario: Any, limits: dict[str, Decimal]) -> None:
    """Every --limit names a security of the scenario (exit 3 otherwise)."""
    from taxpack.engine.core.errors import SemanticError

    known = {s.id for s in scenario.securities}
    for sid in sorted(limits):
        if sid not in known:
            raise SemanticError(f"--limit {sid}: not a security of the scenario", None, "a security id of the scenario")
