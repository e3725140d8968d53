"""Numerical gradients and a gradient check a student can trust.

Step size. A central difference (f(x + s) - f(x - s)) / 2s has truncation error about
s^2 |f'''| / 6 and rounding error about eps |f| / s. Their sum is smallest near
s = cbrt(3 eps |f| / |f'''|), which for well-scaled functions is about cbrt(eps) = 6e-6.
The default relative step h = 1e-5 is that value rounded; each entry uses the step
s_i = h * max(1, |x_i|), so large entries get a proportionally larger step. With it, smooth
functions of well-scaled inputs reach relative errors around 1e-10.

Relative error. `relative_error(a, n) = |a - n| / max(|a|, |n|, floor)`, defined once here.
The floor is the rounding noise of the numerical estimate divided by the tolerance: an entry
whose true value is below the noise cannot be checked by finite differences at all, and is
compared on the absolute scale of the noise instead (so exact zeros and 1e-13 values never
raise false alarms).

Kinks. At a ReLU's zero or a tie in max pooling, f has no derivative and a central difference
returns a meaningless average. `_is_kink` recognises such entries by the second difference:
for a smooth f, f(x+s) - 2 f(x) + f(x-s) shrinks by 4 when s is halved; across a kink it does
not. Kinked entries are reported and skipped, never hidden by a loose tolerance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

import numpy as np

from ._threads import single_blas_thread
from .diagnosis import Diagnosis, coerce_gradient, diagnose, shape_diagnosis
from .rules import DEFAULT_RTOL, agrees

__all__ = [
    "DEFAULT_STEP", "DEFAULT_RTOL", "relative_error", "numerical_gradient", "numerical_vjp",
    "directional_derivative", "check_gradients", "GradientCheckError", "GradCheckReport", "TensorCheck",
    "TABLE_HEAD", "format_table", "format_shape",
]

EPS = np.finfo(np.float64).eps
DEFAULT_STEP = 1e-5
"""Relative finite-difference step, about cbrt(machine epsilon)."""
NOISE_MULTIPLE = 64.0
"""How many units of estimated rounding noise an absolute deviation may reach."""


def relative_error(a, n, floor: float = 0.0):
    """|a - n| / max(|a|, |n|, floor), element-wise; 0 where both are exactly 0."""
    a = np.asarray(a, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)
    diff = np.abs(a - n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(diff == 0, 0.0, diff / np.where(denom == 0, 1.0, denom))


def _require_float64(x, name="x"):
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a numpy array that f reads; got {type(x).__name__}")
    if x.dtype != np.float64:
        raise ValueError(
            f"{name} has dtype {x.dtype}; finite differences need float64 "
            f"(in float32 the rounding error swamps the derivative). Use {name}.astype(np.float64)."
        )


def _scalar(value, what="f") -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(
            f"{what} must return a scalar loss; it returned an array of shape {arr.shape}. "
            "For an array-valued function use numerical_vjp(f, x, dout) or pass dout=..."
        )
    return float(arr.reshape(()))


def _shifted(f, x, index, direction, delta) -> float:
    """f at x moved by delta along entry `index` (direction None) or along `direction`; x restored."""
    if direction is None:
        old = x.flat[index]
        x.flat[index] = old + delta
        try:
            return _scalar(f(x))
        finally:
            x.flat[index] = old
    saved = x.copy()
    x += delta * direction
    try:
        return _scalar(f(x))
    finally:
        x[...] = saved


def _central(f, x, index, direction, step, f0):
    """(central difference, rounding-noise estimate of it)."""
    fp = _shifted(f, x, index, direction, step)
    fm = _shifted(f, x, index, direction, -step)
    noise = EPS * max(abs(fp), abs(fm), abs(f0)) / step
    return (fp - fm) / (2.0 * step), noise


def _is_kink(f, x, index, direction, step, f0) -> bool:
    """True if f is not smooth within `step` of x along this entry or direction.

    For a smooth f the second difference D(s) = f(x+s) - 2 f(x) + f(x-s) ~ s^2 f'' drops by 4
    each time s is halved. A kink at distance d < s gives D(s) ~ (s - d) |jump| instead, which
    cannot drop by 4 twice in a row. Differences at rounding-noise level count as smooth.
    """
    seconds = []
    for s in (step, step / 2.0, step / 4.0):
        fp = _shifted(f, x, index, direction, s)
        fm = _shifted(f, x, index, direction, -s)
        seconds.append((fp - 2.0 * f0 + fm, max(abs(fp), abs(fm), abs(f0))))
    (d1, m1), (d2, _), (d3, _) = seconds
    if abs(d1) <= 1e4 * EPS * max(m1, 1e-300):
        return False
    return not (0.2 < d2 / d1 < 0.3 and d2 != 0 and 0.2 < d3 / d2 < 0.3)


def numerical_gradient(f: Callable, x: np.ndarray, h: float = DEFAULT_STEP) -> np.ndarray:
    """Central-difference gradient of a scalar function at x.

    f: called as f(x) with x itself, perturbed in place one entry at a time; returns a scalar.
    x: float64 ndarray of any shape; restored exactly afterwards, even if f raises.
    h: relative step; entry i uses s_i = h * max(1, |x_i|) (see the module docstring).
    Returns an array of x's shape: (f(x + s_i e_i) - f(x - s_i e_i)) / (2 s_i).
    """
    _require_float64(x)
    grad = np.zeros_like(x)
    for i in range(x.size):
        old = x.flat[i]
        step = h * max(1.0, abs(old))
        try:
            x.flat[i] = old + step
            fp = _scalar(f(x))
            x.flat[i] = old - step
            fm = _scalar(f(x))
        finally:
            x.flat[i] = old
        grad.flat[i] = (fp - fm) / (2.0 * step)
    return grad


def numerical_vjp(f: Callable, x: np.ndarray, dout, h: float = DEFAULT_STEP) -> np.ndarray:
    """Vector-Jacobian product by central differences: the gradient of sum(f(x) * dout).

    f: called as f(x), returns an array of dout's shape. Returns an array of x's shape.
    """
    dout = np.asarray(dout, dtype=np.float64)

    def scalarised(z):
        out = np.asarray(f(z), dtype=np.float64)
        if out.shape != dout.shape:
            raise ValueError(f"f returned shape {out.shape} but dout has shape {dout.shape}; they must match")
        return float(np.sum(out * dout))

    return numerical_gradient(scalarised, x, h)


def directional_derivative(f: Callable, x: np.ndarray, v: np.ndarray, h: float = DEFAULT_STEP) -> float:
    """(f(x + s v) - f(x - s v)) / 2s for a unit direction v, with s = h * max(1, max|x|)."""
    _require_float64(x)
    step = h * max(1.0, float(np.max(np.abs(x))) if x.size else 1.0)
    v = np.asarray(v, dtype=np.float64)
    return (_shifted(f, x, None, v, step) - _shifted(f, x, None, v, -step)) / (2.0 * step)


@dataclass
class TensorCheck:
    """The outcome of checking one named gradient."""

    name: str
    shape: tuple
    mode: str                     # "full" or "sampled"
    checked: int                  # entries compared one by one
    directions: int               # random directions compared
    kinks: int                    # entries (or directions) skipped on a kink
    max_rel_error: float
    diagnosis: Diagnosis
    numeric: Optional[np.ndarray] = None   # full numerical gradient (mode "full")

    @property
    def ok(self) -> bool:
        return self.diagnosis.kind == "ok"

    def result(self) -> str:
        """'ok' or 'WRONG (kind)', with how it was checked when not entry by entry and the kinks skipped."""
        status = "ok" if self.ok else f"WRONG ({self.diagnosis.kind})"
        if self.mode != "full":
            status += f", sampled {self.checked} entries + {self.directions} directions"
        return status + (f", {self.kinks} on a kink skipped" if self.kinks else "")

    def cells(self, label: Optional[str] = None) -> tuple:
        """The row of the results table: (label, shape, rel. error, result)."""
        return (label or self.name, format_shape(self.shape), f"{self.max_rel_error:.1e}", self.result())

    def row(self) -> str:
        return format_table(TABLE_HEAD, [self.cells()]).splitlines()[-1]


TABLE_HEAD = ("gradient", "shape", "rel. error", "result")


def format_shape(shape) -> str:
    """(3,) -> '(3,)', (2, 3) -> '(2, 3)'."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def format_table(head, rows) -> str:
    """The course's results table: a header, a rule, one line per row; the third column (the
    relative error) right-aligned, the others left-aligned. head and rows: tuples of 4 strings."""
    widths = [max(len(str(r[i])) for r in list(rows) + [head]) for i in range(4)]

    def line(r):
        return "  ".join(str(v).rjust(w) if i == 2 else str(v).ljust(w) for i, (v, w) in enumerate(zip(r, widths)))

    return "\n".join([line(head), "-" * len(line(head))] + [line(r) for r in rows])


