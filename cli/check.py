"""`taxpack check SCENARIO`: annotate every candidate trade under every jurisdiction that taxes it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from taxpack.cli.group import EXIT_CODES_HELP
from taxpack.cli.options import checked_output, pack_inputs
from taxpack.engine.core.errors import SemanticError, Span

EPILOG = EXIT_CODES_HELP.replace("Exit codes:", "Exit codes (check):")
EXPLAIN_ALL = "*"  # `--explain` without a trade id: every trade


@click.command("check", epilog=EPILOG)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--transactions", type=click.Path(path_type=Path), help="Executed history as CSV (instead of the scenario's `transactions`).")
@click.option("--trades", type=click.Path(path_type=Path), help="Candidate trades as CSV (instead of the scenario's `trades`).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown", "html"]), default=None,
              help="Output format (default: table on a terminal, json otherwise; html: the decision record, one self-contained file).")
@click.option("--pretty", is_flag=True, help="Indent the JSON output.")
@click.option("--explain", "explain", is_flag=False, flag_value=EXPLAIN_ALL, default=None, metavar="[TRADE]",
              help="One trade's full reasoning (lots, rates, loss rules, each rule's conditions with the values seen, the year's "
                   "computation, credits, caveats); without TRADE, every trade's.")
@click.option("--record", type=click.Path(path_type=Path), help="Write an audit record (input hashes, packs, version, full output) to this file.")
@click.option("--pack", "pack_paths", multiple=True, type=click.Path(path_type=Path), help="Use this pack (folder or file) instead of the bundled one with the same id.")
@click.option("--rules-backend", type=click.Choice(["durable", "python"]), default=None, help="Rule evaluator (default: see docs/rules-evaluation.md).")
@click.option("--quiet", is_flag=True, help="No progress bar (drawn on stderr, on a terminal only, when the run lasts over a second).")
@click.option("--data-dir", "data_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A folder the scenario's fx.rates file may be in, besides the scenario's own folder (repeatable).")
@click.option("--plan", "plan_path", type=click.Path(path_type=Path), metavar="PLAN.json",
              help="With --format html: the output of `taxpack plan ... --format json`, shown against the naive plan.")
@click.option("--plan-plot", type=click.Path(path_type=Path), metavar="PLOT.png",
              help="With --format html and --plan: the PNG of `taxpack plan --plot`, embedded in the record.")
def command(scenario: Path, transactions: Path | None, trades: Path | None, fmt: str | None, pretty: bool, explain: str | None,
            record: Path | None, pack_paths: tuple[Path, ...], rules_backend: str | None, quiet: bool, data_dirs: tuple[Path, ...],
            plan_path: Path | None, plan_plot: Path | None) -> None:
    """Annotate the candidate trades of SCENARIO with their tax consequences under every lens."""
    # Imported here so that `taxpack --help` and the pack commands start fast.
    import gc

    from taxpack.cli.progress import Bar
    from taxpack.engine.consequences.check import run_check
    from taxpack.engine.consequences.serialize import dumps, to_json_dict, write_json
    from taxpack.engine.inputs.scenario import load_scenario
    from taxpack.engine.law.registry import pack_set

    # The run allocates hundreds of thousands of small objects that all live until the end: the
    # cyclic collector would only re-scan them (about a fifth of the time on a 10,000-row history).
    gc.disable()
    if fmt != "html" and (plan_path is not None or plan_plot is not None):
        raise SemanticError(f"{'--plan' if plan_path is not None else '--plan-plot'} goes into the decision record only",
                            expected="--format html")
    if plan_plot is not None and plan_path is None:
        raise SemanticError("--plan-plot is the plot of a plan: give the plan too", expected="--plan PLAN.json")
    plan = None
    if plan_path is not None:  # before the run: a wrong file fails fast
        from taxpack.engine.report.decision_record import read_plan

        plan = read_plan(plan_path, plan_plot)
    inputs = [("the scenario", scenario), ("--transactions", transactions), ("--trades", trades), *pack_inputs(pack_paths)]
    checked_output(record, "--record", inputs)
    with Bar("check", quiet=quiet) as bar:
        bar("reading the scenario")
        loaded = load_scenario(scenario, transactions, trades, data_dirs)
        checked_output(record, "--record", [("the scenario's fx rates file", loaded.fx_rates)])
        _known_trade(explain, [t.id for t in loaded.trades], scenario)
        packs = pack_set(pack_paths)
        result = run_check(loaded, packs, rules_backend=rules_backend, progress=bar)
        bar("writing the result")
        # `--explain TRADE` asks for a reading, whatever the output is; otherwise a table on a terminal, JSON elsewhere.
        fmt = fmt or ("table" if sys.stdout.isatty() or explain not in (None, EXPLAIN_ALL) else "json")
        if fmt == "json" and not pretty and record is None:  # written a trade at a time: the same bytes, less memory
            write_json(result, lambda chunk: click.echo(chunk, nl=False))
            sys.exit(result.exit_code)
        data = to_json_dict(result)
    # The renderers are imported for the format asked only: JSON, the default off a terminal, needs none.
    from taxpack.engine.report.check_formats import render_csv, render_markdown, render_table
    from taxpack.engine.report.decision_record import render_html
    from taxpack.engine.report.record import write_record

    if fmt == "json":
        text = dumps(data, 2 if pretty else None)
    elif fmt == "csv":
        text = render_csv(data)
    elif fmt == "markdown":
        text = render_markdown(data, explain)
    elif fmt == "html":
        inputs_used = [p for p in (scenario, transactions, trades) if p is not None]
        text = render_html(data, inputs_used, loaded.fx_rates, plan)
    else:  # a table, on a terminal or forced: colour only on a terminal
        from taxpack.cli.progress import terminal_width

        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        text = render_table(data, explain, color=color, width=terminal_width())
    if record is not None:
        write_record(record, [p for p in (scenario, transactions, trades) if p is not None], loaded, packs, data)
    click.echo(text, nl=False)
    sys.exit(result.exit_code)


def _known_trade(explain: str | None, ids: list[str], scenario: Path) -> None:
    """`--explain TRADE` names a candidate trade of the scenario (exit 3 otherwise, before the run)."""
    if explain is None or explain == EXPLAIN_ALL or explain in ids:
        return
    from taxpack.engine.core.documents import did_you_mean, display_path

    shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
    raise SemanticError(f"--explain {explain}: the scenario has no candidate trade with this id{did_you_mean(explain, ids)}",
                        Span(display_path(scenario)), expected=f"one of {shown}" if ids else "a scenario with candidate trades")
