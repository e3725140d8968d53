"""Checks of notebook 00 (gradient checking), each with its catalogue of known slips.

    check_central_difference(central_difference)          Exercise 1:  (f(x + h) - f(x - h)) / 2h
    check_numerical_gradient(numerical_gradient)          Exercise 2:  every entry, step h max(1, |x_i|)
    check_relative_error(relative_error)                  Exercise 3:  |a - n| / max(|a|, |n|), 0 at (0, 0)
    check_sigmoid_prime(sigmoid_prime)                    Exercise 4a: sigma'(u)
    check_tanh_prime_from_output(tanh_prime_from_output)  Exercise 4b: tanh' written with y = tanh(u)
    check_straddles_kink(straddles_kink)                  Exercise 5:  |u| <= h
    check_scaled_tanh_prime_as_written(fn)                Exercise 6a: A S (1 - y^2), refuted
    check_scaled_tanh_prime_from_output(fn)               Exercise 6b: (S / A)(A^2 - y^2)

Every check takes the student's function and `cases=None` (the visible cases below) or a list of
dicts with other inputs (the graded cells' hidden blocks). The first three exercises return
numbers, not gradients: they are compared with what the formula gives on the same inputs (with
the step the check chose, so a one-sided difference or an unscaled step shows), and a known slip
is named when the student's numbers equal that slip's.
"""
from __future__ import annotations

import functools
from typing import Callable, Optional

import numpy as np

from . import Exercise, run_cases
from ..activations import LECUN_A, LECUN_S, scaled_tanh, sigmoid
from ..grading import (BadReturn, WrongValue, call_student, check_derivative, check_value_slips,
                       expect_wrong, random_inputs)
from ..slips import Slip, matching_slip, slip_factory, slip_values

__all__ = [
    "check_central_difference", "check_numerical_gradient", "check_relative_error", "check_sigmoid_prime",
    "check_tanh_prime_from_output", "check_straddles_kink", "check_scaled_tanh_prime_as_written",
    "check_scaled_tanh_prime_from_output", "EXERCISES",
    "CENTRAL_DIFFERENCE_SLIPS", "NUMERICAL_GRADIENT_SLIPS", "RELATIVE_ERROR_SLIPS", "SIGMOID_PRIME_SLIPS",
    "TANH_PRIME_FROM_OUTPUT_SLIPS", "STRADDLES_KINK_SLIPS", "SCALED_TANH_PRIME_AS_WRITTEN_SLIPS",
    "SCALED_TANH_PRIME_FROM_OUTPUT_SLIPS",
]

# Library functions that would do an exercise for the student: switched off while it is checked.
_BLOCK_GRADIENTS = ("numerical_gradient", "numerical_vjp", "gradcheck.check_gradients",
                    "gradcheck.directional_derivative")


def _named(f: Callable) -> str:
    return getattr(f, "__name__", "f").replace("<lambda>", "f")


# --------------------------------------------------------------------------------------------
# Exercise 1: central_difference(f, x, h)
# --------------------------------------------------------------------------------------------

def reference_central_difference(f, x, h=1e-5, *, slip=None):
    """(f(x + h) - f(x - h)) / (2 h) for a function f of one float; `slip` names a known mistake."""
    if slip == "forward":
        return (f(x + h) - f(x)) / h
    if slip == "backward":
        return (f(x) - f(x - h)) / h
    if slip == "over_h":
        return (f(x + h) - f(x - h)) / h
    if slip == "precedence":
        return (f(x + h) - f(x - h)) / 2.0 * h
    if slip == "swapped":
        return (f(x - h) - f(x + h)) / (2.0 * h)
    return (f(x + h) - f(x - h)) / (2.0 * h)


_cd_slip = slip_factory(reference_central_difference)


