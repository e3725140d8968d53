"""Notebook 06 (RNN / BPTT): structure, graded cells in-process, wrong submissions, student version.

The nbgrader pipeline itself (release, autograde, feedback) is tested in tests/test_pipeline.py; here
the same cells run in-process, which takes seconds instead of minutes, so a broken exercise is found
fast and with a readable traceback. The two top-to-bottom runs in a real kernel are marked slow.
"""
from __future__ import annotations

import ast
import json
import runpy
from pathlib import Path

import pytest
from conftest import nbgrader_meta as _meta
from notebook_runner import execute, kernel_problems, run_in_process

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "solutions" / "06_rnn_bptt" / "06_rnn_bptt.ipynb"
STUDENT = REPO / "course" / "06_rnn_bptt" / "06_rnn_bptt.ipynb"
CASES = runpy.run_path(str(REPO / "tests" / "pipeline_cases" / "06_rnn_bptt.py"))["CASES"]

GRADED = {  # grade_id of the test cell -> points
    "test_rnn_step_backward": 2, "test_delta_recursion_scalar": 1, "test_delta_recursion": 1,
    "test_liao_bptt": 2, "test_rnn_backward": 3, "test_clip_by_global_norm": 1, "test_sequence_loss_and_grads": 2,
}


def _cells(path):
    nb = json.loads(Path(path).read_text())
    for cell in nb["cells"]:
        src = cell["source"]
        cell["source"] = "".join(src) if isinstance(src, list) else src
    return nb["cells"]


def _gid(cell):
    return _meta(cell).get("grade_id")


def _python(src: str) -> str:
    """Cell source without IPython magics."""
    return "\n".join(line for line in src.splitlines() if not line.lstrip().startswith("%"))


def _graded_run(cells, replace=None):
    """Run the setup cell, every solution cell and every check/test cell in one fresh namespace
    (tests/notebook_runner.py). replace: (grade_id, old, new) applied to one cell first.
    Returns {test grade_id: (error or None, stdout + error, stderr)}."""
    run = run_in_process({"cells": cells}, replace=replace, keep="exercises")
    return {gid: (c.error, c.message, c.stderr) for gid, c in run.graded.items()}


# ----------------------------------------------------------------------------------------- structure

def test_graded_cells_points_and_hidden_tests():
    cells = _cells(SOURCE)
    graded = {_gid(c): _meta(c)["points"] for c in cells if _meta(c).get("grade")}
    assert graded == GRADED
    assert 4 <= len(graded) <= 8
    ids = [_gid(c) for c in cells if _gid(c)]
    assert len(ids) == len(set(ids)), "duplicate grade_id"
    for cell in cells:
        if _meta(cell).get("grade"):
            src = cell["source"]
            assert "### BEGIN HIDDEN TESTS" in src and "### END HIDDEN TESTS" in src, _gid(cell)
            first = next(l for l in src.splitlines() if l.strip() and not l.startswith("#"))
            assert first.startswith(("import ", "from ")), f"{_gid(cell)} must start with its imports"
        if _meta(cell).get("solution"):
            assert "### BEGIN SOLUTION" in cell["source"], _gid(cell)
            assert f"test_{_gid(cell)}" in graded, f"solution {_gid(cell)} has no graded test"


def test_no_outputs_committed_and_kernel_metadata():
    for path in (SOURCE, STUDENT):
        for cell in _cells(path):
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [] and cell.get("execution_count") is None, path


def test_graded_cells_never_end_in_a_value():
    """nbgrader reads a final expression's value as partial credit: the last statement must be a call
    that returns None (a check, print) or not an expression at all."""
    allowed = ("print", "check_rnn_step_backward", "check_liao_bptt", "check_rnn_backward", "check_clip_by_global_norm",
               "check_sequence_loss_and_grads")
    for cell in _cells(SOURCE):
        if not _meta(cell).get("grade"):
            continue
        for part in (cell["source"].split("### BEGIN HIDDEN TESTS")[0], cell["source"]):
            last = ast.parse(part).body[-1]
            if isinstance(last, ast.Expr):
                assert isinstance(last.value, ast.Call) and getattr(last.value.func, "id", "") in allowed, \
                    f"{_gid(cell)} ends with an expression: {ast.unparse(last)}"


