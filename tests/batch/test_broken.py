"""Broken households between good ones: each error in its own line, with its place; the others unaffected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from taxpack.engine.batch.jobs import Job
from taxpack.engine.batch.runner import run_batch
from taxpack.engine.core.documents import display_path
from taxpack.engine.law.registry import pack_set

from .helpers import jsonl, lines, oversold, small, uncovered_date, unknown_account


def _yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based number of the first line at or after line `start` that contains `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number > start and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


@pytest.fixture(scope="module")
def job() -> Job:
    return Job("check", pack_set(), detail="full")  # the lines' results are compared with `taxpack check`'s


def test_folder_with_broken_files_between_good_ones(tmp_path: Path, job: Job) -> None:
    folder = tmp_path / "households"
    folder.mkdir()
    good = [_yaml(folder / f"h{i:02d}-good.yaml", small(500 + i)) for i in range(0, 10, 2)]
    bad_yaml = folder / "h01-bad-yaml.yaml"
    bad_yaml.write_text("taxpack: 1\nas_of: 2026-03-02\ntaxpayers: [{id: p1, residence: CA\n", encoding="utf-8")
    account = _yaml(folder / "h03-unknown-account.yaml", unknown_account(600))
    sold = _yaml(folder / "h05-oversold.yaml", oversold(601))
    dated = _yaml(folder / "h07-uncovered-date.yaml", uncovered_date(602))
    (folder / "notes.txt").write_text("not a scenario: ignored", encoding="utf-8")

    out = tmp_path / "out.jsonl"
    summary = run_batch(job, folder, out, workers=2)
    records = lines(out)
    names = sorted(p.name for p in folder.glob("*.yaml"))
    assert [Path(r["source"]).name for r in records] == names  # input order: file names sorted
    by_name = {Path(r["source"]).name: r for r in records}
    assert summary.counts["error"] == 4 and summary.exit_code == 3
    for i, path in zip(range(0, 10, 2), good):
        assert by_name[path.name]["status"] in ("ok", "warnings")
        assert by_name[path.name]["household"] == f"household-{500 + i}"  # the scenario's id
        assert by_name[path.name]["result"]["scenario"] == display_path(path)

    def error(path: Path) -> dict:
        record = by_name[path.name]
        assert (record["status"], record["exit_code"]) == ("error", 3)
        assert "result" not in record
        return record["error"]

    # The unclosed flow mapping: the parser reaches the end of the file (line 4) still inside it.
    assert error(bad_yaml)["message"].startswith(f"{display_path(bad_yaml)}:4:1: parse error: invalid YAML")
    assert by_name[bad_yaml.name]["household"] == display_path(bad_yaml)  # no id could be read: the file names it

    text = account.read_text(encoding="utf-8")
    line = _line_of(text, "account: no-such-account")
    col = text.splitlines()[line - 1].index("no-such-account") + 1
    assert error(account)["message"].startswith(f"{display_path(account)}:{line}:{col}: error: trade 't0': unknown account 'no-such-account'")
    assert by_name[account.name]["household"] == "household-600"

    text = sold.read_text(encoding="utf-8")
    line = _line_of(text, "- id: big")
    assert error(sold)["message"].startswith(f"{display_path(sold)}:{line}:3: error: the sale of 1000000 exceeds")

    text = dated.read_text(encoding="utf-8")
    line = _line_of(text, "- id: t0", _line_of(text, "trades:"))
    message = error(dated)["message"]
    assert message.startswith(f"{display_path(dated)}:{line}:3: error: no pack covers 1990-01-02")

    # The good households are unaffected: their lines are the very bytes of a run without the broken ones.
    for path in (bad_yaml, account, sold, dated):
        path.unlink()
    alone = tmp_path / "alone.jsonl"
    run_batch(job, folder, alone, workers=1)
    good_lines = [x for x in out.read_text(encoding="utf-8").splitlines(keepends=True) if json.loads(x)["status"] != "error"]
    assert "".join(good_lines) == alone.read_text(encoding="utf-8")


def test_json_lines_with_broken_lines_between_good_ones(tmp_path: Path, job: Job) -> None:
    goods = [small(700 + i) for i in range(4)]
    broken_json = '{"taxpack": 1, "as_of": "2026-03-02", "taxpayers": [}'
    records: list = [goods[0], broken_json, goods[1], unknown_account(701), "", goods[2], oversold(702), uncovered_date(703), goods[3]]
    source = jsonl(tmp_path / "in.jsonl", records)
    raw_lines = source.read_text(encoding="utf-8").splitlines()
    shown = display_path(source)
    out = tmp_path / "out.jsonl"
    summary = run_batch(job, source, out, workers=2)
    result = lines(out)
    # The blank line is not a household; line numbers still count it.
    assert [r["source"] for r in result] == [f"{shown}:{n}" for n in (1, 2, 3, 4, 6, 7, 8, 9)]
    assert [r["status"] == "error" for r in result] == [False, True, False, True, False, True, True, False]
    assert summary.counts["error"] == 4

    col = broken_json.index("}") + 1  # the JSON parser stops at the stray brace
    assert result[1]["error"]["message"] == f"{shown}:2:{col}: parse error: invalid JSON: Expecting value (expected one scenario object per line, as JSON)"
    col = raw_lines[3].index('"no-such-account"') + 1
    assert result[3]["error"]["message"].startswith(f"{shown}:4:{col}: error: trade 't0': unknown account 'no-such-account'")
    col = raw_lines[6].index('{"id": "big"') + 1
    assert result[5]["error"]["message"].startswith(f"{shown}:7:{col}: error: the sale of 1000000 exceeds")
    col = raw_lines[7].index('{"id": "t0"') + 1
    assert result[6]["error"]["message"].startswith(f"{shown}:8:{col}: error: no pack covers 1990-01-02")
    for r in result:
        if r["status"] == "error":
            assert all(e["file"] == shown and e["line"] == int(r["source"].rsplit(":", 1)[1]) for e in r["error"]["errors"])

    # The good households' results equal those of a file holding only them (their own line numbers aside).
    alone = jsonl(tmp_path / "in-good.jsonl", goods)
    alone_out = tmp_path / "alone.jsonl"
    run_batch(job, alone, alone_out, workers=1)
    mixed_good = [r for r in result if r["status"] != "error"]
    expected = lines(alone_out)
    for got, want in zip(mixed_good, expected, strict=True):
        got["result"].pop("scenario"), want["result"].pop("scenario")
        assert (got["household"], got["status"], got["result"]) == (want["household"], want["status"], want["result"])


def test_an_unreadable_byte_is_that_households_error(tmp_path: Path, job: Job) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(json.dumps(small(1)).encode() + b"\n" + b'{"id": "caf\xe9"}\n' + json.dumps(small(2)).encode() + b"\n")
    out = tmp_path / "out.jsonl"
    run_batch(job, source, out, workers=1)
    result = lines(out)
    assert [r["status"] for r in result][1] == "error" and result[0]["status"] != "error" and result[2]["status"] != "error"
    # Line 2, and the column of the bad byte counted in characters: '{"id": "caf' is 11 characters.
    assert result[1]["error"]["message"].startswith(f"{display_path(source)}:2:12: parse error: byte 0xe9 is not UTF-8")