CENTRAL_DIFFERENCE_SLIPS = (
    _cd_slip("forward", "you took a one-sided (forward) difference (f(x + h) - f(x)) / h. Its error shrinks only "
                        "like h; evaluate f on both sides, f(x + h) and f(x - h), and divide by 2h."),
    _cd_slip("backward", "you took a one-sided (backward) difference (f(x) - f(x - h)) / h. Evaluate f on both "
                         "sides, f(x + h) and f(x - h), and divide by 2h."),
    _cd_slip("over_h", "you divided by h instead of 2h: the two points x - h and x + h are 2h apart, so every "
                       "value comes out twice the derivative."),
    _cd_slip("precedence", "you wrote `/ 2 * h`, which divides by 2 and then multiplies by h: Python reads it "
                           "left to right. Put the denominator in parentheses: / (2 * h)."),
    _cd_slip("swapped", "you subtracted the other way round, f(x - h) - f(x + h): the sign of every value is "
                        "flipped."),
)

CENTRAL_DIFFERENCE_CASES = (dict(f=np.sin, x=0.3, h=1e-3), dict(f=np.exp, x=0.5, h=1e-2))


def _check_central_difference_case(fn, f, x, h, label=None):
    __tracebackhide__ = True
    label = label or f"central_difference({_named(f)}, {x:g}, {h:g})"
    got = call_student(fn, f, x, h, name="central_difference", also=_BLOCK_GRADIENTS)
    expected = reference_central_difference(f, x, h)
    check_value_slips(got, expected, slips=slip_values(CENTRAL_DIFFERENCE_SLIPS, f, x, h), name=label,
                      rtol=1e-10, hint="The central difference is (f(x + h) - f(x - h)) / (2 h).")


def check_central_difference(fn, cases=None):
    """Exercise 1: fn(f, x, h) must return the central difference (f(x + h) - f(x - h)) / (2 h).

    cases: dicts with f (a function of one float), x (a float), h (the step) and optionally
    label; compared with the formula itself to 1e-10, so the step h is large enough here that a
    one-sided difference, a factor 2 or a misplaced parenthesis shows.
    """
    __tracebackhide__ = True
    run_cases(functools.partial(_check_central_difference_case, fn), cases, CENTRAL_DIFFERENCE_CASES)


# --------------------------------------------------------------------------------------------
# Exercise 2: numerical_gradient(f, x, h)
# --------------------------------------------------------------------------------------------

