"""The strict reader: exact decimals, text that stays text, right positions, bounded aliases, CSV rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from taxpack.engine.core import documents
from taxpack.engine.core.documents import decode_utf8, load_yaml_text, parse_csv_text, to_json_types
from taxpack.engine.core.errors import ParseError, Span


def load(text: str) -> object:
    return load_yaml_text(text, "f.yaml").data


def test_numbers_are_decimal_never_float() -> None:
    data = load("a: 0.1\nb: 0.2\nc: 0.3\nd: 12\ne: 1e-3\nf: -0.50\n")
    assert all(not isinstance(v, float) for v in data.values())
    assert type(data["a"]) is Decimal and type(data["d"]) is int
    # The classic float trap: with binary floats 0.1 + 0.2 != 0.3.
    assert data["a"] + data["b"] == data["c"]
    assert data["e"] == Decimal("0.001")
    # The text is kept digit for digit (trailing zeros included): 0.50, not 0.5.
    assert str(data["f"]) == "-0.50"


def test_float_looking_value_in_a_pack_stays_decimal() -> None:
    from taxpack.engine.law.load import load_pack_text

    text = """format: 1
kind: treaties
id: t
title: t
version: 1.0.0
coverage: {from: 2024-01-01, to: 2024-12-31}
sources: {s: {citation: c, confidence: verified}}
parameters:
  r: {description: d, unit: rate, values: {2024-01-01: {value: 0.26375, source: s}}}
