"""`make grades`: the per-student table and the Canvas gradebook fill (autograder/grades.py).

A small gradebook is built with nbgrader's API (no notebook runs): alice, bob and S003 graded
on some assignments, dave graded but absent from Canvas. The Canvas export is written the way
Canvas writes one: a header row, a "Points Possible" row, a posting-policy row, read-only totals.
"""
from __future__ import annotations

import csv
import io
import sys

import pytest

from conftest import AUTOGRADER

sys.path.insert(0, str(AUTOGRADER))
import grades as G  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Object of type.*not in session")  # nbgrader's add_submission

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01 MLP (1001)",
          "02_batched_mlp: mini-batches (1002)", "Quiz 1 (900)", "Current Score", "Final Score"]
EXPORT = [
    HEADER,
    ["    Points Possible", "", "", "", "", "10.00", "5.00", "3.00", "(read only)", "(read only)"],
    ["", "", "", "", "", "", "Manual Posting", "", "", ""],
    ["Smith, Alice", "501", "S001", "alice", "Sec 1", "", "", "3.00", "50", "50"],
    ["Jones, Bob", "502", "S002", "bob@uni.example", "Sec 1", "", "4.00", "1.00", "40", "40"],
    ["Lee, Carol", "503", "S003", "carol", "Sec 2", "", "", "", "", ""],
    ["Student, Test", "504", "", "testhash", "Sec 1", "", "", "", "", ""],
]


