"""Where packs come from: the bundled `jurisdictions/` folder, or paths the user gives.

`bundled_packs()` loads every pack shipped with taxpack (as package data, so an installed taxpack
works from any folder). `PackSet` is the set an evaluation uses: one pack per jurisdiction, plus the
treaty table, with their versions and hashes for the audit trail.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping

import attrs

from taxpack.engine.core.errors import SemanticError
from taxpack.engine.law.load import PACK_FILE, load_pack
from taxpack.engine.law.pack import Pack
from taxpack.engine.law.pack_cache import cached_packs


def bundled_root() -> Path:
    """The folder of the bundled packs (inside the installed package)."""
    return Path(str(resources.files("taxpack.jurisdictions")))


def bundled_paths() -> list[Path]:
    root = bundled_root()
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / PACK_FILE).is_file())


@lru_cache(maxsize=None)
def bundled_packs() -> tuple[Pack, ...]:
    """Every bundled pack, loaded and validated (once per content: engine/law/pack_cache.py)."""
    return cached_packs(bundled_paths(), lambda p: load_pack(p, shown_as=f"jurisdictions/{p.name}/{PACK_FILE}"),
                        Path(str(resources.files("taxpack.schemas"))))


@attrs.frozen
class PackSet:
    """The packs one evaluation uses: jurisdiction packs by country code, and the treaty tables."""

    packs: tuple[Pack, ...]
    _index: dict[str, Pack] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        index = {p.jurisdiction: p for p in self.packs if p.kind == "jurisdiction" and p.jurisdiction}
        object.__setattr__(self, "_index", index)  # a derived index, built once

    @property
    def by_jurisdiction(self) -> Mapping[str, Pack]:
        return self._index

    @property
    def treaties(self) -> tuple[Pack, ...]:
        return tuple(p for p in self.packs if p.kind == "treaties")

    def get(self, jurisdiction: str) -> Pack | None:
        return self._index.get(jurisdiction)

    def stamp(self) -> list[dict[str, str]]:
        """id, version and sha256 of every pack, sorted by id: the header of every output."""
        return [{"id": p.id, "version": p.version, "sha256": p.sha256} for p in sorted(self.packs, key=lambda p: p.id)]


def pack_set(paths: Iterable[Path | str] | None = None) -> PackSet:
    """The bundled packs, with any pack given by path replacing the bundled one of the same id."""
    chosen: dict[str, Pack] = {p.id: p for p in bundled_packs()}
    for path in paths or ():
        pack = load_pack(path)
        chosen[pack.id] = pack
    seen: dict[str, str] = {}
    for pack in chosen.values():
        if pack.kind == "jurisdiction" and pack.jurisdiction:
            if pack.jurisdiction in seen:
                raise SemanticError(f"two packs for {pack.jurisdiction}: {seen[pack.jurisdiction]} and {pack.id}", None)
            seen[pack.jurisdiction] = pack.id
    return PackSet(tuple(sorted(chosen.values(), key=lambda p: p.id)))


def find_bundled(pack_id: str) -> Pack | None:
    for pack in bundled_packs():
        if pack.id == pack_id or (pack.jurisdiction or "").lower() == pack_id.lower():
            return pack
    return None
