"""Say *why* a gradient is wrong (the module `backprop.diagnosis`; its function is `backprop.diagnose`).

`diagnose(analytic, numeric)` compares a gradient a student computed with a numerical one and
names the mistake in words a student can act on:

| kind        | meaning                                                                  |
|-------------|--------------------------------------------------------------------------|
| "ok"        | the two agree                                                            |
| "shape"     | wrong shape (or not an array at all)                                     |
| "transpose" | the values are right but transposed (dW = x^T delta instead of delta^T x)|
| "sign"      | every entry has the wrong sign                                           |
| "scale"     | off by one constant factor (2, 1/2, N, 1/N...); `.factor` holds it       |
| "factor"    | off by an element-wise factor the check knows (`known_factors`), e.g.    |
|             | sigma'(z): an extra factor, or a missing one                             |
| "shift"     | an image gradient shifted by (di, dj) pixels (layout with H and W)       |
| "diagonal"  | a Jacobian right on its diagonal and wrong off it, or the reverse        |
| "partial"   | right in some entries, wrong in others; the message says where           |
| "zero"      | all zero, or None: not implemented, or the gradient never arrives        |
| "nonfinite" | NaN or infinity                                                          |

The tolerance is the course's one rule (`backprop.rules.agrees`): |a - n| <= rtol * max(|a|, |n|)
+ atol entry by entry; `atol` defaults to a tiny fraction of the largest entry, so rounding noise
at tiny magnitudes is never called wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from .returned import inspect_returned
from .rules import DEFAULT_RTOL, agrees, all_agree, describe_factor, plural

__all__ = ["Diagnosis", "diagnose", "coerce_gradient", "describe_factor", "shape_diagnosis", "plural", "NO_PATTERN"]

NO_PATTERN = ("No simple pattern (sign, transpose, constant factor) explains it. Shrink the case until you can "
              "do it by hand (one sample, two units) and compare your code with the derivation term by term.")
"""The last resort of a diagnosis (details["vague"] is then True): a check that knows more says it first."""

AXIS_NAMES = {
    "N": "sample", "T": "time step", "C": "channel", "F": "output map",
    "D": "feature", "M": "output", "H": "row", "W": "column", "K": "class",
}
PATTERN_RTOL = 1e-4
"""Tolerance of the pattern tests (scale, element-wise factor): looser than the check itself,
because a pattern is recognised on a gradient that already failed it."""
MAX_SHIFT = 2


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
    arr, problem = inspect_returned(value, name, strict=False)
    if problem is None:
        return arr, None
    kind, _ = problem
    if kind == "none":
        return None, Diagnosis("zero", f"{name} is None: the function returned nothing for it. "
                                       "Did you forget a `return`, or leave the exercise unfinished?", name=name)
    return None, Diagnosis("shape", problem[1], name=name)


def diagnose(analytic, numeric, *, layout: Optional[str] = None, batch_size: Optional[int] = None,
             rtol: float = DEFAULT_RTOL, atol=None, ignore=None, name: str = "gradient",
             known_factors: Optional[Mapping[str, np.ndarray]] = None) -> Diagnosis:
    """Compare an analytic gradient with a numerical one and say what is wrong, if anything.

    analytic, numeric: arrays of the same shape (a mismatch is itself a diagnosis).
    layout: axis letters such as "NCHW", "FCHW", "NTD", "ND", "HW" to locate wrong entries in words
        and to recognise an image shifted by a pixel or two.
    batch_size: recognise a factor of N or 1/N as a sum-versus-mean slip.
    atol: absolute tolerance, scalar or array of the shape (default: 1e-7 x the largest entry).
    ignore: bool mask of entries not to compare (kinks found by the gradient checker).
    known_factors: {"sigma'(z^1)": array, ...}, arrays broadcastable to the gradient's shape:
        quantities the check knows, named when analytic = numeric * factor (an extra factor) or
        analytic * factor = numeric (a missing one).
    """
    a, problem = coerce_gradient(analytic, name)
    if problem is not None:
        return problem
    n = np.asarray(numeric, dtype=np.float64)
    early = _nonfinite(a, n, name)
    if early is not None:
        return early
    if a.shape != n.shape:
        return shape_diagnosis(a, n, name, rtol)
    valid = np.ones(a.shape, dtype=bool) if ignore is None else ~np.asarray(ignore, dtype=bool)
    if atol is None:
        atol = 1e-7 * max(_absmax(a[valid]), _absmax(n[valid])) + 1e-10
    atol = np.broadcast_to(np.asarray(atol, dtype=np.float64), a.shape)
    close = agrees(a, n, rtol, atol) | ~valid
    if close.all():
        return Diagnosis("ok", f"{name} agrees with the numerical gradient.", name=name)
    for test in (lambda: _whole_tensor_patterns(a, n, valid, rtol, atol, name, batch_size),
                 lambda: _known_factor(a, n, valid, atol, name, known_factors),
                 lambda: _shift(a, n, valid, rtol, atol, name, layout),
                 lambda: _diagonal(a, n, ~close, valid, atol, name, layout)):
        found = test()  # a Diagnosis is falsy unless "ok": compare with None
        if found is not None:
            return found
    return _partial(a, n, ~close, valid, layout, rtol, atol, name)


def _nonfinite(a, n, name) -> Optional[Diagnosis]:
    if not np.all(np.isfinite(n)):
        return Diagnosis("nonfinite", f"the numerical gradient of {name} is NaN or infinite: the loss itself is not "
                                      "finite near these inputs.", name=name)
    if not np.all(np.isfinite(a)):
        bad = ~np.isfinite(a)
        count = int(bad.sum())
        return Diagnosis("nonfinite", f"{name} contains {count} NaN or infinite {plural('value', count)}, e.g. at "
                                      f"{_first_coords(bad)}. Look for exp() of a large number, log(0), or a "
                                      "division by zero.", wrong=bad, name=name)
    return None


def _whole_tensor_patterns(a, n, valid, rtol, atol, name, batch_size) -> Optional[Diagnosis]:
    """zero, transpose, sign, scale: one rule explains every entry."""
    av, nv, tv = a[valid], n[valid], atol[valid]
    if np.all(np.abs(av) <= tv):
        return Diagnosis("zero", f"{name} is all zeros but the true gradient is not. Is the exercise implemented, "
                                 "and does the gradient actually reach this tensor?", name=name)
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1 and all_agree(a.T, n, rtol, atol, valid):
        return Diagnosis("transpose", f"{name} has the right values but transposed: you computed the transpose "
                                      "of the gradient. Check the order of the factors in the matrix product "
                                      "(e.g. dW = delta^T x, not x^T delta).", name=name)
    if all_agree(-a, n, rtol, atol, valid):
        return Diagnosis("sign", f"{name} has the wrong sign everywhere. Check the sign of the loss derivative "
                                 "(dE/dy = -(t - y) = y - t) and of your update.", factor=-1.0, name=name)
    c = float(np.dot(av, nv) / np.dot(nv, nv)) if np.dot(nv, nv) > 0 else 0.0
    if c != 0 and abs(c - 1) > 1e-3 and all_agree(a, c * n, PATTERN_RTOL, atol, valid):
        return Diagnosis("scale", f"{name} is off by a constant factor: it is {describe_factor(c)} the right value. "
                                  + _factor_hint(c, batch_size), factor=c, name=name)
    return None


def _absmax(x) -> float:
    return float(np.max(np.abs(x))) if np.size(x) else 0.0


def _first_coords(mask, k: int = 3) -> str:
    idx = np.argwhere(mask)[:k]
    return ", ".join(str(tuple(int(i) for i in row)) for row in idx)


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


# ------------------------------------------------------------------ patterns beyond one constant
def _known_factor(a, n, valid, atol, name, known_factors) -> Optional[Diagnosis]:
    """analytic = numeric * F (an extra factor F) or analytic * F = numeric (F missing)."""
    for label, value in (known_factors or {}).items():
        try:
            f = np.broadcast_to(np.asarray(value, dtype=np.float64), a.shape)
        except ValueError:
            continue  # a factor of another tensor's shape
        if not np.all(np.isfinite(f)) or np.ptp(f[valid]) <= 1e-12 * max(_absmax(f[valid]), 1e-300):
            continue  # a constant factor is the "scale" pattern's business
        fmax = max(_absmax(f[valid]), 1.0)
        if all_agree(a, n * f, PATTERN_RTOL, atol * fmax, valid):
            return Diagnosis("factor", f"{name} is the right one multiplied by {label}: an extra factor of {label}. "
                                       "It is applied twice, or where it does not belong (the upstream gradient "
                                       "may already contain it).", name=name,
                             details={"factor": label, "direction": "extra"})
        if all_agree(a * f, n, PATTERN_RTOL, atol * fmax, valid):
            return Diagnosis("factor", f"{name} is the right one divided by {label}: missing a factor of {label}. "
                                       "The chain rule through that step multiplies by it.", name=name,
                             details={"factor": label, "direction": "missing"})
    return None


def _image_axes(layout, ndim):
    """(h_axis, w_axis) when `layout` names image rows and columns, else None."""
    if not layout or len(layout) != ndim or "H" not in layout or "W" not in layout:
        return None
    if layout.startswith("FC"):
        return None  # kernels: a shifted kernel gradient is not a col2im slip
    return layout.index("H"), layout.index("W")


def _shift(a, n, valid, rtol, atol, name, layout) -> Optional[Diagnosis]:
    """a[..., i, j] == n[..., i - di, j - dj] wherever both exist: the image moved by (di, dj)."""
    axes = _image_axes(layout, a.ndim)
    if axes is None:
        return None
    order = [k for k in range(a.ndim) if k not in axes] + list(axes)
    a, n = a.transpose(order), n.transpose(order)
    valid, atol = valid.transpose(order), atol.transpose(order)
    H, W = a.shape[-2:]
    if H < 3 or W < 3:
        return None
    shifts = sorted(((di, dj) for di in range(-MAX_SHIFT, MAX_SHIFT + 1) for dj in range(-MAX_SHIFT, MAX_SHIFT + 1)
                     if (di, dj) != (0, 0)), key=lambda s: (abs(s[0]) + abs(s[1]), s))
    for di, dj in shifts:
        if abs(di) > H // 3 or abs(dj) > W // 3:
            continue
        mine = (Ellipsis, slice(max(di, 0), H + min(di, 0)), slice(max(dj, 0), W + min(dj, 0)))
        right = (Ellipsis, slice(max(-di, 0), H + min(-di, 0)), slice(max(-dj, 0), W + min(-dj, 0)))
        ok = valid[mine] & valid[right]
        moved = ~agrees(a[mine], n[mine], rtol, atol[mine]) & ok
        if moved.sum() < max(2, ok.sum() // 2):
            continue  # the overlap mostly agrees unshifted: not a shift
        if all_agree(a[mine], n[right], rtol, np.maximum(atol[mine], atol[right]), ok):
            return Diagnosis("shift", _shift_message(name, di, dj), name=name, details={"shift": (di, dj)})
    return None


def _shift_message(name, di, dj) -> str:
    def amount(d, pos, neg):
        return f"{abs(d)} pixel{'s' if abs(d) > 1 else ''} {pos if d > 0 else neg}"

    def index(letter, d):
        return letter if d == 0 else f"{letter} {'-' if d > 0 else '+'} {abs(d)}"

    moves = [amount(d, pos, neg) for d, pos, neg in ((di, "down", "up"), (dj, "right", "left")) if d]
    return (f"{name} is shifted by {' and '.join(moves)}: its entry (i, j) holds the right value of entry "
            f"({index('i', di)}, {index('j', dj)}) (the border has nothing to copy). Your col2im/crop offset is off "
            f"by {abs(di)} {plural('row', abs(di))} and {abs(dj)} {plural('column', abs(dj))}: check where the "
            "padded border is cut off (x_pad[..., pad:pad + H, pad:pad + W]) and where each window's values are "
            "added back.")


def _jacobian_diagonal(shape, layout):
    """Bool mask of the diagonal entries of a square gradient (or of a batch of them), else None."""
    if len(shape) not in (2, 3) or shape[-1] != shape[-2] or shape[-1] < 2:
        return None
    if layout and (len(layout) != len(shape) or layout[-1] != layout[-2]):
        return None
    return np.broadcast_to(np.eye(shape[-1], dtype=bool), shape)


def _diagonal(a, n, wrong, valid, atol, name, layout) -> Optional[Diagnosis]:
    """Right on the diagonal and wrong off it (e.g. only dy_k/dx_k of softmax kept), or the reverse."""
    diag = _jacobian_diagonal(a.shape, layout)
    if diag is None:
        return None
    wrong = wrong & valid
    big = (np.abs(n) > atol) & valid
    for wrong_part in ("off-diagonal", "diagonal"):
        part = diag if wrong_part == "diagonal" else ~diag
        if wrong[~part].any() or not (big & ~part).any() or wrong[part].sum() < max(2, -(-(big & part).sum() // 2)):
            continue
        zeros = bool(np.all(np.abs(a[wrong]) <= atol[wrong]))
        if wrong_part == "off-diagonal":
            head = "right on its diagonal and wrong off it (the entries k != j)"
            hint = ("Its off-diagonal entries are zero: you kept only the diagonal of the Jacobian; the terms "
                    "k != j (for softmax, dy_k/dx_j = -y_k y_j) are missing." if zeros else
                    "Check the terms k != j (for softmax, dy_k/dx_j = -y_k y_j).")
        else:
            head = "right off its diagonal and wrong on it (the entries k == j)"
            hint = ("Its diagonal is zero: the terms k == j are missing." if zeros else
                    "Check the terms k == j, where the Kronecker delta adds a term (for softmax, "
                    "dy_k/dx_k = y_k (1 - y_k)).")
        return Diagnosis("diagonal", f"{name} is {head}. {hint}", wrong=wrong, name=name,
                         details={"wrong_part": wrong_part})
    return None


# ------------------------------------------------------------------ shapes and partial errors
def shape_diagnosis(a, n, name, rtol=DEFAULT_RTOL) -> Diagnosis:
    """The diagnosis of a gradient `a` whose shape differs from the numerical gradient `n`'s."""
    expected = n.shape
    atol = 1e-7 * max(_absmax(a), _absmax(n)) + 1e-10
    if a.ndim == 2 and a.T.shape == expected:
        if all_agree(a.T, n, rtol, atol):
            return Diagnosis("transpose", f"{name} has shape {a.shape} but should have shape {expected}: the values "
                                          "are right, transposed. Swap the factors of the matrix product "
                                          "(e.g. dW = delta^T x, shape (out, in), not x^T delta).", name=name)
        return Diagnosis("shape", f"{name} has shape {a.shape}, the transpose of the expected {expected}; even "
                                  "transposed its values are wrong.", name=name)
    if a.size == n.size and all_agree(a.reshape(expected), n, rtol, atol):
        return Diagnosis("shape", f"{name} has shape {a.shape} but should have shape {expected}; the values are "
                                  f"right, so reshape it (e.g. .reshape{expected}).", name=name)
    hint = ""
    if a.ndim == n.ndim + 1 and a.shape[1:] == expected:
        hint = " It has an extra leading axis: did you forget to sum over the batch?"
    elif a.ndim + 1 == n.ndim and n.shape[1:] == a.shape:
        hint = (f" It is missing the leading axis of length {expected[0]}: did you sum over the batch where you "
                "should not?")
    return Diagnosis("shape", f"{name} has shape {a.shape} but should have shape {expected} (the shape of the "
                              f"variable it is the gradient of).{hint}", name=name)


