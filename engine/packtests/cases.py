"""Run a pack's own test cases: inline scenarios in, expected consequences and findings out.

Each case names a scenario (inline, or a file relative to the test file) and, per trade and per lens,
the figures and finding codes it expects. The case runs `taxpack check` with the bundled packs, the
pack under test replacing its bundled version, and compares exactly after the pack's rounding.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator

import attrs

from taxpack.engine.core.documents import Document, JsonPath, load_yaml
from taxpack.engine.core.errors import Span, TaxpackError
from taxpack.engine.core.files import named_file
from taxpack.engine.inputs.scenario import build_scenario, load_scenario
from taxpack.engine.law.load import pack_files
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.registry import PackSet, pack_set

AMOUNT_FIELDS = ("proceeds", "cost", "gain", "disallowed_loss", "released_loss", "recognized_gain", "estimated_tax", "price_gain", "fx_gain")
TEXT_FIELDS = ("term", "method", "basis", "currency")
KNOWN = set(AMOUNT_FIELDS) | set(TEXT_FIELDS) | {"findings", "no_findings", "taxable", "estimate_missing"}


@attrs.frozen
class Case:
    pack: Pack
    name: str
    data: dict[str, Any]
    document: Document
    path: JsonPath  # where the case sits in `document`

    @property
    def span(self) -> Span:
        return self.document.span(self.path)


@attrs.frozen
class CaseResult:
    case: Case
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def collect_cases(pack: Pack) -> list[Case]:
    """Every test case of a pack, with the document and path it was written at."""
    cases: list[Case] = []
    for i, data in enumerate(pack.document.data.get("tests") or []):
        cases.append(Case(pack, data["name"], data, pack.document, ("tests", i)))
    if pack.path:
        _, files = pack_files(Path(pack.path))
        for file in files:
            doc = load_yaml(file)
            items = doc.data["tests"] if isinstance(doc.data, dict) else doc.data
            prefix: JsonPath = ("tests",) if isinstance(doc.data, dict) else ()
            for i, data in enumerate(items or []):
                cases.append(Case(pack, data["name"], data, doc, prefix + (i,)))
    return cases


def subdocument(doc: Document, prefix: JsonPath) -> Document:
    """The part of `doc` under `prefix`, as a document of its own (positions kept)."""
    n = len(prefix)
    positions = {}
    for path, span in doc.positions.items():
        if path[:n] == prefix:
            positions[path[n:]] = span
        elif path and path[0] == "<key>" and path[1 : n + 1] == prefix:
            positions[("<key>",) + path[n + 1 :]] = span
    value: Any = doc.data
    for part in prefix:
        value = value[part]
    return Document(doc.file, value, positions)


def case_output(case: Case, packs: PackSet | None = None, rules_backend: str | None = None) -> dict[str, Any]:
    """The `taxpack check` JSON of a case's scenario, with the pack under test in place of its bundled version."""
    from taxpack.engine.consequences.check import run_check
    from taxpack.engine.consequences.serialize import to_json_dict

    base = packs or pack_set()
    packs = PackSet(tuple(p for p in base.packs if p.id != case.pack.id) + (case.pack,))
    scenario_ref = case.data["scenario"]
    here = Path(case.document.file).parent
    folder = pack_folder(case)
    if isinstance(scenario_ref, str):
        # A test names its scenario file relative to the test file, inside the pack's own folder: never a
        # file elsewhere on the machine, whose first line an error would otherwise echo.
        path = named_file(scenario_ref, here, [folder], "test scenario file", case.document.span(case.path + ("scenario",)),
                          "a scenario file in the pack's folder", "the test file")
        scenario = load_scenario(path, data_dirs=[folder])
    else:
        sub = subdocument(case.document, case.path + ("scenario",))
        scenario = build_scenario(sub, here, roots=[folder])
    return to_json_dict(run_check(scenario, packs, rules_backend=rules_backend))


