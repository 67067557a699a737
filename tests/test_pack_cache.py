"""The cache of validated packs (engine/law/pack_cache.py): what it returns is what loading gives, a change to
anything it depends on is never answered from it, and a damaged or foreign cache file is only a miss."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from taxpack.engine.core.documents import Document
from taxpack.engine.law import pack_cache
from taxpack.engine.law.load import load_pack
from taxpack.engine.law.registry import bundled_paths

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def _copy_packs(tmp_path: Path, names: tuple[str, ...] = ("us", "ca")) -> list[Path]:
    by_name = {p.name: p for p in bundled_paths()}
    out = []
    for name in names:
        shutil.copytree(by_name[name], tmp_path / "packs" / name)
        out.append(tmp_path / "packs" / name)
    return out


def _load(calls: list[Path]):  # noqa: ANN202 - a loader that counts its calls
    def load(path: Path):  # noqa: ANN202
        calls.append(path)
        return load_pack(path)
    return load


def test_a_second_load_comes_from_the_cache_and_equals_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXPACK_CACHE_DIR", str(tmp_path / "cache"))
    paths = _copy_packs(tmp_path)
    calls: list[Path] = []
    first = pack_cache.cached_packs(paths, _load(calls), SCHEMAS)
    assert len(calls) == 2 and len(list((tmp_path / "cache").glob("packs-*.pickle"))) == 1
    second = pack_cache.cached_packs(paths, _load(calls), SCHEMAS)
    assert len(calls) == 2  # nothing loaded again
    for a, b in zip(first, second):
        assert (a.id, a.version, a.sha256, a.path) == (b.id, b.version, b.sha256, b.path)
        assert a.data == b.data and a.parameters == b.parameters and a.sections == b.sections
        # positions are found again from the text: the same file:line:col as the loaded document's
        for path in [("parameters",), ("capital_gains",), ("sources",), ("coverage", "to")]:
            assert str(a.span(path)) == str(b.span(path))


def test_a_changed_pack_file_is_loaded_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXPACK_CACHE_DIR", str(tmp_path / "cache"))
    paths = _copy_packs(tmp_path, ("us",))
    calls: list[Path] = []
    before = pack_cache.cached_packs(paths, _load(calls), SCHEMAS)[0]
    main = paths[0] / "pack.yaml"
    main.write_text(main.read_text(encoding="utf-8").replace(f"version: {before.version}", "version: 9.9.9", 1), encoding="utf-8")
    after = pack_cache.cached_packs(paths, _load(calls), SCHEMAS)[0]
    assert len(calls) == 2 and after.version == "9.9.9" and after.sha256 != before.sha256


def test_a_damaged_cache_file_is_a_miss_and_is_written_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXPACK_CACHE_DIR", str(tmp_path / "cache"))
    paths = _copy_packs(tmp_path, ("us",))
    calls: list[Path] = []
    pack_cache.cached_packs(paths, _load(calls), SCHEMAS)
    (file,) = (tmp_path / "cache").glob("packs-*.pickle")
    file.write_bytes(file.read_bytes()[:1000])
    again = pack_cache.cached_packs(paths, _load(calls), SCHEMAS)
    assert len(calls) == 2 and again[0].id == "us"
    assert pack_cache.cached_packs(paths, _load(calls), SCHEMAS)[0].id == "us" and len(calls) == 2


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_cache_others_may_write_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXPACK_CACHE_DIR", str(tmp_path / "cache"))
    paths = _copy_packs(tmp_path, ("us",))
    calls: list[Path] = []
    pack_cache.cached_packs(paths, _load(calls), SCHEMAS)
    (tmp_path / "cache").chmod(0o777)
    pack_cache.cached_packs(paths, _load(calls), SCHEMAS)
    assert len(calls) == 2


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXPACK_CACHE_DIR", "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    paths = _copy_packs(tmp_path, ("us",))
    calls: list[Path] = []
    pack_cache.cached_packs(paths, _load(calls), SCHEMAS)
    pack_cache.cached_packs(paths, _load(calls), SCHEMAS)
    assert len(calls) == 2 and not (tmp_path / ".cache").exists()


def test_an_error_in_a_cached_pack_still_points_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The document of a cached pack has its positions from the file's text, as a loaded one has."""
    monkeypatch.setenv("TAXPACK_CACHE_DIR", str(tmp_path / "cache"))
    paths = _copy_packs(tmp_path, ("us",))
    pack_cache.cached_packs(paths, load_pack, SCHEMAS)
    cached = pack_cache.cached_packs(paths, lambda p: pytest.fail("loaded again"), SCHEMAS)[0]
    assert isinstance(cached.document, Document)
    text = (paths[0] / "pack.yaml").read_text(encoding="utf-8").splitlines()
    span = cached.span(("coverage", "to"))
    assert span.line is not None and span.col is not None
    assert text[span.line - 1][span.col - 1:].startswith(cached.coverage_to.isoformat())