@dataclass
class GradCheckReport:
    """Per-tensor results of `check_gradients`; printing it shows a table."""

    rows: list = field(default_factory=list)
    rtol: float = DEFAULT_RTOL

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __getitem__(self, name) -> TensorCheck:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def table(self) -> str:
        return format_table(TABLE_HEAD, [r.cells() for r in self.rows])

    def messages(self) -> str:
        return "\n".join(f"{r.name}: {r.diagnosis.message}" for r in self.rows if not r.ok)

    def __str__(self) -> str:
        text = self.table()
        if not self.ok:
            text += "\n\n" + self.messages()
        return text

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731


class GradientCheckError(AssertionError):
    """A gradient disagrees with finite differences. `.report` has the details."""

    def __init__(self, report: GradCheckReport):
        super().__init__(str(report))
        self.report = report


@single_blas_thread   # hundreds of small evaluations: threads would only wait for each other (see _threads)
def check_gradients(
    f: Callable,
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, object],
    *,
    dout=None,
    layout: Optional[Mapping[str, str]] = None,
    batch_size: Optional[int] = None,
    rtol: float = DEFAULT_RTOL,
    h: float = DEFAULT_STEP,
    max_full: int = 400,
    samples: int = 24,
    directions: int = 4,
    seed: int = 0,
    raise_on_failure: bool = True,
    known_factors: Optional[Mapping[str, np.ndarray]] = None,
) -> GradCheckReport:
    """Compare analytic gradients with finite differences, tensor by tensor.

    f: called as f(**inputs); returns a scalar, or an array when `dout` is given (then the
       checked scalar is sum(f * dout), so the analytic gradients are vector-Jacobian products).
    inputs: name -> float64 array. Arrays are perturbed in place and restored.
    analytic: name -> gradient of the same shape as inputs[name]; every key must be in inputs.
    layout: name -> axis letters ("NCHW", "NTD", "FCHW", "ND", ...) so a diagnosis can say which
       channels, time steps or image borders are wrong. batch_size: lets it recognise 1/N slips.
    known_factors: {"sigma'(z^1)": array, ...}: quantities the check knows; a gradient that is the
       right one times (or divided by) one of them is told so. Each applies to the tensors whose
       shape it broadcasts to (see `diagnose`).
    Tensors with at most `max_full` entries are checked entry by entry. Larger ones are checked
    at `samples` random entries and along `directions` random unit directions, which catches an
    error anywhere in the tensor (a few hundred evaluations of f in all).
    Returns a GradCheckReport; raises GradientCheckError (an AssertionError) carrying the table
    and a diagnosis per wrong tensor, unless raise_on_failure is False.
    """
    unknown = [k for k in analytic if k not in inputs]
    if unknown:
        raise ValueError(f"analytic has gradients for {unknown}, which are not among the inputs {list(inputs)}")
    for name, arr in inputs.items():
        _require_float64(arr, f"inputs[{name!r}]")
    if dout is not None:
        f = _scalarised(f, dout)
    settings = _Settings(rtol, h, max_full, samples, directions, batch_size, dict(known_factors or {}))
    rng = np.random.default_rng(seed)
    layout = layout or {}
    report = GradCheckReport(rtol=rtol)
    f0 = _scalar(f(**inputs))
    if not np.isfinite(f0):
        raise ValueError(f"the function being checked returns {f0} at the given inputs; fix the inputs or the loss")
    for name in [k for k in inputs if k in analytic]:
        fx = lambda _x: f(**inputs)  # noqa: E731 - inputs[name] is x, perturbed in place
        report.rows.append(_check_one(name, fx, inputs[name], analytic[name], f0, rng, layout.get(name), settings))
    if raise_on_failure and not report.ok:
        raise GradientCheckError(report)
    return report


