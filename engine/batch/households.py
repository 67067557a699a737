"""The households of a batch: read from a folder or a JSON Lines file, each with its place, and the plan
request a household may carry beside its scenario.

Every span of a household points into the input (a JSON Lines household's line numbers are the input's),
so an error found anywhere in a worker says where it is in what the user wrote.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import stat
from decimal import Decimal
from pathlib import Path
from typing import IO, Callable, Iterator, Mapping

import attrs

from taxpack.engine.core.documents import (
    Document,
    JsonPath,
    _LazyPositions,
    decode_utf8,
    display_path,
    load_yaml,
    load_yaml_text,
    read_bytes,
)
from taxpack.engine.core.errors import ErrorList, ParseError, SchemaError, SemanticError, Span, TaxpackError
from taxpack.engine.core.files import named_file, same_file
from taxpack.engine.core.limits import MAX_FILE_BYTES

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


@attrs.frozen
class Item:
    """One household of the input, as text: what a worker needs and nothing it would have to read itself."""

    index: int  # 0-based position in the input
    source: str  # where it came from: "households/h001.yaml" or "households.jsonl:5"
    shown: str  # the file name its errors show
    line: int | None  # JSON Lines: the line number; a folder: None
    raw: bytes
    base: str  # the folder relative paths inside the scenario resolve against
    # A household that could not even be read (a folder named like a scenario, a device, a link to nowhere,
    # a file or a line over the size limit): its line is this error, placed at `shown` (and `line`).
    unreadable: str | None = None
    unreadable_expected: str | None = None


@attrs.frozen
class PlanRequest:
    """What `batch plan` asks of every household: raise `amount` in `account`, or meet `targets`."""

    amount: Decimal | None = None
    account: str | None = None
    targets: Document | None = None
    time_limit: float = 10.0
    gap: Decimal = Decimal(10)


INPUT_EXPECTED = "a folder of scenario files or a JSON Lines file with one scenario per line"


def scenario_files(folder: Path, exclude: Path | None = None) -> list[Path]:
    """Every household of a folder: each entry whose name ends in .yaml, .yml or .json (any case), sorted by
    name, whatever it is (a file, or a folder, a link to nowhere or a device, which become error lines):
    none is dropped without a word. Hidden entries (a leading '.') and `exclude`, the output, are not
    households."""
    try:
        entries = list(os.scandir(folder))
    except OSError as error:
        raise SemanticError(f"cannot list the folder {display_path(folder)}: {error.strerror}", Span(display_path(folder)), INPUT_EXPECTED) from None
    chosen = [Path(e.path) for e in entries if not e.name.startswith(".") and Path(e.name).suffix.lower() in SCENARIO_SUFFIXES]
    if exclude is not None:
        chosen = [p for p in chosen if not same_file(p, exclude)]
    return sorted(chosen, key=lambda p: p.name)


def other_files(folder: Path, exclude: tuple[Path, ...] = ()) -> list[str]:
    """The names of the folder's files that are not households (rates files, notes), to say that they were
    not run."""
    names = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith(".") or Path(entry.name).suffix.lower() in SCENARIO_SUFFIXES:
            continue
        if any(same_file(entry.path, x) for x in exclude):
            continue
        names.append(entry.name)
    return names


def _check_input(path: Path) -> None:
    shown = display_path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SemanticError(f"there is no {shown}", Span(shown), INPUT_EXPECTED) from None
    except OSError as error:
        problem = "is a loop of symbolic links" if error.errno == errno.ELOOP else f"cannot be read: {error.strerror}"
        raise SemanticError(f"INPUT {shown} {problem}", Span(shown), INPUT_EXPECTED) from None
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        raise SemanticError(f"INPUT {shown} is not a regular file nor a folder (a device, a pipe or a socket)", Span(shown), INPUT_EXPECTED)
    if stat.S_ISREG(info.st_mode):
        with open(path, "rb") as f:
            head = f.read(4)
        for mark, name in ((b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"), (b"\x00\x00\xfe\xff", "UTF-32")):
            if head.startswith(mark):
                raise SemanticError(f"INPUT {shown} is {name} text, not UTF-8", Span(shown, 1, 1), "JSON Lines in UTF-8: save the file as UTF-8")
        if b"\0" in head[:2]:
            raise SemanticError(f"INPUT {shown} holds NUL bytes at its start: it is not UTF-8 text (UTF-16?)", Span(shown, 1, 1),
                                "JSON Lines in UTF-8: save the file as UTF-8")


def count_items(path: Path, exclude: Path | None = None) -> int:
    """How many households `read_items` will give (for the progress bar's estimate of time left)."""
    _check_input(path)
    if path.is_dir():
        return len(scenario_files(path, exclude))
    with path.open("rb") as f:
        return sum(1 for _, raw in _lines(f) if raw is None or raw.strip())


def _lines(f: IO[bytes], limit: int = MAX_FILE_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """(number, line) for each line of a JSON Lines file, read in bounded pieces: a line longer than `limit`
    is given as None (and skipped to its end without being kept), so one endless line cannot fill memory."""
    number = 0
    while True:
        raw = f.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while True:  # the rest of the over-long line, read and dropped
                rest = f.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        yield number, raw


def read_items(path: Path, exclude: Path | None = None) -> Iterator[Item]:
    """The households of a folder (files sorted by name; `exclude`, the output, is not one of them) or of a
    JSON Lines file (blank lines skipped)."""
    _check_input(path)
    if path.is_dir():
        base = str(path.resolve())
        for index, file in enumerate(scenario_files(path, exclude)):
            shown = display_path(file)
            try:
                raw = read_bytes(file, shown)
            except ParseError as error:
                yield Item(index, shown, shown, None, b"", base, error.message, error.expected)
                continue
            yield Item(index, shown, shown, None, raw, base)
        return
    shown = display_path(path)
    base = str(path.resolve().parent)
    index = 0
    with path.open("rb") as f:
        for number, line in _lines(f):
            if line is None:
                yield Item(index, f"{shown}:{number}", shown, number, b"", base,
                           f"the line is longer than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the most taxpack reads as one household",
                           "one scenario object per line, each of at most 64 MiB")
                index += 1
                continue
            if not line.strip():
                continue
            yield Item(index, f"{shown}:{number}", shown, number, line.rstrip(b"\r\n"), base)
            index += 1


def household_document(item: Item) -> Document:
    """The household's document, every span pointing into the input (JSON Lines: the input's line)."""
    if item.unreadable is not None:
        raise ParseError(item.unreadable, Span(item.shown, item.line), item.unreadable_expected)
    if item.line is None:
        return load_yaml_text(decode_utf8(item.raw, item.shown), item.shown)
    try:
        text = decode_utf8(item.raw, item.shown)
        try:
            json.loads(text)  # strict JSON first: a line of YAML is not a JSON Lines record
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg}", Span(item.shown, 1, exc.colno),
                             "one scenario object per line, as JSON") from None
        except (ValueError, RecursionError):
            pass  # JSON that goes past a limit (nesting, a 5,000-digit number): the reader below says where
        document = load_yaml_text(text, item.shown)
    except ParseError as error:  # read alone, the line is line 1 of itself: place it in the input
        span = error.span
        raise ParseError(error.message, Span(item.shown, item.line, span.col if span else None), error.expected) from None
    return Document(document.file, document.data, _derived(document.positions, functools.partial(_on_line, item.line)))


