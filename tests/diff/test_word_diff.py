"""Word-level highlighting of changed text in `taxpack pack diff` (issue 18, item 7).

Properties: each side, its marks removed, is exactly its text; the unmarked words of the two sides are
the same words in the same order; a word only one side has is marked on that side. Examples: a citation
amended in the middle, a description longer than the 160 characters structures are cut at.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from taxpack.engine.report.diff_formats import MARKDOWN_MARKS, shown_pair, word_sides
from tests.expected import REPO_ROOT, run_cli

WORDS = st.lists(st.sampled_from(["the", "rate", "is", "0.30", "s.9", "(2)", "Act", "2024", "-", "loss"]), min_size=2, max_size=12)


@given(WORDS, WORDS)
def test_each_side_is_its_text_and_the_unmarked_words_agree(a: list[str], b: list[str]) -> None:
    old, new = " ".join(a), " ".join(b)
    sides = word_sides(old, new)
    if old == new:
        assert sides is None
        return
    assert sides is not None
    left, right = sides
    assert "".join(t for _, t in left) == old and "".join(t for _, t in right) == new
    kept_left = " ".join(t for changed, t in left if not changed).split()
    kept_right = " ".join(t for changed, t in right if not changed).split()
    assert kept_left == kept_right
    # Words marked on the left are missing from the right's unmarked words at that place, and the marked
    # words plus the kept ones are all the words.
    assert sorted(" ".join(t for _, t in left).split()) == sorted(a)
    assert all(t.strip() == t and t for changed, t in left + right if changed)


def test_a_citation_amended_in_the_middle() -> None:
    old = "Test Act 2024 s.9 - loss on a sale followed by a repurchase"
    new = "Test Act 2024 s.9(2) as amended by the Finance Act 2025 - loss on a sale followed by a repurchase"
    assert shown_pair(old, new) == (
        "Test Act 2024 [-s.9-] - loss on a sale followed by a repurchase",
        "Test Act 2024 {+s.9(2) as amended by the Finance Act 2025+} - loss on a sale followed by a repurchase",
    )
    assert shown_pair(old, new, MARKDOWN_MARKS)[1] == (
        "Test Act 2024 **s.9(2) as amended by the Finance Act 2025** - loss on a sale followed by a repurchase")


def test_single_words_and_numbers_are_shown_whole() -> None:
    assert word_sides("fifo", "lifo") is None
    assert shown_pair(30, 61) == ("30", "61")


def test_long_changed_text_is_shown_whole(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    pair = REPO_ROOT / "tests" / "diff" / "pairs" / "rich"
    long_old = "Proceeds above which a sale is reported " + "to the authority under the reporting rules " * 6
    long_new = long_old.replace("reported", "declared", 1)
    for name, text in (("old.yaml", long_old), ("new.yaml", long_new)):
        source = (pair / name).read_text(encoding="utf-8")
        source = re.sub(r"(\n  capital_gains\.rate:\n    description: )[^\n]*", lambda m, text=text: m.group(1) + f'"{text}"', source, count=1)
        (tmp_path / name).write_text(source, encoding="utf-8")
    result = run_cli("pack", "diff", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml"))
    assert len(long_old) > 200
    (line,) = [line for line in result.output.splitlines() if "description:" in line]
    assert "[-reported-]" in line and "{+declared+}" in line and "…" not in line
    assert line.count("under the reporting rules") == 12
