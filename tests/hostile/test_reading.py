"""Issue 17, items 1-3: what taxpack reads is limited (size, nesting, numbers, dates, encodings), and a file
an input names is confined to the input's folder. Each refusal is an input error (exit 3) with its place,
and never quotes a file that is not the user's input."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from taxpack.engine.core.documents import load_yaml, load_yaml_text, read_bytes, read_csv
from taxpack.engine.core.errors import ErrorList, ParseError, TaxpackError
from taxpack.engine.core.limits import EARLIEST_DATE, LATEST_DATE, MAX_DEPTH, MAX_FILE_BYTES, number_problem
from taxpack.engine.inputs.scenario import build_scenario, load_scenario
from tests.expected import REPO_ROOT

HOUSEHOLD = (REPO_ROOT / "tests" / "hostile" / "data" / "household.yaml").read_text(encoding="utf-8")
AS_OF = "as_of: 2026-03-02"


def errors_of(error: TaxpackError) -> list[TaxpackError]:
    return list(error.errors) if isinstance(error, ErrorList) else [error]


def refused(text: str, name: str = "s.yaml") -> TaxpackError:
    with pytest.raises(TaxpackError) as caught:
        load_yaml_text(text, name)
    return caught.value


# ---------------------------------------------------------------------------------------------- nesting


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 100_000])
@pytest.mark.parametrize("form", ["yaml-flow", "json", "yaml-block"])
def test_nesting_deeper_than_the_limit_is_refused_where_it_happens(depth: int, form: str) -> None:
    if form == "yaml-block" and depth > 3000:
        pytest.skip("an indented block this deep is a file of gigabytes")
    if form == "yaml-flow":
        text, name = "a: " + "[" * depth + "]" * depth + "\n", "s.yaml"
    elif form == "json":
        text, name = '{"a": ' + "[" * depth + "]" * depth + "}", "s.json"
    else:
        text, name = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n", "s.yaml"
    error = refused(text, name)
    assert isinstance(error, ParseError)
    assert f"nested more than {MAX_DEPTH} levels deep" in error.message
    span = error.span
    assert span is not None and span.file == name and span.line is not None and span.col is not None
    if form != "yaml-block":  # every level on line 1: the place is the bracket that goes one level too deep
        assert (span.line, span.col) == (1, text.index("[") + MAX_DEPTH)  # the 64th bracket (the mapping is the 1st level)


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 1  # the mapping itself is one level
    document = load_yaml_text("a: " + "[" * depth + "]" * depth + "\n", "s.yaml")
    value = document.data["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


# ---------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("written, why", [
    ("1e400", "before the decimal point"),
    ("1" + "0" * 100, "before the decimal point"),
    ("9" * 5000, "before the decimal point"),
    ("1e999999999", "before the decimal point"),
    ("1e-400", "after the decimal point"),
    ("0." + "0" * 25 + "1", "after the decimal point"),
])
@pytest.mark.parametrize("form", ["yaml", "json"])
def test_numbers_beyond_the_limits_are_refused_at_their_place(written: str, why: str, form: str) -> None:
    text = f'{{"q": {written}}}' if form == "json" else f"q: {written}\n"
    error = refused(text, f"s.{form}")
    assert why in error.message and error.span is not None and error.span.line == 1
    assert len(str(error)) < 400  # a 5,000-digit number is not echoed whole


@pytest.mark.parametrize("written", ["999999999999999", "0.00000000000000000001", "1.50000000000000000000000000", "-123456789012345.5"])
def test_numbers_within_the_limits_are_read_exactly(written: str) -> None:
    from decimal import Decimal

    assert Decimal(str(load_yaml_text(f"q: {written}\n", "s.yaml").data["q"])) == Decimal(written)


def test_the_number_limits_are_what_core_limits_says() -> None:
    from decimal import Decimal

    assert number_problem(Decimal("999999999999999.99")) is None
    assert number_problem(Decimal("1000000000000000")) is not None
    assert number_problem(10**15) is not None and number_problem(10**15 - 1) is None


def test_amounts_of_the_largest_numbers_multiplied_are_still_shown() -> None:
    """Rounding needs room for every digit: quantity and price at the limit give an amount of 30 digits,
    which quantize() under the default 28 digits refuses (decimal.InvalidOperation, formerly an internal error)."""
    from decimal import Decimal, InvalidOperation

    from taxpack.engine.core.money import money_text

    value = Decimal("999999999999999") * Decimal("999999999999999.99")  # 28 significant digits, as the engine computes
    with pytest.raises(InvalidOperation):
        value.quantize(Decimal("0.01"))
    assert money_text(value) == "999999999999998990000000000000.00"


# ---------------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_dates_outside_the_range_taxpack_computes_with_are_refused(day: str) -> None:
    for text in (f"d: {day}\n", f"d: '{day}'\n", f'{{"d": "{day}"}}'):
        error = refused(text, "s.json" if text.startswith("{") else "s.yaml")
        assert "outside the dates taxpack reads" in error.message and error.span is not None and error.span.line == 1
        assert error.expected is not None and "taxpack pack list" in error.expected


def test_the_first_and_last_dates_are_read() -> None:
    data = load_yaml_text(f"a: {EARLIEST_DATE.isoformat()}\nb: {LATEST_DATE.isoformat()}\n", "s.yaml").data
    assert (data["a"], data["b"]) == (EARLIEST_DATE, LATEST_DATE)


def test_a_year_one_trade_is_an_input_error_at_its_place(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(HOUSEHOLD.replace("date: 2026-03-02, side: sell, quantity: 50", "date: 0001-01-01, side: sell, quantity: 50"),
                                     encoding="utf-8")
    with pytest.raises(TaxpackError) as caught:
        load_scenario(tmp_path / "s.yaml")
    [error] = errors_of(caught.value)
    assert error.span is not None and error.span.line == HOUSEHOLD.splitlines().index(next(
        line for line in HOUSEHOLD.splitlines() if "date: 2026-03-02, side: sell, quantity: 50" in line)) + 1


# ---------------------------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding, words", [("utf-16", "UTF-16"), ("utf-32", "UTF-32")])
def test_text_in_another_unicode_encoding_is_named(tmp_path: Path, encoding: str, words: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(HOUSEHOLD.encode(encoding))
    with pytest.raises(ParseError) as caught:
        load_yaml(path)
    assert f"the file is {words} text, not UTF-8" in caught.value.message
    assert (caught.value.span.line, caught.value.span.col) == (1, 1)  # type: ignore[union-attr]


def test_a_nul_byte_is_refused_at_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"a: 1\nb: x\x00y\n")
    with pytest.raises(ParseError) as caught:
        load_yaml(path)
    assert "NUL byte" in caught.value.message
    assert (caught.value.span.line, caught.value.span.col) == (2, 5)  # type: ignore[union-attr]


def test_a_control_character_is_refused_at_its_line_and_column() -> None:
    error = refused("a: 1\nb: x\x07y\n")
    assert "U+0007" in error.message or "0x07" in error.message
    assert (error.span.line, error.span.col) == (2, 5)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- files


def test_a_device_a_pipe_a_folder_and_a_loop_are_refused_before_a_byte_is_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "folder.yaml").mkdir()
    os.symlink("loop.yaml", tmp_path / "loop.yaml")
    os.symlink("nowhere.yaml", tmp_path / "dangling.yaml")
    cases = {"/dev/zero": "character device", str(tmp_path / "pipe.yaml"): "named pipe", str(tmp_path / "folder.yaml"): "folder",
             str(tmp_path / "loop.yaml"): "loop of symbolic links", str(tmp_path / "dangling.yaml"): "which does not exist"}
    for path, words in cases.items():
        with pytest.raises(ParseError) as caught:
            read_bytes(path, "shown.yaml")
        assert words in caught.value.message and caught.value.span is not None and caught.value.span.file == "shown.yaml"


def test_a_file_over_the_size_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with open(path, "wb") as f:
        f.truncate(30 * 1024**3)  # 30 GB that take no disk: reading them would take minutes
    with pytest.raises(ParseError) as caught:
        read_bytes(path, "big.yaml")
    assert "taxpack reads" in caught.value.message
    small = tmp_path / "small.yaml"
    small.write_bytes(b"x" * 100)
    with pytest.raises(ParseError):
        read_bytes(small, "small.yaml", limit=99)
    assert read_bytes(small, "small.yaml", limit=100) == b"x" * 100
    assert MAX_FILE_BYTES >= 16 * 1024 * 1024  # far above a 10,000-row history (about 2 MB)


@pytest.mark.parametrize("column, cell, words", [
    ("quantity", "1e400", "before the decimal point"),
    ("price", "0." + "0" * 30 + "1", "after the decimal point"),
    ("date", "0001-01-01", "outside the dates"),
    ("id", "=cmd|' /C calc'!A0", "is not an id"),
    ("id", "@SUM(A1)", "is not an id"),
])
def test_csv_cells_obey_the_same_limits_with_their_row_and_column(tmp_path: Path, column: str, cell: str, words: str) -> None:
    header = "id,account,security,date,side,quantity,price\n"
    row = {"id": "t9", "account": "us-brokerage", "security": "VTI", "date": "2026-03-02", "side": "sell", "quantity": "5", "price": "300"}
    row[column] = cell
    (tmp_path / "t.csv").write_text(header + ",".join(f'"{v}"' for v in row.values()) + "\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text(HOUSEHOLD[: HOUSEHOLD.index("\ntrades:\n") + 1], encoding="utf-8")
    with pytest.raises(TaxpackError) as caught:
        load_scenario(tmp_path / "s.yaml", trades_csv=tmp_path / "t.csv")
    [error] = errors_of(caught.value)
    assert words in error.message and error.span is not None and (error.span.line, error.span.column) == (2, column)


def test_fx_and_price_csv_cells_obey_the_limits(tmp_path: Path) -> None:
    from taxpack.engine.inputs.fx import FxTable

    (tmp_path / "r.csv").write_text("date,currency,quote,rate\n1850-01-01,USD,CAD,1.3\n2026-03-02,USD,CAD,1e400\n", encoding="utf-8")
    with pytest.raises(ErrorList) as caught:
        FxTable({}, "none").with_overrides(tmp_path / "r.csv")
    placed = sorted((e.span.line, e.span.column) for e in caught.value.errors)  # type: ignore[union-attr]
    assert placed == [(2, "date"), (3, "rate")]
    rows = read_csv(tmp_path / "r.csv", ["date", "currency", "quote", "rate"])
    assert len(rows) == 2


# ---------------------------------------------------------------------------------------------- confinement


def scenario_naming(tmp_path: Path, rates: str) -> Path:
    folder = tmp_path / "household"
    folder.mkdir(exist_ok=True)
    path = folder / "s.yaml"
    path.write_text(HOUSEHOLD.replace(AS_OF, AS_OF + f"\nfx: {{rates: {json.dumps(rates)}}}"), encoding="utf-8")
    return path


@pytest.mark.parametrize("rates", ["/etc/passwd", "../secret.csv", "/dev/zero", "/proc/self/environ", ".", "link.csv", "loop.csv"])
def test_an_fx_rates_file_outside_the_scenario_folder_is_refused_unread(tmp_path: Path, rates: str) -> None:
    (tmp_path / "secret.csv").write_text("TOPSECRET,1,2,3\n", encoding="utf-8")
    path = scenario_naming(tmp_path, rates)
    os.symlink(tmp_path / "secret.csv", path.parent / "link.csv")
    os.symlink("loop.csv", path.parent / "loop.csv")
    with pytest.raises(TaxpackError) as caught:
        load_scenario(path)
    [error] = errors_of(caught.value)
    text = str(caught.value)
    assert "TOPSECRET" not in text and "root:" not in text
    assert error.span is not None and error.span.line is not None and error.span.col is not None  # at `rates:` in the scenario
    assert "fx rates file" in error.message


def test_a_folder_given_explicitly_may_hold_the_rates(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "rates.csv").write_text("date,currency,quote,rate\n2026-03-02,USD,CAD,1.35\n", encoding="utf-8")
    path = scenario_naming(tmp_path, "../shared/rates.csv")
    with pytest.raises(TaxpackError):
        load_scenario(path)
    scenario = load_scenario(path, data_dirs=[shared])
    assert scenario.fx_rates == str((shared / "rates.csv").resolve())


def test_a_dividends_file_outside_the_scenario_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text("- {id: x}\n", encoding="utf-8")
    folder = tmp_path / "h"
    folder.mkdir()
    (folder / "s.yaml").write_text(HOUSEHOLD + "dividends: ../d.yaml\n", encoding="utf-8")
    with pytest.raises(TaxpackError) as caught:
        load_scenario(folder / "s.yaml")
    assert "leads outside" in str(caught.value)


def test_a_pack_test_reads_its_scenario_file_only_inside_the_pack(tmp_path: Path) -> None:
    import shutil

    from taxpack.engine.law.load import load_pack
    from taxpack.engine.packtests.cases import run_pack_tests

    pack = tmp_path / "ie"
    shutil.copytree(REPO_ROOT / "jurisdictions" / "ie", pack)
    for old in (pack / "tests").glob("*.yaml"):
        old.unlink()
    (tmp_path / "outside.yaml").write_text("TOPSECRET: 1\n", encoding="utf-8")
    for name in ("/etc/passwd", "../../outside.yaml", "/dev/zero"):
        (pack / "tests" / "t.yaml").write_text(textwrap.dedent(f"""\
            tests:
              - name: hostile
                scenario: {json.dumps(name)}
                expect: {{t1: {{IE: {{gain: 0}}}}}}
            """), encoding="utf-8")
        [result] = run_pack_tests(load_pack(pack))
        assert not result.ok
        [failure] = result.failures
        assert "leads outside" in failure or "not a regular file" in failure
        assert "TOPSECRET" not in failure and "root:" not in failure


def test_a_pack_yaml_that_is_a_link_out_of_its_folder_is_refused(tmp_path: Path) -> None:
    from taxpack.engine.law.load import load_pack

    (tmp_path / "p").mkdir()
    os.symlink(REPO_ROOT / "jurisdictions" / "ie" / "pack.yaml", tmp_path / "p" / "pack.yaml")
    with pytest.raises(TaxpackError) as caught:
        load_pack(tmp_path / "p")
    assert "is a link to a file outside the pack folder" in str(caught.value)
    inside = tmp_path / "q"
    inside.mkdir()
    (inside / "real.yaml").write_text((REPO_ROOT / "jurisdictions" / "ie" / "pack.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    os.symlink("real.yaml", inside / "pack.yaml")
    assert load_pack(inside).id == "ie"  # a link inside the folder is fine


def test_a_scenario_built_in_memory_resolves_names_against_the_roots_given(tmp_path: Path) -> None:
    (tmp_path / "rates.csv").write_text("date,currency,quote,rate\n2026-03-02,USD,CAD,1.35\n", encoding="utf-8")
    document = load_yaml_text(HOUSEHOLD.replace(AS_OF, AS_OF + "\nfx: {rates: rates.csv}"), "s.yaml")
    assert build_scenario(document, tmp_path).fx_rates == str((tmp_path / "rates.csv").resolve())
    with pytest.raises(TaxpackError):
        build_scenario(document, tmp_path, roots=[tmp_path / "elsewhere"])