def _scalarised(f, dout):
    """f(**kw) -> sum(f(**kw) * dout), refusing an output of another shape."""
    dout = np.asarray(dout, dtype=np.float64)

    def scalar_f(**kw):
        out = np.asarray(f(**kw), dtype=np.float64)
        if out.shape != dout.shape:
            raise ValueError(f"f returned shape {out.shape} but dout has shape {dout.shape}")
        return float(np.sum(out * dout))

    return scalar_f


@dataclass(frozen=True)
class _Settings:
    rtol: float
    h: float
    max_full: int
    samples: int
    directions: int
    batch_size: Optional[int]
    known_factors: dict

    def factors_for(self, shape) -> dict:
        """The known factors that broadcast to `shape`."""
        out = {}
        for label, value in self.known_factors.items():
            try:
                out[label] = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
            except ValueError:
                continue
        return out


def _unusable(name, fx, x, grad, settings) -> tuple:
    """(float64 array, None) when `grad` can be checked against x, else (None, Diagnosis)."""
    a, problem = coerce_gradient(grad, name)
    if problem is None and not np.all(np.isfinite(a)):
        problem = diagnose(a, np.zeros(a.shape), name=name)
    if problem is None and a.shape != x.shape:
        if a.size == x.size and x.size <= settings.max_full:  # maybe transposed or reshaped: say so
            problem = diagnose(a, numerical_gradient(fx, x, settings.h), name=name)
        else:
            problem = shape_diagnosis(a, np.full(x.shape, np.nan), name, settings.rtol)
    return (None, problem) if problem is not None else (a, None)


