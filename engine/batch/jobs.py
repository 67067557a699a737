"""A batch's unit of work: the job every worker receives once, and one household run into its line.

Shared by the local process pool (`runner`) and the Dask cluster (`cluster`): the same function makes
each household's line in every mode, and `in_order` hands lines back in input order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import attrs

from taxpack.engine import __version__
from taxpack.engine.batch.detail import DEFAULT_DETAIL, DETAILS, check_summary, line_packs, plan_summary, plan_used_packs, used_packs
from taxpack.engine.batch.households import (
    Item,
    PlanRequest,
    household_document,
    household_request,
    split_household,
)
from taxpack.engine.consequences.serialize import dumps, to_json_dict
from taxpack.engine.core.errors import (
    EXIT_BLOCKING,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_WARNINGS,
    ErrorList,
    TaxpackError,
)
from taxpack.engine.law.registry import PackSet

STATUS_BY_CODE = {EXIT_OK: "ok", EXIT_WARNINGS: "warnings", EXIT_BLOCKING: "blocked", EXIT_INPUT: "error", EXIT_INTERNAL: "error"}
STATUSES = ("ok", "warnings", "blocked", "error")
# Households in flight per worker: enough to keep every worker busy while the writer waits for the
# next one in order, few enough that a slow household does not make the buffer grow without bound.
IN_FLIGHT_PER_WORKER = 8
Coded = tuple[int, str]  # a household's exit code and its result line


@attrs.frozen
class Job:
    """Everything every worker receives once: the kind of batch, the packs, and the plan request."""

    kind: str  # check | plan
    packs: PackSet
    rules_backend: str | None = None
    plan: PlanRequest | None = None
    # Folders the households' fx.rates files may be in besides the input's own (`--data-dir`).
    data_dirs: tuple[str, ...] = ()
    # How much of each household's result its line holds: "summary" or "full" (see detail.py).
    detail: str = attrs.field(default=DEFAULT_DETAIL, validator=attrs.validators.in_(DETAILS))

    @property
    def stamp(self) -> list[dict[str, str]]:
        return self.packs.stamp()

    def pack_of(self) -> dict[str, str]:
        """A jurisdiction's pack id."""
        return {p.jurisdiction: p.id for p in self.packs.packs if p.jurisdiction}


# --------------------------------------------------------------------------------------------- worker


def run_item(job: Job, item: Item) -> str:
    """The result line of one household: its check (or plan), or its error with its place."""
    return run_item_coded(job, item)[1]


def run_item_coded(job: Job, item: Item) -> tuple[int, str]:
    """The household's exit code and result line (the writer counts statuses without parsing lines again)."""
    household = item.source
    full = job.detail == "full"
    record: dict[str, Any] = {"taxpack": __version__, "batch": job.kind, "source": item.source}
    if full:
        record["packs"] = job.stamp
    used: set[str] = set()
    try:
        whole = household_document(item)
        household = _household_id(whole.data) or household
        document, plan_document = split_household(whole)
        from taxpack.engine.inputs.scenario import build_scenario

        scenario = build_scenario(document, Path(item.base), data_dirs=job.data_dirs)
        if job.kind == "check":
            checked = _run_check(job, scenario)
            exit_code, record["result"] = checked.exit_code, to_json_dict(checked)
            if not full:
                used = used_packs(record["result"], job.pack_of())
                record["result"] = check_summary(record["result"])
        else:
            planned = _run_plan(job, scenario, household_request(plan_document, job.plan, Path(item.base)))
            exit_code, record["result"] = planned.exit_code, planned.to_json_dict()
            if not full:
                used = plan_used_packs(record["result"], job.pack_of())
                record["result"] = plan_summary(record["result"])
    except TaxpackError as error:
        exit_code = error.exit_code if error.exit_code >= EXIT_INPUT else EXIT_INPUT
        record["error"] = _error_dict(error, item)
    except Exception as error:  # a bug in taxpack: this household's line says so, the batch goes on
        exit_code = EXIT_INTERNAL
        record["error"] = {"message": f"{item.source}: internal error: {type(error).__name__}: {error} (this is a bug in taxpack; please report it)",
                           "errors": [{"kind": "internal error", "message": f"{type(error).__name__}: {error}", "expected": None,
                                       "file": item.shown, "line": item.line, "col": None, "column": None}]}
    if not full:  # the packs once, as what this line used; the --summary file has their full stamps
        record["detail"] = job.detail
        record["packs"] = line_packs(job.stamp, used)
    record["household"] = household
    record["status"] = STATUS_BY_CODE[exit_code]
    record["exit_code"] = exit_code
    return exit_code, dumps(record)


def _household_id(data: Any) -> str | None:
    """The scenario's `id`, read before anything is checked (so that a household's error line names it too)."""
    if isinstance(data, dict) and isinstance(data.get("scenario"), dict):
        data = data["scenario"]
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _run_check(job: Job, scenario: Any) -> Any:
    from taxpack.engine.consequences.check import run_check

    return run_check(scenario, job.packs, rules_backend=job.rules_backend)


def _run_plan(job: Job, scenario: Any, request: PlanRequest) -> Any:
    from taxpack.engine.plan.planning import plan_raise, plan_rebalance
    from taxpack.engine.plan.targets import build_targets

    targets = build_targets(request.targets, scenario) if request.targets is not None else None
    if request.amount is not None:
        return plan_raise(scenario, job.packs, request.amount, request.account or "", targets=targets,
                          time_limit=request.time_limit, gap=request.gap, rules_backend=job.rules_backend, parallel=False)
    assert targets is not None  # household_request gives an amount or targets
    # parallel=False: the batch's workers already keep every core busy; a second process per plan would only compete.
    return plan_rebalance(scenario, job.packs, targets, time_limit=request.time_limit, gap=request.gap, rules_backend=job.rules_backend,
                          parallel=False)


def _error_dict(error: TaxpackError, item: Item) -> dict[str, Any]:
    errors = error.errors if isinstance(error, ErrorList) else [error]
    lines = []
    for e in errors:
        # An error that has no place of its own (a plan's account, say) is placed at the household.
        lines.append(e.render() if e.span is not None else f"{item.source}: {e.render()}")
    return {"message": "\n".join(lines), "errors": [e.as_dict() for e in errors]}


# The job of this worker process, installed once by `init_worker` (process pools) or by the Dask plugin.
_JOBS: dict[str, Job] = {}


def init_worker(job: Job, key: str = "local") -> None:
    _JOBS[key] = job


def run_in_worker(item: Item, key: str = "local") -> tuple[int, str]:
    return run_item_coded(_JOBS[key], item)


# ---------------------------------------------------------------------------------------------- order


def in_order(items: Iterable[Item], submit: Callable[[Item], Any], wait_any: Callable[[list[Any]], Iterable[Any]],
             result: Callable[[Any], Coded], window: int) -> Iterator[Coded]:
    """Results in input order as they complete: out-of-order ones wait in a buffer of at most `window`."""
    source = iter(items)
    pending: dict[Any, int] = {}
    ready: dict[int, Coded] = {}
    submitted = 0
    next_out = 0
    exhausted = False
    while True:
        while not exhausted and len(pending) + len(ready) < window:
            item = next(source, None)
            if item is None:
                exhausted = True
                break
            pending[submit(item)] = submitted
            submitted += 1
        while next_out in ready:
            yield ready.pop(next_out)
            next_out += 1
        if not pending:
            if exhausted and not ready:
                return
            continue
        for future in wait_any(list(pending)):
            ready[pending.pop(future)] = result(future)


