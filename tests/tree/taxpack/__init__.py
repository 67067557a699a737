"""The `taxpack` package of the working tree, for the test suite (never installed).

The installed package maps `taxpack.engine` to `engine/`, `taxpack.cli` to `cli/` and so on (see
pyproject.toml); the folder names are the sub-package names, so pointing this package's path at the
repository root gives the same modules, read from the checkout. The root conftest.py puts this folder
first on sys.path (and on PYTHONPATH, for commands the tests start), so an edit to `engine/` is what
the suite tests even after `pip install .`.
"""

from pathlib import Path

__path__ = [str(Path(__file__).resolve().parents[3])]
