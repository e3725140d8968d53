"""Notebooks 04 (CNN, im2col) and 05 (LeNet-5), checked in-process (fast; the nbgrader pipeline
itself is tests/test_pipeline.py).

- structure: 4-8 graded exercises with hidden tests, points, a find-the-slip exercise checked against
  the printed formula, each exercise followed by its visible check cell and then its graded cell,
  no outputs, a student version without solutions;
- the solution's graded and check cells all pass and write nothing to stderr;
- every wrong submission of tests/pipeline_cases/{04,05}_*.py fails exactly its own graded cells,
  with the expected words in the message of the graded cell and of the visible check before it;
- the blank student version fails in graded and check cells only (demos, explorers and training still run);
- what the notebooks' text promises about themselves (the section on the flip, the rule on library calls,
  the whole-network check with one BLAS thread);
- (slow) the default training run of 05 reaches at least 97% test accuracy.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import notebook_text as _source, nbgrader_meta as _meta, read_notebook as _load
from notebook_runner import run_in_process

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {
    "04_cnn_im2col": ROOT / "solutions" / "04_cnn_im2col" / "04_cnn_im2col.ipynb",
    "05_lenet5": ROOT / "solutions" / "05_lenet5" / "05_lenet5.ipynb",
}
# cells too slow for an in-process test (the pipeline test and the slow test below run them)
SLOW_CELLS = ("= train(", "report = check_gradients(", "lenet5_forward(params", "conv_shape_explorer(", "best_time(",
              "(history", "pred_test", "TRAIN_LONGER")


def _cases(name):
    path = ROOT / "tests" / "pipeline_cases" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"cases_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def _run(nb, replace=None, skip=SLOW_CELLS) -> dict:
    """Execute the code cells in one namespace (tests/notebook_runner.py); return
    {"graded": grade_id -> (ok, stdout + error, stderr), "checks": the same for the visible check cells,
    "broken": failing cells that are neither}.
    replace = (grade_id, old, new) edits one cell first. Other cells must not fail.
    """
    run = run_in_process(nb, replace=replace, skip=skip)
    checks = {gid: (c.ok, c.message, c.stderr) for gid, c in run.by_id.items() if gid.startswith("check_")}
    return {"graded": {gid: (c.ok, c.message, c.stderr) for gid, c in run.graded.items()}, "checks": checks,
            "broken": [(cell, error) for cell, error in run.broken if cell not in checks]}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_structure(name):
    nb = _load(NOTEBOOKS[name])
    graded = [c for c in nb["cells"] if _meta(c).get("grade")]
    solutions = [c for c in nb["cells"] if _meta(c).get("solution")]
    assert 4 <= len(graded) <= 8
    assert len(solutions) == len(graded)
    ids = [_meta(c)["grade_id"] for c in nb["cells"] if _meta(c)]
    assert len(ids) == len(set(ids))
    for cell in graded:
        src = _source(cell)
        assert "### BEGIN HIDDEN TESTS" in src and "### END HIDDEN TESTS" in src, _meta(cell)["grade_id"]
        visible = src.split("### BEGIN HIDDEN TESTS")[0]
        assert "check" in visible or "expect_wrong" in visible or "_refute" in visible
        assert _meta(cell)["points"] > 0 and _meta(cell)["locked"]
    assert any("as_printed=" in _source(c) for c in graded), "a find-the-slip exercise, checked against the printed one"
    order = [_meta(c).get("grade_id") for c in nb["cells"]]
    for cell in solutions:   # every exercise: solution, then its visible check, then the graded test
        gid = _meta(cell)["grade_id"]
        assert order.index(gid) + 1 == order.index(f"check_{gid}") == order.index(f"test_{gid}") - 1, gid
    for cell in nb["cells"]:
        assert not cell.get("outputs"), "committed notebooks have no outputs"
        assert "execution_count" not in cell or cell["execution_count"] is None


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_student_version_has_no_solutions(name):
    student = ROOT / "course" / name / f"{name}.ipynb"
    assert student.exists(), "run autograder/release.py"
    text = student.read_text()
    for word in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
        assert word not in text
    nb = _load(student)
    sol = _load(NOTEBOOKS[name])
    assert [_meta(c).get("grade_id") for c in nb["cells"]] == [_meta(c).get("grade_id") for c in sol["cells"]]


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_solution_passes_every_graded_cell(name):
    result = _run(_load(NOTEBOOKS[name]))
    assert not result["broken"], result["broken"]
    assert result["checks"], "every exercise has a visible check cell"
    for gid, (ok, message, err) in {**result["graded"], **result["checks"]}.items():
        assert ok, f"{gid}: {message}"
        assert err == "", f"{gid} wrote to stderr: {err[:200]}"


def _all_cases():
    return [(name, i, case) for name in sorted(NOTEBOOKS) for i, case in enumerate(_cases(name))]


@pytest.mark.parametrize("name,index,case", _all_cases(), ids=lambda v: str(v)[:40] if isinstance(v, str) else None)
def test_wrong_submission_fails_exactly_its_exercise(name, index, case):
    cell, old, new, failing, words = case
    result = _run(_load(NOTEBOOKS[name]), replace=(cell, old, new))
    assert not result["broken"], result["broken"]
    failed = {gid for gid, (ok, _, _) in result["graded"].items() if not ok}
    assert failed == set(failing), {gid: m[:300] for gid, (ok, m, _) in result["graded"].items() if not ok}
    for gid in failing:   # the graded test and the visible check before it say the same words
        check = "check_" + gid[len("test_"):]
        for where, message in ((gid, result["graded"][gid][1]), (check, result["checks"][check][1])):
            for word in words:
                assert word.lower() in message.lower(), f"{where}: {word!r} not in {message[:400]}"


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_blank_student_version_fails_only_in_graded_cells(name):
    result = _run(_load(ROOT / "course" / name / f"{name}.ipynb"))
    assert not result["broken"], result["broken"]
    for gid, (ok, message, err) in {**result["graded"], **result["checks"]}.items():
        assert not ok and "not implemented yet" in message, f"{gid}: {message[:200]}"
        assert err == ""


@pytest.mark.slow
def test_lenet5_default_run_reaches_97_percent():
    """The settings of 05's default training cell, read from the notebook, reach >= 97% test accuracy."""
    nb = _load(NOTEBOOKS["05_lenet5"])
    setup = next(_source(c) for c in nb["cells"] if "= load_digits_images(" in _source(c))
    training = next(_source(c) for c in nb["cells"] if "history = train(" in _source(c))
    ns = {"__name__": "__test__"}
    exec("import time\nimport numpy as np\nfrom backprop import *\nfrom backprop.train import train\n"
         "from backprop.recipes import one_blas_thread\n", ns)
    exec(setup.split("print(")[0], ns)
    exec(training.replace('description="LeNet-5 (classic)"', 'description="LeNet-5 (classic)", progress=False'), ns)
    assert ns["classic_acc"] >= 0.97, ns["classic_acc"]
    assert np.isfinite(ns["history"].epoch_loss[-1])


