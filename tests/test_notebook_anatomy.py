"""The anatomy of every exercise in solutions/: one check, called from two cells, defined nowhere else.

- no function or class is defined in more than one code cell of a notebook;
- a graded cell is short: at most 15 lines that are not data (a multi-line list of cases is data);
- every code exercise (a solution cell) is followed by a visible, locked, ungraded check cell and
  then by its locked graded cell, and the check cell does not define anything.
"""
from __future__ import annotations

import ast
import re
from collections import defaultdict

import pytest

from conftest import nbgrader_meta, notebook_text, read_notebook, solution_notebooks

NOTEBOOKS = solution_notebooks()
MAX_GRADED_LINES = 15


def python_source(cell) -> str:
    """The cell's code without IPython magics and shell escapes (which ast cannot read)."""
    return "\n".join("" if re.match(r"\s*[%!]", line) else line for line in notebook_text(cell).splitlines())


def definitions(cell) -> list[str]:
    tree = ast.parse(python_source(cell))
    return [node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


def code_lines(cell) -> int:
    """Non-blank, non-comment lines, not counting the inner lines of multi-line literals (data)."""
    source = python_source(cell)
    data = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.Set)) and node.end_lineno > node.lineno:
            data.update(range(node.lineno + 1, node.end_lineno + 1))
    return sum(1 for i, line in enumerate(source.splitlines(), start=1)
               if line.strip() and not line.strip().startswith("#") and i not in data)


@pytest.mark.parametrize("assignment, path", NOTEBOOKS, ids=[a for a, _ in NOTEBOOKS])
def test_nothing_defined_twice(assignment, path):
    where = defaultdict(list)
    for cell in read_notebook(path)["cells"]:
        if cell["cell_type"] == "code":
            for name in set(definitions(cell)):
                where[name].append(cell.get("id"))
    twice = {name: cells for name, cells in where.items() if len(cells) > 1}
    assert not twice, f"{assignment}: defined in more than one cell: {twice}"


@pytest.mark.parametrize("assignment, path", NOTEBOOKS, ids=[a for a, _ in NOTEBOOKS])
def test_graded_cells_are_short(assignment, path):
    long = {nbgrader_meta(c)["grade_id"]: code_lines(c) for c in read_notebook(path)["cells"]
            if c["cell_type"] == "code" and nbgrader_meta(c).get("grade") and code_lines(c) > MAX_GRADED_LINES}
    assert not long, f"{assignment}: graded cells over {MAX_GRADED_LINES} lines of code: {long}"


@pytest.mark.parametrize("assignment, path", NOTEBOOKS, ids=[a for a, _ in NOTEBOOKS])
def test_every_exercise_has_a_check_then_a_graded_cell(assignment, path):
    code = [c for c in read_notebook(path)["cells"] if c["cell_type"] == "code"]
    problems = []
    for i, cell in enumerate(code):
        if not nbgrader_meta(cell).get("solution"):
            continue
        name = nbgrader_meta(cell)["grade_id"]
        following = [nbgrader_meta(c) for c in code[i + 1:]]
        checks = [m for m in following[:3] if m.get("grade_id", "").startswith("check_")]
        graded = next((j for j, m in enumerate(following) if m.get("grade")), None)
        check_at = next((j for j, m in enumerate(following) if m.get("grade_id", "").startswith("check_")), None)
        if not checks or check_at is None or graded is None or check_at > graded:
            problems.append(f"{name}: no visible check cell between it and its graded cell")
        elif not checks[0].get("locked") or checks[0].get("grade"):
            problems.append(f"{checks[0]['grade_id']}: a check cell must be locked and not graded")
        elif definitions(code[i + 1 + check_at]):
            problems.append(f"{checks[0]['grade_id']}: defines {definitions(code[i + 1 + check_at])}; "
                            "checks live in backprop.checks")
    assert not problems, f"{assignment}: " + "; ".join(problems)


def test_code_lines_counts_data_as_data():
    cell = {"source": "check(f)\ncheck(f, cases=[\n    dict(a=1),\n    dict(a=2),\n])\n# note\n"}
    assert code_lines(cell) == 2
    assert definitions({"source": "def f():\n    pass\nclass A:\n    def g(self): pass\n%matplotlib inline"}) == \
        ["f", "A", "g"]
