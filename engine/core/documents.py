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
import errno
import io
import json
import os
import re
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import attrs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from taxpack.engine.core.errors import ParseError, Span
from taxpack.engine.core.limits import (
    DATE_EXPECTED,
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MAX_FILE_BYTES,
    NUMBER_EXPECTED,
    date_problem,
    digits_problem,
    number_problem,
)

JsonPath = tuple[str | int, ...]

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
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    HAVE_LIBYAML = False
else:
    HAVE_LIBYAML = True

    class _FastComposer(_CParser, _Resolver):
        """libyaml's composer with our resolver: the same nodes and marks, many times faster."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Resolver.__init__(self)


@attrs.frozen
class Document:
    """A parsed file: its plain value and the span of every node, keyed by JSON path."""

    file: str
    data: Any
    positions: Mapping[JsonPath, Span] = attrs.field(eq=False, repr=False)

    def span(self, path: JsonPath | list[str | int] = ()) -> Span:
        """The span of `path`, or of its nearest ancestor that has one."""
        return _span_in(self.positions, self.file, tuple(path))

    def key_span(self, path: JsonPath) -> Span:
        """The span of the key that introduces `path` (falls back to the value's span)."""
        return self.positions.get(("<key>",) + tuple(path), self.span(path))

    def lazy_span(self, path: JsonPath) -> Span:
        """Like `span`, but for a JSON document whose positions are not computed yet, a span that
        finds its place only when it is shown (in an error): 10,000 rows need no positions to run."""
        positions = self.positions
        if isinstance(positions, _LazyPositions) and not positions.loaded:
            return LazySpan(self, tuple(path))
        return self.span(path)


class LazySpan(Span):
    """A `Span` resolved on first use: same attributes, same text.

    A subclass, so that it goes wherever a `Span` does; its fields are read from the span it resolves to
    (`Span` is frozen, hence `object.__setattr__` for its own slots)."""

    # The document's positions and file name, not the document: its parsed data (10,000 rows: 9 MB) can go
    # once the scenario is built, while every span can still find its place.
    __slots__ = ("_file", "_positions", "_path", "_span")
    _file: str
    _positions: Mapping[JsonPath, Span]
    _path: JsonPath
    _span: Span | None

    def __init__(self, document: Document, path: JsonPath) -> None:
        object.__setattr__(self, "_file", document.file)
        object.__setattr__(self, "_positions", document.positions)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_span", None)

    def resolve(self) -> Span:
        if self._span is None:
            object.__setattr__(self, "_span", _span_in(self._positions, self._file, self._path))
            assert self._span is not None
        return self._span

    def __reduce__(self) -> tuple[Any, tuple[str, Mapping[JsonPath, Span], JsonPath]]:
        # Span's (attrs) pickling copies its fields into the instance; this one is rebuilt from its positions.
        return (_lazy_span, (self._file, self._positions, self._path))

    @property
    def file(self) -> str:
        return self._file

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

    # Ordered as the span it resolves to, against spans lazy or not (Span orders only its own class).
    def __lt__(self, other: Span) -> bool:
        return self.resolve() < _resolved(other)

    def __le__(self, other: Span) -> bool:
        return self.resolve() <= _resolved(other)

    def __gt__(self, other: Span) -> bool:
        return self.resolve() > _resolved(other)

    def __ge__(self, other: Span) -> bool:
        return self.resolve() >= _resolved(other)


def _resolved(span: Span) -> Span:
    return span.resolve() if isinstance(span, LazySpan) else span


def _span_in(positions: Mapping[JsonPath, Span], file: str, path: JsonPath) -> Span:
    """The span of `path` in `positions`, or of its nearest ancestor that has one."""
    while path:
        if path in positions:
            return positions[path]
        path = path[:-1]
    return positions.get((), Span(file, 1, 1))


def _lazy_span(file: str, positions: Mapping[JsonPath, Span], path: JsonPath) -> LazySpan:
    """A `LazySpan` rebuilt from its pickled parts."""
    span = LazySpan.__new__(LazySpan)
    for name, value in (("_file", file), ("_positions", positions), ("_path", path), ("_span", None)):
        object.__setattr__(span, name, value)
    return span


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


def lazy_positions(text: str, shown: str) -> Mapping[JsonPath, Span]:
    """The positions of the document `text` (a file shown as `shown`), found only when a span is first asked for
    (the bundled packs' cache keeps no positions: engine/law/pack_cache.py)."""
    return _LazyPositions(text, shown)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """'; did you mean 'x'?' when `name` looks like a typo of one candidate, else ''."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.7)
    return f"; did you mean '{close[0]}'?" if close and close[0] != name else ""


def display_path(path: Path | str) -> str:
    """The path as the user should see it: relative to the working folder when it lies below it."""
    p = Path(path)
    try:
        # The folder resolved, the name kept: a link is shown by its own name, not by the file it leads to.
        real = p.resolve() if p.name in ("", ".", "..") else p.parent.resolve() / p.name
        return str(real.relative_to(Path.cwd().resolve()))
    except (ValueError, RuntimeError, OSError):  # outside the working folder, or a loop of links: as given
        return str(p)


def read_text(path: Path | str, shown_as: str | None = None) -> str:
    """Read a file as UTF-8 text; a byte that is not UTF-8 is an error with its line and column."""
    shown = shown_as or display_path(path)
    return decode_utf8(read_bytes(path, shown), shown)


def read_bytes(path: Path | str, shown: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (links followed); anything else is a `ParseError`.

    A device (`/dev/zero`), a named pipe (which would block), a socket or a folder is refused before a byte
    is read, and so is a file larger than the limit (a 30 GB file is never read into memory)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ParseError(_open_problem(Path(path), exc), Span(shown), _open_expected(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ParseError("is a folder, not a file", Span(shown), "a file")
        if not stat.S_ISREG(info.st_mode):
            raise ParseError(f"is not a regular file but {_file_kind(info.st_mode)}; taxpack reads files only",
                             Span(shown), "a regular file")
        if info.st_size > limit:
            raise ParseError(f"the file is {_size(info.st_size)}, more than the {_size(limit)} taxpack reads", Span(shown),
                             "a smaller file (limits: docs/errors.md)")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            try:
                chunk = os.read(fd, min(left, 1 << 20))
            except BlockingIOError:  # pragma: no cover - a regular file never blocks
                continue
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:  # the file grew while it was read
            raise ParseError(f"the file is more than the {_size(limit)} taxpack reads", Span(shown), "a smaller file (limits: docs/errors.md)")
        return b"".join(chunks)
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror}", Span(shown)) from None
    finally:
        os.close(fd)


def _open_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a loop of symbolic links"
    if exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"is a symbolic link to {os.readlink(path)}, which does not exist"
        return "file not found"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot read the file: permission denied"
    if exc.errno == errno.ENOTDIR:
        return "file not found (a folder on its path is a file)"
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return f"cannot read the file: {exc.strerror}"


def _open_expected(exc: OSError) -> str | None:
    return "a link that leads to a file" if exc.errno == errno.ELOOP else None


def _file_kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):,.0f} MiB"
    return f"{count:,} bytes"


# Byte-order marks of encodings that are not UTF-8: said by name (a UTF-16 file is common on Windows).
_OTHER_ENCODINGS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"), (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"))


def decode_utf8(raw: bytes, shown: str) -> str:
    for mark, name in _OTHER_ENCODINGS:
        if raw.startswith(mark):
            raise ParseError(f"the file is {name} text, not UTF-8", Span(shown, 1, 1), "UTF-8 text: save the file as UTF-8")
    nul = raw.find(b"\0")
    if nul >= 0:
        before = raw[:nul]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        hint = " (the file looks like UTF-16 or UTF-32 text)" if nul <= 3 or raw[nul - 1 : nul + 2].count(b"\0") > 1 else ""
        raise ParseError(f"a NUL byte (0x00): this is not a text file{hint}", Span(shown, line, col), "UTF-8 text: save the file as UTF-8")
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
            document = Document(shown, data, _LazyPositions(text, shown))
            _check_values(document, text)
            return document
    return _load_with_positions(text, shown)


def _check_values(document: Document, text: str) -> None:
    """The limits the YAML reader applies node by node, applied to a document the JSON parser read: nesting
    depth, the size of numbers, dates (text written YYYY-MM-DD) within range. A quick walk finds whether
    anything is wrong; only then a second walk keeps paths, to say where (no recursion in either)."""
    if not _any_problem(document.data):
        return
    stack: list[tuple[Any, JsonPath]] = [(document.data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            if len(path) >= MAX_DEPTH:
                raise _depth_error(text, document.file)
            stack.extend((v, path + (k,)) for k, v in value.items())
        elif isinstance(value, list):
            if len(path) >= MAX_DEPTH:
                raise _depth_error(text, document.file)
            stack.extend((v, path + (i,)) for i, v in enumerate(value))
        elif isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            problem = number_problem(value)
            if problem:
                raise ParseError(problem, document.span(path), NUMBER_EXPECTED)
        elif isinstance(value, str) and len(value) == 10 and _DATE_TEXT.fullmatch(value) and _date_text_problem(value):
            _check_date_text(value, document.span(path))  # the span only now: positions of a JSON file are found lazily


_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _scalar_problem(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return len(value) == 10 and _DATE_TEXT.fullmatch(value) is not None and _date_text_problem(value)
    if kind is Decimal or kind is int:
        return number_problem(value) is not None
    return False


def _any_problem(data: Any) -> bool:
    """Whether a value read by the JSON parser goes past a limit anywhere (no paths kept: the common case)."""
    if type(data) is not dict and type(data) is not list:
        return _scalar_problem(data)
    stack: list[tuple[Any, int]] = [(data, 0)]
    fine: set[str] = set()  # texts of 10 characters already seen to be no date out of range (dates repeat)
    while stack:
        value, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return True
        for item in (value.values() if type(value) is dict else value):
            kind = type(item)
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif kind is str:
                if len(item) == 10 and item not in fine:
                    if _DATE_TEXT.fullmatch(item) is not None and _date_text_problem(item):
                        return True
                    fine.add(item)
            elif (kind is Decimal or kind is int) and number_problem(item) is not None:
                return True
    return False


def _date_text_problem(text: str) -> bool:
    """Whether text written as a date is a real date outside the range (cheap: no span is computed)."""
    try:
        return date_problem(dt.date.fromisoformat(text)) is not None
    except ValueError:
        return False


def _check_date_text(text: str, span: Span) -> None:
    """Text written as a date must be a date taxpack can compute with (the calendar is checked where it is read)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return
    problem = date_problem(day)
    if problem:
        raise ParseError(problem, span, DATE_EXPECTED)


def _too_deep(span: Span) -> ParseError:
    return ParseError(f"lists and mappings are nested more than {MAX_DEPTH} levels deep here", span,
                      f"at most {MAX_DEPTH} levels of nesting")


def _depth_error(text: str, shown: str) -> ParseError:
    """The place where the document first nests deeper than the limit, found from the parser's events (no
    recursion: the composer itself ran out of stack on this document)."""
    depth = 0
    try:
        # The pure-Python parser: libyaml stops scanning at 1,000 levels, before it has said where level 65 is.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return _too_deep(Span(shown, mark.line + 1, mark.column + 1) if mark is not None else Span(shown, 1, 1))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return _too_deep(Span(shown, 1, 1))


def _reader_error(exc: yaml.reader.ReaderError, text: str, shown: str) -> ParseError:
    """A character YAML does not allow (a control character, a NUL): placed by its line and column."""
    position = max(0, min(exc.position, len(text)))
    before = text[:position]
    line = before.count("\n") + 1
    col = position - (before.rfind("\n") + 1) + 1
    char = exc.character
    code = f"U+{ord(char):04X}" if isinstance(char, str) else f"0x{char:02x}"
    return ParseError(f"the character {code} is not allowed in YAML (a control character)", Span(shown, line, col),
                      "printable text; remove the character or write it as an escape in a double-quoted string")


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
        except RecursionError:
            raise _depth_error(text, shown) from None
    try:
        composer = _Composer(text)
        if not fast_ok:
            node = composer.get_single_node()
    except RecursionError:
        raise _depth_error(text, shown) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, shown) from None
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
    try:
        data = builder.build(node, ())
    except RecursionError:  # pragma: no cover - the builder stops at MAX_DEPTH, far below the stack
        raise _depth_error(text, shown) from None
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
        if len(path) >= MAX_DEPTH:
            raise _too_deep(self.span_of(node))
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
            if len(text) == 10 and node.style and _DATE_TEXT.fullmatch(text):
                _check_date_text(text, self.span_of(node))  # a date in quotes is still a date where one is read
            return text
        # Explicit tags (`!!int 0x1f`, `!!float nan`, `!!bool yes`) reach here with any text: check it.
        if tag == _TAG_INT:
            if not re.fullmatch(r"[-+]?[0-9]+", text):
                raise ParseError(f"'{_cut(text)}' is not a whole number", self.span_of(node), "digits such as 42")
            problem = digits_problem(text)
            if problem:
                raise ParseError(problem, self.span_of(node), NUMBER_EXPECTED)
            return int(text)
        if tag == _TAG_FLOAT:
            try:
                number = Decimal(text)
                if not number.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                raise ParseError(f"'{_cut(text)}' is not a number", self.span_of(node), "a decimal number such as 0.15") from None
            problem = number_problem(number, text)
            if problem:
                raise ParseError(problem, self.span_of(node), NUMBER_EXPECTED)
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
                day = dt.date.fromisoformat(text)
            except ValueError:
                raise ParseError(f"{text} is not a day of the calendar", self.span_of(node), "a real date, YYYY-MM-DD") from None
            problem = date_problem(day)
            if problem:
                raise ParseError(problem, self.span_of(node), DATE_EXPECTED)
            return day
        raise self.bad_tag(node)


def _cut(text: str) -> str:
    """A value as written, cut in the middle when it is very long (an error message quotes it)."""
    return text if len(text) <= 60 else f"{text[:24]}...{text[-24:]}"


def _short_tag(tag: str) -> str:
    """`tag:yaml.org,2002:python/object` is written `!!python/object` in a file: show it that way."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


_JSON_AS_IS = frozenset({str, int, bool, float, Decimal, type(None)})  # exactly these types are copied as they are


def to_json_types(value: Any) -> Any:
    """A copy with dates as ISO strings, for JSON Schema validation (Decimal stays a number)."""
    kind = type(value)
    if kind is dict:  # the common cases first, without a call per plain value (10,000 rows: 100,000 values)
        return {k: v if type(v) in _JSON_AS_IS else to_json_types(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _JSON_AS_IS else to_json_types(v) for v in value]
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


def read_csv(path: Path | str, required: list[str], optional: Sequence[str] = (), shown_as: str | None = None) -> list[CsvRow]:
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
