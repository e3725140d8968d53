"""course/ is exactly the release of solutions/, carries no solution, hidden test or output, and
every instructor notebook runs top to bottom.

Regenerating is done by the real script (autograder/release.py) into a temporary folder with a
temporary gradebook, so the real course/ and autograder/gradebook.db are never touched.
"""
from __future__ import annotations

import re
import sys
import time

import pytest

from conftest import COURSE, REPO, notebook_text, read_notebook, run_script, solution_notebooks
from notebook_runner import execute, kernel_problems

NOTEBOOKS = solution_notebooks()
ASSIGNMENTS = sorted({a for a, _ in NOTEBOOKS})
FORBIDDEN = ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS")
ASSIGNMENT_NAME = re.compile(r"^\d\d_")


def course_notebooks():
    return sorted(p for p in COURSE.glob("*/*.ipynb")
                  if ASSIGNMENT_NAME.match(p.parent.name) and ".ipynb_checkpoints" not in p.parts)


# ------------------------------------------------------------------ static checks (fast)

def test_every_assignment_is_released_and_nothing_else():
    released = {p.name for p in COURSE.iterdir() if p.is_dir() and ASSIGNMENT_NAME.match(p.name)}
    assert released == set(ASSIGNMENTS), (
        f"course/ and solutions/ disagree: only in solutions {set(ASSIGNMENTS) - released}, "
        f"only in course {released - set(ASSIGNMENTS)}. Run `make release`.")
    assert (COURSE / "lib" / "backprop" / "__init__.py").is_file(), "the release must keep course/lib"


@pytest.mark.parametrize("path", course_notebooks(), ids=lambda p: p.parent.name)
def test_course_has_no_solutions_hidden_tests_or_outputs(path):
    for i, cell in enumerate(read_notebook(path)["cells"]):
        src = notebook_text(cell)
        for word in FORBIDDEN:
            assert word not in src, f"{path.name} cell {i} contains {word!r}"
        assert not cell.get("outputs"), f"{path.name} cell {i} has outputs"


@pytest.mark.parametrize("assignment,path", NOTEBOOKS, ids=[a for a, _ in NOTEBOOKS])
def test_solutions_have_no_outputs_and_valid_nbgrader_cells(assignment, path):
    nb = read_notebook(path)
    ids = []
    for i, cell in enumerate(nb["cells"]):
        assert not cell.get("outputs"), f"{path.name} cell {i} has outputs (clear them before committing)"
        assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta:
            continue
        ids.append(meta["grade_id"])
        src = notebook_text(cell)
        if meta.get("grade") and cell["cell_type"] == "code":
            assert meta.get("locked"), f"graded cell {meta['grade_id']} must be locked"
            assert float(meta.get("points", 0)) > 0, f"graded cell {meta['grade_id']} has no points"
            assert "### BEGIN HIDDEN TESTS" in src, f"graded cell {meta['grade_id']} has no hidden tests"
            last = [l for l in src.splitlines() if l.strip() and not l.strip().startswith("#")][-1]
            assert last.startswith((" ", "\t")) or not re.match(r"^[A-Za-z_][\w.]*\s*$", last), (
                f"graded cell {meta['grade_id']} ends in a bare value, which nbgrader reads as partial credit")
        if meta.get("solution") and cell["cell_type"] == "code":
            assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src, meta["grade_id"]
    assert len(ids) == len(set(ids)), f"duplicate grade_ids in {path.name}"
    assert any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in nb["cells"]), "no graded cell"


# ------------------------------------------------------------------ regenerate and compare (slow)

def _cells(path):
    out = []
    for cell in read_notebook(path)["cells"]:
        out.append((cell["cell_type"], notebook_text(cell), cell.get("metadata", {})))
    return out


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader")
def test_course_is_exactly_the_release_of_solutions(tmp_path):
    if not NOTEBOOKS:
        pytest.skip("no notebooks in solutions/")
    out = tmp_path / "release"
    run = run_script(REPO, "release.py", "--out", str(out), "--db", f"sqlite:///{tmp_path / 'gradebook.db'}")
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    for assignment in ASSIGNMENTS:
        fresh = sorted(p.relative_to(out / assignment) for p in (out / assignment).rglob("*") if p.is_file())
        committed = sorted(p.relative_to(COURSE / assignment) for p in (COURSE / assignment).rglob("*")
                           if p.is_file() and ".ipynb_checkpoints" not in p.parts)
        assert fresh == committed, f"{assignment}: files differ; run `make release`"
        for rel in fresh:
            if rel.suffix == ".ipynb":
                assert _cells(out / assignment / rel) == _cells(COURSE / assignment / rel), (
                    f"course/{assignment}/{rel} is out of date with solutions/: run `make release`")
            else:
                assert (out / assignment / rel).read_bytes() == (COURSE / assignment / rel).read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("assignment,path", NOTEBOOKS, ids=[a for a, _ in NOTEBOOKS])
