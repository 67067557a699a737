"""Reading user files into plain values with a position mark on every node.

Packs and scenarios are YAML (or JSON, which this reader also accepts). Every mapping key, list item
and scalar keeps the `Span` where it was written, so that a schema error found later, or a tax rule
that fires during evaluation, can point back to `file:line:col`.

The reader is deliberately stricter than PyYAML's default: numbers become `Decimal` or `int` straight
from their text (never through float), only `true`/`false` are booleans (so the country code `NO` stays
a string), dates are plain `YYYY-MM-DD`, and duplicate keys, non-standard tags, merge keys, alias bombs
and files that are not UTF-8 are refused with a message that says where.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import attrs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from taxpack.engine.core.errors import ParseError, Span

JsonPath = tuple[str | int, ...]

# A document may not expand (through aliases) to more nodes than this: stops "billion laughs" files.
MAX_EXPANDED_NODES = 200_000

_TAG_STR = "tag:yaml.org,2002:str"
_TAG_INT = "tag:yaml.org,2002:int"
_TAG_FLOAT = "tag:yaml.org,2002:float"
_TAG_BOOL = "tag:yaml.org,2002:bool"
_TAG_NULL = "tag:yaml.org,2002:null"
_TAG_DATE = "tag:yaml.org,2002:timestamp"
_TAG_MAP = "tag:yaml.org,2002:map"
_TAG_SEQ = "tag:yaml.org,2002:seq"
_TAG_MERGE = "tag:yaml.org,2002:merge"


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2-like implicit typing: no yes/no/on/off booleans, no octal or sexagesimal numbers."""


_Resolver.add_implicit_resolver(
    _TAG_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(_TAG_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))
_Resolver.add_implicit_resolver(
    _TAG_FLOAT,
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(_TAG_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(
    _TAG_DATE,
    re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9].*)?$"),
    list("0123456789"),
)
_Resolver.add_implicit_resolver(_TAG_MERGE, re.compile(r"^(?:<<)$"), ["<"])


