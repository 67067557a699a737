"""The bundled packs, validated once: a cache of the loaded packs, reused while nothing it depends on changed.

Loading the bundled packs (parsing with positions, the schema, the semantic checks, the rule compiler)
takes about half a second; every command that evaluates a household needs all of them (their stamps head
every output). The packs loaded are kept in one file of the user's cache folder, named by a digest of
everything that decides them: each pack's files (bytes), the engine's loading code (`engine/core`,
`engine/law`) and the schemas (bytes), taxpack's and Python's versions. Any change to any of them gives a
new name, so a stale entry is never read; it is simply not found, and the packs are loaded and validated as
before (errors then come from the packs, as always). Positions are not stored: a pack's `file:line:col`
is found again from its text, when an error first asks for one.

Where: `$TAXPACK_CACHE_DIR`, else `$XDG_CACHE_HOME/taxpack`, else `~/.cache/taxpack`; `TAXPACK_CACHE_DIR=off`
turns the cache off. A cache file is read only when it and its folder belong to the user and nobody else may
write them; a file that cannot be read (truncated, another layout) is ignored and written again. Writing is
atomic (a temporary file renamed), and a folder that cannot be written only costs the time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Sequence

import attrs

from taxpack.engine.core.documents import Document, lazy_positions, read_text
from taxpack.engine.law.load import pack_files
from taxpack.engine.law.pack import Pack

FORMAT = b"taxpack pack cache 1"
KEEP = 8  # cache files kept (several checkouts or versions on one machine each have theirs)
_ENGINE = Path(__file__).resolve().parents[1]  # engine/: the loading code is engine/core and engine/law


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off."""
    given = os.environ.get("TAXPACK_CACHE_DIR")
    if given is not None:
        return None if given.strip().lower() in ("", "off", "0", "no", "none") else Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "taxpack"
    home = os.environ.get("HOME")
    return Path(home) / ".cache" / "taxpack" if home else None


def cached_packs(paths: Sequence[Path], load: Callable[[Path], Pack], schemas: Path) -> tuple[Pack, ...]:
    """The packs at `paths`, each as `load` gives it: from the cache when it holds exactly these files, else
    loaded (and then stored)."""
    folder = cache_dir()
    key = _key(paths, schemas) if folder is not None else None
    if folder is None or key is None:
        return tuple(load(p) for p in paths)
    file = folder / f"packs-{key}.pickle"
    packs = _read(file)
    if packs is not None and [p.path for p in packs] == [str(p) for p in paths]:
        return packs
    packs = tuple(load(p) for p in paths)
    if _key(paths, schemas) == key:  # nothing changed while they loaded: they are what the key names
        _write(folder, file, packs)
    return packs


def _key(paths: Sequence[Path], schemas: Path) -> str | None:
    """The digest naming the cache file; None when a pack's files cannot all be read as plain files."""
    digest = hashlib.sha256(FORMAT)
    digest.update(sys.version.encode())
    from taxpack.engine import __version__

    digest.update(__version__.encode())
    code = sorted((_ENGINE / "core").glob("*.py")) + sorted((_ENGINE / "law").glob("*.py")) + sorted(schemas.glob("*.json"))
    try:
        for file in code:
            _add(digest, file.name, file.read_bytes())
        for path in paths:
            main, tests = pack_files(path)
            for file in (main, *tests):
                if file.is_symlink():
                    return None  # the loader decides what a link may be: no cache
                _add(digest, str(file), file.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()[:40]


def _add(digest: "hashlib._Hash", name: str, data: bytes) -> None:
    digest.update(len(name).to_bytes(8, "big") + name.encode("utf-8", "surrogateescape"))
    digest.update(len(data).to_bytes(8, "big") + data)


def _private(path: Path) -> bool:
    """Owned by this user and writable by nobody else."""
    try:
        info = path.stat()
    except OSError:
        return False
    return (not hasattr(os, "getuid") or info.st_uid == os.getuid()) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(file: Path) -> tuple[Pack, ...] | None:
    if not file.is_file() or not _private(file.parent) or not _private(file):
        return None
    try:
        packs = pickle.loads(file.read_bytes())
    except Exception:  # noqa: BLE001 - a damaged or foreign cache file is only a miss
        return None
    if not isinstance(packs, tuple) or not all(isinstance(p, Pack) for p in packs):
        return None
    return packs


def _write(folder: Path, file: Path, packs: tuple[Pack, ...]) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return
        data = pickle.dumps(tuple(_without_positions(p) for p in packs), protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(prefix=".packs-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, file)
        except BaseException:
            os.unlink(tmp)
            raise
        old = sorted(folder.glob("packs-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in old[KEEP:]:
            stale.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return  # no cache this time; the packs are loaded


def _without_positions(pack: Pack) -> Pack:
    """The pack with its document's positions found again from the file's text when first asked for."""
    document: Document = pack.document
    try:
        text = read_text(pack_files(Path(pack.path))[0], document.file)
    except Exception:  # noqa: BLE001 - the file went away since it was loaded: keep the positions it had
        return pack
    return attrs.evolve(pack, document=attrs.evolve(document, positions=lazy_positions(text, document.file)))
