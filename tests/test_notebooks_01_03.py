"""Notebooks 01 (MLP), 02 (batched MLP) and 03 (softmax), checked in-process.

The nbgrader pipeline itself is tests/test_pipeline.py; this file is the fast local view:
- structure: 4-8 exercises (graded cells grouped by exercise), small points, hidden tests in
  every graded cell, a derivation check and a find-the-slip (`expect_wrong`) exercise, no
  outputs, a student version in course/ without solutions or hidden tests;
- the solutions' graded and check cells pass and write nothing to stderr;
- the blank student version fails every graded cell and nothing but exercise cells;
- (slow) every wrong submission of tests/pipeline_cases/0{1,2,3}_*.py fails exactly its own
  graded cells, with the expected words in the message.
Only the cells a grade depends on run here (setup, provided code, solution, check and test
cells); the demos (plots, training on the digits, widgets) run in the pipeline test.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import notebook_text as _source, nbgrader_meta as _meta, read_notebook as _load
from notebook_runner import run_in_process

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("01_mlp", "02_batched_mlp", "03_softmax")


def _path(kind, name):
    return ROOT / kind / name / f"{name}.ipynb"


def _cases(name):
    spec = importlib.util.spec_from_file_location(f"cases_{name}", ROOT / "tests" / "pipeline_cases" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def _graded(nb) -> dict:
    return {_meta(c)["grade_id"]: _meta(c).get("points", 0) for c in nb["cells"] if _meta(c).get("grade")}


def _run(nb, replace=None) -> dict:
    """grade_id -> (ok, stdout + error, stderr) of the setup, solution, check and graded cells
    (the shared runner, tests/notebook_runner.py). replace = (grade_id, old, new) edits one cell first."""
    run = run_in_process(nb, replace=replace, keep="exercises")
    return {gid: (c.ok, c.message, c.stderr) for gid, c in run.by_id.items()}


@pytest.mark.parametrize("name", NAMES)
def test_structure(name):
    nb = _load(_path("solutions", name))
    cells = nb["cells"]
    graded = _graded(nb)
    assert all(0 < p <= 3 for p in graded.values()), graded
    # graded cells belong to exercises: "Exercise 3", "Exercise 3a", ... count the numbers
    text = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown")
    import re
    exercises = set(re.findall(r"\*\*Exercise (\d+)[a-d]? \(", text))
    assert 4 <= len(exercises) <= 8, sorted(exercises)
    assert len(graded) >= len(exercises)
    for c in cells:
        meta = _meta(c)
        if c["cell_type"] == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, f"{name}: outputs committed"
        if meta.get("grade"):
            src = _source(c)
            assert "### BEGIN HIDDEN TESTS" in src, f"{meta['grade_id']} has no hidden tests"
            assert not src.rstrip().splitlines()[-1].startswith(("_", "report")), "a graded cell ends in a value"
        if meta.get("solution"):
            assert f"test_{meta['grade_id']}" in graded, f"solution {meta['grade_id']} has no test_{meta['grade_id']}"
    all_src = "\n".join(_source(c) for c in cells)
    assert "expect_wrong(" in all_src or "as_printed" in all_src or "as_written" in all_src, "no find-the-slip exercise"
    assert "as_written" in all_src or "as_printed" in all_src


@pytest.mark.parametrize("name", NAMES)
def test_student_version_has_no_solutions(name):
    text = _path("course", name).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    student = _load(_path("course", name))
    assert set(_graded(student)) == set(_graded(_load(_path("solutions", name))))


@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_every_check(name):
    results = _run(_load(_path("solutions", name)))
    failed = {gid: msg[-500:] for gid, (ok, msg, _) in results.items() if not ok}
    assert not failed, failed
    noisy = {gid: err for gid, (_, _, err) in results.items() if err}
    assert not noisy, f"cells wrote to stderr: {noisy}"


@pytest.mark.parametrize("name", NAMES)
def test_blank_student_version_fails_only_exercises(name):
    nb = _load(_path("course", name))
    results = _run(nb)
    graded = _graded(nb)
    passed = [gid for gid in graded if results[gid][0]]
    assert not passed, f"blank notebook passes {passed}"
    kinds = {_meta(c)["grade_id"]: _meta(c) for c in nb["cells"] if _meta(c).get("grade_id")}
    others = [gid for gid, (ok, _, _) in results.items()
              if not ok and not (kinds[gid].get("grade") or kinds[gid].get("solution") or gid.startswith("check_"))]
    assert not others, f"non-exercise cells fail in the blank notebook: {others}"
    assert not any(err for _, _, err in results.values())


CASES = [(name, case) for name in NAMES for case in _cases(name)]


@pytest.mark.slow
@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}:{c[0]}:{c[1][:20]}" for n, c in CASES])
def test_wrong_submission_fails_exactly_its_cells(name, case):
    cell, old, new, expected, words = case
    nb = _load(_path("solutions", name))
    results = _run(nb, replace=(cell, old, new))
    graded = _graded(nb)
    failed = sorted(gid for gid in graded if not results[gid][0])
    assert failed == sorted(expected)
    text = " ".join(results[gid][1] for gid in failed).lower()
    missing = [w for w in words if w.lower() not in text]
    assert not missing, f"feedback lacks {missing}: {text[-800:]}"