class _Composer(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


try:  # libyaml's parser and composer, in C (PyYAML ships it on the usual platforms)
    from yaml._yaml import CParser as _CParser  # type: ignore[import-not-found]

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = object
    HAVE_LIBYAML = False


class _FastComposer(_CParser, _Resolver):  # type: ignore[misc, valid-type]
    """libyaml's composer with our resolver: the same nodes and marks, many times faster."""

    def __init__(self, stream: str) -> None:
        _CParser.__init__(self, stream)
        _Resolver.__init__(self)


@attrs.frozen
class Document:
    """A parsed file: its plain value and the span of every node, keyed by JSON path."""

    file: str
    data: Any
    positions: dict[JsonPath, Span] = attrs.field(eq=False, repr=False)

    def span(self, path: JsonPath | list[str | int] = ()) -> Span:
        """The span of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), Span(self.file, 1, 1))

    def key_span(self, path: JsonPath) -> Span:
        """The span of the key that introduces `path` (falls back to the value's span)."""
        return self.positions.get(("<key>",) + tuple(path), self.span(path))

    def lazy_span(self, path: JsonPath) -> "Span | LazySpan":
        """Like `span`, but for a JSON document whose positions are not computed yet, a span that
        finds its place only when it is shown (in an error): 10,000 rows need no positions to run."""
        positions = self.positions
        if isinstance(positions, _LazyPositions) and not positions.loaded:
            return LazySpan(self, tuple(path))
        return self.span(path)


class LazySpan:
    """A `Span` resolved on first use: same attributes, same text."""

    __slots__ = ("_document", "_path", "_span")

    def __init__(self, document: Document, path: JsonPath) -> None:
        self._document = document
        self._path = path
        self._span: Span | None = None

    def resolve(self) -> Span:
        if self._span is None:
            self._span = self._document.span(self._path)
        return self._span

    @property
    def file(self) -> str:
        return self._document.file

    @property
    def line(self) -> int | None:
        return self.resolve().line

    @property
    def col(self) -> int | None:
        return self.resolve().col

    @property
    def column(self) -> str | None:
        return self.resolve().column

    def __str__(self) -> str:
        return str(self.resolve())

    def __repr__(self) -> str:
        return repr(self.resolve())

    def __eq__(self, other: object) -> bool:
        return self.resolve() == (other.resolve() if isinstance(other, LazySpan) else other)

    def __hash__(self) -> int:
        return hash(self.resolve())


class _LazyPositions(Mapping[JsonPath, Span]):
    """The positions of a JSON document, found by the YAML composer only when a span is first asked for."""

    def __init__(self, text: str, shown: str) -> None:
        self._text = text
        self._shown = shown
        self._map: dict[JsonPath, Span] | None = None

    @property
    def loaded(self) -> bool:
        return self._map is not None

    def _positions(self) -> dict[JsonPath, Span]:
        if self._map is None:
            try:
                self._map = dict(_load_with_positions(self._text, self._shown).positions)
            except Exception:  # the JSON parser accepted it; positions are a courtesy, never a failure
                self._map = {(): Span(self._shown, 1, 1)}
            self._text = ""
        return self._map

    def __getitem__(self, key: JsonPath) -> Span:
        return self._positions()[key]

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(self._positions())

    def __len__(self) -> int:
        return len(self._positions())

    def __contains__(self, key: object) -> bool:
        return key in self._positions()


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """'; did you mean 'x'?' when `name` looks like a typo of one candidate, else ''."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close and close[0] != name else ""


def display_path(path: Path | str) -> str:
    """The path as the user should see it: relative to the working folder when it lies below it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def read_text(path: Path | str, shown_as: str | None = None) -> str:
    """Read a file as UTF-8 text; a byte that is not UTF-8 is an error with its line and column."""
    shown = shown_as or display_path(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ParseError("file not found", Span(shown)) from None
    except IsADirectoryError:
        raise ParseError("is a folder, not a file", Span(shown)) from None
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror}", Span(shown)) from None
    return decode_utf8(raw, shown)


def decode_utf8(raw: bytes, shown: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        # Everything before the bad byte is valid UTF-8: count characters, not bytes, for the column.
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1
        raise ParseError(
            f"byte 0x{raw[exc.start]:02x} is not UTF-8; the file was saved in another encoding", Span(shown, line, col),
            "UTF-8 text: save the file as UTF-8"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")  # the YAML path reports it with its place
    return result


def _json_constant(name: str) -> Any:
    raise ValueError(name)  # NaN and Infinity are not numbers here; the YAML path reports them


def load_yaml_text(text: str, shown: str) -> Document:
    """Parse one YAML (or JSON) document from text, keeping positions.

    A JSON document is read with the JSON parser (numbers as Decimal, duplicate keys refused) and its
    positions are found only if a span is needed; anything the JSON parser does not accept goes the
    YAML way, which gives the same values and explains errors with their place.
    """
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            data = json.loads(text, parse_float=Decimal, parse_constant=_json_constant, object_pairs_hook=_json_pairs)
        except (ValueError, RecursionError):
            pass
        else:
            return Document(shown, data, _LazyPositions(text, shown))
    return _load_with_positions(text, shown)


def _load_with_positions(text: str, shown: str) -> Document:
    """Parse with the YAML composer, recording the span of every node."""
    node = None
    fast_ok = False
    if HAVE_LIBYAML:
        try:
            node = _FastComposer(text).get_single_node()
            fast_ok = True
        except yaml.YAMLError:
            fast_ok = False  # the pure-Python parser below gives the error in our words
    composer = _Composer(text)
    try:
        if not fast_ok:
            node = composer.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(shown, mark.line + 1, mark.column + 1) if mark else Span(shown)
        language = "JSON" if shown.lower().endswith(".json") else "YAML"
        raise ParseError(f"invalid {language}: {_explain_yaml_error(exc)}", span) from None
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises marked errors for syntax
        raise ParseError(f"invalid YAML: {exc}", Span(shown)) from None
    positions: dict[JsonPath, Span] = {}
    if node is None:
        return Document(shown, None, {(): Span(shown, 1, 1)})
    builder = _Builder(shown, positions)
    data = builder.build(node, ())
    return Document(shown, data, positions)


# PyYAML names tokens and constructs in parser terms; a pack author reads these words instead.
_YAML_WORDS = {
    "'<stream end>'": "the end of the file",
    "<stream end>": "the end of the file",
    "<block end>": "the end of the indented block",
    "'<block mapping start>'": "a key indented differently from the keys above it",
    "'<block sequence start>'": "a list indented differently from the lines above it",
    "'<block entry>'": "a list item '-'",
    "'<scalar>'": "a value",
    "unexpected end of stream": "the end of the file",
}
_YAML_CONSTRUCTS = {
    "flow mapping": "the {...} mapping",
    "flow sequence": "the [...] list",
    "block mapping": "the mapping",
    "block collection": "the list or mapping",
    "quoted scalar": "the quoted text",
    "simple key": "the key",
    "plain scalar": "the value",
    "tag": "the tag",
    "anchor": "the anchor",
    "alias": "the alias",
}


def _explain_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem in plain words, with where the unfinished construct started and a hint."""
    problem = exc.problem or exc.context or "the text is not YAML"
    context = exc.context or ""
    if context == "expected a single document in the stream":
        return "the file holds more than one YAML document (a second one starts with '---'); a pack or a scenario is one document"
    if "found duplicate anchor" in context:
        return f"{context.split(';')[0]} (an anchor name may be used once)"
    for word, plain in _YAML_WORDS.items():
        problem = problem.replace(word, plain)
    if "'\\t'" in problem:
        return "a tab character where YAML expects spaces (indent with spaces, never tabs)"
    if problem == "mapping values are not allowed here":
        return ("a ':' followed by a space is not allowed here "
                "(check the indentation, or put a value that contains ': ' in quotes)")
    problem = problem.replace("found '?'", "found a key")
    if context.startswith("while ") and exc.context_mark is not None and exc.context_mark is not exc.problem_mark:
        construct = context.split(" a ", 1)[-1] if " a " in context else context
        name = _YAML_CONSTRUCTS.get(construct, construct)
        mark = exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        if problem == "found the end of the file":
            return f"the file ends before {name} that starts at {where} is closed"
        problem += f" (in {name} that starts at {where})"
    return problem


def load_yaml(path: Path | str, shown_as: str | None = None) -> Document:
    """Read and parse a YAML or JSON file, keeping positions."""
    shown = shown_as or display_path(path)
    return load_yaml_text(read_text(path, shown), shown)


class _Builder:
    """Turns a composed node graph into plain values, recording a span per path."""

    def __init__(self, file: str, positions: dict[JsonPath, Span]) -> None:
        self.file = file
        self.positions = positions
        self.count = 0  # values produced by following aliases (a node built a second time or more)
        self.built: set[int] = set()
        self.active: set[int] = set()

    def span_of(self, node: Node) -> Span:
        return Span(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: Node, path: JsonPath) -> Any:
        # Only repeats count: a large plain file (10,000 transactions) is fine, a 'billion laughs' is not.
        if id(node) in self.built:
            self.count += 1
        else:
            self.built.add(id(node))
        if self.count > MAX_EXPANDED_NODES:
            raise ParseError(
                f"the document expands to more than {MAX_EXPANDED_NODES:,} values once its aliases are followed",
                self.span_of(node),
                "a document whose aliases stay small; a 'billion laughs' file is refused",
            )
        if id(node) in self.active:
            raise ParseError("a recursive alias: the anchored node contains an alias to itself", self.span_of(node),
                             "a tree: an alias may repeat a node, not nest it inside itself")
        self.positions.setdefault(path, self.span_of(node))
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _TAG_SEQ:
                    raise self.bad_tag(node)
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                if node.tag != _TAG_MAP:
                    raise self.bad_tag(node)
                result: dict[str, Any] = {}
                for key_node, value_node in node.value:
                    if key_node.tag == _TAG_MERGE:
                        raise ParseError(
                            "merge keys (<<) are not supported; write the keys out", self.span_of(key_node)
                        )
                    key = self.scalar(key_node) if isinstance(key_node, ScalarNode) else None
                    if isinstance(key, dt.date):
                        key = key.isoformat()
                    elif isinstance(key, (int, Decimal)) and not isinstance(key, bool):
                        key = str(key)
                    if not isinstance(key, str):
                        raise ParseError("a mapping key must be a plain string", self.span_of(key_node))
                    if key in result:
                        first = self.positions.get(("<key>",) + path + (key,))
                        where = f" (first at line {first.line})" if first else ""
                        raise ParseError(f"duplicate key '{key}'{where}", self.span_of(key_node))
                    self.positions[("<key>",) + path + (key,)] = self.span_of(key_node)
                    result[key] = self.build(value_node, path + (key,))
                return result
        finally:
            self.active.discard(id(node))
        raise self.bad_tag(node)  # pragma: no cover

    def bad_tag(self, node: Node) -> ParseError:
        return ParseError(
            f"the tag '{_short_tag(node.tag)}' is not allowed",
            self.span_of(node),
            "plain YAML: text, numbers, true/false, dates, lists and mappings, without tags",
        )

    def scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == _TAG_STR:
            return text
        # Explicit tags (`!!int 0x1f`, `!!float nan`, `!!bool yes`) reach here with any text: check it.
        if tag == _TAG_INT:
            if not re.fullmatch(r"[-+]?[0-9]+", text):
                raise ParseError(f"'{text}' is not a whole number", self.span_of(node), "digits such as 42")
            return int(text)
        if tag == _TAG_FLOAT:
            try:
                number = Decimal(text)
                if not number.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                raise ParseError(f"'{text}' is not a number", self.span_of(node), "a decimal number such as 0.15") from None
            return number
        if tag == _TAG_BOOL:
            if text.lower() not in ("true", "false"):
                raise ParseError(f"'{text}' is not a boolean", self.span_of(node), "true or false")
            return text.lower() == "true"
        if tag == _TAG_NULL:
            if text not in ("", "~", "null", "Null", "NULL"):
                raise ParseError(f"'{text}' is not null", self.span_of(node), "null or ~")
            return None
        if tag == _TAG_DATE:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
                # A time of day or a one-digit month: law is dated by the day, written one way only.
                raise ParseError(f"'{text}' is not a date", self.span_of(node), "a date written YYYY-MM-DD, without a time")
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                raise ParseError(f"{text} is not a day of the calendar", self.span_of(node), "a real date, YYYY-MM-DD") from None
        raise self.bad_tag(node)


def _short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:python/object` is written `!!python/object` in a file: show it that way."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def to_json_types(value: Any) -> Any:
    """A copy with dates as ISO strings, for JSON Schema validation (Decimal stays a number)."""
    if isinstance(value, dict):
        return {k: to_json_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_types(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@attrs.frozen
class CsvRow:
    """One CSV data row: its physical line number (the header is line 1) and its cells by column."""

    file: str
    line: int
    cells: dict[str, str]

    def span(self, column: str | None = None) -> Span:
        return Span(self.file, self.line, None, column)


def read_csv(path: Path | str, required: list[str], optional: list[str] = (), shown_as: str | None = None) -> list[CsvRow]:  # type: ignore[assignment]
    """Read a CSV file with a header; unknown, missing or duplicate columns and ragged rows are errors."""
    shown = shown_as or display_path(path)
    text = read_text(path, shown)
    return parse_csv_text(text, shown, required, list(optional))


def parse_csv_text(text: str, shown: str, required: list[str], optional: list[str]) -> list[CsvRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ParseError("the CSV file is empty", Span(shown, 1), "a header row, then one row per entry") from None
    except csv.Error as exc:
        raise ParseError(f"invalid CSV: {exc}", Span(shown, 1)) from None
    header = [h.strip() for h in header]
    known = set(required) | set(optional)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ParseError(f"duplicate column '{name}'", Span(shown, 1, None, name), "each column once")
        seen.add(name)
        if name not in known:
            raise ParseError(
                f"unknown column '{name}'{did_you_mean(name, known)}", Span(shown, 1, None, name), "one of " + ", ".join(required + optional)
            )
    missing = [name for name in required if name not in seen]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise ParseError(f"missing column{'s' if len(missing) > 1 else ''} {names}", Span(shown, 1), "a header with " + ", ".join(required))
    rows: list[CsvRow] = []
    end = reader.line_num  # the physical line the previous record ended on
    try:
        for cells in _rows(reader):
            # A quoted cell may span lines: a row is where its record starts, not where it ends.
            line, end = end + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise ParseError(
                    f"the row has {len(cells)} cells but the header has {len(header)}",
                    Span(shown, line),
                    f"{len(header)} comma-separated cells",
                )
            rows.append(CsvRow(shown, line, {h: c.strip() for h, c in zip(header, cells)}))
    except csv.Error as exc:
        raise ParseError(f"invalid CSV: {exc}", Span(shown, reader.line_num)) from None
    return rows


def _rows(reader: Any) -> Iterator[list[str]]:
    yield from reader