def _on_line(line: int, positions: Mapping[JsonPath, Span]) -> dict[JsonPath, Span]:
    """A JSON Lines household's spans, on its line of the input (read alone, it was line 1 of itself)."""
    return {key: attrs.evolve(span, line=line) for key, span in positions.items()}


class _Derived(_LazyPositions):
    """Positions made from another document's lazy positions when a span is first asked for (a household's
    line: its spans moved to the input's line; a part of it: its paths). Most households raise no error, and
    finding every node's place costs more than checking them: they never pay it."""

    def __init__(self, base: Mapping[JsonPath, Span], make: Callable[[Mapping[JsonPath, Span]], dict[JsonPath, Span]], shown: str) -> None:
        super().__init__("", shown)
        self._base: Mapping[JsonPath, Span] | None = base
        self._make = make

    def _positions(self) -> dict[JsonPath, Span]:
        if self._map is None:
            assert self._base is not None
            self._map = self._make(self._base)
            self._base = None
        return self._map


def _derived(base: Mapping[JsonPath, Span], make: Callable[[Mapping[JsonPath, Span]], dict[JsonPath, Span]]) -> Mapping[JsonPath, Span]:
    """`make(base)`, made only when needed if `base` is itself still to be found (JSON: see core/documents.py)."""
    if isinstance(base, _LazyPositions) and not base.loaded:
        return _Derived(base, make, "")
    return make(base)


