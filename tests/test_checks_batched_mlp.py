"""backprop.checks.batched_mlp: right answers in any style pass, known slips are named, and the words
notebook 02 promises appear."""
from __future__ import annotations

import numpy as np
import pytest

from backprop import get_activation
from backprop.checks import batched_mlp as checks
from backprop.checks.catalogue import run_check

# The mistakes here are built from the exercises' references, which stay switched on for them.
pytestmark = pytest.mark.usefixtures("references_on")
from backprop.grading import GradingError


def exercise(name):
    return next(e for e in checks.EXERCISES if e.name == name)


# ---------------------------------------------------------------- other correct styles
def layer_einsum(Delta, A_prev, W):
    return np.einsum("nk,kd->nd", Delta, W), np.einsum("nk,nd->kd", Delta, A_prev), np.einsum("nk->k", Delta)


def layer_loops(Delta, A_prev, W):
    dA, dW, db = np.zeros(A_prev.shape), np.zeros(W.shape), np.zeros(W.shape[0])
    for m in range(Delta.shape[0]):
        dA[m] = W.T @ Delta[m]
        dW += np.outer(Delta[m], A_prev[m])
        db += Delta[m]
    return dA, dW, db


def layer_transposed_copies(Delta, A_prev, W):
    Wt = np.ascontiguousarray(W.T)
    return (Wt @ Delta.T).T, np.asfortranarray((A_prev.T @ Delta).T), Delta.T.sum(axis=1)


def delta_mean_numpy_scalars(Y, T, U, activation):
    N = np.int64(Y.shape[0])
    return np.float64(-2.0) / N * (T - Y) * get_activation(activation).df(U)


def backward_batch_per_sample(params, cache, T, reduction="mean"):
    """A loop over samples of notebook 01's per-sample recursion, summed (and divided by N for the mean)."""
    A, Z, acts = cache["A"], cache["Z"], cache["activations"]
    L, N = len(acts), A[0].shape[0]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    for m in range(N):
        delta = -2.0 * (T[m] - A[L][m]) * get_activation(acts[-1]).df(Z[L][m])
        for l in range(L, 0, -1):
            grads[f"W{l}"] += np.outer(delta, A[l - 1][m])
            grads[f"b{l}"] += delta
            if l > 1:
                delta = (params[f"W{l}"].T @ delta) * get_activation(acts[l - 2]).df(Z[l - 1][m])
    return {k: v / N for k, v in grads.items()} if reduction == "mean" else grads


def train_with_while_and_rebinding(loss_and_grads, params, X, T, *, epochs, batch_size, lr, seed=0, progress=True):
    rng = np.random.default_rng(seed)
    losses, N = [], len(X)
    for _ in range(epochs):
        order, start = rng.permutation(N), 0
        while start < N:
            idx = order[start:start + batch_size]
            loss, grads = loss_and_grads(params, X[idx], T[idx])
            params.update({k: params[k] - lr * grads[k] for k in params})
            losses.append(np.float64(loss))
            start += batch_size
    return np.array(losses)


CORRECT_STYLES = [   # (exercise, a right answer in another style): tests/test_checks_catalogue.py runs them
    ("layer_backward_batch", layer_einsum), ("layer_backward_batch", layer_loops),
    ("layer_backward_batch", layer_transposed_copies), ("output_delta_mean", delta_mean_numpy_scalars),
    ("backward_batch", backward_batch_per_sample), ("train_minibatch", train_with_while_and_rebinding),
    ("sum_loss_learning_rate", lambda lr, n: np.float64(lr) / np.int64(n)),
    ("sum_loss_learning_rate", lambda lr, n: np.array(lr / n)),
    ("sum_loss_learning_rate", lambda lr, n: lr * (1 / n)),
]


HIDDEN_STYLE_CASES = {   # the kinds of cases the graded cells pass: batch of one, one unit, deeper nets
    "layer_backward_batch": [dict(N=1, n_prev=4, n=3, seed=101), dict(N=3, n_prev=7, n=1, seed=103)],
    "output_delta_mean": [dict(N=1, n=3, activation="sigmoid", seed=121)],
    "delta_L_as_printed": [dict(N=3, n=5, activation="relu", seed=112)],
    "backward_batch": [dict(N=3, sizes=(3, 6, 1, 4), activations=("softplus", "relu", "identity"),
                            reduction="sum", seed=135)],
    "train_minibatch": [dict(N=6, D=3, C=2, epochs=1, batch_size=50, lr=0.1, seed=143)],
    "sum_loss_learning_rate": [dict(lr_mean=0.1, batch_size=1)],
}


def test_visible_backward_check_has_a_batch_of_one(capsys):
    checks.check_backward_batch(checks.reference_backward_batch)
    assert "(N=1," in capsys.readouterr().out


def test_promised_words_sum_against_mean():
    """Notebook 02, section 2: a gradient for the sum checked against the mean is off by the batch size."""
    failed, message, _ = run_check(exercise("output_delta_mean"), exercise("output_delta_mean").slips[0].fn)
    assert failed and "is the batch size" in message and "x5" in message


def test_as_printed_formula_must_be_the_printed_one():
    """Twice the formula, or zeros, lose the point: the check confirms the printed formula for the sum."""
    for wrong in (lambda Y, T, U, a: -4.0 * (T - Y) * get_activation(a).df(U),
                  lambda Y, T, U, a: np.zeros_like(Y),
                  lambda Y, T, U, a: -2.0 / len(Y) * (T - Y) * get_activation(a).df(U)):
        failed, message, _ = run_check(exercise("delta_L_as_printed"), wrong)
        assert failed, "a formula other than the printed one was accepted"


def test_where_the_error_enters_without_a_known_slip():
    def only_dW1_off(params, cache, T, reduction="mean"):
        grads = checks.reference_backward_batch(params, cache, T, reduction)
        grads["W1"] = grads["W1"] + 0.1
        return grads

    failed, message, _ = run_check(exercise("backward_batch"), only_dW1_off)
    assert failed and message.startswith("dW2 and db2 right; dW1 wrong, although db1")
    assert "No simple pattern" not in message   # the headline says more than the vague line it replaces


def test_training_loop_errors_are_grading_errors():
    with pytest.raises(GradingError, match="list of mini-batch losses"):
        checks.check_train_minibatch(lambda *a, **kw: None)
    with pytest.raises(GradingError, match="One loss per update"):
        checks.check_train_minibatch(lambda *a, **kw: [0.0])


def test_cases_must_be_a_list():
    with pytest.raises(ValueError, match="cases must be a list"):
        checks.check_sum_loss_learning_rate(lambda a, b: a / b, cases=dict(lr_mean=1.0, batch_size=2))


def test_an_extra_factor_the_check_knows_is_named():
    """Not a catalogued slip: phi'(U) applied twice. The check knows phi'(U) and says so."""
    def twice(Y, T, U, activation):
        return checks.reference_output_delta_mean(Y, T, U, activation) * get_activation(activation).df(U)

    failed, message, _ = run_check(exercise("output_delta_mean"), twice)
    assert failed and "phi'(U)" in message and "extra factor" in message, message
