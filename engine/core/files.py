"""Files taxpack writes and files an input names.

Outputs (`--record`, `--summary`, `--plot`, `--orders`) are written whole or not at all: a reader never
sees half a file, and an interrupted run leaves the previous file (or none) in place. Each is checked
before the run (`check_output`): its folder exists and can be written, it is not a folder, and it is not
one of the run's inputs under another name.

A file that a scenario or a pack names (`fx: {rates: FILE}`, a pack test's `scenario: FILE`) is found by
`named_file`: relative to the naming file, links followed, and only inside the folders the user gave
(the naming file's own folder, or one passed explicitly); a regular file, never a device.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from taxpack.engine.core.documents import display_path
from taxpack.engine.core.errors import SemanticError, Span


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it over `path`.

    A folder that does not exist, a path that is a folder, or a folder that cannot be written is an input
    error (exit 3) naming the path, never a traceback."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    shown = display_path(path)
    if not folder.is_dir():
        raise SemanticError(f"cannot write {shown}: the folder {display_path(folder)} does not exist",
                            Span(shown), "a file in an existing folder")
    if path.is_dir():
        raise SemanticError(f"cannot write {shown}: it is a folder", Span(shown), "a file name")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise SemanticError(f"cannot write {shown}: {_reason(error)}", Span(shown), "a file in a folder you can write") from None
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise SemanticError(f"cannot write {shown}: {_reason(error)}", Span(shown), "a file in a folder you can write") from None
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _reason(error: OSError) -> str:
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    if error.errno == errno.ENOSPC:
        return "no space left on the disk"
    return error.strerror or type(error).__name__


def same_file(a: Path | str, b: Path | str) -> bool:
    """Whether two paths name the same file (links and `..` followed; a path that does not exist is no file)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        try:  # one of them does not exist (yet): the same name once links and `..` are resolved
            return Path(a).resolve() == Path(b).resolve()
        except (OSError, RuntimeError):
            return False


def check_output(path: Path, option: str, inputs: Iterable[tuple[str, Path | str | None]] = ()) -> None:
    """Before a run: `path` (given with `option`) can be written, and is none of `inputs` ((what, path) pairs).

    A mistake here is said before the work, not after it: a missing folder, a folder given as a file, an
    output that would overwrite the scenario it was computed from."""
    path = Path(path)
    shown = display_path(path)
    for what, other in inputs:
        if other is not None and same_file(path, other):
            raise SemanticError(f"{option} {shown} is also {what}: writing it would overwrite that input", Span(shown),
                                f"another file for {option}")
    if path.is_dir():
        raise SemanticError(f"{option} {shown} is a folder", Span(shown), f"a file name for {option}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SemanticError(f"cannot write {option} {shown}: the folder {display_path(folder)} does not exist", Span(shown),
                            "a file in an existing folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SemanticError(f"cannot write {option} {shown}: the folder {display_path(folder)} cannot be written", Span(shown),
                            "a file in a folder you can write")
    if path.exists() and not path.is_file():
        raise SemanticError(f"{option} {shown} is not a regular file", Span(shown), "a file name")


def named_file(name: str, base: Path, roots: Sequence[Path], what: str, span: Span | None, form: str, namer: str) -> Path:
    """The file an input names: `name` relative to `base` (the folder of `namer`, the file that names it),
    links followed; it must be a regular file inside one of `roots`. `what` names it in messages ("fx rates
    file"), `form` says what it holds. Errors say where the name is written and never read or quote the
    file they refuse."""
    expected = f"{form}; the path is relative to {namer}"
    if not name or "\0" in name:
        raise SemanticError(f"{what} '{name}' is not a file name", span, expected)
    candidate = base / name
    try:
        real = candidate.resolve(strict=True)
    except FileNotFoundError:
        raise SemanticError(f"{what} '{name}' not found: there is no {display_path(candidate)}", span, expected) from None
    except (RuntimeError, OSError) as error:  # a loop of links (RuntimeError before Python 3.13), a name too long
        problem = "is a loop of symbolic links" if isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP else _reason(error)
        raise SemanticError(f"{what} '{name}' {problem}", span, expected) from None
    allowed = []
    for root in roots:
        try:
            allowed.append(Path(root).resolve(strict=True))
        except (OSError, RuntimeError):
            continue
    if not any(real == root or root in real.parents for root in allowed):
        where = " or ".join(display_path(r) for r in allowed) or "the folder of the file that names it"
        raise SemanticError(f"{what} '{name}' leads outside {where}: taxpack reads the files an input names only there "
                            "and in folders given with --data-dir", span, f"{form} in the folder of {namer} or below it")
    if real.is_dir():
        raise SemanticError(f"{what} '{name}' is a folder, not a file", span, expected)
    if not real.is_file():
        raise SemanticError(f"{what} '{name}' is not a regular file (a device, a pipe or a socket)", span, expected)
    return real
