"""Run every catalogued slip through its exercise's check: what the tests and the slip report share.

    for outcome in run_catalogue():          # one SlipOutcome per slip of every exercise
        print(outcome.module, outcome.exercise, outcome.slip, outcome.named)
"""
from __future__ import annotations

import contextlib
import importlib
import io
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

from . import MODULES
from ..diagnosis import NO_PATTERN
from ..grading import GradingError, references_allowed

__all__ = ["SlipOutcome", "exercises", "run_check", "run_catalogue"]

VAGUE = NO_PATTERN.split(" (")[0]   # "No simple pattern"


@dataclass(frozen=True)
class SlipOutcome:
    """What the check of `exercise` said about one slip (or about the reference, slip=None)."""

    module: str
    exercise: str
    slip: Optional[str]
    failed: bool          # the check raised a GradingError
    named: bool           # ... and its message contains the slip's words
    vague: bool           # ... and it contains the "no simple pattern" sentence
    message: str          # the error message ("" when the check passed)
    printed: str          # what the check printed


def exercises(modules: Sequence[str] = MODULES) -> Iterator[tuple]:
    """(module name, Exercise) for every exercise of the modules that exist."""
    for name in modules:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.{name}":
                raise
            continue
        for exercise in getattr(module, "EXERCISES", ()):
            yield name, exercise


def run_check(exercise, fn, trusted: bool = False) -> tuple:
    """(failed, message, printed) of exercise.check(fn) on its visible cases, output captured.

    trusted: fn is the course's own (a reference, or a slip built from one), so the references stay
    switched on while it runs; a student's function never is.
    """
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), (references_allowed() if trusted else contextlib.nullcontext()):
            exercise.check(fn)
    except GradingError as err:
        return True, str(err), out.getvalue()
    return False, "", out.getvalue()


def run_catalogue(modules: Sequence[str] = MODULES) -> Iterator[SlipOutcome]:
    """Every slip of every exercise through its check (the references are the tests' business)."""
    for name, exercise in exercises(modules):
        for slip in exercise.slips:
            failed, message, printed = run_check(exercise, slip.fn, trusted=True)
            yield SlipOutcome(name, exercise.name, slip.key, failed, failed and slip.words in message,
                              VAGUE in message or VAGUE in printed, message, printed)