def _entries(fx, x, a_flat, idx, f0, settings):
    """Central differences at the flat indices idx: (numeric, atol, kinks), each of x.size."""
    numeric = np.full(x.size, np.nan)
    atol = np.zeros(x.size)
    steps = settings.h * np.maximum(1.0, np.abs(x.reshape(-1)))
    for i in idx:
        numeric[i], noise = _central(fx, x, int(i), None, steps[i], f0)
        atol[i] = NOISE_MULTIPLE * noise
    kinks = np.zeros(x.size, dtype=bool)
    for i in idx:  # only a disagreeing entry is worth the six extra evaluations of the kink test
        if not agrees(a_flat[i], numeric[i], settings.rtol, atol[i]) and _is_kink(fx, x, int(i), None, steps[i], f0):
            kinks[i] = True
    return numeric, atol, kinks


def _directions(fx, x, a, f0, rng, count, settings):
    """Directional checks along `count` random unit vectors: (failures [(analytic, numeric)], kinks, max rel)."""
    failures, kinks, max_rel = [], 0, 0.0
    for _ in range(count):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v)
        step = settings.h * max(1.0, float(np.max(np.abs(x))))
        num, noise = _central(fx, x, None, v, step, f0)
        an = float(np.sum(a * v))
        dir_atol = NOISE_MULTIPLE * noise
        if not agrees(an, num, settings.rtol, dir_atol):
            if _is_kink(fx, x, None, v, step, f0):
                kinks += 1
                continue
            failures.append((an, num))
        max_rel = max(max_rel, float(relative_error(an, num, dir_atol / settings.rtol)))
    return failures, kinks, max_rel


def _check_one(name, fx, x, grad, f0, rng, layout, settings) -> TensorCheck:
    a, problem = _unusable(name, fx, x, grad, settings)
    if problem is not None:
        return TensorCheck(name, x.shape, "full", 0, 0, 0, np.inf, problem)
    full = x.size <= settings.max_full
    idx = np.arange(x.size) if full else rng.choice(x.size, size=min(settings.samples, x.size), replace=False)
    a_flat = a.reshape(-1)
    numeric, atol, kinks = _entries(fx, x, a_flat, idx, f0, settings)
    use = np.zeros(x.size, dtype=bool)
    use[idx] = True
    use &= ~kinks
    rel = relative_error(a_flat[use], numeric[use], atol[use] / settings.rtol)
    max_rel = float(rel.max()) if rel.size else 0.0
    factors = settings.factors_for(x.shape)
    if full:
        num_full = numeric.reshape(x.shape)
        diag = diagnose(a, num_full, layout=layout, batch_size=settings.batch_size, rtol=settings.rtol,
                        atol=atol.reshape(x.shape), ignore=kinks.reshape(x.shape), name=name, known_factors=factors)
        if kinks.all():
            diag = Diagnosis("ok", f"every entry of {name} sits on a kink; nothing could be checked. "
                                   "Move the inputs away from ReLU zeros / max-pool ties.", name=name)
        return TensorCheck(name, x.shape, "full", int(use.sum()), 0, int(kinks.sum()), max_rel, diag, num_full)
    dir_fail, dir_kinks, dir_rel = _directions(fx, x, a, f0, rng, settings.directions, settings)
    factors = {k: v.reshape(-1)[use] for k, v in factors.items()}
    diag = diagnose(a_flat[use], numeric[use], batch_size=settings.batch_size, rtol=settings.rtol, atol=atol[use],
                    name=name, known_factors=factors)
    diag = _sampled_verdict(name, x.shape, diag, dir_fail, np.flatnonzero(use),
                            agrees(a_flat[use], numeric[use], settings.rtol, atol[use]))
    return TensorCheck(name, x.shape, "sampled", int(use.sum()), settings.directions, int(kinks.sum()) + dir_kinks,
                       max(max_rel, dir_rel), diag)


def _sampled_verdict(name, shape, diag, dir_fail, used, entry_ok) -> Diagnosis:
    """Diagnose on the sampled entries, then let the directions overrule an "ok"."""
    if not (diag.kind == "partial" or (diag.kind == "ok" and dir_fail)):
        return diag
    where = ""
    wrong_idx = used[~entry_ok] if diag.kind == "partial" else []
    if len(wrong_idx):
        coords = [tuple(int(c) for c in np.unravel_index(i, shape)) for i in wrong_idx[:5]]
        where = f" Wrong at sampled entries {', '.join(map(str, coords))}."
    if diag.kind == "ok":
        an, nu = dir_fail[0]
        where = (f" The sampled entries agree, but along a random direction the analytic slope is {an:.6g} "
                 f"and the numerical one {nu:.6g}: a few entries somewhere in {name} are wrong.")
    return Diagnosis("partial", f"{name} is right in some entries and wrong in others.{where}", name=name)
