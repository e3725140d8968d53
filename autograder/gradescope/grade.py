"""Grade one Gradescope submission with the course's own grading; write results.json.

    AUTOGRADER_ROOT=/autograder python course/autograder/gradescope/grade.py     (what run_autograder does)

Layout (Gradescope's; a local run points AUTOGRADER_ROOT at a folder laid out the same way):

    $AUTOGRADER_ROOT/source/course/      the zip's course: solutions/<assignment>/, autograder/, lib/
    $AUTOGRADER_ROOT/submission/         what the student uploaded (notebooks, possibly in folders)
    $AUTOGRADER_ROOT/results/results.json   written here, always, even when nothing could be graded

The submission is graded like `make autograde` grades it: in a private copy of the course (a
temporary folder), nbgrader registers each assignment from solutions/ and autogrades the
student's notebook with nbgrader_config.py: locked and deleted test cells restored from the
source, every kernel started by the sandbox launcher (memory limit, one BLAS thread, Landlock where
the host has it) and, when this runs as root, as an unprivileged user; a timeout per cell.

Environment:
    AUTOGRADER_ROOT          the root above (default /autograder)
    AUTOGRADER_USER          the user kernels run as when the grader is root (default: `student` if
                             that user exists, else `nobody`); empty: as the grader
    AUTOGRADER_CELL_TIMEOUT  seconds per cell (default: nbgrader_config.py's Execute.timeout)
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
COURSE = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

from course_tools import assignments, load_config, quiet_logs, run_converter, short_error  # noqa: E402
from gradescope import report  # noqa: E402

STUDENT = "student"
SKIP_PARTS = {".ipynb_checkpoints", "__MACOSX"}


def expected_notebooks(course: Path = COURSE) -> dict[str, list[str]]:
    """assignment -> its notebook file names, from the course's solutions/."""
    return {a: sorted(p.name for p in (course / "solutions" / a).glob("*.ipynb")) for a in assignments(course)}


def uploaded_files(submission: Path) -> dict[str, Path]:
    """file name -> path of everything uploaded (folders flattened; the first of equal names wins)."""
    found = {}
    for path in sorted(submission.rglob("*")) if submission.is_dir() else []:
        rel = path.relative_to(submission).parts
        if path.is_file() and not any(p in SKIP_PARTS or p.startswith(".") for p in rel):
            found.setdefault(path.name, path)
    return found


