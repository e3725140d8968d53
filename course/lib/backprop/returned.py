"""What a student's function returned, inspected before any arithmetic is done with it.

`inspect_returned(value, label, shape, what=...)` is the one place that decides whether a
returned object can be checked, and says in plain words why not. `what` names what the exercise
asks for, so a message never calls something a gradient when the exercise does not return one:

| what       | accepted                                                       | returned array |
|------------|----------------------------------------------------------------|----------------|
| "gradient" | float64 arrays; a Python number where the shape is ()          | float64        |
| "value"    | real numbers and arrays: Python and numpy scalars, 0-d arrays, | float64        |
|            | integer, float64 and extended-precision dtypes                 |                |
| "integer"  | Python int, numpy integers, integer arrays, and floats whose   | int64          |
|            | values are whole numbers (4.0 for a size of 4)                 |                |

Refused everywhere: None, lists and tuples, bools, complex numbers, the wrong shape, NaN or inf.
A gradient must be exactly float64: the course checks in float64 and compares dtypes exactly.
`strict=False` (for `diagnose`) reads anything array-like as float64 and refuses only what
cannot be read as an array of numbers at all.

Every refusal is `(None, (kind, message))` with kind one of "none", "type", "dtype", "shape",
"nonfinite", "value" (a float that is not a whole number where an integer is asked for).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .rules import plural

__all__ = ["WHATS", "inspect_returned"]

WHATS = ("gradient", "value", "integer")


def inspect_returned(value, label: str, shape: Optional[tuple] = None, *, what: str = "gradient",
                     strict: bool = True):
    """(array, None) when `value` can be checked, else (None, (kind, message)).

    value: what the student's function returned for one result.
    label: its name in messages ("dW", "output_size(7, 3, 2, 1)", "the loss").
    shape: the expected shape, or None to accept any shape.
    what: "gradient", "value" or "integer" (see the module docstring).
    strict: False reads lists, integers and float32 as float64 (only for what="gradient").
    """
    if what not in WHATS:
        raise ValueError(f"what must be one of {WHATS}; got {what!r}")
    if value is None:
        return None, ("none", f"{label} is None: a `return` statement is missing, or a variable was never "
                              "assigned.")
    if not strict:
        return _lenient(value, label)
    arr, problem = _as_array(value, label, shape, what)
    if problem is None:
        arr, problem = _check_dtype(arr, label, what)
    if problem is None and shape is not None and arr.shape != tuple(shape):
        problem = ("shape", _shape_message(arr, label, tuple(shape), what))
    if problem is None:
        arr, problem = _check_values(arr, label, what)
    return (None, problem) if problem is not None else (arr, None)


def _lenient(value, label):
    if isinstance(value, tuple):
        return None, ("type", f"{label} is a tuple of {len(value)} items, not an array: did you return several "
                              "gradients where one was expected?")
    try:
        return np.asarray(value, dtype=np.float64), None
    except (TypeError, ValueError):
        return None, ("type", f"{label} is a {type(value).__name__} that cannot be read as an array of numbers.")


def _noun(what, shape):
    if what == "integer":
        return "an integer" if not shape else f"a numpy array of integers of shape {shape}"
    if shape == ():
        return "a number"
    return "a numpy array" + (f" of shape {shape}" if shape is not None else "")


def _as_array(value, label, shape, what):
    if isinstance(value, (bool, np.bool_)):
        return None, ("type", f"{label} is {value}, a bool: return {_noun(what, shape)}.")
    if isinstance(value, (list, tuple)):
        return None, ("type", f"{label} is a Python {type(value).__name__}, not a numpy array. "
                              "Build it with numpy operations (or np.array(...)).")
    if isinstance(value, (int, float)):
        if what == "gradient" and shape not in (None, ()):
            return None, ("type", f"{label} is a {type(value).__name__}, not a numpy array of shape {shape}.")
        return np.asarray(value, dtype=np.int64 if isinstance(value, int) and what == "integer" else np.float64), None
    if isinstance(value, np.generic):
        if what == "gradient" and shape not in (None, ()):
            return None, ("type", f"{label} is a numpy {type(value).__name__}, not an array of shape {shape}.")
        return np.asarray(value), None
    if not isinstance(value, np.ndarray):
        return None, ("type", f"{label} is a {type(value).__name__}, not {_noun(what, shape)}.")
    return value, None


def _check_dtype(arr, label, what):
    kind = arr.dtype.kind
    if kind == "b":
        return None, ("dtype", f"{label} is a boolean array ({arr.dtype}); return numbers.")
    if kind == "c":
        return None, ("dtype", f"{label} is complex ({arr.dtype}); the results here are real numbers.")
    if kind not in "iuf":
        return None, ("dtype", f"{label} has dtype {arr.dtype}; expected "
                               + ("an integer." if what == "integer" else "float64 numbers."))
    if what == "integer":
        return arr, None
    if kind in "iu":
        if what == "value":
            return arr.astype(np.float64), None
        return None, ("dtype", f"{label} has integer dtype {arr.dtype}: a gradient must be float64. "
                               "Look for integer arithmetic (np.zeros(..., dtype=int), np.arange(3)).")
    if arr.dtype == np.float64:
        return arr, None
    if arr.dtype.itemsize > 8:
        if what == "value":
            return arr.astype(np.float64), None
        return None, ("dtype", f"{label} has dtype {arr.dtype} (extended precision). More precision is not wrong, "
                               "but the course checks gradients in float64 and compares dtypes exactly: convert it "
                               "with .astype(np.float64).")
    noun = "a gradient" if what == "gradient" else "this result"
    return None, ("dtype", f"{label} has dtype {arr.dtype}; the course computes in float64 (in {arr.dtype} the "
                           f"rounding error is too large to check {noun}). Something converted it: look for astype "
                           f"or np.{arr.dtype}.")


def _shape_message(arr, label, shape, what):
    hint = ""
    if arr.ndim == 2 and arr.shape == shape[::-1]:
        hint = " It looks transposed."
    elif arr.size == int(np.prod(shape)):
        hint = " It has the right number of entries in the wrong arrangement."
    elif arr.ndim == len(shape) - 1 or arr.ndim == 0:
        hint = " An axis is missing: was it summed away (or not summed where it should be)?"
    if what == "gradient":
        return f"{label} has shape {arr.shape}, but it must have the shape of the variable, {shape}.{hint}"
    if shape == ():
        return f"{label} has shape {arr.shape}, but it must be a single number (shape ()).{hint}"
    return f"{label} has shape {arr.shape}, but the expected result has shape {shape}.{hint}"


def _check_values(arr, label, what):
    finite = np.isfinite(arr) if arr.dtype.kind == "f" else np.ones(arr.shape, dtype=bool)
    if what != "integer" and not np.all(finite):
        bad = int(arr.size - np.count_nonzero(finite))
        return None, ("nonfinite", f"{label} contains {bad} NaN or infinite {plural('value', bad)}: look for a "
                                   "division by zero, a log of 0, or an exp that overflows.")
    if what != "integer" or arr.dtype.kind in "iu":
        return arr, None
    whole = finite & (arr == np.round(arr))
    if not np.all(whole):
        bad = arr[~whole].reshape(-1)[0]
        where = "" if arr.ndim == 0 else f" (e.g. {bad:g})"
        shown = f"{float(arr):g}" if arr.ndim == 0 else "not a whole number everywhere"
        return None, ("value", f"{label} is {shown}{where}, but it must be a whole number (a size or a count). "
                               "Did you use / where floor division // was meant?")
    return arr.astype(np.int64), None
