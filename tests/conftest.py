"""Shared fixtures and helpers of the test suite.

- REPO, SOLUTIONS, COURSE, AUTOGRADER: paths of the checkout.
- solution_notebooks(): every instructor notebook, as (assignment, path), sorted.
- load_pipeline_cases(): the wrong submissions of tests/pipeline_cases/<assignment>.py.
- course_copy (fixture factory): a temporary copy of the course (solutions/, the autograder
  scripts and an empty course/) in which nbgrader may run without touching the real gradebook.
- notebook_text(cell): a cell's source as one string; nbgrader_meta(cell): its nbgrader metadata.
- one_blas_thread (autouse): BLAS runs on one thread in every test.
- build_once(name, build): a heavy session resource (the nbgrader pipeline) built once per test
  run, whichever pytest-xdist worker asks first, under a file lock; the others reuse the result.
  Its folder lives in the run's temporary folder, which the controlling process removes at the
  end of the run, also when the run is interrupted (set BACKPROP_KEEP_PIPELINE=1 to keep it).
- notebook_runner.py (beside this file): the one way tests run notebook cells.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import pickle
import runpy
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
COURSE = REPO / "course"
AUTOGRADER = REPO / "autograder"
PIPELINE_CASES = Path(__file__).resolve().parent / "pipeline_cases"
PYTHON = sys.executable
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))   # `from lite import build` (the browser edition's scripts)
RUN_DIR_ENV = "BACKPROP_TEST_RUN_DIR"
KEEP_ENV = "BACKPROP_KEEP_PIPELINE"


# --------------------------------------------------------------------------- one temporary folder per run
def pytest_configure(config):
    """The controlling process (not an xdist worker) makes the run's temporary folder; the workers
    it starts afterwards inherit its path through the environment."""
    if hasattr(config, "workerinput") or os.environ.get(RUN_DIR_ENV):
        return
    path = Path(tempfile.mkdtemp(prefix="backprop-tests-"))
    os.environ[RUN_DIR_ENV] = str(path)
    config._backprop_run_dir = path
    atexit.register(_remove_run_dir, path)  # also after an interrupt that skips pytest_unconfigure


def pytest_unconfigure(config):
    path = getattr(config, "_backprop_run_dir", None)
    if path is not None:
        _remove_run_dir(path)
        os.environ.pop(RUN_DIR_ENV, None)


def _remove_run_dir(path: Path) -> None:
    if not Path(path).exists():
        return
    if os.environ.get(KEEP_ENV):
        print(f"\ntest folders kept: {path}")
        return
    shutil.rmtree(path, ignore_errors=True)


def run_dir() -> Path:
    """The temporary folder shared by every process of this test run."""
    path = os.environ.get(RUN_DIR_ENV)
    if not path:  # conftest imported outside pytest (a helper script): a folder of its own
        path = tempfile.mkdtemp(prefix="backprop-tests-")
        os.environ[RUN_DIR_ENV] = path
        atexit.register(_remove_run_dir, Path(path))
    Path(path).mkdir(parents=True, exist_ok=True)
    return Path(path)


@contextlib.contextmanager
def run_lock(name: str):
    """An exclusive lock on `name`, shared by the xdist workers of this run (POSIX flock)."""
    import fcntl

    with open(run_dir() / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_once(name: str, build: Callable[[Path], object]):
    """build(folder) once per test run; every later caller, in any worker, gets the pickled result.

    The lock makes a second worker wait for the first instead of building in parallel (two nbgrader
    pipelines at once double the slowest part of the suite on two cores).
    """
    folder = run_dir() / name
    done = folder / "result.pickle"
    with run_lock(name):
        if done.exists():
            return pickle.loads(done.read_bytes())
        folder.mkdir(exist_ok=True)
        result = build(folder)
        done.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread():
    """BLAS on one thread: the products here are small, and with pytest-xdist's two workers on two
    cores, two BLAS threads per worker spin against each other and run several times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def solution_notebooks() -> list[tuple[str, Path]]:
    """(assignment, notebook path) for every notebook in solutions/<assignment>/."""
    if not SOLUTIONS.is_dir():
        return []
    return sorted((p.parent.name, p) for p in SOLUTIONS.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def notebook_text(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def read_notebook(path) -> dict:
    return json.loads(Path(path).read_text())


@dataclass(frozen=True)
class WrongSubmission:
    """One seeded mistake: in `notebook` (assignment id), the solution cell `cell` gets `old`
    replaced by `new`; the graded cells `fails` must score zero and every other graded cell keep
    its points; the outputs of the failing cells must mention each of `words`."""

    notebook: str
    cell: str
    old: str
    new: str
    fails: tuple
    words: tuple

    @property
    def id(self) -> str:
        return f"{self.notebook}:{self.cell}:{self.new[:24]}"


def load_pipeline_cases() -> list[WrongSubmission]:
    """Every CASES entry of tests/pipeline_cases/<assignment>.py whose assignment exists."""
    cases = []
    existing = {a for a, _ in solution_notebooks()}
    for path in sorted(PIPELINE_CASES.glob("*.py")) if PIPELINE_CASES.is_dir() else []:
        if path.stem not in existing:
            continue
        for entry in runpy.run_path(str(path)).get("CASES", []):
            cell, old, new, fails, words = entry
            cases.append(WrongSubmission(path.stem, cell, old, new, tuple(fails), tuple(words)))
    return cases


def make_course_copy(dest: Path) -> Path:
    """solutions/, the autograder scripts and config, an empty course/ (the kernel imports backprop
    from the installed package, so course/lib is not needed)."""
    dest = Path(dest)
    shutil.copytree(SOLUTIONS, dest / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (dest / "autograder").mkdir(parents=True)
    for script in AUTOGRADER.glob("*.py"):
        shutil.copy2(script, dest / "autograder" / script.name)
    (dest / "course").mkdir()
    return dest


@pytest.fixture
def course_copy(tmp_path):
    return make_course_copy(tmp_path / "course_copy")


def run_script(root: Path, script: str, *args, timeout: float = 900):
    """Run autograder/<script> of a course copy with this Python; return the CompletedProcess."""
    import subprocess

    env = dict(os.environ)
    env["PATH"] = str(Path(PYTHON).parent) + os.pathsep + env.get("PATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return subprocess.run([PYTHON, str(Path(root) / "autograder" / script), *args], cwd=str(root),
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def references_on():
    """The course's own mistakes (slips built from the references) run with the references switched on,
    as the slip catalogue runs them; for test modules that make mistakes out of the references."""
    from backprop.grading import references_allowed

    with references_allowed():
        yield
