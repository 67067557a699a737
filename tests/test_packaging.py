"""The installed layout: every package listed, schemas valid and equal to what their generators write."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _code_packages() -> set[str]:
    """taxpack.<...> for every folder with an __init__.py under engine/ and cli/."""
    found = set()
    for top in ("engine", "cli"):
        for init in (REPO_ROOT / top).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            parts = init.parent.relative_to(REPO_ROOT).parts
            found.add(".".join(("taxpack",) + parts))
    return found


def test_every_code_package_is_listed() -> None:
    missing = sorted(_code_packages() - set(SETUPTOOLS["packages"]))
    assert missing == [], f"add {missing} to [tool.setuptools] packages in pyproject.toml, or they are not installed"


def test_every_listed_package_exists() -> None:
    package_dir = SETUPTOOLS["package-dir"]
    for name in SETUPTOOLS["packages"]:
        # The longest mapped prefix gives the folder; the rest of the dotted name is sub-folders.
        root = max((k for k in package_dir if name == k or name.startswith(k + ".")), key=len)
        rest = [part for part in name[len(root):].split(".") if part]
        folder = REPO_ROOT / package_dir[root] / Path(*rest)
        assert (folder / "__init__.py").is_file(), f"{name} is listed but {folder} has no __init__.py"


def test_one_installed_namespace() -> None:
    """Nothing called `engine` or `cli` lands at the top of site-packages: everything is under taxpack."""
    assert all(name.startswith("taxpack.") for name in SETUPTOOLS["packages"])
    assert all(k.startswith("taxpack.") for k in SETUPTOOLS["package-dir"])
    assert PYPROJECT["project"]["scripts"]["taxpack"] == "taxpack.cli.main:main"


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "schemas").glob("*.json")), ids=lambda p: p.name)
def test_schema_is_valid_json_schema(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("tool", ["gen_pack_schema.py", "gen_scenario_schema.py"])
def test_generated_schemas_are_committed(tool: str, tmp_path: Path) -> None:
    """Run the generator in a copy of the tree; every schema it writes must equal the committed one."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "schemas").mkdir()
    shutil.copy(REPO_ROOT / "tools" / tool, tmp_path / "tools" / tool)
    subprocess.run([sys.executable, str(tmp_path / "tools" / tool)], check=True, cwd=tmp_path, capture_output=True)
    written = sorted(p.name for p in (tmp_path / "schemas").glob("*.json"))
    assert written, f"{tool} wrote nothing"
    for name in written:
        generated = (tmp_path / "schemas" / name).read_text(encoding="utf-8")
        committed = (REPO_ROOT / "schemas" / name).read_text(encoding="utf-8")
        assert generated == committed, f"schemas/{name} is stale: run `python tools/{tool}` and commit the result"


def test_installed_schemas_are_the_repository_schemas() -> None:
    """The loader reads schemas as package data; they must be the files in schemas/."""
    from taxpack.engine.core.schemas import load_schema

    for path in (REPO_ROOT / "schemas").glob("*.schema.json"):
        assert load_schema(path.name.removesuffix(".schema.json")) == json.loads(path.read_text(encoding="utf-8"))


def test_the_installed_version_is_the_one_written_in_the_engine() -> None:
    """pyproject.toml reads the version from engine/__init__.py: the installed metadata and `taxpack --version` agree."""
    from importlib.metadata import version

    from taxpack.engine import __version__

    assert PYPROJECT["project"]["dynamic"] == ["version"] and "version" not in PYPROJECT["project"]
    assert version("taxpack") == __version__
