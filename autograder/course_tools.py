"""Shared plumbing of the instructor scripts (release.py, autograde.py, feedback.py).

Runs nbgrader's converters in-process (one import of nbgrader, not one per command) with the
configuration in nbgrader_config.py next to this file. Every function takes the course root
(the repository, or a temporary copy of it in the tests) so nothing is tied to this checkout.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def ensure_tools_on_path() -> None:
    """nbgrader runs `alembic` (when it creates a gradebook): put this Python's bin dir on PATH."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def assignments(root: Path = REPO) -> list[str]:
    """Assignment ids: the folders of solutions/ that hold a notebook, sorted."""
    src = Path(root) / "solutions"
    if not src.is_dir():
        return []
    return sorted(p.name for p in src.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))


def submissions(root: Path = REPO, assignment: str | None = None, student: str | None = None) -> list[tuple[str, str]]:
    """(student, assignment) pairs found in autograder/submitted/<student>/<assignment>/."""
    sub = Path(root) / "autograder" / "submitted"
    pairs = []
    if not sub.is_dir():
        return pairs
    for sdir in sorted(p for p in sub.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if student and sdir.name != student:
            continue
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if assignment and adir.name != assignment:
                continue
            pairs.append((sdir.name, adir.name))
    return pairs


def load_config(root: Path = REPO, **overrides):
    """nbgrader_config.py of `root`/autograder, with CourseDirectory overrides (e.g. release_directory)."""
    from traitlets.config.loader import PyFileConfigLoader

    ensure_tools_on_path()
    autograder = Path(root) / "autograder"
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(autograder)).load_config()
    for key, value in overrides.items():
        setattr(cfg.CourseDirectory, key, value)
    return cfg


def coursedir(cfg, assignment: str = "", student: str = "*"):
    from nbgrader.coursedir import CourseDirectory

    cd = CourseDirectory(config=cfg)
    cd.assignment_id = assignment
    cd.student_id = student
    return cd


def run_converter(kind: str, cfg, assignment: str, student: str = "*", **attrs) -> dict:
    """Run one nbgrader converter ("generate_assignment", "autograde", "generate_feedback").

    Returns nbgrader's result dict: success (bool), log (str), error (str, on failure).
    """
    from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
    from nbgrader.utils import capture_log

    cls = {"generate_assignment": GenerateAssignment, "autograde": Autograde,
           "generate_feedback": GenerateFeedback}[kind]
    app = cls(coursedir=coursedir(cfg, assignment, student), config=cfg)
    app.force = True
    for key, value in attrs.items():
        setattr(app, key, value)
    return capture_log(app)


def skip_unused_imports() -> None:
    """Call before importing nbgrader: about 1 s less start-up per script.

    nbgrader imports nbformat, which imports jsonschema, whose optional "iri" format check imports
    rfc3987_syntax (it builds a grammar at import: ~1 s, half of nbgrader's import). Nothing here
    validates IRIs (nbformat validates without format checks); a None entry in sys.modules makes
    that optional import fail, and jsonschema goes on without the check."""
    sys.modules.setdefault("rfc3987_syntax", None)


def quiet_logs() -> None:
    """nbgrader and the kernels log to stderr at INFO; keep the console to our own summary."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=r".*not in session.*")  # nbgrader's own SQLAlchemy noise
    for name in ("traitlets", "nbgrader", "NbGraderAPI", "GenerateAssignment", "Autograde", "GenerateFeedback"):
        logging.getLogger(name).setLevel(logging.WARNING)


def short_error(result: dict) -> str:
    """The last lines of an nbgrader failure, for a one-paragraph report."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [l for l in text.strip().splitlines() if l.strip()]
    errors = [l for l in lines if "ERROR" in l or "Error" in l]
    return "\n".join((errors or lines)[-6:])