def reference_numerical_gradient(f, x, h=1e-5, *, slip=None):
    """Central differences of the scalar f at every entry of x with the step s_i = h max(1, |x_i|).

    x: float64 array of any shape, perturbed in place and restored. Returns an array of x's shape.
    slip: a known mistake ("not_restored", "forward", "unscaled", "over_s", "second_at_x",
    "all_at_once"), for the catalogue below.
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    if slip == "all_at_once":
        s = h * np.maximum(1.0, np.abs(x))
        grad[...] = (f(x + s) - f(x - s)) / (2.0 * np.mean(s))
        return grad
    for i in range(x.size):
        old = x.flat[i]
        s = h if slip == "unscaled" else h * max(1.0, abs(old))
        x.flat[i] = old + s
        f_plus = f(x)
        if slip == "second_at_x":
            x.flat[i] -= s
        elif slip != "forward":
            x.flat[i] = old - s
        f_minus = f(x)
        if slip != "not_restored":
            x.flat[i] = old
        if slip == "forward":
            x.flat[i] = old
            grad.flat[i] = (f_plus - f(x)) / s
        else:
            grad.flat[i] = (f_plus - f_minus) / (s if slip == "over_s" else 2.0 * s)
    return grad


_ng_slip = slip_factory(reference_numerical_gradient)


NOT_RESTORED = _ng_slip(
    "not_restored", "numerical_gradient did not put x back: after perturbing an entry, restore it "
                    "(x.flat[i] = old) before you move on, so that every entry is measured at the same point and "
                    "the caller gets its x back unchanged.")

NUMERICAL_GRADIENT_SLIPS = (
    NOT_RESTORED,
    _ng_slip("forward", "you took a one-sided difference (f(x + s e_i) - f(x)) / s. Use both sides, "
                        "f(x + s e_i) and f(x - s e_i), divided by 2s."),
    _ng_slip("unscaled", "you used the same step h for every entry. Scale it with the entry: s_i = h max(1, |x_i|), "
                         "so that large entries get a proportionally larger step."),
    _ng_slip("over_s", "you divided by the step s instead of 2s: the two points are 2s apart, so every entry comes "
                       "out twice the right value."),
    _ng_slip("second_at_x", "your second evaluation is at x itself, not at x - s e_i: after f(x + s e_i) you moved "
                            "the entry back by s only (x.flat[i] -= s). Set it to old - s before the second call."),
    _ng_slip("all_at_once", "you perturbed every entry at once (x + s) instead of one entry at a time, so every "
                            "entry of your result is the same number. Loop over the entries (x.flat[i]) and change "
                            "only entry i."),
)

NUMERICAL_GRADIENT_CASES = (dict(shape=(2, 3), seed=0, h=0.1),)


def _test_function(shape, seed):
    """f(z) = sum(w z^3) + (sum z)^2 and its exact central difference with step s (a polynomial of degree 3)."""
    w = np.random.default_rng([seed, 0x0F]).uniform(0.5, 2.0, size=shape)

    def f(z):
        return float(np.sum(w * z ** 3) + np.sum(z) ** 2)

    def exact(x, s):
        return w * (3.0 * x ** 2 + s ** 2) + 2.0 * np.sum(x)

    return f, exact


def _check_numerical_gradient_case(fn, shape, seed, h):
    __tracebackhide__ = True
    x = random_inputs({"x": shape}, seed=seed, scale=2.0)["x"]
    f, exact = _test_function(shape, seed)
    label = f"numerical_gradient of sum(w x^3) + (sum x)^2 at x of shape {tuple(shape)}, h = {h:g}"
    try:
        got = call_student(fn, f, x, h, name="numerical_gradient", unchanged=True, also=_BLOCK_GRADIENTS)
    except BadReturn as err:
        if err.kinds.get("x") == "mutated":
            print(f"Recognised mistake: {NOT_RESTORED.words}")
            raise BadReturn(f"Recognised mistake: {NOT_RESTORED.words}\n{err}", err.kinds) from None
        raise
    expected = exact(x, h * np.maximum(1.0, np.abs(x)))
    slips = [s for s in NUMERICAL_GRADIENT_SLIPS if s is not NOT_RESTORED]
    check_value_slips(got, expected, slips=slip_values(slips, f, x, h), name=label, rtol=1e-8,
                      atol=1e-10 * float(np.max(np.abs(expected))),
                      hint="Perturb one entry at a time by s = h max(1, |x_i|) on both sides, and divide by 2s.")


def check_numerical_gradient(fn, cases=None):
    """Exercise 2: fn(f, x, h) must return the central differences of f at every entry of x.

    Entry i uses the step s_i = h max(1, |x_i|); x must be left as it was (checked first: a
    function that does not put x back is told so). The test function is a cubic polynomial whose
    central difference with step s is known exactly, so a one-sided difference or an unscaled
    step shows even though both are close to the true derivative.
    cases: dicts with shape, seed and h.
    """
    __tracebackhide__ = True
    run_cases(functools.partial(_check_numerical_gradient_case, fn), cases, NUMERICAL_GRADIENT_CASES)


# --------------------------------------------------------------------------------------------
# Exercise 3: relative_error(a, n)
# --------------------------------------------------------------------------------------------

def reference_relative_error(a, n, *, slip=None):
    """|a - n| / max(|a|, |n|) element-wise, 0 where both are 0; `slip` names a known mistake."""
    a = np.asarray(a, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    diff = np.abs(a - n)
    if slip == "absolute":
        return diff
    if slip == "no_abs":
        diff = a - n
    denom = {"over_n": np.abs(n), "over_a": np.abs(a), "sum": np.abs(a) + np.abs(n),
             "max_signed": np.maximum(a, n)}.get(slip, np.maximum(np.abs(a), np.abs(n)))
    safe = np.where(denom == 0, 1.0, denom)
    return np.where(denom == 0, 0.0, diff / safe)


_re_slip = slip_factory(reference_relative_error)


RELATIVE_ERROR_SLIPS = (
    _re_slip("absolute", "you returned the absolute error |a - n|. Divide it by the size of the numbers, "
                         "max(|a|, |n|), so that 1e-6 means the same for a gradient of size 1000 and of size 0.001."),
    _re_slip("over_n", "you divided by |n| only: the error is then not symmetric in a and n, and it explodes where "
                       "the numerical value is small. Divide by max(|a|, |n|)."),
    _re_slip("over_a", "you divided by |a| only: the error is then not symmetric in a and n, and it explodes where "
                       "the analytic value is small. Divide by max(|a|, |n|)."),
    _re_slip("sum", "you divided by |a| + |n|; the course divides by max(|a|, |n|), so your errors are up to "
                    "twice too small."),
    _re_slip("max_signed", "you took max(a, n) without absolute values: where both are negative the denominator "
                           "is negative. Use max(|a|, |n|)."),
    _re_slip("no_abs", "the numerator has no absolute value: a - n is negative where n > a. Use |a - n|."),
)

RELATIVE_ERROR_CASES = (
    dict(a=[[1.0, -2.0, 1e-8], [3.0, -2.0, 0.5]], n=[[1.5, 2.0, 2e-8], [-1.0, -3.0, 0.25]]),
    dict(a=[0.0, 1.0, 0.0], n=[0.0, 0.5, 2.0]),
)


def _check_relative_error_case(fn, a, n):
    __tracebackhide__ = True
    a, n = np.array(a, dtype=np.float64), np.array(n, dtype=np.float64)
    got = call_student(fn, a.copy(), n.copy(), name="relative_error", also=("relative_error",))
    hint = "Divide |a - n| by max(|a|, |n|), entry by entry, and return 0 where a and n are both 0."
    check_value_slips(got, reference_relative_error(a, n), slips=slip_values(RELATIVE_ERROR_SLIPS, a, n),
                      name=f"relative_error for a of shape {a.shape}", rtol=1e-10, hint=hint)


def check_relative_error(fn, cases=None):
    """Exercise 3: fn(a, n) must return |a - n| / max(|a|, |n|) entry by entry, and 0 where both are 0.

    cases: dicts with the arrays (or nested lists) a and n, of the same shape.
    """
    __tracebackhide__ = True
    run_cases(functools.partial(_check_relative_error_case, fn), cases, RELATIVE_ERROR_CASES)


# --------------------------------------------------------------------------------------------
# Exercise 4: sigmoid_prime(u) and tanh_prime_from_output(y)
# --------------------------------------------------------------------------------------------

def reference_sigmoid_prime(u, *, slip=None):
    """sigma'(u) = sigma(u)(1 - sigma(u)); `slip` names a known mistake."""
    y = sigmoid(u)
    if slip == "sigmoid_itself":
        return y
    if slip == "u_for_y":
        return u * (1.0 - u)
    if slip == "plus":
        return y * (1.0 + y)
    if slip == "no_square":
        return np.exp(-u) / (1.0 + np.exp(-u))
    if slip == "tanh_form":
        return 1.0 - y * y
    return y * (1.0 - y)


