"""autograder/markers.py: nbgrader's solution and hidden-test markers, parsed in one place."""
from __future__ import annotations

import re
import sys

import pytest

from conftest import AUTOGRADER, REPO

sys.path.insert(0, str(AUTOGRADER))
import markers as M  # noqa: E402

CELL = """\
check(f)
### BEGIN HIDDEN TESTS
check(f, cases=[(7, 3, 11)])
    check(f)
### END HIDDEN TESTS
print("done")"""

SOLUTION_CELL = """\
def f(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION"""


def test_blocks_and_public_text():
    assert M.blocks(CELL, M.HIDDEN) == ["check(f, cases=[(7, 3, 11)])\n    check(f)"]
    assert M.public_text(CELL) == 'check(f)\nprint("done")'
    assert M.blocks(SOLUTION_CELL, M.SOLUTION) == ["    return 2 * x"]
    assert M.public_text(SOLUTION_CELL) == "def f(x):"
    assert M.blocks(SOLUTION_CELL, M.HIDDEN) == []


def test_an_unterminated_block_hides_the_rest_of_the_cell():
    src = "a = 1\n### BEGIN HIDDEN TESTS\nsecret_call(42)\nmore()"
    assert M.public_text(src) == "a = 1"
    assert M.replace_blocks(src, M.HIDDEN, "# hidden") == "a = 1\n# hidden"


def test_replace_blocks_keeps_the_indentation_of_the_marker():
    src = "def t():\n    x = 1\n    ### BEGIN HIDDEN TESTS\n    secret(3)\n    ### END HIDDEN TESTS\n    y = 2"
    assert M.replace_blocks(src, M.HIDDEN, "# (hidden)") == "def t():\n    x = 1\n    # (hidden)\n    y = 2"


def test_visible_lines_ignore_hidden_blocks_indentation_and_blank_lines():
    assert M.visible_lines(CELL) == ["check(f)", 'print("done")']
    assert M.visible_lines("  check(f)\n\n" + CELL.split("\n", 1)[1]) == M.visible_lines(CELL)


def test_secret_lines_are_long_and_not_shown_elsewhere():
    secrets = M.secret_lines([CELL, SOLUTION_CELL], M.HIDDEN, min_length=8)
    assert secrets == {"check(f, cases=[(7, 3, 11)])"}      # `check(f)` is public in the same cell
    assert M.secret_lines([CELL], M.HIDDEN, min_length=40) == set()
    assert M.secret_lines([SOLUTION_CELL], M.SOLUTION, min_length=5) == {"return 2 * x"}


def test_marker_lines_and_words():
    assert M.MARKER_LINES == ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
                              "### END HIDDEN TESTS")
    assert M.has_markers(CELL) == ["BEGIN HIDDEN TESTS", "END HIDDEN TESTS"]
    assert M.has_markers("print('ok')") == []
    with pytest.raises(ValueError, match="kind"):
        M.blocks(CELL, "TESTS")


def test_no_other_module_parses_the_markers_itself():
    """One parser: a regular expression over a marker anywhere else is a second one."""
    pattern = re.compile(r"re\.(compile|findall|sub|search|match)\(\s*r?[\"'][^\"']*(BEGIN|END) (HIDDEN|SOLUTION)")
    offenders = [str(p.relative_to(REPO)) for folder in ("autograder", "tests", "course/lib/backprop")
                 for p in sorted((REPO / folder).rglob("*.py"))
                 if p.name != "markers.py" and p.resolve() != __import__("pathlib").Path(__file__).resolve()
                 and pattern.search(p.read_text())]
    assert not offenders, f"parse the markers with autograder/markers.py instead: {offenders}"
