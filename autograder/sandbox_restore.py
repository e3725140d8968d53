"""Locked cells come back from the source: nbgrader's OverwriteCells, plus deleted graded cells.

`RestoreLockedCells` (sanitize step of autograde, in place of nbgrader's OverwriteCells): locked
cells get their original source back from the gradebook, graded cells the student deleted are put
back (after the cell that preceded them, else at the end), and every restored graded cell is
flagged (RESTORED_FLAG) so that GuardedExecute prints RESTORED_NOTE in its output. Cells that the
source does not know (a notebook from an older release) become ordinary cells.
"""
from __future__ import annotations

import re

from nbgrader.preprocessors import OverwriteCells
from nbgrader.utils import is_grade

from markers import visible_lines

RESTORED_FLAG = "grader_restored"
RESTORED_NOTE = ("[grader] This test cell was changed or deleted in your notebook. The original test was "
                 "restored and run: tests are locked and cannot be edited.\n")


class RestoreLockedCells(OverwriteCells):
    """nbgrader's OverwriteCells, plus deleted graded cells put back and restored cells flagged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_missing_cells = True

    def preprocess_cell(self, cell, resources, cell_index):
        before = cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        meta = cell.metadata.get("nbgrader")
        if meta is not None and "grade_id" not in meta:
            # A cell the source does not have (nbgrader drops its unknown grade_id; a notebook from an
            # older release): an ordinary cell now, or nbgrader's own add_missing_task_cells fails.
            del cell.metadata["nbgrader"]
            return cell, resources
        if cell.cell_type == "code" and is_grade(cell) and visible_lines(cell.source) != visible_lines(before):
            cell.metadata[RESTORED_FLAG] = True
        return cell, resources

    def missing_cell_transform(self, source_cell, max_score, is_solution=False, is_task=False):
        cell = super().missing_cell_transform(source_cell, max_score, is_solution=is_solution, is_task=is_task)
        cell["id"] = "restored-" + re.sub(r"[^A-Za-z0-9_-]", "-", source_cell.name)[:50]
        if cell.cell_type == "code":
            cell.metadata[RESTORED_FLAG] = True
        return cell

    def add_missing_grade_cells(self, nb, resources):
        try:
            return super().add_missing_grade_cells(nb, resources)
        except (KeyError, ValueError):   # the neighbour is gone too: put the missing cells at the end
            source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
            present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
            solutions = {c.name for c in source_nb.solution_cells}
            sources = {c.name: c for c in source_nb.source_cells}
            for gc in source_nb.grade_cells:
                if gc.name not in present and gc.name in sources:
                    nb.cells.append(self.missing_cell_transform(sources[gc.name], gc.max_score,
                                                                is_solution=gc.name in solutions))
            return nb, resources
