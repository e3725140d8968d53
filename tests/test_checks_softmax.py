"""backprop.checks.softmax: right answers in any style pass, every known slip is named, and the words
notebook 03 promises appear."""
from __future__ import annotations

import numpy as np
import pytest

from backprop import softmax
from backprop.checks import softmax as checks
from backprop.checks.catalogue import VAGUE, run_check
from backprop.grading import check_values_slips, GradingError


def exercise(name):
    return next(e for e in checks.EXERCISES if e.name == name)


# ---------------------------------------------------------------- other correct styles
def log_softmax_logaddexp(X):
    return X - np.logaddexp.reduce(X, axis=1, keepdims=True)


def log_softmax_rows(X):
    out = np.empty_like(X)
    for n, row in enumerate(X):
        top = row.max()
        out[n] = row - top - np.log(np.exp(row - top).sum())
    return out


def jacobian_loops(x):
    y = softmax(x)
    K = len(y)
    J = np.zeros((K, K))
    for k in range(K):
        for i in range(K):
            J[k, i] = y[k] * ((1.0 if k == i else 0.0) - y[i])
    return J


def jacobian_broadcast_fortran(x):
    y = softmax(x)
    return np.asfortranarray((np.eye(len(y)) * y - y[:, None] * y[None, :]).T)


def eq17_cumsum(y, t):
    after = np.cumsum(t[::-1])[::-1]          # sum over j = i..K of t_j, for every i
    return -t * (1.0 - y) + y * after


def eq19_numpy_scalars(y, t):
    return np.float64(t.sum()) * y - t


def ce_one_hot(logits, labels):
    N, K = logits.shape
    T = np.eye(K)[labels]
    logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    return np.array(-(T * logp).sum() / N), (np.exp(logp) - T) / np.int64(N)


def decay_shrink_first(params, grads, lr, lam):
    return {k: ((1.0 - lr * lam) * w if k.startswith("W") else w) - lr * grads[k] for k, w in params.items()}


