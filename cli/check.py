"""`taxpack check SCENARIO`: annotate every candidate trade under every jurisdiction that taxes it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from taxpack.cli.group import EXIT_CODES_HELP
from taxpack.cli.options import checked_output, pack_inputs

EPILOG = EXIT_CODES_HELP.replace("Exit codes:", "Exit codes (check):")


@click.command("check", epilog=EPILOG)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--transactions", type=click.Path(path_type=Path), help="Executed history as CSV (instead of the scenario's `transactions`).")
@click.option("--trades", type=click.Path(path_type=Path), help="Candidate trades as CSV (instead of the scenario's `trades`).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "markdown"]), default=None,
              help="Output format (default: table on a terminal, json otherwise).")
@click.option("--pretty", is_flag=True, help="Indent the JSON output.")
@click.option("--explain", is_flag=True, help="Show which conditions held with which values, and the lots and rates behind each gain.")
@click.option("--record", type=click.Path(path_type=Path), help="Write an audit record (input hashes, packs, version, full output) to this file.")
@click.option("--pack", "pack_paths", multiple=True, type=click.Path(path_type=Path), help="Use this pack (folder or file) instead of the bundled one with the same id.")
@click.option("--rules-backend", type=click.Choice(["durable", "python"]), default=None, help="Rule evaluator (default: see docs/rules-evaluation.md).")
@click.option("--quiet", is_flag=True, help="No progress bar (drawn on stderr, on a terminal only, when the run lasts over a second).")
@click.option("--data-dir", "data_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="A folder the scenario's fx.rates file may be in, besides the scenario's own folder (repeatable).")
def command(scenario: Path, transactions: Path | None, trades: Path | None, fmt: str | None, pretty: bool, explain: bool,
            record: Path | None, pack_paths: tuple[Path, ...], rules_backend: str | None, quiet: bool, data_dirs: tuple[Path, ...]) -> None:
    """Annotate the candidate trades of SCENARIO with their tax consequences under every lens."""
    # Imported here so that `taxpack --help` and the pack commands start fast.
    import gc

    from taxpack.cli.progress import Bar
    from taxpack.engine.consequences.check import run_check
    from taxpack.engine.consequences.serialize import dumps, to_json_dict
    from taxpack.engine.inputs.scenario import load_scenario
    from taxpack.engine.law.registry import pack_set
    from taxpack.engine.report.check_formats import render_csv, render_markdown, render_table
    from taxpack.engine.report.record import write_record

    # The run allocates hundreds of thousands of small objects that all live until the end: the
    # cyclic collector would only re-scan them (about a fifth of the time on a 10,000-row history).
    gc.disable()
    inputs = [("the scenario", scenario), ("--transactions", transactions), ("--trades", trades), *pack_inputs(pack_paths)]
    checked_output(record, "--record", inputs)
    with Bar("check", quiet=quiet) as bar:
        bar("reading the scenario")
        loaded = load_scenario(scenario, transactions, trades, data_dirs)
        checked_output(record, "--record", [("the scenario's fx rates file", loaded.fx_rates)])
        packs = pack_set(pack_paths)
        result = run_check(loaded, packs, rules_backend=rules_backend, progress=bar)
        bar("writing the result")
        data = to_json_dict(result)
    fmt = fmt or ("table" if sys.stdout.isatty() else "json")
    if fmt == "json":
        text = dumps(data, 2 if pretty else None)
    elif fmt == "csv":
        text = render_csv(data)
    elif fmt == "markdown":
        text = render_markdown(data, explain)
    else:
        text = render_table(data, explain)
    if record is not None:
        write_record(record, [p for p in (scenario, transactions, trades) if p is not None], loaded, packs, data)
    click.echo(text, nl=False)
    sys.exit(result.exit_code)
