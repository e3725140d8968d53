"""Export the grades: nbgrader's CSV, a table per student, and (optionally) a Canvas import file.

    python autograder/grades.py                               grades.csv and grades_by_student.csv
    python autograder/grades.py --canvas export.csv           ... and canvas_import.csv
    python autograder/grades.py --canvas export.csv --column 01_mlp="Homework 1"

Writes, in autograder/:

- grades.csv: nbgrader's own export (one row per student and assignment; a missing submission
  appears there as score 0, which is nbgrader's convention);
- grades_by_student.csv: one row per student, one column per notebook (the notebook's score
  after any late penalty; empty when the student submitted nothing for it) and the total;
- with --canvas: canvas_import.csv, the Canvas gradebook export with the columns of the
  course's assignments filled in, ready for Canvas's Grades > Import; and canvas_unmatched.csv,
  the graded students that the export does not list (also printed).

Canvas exports start with a header row (Student, ID, SIS User ID, SIS Login ID, Section, one
column per assignment named "Title (canvas id)", then read-only totals) and one or two rows
without an ID ("Points Possible", sometimes the posting policy). The import file keeps the
identity columns, those rows and the matched assignment columns only, so Canvas changes
nothing else. A student is matched by SIS Login ID, else SIS User ID, else the part of the
login before "@" (each only when it names a single row). An assignment is matched to the column
whose title is the assignment id up to case and punctuation ("02 Batched MLP" for 02_batched_mlp)
or starts with it ("01_mlp: the delta recursion"); --column names the column explicitly.
A student in the export without a graded submission keeps the export's cell (empty unless
Canvas already had a grade): nothing is filled in for work that was not graded.
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_tools import REPO, load_config, quiet_logs, skip_unused_imports  # noqa: E402

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section")
ASSIGNMENT_HEADER = re.compile(r"^(?P<title>.*?)\s*\((?P<id>\d+)\)\s*$")
POINTS_POSSIBLE = "points possible"


# ---------------------------------------------------------------------------------------------
# The gradebook


@dataclass
class Grades:
    """Scores from the gradebook.

    assignments: assignment id -> max score; notebooks: (assignment, notebook) -> max score;
    scores: student -> {assignment: score}; notebook_scores: student -> {(assignment, notebook): score}.
    A student without a submission for an assignment has no entry for it (never a 0)."""

    assignments: dict = field(default_factory=dict)
    notebooks: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    notebook_scores: dict = field(default_factory=dict)


def _after_penalty(score, penalty) -> float:
    return max(0.0, float(score or 0.0) - float(penalty or 0.0))


def read_gradebook(gb) -> Grades:
    """Collect the scores of an open nbgrader Gradebook (late penalties applied, as nbgrader's CSV does)."""
    out = Grades()
    for assignment in gb.assignments:
        out.assignments[assignment.name] = float(assignment.max_score or 0.0)
        for nb in assignment.notebooks:
            out.notebooks[(assignment.name, nb.name)] = float(nb.max_score or 0.0)
    for student in gb.students:
        out.scores[student.id] = {}
        out.notebook_scores[student.id] = {}
        for sub in student.submissions:
            name = sub.assignment.name
            out.scores[student.id][name] = _after_penalty(sub.score, sub.late_submission_penalty)
            for nb in sub.notebooks:
                out.notebook_scores[student.id][(name, nb.notebook.name)] = _after_penalty(
                    nb.score, nb.late_submission_penalty)
    return out


def points(value: float) -> str:
    """A score as Canvas and spreadsheets read it: 7, 7.5, 7.25."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def notebook_columns(grades: Grades) -> list[tuple[str, str, str]]:
    """(column name, assignment, notebook), sorted: the assignment id when the assignment has a single
    notebook, "assignment/notebook" otherwise."""
    per_assignment: dict = {}
    for a, nb in grades.notebooks:
        per_assignment.setdefault(a, []).append(nb)
    return [(a if len(nbs) == 1 else f"{a}/{nb}", a, nb)
            for a, nbs in sorted(per_assignment.items()) for nb in sorted(nbs)]


def student_table(grades: Grades) -> list[list[str]]:
    """Rows of grades_by_student.csv, header first: student_id, one column per notebook, total."""
    cols = notebook_columns(grades)
    rows = [["student_id"] + [c for c, _, _ in cols] + ["total"]]
    for student in sorted(grades.scores):
        mine = grades.notebook_scores.get(student, {})
        cells = [points(mine[(a, nb)]) if (a, nb) in mine else "" for _, a, nb in cols]
        rows.append([student] + cells + [points(sum(mine.values()))])
    return rows


def print_table(rows: list[list[str]], grades: Grades, out=sys.stdout) -> None:
    cols = notebook_columns(grades)
    maxima = ["max"] + [points(grades.notebooks[(a, nb)]) for _, a, nb in cols] + \
             [points(sum(grades.notebooks.values()))]
    widths = [max(len(r[i]) for r in rows + [maxima]) for i in range(len(maxima))]
    for row in [rows[0], maxima] + rows[1:]:
        print("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))),
              file=out)


# ---------------------------------------------------------------------------------------------
# Canvas


class GradesError(ValueError):
    """Nothing to export, or a bad argument."""


class CanvasError(GradesError):
    """The Canvas export cannot be used (not a gradebook export, or an unknown column named)."""


@dataclass
class CanvasExport:
    header: list
    rows: list                      # every row after the header, as lists of the header's length
    bom: bool = False

    def col(self, name: str) -> int | None:
        return self.header.index(name) if name in self.header else None

    def is_student(self, row) -> bool:
        """Points Possible and posting-policy rows have no Canvas ID; student rows do."""
        return bool(row[self.col("ID")].strip()) and row[0].strip().lower() != POINTS_POSSIBLE


def read_canvas(path: Path) -> CanvasExport:
    """Parse a Canvas gradebook export; CanvasError names what is missing."""
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in r)]
    if not rows:
        raise CanvasError(f"{path}: the file is empty (expected a Canvas gradebook export)")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in ("Student", "ID") if c not in header]
    if missing or not {"SIS Login ID", "SIS User ID"} & set(header):
        raise CanvasError(f"{path}: not a Canvas gradebook export: the first row must name the columns Student, "
                          f"ID and SIS Login ID or SIS User ID (found {', '.join(header[:6])} ...)")
    width = len(header)
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    return CanvasExport(header, body, raw.startswith(b"\xef\xbb\xbf"))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def match_columns(export: CanvasExport, names, explicit: dict | None = None) -> tuple[dict, list[str]]:
    """nbgrader assignment -> column index of the export; and the problems (unmatched, ambiguous).

    explicit: assignment -> a column's full header, its title or its Canvas id."""
    columns = {i: ASSIGNMENT_HEADER.match(h) for i, h in enumerate(export.header)}
    columns = {i: m for i, m in columns.items() if m and export.header[i] not in IDENTITY}
    found, problems, unmatched = {}, [], []
    for name, wanted in (explicit or {}).items():
        hits = [i for i, m in columns.items() if wanted.strip() in (export.header[i], m["title"], m["id"])]
        if len(hits) != 1:
            how_many = "no" if not hits else "more than one"
            raise CanvasError(f"--column {name}={wanted!r}: {how_many} assignment column of the export is called "
                              f"that (columns: {_titles(export, columns)})")
        found[name] = hits[0]
    for name in names:
        if name in found:
            continue
        key = _norm(name)
        exact = [i for i, m in columns.items() if _norm(m["title"]) == key]
        prefix = [i for i, m in columns.items() if _norm(m["title"]).startswith(key + " ")]
        hits = exact or prefix
        if len(hits) == 1:
            found[name] = hits[0]
        elif hits:
            candidates = ", ".join(export.header[i] for i in hits)
            problems.append(f"{name}: several Canvas columns could be it ({candidates}); "
                            f"choose one with --column {name}=\"...\"; not filled")
        else:
            unmatched.append(name)
    if unmatched:
        problems.append(f"no Canvas assignment column is named after {', '.join(unmatched)} (the export has "
                        f"{_titles(export, columns)}): create the assignment in Canvas or map it with --column; "
                        "not filled")
    return found, problems


def _titles(export, columns) -> str:
    return ", ".join(repr(export.header[i]) for i in columns) or "none"


def _student_index(export: CanvasExport) -> tuple[list[dict], list[str]]:
    """Lookup tables (login, SIS user id, login before '@') -> row index; keys naming several rows are dropped."""
    specs = [("SIS Login ID", False), ("SIS User ID", False), ("SIS Login ID", True)]
    tables, problems = [], []
    for column, local_part in specs:
        j = export.col(column)
        table: dict = {}
        for i, row in enumerate(export.rows if j is not None else []):
            value = row[j].strip().lower()
            key = value.split("@")[0] if local_part and "@" in value else ("" if local_part else value)
            if key and export.is_student(row):
                table.setdefault(key, []).append(i)
        problems += [f"{column} {k!r} appears on {len(hits)} rows of the export; not used for matching"
                     for k, hits in table.items() if len(hits) > 1 and not local_part]
        tables.append({k: hits[0] for k, hits in table.items() if len(hits) == 1})
    return tables, problems


def match_students(export: CanvasExport, students) -> tuple[dict, list[str], list[str]]:
    """student id -> row index; the graded students not found; problems (duplicate keys, two students on one row)."""
    tables, problems = _student_index(export)
    found, missing, taken = {}, [], {}
    for student in students:
        key = student.strip().lower()
        row = next((t[key] for t in tables if key in t), None)
        if row is None:
            missing.append(student)
        elif row in taken:
            problems.append(f"{student} and {taken[row]} both match the Canvas row of {export.rows[row][0]!r}; "
                            f"{student} not filled")
        else:
            found[student] = row
            taken[row] = student
    return found, missing, problems


def fill_canvas(export: CanvasExport, grades: Grades, explicit: dict | None = None) -> tuple[list[list[str]], dict]:
    """The rows of the import file (header first) and a report: matched, missing, problems, changed."""
    columns, problems = match_columns(export, sorted(grades.assignments), explicit)
    graded = sorted(s for s, done in grades.scores.items() if done)
    rows_of, missing, more = match_students(export, graded)
    problems += more
    problems += _points_mismatch(export, grades, columns)
    keep = [export.col(c) for c in IDENTITY if export.col(c) is not None]
    keep += sorted(columns.values())
    table = [list(r) for r in export.rows]
    changed = 0
    for student, i in rows_of.items():
        for name, j in columns.items():
            if name in grades.scores[student]:
                value = points(grades.scores[student][name])
                changed += table[i][j].strip() != value
                table[i][j] = value
    out = [[export.header[j] for j in keep]] + [[row[j] for j in keep] for row in table]
    return out, dict(columns={a: export.header[j] for a, j in columns.items()}, matched=rows_of,
                     missing=missing, problems=problems, changed=changed)


def _points_mismatch(export, grades, columns) -> list[str]:
    row = next((r for r in export.rows if r[0].strip().lower() == POINTS_POSSIBLE), None)
    if row is None:
        return ["the export has no 'Points Possible' row: is it a Canvas gradebook export?"]
    out = []
    for name, j in columns.items():
        try:
            canvas = float(row[j])
        except ValueError:
            continue
        if abs(canvas - grades.assignments[name]) > 1e-9:
            out.append(f"{name}: Canvas's {export.header[j]!r} is worth {points(canvas)} points, the notebook "
                       f"{points(grades.assignments[name])}; raw scores are imported "
                       "(change Points Possible in Canvas)")
    return out


# ---------------------------------------------------------------------------------------------
# Files


def write_csv(path: Path, rows, bom: bool = False) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as fh:
        csv.writer(fh).writerows(rows)


def export_nbgrader_csv(cfg, gb, dest: Path) -> None:
    """nbgrader's own CSV export (what `nbgrader export` writes)."""
    from nbgrader.plugins.export import CsvExportPlugin

    CsvExportPlugin(config=cfg, to=str(dest)).export(gb)


def grades(root: Path = REPO, canvas: Path | None = None, explicit: dict | None = None, out=sys.stdout) -> list[str]:
    """Write the files; return the problems (the graded students missing from Canvas among them)."""
    from nbgrader.api import Gradebook

    root = Path(root)
    folder = root / "autograder"
    cfg = load_config(root)
    db_url = cfg.CourseDirectory.db_url
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):].split("?")[0]).exists():
        raise GradesError(f"no gradebook yet ({db_url}): run make autograde first")
    export = read_canvas(Path(canvas)) if canvas else None   # fail on a bad export before writing anything
    with Gradebook(db_url, course_id=cfg.CourseDirectory.course_id) as gb:
        export_nbgrader_csv(cfg, gb, folder / "grades.csv")
        book = read_gradebook(gb)
    table = student_table(book)
    write_csv(folder / "grades_by_student.csv", table)
    print_table(table, book, out)
    print(f"\nwrote {folder / 'grades.csv'} (nbgrader) and {folder / 'grades_by_student.csv'}", file=out)
    if export is None:
        return []
    rows, report = fill_canvas(export, book, explicit)
    write_csv(folder / "canvas_import.csv", rows, export.bom)
    write_csv(folder / "canvas_unmatched.csv",
              [["student_id", "total"]] + [[s, points(sum(book.scores[s].values()))] for s in report["missing"]])
    print(f"wrote {folder / 'canvas_import.csv'}: {len(report['matched'])} students, "
          f"{len(report['columns'])} assignment columns ({', '.join(report['columns'].values()) or 'none'}), "
          f"{report['changed']} cells changed", file=out)
    problems = list(report["problems"])
    if report["missing"]:
        problems.append(f"{len(report['missing'])} graded students are not in the Canvas export (listed in "
                        f"{folder / 'canvas_unmatched.csv'}): {', '.join(report['missing'])}")
    return problems


def parse_columns(pairs) -> dict:
    out = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise CanvasError(f"--column {pair!r}: expected ASSIGNMENT=\"Canvas column\"")
        out[name.strip()] = value.strip()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--canvas", default=None, help="a gradebook CSV exported from Canvas")
    parser.add_argument("--column", action="append", default=[], metavar='ASSIGNMENT="Canvas column"',
                        help="match an assignment to a Canvas column by its header, title or id (repeatable)")
    parser.add_argument("--root", default=str(REPO), help="course root (the repository)")
    args = parser.parse_args(argv)
    skip_unused_imports()
    quiet_logs()
    try:
        problems = grades(Path(args.root), args.canvas, parse_columns(args.column))
    except (GradesError, OSError) as exc:
        print(f"ERROR: {exc}")
        return 2
    for p in problems:
        print("PROBLEM:", p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
