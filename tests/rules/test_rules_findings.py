"""Findings built from rule hits, and choosing a backend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.rules import durable_backend as durable_eval
from taxpack.engine.rules.evaluator import available_backends, get_evaluator
from taxpack.engine.rules.explain import format_value, hit_to_finding, render_message

from .helpers import backends, synthetic

PACK = synthetic()
JULY_1 = dt.date(2025, 7, 1)


def test_format_value_is_plain() -> None:
    assert format_value(D("1E+3")) == "1000"
    assert format_value(D("-0.50")) == "-0.50"
    assert format_value(dt.date(2025, 7, 1)) == "2025-07-01"
    assert format_value(True) == "true"
    assert format_value(("reit", "ucits")) == "reit, ucits"
    assert format_value(None) == "(unknown)"


def test_render_message_substitutes_facts() -> None:
    facts = {"trade.gain": D("-600.5"), "trade.date": dt.date(2025, 7, 2)}
    assert render_message("loss of {trade.gain} on {trade.date}", facts) == "loss of -600.5 on 2025-07-02"
    assert render_message("{security.id} x", {}) == "(unknown) x"


@pytest.mark.parametrize("backend", backends())
def test_finding_carries_rule_pack_citation_and_why(backend: str) -> None:
    facts = {"trade.gain": D("-600"), "trade.date": JULY_1, "security.id": "ABC"}
    (hit,) = [h for h in get_evaluator(backend).evaluate(PACK, facts, JULY_1) if h.rule_id == "syn.loss_threshold"]
    finding = hit_to_finding(PACK, hit, facts, amount=D("600"))
    assert finding.code == "big_loss" and finding.severity == "warning" and finding.rule == "syn.loss_threshold"
    assert finding.pack == "syn@1.0.0" and finding.pack_sha256 == PACK.sha256
    assert finding.citation == "Synthetic Act s.1" and finding.url == "https://example.org/law-a"
    assert finding.confidence == "verified"
    assert finding.message == "loss of -600.00 on 2025-07-01"
    # the parameter's value from 1 July is marked uncertain in the pack: the finding says so
    assert finding.caveat == "parameter syn.loss_threshold is uncertain: announced, not enacted"
    assert finding.facts == {"trade.gain": D("-600")}  # only what the conditions looked at
    assert finding.conditions == ({"fact": "trade.gain", "op": "le", "expected": D("-500.00"), "actual": D("-600"),
                                   "held": True, "param": "syn.loss_threshold", "uncertain": "announced, not enacted"},)
    assert finding.amount == D("600")


@pytest.mark.parametrize("backend", backends())
def test_secondary_source_adds_a_caveat(backend: str) -> None:
    facts = {"household.foreign_property_cost": D("200000")}
    (hit,) = [h for h in get_evaluator(backend).evaluate(PACK, facts, JULY_1) if h.rule_id == "syn.gt_money_param"]
    finding = hit_to_finding(PACK, hit, facts)
    assert finding.confidence == "secondary"
    # one findings builder: a weak source is named with its citation, as in every other finding
    assert finding.caveat == "a synthetic caveat; source confidence: secondary (Synthetic guidance note B)"
    assert finding.url is None


def test_findings_are_identical_on_both_backends_and_repeatable() -> None:
    if "durable" not in available_backends():
        pytest.skip("durable_rules does not import here")
    facts = {"trade.gain": D("-2000"), "security.tags": ("reit",), "taxpayer.id": "p1", "trade.id": "t1",
             "household.foreign_property_cost": D("100000.01")}
    out = []
    for backend in ("durable", "python", "durable"):
        hits = get_evaluator(backend).evaluate(PACK, facts, JULY_1)
        out.append([hit_to_finding(PACK, h, facts) for h in hits])
    assert out[0] == out[1] == out[2]
    assert [f.rule for f in out[0]] == ["syn.loss_threshold", "syn.ne_money_param", "syn.gt_money_param", "syn.exists",
                                        "syn.list_ops", "syn.list_param", "syn.always"]


def test_durable_backend_really_runs_durable() -> None:
    if "durable" not in available_backends():
        pytest.skip("durable_rules does not import here")
    evaluator = get_evaluator("durable")
    runtime = durable_eval._runtime()
    before = runtime.tid
    evaluator.evaluate(PACK, {"trade.gain": D("-2000")}, JULY_1)
    assert runtime.tid == before + 1
    assert runtime.names[PACK.sha256].startswith("syn@1.0.0")


def test_unknown_backend_is_a_user_error() -> None:
    with pytest.raises(TaxpackError, match="unknown rules backend 'drools'"):
        get_evaluator("drools")


def test_without_durable_the_default_falls_back_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a Python 3.13 install sees: durable_rules does not import.
    monkeypatch.setattr(durable_eval, "_engine_module", lambda: None)
    monkeypatch.setattr(durable_eval, "_RUNTIME", None)
    monkeypatch.setattr(durable_eval, "_IMPORT_ERROR", "ImportError: undefined symbol: PyEval_CallObject")
    assert available_backends() == ("python",)
    assert get_evaluator(None).name == "python"
    with pytest.raises(TaxpackError, match="durable rules backend is not available"):
        get_evaluator("durable")


def test_default_backend() -> None:
    expected = "durable" if "durable" in available_backends() else "python"
    assert get_evaluator(None).name == expected
