"""The suite tests the working tree, not an installed copy of taxpack.

`pip install '.[test]'` installs taxpack into site-packages; without this file, `import taxpack.engine`
would read that copy and an edit to `engine/` would go untested. `tests/tree/taxpack` is a package
whose path is this repository, so `taxpack.engine` is `./engine`. It is put first on sys.path and on
PYTHONPATH (commands and worker processes the tests start inherit it). The packs' pytest plugin is
loaded from here too (pyproject.toml disables the installed entry point for this suite).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_TREE = str(Path(__file__).resolve().parent / "tests" / "tree")
if sys.path[0] != _TREE:
    sys.path.insert(0, _TREE)
os.environ["PYTHONPATH"] = os.pathsep.join([_TREE] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
for _name in [m for m in sys.modules if m == "taxpack" or m.startswith("taxpack.")]:
    del sys.modules[_name]  # loaded from elsewhere before this file ran

pytest_plugins = ["taxpack.engine.packtests.pytest_plugin"]