def classifier_einsum(params, X, labels, lam=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N, K = X.shape[0], W2.shape[0]
    H = np.tanh(np.einsum("nd,hd->nh", X, W1) + b1)
    logits = np.einsum("nh,kh->nk", H, W2) + b2
    logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    T = np.eye(K)[labels]
    loss = -np.sum(T * logp) / N + lam / 2 * (np.sum(W1 * W1) + np.sum(W2 * W2))
    D2 = (np.exp(logp) - T) / N
    D1 = np.einsum("nk,kh->nh", D2, W2) * (1 - H * H)
    return np.float64(loss), {"dW1": np.einsum("nh,nd->hd", D1, X) + lam * W1, "db1": D1.sum(0),
                              "dW2": np.einsum("nk,nh->kh", D2, H) + lam * W2, "db2": D2.sum(0)}


CORRECT_STYLES = [   # (exercise, a right answer in another style): tests/test_checks_catalogue.py runs them
    ("log_softmax", log_softmax_logaddexp), ("log_softmax", log_softmax_rows),
    ("softmax_jacobian", jacobian_loops), ("softmax_jacobian", jacobian_broadcast_fortran),
    ("jin_eq17_as_written", eq17_cumsum), ("jin_eq19", eq19_numpy_scalars),
    ("softmax_cross_entropy_backward", ce_one_hot), ("weight_decay_step", decay_shrink_first),
    ("classifier_loss_and_grads", classifier_einsum),
]


HIDDEN_STYLE_CASES = {   # the kinds of cases the graded cells pass
    "log_softmax": [dict(N=1, K=4, seed=201, scale=5.0), dict(N=6, K=2, seed=202, scale=800.0),
                    dict(X=[[750.0, 749.0, -3.0], [-900.0, -2000.0, -901.0], [0.0, 0.0, 0.0]], label="extreme")],
    "softmax_jacobian": [dict(K=5, seed=211), dict(K=2, seed=212, scale=3.0), dict(K=6, seed=213, scale=0.5)],
    "jin_eq17_as_written": [dict(K=5, label=0, seed=221), dict(K=2, label=1, seed=222)],
    "jin_eq19": [dict(K=5, seed=231), dict(K=2, seed=232), dict(K=7, seed=233)],
    "softmax_cross_entropy_backward": [dict(N=1, K=5, seed=241), dict(N=8, K=2, seed=242, scale=3.0),
                                       dict(N=5, K=4, seed=244, scale=800.0)],
    "weight_decay_step": [dict(shapes={"W1": (3, 3), "b1": (3,)}, lr=1.0, lam=0.0, seed=252)],
    "classifier_loss_and_grads": [dict(N=1, D=3, H=2, K=4, lam=0.2, seed=261),
                                  dict(N=4, D=2, H=7, K=5, lam=1.0, seed=263)],
}


def test_catalogue_sizes():
    assert all(3 <= len(ex.slips) <= 9 for ex in checks.EXERCISES), {ex.name: len(ex.slips) for ex in checks.EXERCISES}


# ---------------------------------------------------------------- what notebook 03 promises
def test_diagonal_only_jacobian_is_right_on_the_diagonal_and_wrong_off_it():
    """Exercise 2b: 'it answers that the matrix is "right on its diagonal and wrong off it", and names that
    mistake'."""
    failed, message, printed = run_check(exercise("softmax_jacobian"), lambda x: np.diag(softmax(x) * (1 - softmax(x))))
    assert failed and "right on its diagonal and wrong off it" in message
    assert "you kept only the diagonal of the Jacobian" in message and "dy/dx" in printed


def test_as_printed_formula_must_be_the_printed_one():
    """Exercise 3b: a repaired sum, twice the formula or zeros do not count; the printed formula is refuted."""
    ref = checks.reference_jin_eq17_as_written
    for wrong in (lambda y, t: 2 * ref(y, t), lambda y, t: np.zeros_like(y), lambda y, t: -t + y * t.sum()):
        failed, message, _ = run_check(exercise("jin_eq17_as_written"), wrong)
        assert failed and "exactly as printed" in message
    out = run_check(exercise("jin_eq17_as_written"), ref)[2]
    assert "As expected, the checker refutes this formula" in out


def test_shortcut_fails_only_when_targets_do_not_sum_to_one():
    checks.check_jin_eq19(lambda y, t: -t + y * t.sum())
    with pytest.raises(GradingError, match="you used the shortcut y - t"):
        checks.check_jin_eq19(lambda y, t: y - t)


def test_large_logits_loss_must_stay_finite():
    """Exercise 1 and 4: logits of size ~1000 are part of the visible checks."""
    failed, message, _ = run_check(exercise("softmax_cross_entropy_backward"),
                                   exercise("softmax_cross_entropy_backward").slips[-2].fn)
    assert failed and "scale 1000" in message and "NaN" in message


def test_weight_decay_step_must_not_change_its_inputs():
    def in_place(params, grads, lr, lam):
        for k in params:
            params[k] -= lr * (grads[k] + (lam * params[k] if k.startswith("W") else 0.0))
        return params

    with pytest.raises(GradingError, match="changed its input params in place"):
        checks.check_weight_decay_step(in_place)


def test_a_wrong_bias_gradient_alone_says_where_the_error_enters():
    def db1_off(params, X, labels, lam=0.0, reference=checks.reference_classifier_loss_and_grads):
        loss, grads = reference(params, X, labels, lam)   # bound here: the check blocks backprop's *_grads
        grads["b1"] = grads["b1"] + 0.1
        return loss, grads

    failed, message, _ = run_check(exercise("classifier_loss_and_grads"), db1_off)
    assert failed and message.startswith("dW2 and db2 right; db1 wrong, although dW1")


def test_a_wrong_loss_without_a_known_slip_keeps_the_ratio():
    def loss_doubled(logits, labels, reference=checks.reference_softmax_cross_entropy_backward):
        loss, dlogits = reference(logits, labels)
        return 2 * loss, dlogits

    with pytest.raises(GradingError, match=r"ratio 2\)") as err:
        checks.check_softmax_cross_entropy_backward(loss_doubled)
    assert "Recognised mistake" not in str(err.value)


def test_check_values_slips_compares_overflow_as_it_is():
    slip = exercise("log_softmax").slips[0]
    X = np.array([[1000.0, 0.0]])
    with np.errstate(over="ignore"):
        overflowed = slip.fn(X)
    with pytest.raises(GradingError, match="Recognised mistake"):
        check_values_slips({"v": overflowed}, {"v": checks.reference_log_softmax(X)},
                                  [(slip, {"v": overflowed})])
    with pytest.raises(GradingError) as err:   # a NaN that is not the slip's NaN pattern is not named
        check_values_slips({"v": np.array([[np.nan, 0.0]])}, {"v": checks.reference_log_softmax(X)},
                                  [(slip, {"v": overflowed})])
    assert "Recognised" not in str(err.value)


@pytest.mark.parametrize("name, fn", [
    ("log_softmax", lambda X: __import__("backprop").log_softmax(X, axis=1)),
    ("log_softmax", lambda X: np.log(__import__("backprop").softmax(X, axis=1))),
    ("softmax_cross_entropy_backward",
     lambda logits, labels: __import__("backprop").softmax_cross_entropy(logits, labels)),
    ("classifier_loss_and_grads", lambda params, X, labels, lam=0.0: __import__("backprop").mlp_loss_and_grads(
        params, X, labels, ("tanh", "identity"), "softmax_ce")),
])
def test_the_references_the_notebook_switches_off_are_switched_off(name, fn):
    """Exercises 1, 4 and 6 say which library functions are switched off while the check runs."""
    failed, message, _ = run_check(exercise(name), fn)
    assert failed and "reference implementation" in message and "earns no credit" in message


def test_the_library_softmax_may_be_used_for_the_jacobian():
    """Exercise 2b: 'You may use backprop.softmax for y'."""
    import backprop

    checks.check_softmax_jacobian(lambda x: np.diag(backprop.softmax(x)) - np.outer(backprop.softmax(x),
                                                                                      backprop.softmax(x)))
