"""Known slips: typical mistakes written as code, with the words that name them.

A `Slip` is the reference solution of an exercise with one typical mistake in it (a missing
sigma', a sum where the loss takes a mean, a crop one pixel off), plus a sentence that says what
the student did and where to look. A check runs every slip of its exercise on the very inputs
it gave the student; when the student's result agrees with a slip's result (to the checker's
tolerance) the diagnosis names that slip. A slip is named only when it matches: never a guess.

    slip = Slip("no_sigma_prime", "you left sigma'(Z^l) out of the step from Delta^{l+1} to Delta^l",
                functools.partial(reference, slip="no_sigma_prime"))

`slip.fn` is called exactly like the student's function. The catalogues live beside the checks
in `backprop.checks.<notebook>`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Optional

import numpy as np

__all__ = ["Slip", "slip_of", "slip_factory", "results_agree", "run_slip", "slip_values", "matching_slip"]

MATCH_RTOL = 1e-6
"""Two results agree when every entry differs by less than this, relative to the larger of the
two entries (or to the largest entry of the tensor, for entries near zero)."""


@dataclass(frozen=True)
class Slip:
    """One typical mistake in an exercise.

    key: a short identifier ("no_sigma_prime"), stable for tests and reports.
    words: what the student did and where to look, as one or two sentences.
    fn: the reference with this one mistake, called like the student's function.
    """

    key: str
    words: str
    fn: Callable

    def __post_init__(self):
        if not callable(self.fn):
            raise ValueError(f"Slip {self.key!r}: fn must be callable, got {type(self.fn).__name__}")


def slip_of(reference: Callable, key: str, words: str) -> Slip:
    """The Slip whose fn is reference(..., slip=key), for a reference that takes a `slip=` keyword and is
    otherwise called like the student's function. The reference is held by the slip itself, so the
    slip still runs while the reference's public name is switched off for a student."""
    return Slip(key, words, functools.partial(reference, slip=key))


def slip_factory(reference: Callable) -> Callable:
    """(key, words) -> slip_of(reference, key, words)."""
    return functools.partial(slip_of, reference)


def results_agree(a, b, rtol: float = MATCH_RTOL) -> bool:
    """True if the two arrays (or numbers) have the same shape and agree entry by entry.

    NaN and infinite entries must stand at the same places with the same values (a slip that
    overflows does so where the student's code does); the finite ones must satisfy
    |a - b| <= rtol * max(|a|, |b|) + rtol * (largest finite entry), so that entries that are
    rounding noise around zero never decide a match.
    """
    try:
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    fa, fb = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fa, fb) or not np.array_equal(a[~fa], b[~fb], equal_nan=True):
        return False
    a, b = a[fa], b[fb]
    scale = max(float(np.max(np.abs(a))) if a.size else 0.0, float(np.max(np.abs(b))) if b.size else 0.0)
    return bool(np.all(np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b)) + rtol * scale + 1e-300))


def run_slip(fn, *args, **kwargs):
    """What fn returns on these arguments, or None when it cannot run on them (numpy warnings silenced).

    A slip that raises on some inputs (a shape mismatch of a transposed factor) simply does not match.
    """
    try:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    except Exception:
        return None


def slip_values(slips, *args) -> list:
    """[(slip, what slip.fn returns on copies of args, or None if it cannot run on them)]: the
    candidates of `matching_slip` and `grading.check_value_slips` for a value check."""
    def copied():
        return [a.copy() if isinstance(a, np.ndarray) else a for a in args]

    return [(slip, run_slip(slip.fn, *copied())) for slip in slips]


def matching_slip(got: Mapping[str, object], candidates: Iterable, right: Optional[Mapping[str, object]] = None):
    """The first slip whose result equals the student's, or None.

    got: name -> what the student returned (already checked to be float arrays of the right shape).
    candidates: pairs (slip, results) where results is name -> the slip's result on the same
        inputs, or None when the slip could not be run on them.
    right: name -> the right result, when known: a slip that gives the right result on these
        inputs cannot be told apart from a correct answer and is skipped.
    """
    for slip, results in candidates:
        if results is None or not set(got) <= set(results):
            continue
        if right is not None and all(results_agree(results[k], right[k]) for k in got if k in right):
            continue
        if all(results_agree(got[k], results[k]) for k in got):
            return slip
    return None
