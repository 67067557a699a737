"""Writing output files whole or not at all: a reader never sees half a file, and an interrupted run
leaves the previous file (or none) in place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from taxpack.engine.core.documents import display_path
from taxpack.engine.core.errors import SemanticError, Span


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SemanticError(f"cannot write {display_path(path)}: the folder {display_path(folder)} does not exist",
                            Span(display_path(path)), "a file in an existing folder")
    if path.is_dir():
        raise SemanticError(f"cannot write {display_path(path)}: it is a folder", Span(display_path(path)), "a file name")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