_sp_slip = slip_factory(reference_sigmoid_prime)


SIGMOID_PRIME_SLIPS = (
    _sp_slip("sigmoid_itself", "you returned sigma(u) itself, not its derivative sigma(u)(1 - sigma(u))."),
    _sp_slip("u_for_y", "you wrote the form y(1 - y) with u in place of y: that form needs the output, "
                        "y = sigmoid(u), not the input u."),
    _sp_slip("plus", "you wrote sigma(u)(1 + sigma(u)); the derivative is sigma(u)(1 - sigma(u)) (minus)."),
    _sp_slip("no_square", "you wrote exp(-u) / (1 + exp(-u)) without the square in the denominator: the quotient "
                          "rule gives exp(-u) / (1 + exp(-u))^2."),
    _sp_slip("tanh_form", "you used tanh's form 1 - y^2; the sigmoid's is y(1 - y) with y = sigmoid(u)."),
)

_BLOCK_SIGMOID = ("sigmoid_grad", "sigmoid_grad_from_output", "softplus_grad")
SIGMOID_PRIME_CASES = (dict(shape=(2, 3), seed=0),)


def _check_sigmoid_prime_case(fn, shape=(3, 4), seed=0, scale=2.0, x=None):
    __tracebackhide__ = True
    check_derivative(fn, sigmoid, None if x is None else np.array(x, dtype=np.float64), shape=shape, seed=seed,
                     scale=scale, name="sigmoid_prime", also=_BLOCK_SIGMOID, slips=SIGMOID_PRIME_SLIPS)