def kernel_user() -> str:
    """Who the kernels run as ("" = as the grader: only root can switch users).

    AUTOGRADER_USER if set, else `student` (setup.sh creates it), else `nobody`; a default user
    who cannot run this Python (a root-only installation) is reported and not used."""
    if os.geteuid() != 0:
        return ""
    if "AUTOGRADER_USER" in os.environ:
        return os.environ["AUTOGRADER_USER"]
    for name in ("student", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        if can_run_as(name):
            return name
        print(f"WARNING: user {name} cannot run {sys.executable} and backprop: kernels run as root")
        return ""
    return ""


def can_run_as(user: str) -> bool:
    """Whether `user` can start this Python and import what a grading kernel imports."""
    import subprocess

    from sandbox_kernel import LAUNCHER

    probe = subprocess.run([sys.executable, LAUNCHER, "--user", user, "--", sys.executable, "-c",
                            "import ipykernel, numpy, backprop"], capture_output=True, timeout=120)
    return probe.returncode == 0


def prepare_workdir(course: Path) -> Path:
    """A private copy of the course to grade in: solutions/ and the gradebook readable by the grader
    only; the folders above a kernel's working folder traversable (not listable) by the kernel user."""
    work = Path(tempfile.mkdtemp(prefix="gradescope-"))
    os.chmod(work, 0o711)
    shutil.copytree(course / "solutions", work / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    os.chmod(work / "solutions", 0o700)
    (work / "autograder").mkdir(mode=0o711)
    os.chmod(work / "autograder", 0o711)
    for script in (course / "autograder").glob("*.py"):
        shutil.copy2(script, work / "autograder" / script.name)
    return work


def notebook_problems(uploads: dict[str, Path], expected: dict[str, list[str]], work: Path) -> dict[str, list[str]]:
    """notebook name -> why it cannot be graded (missing, renamed, not a valid notebook)."""
    from sandbox import submission_problems

    staged = work / "uploaded"
    staged.mkdir(mode=0o700)
    for name, path in uploads.items():
        if name.endswith(".ipynb"):
            shutil.copy2(path, staged / name)
        else:                               # other files only by name: listed, never read
            (staged / name).touch()
    wanted = [nb for names in expected.values() for nb in names]
    found = submission_problems(staged, wanted)
    return {nb: [p for p in found if p.startswith(nb + " ")] for nb in wanted}


def config(work: Path, user: str):
    cfg = load_config(work, release_directory=str(work / "autograder" / "release"))
    if os.environ.get("AUTOGRADER_CELL_TIMEOUT"):
        cfg.Execute.timeout = int(os.environ["AUTOGRADER_CELL_TIMEOUT"])
    cfg.GuardedExecute.kernel_user = user
    return cfg


def autograde(work: Path, names: list[str], uploads: dict[str, Path], expected: dict, cfg) -> dict[str, str]:
    """Register and autograde each assignment; return assignment -> nbgrader's error (failures only)."""
    failures = {}
    for a in names:
        result = run_converter("generate_assignment", cfg, a)
        if not result.get("success"):
            failures[a] = "registering the assignment failed:\n" + short_error(result)
            continue
        os.chmod(work / "autograder" / "gradebook.db", 0o600)
        folder = work / "autograder" / "submitted" / STUDENT / a
        folder.mkdir(parents=True, exist_ok=True)
        for nb in expected[a]:
            shutil.copy2(uploads[nb], folder / nb)
        result = run_converter("autograde", cfg, a, STUDENT)
        graded = work / "autograder" / "autograded" / STUDENT / a
        if graded.is_dir():
            os.chmod(graded, 0o700)     # holds the hidden tests now: not for the next kernels
        if not result.get("success"):
            failures[a] = "nbgrader autograde failed:\n" + short_error(result)
    return failures


def hidden_secrets(course: Path) -> set[str]:
    """Every hidden-test line of the course (no output may quote one)."""
    import nbformat

    from sandbox_scrub import hidden_secrets as of_notebook

    found = set()
    for path in sorted((course / "solutions").glob("*/*.ipynb")):
        found |= of_notebook(nbformat.read(str(path), as_version=4))
    return found


def cell_grades(work: Path, a: str, nb: str) -> dict[str, tuple[float, float]]:
    """grade_id -> (score, max_score) of the notebook's graded cells, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    db = "sqlite:///" + str(work / "autograder" / "gradebook.db")
    with Gradebook(db, course_id="backprop") as gb:
        try:
            notebook = gb.find_submission_notebook(Path(nb).stem, a, STUDENT)
        except MissingEntry:
            return {}
        return {g.name: (float(g.score or 0), float(g.max_score)) for g in notebook.grades}


def notebook_entries(work: Path, a: str, nb: str, source, secrets: set[str], why: str | None) -> list[dict]:
    """One results entry per graded cell of notebook `nb`: its grade and output, or 0 and `why`."""
    import nbformat

    names = report.exercise_names(source)
    if why:
        return [report.entry(names[gid], 0, points, f"**Not graded.** {report.escape(why)}", grade_id=gid, notebook=nb)
                for gid, points in report.graded_cells(source)]
    grades = cell_grades(work, a, nb)
    path = work / "autograder" / "autograded" / STUDENT / a / nb
    graded = nbformat.read(str(path), as_version=4) if path.exists() else nbformat.v4.new_notebook()
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in graded.cells}
    entries = []
    for gid, points in report.graded_cells(source):
        score, points = grades.get(gid, (0.0, points))
        output = (report.cell_markdown(cells[gid], secrets, passed=score >= points > 0) if gid in cells
                  else "**Not graded**: the grader found no result for this cell.")
        entries.append(report.entry(names[gid], score, points, output, grade_id=gid, notebook=nb))
    return entries


def summary(expected: dict, problems: dict, failures: dict, entries: dict) -> str:
    """The top of the results page: one line per notebook, problems in words."""
    lines = []
    for a, notebooks in expected.items():
        for nb in notebooks:
            got = entries[nb]
            score, total = sum(t["score"] for t in got), sum(t["max_score"] for t in got)
            if problems.get(nb):
                lines.append(f"- **{nb}: not graded.** " + " ".join(report.escape(p) for p in problems[nb]))
            elif a in failures:
                lines.append(f"- **{nb}: not graded**: the grader failed on this notebook (not because of "
                             "anything you did, as far as it can tell). Please tell the course staff.")
            else:
                lines.append(f"- {nb}: {score:g} / {total:g} points")
    return "\n".join(lines)


def grade(root: Path, start: float, course: Path = COURSE) -> dict:
    """Grade $root/submission against `course`; return the results.json document."""
    import nbformat

    expected = expected_notebooks(course)
    uploads = uploaded_files(root / "submission")
    user = kernel_user()
    work = prepare_workdir(course)
    try:
        problems = notebook_problems(uploads, expected, work)
        gradable = [a for a, nbs in expected.items() if not any(problems[nb] for nb in nbs)]
        print(f"grading {gradable or 'nothing'}; kernels run as {user or 'the grader'} (uid {os.geteuid()})")
        failures = autograde(work, gradable, uploads, expected, config(work, user))
        for a, error in failures.items():
            print(f"{a}: {error}")
        secrets = hidden_secrets(course)
        entries = {}
        for a, notebooks in expected.items():
            for nb in notebooks:
                why = (" ".join(problems[nb]) or None) if a not in failures else \
                    "The grader failed on this notebook; please tell the course staff."
                source = nbformat.read(str(course / "solutions" / a / nb), as_version=4)
                entries[nb] = notebook_entries(work, a, nb, source, secrets, why)
        text = summary(expected, problems, failures, entries)
        tests = [t for a in expected for nb in expected[a] for t in entries[nb]]
        return report.results(tests, text, time.perf_counter() - start,
                              {"kernel_user": user, "graded": gradable, "failures": sorted(failures)})
    finally:
        if not os.environ.get("AUTOGRADER_KEEP_WORK"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work folder kept: {work}")


def main() -> int:
    start = time.perf_counter()
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    quiet_logs()
    if os.geteuid() == 0 and (root / "source").is_dir():
        os.chmod(root / "source", 0o700)      # the solutions and hidden tests are not for the kernels
    try:
        res = grade(root, start)
    except Exception:  # noqa: BLE001 - whatever happens, the student gets a results.json
        traceback.print_exc(file=sys.stdout)
        res = report.results([], "The autograder failed while grading (not because of your notebook, as far "
                                 "as it can tell). Please tell the course staff.", time.perf_counter() - start)
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(res, indent=1))
    print(report.as_text(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
