"""An nbconvert preprocessor for the feedback HTML: hidden tests stay hidden.

nbgrader's feedback is the autograded notebook, and autograding puts the hidden tests back into
the test cells, so by default a student would read them in the feedback (in the cell and in the
traceback of a failing test). `HideHiddenTests` removes them:

- the lines between ### BEGIN HIDDEN TESTS and ### END HIDDEN TESTS become one comment line;
- in the traceback of a test cell that has hidden tests, the frame of the test cell itself
  keeps its header but loses its code listing (the failing line may be a hidden one). The
  frames of the student's own code and the error message (the diagnosis) stay.
"""
from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor

from markers import HIDDEN, blocks, replace_blocks

PLACEHOLDER = "# (hidden tests: not shown in the feedback)"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_hidden(source: str) -> str:
    """Replace every BEGIN/END HIDDEN TESTS block (markers included) by a placeholder line."""
    return replace_blocks(source, HIDDEN, PLACEHOLDER)


def _scrub_frame(frame: str, count) -> str:
    """Drop the code listing of a traceback frame that belongs to the test cell."""
    plain = ANSI.sub("", frame)
    if count is not None and re.match(rf"\s*Cell In\[{count}\]", plain):
        header = plain.splitlines()[0] if plain.splitlines() else "Cell"
        return header + "\n    (graded test cell: its code is not shown in the feedback)\n"
    return frame


class HideHiddenTests(Preprocessor):
    """Remove hidden tests from cell sources and from tracebacks (see the module docstring)."""

    enabled = True  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not blocks(cell.source, HIDDEN):
            return cell, resources
        cell.source = strip_hidden(cell.source)
        count = cell.get("execution_count")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [_scrub_frame(frame, count) for frame in output.get("traceback", [])]
        return cell, resources
