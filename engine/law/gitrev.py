"""Packs as they were at a git revision: `jurisdictions/us@HEAD~1` read with `git show`, never checked out.

A reviewer compares the pack in a pull request with the pack on the main branch; the old side lives
only in git history. A folder pack at a revision is its `pack.yaml` plus `tests/*.yaml` of that
revision. Nothing in the work tree is touched.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

import attrs

from taxpack.engine.core.documents import decode_utf8
from taxpack.engine.core.errors import SemanticError, Span
from taxpack.engine.law.load import PACK_FILE, load_pack, load_pack_text
from taxpack.engine.law.pack import Pack


class GitError(SemanticError):
    """A revision or a path that git cannot give us."""


@attrs.frozen
class PackSpec:
    """A pack to load: a path in the work tree, or a path at a git revision (`rev` set)."""

    path: str
    rev: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path}@{self.rev}" if self.rev else self.path


def parse_spec(text: str) -> PackSpec:
    """`PATH` or `PATH@GITREV`. A path that exists as written wins (a folder may contain '@')."""
    if "@" in text and not Path(text).exists():
        path, rev = text.rsplit("@", 1)
        if not path or not rev:
            raise GitError(f"'{text}' is neither a pack path nor PATH@GITREV", Span(text), "a pack folder or file, or PATH@GITREV such as jurisdictions/us@HEAD~1")
        return PackSpec(path, rev)
    return PackSpec(text)


def load_spec(spec: PackSpec) -> Pack:
    if spec.rev is None:
        return load_pack(spec.path)
    return load_pack_at(spec.path, spec.rev)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (needed to read PATH@GITREV)") from None


def repo_root(path: Path) -> Path:
    """The top of the git work tree holding `path` (which may no longer exist in the work tree)."""
    probe = path if path.is_dir() else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    result = _git(probe, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise GitError(f"'{path}' is not inside a git repository, so it cannot be read at a revision", Span(str(path)))
    return Path(result.stdout.decode().strip())


def _relative(path: Path, root: Path) -> str:
    absolute = Path.cwd() / path if not path.is_absolute() else path
    # Resolve what exists (symlinks, ..) but keep a deleted tail as written.
    existing = absolute
    tail: list[str] = []
    while not existing.exists() and existing != existing.parent:
        tail.insert(0, existing.name)
        existing = existing.parent
    full = existing.resolve().joinpath(*tail)
    try:
        rel = full.relative_to(root.resolve())
    except ValueError:
        raise GitError(f"'{path}' is outside the git repository at {root}", Span(str(path))) from None
    return PurePosixPath(*rel.parts).as_posix() if rel.parts else "."


def verify_rev(root: Path, rev: str, label: str | None = None) -> str:
    """The commit id of `rev`, or an error naming the revision and the repository."""
    where = Span(label or rev)
    if rev.startswith("-"):
        raise GitError(f"'{rev}' is not a git revision", where, "a commit, branch, tag or expression such as HEAD~1")
    result = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if result.returncode != 0:
        raise GitError(f"unknown git revision '{rev}' in the repository at {root}", where,
                       "a commit, branch, tag or expression such as HEAD~1 or origin/main")
    return result.stdout.decode().strip()


def object_type(root: Path, commit: str, rel: str) -> str | None:
    """`tree`, `blob`, or None when `rel` does not exist at `commit`."""
    result = _git(root, "cat-file", "-t", f"{commit}:{rel}")
    return result.stdout.decode().strip() if result.returncode == 0 else None


def show(root: Path, commit: str, rel: str, shown: str) -> str:
    result = _git(root, "show", f"{commit}:{rel}")
    if result.returncode != 0:
        raise GitError(f"cannot read '{rel}' at {commit[:12]}: {result.stderr.decode().strip()}", Span(shown))
    return decode_utf8(result.stdout, shown)


def list_tree(root: Path, commit: str, rel: str) -> list[str]:
    """File names directly inside folder `rel` at `commit` (empty when the folder is absent)."""
    result = _git(root, "ls-tree", "--name-only", f"{commit}:{rel}")
    if result.returncode != 0:
        return []
    return sorted(line for line in result.stdout.decode().splitlines() if line)


def read_pack_texts(path: str, rev: str) -> tuple[str, str, list[tuple[str, str]]] | None:
    """(main text, shown name, [(test shown name, text)]) of the pack at `path` as of `rev`, or None
    when there was no pack there at that revision. An unknown revision is an error."""
    p = Path(path)
    root = repo_root(p)
    commit = verify_rev(root, rev, f"{path}@{rev}")
    rel = _relative(p, root)
    kind = object_type(root, commit, rel)
    if kind is None:
        return None
    shown_base = PurePosixPath(path.rstrip("/") or ".")
    if kind == "tree":
        main_rel = f"{rel}/{PACK_FILE}" if rel != "." else PACK_FILE
        if object_type(root, commit, main_rel) != "blob":
            return None
        shown = f"{shown_base / PACK_FILE}@{rev}"
        text = show(root, commit, main_rel, shown)
        tests_rel = f"{rel}/tests" if rel != "." else "tests"
        tests = []
        for name in list_tree(root, commit, tests_rel):
            if name.endswith(".yaml"):
                tshown = f"{shown_base / 'tests' / name}@{rev}"
                tests.append((tshown, show(root, commit, f"{tests_rel}/{name}", tshown)))
        return text, shown, tests
    shown = f"{shown_base}@{rev}"
    return show(root, commit, rel, shown), shown, []


def load_pack_at(path: str, rev: str) -> Pack:
    """The pack at `path` (folder or file) as it was at git revision `rev`."""
    texts = read_pack_texts(path, rev)
    if texts is None:
        raise GitError(f"there is no pack at '{path}' in revision {rev}", Span(f"{path}@{rev}"),
                       "a pack folder (with pack.yaml) or a pack file that exists at that revision")
    text, shown, tests = texts
    return load_pack_text(text, shown, tests)
