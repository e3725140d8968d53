"""Generate the student notebooks in course/ from the instructor notebooks in solutions/.

    python autograder/release.py                  every assignment in solutions/
    python autograder/release.py 01_mlp 03_softmax
    python autograder/release.py --out /tmp/x --db sqlite:////tmp/x/gb.db   (used by the tests)

For each assignment nbgrader's generate_assignment strips the solutions (a stub raising
NotImplementedError takes their place), removes the hidden tests, locks the test cells, clears
all outputs and records the assignment and its test cells in the gradebook (which autograde
needs). Only course/<assignment>/ folders are rewritten: course/lib/ and anything else in
course/ stay as they are.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_tools import REPO, assignments, load_config, quiet_logs, run_converter, short_error  # noqa: E402
from markers import HIDDEN, KINDS, MARKER_LINES, SOLUTION, cell_source, has_markers, marker  # noqa: E402


def release(root: Path = REPO, names=None, out: Path | None = None, db_url: str | None = None) -> list[str]:
    """Generate the student version of each assignment; return the problems found (empty: success)."""
    root = Path(root)
    names = list(names or assignments(root))
    out = Path(out) if out else root / "course"
    overrides = {"release_directory": str(out.resolve())}
    if db_url:
        overrides["db_url"] = db_url
    cfg = load_config(root, **overrides)
    problems = []
    for name in names:
        if not (root / "solutions" / name).is_dir():
            problems.append(f"{name}: no such folder solutions/{name}")
            continue
        lint = [f"{name}: {p}" for nb in sorted((root / "solutions" / name).glob("*.ipynb"))
                for p in lint_source(nb)]
        if lint:
            problems += lint
            continue
        result = run_converter("generate_assignment", cfg, name)
        if not result.get("success"):
            problems.append(f"{name}: nbgrader generate_assignment failed:\n{short_error(result)}")
            continue
        problems += [f"{name}: {p}" for p in verify_release(out / name)]
        print(f"released {name} -> {out / name}")
    return problems


def lint_source(nb_path: Path) -> list[str]:
    """Mistakes nbgrader reports obscurely (or not at all), named by cell."""
    nb = json.loads(nb_path.read_text())
    problems, ids = [], {}
    for i, cell in enumerate(nb["cells"]):
        src = cell_source(cell)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        where = f"{nb_path.name} cell {i} ({meta.get('grade_id') or cell['cell_type']})"
        gid = meta.get("grade_id")
        if gid:
            if gid in ids:
                problems.append(f"{where}: grade_id {gid!r} also used by cell {ids[gid]}")
            ids[gid] = i
        lines = [l.strip() for l in src.splitlines()]
        for word in (f"BEGIN {SOLUTION}", f"END {SOLUTION}", HIDDEN):
            if any(word in l and l not in MARKER_LINES for l in lines):
                problems.append(f"{where}: the text {word!r} appears outside a marker line. nbgrader treats a line "
                                f"containing a marker as one, and course/ must not contain these words: keep "
                                f"markers on lines of their own and describe them in other words in prose "
                                f"(\"the solution block\", \"tests that run only when grading\").")
        if cell["cell_type"] == "code":
            for kind in KINDS:
                begin, end = marker("BEGIN", kind), marker("END", kind)
                if lines.count(begin) != lines.count(end):
                    problems.append(f"{where}: unbalanced {begin} / {end}")
            if marker("BEGIN", SOLUTION) in lines and not meta.get("solution"):
                problems.append(f"{where}: has {marker('BEGIN', SOLUTION)} but is not an nbgrader solution cell")
            if marker("BEGIN", HIDDEN) in lines and not meta.get("grade"):
                problems.append(f"{where}: has hidden tests but is not a graded cell")
        if meta.get("grade") and "points" not in meta:
            problems.append(f"{where}: graded cell without points")
    return problems


def student_cell_problems(cell: dict, where: str) -> list[str]:
    """What a cell of a student notebook must not have: marker words, outputs."""
    problems = [f"{where}: contains '{word}'" for word in has_markers(cell_source(cell))]
    if cell.get("outputs"):
        problems.append(f"{where}: has outputs")
    return problems


def verify_release(folder: Path) -> list[str]:
    """A student folder must contain no solution, no hidden test and no output."""
    problems = []
    for nb_path in sorted(folder.glob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        for i, cell in enumerate(nb["cells"]):
            problems += student_cell_problems(cell, f"{nb_path.name} cell {i}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment folders of solutions/ (default: all)")
    parser.add_argument("--root", default=str(REPO), help="course root (the repository)")
    parser.add_argument("--out", default=None, help="release folder (default: <root>/course)")
    parser.add_argument("--db", default=None, help="gradebook URL (default: <root>/autograder/gradebook.db)")
    args = parser.parse_args(argv)
    quiet_logs()
    root = Path(args.root)
    if not assignments(root) and not args.assignments:
        print(f"no assignments in {root / 'solutions'}")
        return 0
    problems = release(root, args.assignments, Path(args.out) if args.out else None, args.db)
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
