"""`make autograde` as an instructor watches it: a progress bar, nothing per kernel, notes at the end.

A one-notebook assignment ("tiny": one test cell that passes after writing to the kernel's file
descriptor 2, as a crashing library or a student's os.write would, and one that fails) is graded
for two students by the real autograde.py, two at a time.
"""
from __future__ import annotations

import re
import shutil
import sys

import nbformat
import pytest

from conftest import AUTOGRADER, run_script

sys.path.insert(0, str(AUTOGRADER))
import autograde as A  # noqa: E402

STDERR_LINE = "library message written straight to file descriptor 2"


def graded_cell(grade_id: str, source: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": 1,
                                 "schema_version": 3, "solution": False, "task": False}
    return cell


def tiny_course(root):
    (root / "autograder").mkdir(parents=True)
    for script in AUTOGRADER.glob("*.py"):
        shutil.copy2(script, root / "autograder" / script.name)
    (root / "course").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [graded_cell("writes_to_fd2", f"import os\nos.write(2, b'{STDERR_LINE}\\n')\nassert True"),
                graded_cell("fails", "assert 1 == 2, 'this test fails'")]
    (root / "solutions" / "tiny").mkdir(parents=True)
    nbformat.write(nb, root / "solutions" / "tiny" / "tiny.ipynb")
    for student in ("alice", "bob"):
        (root / "autograder" / "submitted" / student / "tiny").mkdir(parents=True)
        nbformat.write(nb, root / "autograder" / "submitted" / student / "tiny" / "tiny.ipynb")
    return root


@pytest.mark.slow
@pytest.mark.xdist_group("nbgrader")
def test_progress_bar_quiet_kernels_and_notes_at_the_end(tmp_path):
    root = tiny_course(tmp_path / "course")
    run = run_script(root, "autograde.py", "--jobs", "2", timeout=600)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr[-3000:]
    assert run.stderr.strip() == "", run.stderr[-3000:]       # no kernel warning, no log line, nothing
    bar = [line for line in re.split(r"[\r\n]", out) if line.startswith("autograde:")]
    assert bar and "0/2" in bar[0] and "2/2" in bar[-1], bar
    assert re.search(r"2/2 \[\d\d:\d\d<00:00", bar[-1]), bar[-1]      # elapsed < time left
    rows = [line.split() for line in out.splitlines() if line.startswith(("alice ", "bob "))]
    assert sorted(r[:5] for r in rows) == [["alice", "tiny", "1", "/", "2"], ["bob", "tiny", "1", "/", "2"]]
    notes = [line for line in out.splitlines() if line.startswith("NOTE:")]
    for student in ("alice", "bob"):
        assert f"NOTE: {student}/tiny: stderr: {STDERR_LINE}" in notes, out
    assert "Kernel is running over TCP" not in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("2 submissions graded, 0 failed, 0 not graded, 2 with notes, 0 problems"), last
    table_at = out.index("student ")
    assert out.rindex("autograde:") < table_at < out.index("NOTE:")        # the bar first, then table, notes


def test_notes_keep_warnings_and_stderr_but_not_routine_lines():
    log = ("[WARNING] Removing existing assignment: /x/autograded/alice/01_mlp\n"
           "[INFO] Executing notebook\n[WARNING] Restarting the kernel and replaying 3 cells\n"
           "[WARNING] Restarting the kernel and replaying 3 cells\n")
    assert A.notes_of(log, "\n  boom  \n") == ["[WARNING] Restarting the kernel and replaying 3 cells",
                                               "stderr:   boom"]
    many = A.notes_of("", "".join(f"line {i}\n" for i in range(10)), limit=3)
    assert many == ["stderr: line 0", "stderr: line 1", "stderr: line 2", "... 7 more lines"]