def csv_text(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


@pytest.fixture
def export_file(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(EXPORT).encode())   # Canvas writes a byte-order mark
    return path


def book(scores: dict) -> G.Grades:
    g = G.Grades(assignments={"01_mlp": 10.0, "02_batched_mlp": 5.0},
                 notebooks={("01_mlp", "01_mlp"): 10.0, ("02_batched_mlp", "02_batched_mlp"): 5.0})
    for student, per in scores.items():
        g.scores[student] = dict(per)
        g.notebook_scores[student] = {(a, a): s for a, s in per.items()}
    return g


def rows_by_id(rows) -> dict:
    header = rows[0]
    return {r[header.index("ID")]: dict(zip(header, r)) for r in rows[1:] if r[header.index("ID")]}


def fill(grades, rows=EXPORT, explicit=None):
    export = G.CanvasExport([h.strip() for h in rows[0]], [list(r) for r in rows[1:]])
    return G.fill_canvas(export, grades, explicit)


def test_match_by_login_and_by_sis_user_id():
    out, report = fill(book({"alice": {"01_mlp": 7.5}, "S003": {"01_mlp": 10.0, "02_batched_mlp": 2.0}}))
    got = rows_by_id(out)
    assert got["501"]["01 MLP (1001)"] == "7.5"
    assert got["503"]["01 MLP (1001)"] == "10" and got["503"]["02_batched_mlp: mini-batches (1002)"] == "2"
    assert report["matched"] == {"alice": 2, "S003": 4} and report["missing"] == []


def test_match_by_login_before_the_at_sign_and_case_insensitively():
    out, report = fill(book({"BOB": {"01_mlp": 1.0}}))
    assert rows_by_id(out)["502"]["01 MLP (1001)"] == "1"
    assert report["matched"] == {"BOB": 3}


def test_export_students_without_submission_get_no_made_up_zero():
    out, _ = fill(book({"alice": {"01_mlp": 0.0}}))
    got = rows_by_id(out)
    assert got["501"]["01 MLP (1001)"] == "0"                      # a real zero stays a zero
    assert got["501"]["02_batched_mlp: mini-batches (1002)"] == ""  # alice did not submit 02
    assert got["503"]["01 MLP (1001)"] == "" and got["504"]["01 MLP (1001)"] == ""
    assert got["502"]["02_batched_mlp: mini-batches (1002)"] == "4.00"  # a grade Canvas already had is kept


def test_graded_students_missing_from_the_export_are_reported():
    out, report = fill(book({"alice": {"01_mlp": 3.0}, "dave": {"01_mlp": 9.0}, "erin": {}}))
    assert report["missing"] == ["dave"]                            # erin has no graded submission
    assert "dave" not in csv_text(out)


def test_points_possible_and_posting_rows_are_kept_and_checked():
    out, report = fill(book({"alice": {"01_mlp": 3.0}}))
    assert out[1] == ["    Points Possible", "", "", "", "", "10.00", "5.00"]
    assert out[2][-1] == "Manual Posting"
    assert report["problems"] == []
    wrong = [list(r) for r in EXPORT]
    wrong[1][5] = "20.00"
    _, report = fill(book({"alice": {"01_mlp": 3.0}}), wrong)
    assert any("01_mlp" in p and "20 points" in p and "10" in p for p in report["problems"])
    _, report = fill(book({"alice": {"01_mlp": 3.0}}), [EXPORT[0]] + EXPORT[3:])
    assert any("Points Possible" in p for p in report["problems"])


def test_assignment_columns_matched_by_title_and_others_dropped():
    out, report = fill(book({"alice": {"01_mlp": 3.0}}))
    assert report["columns"] == {"01_mlp": "01 MLP (1001)", "02_batched_mlp": "02_batched_mlp: mini-batches (1002)"}
    assert out[0] == HEADER[:7]      # identity columns and the two matched assignments; Quiz 1 and totals dropped


def test_ambiguous_unknown_and_explicit_columns():
    rows = [list(r) for r in EXPORT]
    for r in rows:
        r.insert(6, r[5])
    rows[0][5:7] = ["01_mlp part A (1001)", "01_mlp part B (1003)"]      # two titles start with 01_mlp
    _, report = fill(book({"alice": {"01_mlp": 3.0}}), rows)
    assert "01_mlp" not in report["columns"]
    assert any("several Canvas columns" in p and "01_mlp" in p for p in report["problems"])
    out, report = fill(book({"alice": {"01_mlp": 3.0}}), rows, {"01_mlp": "1003"})
    assert report["columns"]["01_mlp"] == "01_mlp part B (1003)"
    alice = rows_by_id(out)["501"]
    assert alice["01_mlp part B (1003)"] == "3" and "01_mlp part A (1001)" not in alice
    with pytest.raises(G.CanvasError, match="Homework 9"):
        fill(book({}), rows, {"01_mlp": "Homework 9"})
    g = book({"alice": {"01_mlp": 3.0}})
    g.assignments["05_lenet5"] = 8.0
    _, report = fill(g)
    assert any("05_lenet5" in p and "--column" in p for p in report["problems"])


def test_duplicate_login_is_not_used():
    rows = [list(r) for r in EXPORT] + [["Other, Alice", "505", "S005", "alice", "Sec 2", "", "", "", "", ""]]
    _, report = fill(book({"alice": {"01_mlp": 3.0}}), rows)
    assert report["missing"] == ["alice"]
    assert any("alice" in p and "2 rows" in p for p in report["problems"])


def test_not_a_canvas_export(tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text("student_id,score\nalice,3\n")
    with pytest.raises(G.CanvasError, match="not a Canvas gradebook export"):
        G.read_canvas(path)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(G.CanvasError, match="empty"):
        G.read_canvas(tmp_path / "empty.csv")


def test_student_table_has_empty_cells_and_a_total():
    g = book({"alice": {"01_mlp": 7.25}, "bob": {"01_mlp": 1.0, "02_batched_mlp": 5.0}, "carol": {}})
    rows = G.student_table(g)
    assert rows == [["student_id", "01_mlp", "02_batched_mlp", "total"],
                    ["alice", "7.25", "", "7.25"], ["bob", "1", "5", "6"], ["carol", "", "", "0"]]
    g.notebooks[("02_batched_mlp", "extra")] = 2.0
    assert G.student_table(g)[0] == ["student_id", "01_mlp", "02_batched_mlp/02_batched_mlp",
                                     "02_batched_mlp/extra", "total"]


# --------------------------------------------------------------------------------------------
# End to end on a real nbgrader gradebook


def make_gradebook(root):
    """autograder/nbgrader_config.py and gradebook.db under root: 01_mlp (10 points, two cells),
    02_batched_mlp (5 points); alice and S003 graded, dave graded but not in Canvas, erin not graded."""
    from course_tools import ensure_tools_on_path  # nbgrader runs alembic to create the tables
    from nbgrader.api import Gradebook

    ensure_tools_on_path()
    folder = root / "autograder"
    folder.mkdir(parents=True)
    db = folder / "gradebook.db"
    (folder / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'backprop'\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{db}'\n")
    with Gradebook(f"sqlite:///{db}", course_id="backprop") as gb:
        for name, cells in (("01_mlp", {"t1": 4.0, "t2": 6.0}), ("02_batched_mlp", {"t1": 5.0})):
            gb.add_assignment(name)
            gb.add_notebook(name, name)
            for cell, pts in cells.items():
                gb.add_grade_cell(cell, name, name, max_score=pts, cell_type="code")
        for student in ("alice", "S003", "dave", "erin"):
            gb.add_student(student)
        marks = {("alice", "01_mlp"): {"t1": 4.0, "t2": 0.0}, ("S003", "02_batched_mlp"): {"t1": 5.0},
                 ("dave", "01_mlp"): {"t1": 4.0, "t2": 6.0}}
        for (student, name), per in marks.items():
            gb.add_submission(name, student)
            for cell, score in per.items():
                gb.find_grade(cell, name, name, student).auto_score = score
        gb.db.commit()
    return root


def test_grades_end_to_end(tmp_path, export_file, capsys):
    root = make_gradebook(tmp_path / "course")
    assert G.main(["--root", str(root), "--canvas", str(export_file)]) == 0
    printed = capsys.readouterr().out
    folder = root / "autograder"
    with open(folder / "grades.csv") as fh:               # nbgrader's own export is still written
        assert {(r["student_id"], r["assignment"]) for r in csv.DictReader(fh)} >= {("alice", "01_mlp")}
    with open(folder / "grades_by_student.csv") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["student_id", "01_mlp", "02_batched_mlp", "total"]
    assert ["alice", "4", "", "4"] in table and ["erin", "", "", "0"] in table and ["S003", "", "5", "5"] in table
    assert (folder / "canvas_import.csv").read_bytes().startswith(b"\xef\xbb\xbf")   # as Canvas wrote it
    imported = G.read_canvas(folder / "canvas_import.csv")
    got = rows_by_id([imported.header] + imported.rows)
    assert got["501"]["01 MLP (1001)"] == "4" and got["503"]["02_batched_mlp: mini-batches (1002)"] == "5"
    assert got["503"]["01 MLP (1001)"] == "" and got["504"]["01 MLP (1001)"] == ""
    with open(folder / "canvas_unmatched.csv") as fh:
        assert list(csv.reader(fh)) == [["student_id", "total"], ["dave", "10"]]
    assert "PROBLEM:" in printed and "dave" in printed and "canvas_unmatched.csv" in printed


def test_grades_without_gradebook_or_with_a_bad_export(tmp_path, capsys):
    root = tmp_path / "course"
    (root / "autograder").mkdir(parents=True)
    (root / "autograder" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///{root}/autograder/gradebook.db'\n")
    assert G.main(["--root", str(root)]) == 2
    assert "run make autograde first" in capsys.readouterr().out
    assert not (root / "autograder" / "gradebook.db").exists()
    make_gradebook(tmp_path / "other")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert G.main(["--root", str(tmp_path / "other"), "--canvas", str(bad)]) == 2
    assert "not a Canvas gradebook export" in capsys.readouterr().out
    assert not (tmp_path / "other" / "autograder" / "grades.csv").exists()