def _markdown(name) -> str:
    return "\n".join(_source(c) for c in _load(NOTEBOOKS[name])["cells"] if c["cell_type"] == "markdown")


def test_04_refers_to_the_section_that_explains_the_flip():
    """Section 2 sends the reader to the kernel flip: the section of that number must be the one about it."""
    text = _markdown("04_cnn_im2col")
    assert "hand-written CNN code (section 7)" in text
    assert "## 7. Why the input gradient is a full convolution with the flipped kernel" in text


def test_intro_states_the_rule_on_library_calls_with_its_exceptions():
    intro04 = _source(_load(NOTEBOOKS["04_cnn_im2col"])["cells"][0])
    intro05 = _source(_load(NOTEBOOKS["05_lenet5"])["cells"][0])
    for intro in (intro04, intro05):
        assert "**What you may call.**" in intro and "earns no credit" in intro and "`_backward`" in intro
    assert "Exercise 5: there you\nmay call `conv2d_backward`" in intro05
    assert "(the one exception named in the introduction" in _markdown("05_lenet5")


def test_05_whole_network_check_runs_with_one_blas_thread():
    cell = next(_source(c) for c in _load(NOTEBOOKS["05_lenet5"])["cells"] if "report = check_gradients(" in _source(c))
    assert re.search(r"with one_blas_thread\(\):.*\n    report = check_gradients\(", cell), cell
