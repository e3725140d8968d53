"""The course's shared numeric rules, defined once.

- The tolerance: an analytic value a agrees with a numerical one n when
  |a - n| <= rtol * max(|a|, |n|) + atol, entry by entry (`agrees`). `DEFAULT_RTOL` is the rtol
  of every gradient check: a right gradient checks to about 1e-9 or better, a wrong one is off by
  far more than 1e-5.
- Plurals in messages: `plural("entry", 3)` is "entries", never "entrys".
- A "nice" number: a factor such as 2, 1/2 or -1/4 is named as a fraction when it is one to a
  relative 1e-6 (`nice_fraction`); `describe_factor` turns it into words ("2x", "1/4 of").

The gradient checker, the diagnosis and the derivation checker all read these, so a student
never meets two verdicts on the same numbers.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Optional

import numpy as np

__all__ = ["DEFAULT_RTOL", "agrees", "all_agree", "nice_fraction", "describe_factor", "plural"]

DEFAULT_RTOL = 1e-5
"""A right gradient checks to ~1e-9 or better; a wrong one is off by far more than 1e-5."""

MAX_DENOMINATOR = 1000
FRACTION_RTOL = 1e-6


def agrees(a, n, rtol: float = DEFAULT_RTOL, atol=0.0):
    """|a - n| <= rtol * max(|a|, |n|) + atol, element-wise (a bool array, or a bool for scalars).

    a, n: arrays of one shape (or broadcastable); atol: scalar or array of that shape.
    """
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return np.abs(a - n) <= rtol * np.maximum(np.abs(a), np.abs(n)) + atol


def all_agree(a, n, rtol: float = DEFAULT_RTOL, atol=0.0, valid=None) -> bool:
    """True when `agrees` holds at every entry where `valid` (bool mask, default all) is True."""
    ok = agrees(a, n, rtol, atol)
    return bool(np.all(ok if valid is None else ok | ~np.asarray(valid, dtype=bool)))


def nice_fraction(c: float, rtol: float = FRACTION_RTOL, max_denominator: int = MAX_DENOMINATOR,
                  max_numerator: Optional[int] = None) -> Optional[Fraction]:
    """The simple fraction p/q (q <= max_denominator) within a relative `rtol` of c, or None.

    max_numerator: also require |p| <= max_numerator unless q == 1 (so 7/3 is not "simple").
    """
    c = float(c)
    if not np.isfinite(c):
        return None
    frac = Fraction(c).limit_denominator(max_denominator)
    if abs(float(frac) - c) > rtol * abs(c):
        return None
    if max_numerator is not None and frac.denominator != 1 and abs(frac.numerator) > max_numerator:
        return None
    return frac


def describe_factor(c: float) -> str:
    """'2x', '1/2 of', '-3x'... for a factor close to a simple fraction, else '1.37x'."""
    frac = nice_fraction(c, max_numerator=3)
    if frac is None:
        return f"{c:.4g}x"
    if frac.denominator == 1:
        return f"{frac.numerator}x"
    return f"{frac.numerator}/{frac.denominator} of"


PLURALS = {"entry": "entries", "index": "indices", "matrix": "matrices"}


def plural(word: str, count: int) -> str:
    """'entry' -> 'entries', 'time step' -> 'time steps', 'index on axis 2' -> 'indices on axis 2'
    (count 1 keeps the word as it is)."""
    if count == 1:
        return word
    head, _, tail = word.partition(" on ")
    *first, last = head.split(" ")
    head = " ".join(first + [PLURALS.get(last, last + "s")])
    return f"{head} on {tail}" if tail else head