def _partial(a, n, wrong, valid, layout, rtol, atol, name) -> Diagnosis:
    frac = wrong.sum() / max(valid.sum(), 1)
    parts = [f"{name} is wrong in {int(wrong.sum())} of {int(valid.sum())} {plural('entry', int(valid.sum()))} "
             f"({frac:.0%})."]
    where = _locate(wrong, layout)
    if where:
        parts.append(where)
    aw, nw, tw = a[wrong], n[wrong], atol[wrong]
    if np.all(np.abs(aw) <= tw):
        parts.append("Those entries are zero: a contribution is missing there.")
    elif all_agree(-aw, nw, rtol, tw):
        parts.append("Those entries have the wrong sign.")
    elif np.dot(nw, nw) > 0:
        c = float(np.dot(aw, nw) / np.dot(nw, nw))
        if abs(c - 1) > 1e-3 and all_agree(aw, c * nw, PATTERN_RTOL, tw):
            parts.append(f"Those entries are {describe_factor(c)} the right value.")
    if frac == 1:
        parts.append(NO_PATTERN)
    return Diagnosis("partial", " ".join(parts), wrong=wrong, name=name,
                     details={"fraction": float(frac), "vague": frac == 1})


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
        if len(pairs) < wrong.shape[0] * wrong.shape[1]:
            shown = ", ".join(f"(in {c}, out {f})" for f, c in pairs[:8]) + (" ..." if len(pairs) > 8 else "")
            sentences.append(f"Wrong kernels (input map, output map): {shown}. In a partially connected layer "
                             "(LeNet-5's C3), check the connection table: an unconnected pair has zero gradient.")
    for axis in range(wrong.ndim):
        letter = letters[axis] if letters else None
        if letter in ("H", "W") or (letters and letters.startswith("FC") and axis < 2):
            continue
        sentence = _axis_sentence(wrong, axis, letter)
        if sentence:
            sentences.append(sentence)
    return " ".join(sentences)


def _axis_sentence(wrong, axis, letter) -> str:
    """'Only rows 1-2 (of 0-4) are affected.' when the wrong entries lie in some slices of `axis`."""
    hit = np.flatnonzero(wrong.any(axis=tuple(i for i in range(wrong.ndim) if i != axis)))
    size = wrong.shape[axis]
    if not (0 < len(hit) < size and size > 1):
        return ""
    label = AXIS_NAMES.get(letter) if letter else None
    if label is None:
        names = {1: ("entry",), 2: ("row", "column")}.get(wrong.ndim)
        label = names[axis] if names else f"index on axis {axis}"
    many = len(hit) > 1
    s = f"Only {plural(label, len(hit))} {_ranges(hit)} (of 0-{size - 1}) {'are' if many else 'is'} affected."
    if letter == "T":
        if hit[0] == 0 and hit[-1] < size - 1:
            s += " The earliest steps are wrong: does the gradient flow back through h_{t-1} all the way?"
        elif hit[-1] == size - 1 and len(hit) == 1:
            s += " Only the last step: check the start of the backward recursion."
    return s


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
        return (f"All wrong entries lie within {width} {plural('pixel', width)} of the image border: check the "
                "padding (the padded border must be cut off again in col2im / dx).")
    return ""
