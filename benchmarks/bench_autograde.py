"""Autograding time: one student against a class, serial against parallel, hardened against plain.

    python benchmarks/bench_autograde.py                 class of 20 on 01_mlp, JOBS=2
    BENCH_CLASS=40 BENCH_ASSIGNMENT=03_softmax JOBS=4 python benchmarks/bench_autograde.py

Everything runs on a temporary copy of the course (solutions/ + autograder/), through the
real autograder/autograde.py, with the instructor's notebooks as submissions (full marks, so
every cell runs). Rows:
  - one student submitting every notebook, with the course configuration (autograder/sandbox.py:
    memory-limited kernel, guard before each graded cell) and with nbgrader's plain Execute;
  - a class of BENCH_CLASS students submitting BENCH_ASSIGNMENT, with --jobs 1 and --jobs JOBS.
Ratios are within this run. A first, uncounted run creates the gradebook and warms the caches;
every counted run includes what `make autograde` always does first (registering the
assignments with nbgrader generate_assignment).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _table import print_table  # noqa: E402

PLAIN_EXECUTE = """
# --- bench_autograde.py: nbgrader's own preprocessors (no sandbox)
from nbgrader.converters import Autograde as _A
c.Autograde.autograde_preprocessors = _A.class_traits()["autograde_preprocessors"].make_dynamic_default()
c.Autograde.sanitize_preprocessors = _A.class_traits()["sanitize_preprocessors"].make_dynamic_default()
"""


def make_course(dest: Path, plain: bool = False) -> Path:
    shutil.copytree(REPO / "solutions", dest / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    (dest / "autograder").mkdir(parents=True)
    for script in (REPO / "autograder").glob("*.py"):
        shutil.copy2(script, dest / "autograder" / script.name)
    if plain:
        with open(dest / "autograder" / "nbgrader_config.py", "a") as fh:
            fh.write(PLAIN_EXECUTE)
    return dest


def submit(root: Path, students: list[str], assignments: list[str]) -> None:
    sub = root / "autograder" / "submitted"
    if sub.exists():
        shutil.rmtree(sub)
    for student in students:
        for a in assignments:
            dest = sub / student / a
            dest.mkdir(parents=True)
            for nb in (root / "solutions" / a).glob("*.ipynb"):
                shutil.copy2(nb, dest / nb.name)


def autograde(root: Path, jobs: int, assignment: str | None = None) -> tuple[float, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    args = [sys.executable, str(root / "autograder" / "autograde.py"), "--jobs", str(jobs)]
    if assignment:
        args += ["--assignment", assignment]
    start = time.perf_counter()
    run = subprocess.run(args, cwd=root, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        print(run.stdout[-2000:], run.stderr[-2000:])
    return seconds, run.stdout


def full_marks(table: str) -> str:
    rows = [l.split() for l in table.splitlines() if " / " in l]
    full = sum(1 for r in rows if r[-4] == r[-2])   # "<score> / <total> <time>"
    return f"{full}/{len(rows)}"


def main() -> None:
    class_size = int(os.environ.get("BENCH_CLASS", "20"))
    assignment = os.environ.get("BENCH_ASSIGNMENT", "01_mlp")
    jobs = int(os.environ.get("JOBS", "2"))
    all_assignments = sorted(p.parent.name for p in (REPO / "solutions").glob("*/*.ipynb"))
    if assignment not in all_assignments:
        print(f"bench_autograde: no solutions/{assignment}; skipped")
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for plain in (False, True):
            root = make_course(Path(tmp) / ("plain" if plain else "course"), plain=plain)
            submit(root, ["warmup"], all_assignments)
            autograde(root, 1)                      # creates the gradebook, warms caches; not counted
            submit(root, ["student"], all_assignments)
            secs, table = autograde(root, 1)
            rows.append([f"1 student, {len(all_assignments)} notebooks",
                         "nbgrader Execute" if plain else "sandbox (course config)", 1,
                         f"{secs:.1f}", f"{secs / len(all_assignments):.1f}", full_marks(table)])
        root = Path(tmp) / "course"
        base = float(rows[0][3])
        students = [f"s{i:02d}" for i in range(class_size)]
        submit(root, students[:1], [assignment])
        one, _ = autograde(root, 1, assignment)
        class_rows = [[f"1 student, {assignment}", "sandbox", 1, f"{one:.1f}", f"{one:.1f}", "-"]]
        submit(root, students, [assignment])
        serial, table = autograde(root, 1, assignment)
        class_rows.append([f"{class_size} students, {assignment}", "sandbox", 1, f"{serial:.1f}",
                           f"{serial / class_size:.1f}", full_marks(table)])
        if jobs > 1:
            parallel, table = autograde(root, jobs, assignment)
            class_rows.append([f"{class_size} students, {assignment}", "sandbox", jobs, f"{parallel:.1f}",
                               f"{parallel / class_size:.1f}", full_marks(table)])
    rows[1].append(f"{float(rows[1][3]) / base:.2f}x of sandbox")
    rows[0].append("1.00x")
    for r in class_rows:
        r.append(f"{float(r[3]) / float(class_rows[1][3]):.2f}x of serial class" if r is not class_rows[0]
                 else f"x{class_size} = {one * class_size:.0f} s expected serially")
    print_table(f"autograde wall time on {os.cpu_count()} cores (includes kernel start-up per submission)",
                ["what", "execute", "jobs", "seconds", "s / submission", "full marks", "ratio"], rows + class_rows)


if __name__ == "__main__":
    main()