def test_required_topics_present():
    text = "\n".join(c["source"] for c in _cells(SOURCE))
    for needle in ("Liao (2018)", "base case", "dL/db", "truncat", "spectral radius", "clip", "rnn_gradient_explorer",
                   "TRAIN_LONGER", "rnn_generate", "assert_step", "M \\times N"):
        assert needle.lower() in text.lower(), needle
    explorer = next(c for c in _cells(SOURCE) if "rnn_gradient_explorer(" in c["source"] and c["cell_type"] == "code")
    student_functions = ("rnn_step_backward", "liao_bptt", "rnn_backward(", "clip_by_global_norm",
                         "sequence_loss_and_grads", "delta_recursion")
    assert not any(f in explorer["source"] for f in student_functions), "the explorer must depend only on backprop"


# ----------------------------------------------------------------------------------------- in-process

def test_solution_passes_every_graded_cell_without_stderr():
    results = _graded_run(_cells(SOURCE))
    assert set(results) == set(GRADED)
    for gid, (error, out, err) in results.items():
        assert error is None, f"{gid} failed:\n{out}"
        assert err == "", f"{gid} wrote to stderr: {err!r}"


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}:{c[3][0]}:{i}" for i, c in enumerate(CASES)])
def test_wrong_submission_fails_exactly_its_cells(case):
    cell, old, new, fails, words = case
    results = _graded_run(_cells(SOURCE), replace=(cell, old, new))
    failed = sorted(g for g, (error, _, _) in results.items() if error is not None)
    assert failed == sorted(fails)
    text = "".join(results[g][1] for g in fails)
    for word in words:
        assert word in text, f"{word!r} missing from the feedback:\n{text[-2000:]}"
    for gid, (_, _, err) in results.items():
        assert err == "", f"{gid} wrote to stderr: {err!r}"


def test_blank_student_version_fails_every_graded_cell_cleanly():
    cells = _cells(STUDENT)
    text = "\n".join(c["source"] for c in cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "seed=601", "seed=31"):
        assert marker not in text
    results = _graded_run(cells)
    assert set(results) == set(GRADED)
    for gid, (error, out, err) in results.items():
        assert error is not None and "not implemented yet" in out, f"{gid}: {out}"
        assert err == ""


def test_explorer_runs_without_any_student_code():
    cells = _cells(STUDENT)
    setup = next(c for c in cells if c["cell_type"] == "code")
    explorer = next(c for c in cells if c["cell_type"] == "code" and "rnn_gradient_explorer(" in c["source"])
    namespace = {}
    exec(_python(setup["source"]), namespace)
    src = explorer["source"].rstrip().splitlines()
    exec("\n".join(src[:-1]) + f"\n_explorer = {src[-1]}", namespace)
    e = namespace["_explorer"]
    e.controls["spectral_radius"].value = 1.5
    e.controls["activation"].value = "identity"
    assert e.last_error is None and e.last_data["norm"][0] > e.last_data["norm"][-1]


# ----------------------------------------------------------------------------------------- real kernel

def _execute(path):
    return execute(path, cwd=REPO, allow_errors=True)


def _problems(nb):
    return kernel_problems(nb)


@pytest.mark.slow
def test_solution_notebook_runs_top_to_bottom():
    assert list(_problems(_execute(SOURCE))) == []


@pytest.mark.slow
def test_student_notebook_runs_with_only_exercise_cells_failing():
    problems = list(_problems(_execute(STUDENT)))
    solution_ids = {_gid(c) for c in _cells(STUDENT) if _meta(c).get("solution")}
    for gid, message in problems:
        assert gid is not None, f"a demo or explorer cell failed in the student version: {message}"
        assert gid.startswith(("test_", "check_")) or gid in solution_ids, (gid, message)
        assert "NotImplemented" in message or "not implemented yet" in message, (gid, message)
