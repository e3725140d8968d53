"""Write HTML feedback for every graded submission.

    python autograder/feedback.py                     everything autograded
    python autograder/feedback.py --assignment 01_mlp

Reads autograder/autograded/<student>/<assignment>/ and writes
autograder/feedback/<student>/<assignment>/<notebook>.html: the student's notebook as graded,
with the score of every test cell, the printed gradient tables and the diagnosis of each
failing test. Hidden tests are removed (feedback_filters.HideHiddenTests). Send each student
their own folder.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_tools import REPO, load_config, quiet_logs, run_converter, short_error, skip_unused_imports  # noqa: E402


def graded(root: Path, assignment: str | None = None, student: str | None = None) -> list[tuple[str, str]]:
    base = Path(root) / "autograder" / "autograded"
    if not base.is_dir():
        return []
    return [(s.name, a.name) for s in sorted(base.iterdir()) if s.is_dir() and (not student or s.name == student)
            for a in sorted(s.iterdir()) if a.is_dir() and (not assignment or a.name == assignment)]


def feedback(root: Path = REPO, assignment: str | None = None, student: str | None = None) -> list[str]:
    """Generate the feedback; return the problems (empty on success)."""
    root = Path(root)
    cfg = load_config(root)
    problems = []
    pairs = graded(root, assignment, student)
    if not pairs:
        return ["nothing autograded yet: run autograde first"]
    for s, a in pairs:
        result = run_converter("generate_feedback", cfg, a, s)
        if not result.get("success"):
            problems.append(f"{s}/{a}: nbgrader generate_feedback failed:\n{short_error(result)}")
        else:
            print(f"feedback {s}/{a} -> {root / 'autograder' / 'feedback' / s / a}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default=None)
    parser.add_argument("--student", default=None)
    parser.add_argument("--root", default=str(REPO), help="course root (the repository)")
    args = parser.parse_args(argv)
    skip_unused_imports()
    quiet_logs()
    problems = feedback(Path(args.root), args.assignment, args.student)
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