def test_solution_notebook_runs_top_to_bottom(assignment, path, tmp_path):
    """Runs in a kernel of this Python (the venv); no error, no stderr in a graded cell."""
    start = time.perf_counter()
    nb = execute(path, append=["import sys; print(sys.prefix)"])  # the last cell: which Python ran it
    seconds = time.perf_counter() - start
    problems = list(kernel_problems(nb, graded_only_stderr=True))
    assert not problems, f"errors, or stderr in a graded cell (nbgrader would score it zero): {problems}"
    prefix = nb.cells[-1].outputs[0]["text"].strip()
    assert prefix == sys.prefix, f"the notebook ran in {prefix}, not in this environment ({sys.prefix})"
    print(f"{assignment}: {seconds:.1f}s")


# ------------------------------------------------------------------ the helpers of the scripts (fast)

def _autograder_module(name):
    import importlib
    import sys

    from conftest import AUTOGRADER
    if str(AUTOGRADER) not in sys.path:
        sys.path.insert(0, str(AUTOGRADER))
    return importlib.import_module(name)


def test_lint_names_the_cell_of_each_problem(tmp_path):
    import sys

    from conftest import AUTOGRADER
    sys.path.insert(0, str(AUTOGRADER))
    from nbbuild import code, md, solution, test, write

    release = _autograder_module("release")
    path = write(tmp_path / "x.ipynb", [
        md("Write your code between ### BEGIN SOLUTION and ### END SOLUTION."),
        solution("f", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        test("test_f", "assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f() == 1", points=1),
        code("x = 1  # HIDDEN TESTS are below"),
    ])
    problems = release.lint_source(path)
    text = "\n".join(problems)
    assert "cell 0 (markdown)" in text and "BEGIN SOLUTION" in text
    assert "cell 2 (test_f): unbalanced ### BEGIN HIDDEN TESTS" in text
    assert "cell 3 (code)" in text
    good = write(tmp_path / "y.ipynb", [
        md("Write your code in the solution block."),
        solution("f", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        test("test_f", "assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f() == 1\n### END HIDDEN TESTS", points=1),
    ])
    assert release.lint_source(good) == []


def test_feedback_filter_removes_hidden_tests_from_source_and_traceback():
    import nbformat

    filters = _autograder_module("feedback_filters")
    src = "check(1)\n### BEGIN HIDDEN TESTS\nsecret_case(42)\n### END HIDDEN TESTS\nprint('done')"
    assert filters.strip_hidden(src) == "check(1)\n# (hidden tests: not shown in the feedback)\nprint('done')"
    assert "secret" not in filters.strip_hidden("a\n    ### BEGIN HIDDEN TESTS\n    secret()\n")
    cell = nbformat.v4.new_code_cell(src, execution_count=7)
    cell.outputs = [nbformat.v4.new_output("error", ename="WrongGradient", evalue="dW: wrong sign", traceback=[
        "-----", "\x1b[31mCell In[7], line 3\x1b[39m\n  2 ### BEGIN HIDDEN TESTS\n----> 3 secret_case(42)\n",
        "Cell In[5], line 2, in student_fn\n----> 2 return -x\n", "WrongGradient: dW: wrong sign"])]
    cell, _ = filters.HideHiddenTests().preprocess_cell(cell, {}, 0)
    tb = "\n".join(cell.outputs[0]["traceback"])
    assert "secret" not in cell.source and "secret" not in tb
    assert "return -x" in tb and "wrong sign" in tb and "Cell In[7], line 3" in tb


def test_nbbuild_writes_stable_valid_notebooks(tmp_path):
    import sys

    import nbformat

    from conftest import AUTOGRADER
    sys.path.insert(0, str(AUTOGRADER))
    from nbbuild import md, solution, test, write

    cells = lambda: [md("# t"), solution("f", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),  # noqa: E731
                     test("test_f", "assert f() == 1\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS", points=2)]
    a = write(tmp_path / "a.ipynb", cells()).read_text()
    b = write(tmp_path / "b.ipynb", cells()).read_text()
    assert a == b
    nb = nbformat.reads(a, as_version=4)
    meta = nb.cells[2].metadata["nbgrader"]
    assert meta == {"grade": True, "grade_id": "test_f", "locked": True, "points": 2, "schema_version": 3,
                    "solution": False, "task": False}
    with pytest.raises(ValueError, match="duplicate"):
        write(tmp_path / "c.ipynb", cells() + [test("test_f", "pass", points=1)])
