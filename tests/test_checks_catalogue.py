"""Every exercise check of backprop.checks against its reference and against each of its known slips.

The reference must pass; each slip must fail with its own words and never with the vague
"No simple pattern" sentence. The notebook-specific tests (other correct styles, the words a
notebook promises) live in tests/test_checks_<module>.py.
"""
from __future__ import annotations

import pytest

from backprop.checks import MODULES
from backprop.checks.catalogue import VAGUE, exercises, run_check

EXERCISES = list(exercises())
SLIPS = [(module, ex, slip) for module, ex in EXERCISES for slip in ex.slips]


def test_every_notebook_has_a_checks_module():
    found = {module for module, _ in EXERCISES}
    assert found == set(MODULES), f"no EXERCISES yet in {sorted(set(MODULES) - found)}"


@pytest.mark.parametrize("module, exercise", EXERCISES, ids=[f"{m}.{e.name}" for m, e in EXERCISES])
def test_reference_passes(module, exercise):
    failed, message, printed = run_check(exercise, exercise.reference, trusted=True)
    assert not failed, message


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
