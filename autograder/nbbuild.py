"""Build nbgrader notebooks from Python: one function per kind of cell, outputs never included.

    from nbbuild import md, code, solution, check, test, write
    write("solutions/00_gradient_checking/00_gradient_checking.ipynb", [
        md("# Title"), code("import numpy as np"),
        solution("central_difference", "def central_difference(f, x, h):\\n    ### BEGIN SOLUTION\\n ..."),
        test("test_central_difference", "...", points=1),
    ])

The metadata is exactly what `nbgrader generate_assignment` expects (schema_version 3).
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat

SCHEMA_VERSION = 3


def _clean(source: str) -> str:
    return textwrap.dedent(source).strip("\n")


def _nbgrader(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(source: str, grade_id: str | None = None):
    """A markdown cell; with a grade_id it is locked (read-only) for students."""
    cell = nbformat.v4.new_markdown_cell(_clean(source))
    if grade_id:
        cell.metadata.update(_nbgrader(grade_id, locked=True))
    return cell


def code(source: str, grade_id: str | None = None):
    """A plain code cell; with a grade_id it is locked (read-only) for students."""
    cell = nbformat.v4.new_code_cell(_clean(source))
    if grade_id:
        cell.metadata.update(_nbgrader(grade_id, locked=True))
    return cell


def solution(grade_id: str, source: str):
    """A solution cell: the part between ### BEGIN SOLUTION / ### END SOLUTION becomes a stub."""
    src = _clean(source)
    if "### BEGIN SOLUTION" not in src or "### END SOLUTION" not in src:
        raise ValueError(f"solution cell {grade_id!r} needs ### BEGIN SOLUTION and ### END SOLUTION")
    cell = nbformat.v4.new_code_cell(src)
    cell.metadata.update(_nbgrader(grade_id, solution=True))
    return cell


def check(grade_id: str, source: str):
    """A visible, locked, ungraded check cell."""
    return code(source, grade_id)


def test(grade_id: str, source: str, points: float):
    """A graded, locked test cell (may contain ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS)."""
    src = _clean(source)
    cell = nbformat.v4.new_code_cell(src)
    cell.metadata.update(_nbgrader(grade_id, grade=True, locked=True, points=points))
    return cell


def write(path, cells, *, kernel="python3") -> Path:
    """Write a notebook without outputs; refuses duplicate grade_ids."""
    ids = [c.metadata["nbgrader"]["grade_id"] for c in cells if "nbgrader" in c.metadata]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate grade_id(s): {dupes}")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": kernel}
    nb.metadata["language_info"] = {"name": "python"}
    for i, c in enumerate(nb.cells):  # stable ids: rebuilding gives the same file
        c["id"] = c.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{i:03d}"
    nbformat.validate(nb)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return path
