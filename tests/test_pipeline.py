"""The nbgrader pipeline end to end, on a temporary copy of the course.

Every notebook in solutions/ is released, then submitted by several students:
- "instructor": the solution notebooks themselves -> full marks;
- "blank": the untouched student notebooks -> zero, without crashing;
- "wrong_k": the solution notebooks with seeded mistakes (tests/pipeline_cases/<assignment>.py,
  each a search/replace in one solution cell) -> exactly the points of the broken exercises lost,
  with the expected words in the failing cells' output.
Then feedback is generated (diagnosis shown, hidden tests not) and grades exported.
Everything is graded once (module fixture) by the real scripts: release.py, autograde.py,
feedback.py and `nbgrader export`. Cases of one assignment that touch different cells and
expect different failures share a student, so the run stays short.
"""
from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (AUTOGRADER, PYTHON, build_once, load_pipeline_cases, make_course_copy, notebook_text,
                      read_notebook, run_script, solution_notebooks)

sys.path.insert(0, str(AUTOGRADER))
from markers import HIDDEN, blocks, public_text  # noqa: E402  (the one parser of nbgrader's markers)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("nbgrader")]

NOTEBOOKS = solution_notebooks()
ASSIGNMENTS = sorted({a for a, _ in NOTEBOOKS})
CASES = load_pipeline_cases()
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def copied(root: Path, assignment: str, live: Path) -> Path:
    """The notebook in the pipeline's copy of solutions/ (what was released and registered)."""
    return Path(root) / "solutions" / assignment / Path(live).name


def source_notebooks(pipeline, assignment) -> list[dict]:
    return [read_notebook(copied(pipeline["root"], a, p)) for a, p in NOTEBOOKS if a == assignment]


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def graded_cells(nb) -> dict:
    """grade_id -> points of every graded cell."""
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            out[meta["grade_id"]] = float(meta.get("points", 0))
    return out


def apply_case(nb: dict, case) -> str | None:
    """Edit the notebook in place; return a problem description or None."""
    cells = [c for c in nb["cells"] if grade_id(c) == case.cell]
    if len(cells) != 1:
        return f"{case.notebook}: no single cell with grade_id {case.cell!r}"
    src = notebook_text(cells[0])
    if src.count(case.old) != 1:
        return f"{case.notebook}/{case.cell}: {case.old!r} occurs {src.count(case.old)} times (must be once)"
    cells[0]["source"] = src.replace(case.old, case.new)
    return None


def pack(cases) -> list[dict]:
    """Spread cases over as few students as possible: within one assignment a student gets
    cases on different cells whose expected failures do not overlap."""
    students: list[dict] = []
    for case in cases:
        for student in students:
            here = student.setdefault(case.notebook, [])
            if all(c.cell != case.cell and not set(c.fails) & set(case.fails) for c in here):
                here.append(case)
                break
        else:
            students.append({case.notebook: [case]})
    return students


def output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", "") if isinstance(out.get("text"), str) else "".join(out["text"]))
        elif out.get("output_type") == "error":
            parts += [out.get("ename", ""), out.get("evalue", "")] + [ANSI.sub("", t) for t in out.get("traceback", [])]
        elif "data" in out:
            text = out["data"].get("text/plain", "")
            parts.append(text if isinstance(text, str) else "".join(text))
    return "\n".join(parts)


def html_text(path: Path) -> str:
    raw = path.read_text()
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.fixture(scope="session")
def pipeline():
    """The graded class, built once per test run: every test here is in xdist group "nbgrader" (one
    worker), and `build_once` locks across workers anyway. The folder is the run's temporary folder
    (not pytest's tmp_path, which other pytest runs on the machine rotate away), removed at the end."""
    if not NOTEBOOKS:
        pytest.skip("no notebooks in solutions/")
    return build_once("pipeline", lambda folder: run_pipeline(make_course_copy(folder / "course")))


