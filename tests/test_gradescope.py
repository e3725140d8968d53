"""The Gradescope autograder: the zip, results.json, and run_autograder on real submissions.

Fast tests check the zip's layout, the exercise names, the markdown of a graded cell and the
results schema without a kernel. The slow tests build 02_batched_mlp.zip, unpack it into a
temporary folder laid out like Gradescope's /autograder and run its run_autograder (with this
environment's Python: setup.sh is not run there) on the instructor solution, the blank student
notebook, a wrong submission that also loops forever in another exercise, and a renamed
notebook. Every results.json is validated against RESULTS_SCHEMA (Gradescope's autograder
specification) and searched for the text of the hidden tests.
"""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import AUTOGRADER, COURSE, SOLUTIONS, load_pipeline_cases, solution_notebooks

sys.path.insert(0, str(AUTOGRADER))
from gradescope import build, check, report  # noqa: E402
from markers import HIDDEN, cell_source, secret_lines  # noqa: E402

ASSIGNMENT = "02_batched_mlp"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
LOOP_CELL = "sum_loss_learning_rate"          # its test cell runs into the endless loop
CELL_TIMEOUT = 5

FORMATS = ["text", "html", "simple_format", "md", "ansi"]
VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"]
RESULTS_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["score", "execution_time", "output", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "integer", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITY},
        "stdout_visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "score", "max_score", "status", "output", "output_format"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "name_format": {"enum": FORMATS},
                "number": {"type": "string"},
                "score": {"type": "number", "minimum": 0},
                "max_score": {"type": "number", "minimum": 0},
                "status": {"enum": ["passed", "failed"]},
                "output": {"type": "string"},
                "output_format": {"enum": FORMATS},
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": {"enum": VISIBILITY},
                "extra_data": {"type": "object"},
            },
        }},
    },
}


def validate(results: dict) -> None:
    import jsonschema

    jsonschema.validate(results, RESULTS_SCHEMA)
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    for test in results["tests"]:
        assert test["score"] <= test["max_score"]
        assert (test["status"] == "passed") == (test["score"] == test["max_score"] > 0)


def hidden_lines(assignment: str) -> set[str]:
    nb = nbformat.read(str(SOLUTIONS / assignment / f"{assignment}.ipynb"), as_version=4)
    return secret_lines([cell_source(c) for c in nb.cells if c.cell_type == "code"], HIDDEN, 12)


def assert_no_hidden_text(results: dict, assignment: str = ASSIGNMENT) -> None:
    text = json.dumps(results)
    assert "HIDDEN TESTS" not in text
    leaked = [line for line in hidden_lines(assignment) if json.dumps(line)[1:-1] in text]
    assert not leaked, f"hidden test lines in results.json: {leaked[:3]}"


def points(assignment: str = ASSIGNMENT) -> dict[str, float]:
    nb = nbformat.read(str(SOLUTIONS / assignment / f"{assignment}.ipynb"), as_version=4)
    return dict(report.graded_cells(nb))


# ---------------------------------------------------------------------------------------------
# Without a kernel
# ---------------------------------------------------------------------------------------------

pytestmark = pytest.mark.xdist_group("gradescope")   # one worker builds and grades once