def check_sigmoid_prime(fn, cases=None):
    """Exercise 4a: fn(u) must return sigma'(u) element-wise. cases: dicts with shape, seed, scale or x."""
    __tracebackhide__ = True
    run_cases(functools.partial(_check_sigmoid_prime_case, fn), cases, SIGMOID_PRIME_CASES)


def reference_tanh_prime_from_output(y, *, slip=None):
    """tanh'(u) written with y = tanh(u): 1 - y^2; `slip` names a known mistake."""
    if slip == "no_square":
        return 1.0 - y
    if slip == "tanh_again":
        return 1.0 - np.tanh(y) ** 2
    if slip == "plus":
        return 1.0 + y * y
    if slip == "sigmoid_form":
        return y * (1.0 - y)
    return 1.0 - y * y


_tp_slip = slip_factory(reference_tanh_prime_from_output)


TANH_PRIME_FROM_OUTPUT_SLIPS = (
    _tp_slip("no_square", "you wrote 1 - y; the derivative is 1 - y^2 (y squared)."),
    _tp_slip("tanh_again", "you applied tanh to y again (1 - tanh(y)^2): y is already the output tanh(u), so the "
                           "derivative is simply 1 - y^2."),
    _tp_slip("plus", "you wrote 1 + y^2; the derivative of tanh is 1 - y^2 (minus)."),
    _tp_slip("sigmoid_form", "you used the sigmoid's form y(1 - y); for tanh it is 1 - y^2."),
)

_BLOCK_TANH = ("tanh_grad", "tanh_grad_from_output")
TANH_PRIME_FROM_OUTPUT_CASES = (dict(shape=(2, 3), seed=0),)


def _check_tanh_prime_case(fn, shape=(3, 4), seed=0, scale=2.0):
    __tracebackhide__ = True
    check_derivative(fn, np.tanh, shape=shape, seed=seed, scale=scale, from_output=True,
                     name="tanh_prime_from_output", also=_BLOCK_TANH, slips=TANH_PRIME_FROM_OUTPUT_SLIPS)


def check_tanh_prime_from_output(fn, cases=None):
    """Exercise 4b: fn(y) with y = tanh(u) must return tanh'(u) = 1 - y^2. cases: dicts with shape, seed, scale."""
    __tracebackhide__ = True
    run_cases(functools.partial(_check_tanh_prime_case, fn), cases, TANH_PRIME_FROM_OUTPUT_CASES)


# --------------------------------------------------------------------------------------------
# Exercise 5: straddles_kink(u, h)
# --------------------------------------------------------------------------------------------

def reference_straddles_kink(u, h, *, slip=None):
    """True where the closed interval [u - h, u + h] contains 0; `slip` names a known mistake."""
    u = np.asarray(u)
    if slip == "open":
        return np.abs(u) < h
    if slip == "no_abs":
        return u <= h
    if slip == "inverted":
        return np.abs(u) > h
    if slip == "width_2h":
        return np.abs(u) <= 2 * h
    if slip == "or":
        return (u - h <= 0) | (u + h >= 0)
    return np.abs(u) <= h


_sk_slip = slip_factory(reference_straddles_kink)


STRADDLES_KINK_SLIPS = (
    _sk_slip("open", "you used an open interval (|u| < h): an entry at distance exactly h from the kink counts "
                     "too, because the interval is a closed interval (use <=)."),
    _sk_slip("no_abs", "you compared u <= h without the absolute value, so every negative u is flagged; the "
                       "distance to the kink is |u|."),
    _sk_slip("inverted", "your answer is the opposite: True where the interval does NOT contain 0. Return True "
                         "where |u| <= h."),
    _sk_slip("width_2h", "you compared |u| with 2h: the interval [u - h, u + h] reaches 0 when |u| <= h (h, not "
                         "its width 2h)."),
    _sk_slip("or", "you joined the two conditions with `or` (|): u - h <= 0 OR u + h >= 0 holds for every u. "
                   "Both must hold: use & (and)."),
)

STRADDLES_KINK_CASES = (
    dict(u=[-1.0, -0.5, -0.25, -0.1, 0.0, 0.1, 0.25, 0.4, 0.6, 2.0], h=0.25),
    dict(u=[[-1.0, -1e-6], [0.0, 2e-5], [3.0, 1e-5]], h=1e-5),
)