"""
    value = load_pack_text(text, "p.yaml").value("r", dt.date(2024, 6, 1)).value
    assert type(value) is Decimal and value == Decimal("0.26375")


@pytest.mark.parametrize("word", ["NO", "no", "No", "yes", "Yes", "on", "OFF", "y", "n"])
def test_yaml_1_1_booleans_stay_text(word: str) -> None:
    assert load(f"a: {word}\n") == {"a": word}


def test_only_true_and_false_are_booleans() -> None:
    assert load("a: true\nb: false\nc: True\nd: FALSE\n") == {"a": True, "b": False, "c": True, "d": False}


def test_no_octal_sexagesimal_or_underscores() -> None:
    # YAML 1.1 would read 0o17 as 15, 1:30 as 90 and 1_000 as 1000; here they are text.
    assert load("a: 0o17\nb: '1:30'\nc: 1:30\nd: 1_000\n") == {"a": "0o17", "b": "1:30", "c": "1:30", "d": "1_000"}


def test_dates() -> None:
    data = load("a: 2024-02-29\n2024-01-01: x\n")
    assert data == {"a": dt.date(2024, 2, 29), "2024-01-01": "x"}  # a date key becomes its ISO text
    assert to_json_types(data) == {"a": "2024-02-29", "2024-01-01": "x"}
    with pytest.raises(ParseError, match="2023-02-29 is not a day of the calendar"):
        load("a: 2023-02-29\n")
    with pytest.raises(ParseError, match="without a time"):
        load("a: 2024-01-01 10:00:00\n")


def test_positions_of_values_keys_and_items() -> None:
    text = "# comment\nformat: 1\nsources:\n  irc:\n    citation: \"x\"\nlist:\n  - a\n  - {b: 2, c: [3, 4]}\n"
    doc = load_yaml_text(text, "p.yaml")
    assert doc.span(("format",)) == Span("p.yaml", 2, 9)
    assert doc.key_span(("format",)) == Span("p.yaml", 2, 1)
    assert doc.span(("sources", "irc", "citation")) == Span("p.yaml", 5, 15)
    assert doc.key_span(("sources", "irc", "citation")) == Span("p.yaml", 5, 5)
    assert doc.span(("list", 0)) == Span("p.yaml", 7, 5)
    assert doc.span(("list", 1, "b")) == Span("p.yaml", 8, 9)
    assert doc.span(("list", 1, "c", 1)) == Span("p.yaml", 8, 19)
    # A path with no node of its own falls back to its nearest ancestor.
    assert doc.span(("list", 1, "missing")) == Span("p.yaml", 8, 5)
    assert str(doc.span(("list", 1, "c", 1))) == "p.yaml:8:19"


def test_positions_in_json() -> None:
    doc = load_yaml_text('{\n  "a": [1,\n        {"b": "x"}]\n}\n', "s.json")
    assert doc.data == {"a": [1, {"b": "x"}]}
    assert doc.span(("a", 1, "b")) == Span("s.json", 3, 15)


def test_duplicate_key_names_both_lines() -> None:
    with pytest.raises(ParseError) as caught:
        load_yaml_text("a: 1\nb:\n  c: 1\n  c: 2\n", "f.yaml")
    assert str(caught.value) == "f.yaml:4:3: parse error: duplicate key 'c' (first at line 3)"


def test_alias_expansion_is_capped_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only values produced through an alias count: b repeats the list and its two items, 3 values.
    # (A large plain file never reaches the cap; a 'billion laughs' does at once.)
    text = "a: &x [1, 2]\nb: *x\n"
    monkeypatch.setattr(documents, "MAX_EXPANDED_NODES", 3)
    assert load(text) == {"a": [1, 2], "b": [1, 2]}
    monkeypatch.setattr(documents, "MAX_EXPANDED_NODES", 2)
    with pytest.raises(ParseError, match="expands to more than 2 values"):
        load(text)


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(ParseError) as caught:
        load("\n".join(levels) + "\n")  # 10**9 values if expanded
    assert "billion laughs" in str(caught.value)


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ParseError, match="recursive alias"):
        load("a: &a [1, *a]\n")


@pytest.mark.parametrize("text", ["a: !!python/object:os.system x\n", "a: !!binary aGk=\n", "a: !custom x\n",
                                  "a: !!set {x}\n", "a: !!int 0x1f\n", "a: !!float nan\n", "a: !!bool yes\n"])
def test_tags_are_refused_or_checked(text: str) -> None:
    with pytest.raises(ParseError):
        load(text)


def test_merge_key_is_refused() -> None:
    with pytest.raises(ParseError, match=r"merge keys \(<<\)"):
        load("a: &a {x: 1}\nb:\n  <<: *a\n  y: 2\n")


def test_utf8_bom_and_bad_bytes() -> None:
    assert decode_utf8(b"\xef\xbb\xbfa: 1\n", "f") == "a: 1\n"
    # Column 3 counts the characters before the bad byte ("x" and the two-byte "é"), not bytes.
    with pytest.raises(ParseError) as caught:
        decode_utf8("ab\nxé".encode("utf-8") + b"\xff\n", "f.yaml")
    assert str(caught.value).startswith("f.yaml:2:3: parse error: byte 0xff is not UTF-8")


def test_csv_rows_keep_their_physical_line() -> None:
    text = 'id,note\n1,"two\nlines"\n\n2,x\r\n3,"a, b"\n'
    rows = parse_csv_text(text, "t.csv", ["id"], ["note"])
    assert [(r.line, r.cells["id"]) for r in rows] == [(2, "1"), (5, "2"), (6, "3")]
    assert rows[0].cells["note"] == "two\nlines" and rows[2].cells["note"] == "a, b"
    assert str(rows[1].span("note")) == "t.csv:5: column 'note'"


def test_csv_header_errors() -> None:
    with pytest.raises(ParseError) as caught:
        parse_csv_text("id,nte\n1,x\n", "t.csv", ["id"], ["note"])
    assert str(caught.value) == "t.csv:1: column 'nte': parse error: unknown column 'nte'; did you mean 'note'? (expected one of id, note)"
    with pytest.raises(ParseError, match=r"t.csv:3: parse error: the row has 3 cells but the header has 2"):
        parse_csv_text("id,note\n1,x\n2,y,z\n", "t.csv", ["id"], ["note"])


def test_a_lazy_span_keeps_the_positions_not_the_data() -> None:
    """A JSON scenario's spans are found lazily; they must not keep its parsed rows alive (10,000 rows: 9 MB)."""
    import gc
    import pickle

    text = '{\n  "rows": [\n    {"id": "a"},\n    {"id": "b"}\n  ]\n}\n'
    document = load_yaml_text(text, "s.json")
    span = document.lazy_span(("rows", 1, "id"))
    data = document.data
    assert not any(referent is data for referent in gc.get_referents(span))
    assert all(referent is not data for referent in gc.get_referents(*gc.get_referents(span)))
    assert (span.file, span.line, span.col) == ("s.json", 4, 12)
    again = pickle.loads(pickle.dumps(document.lazy_span(("rows", 0))))
    assert str(again) == str(document.span(("rows", 0))) and again.line == 3
