"""Say *why* a gradient is wrong.

`diagnose(analytic, numeric)` compares a gradient a student computed with a numerical one and
names the mistake in words a student can act on:

| kind        | meaning                                                                  |
|-------------|--------------------------------------------------------------------------|
| "ok"        | the two agree                                                            |
| "shape"     | wrong shape (or not an array at all)                                     |
| "transpose" | the values are right but transposed (dW = x^T delta instead of delta^T x)|
| "sign"      | every entry has the wrong sign                                           |
| "scale"     | off by one constant factor (2, 1/2, N, 1/N...); `.factor` holds it       |
| "partial"   | right in some entries, wrong in others; the message says where           |
| "zero"      | all zero, or None: not implemented, or the gradient never arrives        |
| "nonfinite" | NaN or infinity                                                          |

The tolerance is |a - n| <= rtol * max(|a|, |n|) + atol entry by entry; `atol` defaults to a
tiny fraction of the largest entry, so rounding noise at tiny magnitudes is never called wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Optional

import numpy as np

__all__ = ["Diagnosis", "diagnose", "coerce_gradient", "describe_factor"]

DEFAULT_RTOL = 1e-5

AXIS_NAMES = {
    "N": "sample", "T": "time step", "C": "channel", "F": "output map",
    "D": "feature", "M": "output", "H": "row", "W": "column", "K": "class",
}


@dataclass
class Diagnosis:
    """What is wrong with a gradient (kind "ok" when nothing is)."""

    kind: str
    message: str
    factor: Optional[float] = None
    wrong: Optional[np.ndarray] = None      # bool mask of wrong entries ("partial")
    name: str = "gradient"
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def __str__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return self.ok


def coerce_gradient(value, name: str = "gradient"):
    """(float64 array, None) for anything array-like; (None, Diagnosis) for None or junk."""
    if value is None:
        return None, Diagnosis("zero", f"{name} is None: the function returned nothing for it. "
                                       "Did you forget a `return`, or leave the exercise unfinished?", name=name)
    if isinstance(value, tuple) and not isinstance(value, np.ndarray):
        return None, Diagnosis("shape", f"{name} is a tuple of {len(value)} items, not an array: "
                                        "did you return several gradients where one was expected?", name=name)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, Diagnosis("shape", f"{name} is a {type(value).__name__} that cannot be read as an array "
                                        "of numbers.", name=name)
    return arr, None


def diagnose(analytic, numeric, *, layout: Optional[str] = None, batch_size: Optional[int] = None,
             rtol: float = DEFAULT_RTOL, atol=None, ignore=None, name: str = "gradient") -> Diagnosis:
    """Compare an analytic gradient with a numerical one and say what is wrong, if anything.

    analytic, numeric: arrays of the same shape (a mismatch is itself a diagnosis).
    layout: axis letters such as "NCHW", "FCHW", "NTD", "ND" to locate wrong entries in words.
    batch_size: recognise a factor of N or 1/N as a sum-versus-mean slip.
    atol: absolute tolerance, scalar or array of the shape (default: 1e-7 x the largest entry).
    ignore: bool mask of entries not to compare (kinks found by the gradient checker).
    """
    a, problem = coerce_gradient(analytic, name)
    if problem is not None:
        return problem
    n = np.asarray(numeric, dtype=np.float64)
    if not np.all(np.isfinite(n)):
        return Diagnosis("nonfinite", f"the numerical gradient of {name} is NaN or infinite: the loss itself is not "
                                      "finite near these inputs.", name=name)
    if not np.all(np.isfinite(a)):
        bad = ~np.isfinite(a)
        where = _first_coords(bad)
        return Diagnosis("nonfinite", f"{name} contains {int(bad.sum())} NaN or infinite value(s), e.g. at {where}. "
                                      "Look for exp() of a large number, log(0), or a division by zero.",
                         wrong=bad, name=name)
    if a.shape != n.shape:
        return _shape_diagnosis(a, n, name, rtol)
    valid = np.ones(a.shape, dtype=bool) if ignore is None else ~np.asarray(ignore, dtype=bool)
    scale = max(_absmax(a[valid]), _absmax(n[valid]))
    if atol is None:
        atol = 1e-7 * scale + 1e-10
    atol = np.broadcast_to(np.asarray(atol, dtype=np.float64), a.shape)
    close = (np.abs(a - n) <= rtol * np.maximum(np.abs(a), np.abs(n)) + atol) | ~valid
    if close.all():
        return Diagnosis("ok", f"{name} agrees with the numerical gradient.", name=name)

    av, nv, tv = a[valid], n[valid], atol[valid]
    if np.all(np.abs(av) <= tv):
        return Diagnosis("zero", f"{name} is all zeros but the true gradient is not. Is the exercise implemented, "
                                 "and does the gradient actually reach this tensor?", name=name)
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1 and _allclose(a.T, n, rtol, atol, valid):
        return Diagnosis("transpose", f"{name} has the right values but transposed: you computed the transpose "
                                      "of the gradient. Check the order of the factors in the matrix product "
                                      "(e.g. dW = delta^T x, not x^T delta).", name=name)
    if _allclose(-a, n, rtol, atol, valid):
        return Diagnosis("sign", f"{name} has the wrong sign everywhere. Check the sign of the loss derivative "
                                 "(dE/dy = -(t - y) = y - t) and of your update.", factor=-1.0, name=name)
    c = float(np.dot(av, nv) / np.dot(nv, nv)) if np.dot(nv, nv) > 0 else 0.0
    if c != 0 and abs(c - 1) > 1e-3 and _allclose(a, c * n, 1e-4, atol, valid):
        return Diagnosis("scale", f"{name} is off by a constant factor: it is {describe_factor(c)} the right value. "
                                  + _factor_hint(c, batch_size), factor=c, name=name)
    wrong = ~close
    return _partial(a, n, wrong, valid, layout, rtol, atol, name)


def _absmax(x) -> float:
    return float(np.max(np.abs(x))) if np.size(x) else 0.0


def _allclose(a, n, rtol, atol, valid) -> bool:
    ok = np.abs(a - n) <= rtol * np.maximum(np.abs(a), np.abs(n)) + atol
    return bool(np.all(ok | ~valid))


def _first_coords(mask, k: int = 3) -> str:
    idx = np.argwhere(mask)[:k]
    return ", ".join(str(tuple(int(i) for i in row)) for row in idx)


def describe_factor(c: float) -> str:
    """'2x', '1/2 of', '-3x'... for a factor close to a simple fraction, else '1.37x'."""
    frac = Fraction(c).limit_denominator(1000)
    simple = frac.denominator == 1 or abs(frac.numerator) <= 3
    if simple and abs(float(frac) - c) <= 1e-6 * abs(c):
        if frac.denominator == 1:
            return f"{frac.numerator}x"
        return f"{frac.numerator}/{frac.denominator} of"
    return f"{c:.4g}x"


def _factor_hint(c: float, batch_size: Optional[int]) -> str:
    sign = "The sign is also wrong. " if c < 0 else ""
    m = abs(c)
    if batch_size and batch_size > 1:
        if abs(m - batch_size) < 1e-6 * batch_size:
            return sign + (f"x{batch_size} is the batch size: did you sum over the batch where the loss takes "
                           f"the mean? Divide by N = {batch_size}.")
        if abs(m - 1 / batch_size) < 1e-6 / batch_size:
            return sign + (f"1/{batch_size} is one over the batch size: did you divide by N where the loss is a "
                           "sum, or divide by N twice?")
    if abs(m - 2) < 1e-6:
        return sign + ("A factor 2 too many: does the loss carry a 1/2 in front (E = 1/2 sum (t - y)^2, whose "
                       "derivative is y - t), or did you count a term twice?")
    if abs(m - 0.5) < 1e-6:
        return sign + ("A factor 2 is missing: the derivative of (t - y)^2 is -2 (t - y); check the loss's "
                       "normalisation (sum, mean, or one half of the sum).")
    return sign + ("Look for a constant you dropped or added: 1/2 in front of a squared error, 1/N for a mean "
                   "over the batch, a step size or weight-decay coefficient.")


def _shape_diagnosis(a, n, name, rtol) -> Diagnosis:
    expected = n.shape
    if a.ndim == 2 and a.T.shape == expected:
        atol = 1e-7 * max(_absmax(a), _absmax(n)) + 1e-10
        if _allclose(a.T, n, rtol, atol, np.ones(expected, dtype=bool)):
            return Diagnosis("transpose", f"{name} has shape {a.shape} but should have shape {expected}: the values "
                                          "are right, transposed. Swap the factors of the matrix product "
                                          "(e.g. dW = delta^T x, shape (out, in), not x^T delta).", name=name)
        return Diagnosis("shape", f"{name} has shape {a.shape}, the transpose of the expected {expected}; even "
                                  "transposed its values are wrong.", name=name)
    if a.size == n.size:
        atol = 1e-7 * max(_absmax(a), _absmax(n)) + 1e-10
        if _allclose(a.reshape(expected), n, rtol, atol, np.ones(expected, dtype=bool)):
            return Diagnosis("shape", f"{name} has shape {a.shape} but should have shape {expected}; the values are "
                                      f"right, so reshape it (e.g. .reshape{expected}).", name=name)
    hint = ""
    if a.ndim == n.ndim + 1 and a.shape[1:] == expected:
        hint = " It has an extra leading axis: did you forget to sum over the batch?"
    elif a.ndim + 1 == n.ndim and n.shape[1:] == a.shape:
        hint = f" It is missing the leading axis of length {expected[0]}: did you sum over the batch where you should not?"
    return Diagnosis("shape", f"{name} has shape {a.shape} but should have shape {expected} (the shape of the "
                              f"variable it is the gradient of).{hint}", name=name)


def _partial(a, n, wrong, valid, layout, rtol, atol, name) -> Diagnosis:
    frac = wrong.sum() / max(valid.sum(), 1)
    parts = [f"{name} is wrong in {int(wrong.sum())} of {int(valid.sum())} entries ({frac:.0%})."]
    where = _locate(wrong, layout)
    if where:
        parts.append(where)
    aw, nw = a[wrong], n[wrong]
    tw = atol[wrong]
    if np.all(np.abs(aw) <= tw):
        parts.append("Those entries are zero: a contribution is missing there.")
    elif _allclose(-aw, nw, rtol, tw, np.ones(aw.shape, dtype=bool)):
        parts.append("Those entries have the wrong sign.")
    elif np.dot(nw, nw) > 0:
        c = float(np.dot(aw, nw) / np.dot(nw, nw))
        if abs(c - 1) > 1e-3 and _allclose(aw, c * nw, 1e-4, tw, np.ones(aw.shape, dtype=bool)):
            parts.append(f"Those entries are {describe_factor(c)} the right value.")
    if frac == 1:
        parts.append("No simple pattern (sign, transpose, constant factor) explains it: recheck the derivation.")
    return Diagnosis("partial", " ".join(parts), wrong=wrong, name=name,
                     details={"fraction": float(frac)})


def _ranges(indices) -> str:
    """[0, 1, 2, 5] -> '0-2, 5'."""
    out, start, prev = [], None, None
    for i in indices:
        if start is None:
            start = prev = i
        elif i == prev + 1:
            prev = i
        else:
            out.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = i
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(out)


def _locate(wrong, layout) -> str:
    """Words for where the wrong entries are, using the axis letters of `layout`."""
    if wrong.ndim == 0:
        return ""
    letters = layout if layout and len(layout) == wrong.ndim else None
    sentences = []
    if letters and "H" in letters and "W" in letters:
        border = _border_sentence(wrong, letters.index("H"), letters.index("W"))
        if border:
            sentences.append(border)
    if letters and letters.startswith("FC") and wrong.ndim == 4:
        pairs = np.argwhere(wrong.any(axis=(2, 3)))
        total = wrong.shape[0] * wrong.shape[1]
        if len(pairs) < total:
            shown = ", ".join(f"(in {c}, out {f})" for f, c in pairs[:8]) + (" ..." if len(pairs) > 8 else "")
            sentences.append(f"Wrong kernels (input map, output map): {shown}. In a partially connected layer "
                             "(LeNet-5's C3), check the connection table: an unconnected pair has zero gradient.")
    for axis in range(wrong.ndim):
        letter = letters[axis] if letters else None
        if letter in ("H", "W") or (letters and letters.startswith("FC") and axis < 2):
            continue
        hit = np.flatnonzero(wrong.any(axis=tuple(i for i in range(wrong.ndim) if i != axis)))
        size = wrong.shape[axis]
        if 0 < len(hit) < size and size > 1:
            label = AXIS_NAMES.get(letter, None) if letter else None
            if label is None:
                label = ["row", "column"][axis] if wrong.ndim == 2 else ("entry" if wrong.ndim == 1 else f"index on axis {axis}")
            many = len(hit) > 1
            s = f"Only {label}{'s' if many else ''} {_ranges(hit)} (of 0-{size - 1}) {'are' if many else 'is'} affected."
            if letter == "T":
                if hit[0] == 0 and hit[-1] < size - 1:
                    s += " The earliest steps are wrong: does the gradient flow back through h_{t-1} all the way?"
                elif hit[-1] == size - 1 and len(hit) == 1:
                    s += " Only the last step: check the start of the backward recursion."
            sentences.append(s)
    return " ".join(sentences)


def _border_sentence(wrong, h_axis, w_axis) -> str:
    spatial = wrong.any(axis=tuple(i for i in range(wrong.ndim) if i not in (h_axis, w_axis)))
    if h_axis > w_axis:
        spatial = spatial.T
    H, W = spatial.shape
    if H < 3 or W < 3:
        return ""
    rows, cols = np.nonzero(spatial)
    dist = np.minimum.reduce([rows, H - 1 - rows, cols, W - 1 - cols])
    width = int(dist.max()) + 1
    if width <= max(1, min(H, W) // 3) and not spatial[width:H - width, width:W - width].any():
        return (f"All wrong entries lie within {width} pixel(s) of the image border: check the padding "
                "(the padded border must be cut off again in col2im / dx).")
    return ""