# A household may carry its own plan request: {scenario: {...}, plan: {raise: 5000, account: ID}} or
# {scenario: {...}, plan: {targets: {...} or FILE}}; `batch check` reads the scenario and ignores the plan.
ENVELOPE_KEYS = ("scenario", "plan")
PLAN_KEYS = ("raise", "account", "targets", "time_limit", "gap")
PLAN_EXPECTED = "raise: AMOUNT with account: ID, and/or targets: a targets mapping or FILE (see docs/batch.md)"


def sub_document(document: Document, key: str) -> Document:
    """The part of `document` under `key`, keeping every span (a document of its own, as if it were a file)."""
    return Document(document.file, document.data[key], _derived(document.positions, functools.partial(_part, key)))


def _part(key: str, whole: Mapping[JsonPath, Span]) -> dict[JsonPath, Span]:
    positions: dict[JsonPath, Span] = {}
    for path, span in whole.items():
        if path[:1] == (key,):
            positions[path[1:]] = span
        elif path[:2] == ("<key>", key) and len(path) > 2:
            positions[("<key>",) + path[2:]] = span
    return positions


def split_household(document: Document) -> tuple[Document, Document | None]:
    """The scenario's document and the household's own plan request (None: the command line's)."""
    data = document.data
    if not (isinstance(data, dict) and "scenario" in data):
        return document, None
    unknown = sorted(str(k) for k in data if k not in ENVELOPE_KEYS)
    if unknown:
        raise SchemaError(f"unknown key '{unknown[0]}' beside `scenario`", document.key_span((unknown[0],)),
                          "scenario: the household, and plan: its plan request")
    return sub_document(document, "scenario"), (sub_document(document, "plan") if "plan" in data else None)


def household_request(document: Document | None, default: PlanRequest | None, base: Path) -> PlanRequest:
    """The household's plan request, or the command line's; every mistake placed in the household's text."""
    default = default or PlanRequest()
    if document is None:
        if default.amount is None and default.targets is None:
            raise SemanticError("nothing to plan", None, "--raise AMOUNT --account ID or --targets FILE, or a `plan:` beside the household's `scenario:`")
        return default
    raw = document.data
    if not isinstance(raw, dict):
        raise SchemaError("`plan` is not a mapping", document.span(), PLAN_EXPECTED)
    errors: list[TaxpackError] = []
    for key in sorted(str(k) for k in raw if k not in PLAN_KEYS):
        errors.append(SchemaError(f"unknown key '{key}' in `plan`", document.key_span((key,)), "one of " + ", ".join(PLAN_KEYS)))
    if ("raise" in raw) != ("account" in raw):
        errors.append(SemanticError("`raise` and `account` go together", document.span(), "raise: AMOUNT with account: ID"))
    if "raise" not in raw and "targets" not in raw:
        errors.append(SemanticError("nothing to plan", document.span(), PLAN_EXPECTED))
    amount = _plan_number(document, "raise", errors, positive=True)
    gap = _plan_number(document, "gap", errors)
    limit = _plan_number(document, "time_limit", errors, positive=True)
    account = raw.get("account")
    if account is not None and not isinstance(account, str):
        errors.append(SchemaError("`account` is not an account id", document.span(("account",)), "the id of an account of the household"))
    targets = None
    if "targets" in raw:
        if isinstance(raw["targets"], str):
            try:
                path = named_file(raw["targets"], base, [base], "targets file", document.span(("targets",)), "a targets file", "the input's folder")
                targets = load_yaml(path)
            except TaxpackError as error:
                errors.append(error)
        elif isinstance(raw["targets"], dict):
            targets = sub_document(document, "targets")
        else:
            errors.append(SchemaError("`targets` is neither a mapping nor a file name", document.span(("targets",)), PLAN_EXPECTED))
    if errors:
        raise ErrorList(errors)
    return PlanRequest(amount, account, targets, float(limit) if limit is not None else default.time_limit,  # seconds, not money: the float the solver takes
                       gap if gap is not None else default.gap)


def _plan_number(document: Document, key: str, errors: list[TaxpackError], positive: bool = False) -> Decimal | None:
    value = document.data.get(key)
    if value is None:
        return None
    number: Decimal | None = None
    if isinstance(value, (Decimal, int, str)) and not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip())  # the reader gives decimals as Decimal, never float
        except ArithmeticError:
            number = None
    if number is None or not number.is_finite() or number < 0 or (positive and number == 0):
        errors.append(SchemaError(f"`{key}` is {value!r}", document.span((key,)), "a positive decimal number" if positive else "a decimal number of at least 0"))
        return None
    return number