def run_pipeline(root: Path) -> dict:
    timings = {}
    t0 = time.perf_counter()
    rel = run_script(root, "release.py")
    timings["release"] = time.perf_counter() - t0
    released = {a for a in ASSIGNMENTS if any((root / "course" / a).glob("*.ipynb"))}
    release_log = rel.stdout + rel.stderr[-3000:]

    submitted = root / "autograder" / "submitted"
    problems = {}
    for assignment, live in NOTEBOOKS:
        if assignment not in released:
            continue
        path = copied(root, assignment, live)   # the copy: authors may be editing the live notebooks
        for who, src in (("instructor", path), ("blank", root / "course" / assignment / path.name)):
            dest = submitted / who / assignment
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / path.name)
    packed = pack([c for c in CASES if c.notebook in released])
    placement = {}
    for k, plan in enumerate(packed, start=1):
        who = f"wrong_{k}"
        for assignment, cases in plan.items():
            path = dict(NOTEBOOKS)[assignment] if sum(a == assignment for a, _ in NOTEBOOKS) == 1 else None
            if path is None:
                for case in cases:
                    problems[case] = f"{assignment} has several notebooks; cases need one notebook per assignment"
                continue
            nb = read_notebook(copied(root, assignment, path))
            for case in cases:
                problem = apply_case(nb, case)
                if problem:
                    problems[case] = problem
                placement[case] = (who, assignment, path.name, cases)
            dest = submitted / who / assignment
            dest.mkdir(parents=True, exist_ok=True)
            (dest / path.name).write_text(json.dumps(nb, indent=1))

    t0 = time.perf_counter()
    grade = run_script(root, "autograde.py", "--jobs", "2")
    timings["autograde"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fb = run_script(root, "feedback.py")
    timings["feedback"] = time.perf_counter() - t0

    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    db = "sqlite:///" + str(root / "autograder" / "gradebook.db")
    with Gradebook(db, course_id="backprop") as gb:
        student_ids = sorted(s.id for s in gb.students)
        for sdir in sorted(submitted.iterdir()):
            for adir in sorted(sdir.iterdir()):
                try:
                    sub = gb.find_submission(adir.name, sdir.name)
                except MissingEntry:
                    continue
                scores[(sdir.name, adir.name)] = {g.name: (g.score, g.max_score)
                                                 for nb in sub.notebooks for g in nb.grades}
    print("\npipeline timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
          + f"; {len(packed)} wrong students for {len(CASES)} cases")
    return dict(root=root, grade=grade, feedback=fb, scores=scores, students=student_ids, released=released,
                release_log=release_log, placement=placement, problems=problems, timings=timings)


def require_released(pipeline, assignment):
    if assignment not in pipeline["released"]:
        lines = [l for l in pipeline["release_log"].splitlines() if assignment in l] or [pipeline["release_log"]]
        pytest.fail(f"release.py could not release {assignment}:\n" + "\n".join(lines))


def scores_of(pipeline, student, assignment) -> dict:
    key = (student, assignment)
    if key not in pipeline["scores"]:
        log = pipeline["grade"].stdout + pipeline["grade"].stderr[-4000:]
        lines = [l for l in log.splitlines() if assignment in l or "PROBLEM" in l or "rror" in l]
        pytest.fail(f"{student}/{assignment} was not graded:\n" + "\n".join(lines[-40:]))
    return pipeline["scores"][key]


def autograded_cells(root: Path, student: str, assignment: str) -> dict:
    nbs = list((root / "autograder" / "autograded" / student / assignment).glob("*.ipynb"))
    assert nbs, f"no autograded notebook for {student}/{assignment}"
    return {grade_id(c): c for nb in nbs for c in read_notebook(nb)["cells"] if grade_id(c)}


def test_release_autograde_and_feedback_ran(pipeline):
    assert pipeline["released"] == set(ASSIGNMENTS), pipeline["release_log"]
    assert pipeline["grade"].returncode == 0, pipeline["grade"].stdout + pipeline["grade"].stderr[-3000:]
    assert pipeline["feedback"].returncode == 0, pipeline["feedback"].stdout + pipeline["feedback"].stderr[-3000:]


def test_students_added_from_submitted_folders(pipeline):
    submitted = pipeline["root"] / "autograder" / "submitted"
    assert pipeline["students"] == sorted(p.name for p in submitted.iterdir())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructor_gets_full_marks(pipeline, assignment):
    require_released(pipeline, assignment)
    scores = scores_of(pipeline, "instructor", assignment)
    expected = {}
    for nb in source_notebooks(pipeline, assignment):
        expected.update(graded_cells(nb))
    assert expected, f"{assignment} has no graded cells"
    assert set(scores) >= set(expected)
    lost = {g: s for g, s in scores.items() if g in expected and s[0] != expected[g]}
    if lost:
        cells = autograded_cells(pipeline["root"], "instructor", assignment)
        detail = "\n".join(f"--- {g}: {s}\n{output_text(cells.get(g, {}))[-1500:]}" for g, s in lost.items())
        pytest.fail(f"the solutions lose points in {assignment}:\n{detail}")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_submission_scores_zero(pipeline, assignment):
    require_released(pipeline, assignment)
    scores = scores_of(pipeline, "blank", assignment)
    cells = autograded_cells(pipeline["root"], "blank", assignment)
    tests = {g for nb in source_notebooks(pipeline, assignment) for g in graded_cells(nb)}
    earned = {g: scores[g] for g in tests if scores[g][0] != 0}
    assert not earned, f"a blank {assignment} earns points: {earned}"
    for g in tests:   # zero because not implemented, not because the grader crashed
        text = output_text(cells[g])
        assert any(w in text for w in ("not implemented yet", "NotImplementedError", "No answer yet")), (
            f"{g} scores zero in a blank notebook, but not because it is unanswered: {text[-800:]}")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_wrong_submission_loses_exactly_its_points(pipeline, case):
    require_released(pipeline, case.notebook)
    assert case not in pipeline["problems"], pipeline["problems"].get(case)
    who, assignment, _, together = pipeline["placement"][case]
    scores = scores_of(pipeline, who, assignment)
    failing = set().union(*(set(c.fails) for c in together))
    unknown = set(case.fails) - set(scores)
    assert not unknown, f"{case.id}: no graded cells {unknown} in {assignment}"
    for g in case.fails:
        assert scores[g][0] == 0, f"{case.id}: {g} should score 0, got {scores[g]}"
    kept = {g: s for g, s in scores.items() if g not in failing and s[0] != s[1]}
    assert not kept, f"{case.id} (with {[c.id for c in together]}): other cells lost points: {kept}"
    cells = autograded_cells(pipeline["root"], who, assignment)
    text = "\n".join(output_text(cells[g]) for g in case.fails).lower()
    missing = [w for w in case.words if w.lower() not in text]
    assert not missing, f"{case.id}: {missing} not in the output of {case.fails}:\n{text[-2000:]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_diagnosis_and_hides_hidden_tests(pipeline, assignment):
    require_released(pipeline, assignment)
    root = pipeline["root"]
    hidden_lines, visible = set(), []
    for nb in source_notebooks(pipeline, assignment):
        for cell in nb["cells"]:
            src = notebook_text(cell)
            for block in blocks(src, HIDDEN):
                hidden_lines |= {l.strip() for l in block.splitlines() if len(l.strip()) > 12}
            visible.append(public_text(src, (HIDDEN,)))
    visible_text = "\n".join(visible)
    hidden_lines = {l for l in hidden_lines if l not in visible_text}
    students = [s for (s, a) in pipeline["scores"] if a == assignment]
    for student in students:
        pages = list((root / "autograder" / "feedback" / student / assignment).glob("*.html"))
        assert pages, f"no feedback for {student}/{assignment}"
        text = "\n".join(html_text(p) for p in pages)
        leaked = [l for l in hidden_lines if l in text]
        assert not leaked, f"hidden tests visible in the feedback of {student}/{assignment}: {leaked[:3]}"
        assert "BEGIN HIDDEN TESTS" not in text
        cells = autograded_cells(root, student, assignment)
        for g, (score, total) in pipeline["scores"][(student, assignment)].items():
            if score == 0 and total and g in cells:
                errors = [o for o in cells[g].get("outputs", []) if o.get("output_type") == "error"]
                for err in errors:
                    first = (err.get("evalue") or "").strip().splitlines()
                    if first:
                        assert first[0].strip() in text, f"{student}/{assignment}/{g}: diagnosis {first[0]!r} missing"


def test_grades_export(pipeline):
    root = pipeline["root"]
    env = dict(os.environ, PATH=str(Path(PYTHON).parent) + os.pathsep + os.environ.get("PATH", ""))
    nbgrader = str(Path(PYTHON).parent / "nbgrader")
    run = subprocess.run([nbgrader, "export", "--to", "grades.csv"], cwd=root / "autograder", env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    with open(root / "autograder" / "grades.csv") as fh:
        rows = list(csv.DictReader(fh))
    got = {(r["student_id"], r["assignment"]): float(r["score"]) for r in rows}
    for (student, assignment), cells in pipeline["scores"].items():
        assert got[(student, assignment)] == pytest.approx(sum(s for s, _ in cells.values()))
