"""The wheel as a user installs it: built from a copy of the tree, installed in a fresh virtual environment
outside the checkout, and `taxpack pack test` passes every case there (issue 18: the pack tests' FX CSV
files were missing from the wheel and only a user noticed).

It runs by default and in CI (about 10 s: the build uses the machine's package index for setuptools, the
install its index and wheel cache for the dependencies). `TAXPACK_SKIP_WHEEL_TEST=1` skips it, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SKIP_ENV = "TAXPACK_SKIP_WHEEL_TEST"
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGE_DIRS = PYPROJECT["tool"]["setuptools"]["package-dir"]  # taxpack.engine -> engine, ...
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")

pytestmark = pytest.mark.skipif(os.environ.get(SKIP_ENV) == "1", reason=f"{SKIP_ENV}=1: the wheel is not built and installed")


def _clean_env() -> dict[str, str]:
    """The environment without the suite's PYTHONPATH (it points at the working tree) or an active venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode in (0, 1), f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a fresh venv holding only the wheel built from this tree and its dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    for folder in sorted(set(PACKAGE_DIRS.values())):
        shutil.copytree(REPO_ROOT / folder, source / folder, ignore=IGNORED)
    dist = root / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(dist), "-q"],
                           cwd=root, env=_clean_env(), capture_output=True, text=True, timeout=300, check=False)
    if built.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}")
    (wheel,) = dist.glob("taxpack-*.whl")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
                          cwd=root, env=_clean_env(), capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        pytest.fail(f"pip install of the wheel failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return bin_dir


def test_every_data_file_of_the_packs_and_schemas_is_in_the_wheel(installed: Path) -> None:
    wheel = next((installed.parent.parent / "dist").glob("taxpack-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    missing = []
    for package, folder in PACKAGE_DIRS.items():
        if package not in ("taxpack.jurisdictions", "taxpack.schemas"):
            continue
        for path in sorted((REPO_ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                inside = "/".join(package.split(".")) + "/" + path.relative_to(REPO_ROOT / folder).as_posix()
                if inside not in names:
                    missing.append(inside)
    assert missing == [], f"files the commands may read are not in the wheel: {missing}"


def test_installed_taxpack_runs_from_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    result = _run([str(installed / "python"), "-c", "import taxpack.engine, sys; print(taxpack.engine.__file__)"], tmp_path)
    where = Path(result.stdout.strip()).resolve()
    assert installed.parent.resolve() in where.parents and REPO_ROOT not in where.parents, where


def test_pack_test_passes_every_case_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """Every bundled pack's case passes, and they are the cases of the working tree (none left out)."""
    from taxpack.engine.law.registry import bundled_packs
    from taxpack.engine.packtests.cases import collect_cases

    result = _run([str(installed / "taxpack"), "pack", "test", "--format", "json"], tmp_path)
    cases = json.loads(result.stdout)
    failed = [(c["pack"], c["name"], c["failures"]) for c in cases if not c["ok"]]
    assert failed == [], failed
    assert result.returncode == 0
    in_tree = sorted((case.pack.id, case.name) for pack in bundled_packs() for case in collect_cases(pack))
    installed_cases = sorted((c["pack"].split("@")[0], c["name"]) for c in cases)
    assert installed_cases == in_tree
    text = _run([str(installed / "taxpack"), "pack", "test"], tmp_path)
    assert text.stdout.rstrip().endswith(f"{len(in_tree)} passed, 0 failed"), text.stdout[-500:]


def test_the_decision_record_renders_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """The record's template is package data (engine/report/templates): the installed command renders it."""
    wheel = next((installed.parent.parent / "dist").glob("taxpack-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    templates = sorted(p.name for p in (REPO_ROOT / "engine" / "report" / "templates").iterdir() if p.is_file())
    assert templates and all(f"taxpack/engine/report/templates/{name}" in names for name in templates)
    example = REPO_ROOT / "examples" / "household"
    for name in ("scenario.yaml", "dividends.yaml"):
        shutil.copy(example / name, tmp_path / name)
    result = _run([str(installed / "taxpack"), "check", "scenario.yaml", "--format", "html"], tmp_path)
    assert result.stdout.startswith("<!DOCTYPE html>") and "<title>Decision record: scenario.yaml as of 2026-03-02</title>" in result.stdout
