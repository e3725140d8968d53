"""`make student-bundle`: what students receive, and nothing an instructor keeps to themselves."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import AUTOGRADER, COURSE, PYTHON, REPO, SOLUTIONS

sys.path.insert(0, str(AUTOGRADER))
import student_bundle  # noqa: E402

TOP = student_bundle.TOP


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    if not any(COURSE.glob("*/*.ipynb")):
        pytest.skip("no released notebooks in course/")
    out = tmp_path_factory.mktemp("bundle") / "student-bundle.zip"
    run = subprocess.run([PYTHON, str(AUTOGRADER / "student_bundle.py"), "--out", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    with zipfile.ZipFile(out) as zf:
        contents = {name: zf.read(name) for name in zf.namelist()}
    return dict(out=out, run=run, contents=contents, folder=out.with_suffix("") / TOP)


def names(bundle):
    return sorted(n[len(TOP) + 1:] for n in bundle["contents"])


def test_bundle_has_every_released_notebook_the_package_and_a_readme(bundle):
    got = set(names(bundle))
    released = {str(p.relative_to(COURSE)) for p in COURSE.glob("*/*.ipynb") if p.parent.name != "lib"}
    assert released and released <= got
    assert {"README.md", "pyproject.toml", "lib/backprop/__init__.py", "lib/backprop/grading.py",
            "lib/backprop/gradcheck.py"} <= got
    for n in got:   # notebooks are exactly the released ones
        if n.endswith(".ipynb"):
            assert (COURSE / n).read_bytes() == bundle["contents"][f"{TOP}/{n}"], n
    readme = bundle["contents"][f"{TOP}/README.md"].decode()
    assert "pip install -e ." in readme and "00_gradient_checking" in readme


def test_bundle_contains_nothing_from_instructor_folders(bundle):
    for n in names(bundle):
        assert Path(n).parts[0] not in ("solutions", "autograder", "tests", "benchmarks", ".ci"), n
        assert "__pycache__" not in n and not n.endswith((".pyc", ".db")) and ".egg-info" not in n, n
    solution_files = {p.read_bytes() for p in SOLUTIONS.rglob("*.ipynb")} if SOLUTIONS.is_dir() else set()
    assert not solution_files & set(bundle["contents"].values()), "a solutions/ notebook is in the bundle"


def test_bundle_has_no_solution_and_no_hidden_test(bundle):
    import markers

    sources = [markers.cell_source(cell) for nb_path in SOLUTIONS.glob("*/*.ipynb")
               for cell in json.loads(nb_path.read_text())["cells"]]
    hidden = markers.secret_lines(sources, markers.HIDDEN, min_length=16)
    for name, data in bundle["contents"].items():
        text = data.decode("utf-8", errors="replace")
        for word in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert word not in text or not name.endswith(".ipynb"), f"{name} contains {word}"
        if name.endswith(".ipynb"):
            lines = {l.strip() for l in text.replace("\\n", "\n").splitlines()}
            leaked = [l for l in hidden if l in lines or json.dumps(l)[1:-1] in text]
            assert not leaked, f"hidden test line in {name}: {leaked[:2]}"
            nb = json.loads(text)
            assert not any(c.get("outputs") for c in nb["cells"]), f"{name} has outputs"


def test_bundle_package_imports_and_installs_only_course_dependencies(bundle):
    folder = bundle["folder"]
    assert folder.is_dir()
    run = subprocess.run([PYTHON, "-c", "import sys; sys.path.insert(0, 'lib'); import backprop, backprop.grading; "
                          "print(backprop.__file__)"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert str(folder) in run.stdout
    pyproject = bundle["contents"][f"{TOP}/pyproject.toml"].decode()
    assert 'where = ["lib"]' in pyproject and "numpy" in pyproject and "nbgrader" not in pyproject


def test_bundle_is_reproducible(bundle, tmp_path):
    again, problems = student_bundle.build(tmp_path / "again.zip", REPO, folder=False)
    assert not problems
    assert again.read_bytes() == bundle["out"].read_bytes()


def test_bundle_refuses_leaks(tmp_path):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    problems = student_bundle.problems_in({"01_x/01_x.ipynb": json.dumps(nb).encode(),
                                           "autograder/nbgrader_config.py": b"c = 1",
                                           "gradebook.db": b""}, tmp_path)
    text = "\n".join(problems)
    assert "BEGIN SOLUTION" in text and "instructor folder" in text and "gradebook" in text
