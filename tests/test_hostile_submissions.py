"""Hostile submissions, graded by the real `nbgrader autograde` on a temporary course.

One tiny assignment (tests/hostile_assignment.py: three exercises graded through
backprop.grading) is submitted by a class of students who each do one hostile thing: an endless
loop (also one that ignores the interrupt), os._exit, a segfault, a memory bomb, an edited or
deleted test cell, a monkeypatched checker / numpy / builtins / IPython, calls into the
reference, bad return values, floods of output and stderr, snooping on files and on the hidden
tests, and notebooks that are renamed, missing or not JSON. The whole class is graded once, in
parallel (autograde.py --jobs 2, as `make autograde` does, so the gradebook is written by
several processes), with a 5 s cell timeout and a 1 GiB kernel memory limit (appended to the
copy's nbgrader_config.py). Each test then checks one row: which cells score 0, that every
other cell keeps its points, and what the student reads in the output and the feedback.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AUTOGRADER, PYTHON, run_script

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_assignment as H  # noqa: E402

sys.path.insert(0, str(AUTOGRADER))
from sandbox import builtin_names_used, submission_problems  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TEST_CONFIG = """
# --- tests/test_hostile_submissions.py: small limits keep the run short
c.Execute.timeout = 5
c.GuardedExecute.memory_limit_mb = 1024
c.GuardedExecute.recovery_timeout = 5
"""


def cell_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            text = out.get("text", "")
            parts.append(text if isinstance(text, str) else "".join(text))
        elif out.get("output_type") == "error":
            parts += [out.get("ename", ""), out.get("evalue", "")] + [ANSI.sub("", t) for t in out.get("traceback", [])]
    return "\n".join(parts)


def html_text(path: Path) -> str:
    import html

    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.fixture(scope="session")  # session: xdist may interleave other modules between its tests
def graded(tmp_path_factory):
    import shutil

    root = tmp_path_factory.mktemp("hostile")
    (root / "autograder").mkdir()
    for script in AUTOGRADER.glob("*.py"):
        shutil.copy2(script, root / "autograder" / script.name)
    with open(root / "autograder" / "nbgrader_config.py", "a") as fh:
        fh.write(TEST_CONFIG)
    source = H.build_source(root)
    H.submit_all(root, source)
    grade = run_script(root, "autograde.py", "--jobs", "2", timeout=600)
    fb = run_script(root, "feedback.py", timeout=600)

    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook("sqlite:///" + str(root / "autograder" / "gradebook.db"), course_id="backprop") as gb:
        for student in list(H.STUDENTS) + list(H.BROKEN):
            try:
                sub = gb.find_submission(H.ASSIGNMENT, student)
            except MissingEntry:
                continue
            scores[student] = {g.name: g.score for nb in sub.notebooks for g in nb.grades}
    cells = {}
    for student in H.STUDENTS:
        path = root / "autograder" / "autograded" / student / H.ASSIGNMENT / H.NOTEBOOK
        if path.exists():
            nb = json.loads(path.read_text())
            cells[student] = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]
                              if c["metadata"].get("nbgrader", {}).get("grade_id")}
            cells[student][None] = nb["cells"]
    return dict(root=root, grade=grade, feedback=fb, scores=scores, cells=cells)


def grade_log(graded) -> str:
    return graded["grade"].stdout + graded["grade"].stderr[-4000:]


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader-hostile")
def test_class_is_graded_unattended(graded):
    assert graded["grade"].returncode == 0, grade_log(graded)
    assert graded["feedback"].returncode == 0, graded["feedback"].stdout + graded["feedback"].stderr[-3000:]
    missing = [s for s in H.STUDENTS if s not in graded["scores"]]
    assert not missing, f"not in the gradebook: {missing}\n{grade_log(graded)}"


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader-hostile")
@pytest.mark.parametrize("student", list(H.STUDENTS))
def test_hostile_student_loses_exactly_its_points(graded, student):
    _, zero, words = H.STUDENTS[student]
    scores = graded["scores"].get(student)
    assert scores is not None, f"{student} was not graded:\n{grade_log(graded)}"
    assert set(scores) == set(H.POINTS), scores
    wrong = {g: s for g, s in scores.items() if s != (0.0 if g in zero else H.POINTS[g])}
    cells = graded["cells"][student]
    detail = "\n".join(f"--- {g}: {scores[g]}\n{cell_text(cells.get(g, {}))[-1500:]}" for g in wrong)
    assert not wrong, f"{student}: unexpected scores {wrong}\n{detail}"
    shown = "\n".join(cell_text(cells[g]) for g in (zero or H.POINTS)).lower()
    missing = [w for w in words if w.lower() not in shown]
    assert not missing, f"{student}: {missing} not in the output:\n{shown[-3000:]}"


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader-hostile")
def test_tampering_never_raises_a_grade(graded):
    """The tampering students submitted wrong code everywhere: the patched checker, numpy,
    builtins and IPython hooks, and a fake backprop package next to the notebook, must not turn a
    single cell green, and no guard check fails."""
    for student in ("patch_checker", "patch_numpy", "patch_builtins", "patch_ipython", "shadow"):
        assert all(s == 0 for s in graded["scores"][student].values()), (student, graded["scores"][student])
        for g in H.POINTS:
            text = cell_text(graded["cells"][student][g])
            assert "WrongGradient" in text or "WrongValue" in text, f"{student}/{g}: the check did not run:\n{text}"


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader-hostile")
def test_output_is_limited_and_stderr_does_not_zero(graded):
    cells = graded["cells"]["noisy"]
    text = cell_text(cells["test_dense_backward"])
    assert len(text) < 40000, len(text)
    assert "All gradients agree" in text      # the verdict survives the flood
    for cell in cells[None]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                body = out["text"] if isinstance(out["text"], str) else "".join(out["text"])
                assert len(body) < 40000
    graded_streams = [o.get("name") for g in H.POINTS for o in cells[g].get("outputs", [])
                      if o.get("output_type") == "stream"]
    assert "stderr" not in graded_streams


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader-hostile")
@pytest.mark.parametrize("student", list(H.BROKEN))
def test_unreadable_submission_is_reported(graded, student):
    _, words = H.BROKEN[student]
    lines = [l for l in graded["grade"].stdout.splitlines() if l.startswith(f"PROBLEM: {student}/")]
    assert lines, f"{student} not reported:\n{grade_log(graded)}"
    text = "\n".join(lines)
    assert "NOT GRADED" in text
    missing = [w for w in words if w.lower() not in text.lower()]
    assert not missing, f"{student}: {missing} not in {text}"
    table = [l for l in graded["grade"].stdout.splitlines() if l.startswith(student + " ")]
    assert table and "NOT GRADED" in table[0], graded["grade"].stdout


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader-hostile")
def test_feedback_never_shows_hidden_tests(graded):
    root = graded["root"]
    pages = sorted((root / "autograder" / "feedback").glob(f"*/{H.ASSIGNMENT}/*.html"))
    assert {p.parts[-3] for p in pages} == set(H.STUDENTS)
    for page in pages:
        text = html_text(page)
        assert H.HIDDEN_MARK not in text, f"hidden test source in {page}"
        assert "BEGIN HIDDEN TESTS" not in text
    edited = html_text(root / "autograder" / "feedback" / "edit_test" / H.ASSIGNMENT / H.NOTEBOOK.replace("ipynb", "html"))
    assert "wrong sign" in edited and "restored" in edited
    looped = html_text(root / "autograder" / "feedback" / "loop" / H.ASSIGNMENT / H.NOTEBOOK.replace("ipynb", "html"))
    assert "still running after 5 s" in looped


# ------------------------------------------------------------------------------------------------
# Fast checks of the pieces (no nbgrader run)
# ------------------------------------------------------------------------------------------------

def test_launcher_sets_the_memory_limit():
    probe = "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CORE)[0])"
    run = subprocess.run([PYTHON, str(AUTOGRADER / "sandbox.py"), "--memory-mb", "300", "--", PYTHON, "-c", probe],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(300 * 1024 * 1024), "0"]


def test_launcher_memory_bomb_gets_memory_error():
    bomb = "import numpy as np\ntry:\n    np.ones(10**9)\nexcept MemoryError:\n    print('MemoryError')"
    run = subprocess.run([PYTHON, str(AUTOGRADER / "sandbox.py"), "--memory-mb", "400", "--", PYTHON, "-c", bomb],
                         capture_output=True, text=True, timeout=60)
    assert "MemoryError" in run.stdout, run.stdout + run.stderr


def test_submission_problems(tmp_path):
    good = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.ipynb").write_text(json.dumps(good))
    assert submission_problems(tmp_path / "ok", ["a.ipynb"]) == []
    (tmp_path / "renamed").mkdir()
    (tmp_path / "renamed" / "a-Copy1.ipynb").write_text(json.dumps(good))
    [msg] = submission_problems(tmp_path / "renamed", ["a.ipynb"])
    assert "a-Copy1.ipynb" in msg and "renamed" in msg
    (tmp_path / "empty").mkdir()
    assert "no notebook" in submission_problems(tmp_path / "empty", ["a.ipynb"])[0]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.ipynb").write_text('{"cells": [')
    assert "not JSON" in submission_problems(tmp_path / "broken", ["a.ipynb"])[0]
    (tmp_path / "schema").mkdir()
    (tmp_path / "schema" / "a.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": 3}))
    assert "not a valid notebook" in submission_problems(tmp_path / "schema", ["a.ipynb"])[0]


def test_builtin_names_used():
    assert builtin_names_used("for s in range(3):\n    print(len(x), my_range)") == ["len", "print", "range"]


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader-hostile")
def test_snooping_student_reads_nothing_and_harms_no_one(graded):
    from sandbox import landlock_abi

    text = "\n".join(cell_text(c) for c in graded["cells"]["snoop"][None])
    page = html_text(graded["root"] / "autograder" / "feedback" / "snoop" / H.ASSIGNMENT /
                     H.NOTEBOOK.replace("ipynb", "html"))
    assert H.HIDDEN_MARK in text          # the instructor's graded copy shows what the student printed,
    assert H.HIDDEN_MARK not in page and "BEGIN HIDDEN TESTS" not in page, "hidden tests in the feedback"
    assert "[grader: output line removed" in page      # the student's feedback does not
    if landlock_abi() >= 1:
        assert "blocked: PermissionError" in text and "BEGIN SOLUTION" not in text, text[-3000:]
        assert "write blocked: PermissionError" in text
    if landlock_abi() >= 6:
        assert "signal blocked: PermissionError" in text
    good = graded["root"] / "autograder" / "submitted" / "a_good" / H.ASSIGNMENT / H.NOTEBOOK
    assert json.loads(good.read_text())   # still a valid notebook: nothing appended


def test_scrub_hidden_outputs():
    import nbformat
    from sandbox import SCRUBBED, scrub_hidden_outputs

    test = nbformat.v4.new_code_cell("check(f, 1)\n### BEGIN HIDDEN TESTS\ncheck(f, secret_case_42)\ncheck(f, 1)\n"
                                     "### END HIDDEN TESTS")
    student = nbformat.v4.new_code_cell("print(...)")
    student.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a\n  check(f, secret_case_42)\nb\ncheck(f, 1)\n")]
    nb = nbformat.v4.new_notebook(cells=[test, student])
    assert scrub_hidden_outputs(nb) == 1
    assert student.outputs[0]["text"] == f"a\n{SCRUBBED}\nb\ncheck(f, 1)\n"
