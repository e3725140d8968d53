"""Grade every submission in autograder/submitted/ and print a score table.

    python autograder/autograde.py --jobs 2                  everything
    python autograder/autograde.py --assignment 01_mlp       one assignment
    python autograder/autograde.py --student alice           one student

Submissions: autograder/submitted/<student>/<assignment>/<notebook>.ipynb (a folder per student;
the student id is the folder name; students are added to the gradebook automatically).

1. The gradebook is brought up to date with solutions/ (nbgrader generate_assignment into the
   git-ignored autograder/release/, so course/ is not touched): autograde needs the test cells,
   hidden tests included, from there.
2. Each (student, assignment) is graded by nbgrader autograde, `--jobs` at a time: the locked
   cells are restored from the gradebook, the notebook runs in a fresh kernel (cell timeout in
   nbgrader_config.py), and every graded test cell scores its points or zero.
3. A table of scores is printed; the exit status is non-zero only if nbgrader itself failed.
"""
from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_tools import (REPO, assignments, load_config, quiet_logs, run_converter,  # noqa: E402
                          short_error, submissions)


def register(root: Path, names, students=()) -> list[str]:
    """Record each assignment (and its test cells) and each student in the gradebook; return problems.

    Students are added here, before the parallel workers start: two workers creating the same
    student at once would collide in the database."""
    from nbgrader.api import Gradebook

    cfg = load_config(root, release_directory=str((Path(root) / "autograder" / "release").resolve()))
    problems = []
    with Gradebook(cfg.CourseDirectory.db_url, course_id=cfg.CourseDirectory.course_id) as gb:
        for student in students:
            gb.update_or_create_student(student)
    for name in names:
        result = run_converter("generate_assignment", cfg, name)
        if not result.get("success"):
            problems.append(f"{name}: could not register the assignment:\n{short_error(result)}")
    return problems


def _grade_one(args) -> tuple[str, str, bool, str, float]:
    root, student, assignment = args
    quiet_logs()
    cfg = load_config(root)
    start = time.perf_counter()
    for attempt in range(3):
        result = run_converter("autograde", cfg, assignment, student)
        text = (result.get("error") or "") + (result.get("log") or "")
        if result.get("success") or "database is locked" not in text:
            break
        time.sleep(1 + attempt)
    return student, assignment, bool(result.get("success")), short_error(result), time.perf_counter() - start


def unreadable(root: Path, pairs) -> dict:
    """(student, assignment) -> reasons, for submissions whose notebooks are missing, renamed or damaged."""
    from sandbox import submission_problems

    out = {}
    for s, a in pairs:
        expected = sorted(p.name for p in (Path(root) / "solutions" / a).glob("*.ipynb"))
        reasons = submission_problems(Path(root) / "autograder" / "submitted" / s / a, expected)
        if reasons:
            out[(s, a)] = reasons
    return out


def scores(root: Path, pairs) -> dict:
    """(student, assignment) -> (score, max_score) from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    cfg = load_config(root)
    out = {}
    with Gradebook(cfg.CourseDirectory.db_url, course_id=cfg.CourseDirectory.course_id) as gb:
        for student, assignment in pairs:
            try:
                sub = gb.find_submission(assignment, student)
                out[(student, assignment)] = (sub.score, sub.max_score)
            except MissingEntry:
                out[(student, assignment)] = (None, None)
    return out


def autograde(root: Path = REPO, jobs: int = 2, assignment: str | None = None, student: str | None = None,
              verbose: bool = True) -> tuple[list, list]:
    """Grade the matching submissions. Returns (results, problems): results are tuples
    (student, assignment, success, error summary, seconds)."""
    root = Path(root)
    known = set(assignments(root))
    pairs = submissions(root, assignment, student)
    problems = [f"{s}/{a}: there is no solutions/{a}, skipped" for s, a in pairs if a not in known]
    pairs = [(s, a) for s, a in pairs if a in known]
    if not pairs:
        return [], problems + ["no submissions found in autograder/submitted/<student>/<assignment>/"]
    problems += register(root, sorted({a for _, a in pairs}), sorted({s for s, _ in pairs}))
    broken = unreadable(root, pairs)   # renamed, missing or damaged notebooks: reported, not graded
    problems += [f"{s}/{a}: NOT GRADED: {reason}" for (s, a), reasons in broken.items() for reason in reasons]
    tasks = [(str(root), s, a) for s, a in pairs if (s, a) not in broken]
    if jobs <= 1 or len(tasks) == 1:
        results = [_grade_one(t) for t in tasks]
    else:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            results = list(pool.map(_grade_one, tasks))
    problems += [f"{s}/{a}: nbgrader autograde failed:\n{err}" for s, a, ok, err, _ in results if not ok]
    if verbose:
        table = scores(root, pairs)
        print(f"{'student':<20} {'assignment':<24} {'score':>12}  time")
        for s, a, ok, _, secs in results:
            got, total = table[(s, a)]
            shown = "FAILED" if not ok or got is None else f"{got:g} / {total:g}"
            print(f"{s:<20} {a:<24} {shown:>12}  {secs:.1f}s")
        for s, a in broken:
            print(f"{s:<20} {a:<24} {'NOT GRADED':>12}  (see PROBLEM below)")
    return results, problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded in parallel")
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--student", default=None)
    parser.add_argument("--root", default=str(REPO), help="course root (the repository)")
    args = parser.parse_args(argv)
    quiet_logs()
    results, problems = autograde(Path(args.root), args.jobs, args.assignment, args.student)
    for p in problems:
        print("PROBLEM:", p)
    return 1 if any(not ok for _, _, ok, _, _ in results) or not results else 0


if __name__ == "__main__":
    sys.exit(main())
