"""backprop.checks.gradient_checking: right answers in any style pass, known slips are named, and the words
notebook 00 promises appear."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from backprop import LECUN_A, LECUN_S, sigmoid
from backprop import numerical_gradient as library_numerical_gradient
from backprop.checks import gradient_checking as checks
from backprop.checks.catalogue import run_check
from backprop.grading import GradingError


def exercise(name):
    return next(e for e in checks.EXERCISES if e.name == name)


def printed_formula(y):
    return LECUN_A * LECUN_S * (1.0 - y ** 2)


# ---------------------------------------------------------------- other correct styles
def cd_numpy_scalar(f, x, h):
    return np.float64(f(x + h) - f(x - h)) * np.float64(0.5 / h)


def cd_zero_d_array(f, x, h):
    return np.array((f(x + h) - f(x - h)) / (2 * h))


def ng_copies_and_nditer(f, x, h=1e-5):
    """Never touches x: every evaluation on a fresh copy, indices from np.ndindex."""
    grad = np.empty(x.shape)
    for idx in np.ndindex(x.shape):
        s = h * max(1.0, abs(x[idx]))
        plus, minus = x.copy(), x.copy()
        plus[idx] += s
        minus[idx] -= s
        grad[idx] = (f(plus) - f(minus)) / (2 * s)
    return grad


def ng_flat_view(f, x, h=1e-5):
    """Perturbs through a flat view of x, restores with a saved copy."""
    flat, saved, grad = x.reshape(-1), x.copy(), np.zeros(x.size)
    steps = h * np.maximum(1.0, np.abs(flat))
    for i, s in enumerate(steps):
        flat[i] += s
        up = f(x)
        flat[i] -= 2 * s
        down = f(x)
        x[...] = saved
        grad[i] = (up - down) / (2 * s)
    return grad.reshape(x.shape)


def re_errstate(a, n):
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.abs(a - n) / np.fmax(np.abs(a), np.abs(n))
    return np.nan_to_num(out, nan=0.0)


def re_divide_where(a, n):
    a, n = np.asarray(a), np.asarray(n)
    denom = np.maximum(np.abs(a), np.abs(n))
    return np.divide(np.abs(a - n), denom, out=np.zeros(np.shape(a)), where=denom > 0)


CORRECT_STYLES = [   # (exercise, a right answer in another style): tests/test_checks_catalogue.py runs them
    ("central_difference", cd_numpy_scalar), ("central_difference", cd_zero_d_array),
    ("numerical_gradient", ng_copies_and_nditer), ("numerical_gradient", ng_flat_view),
    ("relative_error", re_errstate), ("relative_error", re_divide_where),
    ("sigmoid_prime", lambda u: np.exp(-u) / (1.0 + np.exp(-u)) ** 2),
    ("sigmoid_prime", lambda u: sigmoid(u) * sigmoid(-u)),
    ("tanh_prime_from_output", lambda y: (1 - y) * (1 + y)),
    ("tanh_prime_from_output", lambda y: np.subtract(1.0, np.square(y))),
    ("straddles_kink", lambda u, h: (u - h <= 0) & (u + h >= 0)),
    ("straddles_kink", lambda u, h: np.less_equal(np.abs(u), h)),
    ("scaled_tanh_prime_as_written", lambda y: LECUN_S * LECUN_A * (1 - y * y)),
    ("scaled_tanh_prime_from_output", lambda y: LECUN_A * LECUN_S * (1.0 - (y / LECUN_A) ** 2)),
]


HIDDEN_STYLE_CASES = {   # the kinds of cases the graded cells pass
    "central_difference": [dict(f=np.exp, x=0.5, h=1e-4), dict(f=np.cos, x=1.1, h=1e-6),
                           dict(f=lambda t: t ** 3, x=2.0, h=0.5, label="t^3")],
    "numerical_gradient": [dict(shape=(5,), seed=11, h=0.05), dict(shape=(2, 3, 2), seed=12, h=1e-3),
                           dict(shape=(1, 1), seed=13, h=0.2)],
    "relative_error": [dict(a=[3.0, -1.0, 0.0, 0.5], n=[3.0, 1.0, 0.0, 0.25])],
    "sigmoid_prime": [dict(x=np.array([-30.0, -5.0, 0.0, 5.0, 30.0]), seed=23), dict(shape=(7,), seed=21, scale=4.0)],
    "tanh_prime_from_output": [dict(shape=(1, 4, 2), seed=32)],
    "straddles_kink": [dict(u=[[-0.5, 0.5], [-0.125, 0.125], [0.0625, -0.25]], h=0.125), dict(u=[0.0], h=1e-5)],
    "scaled_tanh_prime_as_written": [dict(shape=(9,), seed=41)],
    "scaled_tanh_prime_from_output": [dict(shape=(1,), seed=52), dict(shape=(8,), seed=51, scale=3.0)],
}


def test_catalogue_size():
    sizes = {e.name: len(e.slips) for e in checks.EXERCISES}
    assert all(2 <= n <= 6 for n in sizes.values()), sizes


# ---------------------------------------------------------------- what the notebook promises
def test_x_not_put_back_is_named_in_the_visible_check_not_as_wrong_values():
    def keeps_x_moved(f, x, h=1e-5):
        grad = np.zeros_like(x)
        for i in range(x.size):
            s = h * max(1.0, abs(x.flat[i]))
            x.flat[i] += s
            up = f(x)
            x.flat[i] -= 2 * s
            grad.flat[i] = (up - f(x)) / (2 * s)
        return grad

    with pytest.raises(GradingError) as err:
        checks.check_numerical_gradient(keeps_x_moved)       # the visible call, as in the check cell
    assert "did not put x back" in str(err.value) and "changed its input x in place" in str(err.value)
    assert "is not right" not in str(err.value)


def test_straddles_kink_visible_check_asserts():
    with pytest.raises(GradingError, match="closed interval"):
        checks.check_straddles_kink(lambda u, h: np.abs(u) < h)
    with pytest.raises(GradingError, match="return booleans"):
        checks.check_straddles_kink(lambda u, h: (np.abs(u) <= h).astype(float))
    with pytest.raises(GradingError, match="wrong in"):
        checks.check_straddles_kink(lambda u, h: np.zeros(np.shape(u), dtype=bool))


def test_relative_error_nan_at_zero_is_explained():
    with pytest.raises(GradingError, match="NaN") as err:
        checks.check_relative_error(lambda a, n: np.abs(a - n) / np.maximum(np.abs(a), np.abs(n)))
    assert "both 0" in str(err.value)


def test_numerical_gradient_is_not_given_the_library_version():
    with pytest.raises(GradingError, match="switched off"):
        checks.check_numerical_gradient(lambda f, x, h: library_numerical_gradient(f, x, h))


@pytest.mark.parametrize("wrong", [
    lambda y: 2 * printed_formula(y), lambda y: np.zeros_like(y), lambda y: LECUN_A * (1.0 - y ** 2),
], ids=["twice", "zeros", "no_S"])
def test_as_written_must_be_the_printed_formula(wrong):
    """Each of these is refuted by the gradient checker, yet none is the formula asked for."""
    with pytest.raises(GradingError, match="exactly as"):
        checks.check_scaled_tanh_prime_as_written(wrong, cases=[dict(shape=(9,), seed=41)], as_printed=printed_formula)


def test_as_written_repaired_is_accepted_by_the_checker_so_it_fails():
    with pytest.raises(GradingError, match="exactly as written"):
        checks.check_scaled_tanh_prime_as_written(checks.reference_scaled_tanh_prime_from_output)


def test_printed_formula_is_refuted_as_partial_or_sign(capsys):
    """Notebook 00, after Exercise 6: the checker reports a "partial" (or sign) mismatch, not a constant factor."""
    checks.check_scaled_tanh_prime_as_written(printed_formula, as_printed=printed_formula)
    out = capsys.readouterr().out
    assert "refutes this formula (partial" in out or "refutes this formula (sign" in out


def test_central_difference_forward_difference_named_in_words_of_the_notebook():
    failed, message, _ = run_check(exercise("central_difference"), lambda f, x, h: (f(x + h) - f(x)) / h)
    assert failed and "one-sided (forward) difference" in message


def test_checks_take_lists_of_cases_only():
    with pytest.raises(ValueError, match="cases must be a list"):
        checks.check_central_difference(functools.partial(checks.reference_central_difference),
                                        cases=dict(f=np.sin, x=0.1, h=1e-3))
