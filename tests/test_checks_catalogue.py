"""Every exercise check of backprop.checks against its reference and against each of its known slips.

The reference must pass, also on the kinds of cases the graded cells pass; right answers in other
styles (loops, einsum, views, transposed copies, numpy scalars, 0-d arrays) must pass and never be
taken for a slip; each slip must fail with its own words and never with the vague "No simple
pattern" sentence. The right answers and the graded-style cases of each notebook are data in
tests/test_checks_<module>.py (CORRECT_STYLES, HIDDEN_STYLE_CASES), beside that notebook's own
tests (the words it promises, its special cases).
"""
from __future__ import annotations

import importlib

import pytest

from backprop.checks import MODULES
from backprop.checks.catalogue import VAGUE, exercises, run_check
from backprop.grading import references_allowed

EXERCISES = list(exercises())
SLIPS = [(module, ex, slip) for module, ex in EXERCISES for slip in ex.slips]
BY_NAME = {(module, ex.name): ex for module, ex in EXERCISES}


def notebook_tests(module):
    return importlib.import_module(f"test_checks_{module}")


STYLES = [(module, name, fn) for module in MODULES for name, fn in notebook_tests(module).CORRECT_STYLES]
GRADED_CASES = [(module, ex, notebook_tests(module).HIDDEN_STYLE_CASES[ex.name]) for module, ex in EXERCISES]


def test_every_notebook_has_a_checks_module():
    found = {module for module, _ in EXERCISES}
    assert found == set(MODULES), f"no EXERCISES yet in {sorted(set(MODULES) - found)}"


@pytest.mark.parametrize("module, exercise", EXERCISES, ids=[f"{m}.{e.name}" for m, e in EXERCISES])
def test_reference_passes(module, exercise):
    failed, message, printed = run_check(exercise, exercise.reference, trusted=True)
    assert not failed, message


@pytest.mark.parametrize("module, name, fn", STYLES,
                         ids=[f"{m}.{n}.{getattr(f, '__name__', '')}" for m, n, f in STYLES])
def test_right_answers_in_other_styles_pass(module, name, fn):
    failed, message, _ = run_check(BY_NAME[module, name], fn)
    assert not failed, message


@pytest.mark.parametrize("module, exercise, cases", GRADED_CASES, ids=[f"{m}.{e.name}" for m, e, _ in GRADED_CASES])
def test_reference_passes_the_graded_kinds_of_cases(module, exercise, cases):
    with references_allowed():
        exercise.check(exercise.reference, cases=cases)


@pytest.mark.parametrize("module, exercise, slip", SLIPS, ids=[f"{m}.{e.name}.{s.key}" for m, e, s in SLIPS])
def test_slip_is_named(module, exercise, slip):
    failed, message, printed = run_check(exercise, slip.fn, trusted=True)
    assert failed, f"the check of {exercise.name} accepts the slip {slip.key!r}"
    assert message.startswith("Recognised mistake: " + slip.words) or slip.words in message, message
    assert VAGUE not in message and VAGUE not in printed, message


@pytest.mark.parametrize("module, exercise", EXERCISES, ids=[f"{m}.{e.name}" for m, e in EXERCISES])
def test_slips_are_distinct(module, exercise):
    """Two slips that give the same result could not be told apart: each key names one mistake."""
    keys = [s.key for s in exercise.slips]
    assert len(keys) == len(set(keys))
    words = [s.words for s in exercise.slips]
    assert len(words) == len(set(words))