def _check_straddles_kink_case(fn, u, h):
    __tracebackhide__ = True
    u = np.array(u, dtype=np.float64)
    label = f"straddles_kink(u, {h:g}) for u of shape {u.shape}"
    got = call_student(fn, u.copy(), h, name="straddles_kink")
    if not isinstance(got, np.ndarray) or got.shape != u.shape:
        what = f"shape {got.shape}" if isinstance(got, np.ndarray) else f"a {type(got).__name__}"
        raise BadReturn(f"{label}: expected a numpy array of booleans of shape {u.shape}, got {what}.",
                        {"straddles_kink": "shape"})
    if got.dtype != bool:
        raise BadReturn(f"{label} has dtype {got.dtype}: return booleans (a comparison such as np.abs(u) <= h), "
                        "not numbers.", {"straddles_kink": "dtype"})
    expected = reference_straddles_kink(u, h)
    if np.array_equal(got, expected):
        print(f"{label}: ok")
        return
    wrong = np.argwhere(got != expected)
    shown = ", ".join(f"u = {u[tuple(i)]:g} (expected {expected[tuple(i)]}, got {got[tuple(i)]})" for i in wrong[:4])
    message = f"{label} is wrong in {len(wrong)} of {u.size} entries: {shown}."
    slip = matching_slip({"mask": got}, ((s, {"mask": v}) for s, v in slip_values(STRADDLES_KINK_SLIPS, u, h)),
                         right={"mask": expected})
    if slip is not None:
        message = f"Recognised mistake: {slip.words}\n{message}"
        print(f"Recognised mistake: {slip.words}")
    raise WrongValue(message, {"straddles_kink": "value"})


def check_straddles_kink(fn, cases=None):
    """Exercise 5: fn(u, h) must return a bool array, True where |u| <= h. cases: dicts with u and h."""
    __tracebackhide__ = True
    run_cases(functools.partial(_check_straddles_kink_case, fn), cases, STRADDLES_KINK_CASES)


# --------------------------------------------------------------------------------------------
# Exercise 6: the scaled tanh of LeNet-5, a classmate's slip (6a as written, 6b corrected)
# --------------------------------------------------------------------------------------------

_BLOCK_SCALED = ("scaled_tanh_grad", "scaled_tanh_grad_from_output")


def reference_scaled_tanh_prime_from_output(y, *, slip=None):
    """f'(a) for f(a) = A tanh(S a), written with y = f(a): (S / A)(A^2 - y^2); `slip` names a known mistake."""
    if slip == "as_printed":
        return LECUN_A * LECUN_S * (1.0 - y ** 2)
    if slip == "no_S":
        return (1.0 / LECUN_A) * (LECUN_A ** 2 - y ** 2)
    if slip == "no_over_A":
        return LECUN_S * (LECUN_A ** 2 - y ** 2)
    if slip == "y_as_input":
        return LECUN_A * LECUN_S * (1.0 - np.tanh(LECUN_S * y) ** 2)
    return (LECUN_S / LECUN_A) * (LECUN_A ** 2 - y ** 2)


_st_slip = slip_factory(reference_scaled_tanh_prime_from_output)


SCALED_TANH_PRIME_FROM_OUTPUT_SLIPS = (
    _st_slip("as_printed", "you kept the classmate's slip, A S (1 - y^2): y = A tanh(S a) means tanh(S a) = y / A, "
                           "so 1 - tanh^2(S a) = 1 - y^2 / A^2."),
    _st_slip("no_S", "the inner derivative S is missing: d/da tanh(S a) = S (1 - tanh^2(S a)) (chain rule)."),
    _st_slip("no_over_A", "you wrote S (A^2 - y^2): A S (1 - y^2 / A^2) is (S / A)(A^2 - y^2), divided by A once."),
    _st_slip("y_as_input", "you treated y as the input a (A S (1 - tanh^2(S y))): y is the output f(a); write the "
                           "derivative with y / A in place of tanh(S a)."),
)

_as_printed = functools.partial(reference_scaled_tanh_prime_from_output, slip="as_printed")

