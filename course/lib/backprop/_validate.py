"""Input checks shared by every layer: clear errors that name the argument.

Every public forward function validates its inputs with these helpers, so a student who
passes a list, an integer array, a NaN or the wrong shape learns *which* argument is wrong
and what was expected, instead of meeting a broadcasting error three calls deeper.
"""
from __future__ import annotations

import numpy as np

from .rules import plural

__all__ = ["as_float_array", "check_ndim", "check_shape", "check_finite", "check_labels"]


def as_float_array(value, name: str, ndim: int | None = None, shape_hint: str = "") -> np.ndarray:
    """Return `value` as a floating-point ndarray, or raise ValueError naming `name`.

    Floating dtypes are kept as they are (float32 stays float32, nothing is downcast);
    integer and boolean arrays are refused, because a gradient of an integer array is
    almost always a mistake (`np.arange(6)` where `np.arange(6.0)` was meant).
    """
    hint = f" {shape_hint}" if shape_hint else ""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists, objects
            raise ValueError(f"{name} must be a numeric array{hint}; got {type(value).__name__} ({exc})") from None
        if arr.dtype.kind in "iub":
            arr = arr.astype(np.float64)
    if arr.dtype.kind not in "f":
        if arr.dtype.kind in "iub":
            raise ValueError(
                f"{name} must be a floating-point array{hint}; got dtype {arr.dtype}. "
                f"Convert it with {name}.astype(np.float64)."
            )
        raise ValueError(f"{name} must be a floating-point array{hint}; got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions{hint}; got shape {arr.shape}")
    return arr


def check_ndim(arr: np.ndarray, name: str, ndim: int, shape_hint: str = "") -> None:
    if arr.ndim != ndim:
        hint = f" {shape_hint}" if shape_hint else ""
        raise ValueError(f"{name} must have {ndim} dimensions{hint}; got shape {arr.shape}")


def check_shape(arr: np.ndarray, name: str, expected: tuple, shape_hint: str = "") -> None:
    """Raise ValueError unless `arr.shape == expected` (None in `expected` matches any size)."""
    ok = arr.ndim == len(expected) and all(e is None or e == s for e, s in zip(expected, arr.shape))
    if not ok:
        exp = "(" + ", ".join("any" if e is None else str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
        hint = f" {shape_hint}" if shape_hint else ""
        raise ValueError(f"{name} has shape {arr.shape}, expected {exp}{hint}")


def check_finite(arr: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite {plural('value', bad)}; "
                         "check the values you passed in")


def check_labels(labels, name: str, n: int, num_classes: int) -> np.ndarray:
    """Integer class labels of shape (n,) in [0, num_classes)."""
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name} must be integer class labels of shape ({n},); got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected ({n},): one integer class label per sample")
    if n and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"{name} must lie in [0, {num_classes}); got values from {arr.min()} to {arr.max()}")
    return arr
