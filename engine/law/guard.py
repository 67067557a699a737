"""The CI guard: a pack whose content changed needs a new version and a CHANGELOG.md line naming it.

Findings and audit records cite packs as `id@version` + sha256. If the content could change under
the same version, two records citing `us@0.2.0` could rest on different law. So, for every pack whose
content hash at GITREV differs from the work tree, the version must go up and CHANGELOG.md must gain
a line such as "Pack `us` 0.2.0: ..." since GITREV.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterable

import attrs

from taxpack.engine.core.documents import display_path, load_yaml_text
from taxpack.engine.core.errors import TaxpackError
from taxpack.engine.law.gitrev import read_pack_texts, repo_root, show, verify_rev
from taxpack.engine.law.load import load_pack, load_pack_text

CHANGELOG = "CHANGELOG.md"


@attrs.frozen
class GuardProblem:
    """A pack whose content changed since the revision without what a change needs."""

    path: str
    id: str
    old_version: str | None  # None: the pack is new since the revision
    new_version: str
    old_sha256: str | None
    new_sha256: str
    missing: tuple[str, ...]
    file: str = ""  # where to annotate (the pack file, at its `version:` line)
    line: int = 1


@attrs.frozen
class GuardResult:
    rev: str
    checked: tuple[str, ...]  # packs compared
    changed: tuple[str, ...]  # of which the content changed (with or without problems)
    problems: tuple[GuardProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self, fmt: str = "text") -> list[str]:
        """What `pack validate --since` prints: one block per failing pack, or one line when all is well."""
        out: list[str] = []
        for p in self.problems:
            old = f"{p.old_version} sha256 {p.old_sha256[:12] if p.old_sha256 else '?'}" if p.old_version else "absent"
            head = (f"{p.path}: pack `{p.id}` changed since {self.rev} "
                    f"(old: {old}; new: {p.new_version} sha256 {p.new_sha256[:12]})")
            if fmt == "github":
                out.append(f"::error file={p.file or p.path},line={p.line},title=taxpack pack guard::{head}: " + "; ".join(p.missing))
            else:
                out.append(head)
                out += [f"    missing: {m}" for m in p.missing]
        if self.ok and fmt != "github":
            out.append(f"since {self.rev}: {len(self.checked)} pack(s) compared, {len(self.changed)} changed, "
                       "each with a new version and a CHANGELOG.md line")
        return out


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _mentions(line: str, pack_id: str, version: str) -> bool:
    """Does a CHANGELOG line name this pack and this version? ("Pack `us` 0.2.0", "pack us 0.2.0")."""
    names_pack = re.search(rf"`{re.escape(pack_id)}`|\bpack\s+{re.escape(pack_id)}(?![\w.-])", line, re.IGNORECASE)
    names_version = re.search(rf"(?<![\d.]){re.escape(version)}(?!\.?\d)", line)
    return bool(names_pack and names_version)


def added_changelog_lines(root: Path, commit: str) -> list[str] | None:
    """Lines of CHANGELOG.md in the work tree that were not there at `commit` (None: not changed)."""
    path = root / CHANGELOG
    new_text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        old_text = show(root, commit, CHANGELOG, f"{CHANGELOG}@{commit[:12]}")
    except TaxpackError:
        old_text = ""
    if new_text == old_text:
        return None
    before = Counter(old_text.splitlines())
    added = []
    for line in new_text.splitlines():
        if before[line] > 0:
            before[line] -= 1
        else:
            added.append(line)
    return added


def _old_identity(path: Path, rev: str) -> tuple[str | None, str | None] | None:
    """(version, sha256) of the pack at `rev`; None when there was none. An old pack that no longer
    loads (the format moved on) still has a version; its hash is then of its raw content."""
    texts = read_pack_texts(str(path), rev)
    if texts is None:
        return None
    text, shown, tests = texts
    try:
        pack = load_pack_text(text, shown, tests)
        return pack.version, pack.sha256
    except TaxpackError:
        data = load_yaml_text(text, shown).data
        version = data.get("version") if isinstance(data, dict) else None
        return (str(version) if version is not None else None), None


def guard_since(rev: str, paths: Iterable[Path]) -> GuardResult:
    """Compare every pack among `paths` with itself at `rev` (paths that are not valid packs are left
    to validation)."""
    checked: list[str] = []
    changed: list[str] = []
    problems: list[GuardProblem] = []
    for path in paths:
        try:
            new = load_pack(path)
        except TaxpackError:
            continue  # not a pack, or an invalid one: validation reports it
        shown = display_path(path)
        root = repo_root(Path(path).resolve())
        commit = verify_rev(root, rev)
        checked.append(shown)
        old = _old_identity(Path(path), rev)
        old_version, old_sha = old if old is not None else (None, None)
        if old is not None and old_sha == new.sha256:
            continue
        changed.append(shown)
        missing: list[str] = []
        if old_version is not None:
            if old_version == new.version:
                missing.append(f"a new version: the content changed but the version is still {new.version}")
            else:
                try:
                    if _version_key(new.version) < _version_key(old_version):
                        missing.append(f"a higher version: {old_version} → {new.version} goes down")
                except ValueError:
                    pass
        added = added_changelog_lines(root, commit)
        shown_version = new.version if old_version is None or new.version != old_version else "NEW_VERSION"
        example = f"- Pack `{new.id}` {shown_version}: what changed and why"
        if added is None:
            missing.append(f"a CHANGELOG.md entry: CHANGELOG.md has not changed since {rev} (add a line such as \"{example}\")")
        elif not any(_mentions(line, new.id, new.version) for line in added):
            missing.append(f"a CHANGELOG.md line naming pack `{new.id}` and version {shown_version} among the lines added since {rev} "
                           f"(e.g. \"{example}\")")
        if missing:
            span = new.span(("version",))
            problems.append(GuardProblem(shown, new.id, old_version, new.version, old_sha, new.sha256, tuple(missing),
                                         span.file, span.line or 1))
    return GuardResult(rev, tuple(checked), tuple(changed), tuple(problems))
