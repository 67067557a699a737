"""Property-based fuzzing (issue 17, item 7): scenarios, packs, CSV inputs and command-line options, mutated
with hostile values. Whatever comes in, the answer is a result or an input error: an exit code in
{0, 1, 2, 3}, no traceback, and every error with its place (file:line:col in YAML and JSON, row and column
in CSV; a whole file only for what concerns the whole file).

The examples are drawn the same way on every run (`derandomize`), so CI is reproducible and quick;
`TAXPACK_FUZZ_EXAMPLES=2000 python -m pytest tests/hostile/test_fuzz.py` explores further.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxpack.engine.core.documents import parse_csv_text
from taxpack.engine.core.errors import ErrorList, TaxpackError
from tests.expected import REPO_ROOT

DATA = REPO_ROOT / "tests" / "hostile" / "data"
HOUSEHOLD = (DATA / "household.yaml").read_text(encoding="utf-8")
HOUSEHOLD_JSON = json.dumps(json.loads(json.dumps(__import__("yaml").safe_load(HOUSEHOLD), default=str)))
PACK = (REPO_ROOT / "jurisdictions" / "ie" / "pack.yaml").read_text(encoding="utf-8")
EXAMPLES = int(os.environ.get("TAXPACK_FUZZ_EXAMPLES", "0")) or None


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=EXAMPLES or examples, deadline=None, derandomize=EXAMPLES is None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


# Values a careless or hostile user writes where a value goes.
HOSTILE = [
    "1e400", "-1e400", "1e-400", "1e999999999", "9" * 5000, "1" + "0" * 100, "0.0000000000000000000000001", "NaN", "-Infinity",
    "0001-01-01", "9999-12-31", "1899-12-31", "2024-02-30", "'0001-01-01'", "7", "-0.5", "'43'", "''", "null", "~", "[]", "{}",
    "[" * 200 + "]" * 200, "{a: " * 100 + "1" + "}" * 100, "&a [*a, *a]", "*undefined", "!!python/object:os.system x", "<<: {a: 1}",
    "=cmd|' /C calc'!A0", "@SUM(A1)", "'\\t=1'", "\"\\x00\"", "\"\\u0007\"", "/etc/passwd", "../../secret", "/dev/zero",
    "{rates: /etc/passwd}", "{rates: /dev/zero}", "{rates: ''}", "true", "NO", "0x1F", "1_000", "１２",
]
# Raw bytes that break the text itself.
BYTES = [b"\x00", b"\xff\xfe", b"\xfe\xff", b"\xe9", b"\xed\xa0\x80", b"\x07", b"\x1b[31m", b"\t", b"\r", b"\x85", b"\xef\xbb\xbf"]


@st.composite
def mutated_text(draw: st.DrawFn, text: str, values: list[str] = HOSTILE) -> bytes:
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "value", "value", "inline", "delete", "duplicate", "bytes"]))
        line = lines[i]
        if action == "value" and ": " in line:
            lines[i] = line.partition(": ")[0] + ": " + draw(st.sampled_from(values))
        elif action == "inline" and ", " in line:
            parts = line.split(", ")
            j = draw(st.integers(0, len(parts) - 1))
            key = parts[j].partition(": ")[0]
            parts[j] = f"{key}: {draw(st.sampled_from(values))}"
            lines[i] = ", ".join(parts) + ("}" if line.endswith("}") and not parts[-1].endswith("}") else "")
        elif action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, line)
        else:
            lines[i] = line + "\u0000"  # replaced below by raw bytes
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    if b"\x00" in raw:
        raw = raw.replace(b"\x00", draw(st.sampled_from(BYTES)), 1)
    return raw


def assert_placed(error: TaxpackError, name: str, csv: bool = False) -> None:
    """Every error names the file; an error inside the file names its line (and column, or CSV column)."""
    for e in (error.errors if isinstance(error, ErrorList) else [error]):
        span = e.span
        assert span is not None, f"an error without a place: {e.render()}"
        assert span.file == name or span.file.endswith(".csv") or span.file.endswith(".yaml"), e.render()
        if span.line is None:  # a whole-file error: the file itself (its encoding, its size, what it is)
            continue
        if csv:  # the row, and the column when the mistake is in one cell (a ragged row is the row's)
            assert span.line >= 1, e.render()
        else:
            assert span.col is not None, e.render()
        assert "Traceback" not in e.render()


# ------------------------------------------------------------------------------------------ scenarios


@fuzz_settings(150)
@given(mutated_text(HOUSEHOLD))
def test_a_mutated_scenario_loads_or_each_error_has_its_place(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    from taxpack.engine.inputs.scenario import load_scenario

    folder = tmp_path_factory.mktemp("s")
    (folder / "s.yaml").write_bytes(raw)
    try:
        load_scenario(folder / "s.yaml")
    except TaxpackError as error:
        assert "TOPSECRET" not in str(error) and "root:x:" not in str(error)
        assert_placed(error, str(folder / "s.yaml"))


@fuzz_settings(40)
@given(st.data())
def test_a_mutated_json_scenario_loads_or_each_error_has_its_place(data: st.DataObject) -> None:
    from taxpack.engine.core.documents import decode_utf8, load_yaml_text
    from taxpack.engine.inputs.scenario import build_scenario

    value = json.loads(HOUSEHOLD_JSON)
    for _ in range(data.draw(st.integers(1, 3))):
        target = value
        keys = data.draw(st.lists(st.sampled_from(["taxpayers", "accounts", "securities", "transactions", "trades", 0, 1, "quantity",
                                                   "price", "date", "marginal_rate", "CA", "id"]), min_size=1, max_size=4))
        for key in keys[:-1]:
            if isinstance(target, dict) and key in target:
                target = target[key]
            elif isinstance(target, list) and isinstance(key, int) and key < len(target):
                target = target[key]
        last = keys[-1]
        hostile = data.draw(st.sampled_from(HOSTILE))
        if isinstance(target, dict) and isinstance(last, str):
            target[last] = hostile
        elif isinstance(target, list) and isinstance(last, int) and last < len(target):
            target[last] = hostile
    text = json.dumps(value)
    if data.draw(st.booleans()):  # a raw number or nesting where a string was
        text = text.replace('"' + data.draw(st.sampled_from(HOSTILE)) + '"', data.draw(st.sampled_from(["1e400", "9" * 5000, "[" * 3000 + "]" * 3000])), 1)
    try:
        build_scenario(load_yaml_text(decode_utf8(text.encode(), "s.json"), "s.json"), REPO_ROOT)
    except TaxpackError as error:
        assert_placed(error, "s.json")


# ------------------------------------------------------------------------------------------ packs


@fuzz_settings(120)
@given(mutated_text(PACK))
def test_a_mutated_pack_loads_or_each_error_has_its_place(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    from taxpack.engine.law.load import load_pack

    folder = tmp_path_factory.mktemp("p")
    (folder / "pack.yaml").write_bytes(raw)
    try:
        load_pack(folder)
    except TaxpackError as error:
        assert_placed(error, str(folder / "pack.yaml"))


# ------------------------------------------------------------------------------------------ CSV

CELLS = st.one_of(st.sampled_from(["", "0", "-1", "1e400", "9" * 40, "0001-01-01", "2026-02-30", "2026-03-02", "buy", "sell", "=cmd|x", "@A1",
                                   "us-brokerage", "VTI", "USD", "CAD", "fifo", "b-vti-1:5", "b:1e400", "\t", '"', "a\nb", "1,5", "１２"]),
                  st.text(max_size=12))


@fuzz_settings(100)
@given(st.lists(st.lists(CELLS, min_size=1, max_size=10), min_size=1, max_size=6), st.sampled_from(["transactions", "fx", "prices"]))
def test_a_csv_input_parses_or_each_error_has_its_row_and_column(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], kind: str) -> None:
    import csv
    import io

    from taxpack.engine.inputs.fx import FxTable
    from taxpack.engine.inputs.prices import load_prices_csv
    from taxpack.engine.inputs.scenario import load_scenario

    header = {"transactions": ["id", "account", "security", "date", "side", "quantity", "price", "fees", "lots"],
              "fx": ["date", "currency", "quote", "rate"], "prices": ["security", "date", "price", "currency"]}[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow((row + [""] * len(header))[: len(header)] if len(row) <= len(header) else row)
    folder = tmp_path_factory.mktemp("c")
    path = folder / "f.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        if kind == "transactions":
            (folder / "s.yaml").write_text(HOUSEHOLD[: HOUSEHOLD.index("\ntrades:\n") + 1], encoding="utf-8")
            load_scenario(folder / "s.yaml", trades_csv=path)
        elif kind == "fx":
            FxTable({}, "none").with_overrides(path)
        else:
            load_prices_csv(path, _scenario())
    except TaxpackError as error:
        assert_placed(error, str(path), csv=True)
    try:  # the CSV reader alone, on the same text
        parse_csv_text(buffer.getvalue(), "f.csv", header, [])
    except TaxpackError as error:
        assert_placed(error, "f.csv", csv=True)


_SCENARIO: list[Any] = []


def _scenario() -> Any:
    if not _SCENARIO:
        from taxpack.engine.core.documents import load_yaml_text
        from taxpack.engine.inputs.scenario import build_scenario

        _SCENARIO.append(build_scenario(load_yaml_text(HOUSEHOLD, "s.yaml"), REPO_ROOT))
    return _SCENARIO[0]


# ------------------------------------------------------------------------------------------ command line

OPTION_VALUES = ["", "-1", "0", "1e400", "NaN", "inf", "9" * 50, "0001-01-01", "9999-12-31", "2026-02-30", "VTI=-5", "VTI=1e400", "=x",
                 "VTI", "VTI=", "=5", "local:0", "local:x", "tcp://", "::::", "/dev/zero", "/etc/passwd", "no/such/file", ".", "--", "\x00x"]
COMMANDS = [
    ["check", "s.yaml", "--format", "{v}"],
    ["check", "s.yaml", "--transactions", "{v}"],
    ["check", "s.yaml", "--pack", "{v}"],
    ["check", "{v}"],
    ["harvest", "h.yaml", "--price", "{v}", "--format", "json"],
    ["plan", "h.yaml", "--raise", "{v}", "--account", "al-brokerage", "--format", "json"],
    ["plan", "h.yaml", "--targets", "t.yaml", "--gap", "{v}", "--format", "json"],
    ["plan", "h.yaml", "--targets", "t.yaml", "--time-limit", "{v}", "--format", "json"],
    ["exit", "s.yaml", "--taxpayer", "alice", "--date", "{v}", "--to", "US", "--format", "json"],
    ["exit", "s.yaml", "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--net-worth", "{v}", "--format", "json"],
    ["exit", "s.yaml", "--taxpayer", "alice", "--date", "2026-07-01", "--to", "US", "--stake", "{v}", "--format", "json"],
    ["pack", "show", "us", "--as-of", "{v}"],
    ["pack", "validate", "{v}"],
    ["batch", "check", "h.jsonl", "--out", "o.jsonl", "--workers", "{v}"],
    ["batch", "check", "h.jsonl", "--out", "{v}", "--workers", "1"],
    ["batch", "check", "{v}", "--out", "o.jsonl", "--workers", "1"],
]


@pytest.fixture(scope="module")
def command_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    shutil.copy(DATA / "household.yaml", folder / "s.yaml")
    shutil.copy(DATA / "plan-household.yaml", folder / "h.yaml")
    shutil.copy(DATA / "plan-targets.yaml", folder / "t.yaml")
    (folder / "h.jsonl").write_text(json.dumps(json.loads(HOUSEHOLD_JSON)) + "\n", encoding="utf-8")
    return folder


def run_main(args: list[str], cwd: Path) -> tuple[int, str]:
    """The command as `taxpack` runs it (run(): usage errors are exit 3), in this process."""
    import contextlib
    import io

    from taxpack.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            import sys

            saved = sys.argv
            sys.argv = ["taxpack", *args]
            try:
                run()
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            finally:
                sys.argv = saved
    finally:
        os.chdir(old)
    return code, out.getvalue() + err.getvalue()


@fuzz_settings(60)
@given(st.sampled_from(COMMANDS), st.sampled_from(OPTION_VALUES))
def test_any_option_value_ends_in_a_result_or_an_input_error(command_folder: Path, command: list[str], value: str) -> None:
    if "\x00" in value:
        value = value.replace("\x00", "")  # an argument cannot hold NUL (the operating system refuses it)
    args = [a.replace("{v}", value) for a in command]
    code, text = run_main(args, command_folder)
    assert code in (0, 1, 2, 3), (args, code, text[-500:])
    assert "Traceback" not in text and "internal error" not in text, (args, text[-500:])
    if code == 3:
        assert text.strip(), args
    for leftover in command_folder.iterdir():
        assert not leftover.name.startswith(".o.jsonl"), "a temporary file was left behind"
