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
   While it runs, a progress bar on stdout shows submissions done / total, the time elapsed and
   the time left; nothing else is printed per submission: whatever the kernels write to stderr,
   and the warnings of nbgrader and the sandbox (a kernel restarted, a cell timed out), are kept
   and listed as NOTE lines after the table.
3. A table of scores is printed, then the notes, the problems (PROBLEM lines: submissions not
   graded and why) and a one-line summary; the exit status is non-zero only if nbgrader itself
   failed.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_tools import (REPO, assignments, load_config, quiet_logs, run_converter,  # noqa: E402
                          short_error, skip_unused_imports, submissions)


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


# Every ipykernel started without CurveZMQ keys logs a warning that it talks over TCP without
# encryption (ipykernel.kernelapp.init_sockets), once per submission. The cure, jupyter_client's
# KernelManager.transport_encryption = "auto", does not work under the sandbox yet: ipykernel 7.4
# then rewrites its connection file, which a Landlocked kernel may not write, and dies. So the grading
# kernels' own log stays below ERROR. Student output (stdout, stderr, errors of cells) is not this log.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]
# nbgrader log lines that are not worth a note: it replaces earlier results; a test cell whose hidden
# tests the student version lacks has another checksum (the cell is restored from the gradebook anyway).
ROUTINE = ("Removing existing assignment", "Attribute 'checksum' for cell")


@dataclass
class Graded:
    """The outcome of grading one submission."""

    student: str
    assignment: str
    ok: bool
    error: str            # nbgrader's failure, summarised ("" on success)
    seconds: float
    notes: list           # warnings of nbgrader and the sandbox, and whatever the kernels wrote to stderr

    def __iter__(self):   # unpacks like the (student, assignment, ok, error, seconds) tuples of before
        return iter((self.student, self.assignment, self.ok, self.error, self.seconds))


@contextmanager
def stderr_into(path: Path):
    """Point file descriptor 2 (inherited by the kernels) at `path` for the duration."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def notes_of(log: str, stderr: str, limit: int = 6) -> list[str]:
    """The lines of a grading log and of the kernels' stderr that an instructor should read."""
    lines = [l.strip() for l in (log or "").splitlines()
             if l.startswith(("[WARNING]", "[ERROR]")) and not any(r in l for r in ROUTINE)]
    lines += [f"stderr: {l.rstrip()}" for l in stderr.splitlines() if l.strip()]
    unique = list(dict.fromkeys(lines))
    return unique[:limit] + ([f"... {len(unique) - limit} more lines"] if len(unique) > limit else [])


def _grade_one(args) -> Graded:
    root, student, assignment = args
    quiet_logs()
    cfg = load_config(root)
    cfg.GuardedExecute.extra_arguments = KERNEL_ARGS
    # After the last cell every output is in and the kernel has nothing to save: stop it at once
    # (a polite shutdown request waits 0.2-0.5 s per submission for the kernel to exit).
    cfg.GuardedExecute.shutdown_kernel = "immediate"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="autograde-") as tmp:
        err = Path(tmp) / "stderr.txt"
        with stderr_into(err):
            for attempt in range(3):
                result = run_converter("autograde", cfg, assignment, student)
                text = (result.get("error") or "") + (result.get("log") or "")
                if result.get("success") or "database is locked" not in text:
                    break
                time.sleep(1 + attempt)
        stderr = err.read_text(errors="replace")
    ok = bool(result.get("success"))
    notes = notes_of(result.get("log") or "", stderr) if ok else notes_of("", stderr)   # failures: log in PROBLEM
    return Graded(student, assignment, ok, "" if ok else short_error(result), time.perf_counter() - start, notes)


def grade_all(tasks, jobs: int, progress: bool = True) -> list[Graded]:
    """Grade (root, student, assignment) tasks, `jobs` at a time; a progress bar on stdout (done/total,
    elapsed, time left). Results in the order of `tasks`."""
    from tqdm import tqdm

    results = []
    bar = tqdm(total=len(tasks), file=sys.stdout, unit="submission", desc="autograde", smoothing=0,
               dynamic_ncols=True, disable=not progress)
    with bar:
        if jobs <= 1 or len(tasks) == 1:
            done = (_grade_one(t) for t in tasks)
        else:
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
            done = (f.result() for f in as_completed([pool.submit(_grade_one, t) for t in tasks]))
        try:
            for graded in done:
                results.append(graded)
                bar.set_postfix_str(f"{graded.student}/{graded.assignment}", refresh=False)
                bar.update()
        finally:
            if jobs > 1 and len(tasks) > 1:
                pool.shutdown(cancel_futures=True)
    order = {(t[1], t[2]): i for i, t in enumerate(tasks)}
    return sorted(results, key=lambda g: order[(g.student, g.assignment)])


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
    """Grade the matching submissions. Returns (results, problems): results are Graded records
    (which unpack as (student, assignment, success, error summary, seconds)). With `verbose`, a
    progress bar while grading, then the score table and the notes, on stdout."""
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
    results = grade_all(tasks, jobs, progress=verbose)
    problems += [f"{s}/{a}: nbgrader autograde failed:\n{err}" for s, a, ok, err, _ in results if not ok]
    if verbose:
        print_report(root, pairs, results, broken)
    return results, problems


def print_report(root: Path, pairs, results, broken) -> None:
    """The score table, then every note (kernel restarts, time-outs, anything a kernel wrote to stderr)."""
    table = scores(root, pairs)
    print(f"{'student':<20} {'assignment':<24} {'score':>12}  time")
    for s, a, ok, _, secs in results:
        got, total = table[(s, a)]
        shown = "FAILED" if not ok or got is None else f"{got:g} / {total:g}"
        print(f"{s:<20} {a:<24} {shown:>12}  {secs:.1f}s")
    for s, a in broken:
        print(f"{s:<20} {a:<24} {'NOT GRADED':>12}  (see PROBLEM below)")
    for g in results:
        for note in g.notes:
            print(f"NOTE: {g.student}/{g.assignment}: {note}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded in parallel")
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--student", default=None)
    parser.add_argument("--root", default=str(REPO), help="course root (the repository)")
    args = parser.parse_args(argv)
    skip_unused_imports()
    quiet_logs()
    start = time.perf_counter()
    results, problems = autograde(Path(args.root), args.jobs, args.assignment, args.student)
    for p in problems:
        print("PROBLEM:", p)
    failed = sum(not g.ok for g in results)
    noted = sum(bool(g.notes) for g in results)
    print(f"{len(results) - failed} submissions graded, {failed} failed, "
          f"{sum(p.count('NOT GRADED') for p in problems)} not graded, {noted} with notes, "
          f"{len(problems)} problems, in {time.perf_counter() - start:.0f} s")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