def pack_folder(case: Case) -> Path:
    """The folder of the pack under test: what its tests may read files from."""
    where = Path(case.pack.path) if case.pack.path else Path(case.document.file).parent
    return where if where.is_dir() else where.parent


def run_case(case: Case, packs: PackSet | None = None, rules_backend: str | None = None) -> CaseResult:
    try:
        result = case_output(case, packs, rules_backend)
    except TaxpackError as error:
        expected_error = case.data["expect"].get("error") if isinstance(case.data["expect"], dict) else None
        text = error.render()
        if expected_error and expected_error in text:
            return CaseResult(case, ())
        return CaseResult(case, (f"the scenario could not be checked: {text}",))
    return CaseResult(case, tuple(compare(case.data["expect"], result)))


def compare(expect: dict[str, Any], result: dict[str, Any]) -> Iterator[str]:
    trades = {t["id"]: t for t in result["trades"]}
    for trade_id, lenses in expect.items():
        if trade_id == "error":
            yield f"expected an error containing {lenses!r}, but the check succeeded"
            continue
        trade = trades.get(trade_id)
        if trade is None:
            yield f"{trade_id}: no such trade in the result"
            continue
        by_lens = {c["jurisdiction"]: c for c in trade["consequences"]}
        for jurisdiction, fields in lenses.items():
            c = by_lens.get(jurisdiction)
            if fields == "absent":
                if c is not None:
                    yield f"{trade_id} {jurisdiction}: expected no {jurisdiction} lens, but there is one ({c['basis']})"
                continue
            if c is None:
                yield f"{trade_id} {jurisdiction}: expected a {jurisdiction} lens; lenses present: {sorted(by_lens) or 'none'}"
                continue
            yield from _compare_fields(f"{trade_id} {jurisdiction}", fields, c)


def _compare_fields(where: str, fields: dict[str, Any], c: dict[str, Any]) -> Iterator[str]:
    codes = [f["code"] for f in c["findings"]]
    for key, want in fields.items():
        if key not in KNOWN:
            yield f"{where}: unknown expectation '{key}' (known: {', '.join(sorted(KNOWN))})"
        elif key == "findings":
            for item in want:
                spec = item if isinstance(item, dict) else {"code": item}
                code = spec.get("code")
                found = [f for f in c["findings"] if f["code"] == code]
                if not found:
                    yield f"{where}: expected finding '{code}', got {codes or 'none'}"
                    continue
                for name in ("severity", "amount"):
                    if name not in spec:
                        continue
                    values = [f.get(name) for f in found]
                    if name == "amount":
                        ok = any(g is not None and Decimal(str(g)) == Decimal(str(spec[name])) for g in values)
                    else:
                        ok = spec[name] in values
                    if not ok:
                        yield f"{where}: finding '{code}' {name} expected {spec[name]}, got {', '.join(str(g) for g in values)}"
        elif key == "no_findings":
            for code in want:
                if code in codes:
                    yield f"{where}: finding '{code}' should be absent"
        elif key in AMOUNT_FIELDS:
            got = c.get(key)
            if want is None or got is None:
                if want != got:
                    yield f"{where}: {key} expected {want}, got {got}"
                continue
            try:
                if Decimal(str(got)) != Decimal(str(want)):
                    yield f"{where}: {key} expected {want}, got {got}"
            except InvalidOperation:
                yield f"{where}: {key} expected {want}, got {got}"
        elif key == "estimate_missing":
            if list(want) != list(c.get(key) or []):
                yield f"{where}: estimate_missing expected {want}, got {c.get(key)}"
        else:
            if c.get(key) != want:
                yield f"{where}: {key} expected {want!r}, got {c.get(key)!r}"


def run_pack_tests(pack: Pack, packs: PackSet | None = None, rules_backend: str | None = None) -> list[CaseResult]:
    return [run_case(case, packs, rules_backend) for case in collect_cases(pack)]
