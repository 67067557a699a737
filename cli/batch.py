"""`taxpack batch check|plan INPUT --out OUTPUT`: many households, one JSON line each, on local cores or Dask."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import click

from taxpack.cli.options import amount

EPILOG = """\b
INPUT is a folder of scenario files (.yaml, .yml, .json; taken in name order)
or a JSON Lines file with one scenario object per line. OUTPUT gets one JSON
line per household, in input order: a summary of its result (--detail
summary, the default) or the whole of it (--detail full). See docs/batch.md.

\b
Exit codes (batch): the highest of the households'
  0  every household ok
  1  some households have warnings (none worse)
  2  some households have a blocking finding (no errors)
  3  some households' input is wrong (each error is in its own line, with its
     place); or the batch itself cannot run (INPUT missing, OUTPUT not resumable)
  4  internal error (a bug in taxpack; please report it)
"""


MAX_WORKERS = 256  # a mistyped --workers 99999999 would start that many processes at once


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path)),
        click.option("--out", "output", required=True, type=click.Path(path_type=Path, dir_okay=False), help="JSON Lines output, one result per household."),
        click.option("--summary", "summary_path", type=click.Path(path_type=Path, dir_okay=False), help="Also write the summary (counts, exit code) as JSON to this file."),
        click.option("--detail", type=click.Choice(["summary", "full"]), default="summary", show_default=True,
                     help="What each line holds: summary (per trade its tax, gain, disallowed loss and finding codes; the bill; "
                          "errors in full; about 2 kB) or full (the whole `taxpack check`/`plan` JSON, every pack's stamp)."),
        click.option("--resume", is_flag=True, help="Keep the households already in OUTPUT (a cut-off last line is redone) and append the rest."),
        click.option("--workers", type=click.IntRange(min=1, max=MAX_WORKERS), default=None,
                     help=f"Local worker processes (default: one per core; at most {MAX_WORKERS}, and never more than households)."),
        click.option("--dask", "dask_address", metavar="ADDRESS", help="Run on the Dask scheduler at ADDRESS, or local:N for a local cluster of N workers."),
        click.option("--pack", "pack_paths", multiple=True, type=click.Path(path_type=Path), help="Use this pack instead of the bundled one with the same id."),
        click.option("--rules-backend", type=click.Choice(["durable", "python"]), default=None, help="Rule evaluator (default: see docs/rules-evaluation.md)."),
        click.option("--quiet", is_flag=True, help="No progress bar (it is drawn on stderr, on a terminal only)."),
        click.option("--data-dir", "data_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
                     help="A folder the households' fx.rates files may be in, besides the input's own folder (repeatable)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@click.group("batch", epilog=EPILOG)
def command() -> None:
    """Check or plan many households: a folder of scenarios or a JSON Lines file, one result line each."""


@command.command("check", epilog=EPILOG)
@_common
def check(input_path: Path, output: Path, summary_path: Path | None, detail: str, resume: bool, workers: int | None, dask_address: str | None,
          pack_paths: tuple[Path, ...], rules_backend: str | None, quiet: bool, data_dirs: tuple[Path, ...]) -> None:
    """Run `taxpack check` on every household of INPUT."""
    from taxpack.engine.batch.jobs import Job
    from taxpack.engine.law.registry import pack_set

    _check_summary(summary_path, input_path, output, [("--pack", p) for p in pack_paths])
    job = Job("check", pack_set(pack_paths), rules_backend, data_dirs=tuple(str(d) for d in data_dirs), detail=detail)
    _run(job, input_path, output, summary_path, resume, workers, dask_address, quiet, [("--pack", p) for p in pack_paths])


@command.command("plan", epilog=EPILOG)
@_common
@click.option("--raise", "raise_amount", callback=amount, help="Cash to raise in every household, in the account's currency (with --account).")
@click.option("--account", help="The account in which to raise the cash (its id in every household).")
@click.option("--targets", type=click.Path(path_type=Path), help="One targets file for every household (see docs/planning.md).")
@click.option("--time-limit", type=float, default=10.0, show_default=True, help="Solver time limit per household, in seconds.")
@click.option("--gap", callback=amount, default="10", show_default=True, help="Absolute gap in money at which the solver may stop.")
def plan(input_path: Path, output: Path, summary_path: Path | None, detail: str, resume: bool, workers: int | None, dask_address: str | None,
         pack_paths: tuple[Path, ...], rules_backend: str | None, quiet: bool, data_dirs: tuple[Path, ...], raise_amount: Decimal | None,
         account: str | None, targets: Path | None, time_limit: float, gap: Decimal) -> None:
    """Run `taxpack plan` (raise cash, or meet targets) on every household of INPUT.

    The request is --raise/--account or --targets, for every household; a household written as
    {scenario: ..., plan: {...}} carries its own request instead (see docs/batch.md)."""
    from taxpack.engine.batch.households import PlanRequest
    from taxpack.engine.batch.jobs import Job
    from taxpack.engine.core.documents import load_yaml
    from taxpack.engine.core.errors import SemanticError
    from taxpack.engine.law.registry import pack_set

    if (raise_amount is None) != (account is None):
        raise SemanticError("--raise and --account go together", None, "--raise AMOUNT --account ID")
    if raise_amount is not None and raise_amount <= 0:
        raise SemanticError(f"the amount to raise is {raise_amount}", None, "a positive amount")
    others = [("--targets", targets)] + [("--pack", p) for p in pack_paths]
    _check_summary(summary_path, input_path, output, others)
    document = load_yaml(targets) if targets is not None else None
    request = PlanRequest(raise_amount, account, document, time_limit, gap)
    job = Job("plan", pack_set(pack_paths), rules_backend, request, data_dirs=tuple(str(d) for d in data_dirs), detail=detail)
    _run(job, input_path, output, summary_path, resume, workers, dask_address, quiet, others)


def _check_summary(summary_path: Path | None, input_path: Path, output: Path, others: list[tuple[str, Path | None]]) -> None:
    """--summary can be written, and is neither an input nor OUTPUT: said before the households run."""
    from taxpack.engine.core.files import check_output

    if summary_path is not None:
        check_output(summary_path, "--summary", [("INPUT", input_path), ("OUTPUT (--out)", output), *others])


def _run(job: Any, input_path: Path, output: Path, summary_path: Path | None, resume: bool, workers: int | None,
         dask_address: str | None, quiet: bool, others: list[tuple[str, Path | None]]) -> None:
    from taxpack.cli.progress import Bar
    from taxpack.engine.batch.runner import Interrupted, run_batch
    from taxpack.engine.core.errors import SemanticError
    from taxpack.engine.core.files import write_text_atomic

    if dask_address and workers:
        raise SemanticError("--workers is for local runs; with --dask the cluster's workers run the households", None, "--workers N, or --dask local:N")
    try:
        with Bar(f"batch {job.kind}", quiet=quiet) as bar:
            summary = run_batch(job, input_path, output, workers=workers, dask=dask_address, resume=resume, progress=bar.count, others=others)
    except Interrupted as stop:  # SIGINT or SIGTERM: the workers are stopped, complete lines kept for --resume
        click.echo(stop.render(), err=True)
        sys.exit(stop.exit_code)
    if summary_path is not None:
        write_text_atomic(summary_path, json.dumps(summary.to_json_dict(), indent=2, sort_keys=True) + "\n")
    if sys.stderr.isatty():  # a terminal: the counts as a table, in colour
        from taxpack.cli.progress import terminal_width
        from taxpack.engine.report.terminal import batch_summary_table

        click.echo(batch_summary_table(summary.to_json_dict(), summary.seconds, summary.workers, color=True, width=terminal_width()),
                   err=True, nl=False)
        if summary.not_households:
            click.echo(summary.render().split("\n", 1)[1], err=True)
    else:
        click.echo(summary.render(), err=True)
    sys.exit(summary.exit_code)
