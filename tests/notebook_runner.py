"""The one way the tests run a notebook: in-process (fast, one namespace) or in a real kernel.

    run = run_in_process(nb, replace=("cell_id", "old", "new"), keep="exercises", skip=("= train(",))
    run.graded["test_x"].ok / .message / .stderr      graded cells by grade_id
    run.by_id["x"]                                     every cell that has a grade_id
    run.broken                                         [(cell, error)] of failing cells without a grade

    nb = execute(path, cwd=..., allow_errors=True)     nbclient in a python3 kernel of this Python
    list(kernel_problems(nb))                          [(grade_id, "Error: ..." or "stderr: ...")]

In-process runs drop IPython magics, use matplotlib's Agg backend and close every figure after
each cell; stdout and stderr of each cell are captured separately (a graded cell must never write
to stderr: nbgrader would score it zero).
"""
from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional


def load(path) -> dict:
    """A notebook as JSON with every cell's source joined into one string."""
    nb = json.loads(Path(path).read_text())
    for cell in nb["cells"]:
        src = cell.get("source", "")
        cell["source"] = "".join(src) if isinstance(src, list) else src
    return nb


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


@dataclass
class CellRun:
    """What one code cell did."""

    grade_id: Optional[str]
    graded: bool
    first_line: str
    error: Optional[BaseException] = None
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def error_text(self) -> str:
        return f"{type(self.error).__name__}: {self.error}" if self.error is not None else ""

    @property
    def message(self) -> str:
        """stdout, then the error (what a student sees below the cell)."""
        return self.stdout + ("\n" + self.error_text if self.error is not None else "")


@dataclass
class NotebookRun:
    cells: list = field(default_factory=list)

    @property
    def by_id(self) -> dict:
        return {c.grade_id: c for c in self.cells if c.grade_id}

    @property
    def graded(self) -> dict:
        return {c.grade_id: c for c in self.cells if c.graded}

    @property
    def broken(self) -> list:
        return [(c.grade_id or c.first_line, c.error_text) for c in self.cells if not c.graded and not c.ok]


def _selected(cells, keep: str):
    code = [c for c in cells if c["cell_type"] == "code"]
    if keep == "all":
        return code
    if keep == "exercises":  # the setup cell, then the cells a grade depends on
        return code[:1] + [c for c in code[1:] if _meta(c).get("grade_id")]
    raise ValueError(f"keep must be 'all' or 'exercises'; got {keep!r}")


def _edited(cell, replace) -> str:
    src = _source(cell)
    if replace and _meta(cell).get("grade_id") == replace[0]:
        assert src.count(replace[1]) == 1, f"{replace[1]!r} must occur once in {replace[0]}"
        src = src.replace(replace[1], replace[2])
    return src


def run_in_process(nb, *, replace=None, keep: str = "all", skip: Iterable[str] = ()) -> NotebookRun:
    """Execute a notebook's code cells in one fresh namespace, in order.

    nb: a notebook dict (see `load`) or a path. replace: (grade_id, old, new) edits that cell
    first (`old` must occur once). keep: "all" code cells, or "exercises" (the first code cell and
    every cell with a grade_id: demos, plots and training are left out). skip: cells whose source
    contains one of these strings are not run.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb = load(nb) if isinstance(nb, (str, Path)) else nb
    namespace = {"__name__": "__main__"}
    run = NotebookRun()
    for cell in _selected(nb["cells"], keep):
        src = _edited(cell, replace)
        if any(s in src for s in skip):
            continue
        meta = _meta(cell)
        code = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith("%"))
        result = CellRun(meta.get("grade_id"), bool(meta.get("grade")), (src.strip().splitlines() or [""])[0])
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(code, f"<cell {result.grade_id or result.first_line[:30]}>", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - a failing cell is a result here
            result.error = exc
        finally:
            plt.close("all")
        result.stdout, result.stderr = out.getvalue(), err.getvalue()
        run.cells.append(result)
    return run


def execute(path, *, cwd=None, timeout: int = 300, allow_errors: bool = False, append: Iterable[str] = ()):
    """Run a notebook top to bottom in a python3 kernel (nbclient); return the executed nbformat notebook.

    path: a notebook file, or a notebook as a dict (then cwd defaults to the current folder).
    cwd: the kernel's working directory (default: the notebook's folder). append: code cells added
    at the end (e.g. to ask the kernel which Python it runs).
    """
    import nbformat
    from nbclient import NotebookClient

    if isinstance(path, dict):
        nb, path = nbformat.from_dict(json.loads(json.dumps(path))), Path.cwd() / "notebook.ipynb"
    else:
        nb = nbformat.read(str(path), as_version=4)
    for code in append:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(cwd or Path(path).parent)}}).execute()
    return nb


def kernel_problems(nb, *, graded_only_stderr: bool = False):
    """(grade_id, text) for every error output and every stderr output of an executed notebook.

    graded_only_stderr: report stderr only in graded cells (the only place nbgrader punishes it).
    """
    for cell in nb.cells:
        meta = _meta(cell)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                yield meta.get("grade_id"), f"{out.get('ename')}: {str(out.get('evalue'))[:200]}"
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                if not graded_only_stderr or meta.get("grade"):
                    yield meta.get("grade_id"), "stderr: " + str(out.get("text"))[:200]
