"""The examples in docs/errors.md are real: each is a line of the .expected file it names."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_examples_are_copied_from_expected_files() -> None:
    text = (REPO_ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```\n(.*?)^```$", text, flags=re.S | re.M)
    examples = [line for block in blocks for line in block.splitlines() if line.startswith("tests/")]
    assert len(examples) >= 3
    for line in examples:
        case = Path(re.match(r"(tests/[^:]+)", line).group(1))
        expected = (REPO_ROOT / case).with_suffix(".expected")
        assert line in expected.read_text(encoding="utf-8").splitlines(), f"docs/errors.md: not in {expected}: {line}"