# Exercise 6a asks for the slip itself; what can go wrong is repairing it or leaving a factor out.
SCALED_TANH_PRIME_AS_WRITTEN_SLIPS = (
    Slip("repaired", "you wrote the corrected derivative; this exercise asks for the classmate's formula "
                     "A S (1 - y^2) exactly as written (the correction is Exercise 6b).",
         reference_scaled_tanh_prime_from_output),
    _st_slip("no_S", "the factor S of A S (1 - y^2) is missing."),
)

SCALED_TANH_CASES = (dict(shape=(2, 3), seed=0),)


def _check_as_written_case(fn, as_printed, shape=(3, 4), seed=0, scale=2.0):
    __tracebackhide__ = True
    if as_printed is not None:
        y = scaled_tanh(random_inputs({"a": shape}, seed=seed, scale=scale)["a"])
        got = call_student(fn, y.copy(), name="scaled_tanh_prime_as_written", also=_BLOCK_SCALED)
        check_value_slips(got, as_printed(y.copy()), name="scaled_tanh_prime_as_written",
                          slips=slip_values(SCALED_TANH_PRIME_AS_WRITTEN_SLIPS, y), rtol=1e-12,
                          hint="Implement the classmate's formula A S (1 - y^2) exactly as written, slip included.")
    expect_wrong(check_derivative, fn, scaled_tanh, shape=shape, seed=seed, scale=scale, from_output=True,
                 name="scaled_tanh_prime_as_written", also=_BLOCK_SCALED, kind=("partial", "sign"))


def check_scaled_tanh_prime_as_written(fn, cases=None, *, as_printed: Optional[Callable] = None):
    """Exercise 6a: fn(y) is the classmate's A S (1 - y^2); passes when the gradient checker refutes it.

    as_printed: the grader's own version of the printed formula (the graded cell's hidden block
    passes it); then fn must first compute exactly that, so that any other wrong formula, twice
    the formula or zeros, does not earn the point merely because it is refuted too.
    cases: dicts with shape, seed, scale.
    """
    __tracebackhide__ = True
    run_cases(functools.partial(_check_as_written_case, fn, as_printed), cases, SCALED_TANH_CASES)


def _check_scaled_tanh_case(fn, shape=(3, 4), seed=0, scale=2.0):
    __tracebackhide__ = True
    check_derivative(fn, scaled_tanh, shape=shape, seed=seed, scale=scale, from_output=True,
                     name="scaled_tanh_prime_from_output", also=_BLOCK_SCALED,
                     slips=SCALED_TANH_PRIME_FROM_OUTPUT_SLIPS)


def check_scaled_tanh_prime_from_output(fn, cases=None):
    """Exercise 6b: fn(y) with y = A tanh(S a) must return f'(a) = (S / A)(A^2 - y^2). cases: shape, seed, scale."""
    __tracebackhide__ = True
    run_cases(functools.partial(_check_scaled_tanh_case, fn), cases, SCALED_TANH_CASES)


EXERCISES = (
    Exercise("central_difference", check_central_difference, reference_central_difference, CENTRAL_DIFFERENCE_SLIPS),
    Exercise("numerical_gradient", check_numerical_gradient, reference_numerical_gradient, NUMERICAL_GRADIENT_SLIPS),
    Exercise("relative_error", check_relative_error, reference_relative_error, RELATIVE_ERROR_SLIPS),
    Exercise("sigmoid_prime", check_sigmoid_prime, reference_sigmoid_prime, SIGMOID_PRIME_SLIPS),
    Exercise("tanh_prime_from_output", check_tanh_prime_from_output, reference_tanh_prime_from_output,
             TANH_PRIME_FROM_OUTPUT_SLIPS),
    Exercise("straddles_kink", check_straddles_kink, reference_straddles_kink, STRADDLES_KINK_SLIPS),
    # An as-written exercise's slips show only against the printed formula, which the graded cell passes.
    Exercise("scaled_tanh_prime_as_written",
             functools.partial(check_scaled_tanh_prime_as_written, as_printed=_as_printed),
             _as_printed, SCALED_TANH_PRIME_AS_WRITTEN_SLIPS),
    Exercise("scaled_tanh_prime_from_output", check_scaled_tanh_prime_from_output,
             reference_scaled_tanh_prime_from_output, SCALED_TANH_PRIME_FROM_OUTPUT_SLIPS),
)
