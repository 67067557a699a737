"""Every pack test case gives the same check output on durable_rules and on the reference evaluator."""

from __future__ import annotations

import pytest

from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.law.registry import bundled_packs, pack_set
from taxpack.engine.packtests.cases import case_output, collect_cases
from taxpack.engine.rules.evaluator import available_backends

CASES = [case for pack in bundled_packs() for case in collect_cases(pack)]


@pytest.mark.skipif("durable" not in available_backends(), reason="durable_rules cannot be imported on this Python")
@pytest.mark.parametrize("case", CASES, ids=[f"{c.pack.id}:{c.name}" for c in CASES])
def test_both_evaluators_agree(case) -> None:
    packs = pack_set()
    outputs = []
    for backend in ("durable", "python"):
        try:
            data = case_output(case, packs, backend)
        except TaxpackError as error:
            data = {"error": error.render()}
        data.pop("rules_backend", None)
        outputs.append(data)
    assert outputs[0] == outputs[1]