@pytest.fixture(scope="module")
def scratch():
    """A temporary folder of this module (not pytest's tmp_path: other pytest runs on the machine
    rotate those away), removed at the end."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="backprop-gradescope-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def zips(scratch):
    return {p.stem: p for p in build.build(scratch / "dist", [ASSIGNMENT])}


def test_zip_has_gradescope_layout_and_only_its_assignment(zips):
    with zipfile.ZipFile(zips[ASSIGNMENT]) as zf:
        names = set(zf.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        pins = zf.read("requirements.txt").decode().split()
        setup = zf.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "course/pyproject.toml"} <= names
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR, f"{script} is not executable in the zip"
    assert {f"course/solutions/{ASSIGNMENT}/{NOTEBOOK}", "course/lib/backprop/__init__.py",
            "course/autograder/nbgrader_config.py", "course/autograder/sandbox.py", "course/autograder/markers.py",
            "course/autograder/gradescope/grade.py", "course/autograder/gradescope/report.py"} <= names
    notebooks = [n for n in names if n.endswith(".ipynb")]
    assert notebooks == [f"course/solutions/{ASSIGNMENT}/{NOTEBOOK}"]
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".db"))]
    assert all("==" in p for p in pins) and any(p.startswith("nbgrader==") for p in pins)
    assert any(p.startswith("numpy==") for p in pins) and not any(p.startswith("backprop") for p in pins)
    assert "@" not in setup.replace("$@", ""), "a template placeholder was left in setup.sh"
    with zipfile.ZipFile(zips["course"]) as zf:
        whole = sorted(n for n in zf.namelist() if n.endswith(".ipynb"))
    assert whole == sorted(f"course/solutions/{a}/{p.name}" for a, p in solution_notebooks())


def test_zips_are_reproducible(zips, tmp_path):
    again = build.build(tmp_path, [ASSIGNMENT], whole_course=False)[0]
    assert again.read_bytes() == zips[ASSIGNMENT].read_bytes()


@pytest.mark.parametrize("assignment,path", solution_notebooks(), ids=[a for a, _ in solution_notebooks()])
def test_every_graded_cell_has_a_distinct_exercise_name(assignment, path):
    nb = nbformat.read(str(path), as_version=4)
    names = report.exercise_names(nb)
    graded = [gid for gid, _ in report.graded_cells(nb)]
    assert graded and set(names) == set(graded)
    assert len(set(names.values())) == len(graded), f"two graded cells share a name: {names}"
    assert all(gid[5:] in names[gid] or gid in names[gid] for gid in graded)


def _cell(outputs, count=7):
    return nbformat.v4.new_code_cell("check(f)", execution_count=count, outputs=outputs)


def test_cell_markdown_puts_the_diagnosis_first_and_tables_as_markdown():
    printed = ("f: gradients against finite differences (seed 3)\n"
               "gradient  shape   rel. error  result\n"
               "------------------------------------\n"
               "dW        (4, 4)     1.0e+00  WRONG (transpose)\n"
               "db        (4,)       2.0e-10  ok\n\n"
               "dW is the transpose of the right answer.\n")
    error = nbformat.v4.new_output("error", ename="WrongGradient", evalue="dW is the transpose of the right answer.",
                                   traceback=["-----", "Cell In[7], line 1\n----> 1 check(f)",
                                              "Cell In[3], line 2, in f(x)\n      1 def f(x):\n----> 2     return x.T",
                                              "WrongGradient: dW is the transpose"])
    md = report.cell_markdown(_cell([nbformat.v4.new_output("stream", name="stdout", text=printed), error]),
                              secrets=set(), passed=False)
    assert md.startswith("**WrongGradient**: dW is the transpose of the right answer.")
    assert "| gradient | shape | rel. error | result |" in md and "| dW | (4, 4) | 1.0e+00 | WRONG (transpose) |" in md
    assert md.count("transpose of the right answer") == 1, "the diagnosis is said once"
    assert "in f(x)" in md and "----> 1 check(f)" not in md, "the student's frame stays, the test cell's goes"


def test_cell_markdown_never_quotes_a_hidden_line():
    secret = "check_layer(f, cases=[(7, 3, 11)])"
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"running\n  {secret}\ndone\n"),
               nbformat.v4.new_output("error", ename="AssertionError", evalue=f"failed in {secret}",
                                      traceback=["-----", f"Cell In[2], line 5, in helper\n----> 5 {secret}", "x"])]
    md = report.cell_markdown(_cell(outputs), secrets={secret}, passed=False)
    assert secret not in md and "(7, 3, 11)" not in md
    assert "running" in md and "done" in md


def test_results_document_matches_the_schema():
    tests = [report.entry("Exercise 1 (f)", 2, 2, "**Passed.**", grade_id="test_f"),
             report.entry("Exercise 2 (g)", 0, 1, "**NameError**: g", grade_id="test_g")]
    res = report.results(tests, "- nb.ipynb: 2 / 3 points", 12.4)
    validate(res)
    assert res["score"] == 2 and res["execution_time"] == 12 and res["output"].startswith("**2 / 3 points**")
    assert [t["status"] for t in res["tests"]] == ["passed", "failed"]
    assert "Exercise 2 (g): 0 / 1 (failed)" in report.as_text(res)


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/bin/python3").exists(), reason="needs root and /usr/bin/python3")
def test_launcher_runs_the_kernel_as_the_unprivileged_user(tmp_path):
    """The launcher (standard library only) as root with --user: the command runs as that user,
    who owns the private folder (HOME)."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    private = tmp_path / "kernel-tmp"
    probe = "import os; print(os.getuid(), os.getgid(), os.getgroups(), os.environ['HOME'])"
    run = subprocess.run(["/usr/bin/python3", str(AUTOGRADER / "sandbox.py"), "--tmp", str(private), "--user", "nobody",
                          "--", "/usr/bin/python3", "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(nobody.pw_uid), str(nobody.pw_gid), "[]", str(private)]
    assert private.stat().st_uid == nobody.pw_uid
    bad = subprocess.run(["/usr/bin/python3", str(AUTOGRADER / "sandbox.py"), "--user", "no-such-user-here", "--",
                          "/bin/true"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "no such user" in bad.stderr


def test_damaged_notebook_gets_a_results_page_that_says_so(zips, scratch):
    root = check.unpack(zips[ASSIGNMENT], scratch / "damaged")
    (root / "submission" / NOTEBOOK).write_text('{"cells": [')
    results, _, log = check.run(root, limit=300, env={"AUTOGRADER_USER": ""})
    validate(results)
    assert results["score"] == 0 and len(results["tests"]) == len(points())
    assert "not a valid notebook" in results["output"] and "download it again" in results["output"], log


def test_run_autograder_writes_results_even_when_python_is_missing(zips, scratch):
    root = check.unpack(zips[ASSIGNMENT], scratch / "no-python")
    (root / "submission" / NOTEBOOK).write_text(json.dumps(_solution()))
    results, _, _ = check.run(root, python="/nonexistent/python", limit=60)
    validate(results)
    assert results["score"] == 0 and "could not start" in results["output"]


# ---------------------------------------------------------------------------------------------
# run_autograder on submissions (slow)
# ---------------------------------------------------------------------------------------------

def _solution() -> dict:
    return json.loads((SOLUTIONS / ASSIGNMENT / NOTEBOOK).read_text())


def _edit(nb: dict, grade_id: str, change) -> None:
    cells = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(cells) == 1, f"no single cell {grade_id}"
    cells[0]["source"] = change(cell_source(cells[0]))


def endless(source: str) -> str:
    """The function defined in `source` starts with an endless loop."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def "))
    end = next(i for i in range(start, len(lines)) if lines[i].rstrip().endswith(":"))
    return "\n".join(lines[:end + 1] + ["    while True:", "        pass"] + lines[end + 1:])


def wrong_case():
    cases = [c for c in load_pipeline_cases() if c.notebook == ASSIGNMENT and c.cell != LOOP_CELL
             and f"test_{LOOP_CELL}" not in c.fails]
    if not cases:
        pytest.skip(f"no wrong-submission case for {ASSIGNMENT} in tests/pipeline_cases")
    return cases[0]


def grade(zip_path: Path, tmp: Path, files: dict[str, dict]) -> dict:
    root = check.unpack(zip_path, tmp)
    for name, nb in files.items():
        (root / "submission" / name).write_text(json.dumps(nb))
    # kernels run as the grader: this environment's Python may be readable by root only
    results, _, log = check.run(root, timeout=CELL_TIMEOUT, limit=600, env={"AUTOGRADER_USER": ""})
    assert (root / "results" / "results.json").exists(), log
    return {"results": results, "log": log}


@pytest.fixture(scope="module")
def graded(zips, scratch):
    """Four submissions, each graded by its own run_autograder."""
    wrong = _solution()
    case = wrong_case()
    _edit(wrong, case.cell, lambda s: s.replace(case.old, case.new))
    _edit(wrong, LOOP_CELL, endless)
    runs = {
        "renamed": {f"{ASSIGNMENT} (1).ipynb": _solution()},
        "solution": {NOTEBOOK: _solution()},
        "blank": {NOTEBOOK: json.loads((COURSE / ASSIGNMENT / NOTEBOOK).read_text())},
        "wrong": {NOTEBOOK: wrong},
    }
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:    # each run is a subprocess: two at a time
        futures = {name: pool.submit(grade, zips[ASSIGNMENT], scratch / name, files)
                   for name, files in runs.items()}
        out = {name: future.result() for name, future in futures.items()}
    out["case"] = case
    return out


def by_grade_id(results) -> dict:
    return {t["extra_data"]["grade_id"]: t for t in results["tests"]}


@pytest.mark.slow
def test_solution_gets_full_marks(graded):
    res = graded["solution"]["results"]
    validate(res)
    assert_no_hidden_text(res)
    assert res["score"] == sum(points().values()), graded["solution"]["log"][-3000:]
    assert set(by_grade_id(res)) == set(points())
    assert all(t["status"] == "passed" and t["output"] for t in res["tests"])
    assert any("| gradient |" in t["output"] for t in res["tests"]), "no per-tensor table in markdown"


@pytest.mark.slow
def test_blank_notebook_scores_zero_with_a_reason_per_exercise(graded):
    res = graded["blank"]["results"]
    validate(res)
    assert_no_hidden_text(res)
    assert res["score"] == 0 and len(res["tests"]) == len(points())
    for test in res["tests"]:     # the reason first, in bold: NotImplementedError, a name not defined, ...
        assert test["status"] == "failed" and re.match(r"\*\*\w+\*\*: \S", test["output"]), test


@pytest.mark.slow
def test_wrong_submission_shows_its_diagnosis_and_endless_loop_times_out(graded):
    res, case = graded["wrong"]["results"], graded["case"]
    validate(res)
    assert_no_hidden_text(res)
    tests, pts = by_grade_id(res), points()
    lost = set(case.fails) | {f"test_{LOOP_CELL}"}
    assert res["score"] == sum(pts.values()) - sum(pts[g] for g in lost), graded["wrong"]["log"][-3000:]
    for gid, test in tests.items():
        assert (test["score"] == 0) == (gid in lost), f"{gid}: {test['score']}"
    for gid in case.fails:
        for word in case.words:
            assert word in tests[gid]["output"], f"{word!r} not in the output of {gid}:\n{tests[gid]['output']}"
    loop = tests[f"test_{LOOP_CELL}"]["output"]
    assert "CellTimeoutError" in loop and f"still running after {CELL_TIMEOUT} s" in loop


@pytest.mark.slow
def test_renamed_notebook_is_reported_not_graded(graded):
    res = graded["renamed"]["results"]
    validate(res)
    assert res["score"] == 0 and len(res["tests"]) == len(points())
    assert "renamed" in res["output"] and f"{ASSIGNMENT} (1).ipynb" in res["output"]
    assert all("Not graded" in t["output"] for t in res["tests"])


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("BACKPROP_TEST_SETUP_SH"), reason=(
    "installs the pinned packages from the package index into a new environment (1.5 to 4 minutes): "
    "set BACKPROP_TEST_SETUP_SH=1 to run"))
@pytest.mark.skipif(os.geteuid() != 0, reason="the kernels switch to user nobody: needs root")
def test_setup_sh_builds_an_environment_that_grades_as_nobody(zips, scratch):
    """setup.sh (apt and useradd skipped) in a throwaway environment made from the system's Python
    (readable by every user), then run_autograder with that environment and kernels running as
    `nobody`: the solution, whose first solution cell refuses to run as root, gets full marks."""
    python = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if Path(p).exists()), None)
    if python is None:
        pytest.skip("no system Python that every user can run")
    root = check.unpack(zips[ASSIGNMENT], scratch / "setup-root")
    venv = scratch / "setup-venv"
    for folder in (scratch, root):
        os.chmod(folder, 0o755)
    env = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "HTTP", "HTTPS", "NO_PROXY")) or
           k.lower().endswith("_proxy")}
    env.update(PATH=f"{Path(python).parent}:/usr/sbin:/usr/bin:/sbin:/bin", HOME=str(scratch),
               SETUP_SKIP_APT="1", SETUP_SKIP_USER="1", BACKPROP_VENV=str(venv))
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True,
                           timeout=1800)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    solution = _solution()
    _edit(solution, "layer_backward_batch", lambda s: (
        "import os as _os\nif _os.getuid() == 0:\n    raise RuntimeError('the kernel runs as root')\n" + s))
    (root / "submission" / NOTEBOOK).write_text(json.dumps(solution))
    results, _, log = check.run(root, timeout=120, python=str(venv / "bin" / "python"), limit=900,
                                env={"AUTOGRADER_USER": "nobody"})
    validate(results)
    assert "kernels run as nobody" in log
    assert results["score"] == sum(points().values()), log[-3000:]
