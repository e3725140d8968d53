"""Checks of notebook 03_softmax: log-softmax, the softmax Jacobian, Jin (2016)'s eq. (17) and (19),
softmax + cross-entropy over a batch, weight decay and a digit classifier.

    check_log_softmax(log_softmax)                               X (N, K) -> log softmax of each row
    check_softmax_jacobian(softmax_jacobian)                     x (K,) -> J (K, K), J[k, i] = dy_k/dx_i
    check_jin_eq17_as_written(jin_eq17_as_written)               eq. (17) exactly as printed, then refuted
    check_jin_eq19(jin_eq19)                                     dE/dx = -t + y sum_j t_j (any targets)
    check_softmax_cross_entropy_backward(softmax_cross_entropy_backward)   -> (mean loss, dlogits)
    check_weight_decay_step(weight_decay_step)                   one corrected update with weight decay
    check_classifier_loss_and_grads(classifier_loss_and_grads)   tanh MLP + softmax CE + (lam/2)||W||^2

Every check takes `cases=None` (the visible cases) or a list of dicts with other shapes and seeds.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ..explain import Stage
from ..grading import (BadReturn, call_student, check_function_gradients, check_values_slips,
                       expect_wrong, random_inputs, random_labels)
from ..losses import log_softmax as _library_log_softmax, softmax as _library_softmax
from ..slips import run_slip, slip_factory
from . import Exercise, bind_slips, named_like, run_cases

__all__ = [
    "check_log_softmax", "check_softmax_jacobian", "check_jin_eq17_as_written", "check_jin_eq19",
    "check_softmax_cross_entropy_backward", "check_weight_decay_step", "check_classifier_loss_and_grads",
    "EXERCISES",
]


# ------------------------------------------------------------------------------------------------
# Shared
# ------------------------------------------------------------------------------------------------

def _copies(inputs: Mapping) -> dict:
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}


# ------------------------------------------------------------------------------------------------
# Exercise 1: log_softmax
# ------------------------------------------------------------------------------------------------

def reference_log_softmax(X, slip=None):
    """Row-wise log softmax of X (N, K) with the row maximum subtracted; `slip` adds one typical mistake."""
    X = np.asarray(X, dtype=np.float64)
    if slip == "no_max":
        shifted = X
    else:
        top = {"global_max": np.max(X), "column_max": np.max(X, axis=0, keepdims=True)}.get(
            slip, np.max(X, axis=1, keepdims=True))
        shifted = X - top
    e = np.exp(shifted)
    total = np.sum(e, axis=0 if slip == "sum_over_rows" else 1, keepdims=True)
    if slip == "returns_softmax":
        return e / total
    if slip == "log_of_softmax":
        return np.log(e / total)
    return shifted - np.log(total)


_log_softmax_slip = slip_factory(reference_log_softmax)


LOG_SOFTMAX_SLIPS = (
    _log_softmax_slip("no_max", "you exponentiate the logits as they are: exp(1000) overflows to inf and "
                      "inf / inf is NaN. Subtract each row's maximum first: np.max(X, axis=1, keepdims=True)."),
    _log_softmax_slip("log_of_softmax", "you took the log of the softmax probabilities. A probability that "
                      "underflows to 0 gives log(0) = -inf; take the log before exponentiating: "
                      "shifted - log(sum(exp(shifted)))."),
    _log_softmax_slip("global_max", "you subtracted the maximum of the whole batch, np.max(X). A row far below "
                      "it underflows to exp(...) = 0 everywhere; subtract each row's own maximum: "
                      "np.max(X, axis=1, keepdims=True)."),
    _log_softmax_slip("column_max", "you subtracted the maximum of each column (axis=0). The shift must be one "
                      "number per row (softmax runs along each row): np.max(X, axis=1, keepdims=True)."),
    _log_softmax_slip("sum_over_rows", "the log-sum-exp sums down the columns (axis=0). Each row is one sample: "
                      "np.sum(np.exp(shifted), axis=1, keepdims=True)."),
    _log_softmax_slip("returns_softmax", "you returned the softmax probabilities themselves; the exercise asks "
                      "for their logarithm, shifted - log(sum(exp(shifted)))."),
)

LOG_SOFTMAX_HINT = "Subtract the row maximum, then log softmax = shifted - log(sum(exp(shifted))) per row."


def _check_log_softmax_case(log_softmax, N=None, K=None, seed=0, scale=1.0, X=None, label=None):
    if X is None:
        X = np.random.default_rng(seed).standard_normal((N, K)) * scale
        label = label or f"logits {N} x {K} (scale {scale:g}, seed {seed})"
    X = np.array(X, dtype=np.float64)
    label = label or f"the logits {X.tolist()}"
    got = call_student(log_softmax, X.copy(), also=("log_softmax", "softmax"), name="log_softmax")
    name = f"log_softmax of {label}"
    candidates = ((s, {name: run_slip(s.fn, X.copy())}) for s in LOG_SOFTMAX_SLIPS)
    check_values_slips({name: got}, {name: reference_log_softmax(X)}, candidates, rtol=1e-9, atol=1e-12,
                       hint=LOG_SOFTMAX_HINT)


def check_log_softmax(log_softmax, cases=None):
    """log_softmax(X) against the stable reference; each case is (N, K, seed[, scale]) or X (a fixed array)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_log_softmax_case(log_softmax, **c), cases, [
        dict(N=4, K=3, seed=0), dict(N=3, K=5, seed=200),
        dict(X=[[1000.0, 0.0, -5.0], [-1000.0, -1001.0, -999.0]], label="logits near +-1000"),
    ])


# ------------------------------------------------------------------------------------------------
# Exercise 2b: the softmax Jacobian, checked as a whole matrix
# ------------------------------------------------------------------------------------------------

JACOBIAN = "y/dx"
"""The checked tensor's name: the table and the diagnosis call it "dy/dx"."""


def reference_softmax_jacobian(x, slip=None):
    """J (K, K) with J[k, i] = d softmax(x)_k / d x_i = y_k (delta_ki - y_i); `slip` adds one mistake."""
    y = _library_softmax(np.asarray(x, dtype=np.float64))
    if slip == "diagonal_only":
        return np.diag(y * (1.0 - y))
    if slip == "dot_not_outer":
        return np.diag(y) - y @ y.T
    diagonal = 0.0 if slip == "no_diagonal" else np.diag(y)
    return diagonal + np.outer(y, y) if slip == "plus_outer" else diagonal - np.outer(y, y)


_jacobian_slip = slip_factory(reference_softmax_jacobian)


SOFTMAX_JACOBIAN_SLIPS = (
    _jacobian_slip("diagonal_only", "you kept only the diagonal of the Jacobian, dy_k/dx_k = y_k (1 - y_k): that "
                   "is the element-wise rule, and softmax is not element-wise. Every y_k depends on every x_i "
                   "through the denominator, so the entries i != k are -y_k y_i: J = diag(y) - y y^T."),
    _jacobian_slip("dot_not_outer", "y @ y.T of a 1-D array is the dot product, one number, which was subtracted "
                   "from every entry. The Jacobian needs the outer product y y^T: np.outer(y, y)."),
    _jacobian_slip("no_diagonal", "the diagonal term is missing: J = diag(y) - y y^T. The Kronecker delta "
                   "adds y_k on the diagonal (dy_k/dx_k = y_k - y_k^2)."),
    _jacobian_slip("plus_outer", "you added y y^T where it is subtracted: raising x_i raises the denominator and "
                   "lowers every other y_k, so dy_k/dx_i = -y_k y_i and J = diag(y) - y y^T."),
)


def _jacobian_case(softmax_jacobian, K, seed, scale=1.0):
    x = random_inputs({"x": (K,)}, seed=seed, scale=scale)["x"]

    def wrap(fn):
        return named_like(fn, lambda **kw: fn(kw[JACOBIAN][0].copy()))

    def picked_outputs(**kw):   # sum_k softmax(X[k])_k: its gradient at X = [x, x, ...] is J row by row
        X = kw[JACOBIAN]
        return float(np.sum(np.diag(_library_softmax(X, axis=1))))

    check_function_gradients(wrap(softmax_jacobian), picked_outputs, {JACOBIAN: np.tile(x, (K, 1))}, JACOBIAN,
                             seed=seed, name=f"softmax_jacobian (K={K})",
                             slips=bind_slips(SOFTMAX_JACOBIAN_SLIPS, wrap))


def check_softmax_jacobian(softmax_jacobian, cases=None):
    """softmax_jacobian(x) as a K x K matrix against finite differences of softmax; cases (K, seed[, scale])."""
    __tracebackhide__ = True
    run_cases(lambda **c: _jacobian_case(softmax_jacobian, **c), cases, [dict(K=4, seed=0), dict(K=3, seed=210)])


# ------------------------------------------------------------------------------------------------
# Exercise 3b: Jin (2016)'s eq. (17) exactly as printed, then refuted
# ------------------------------------------------------------------------------------------------

def reference_jin_eq17_as_written(y, t, slip=None):
    """Eq. (17) as printed, entry i = -(t_i/y_i)(y_i - y_i^2) + sum over j = i..K of (t_j/y_j) y_j y_i;
    `slip` changes the range of the second sum."""
    y, t = np.asarray(y, dtype=np.float64), np.asarray(t, dtype=np.float64)
    K = len(y)
    first = -(t / y) * (y - y ** 2)
    ranges = {"repaired": lambda i: [j for j in range(K) if j != i], "all_j": lambda i: range(K),
              "after_i": lambda i: range(i + 1, K)}
    js = ranges.get(slip, lambda i: range(i, K))
    return first + np.array([sum(t[j] / y[j] * y[j] * y[i] for j in js(i)) for i in range(K)])


_eq17_slip = slip_factory(reference_jin_eq17_as_written)


JIN_EQ17_SLIPS = (
    _eq17_slip("repaired", "you repaired the slip: your second sum skips j = i. This exercise asks for eq. (17) "
               "exactly as printed, with j running from i to K; the repaired version is Exercise 3c."),
    _eq17_slip("all_j", "your second sum runs over all j. As printed it runs from j = i to K: range(i, K) in "
               "Python."),
    _eq17_slip("after_i", "your second sum starts at j = i + 1. As printed it starts at j = i: range(i, K) in "
               "Python."),
)


def _cross_entropy(x, t):
    return -np.sum(t * _library_log_softmax(x))


def _eq17_case(jin_eq17_as_written, K, label, seed):
    inputs = random_inputs({"x": (K,)}, seed=seed)
    inputs["t"] = np.eye(K)[label]
    y, t = _library_softmax(inputs["x"]), inputs["t"]
    name = f"jin_eq17_as_written(y, t) for K={K}, label {label}"
    got = call_student(jin_eq17_as_written, y.copy(), t.copy(), name="jin_eq17_as_written")
    candidates = ((s, {name: run_slip(s.fn, y.copy(), t.copy())}) for s in JIN_EQ17_SLIPS)
    print("--- does it compute eq. (17) as printed?")
    check_values_slips({name: got}, {name: reference_jin_eq17_as_written(y, t)}, candidates, rtol=1e-9,
                       atol=1e-12, hint="Implement the right-hand side of (17) exactly as printed, the sum from "
                                        "j = i to K included.")
    print("--- the gradient checker on it: it should refute eq. (17)")
    expect_wrong(check_function_gradients, lambda x, t: jin_eq17_as_written(_library_softmax(x), t),
                 _cross_entropy, inputs, "x", seed=seed, name="jin_eq17_as_written")


def check_jin_eq17_as_written(jin_eq17_as_written, cases=None):
    """Eq. (17) as printed, then the checker's refutation of it; each case is (K, label, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _eq17_case(jin_eq17_as_written, **c), cases,
              [dict(K=4, label=1, seed=0), dict(K=3, label=2, seed=220)])


# ------------------------------------------------------------------------------------------------
# Exercise 3c: the corrected eq. (19), for targets that need not sum to 1
# ------------------------------------------------------------------------------------------------

def reference_jin_eq19(y, t, slip=None):
    """dE/dx = -t + y sum_j t_j for E = -sum_j t_j log y_j, y = softmax(x); `slip` adds one mistake."""
    return {"shortcut": lambda: y - t, "sign": lambda: t - y * np.sum(t), "dE_dy": lambda: -t / y,
            "only_j_equals_i": lambda: -t * (1.0 - y)}.get(slip, lambda: -t + y * np.sum(t))()


_eq19_slip = slip_factory(reference_jin_eq19)


JIN_EQ19_SLIPS = (
    _eq19_slip("shortcut", "you used the shortcut y - t. It needs sum_j t_j = 1, and these targets do not add up "
               "to 1: eq. (19) is -t + y * sum_j t_j."),
    _eq19_slip("sign", "the sign is flipped: dE/dx = -t + y * sum_j t_j (raising the logit of a class with a small "
               "target raises the loss)."),
    _eq19_slip("dE_dy", "-t / y is dE/dy, the derivative with respect to the probabilities. The exercise asks for "
               "dE/dx, through the softmax Jacobian: -t + y * sum_j t_j."),
    _eq19_slip("only_j_equals_i", "you kept only the term j = i of the chain-rule sum, -t_i (1 - y_i); the terms "
               "j != i add t_j y_i each, which gives -t + y * sum_j t_j."),
)


def _eq19_case(jin_eq19, K, seed):
    inputs = random_inputs({"x": (K,), "t": (K,)}, seed=seed, positive=("t",))   # t does not sum to 1

    def wrap(fn):
        return named_like(fn, lambda x, t: fn(_library_softmax(x), t))

    check_function_gradients(wrap(jin_eq19), _cross_entropy, inputs, "x", seed=seed, name="jin_eq19",
                             slips=bind_slips(JIN_EQ19_SLIPS, wrap))


def check_jin_eq19(jin_eq19, cases=None):
    """jin_eq19(y, t) against finite differences of -sum_j t_j log softmax(x)_j, t > 0 not summing to 1."""
    __tracebackhide__ = True
    run_cases(lambda **c: _eq19_case(jin_eq19, **c), cases, [dict(K=4, seed=0), dict(K=3, seed=230)])


# ------------------------------------------------------------------------------------------------
# Exercise 4: softmax + cross-entropy over a batch
# ------------------------------------------------------------------------------------------------

def reference_softmax_cross_entropy_backward(logits, labels, slip=None):
    """(mean cross-entropy, dlogits (N, K) = (softmax - onehot) / N); `slip` adds one typical mistake."""
    N = logits.shape[0]
    rows = np.arange(N)
    logp = _library_log_softmax(logits, axis=1)
    if slip == "naive_softmax":
        e = np.exp(logits)
        logp = np.log(e / e.sum(axis=1, keepdims=True))
    elif slip == "log_of_softmax":
        logp = np.log(_library_softmax(logits, axis=1))
    loss = (1.0 if slip == "loss_sign" else -1.0) * float(np.mean(logp[rows, labels]))
    Y = _library_softmax(logits, axis=1)
    if slip == "column_index":
        Y[:, labels] -= 1.0
    elif slip == "label_value":
        Y = Y - labels[:, None]
    elif slip != "no_onehot":
        Y[rows, labels] -= 1.0
    dlogits = Y / (1.0 if slip == "sum_not_mean" else N)
    return loss, (-dlogits if slip == "sign" else dlogits)


_ce_slip = slip_factory(reference_softmax_cross_entropy_backward)


SOFTMAX_CROSS_ENTROPY_BACKWARD_SLIPS = (
    _ce_slip("sum_not_mean", "dlogits is Y - T, the gradient of the batch SUM. The loss is the mean over the "
             "batch, so divide by N = logits.shape[0]: dlogits = (Y - T) / N."),
    _ce_slip("sign", "dlogits has the wrong sign: it is (Y - T) / N, prediction minus target."),
    _ce_slip("no_onehot", "you returned softmax / N without subtracting the one-hot targets: subtract 1 at each "
             "row's label, dlogits[np.arange(N), labels] -= 1, before dividing by N."),
    _ce_slip("column_index", "dlogits[:, labels] -= 1 subtracts 1 in every label's column, in every row. Pick one "
             "entry per row: dlogits[np.arange(N), labels] -= 1."),
    _ce_slip("label_value", "you subtracted the label numbers themselves. T is the one-hot matrix of the labels "
             "(1 at each row's label, 0 elsewhere), not the labels as numbers."),
    _ce_slip("loss_sign", "the loss has the wrong sign: log-probabilities are negative, and the cross-entropy is "
             "their negative mean, -mean(log softmax(logits)[n, labels[n]])."),
    _ce_slip("naive_softmax", "the loss exponentiates the raw logits: exp(1000) overflows to inf and the loss "
             "becomes NaN. Compute it from the log-sum-exp form (backprop.log_softmax)."),
    _ce_slip("log_of_softmax", "the loss takes log(softmax(...)): when a probability underflows to 0 the loss "
             "is log(0) = -inf. Compute it from log_softmax, which never forms the tiny probability."),
)


def _mean_ce(logits, labels):
    logp = _library_log_softmax(logits, axis=1)
    return -np.mean(logp[np.arange(len(labels)), labels])


def _ce_case(softmax_cross_entropy_backward, N, K, seed, scale=1.0):
    inputs = random_inputs({"logits": (N, K)}, seed=seed, scale=scale)
    inputs["labels"] = random_labels(N, K, seed)
    check_function_gradients(softmax_cross_entropy_backward, _mean_ce, inputs, "logits", returns_loss=True,
                             seed=seed, batch_size=N,
                             also=("softmax_cross_entropy",), slips=SOFTMAX_CROSS_ENTROPY_BACKWARD_SLIPS,
                             name=f"softmax_cross_entropy_backward (N={N}, K={K}, logits of scale {scale:g})")


def check_softmax_cross_entropy_backward(softmax_cross_entropy_backward, cases=None):
    """(loss, dlogits) against the mean cross-entropy and its finite differences; cases (N, K, seed[, scale]),
    the visible ones with logits of size ~1000 too."""
    __tracebackhide__ = True
    run_cases(lambda **c: _ce_case(softmax_cross_entropy_backward, **c), cases,
              [dict(N=5, K=4, seed=0), dict(N=6, K=3, seed=240), dict(N=4, K=3, seed=0, scale=1000.0)])


# ------------------------------------------------------------------------------------------------
# Exercise 5b: the corrected weight-decay update
# ------------------------------------------------------------------------------------------------

def reference_weight_decay_step(params, grads, lr, lam, slip=None):
    """A new dict: W - lr (g + lam W) for keys starting with "W", b - lr g for the others."""
    factor = {"two_lam": 2.0, "half_lam": 0.5, "no_decay": 0.0}.get(slip, 1.0)
    new = {}
    for k, w in params.items():
        g, decayed = grads[k], k.startswith("W") or slip == "decay_on_bias"
        if slip == "as_printed":
            new[k] = w + lr * g + (lam * w if decayed else 0.0)
        elif slip == "decay_not_scaled":
            new[k] = w - lr * g - (lam * w if decayed else 0.0)
        else:
            step = lr * (g + (factor * lam * w if decayed else 0.0))
            new[k] = w + step if slip == "ascent" else w - step
    return new


_decay_slip = slip_factory(reference_weight_decay_step)


WEIGHT_DECAY_STEP_SLIPS = (
    _decay_slip("as_printed", "that is Liao (2018)'s rule as printed, w + lr g + lam w: it climbs the loss and "
                "grows the weights. Gradient descent subtracts lr times the whole gradient: w - lr (g + lam w)."),
    _decay_slip("ascent", "the step goes uphill: gradient descent subtracts, w - lr (g + lam w)."),
    _decay_slip("decay_not_scaled", "the decay term is not multiplied by the learning rate. lam w is part of "
                "the gradient of the regularised loss, so the step is w - lr (g + lam w)."),
    _decay_slip("decay_on_bias", "the biases decay too. The penalty (lam/2) ||W||^2 contains only the weight "
                "matrices (keys starting with \"W\"); a bias gets the plain step b - lr g."),
    _decay_slip("two_lam", "the decay term is 2 lam w: the derivative of (lam/2) w^2 is lam w (the 1/2 cancels "
                "the 2)."),
    _decay_slip("half_lam", "the decay term is (lam/2) w: the derivative of (lam/2) w^2 is lam w."),
    _decay_slip("no_decay", "the weights get no decay: their step is w - lr (g + lam w)."),
)


def _decay_case(weight_decay_step, shapes, lr, lam, seed):
    params = random_inputs(shapes, seed=seed)
    grads = random_inputs(shapes, seed=seed + 1000)
    new = call_student(weight_decay_step, _copies(params), _copies(grads), lr, lam, unchanged=True)
    if not isinstance(new, Mapping) or set(new) != set(params):
        raise BadReturn(f"weight_decay_step should return a new dict with the keys {sorted(params)}; it returned "
                        f"a {type(new).__name__}" + (f" with the keys {sorted(new)}" if isinstance(new, Mapping)
                                                     else "") + ".", {"result": "type"})
    label = {k: f"the new {k} (lr={lr}, lam={lam})" for k in params}
    candidates = ((s, None if r is None else {label[k]: r.get(k) for k in params})
                  for s in WEIGHT_DECAY_STEP_SLIPS for r in [run_slip(s.fn, _copies(params), grads, lr, lam)])
    check_values_slips({label[k]: new[k] for k in params},
                       {label[k]: v for k, v in reference_weight_decay_step(params, grads, lr, lam).items()},
                       candidates, rtol=1e-12, hint="Weights: W - lr * (g + lam * W); biases: b - lr * g (no decay).")


def check_weight_decay_step(weight_decay_step, cases=None):
    """weight_decay_step(params, grads, lr, lam) against the corrected rule; cases (shapes, lr, lam, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _decay_case(weight_decay_step, **c), cases, [
        dict(shapes={"W1": (3, 4), "b1": (3,), "W2": (2, 3), "b2": (2,)}, lr=0.1, lam=0.01, seed=0),
        dict(shapes={"W1": (2, 5), "b1": (2,)}, lr=0.5, lam=0.1, seed=250),
    ])


# ------------------------------------------------------------------------------------------------
# Exercise 6: the digit classifier
# ------------------------------------------------------------------------------------------------

def reference_classifier_loss_and_grads(params, X, labels, lam=0.0, slip=None):
    """Loss and gradients of tanh MLP + softmax CE (batch mean) + (lam/2)(||W1||^2 + ||W2||^2)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N, rows = X.shape[0], np.arange(X.shape[0])
    H = np.tanh(X @ W1.T + b1)
    logp = _library_log_softmax(H @ W2.T + b2, axis=1)
    penalty = (1.0 if slip == "loss_no_half" else 0.5) * lam * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    loss = -float(np.mean(logp[rows, labels])) + (0.0 if slip == "no_decay" else penalty)
    D2 = np.exp(logp)
    D2[rows, labels] -= 1.0
    D2 /= 1.0 if slip == "sum_not_mean" else N
    fprime = {"no_tanh_prime": 1.0, "sigmoid_prime": H * (1.0 - H)}.get(slip, 1.0 - H ** 2)
    D1 = (D2 @ W2) * fprime
    decay = {"no_decay": 0.0, "no_decay_grad": 0.0, "two_lam": 2.0, "half_lam": 0.5}.get(slip, 1.0) * lam
    grads = {"W2": D2.T @ H + decay * W2, "b2": D2.sum(axis=0), "W1": D1.T @ X + decay * W1, "b1": D1.sum(axis=0)}
    if slip == "decay_on_bias":
        grads["b1"], grads["b2"] = grads["b1"] + lam * b1, grads["b2"] + lam * b2
    return float(loss), grads


_classifier_slip = slip_factory(reference_classifier_loss_and_grads)


CLASSIFIER_LOSS_AND_GRADS_SLIPS = (
    _classifier_slip("no_tanh_prime", "tanh' is missing in the hidden layer: Delta_1 = (Delta_2 W_2) * (1 - H^2)."),
    _classifier_slip("sigmoid_prime", "the hidden layer's derivative is H (1 - H), the logistic sigmoid's. The "
                     "hidden layer is tanh, whose derivative is 1 - H^2."),
    _classifier_slip("sum_not_mean", "Delta_2 is Y - T, the gradient of the batch SUM. The loss is the mean over "
                     "the batch: Delta_2 = (Y - T) / N."),
    _classifier_slip("no_decay_grad", "the loss has the decay term, but the gradients do not: dW1 and dW2 each "
                     "need + lam W."),
    _classifier_slip("no_decay", "weight decay is missing from the loss and from the gradients: add "
                     "(lam/2)(||W1||^2 + ||W2||^2) to the loss and lam W to dW1 and dW2."),
    _classifier_slip("two_lam", "the weight gradients add 2 lam W. The penalty is (lam/2)||W||^2, whose gradient "
                     "is lam W."),
    _classifier_slip("half_lam", "the weight gradients add (lam/2) W. The penalty is (lam/2)||W||^2, whose "
                     "gradient is lam W."),
    _classifier_slip("loss_no_half", "the loss adds lam ||W||^2; the model's penalty is (lam/2)(||W1||^2 + "
                     "||W2||^2)."),
    _classifier_slip("decay_on_bias", "the bias gradients include lam b. Only the weight matrices are in the "
                     "penalty; db1 and db2 are the plain sums of Delta."),
)

CLASSIFIER_STAGES = (
    Stage(("dW2", "db2"), "at the output: check Delta_2 = (softmax(logits) - T) / N (and lam W2 in dW2)"),
    Stage(("dW1", "db1"), "between the output layer and the hidden layer: check Delta_1 = (Delta_2 W_2) * "
                          "(1 - H^2) (and lam W1 in dW1)"),
)

_CLASSIFIER_NAMES = ("W1", "b1", "W2", "b2")


def _classifier_loss(W1, b1, W2, b2, X, labels, lam):
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    return reference_classifier_loss_and_grads(params, X, labels, lam)[0]


def _classifier_case(classifier_loss_and_grads, N, D, H, K, lam, seed):
    inputs = random_inputs({"W1": (H, D), "b1": (H,), "W2": (K, H), "b2": (K,), "X": (N, D)}, seed=seed, scale=0.8)
    inputs["labels"], inputs["lam"] = random_labels(N, K, seed), lam

    def wrap(fn):
        return named_like(fn, lambda W1, b1, W2, b2, X, labels, lam:
                           fn({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X, labels, lam))

    check_function_gradients(wrap(classifier_loss_and_grads), _classifier_loss, inputs, _CLASSIFIER_NAMES,
                             returns_loss=True, seed=seed, batch_size=N, also=("softmax_cross_entropy",),
                             name=f"classifier_loss_and_grads (N={N}, lam={lam})",
                             slips=bind_slips(CLASSIFIER_LOSS_AND_GRADS_SLIPS, wrap), stages=CLASSIFIER_STAGES)


def check_classifier_loss_and_grads(classifier_loss_and_grads, cases=None):
    """(loss, grads) of the classifier against its loss and finite differences; cases (N, D, H, K, lam, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _classifier_case(classifier_loss_and_grads, **c), cases,
              [dict(N=6, D=5, H=4, K=3, lam=0.1, seed=0), dict(N=5, D=4, H=3, K=3, lam=0.0, seed=260)])


EXERCISES = (
    Exercise("log_softmax", check_log_softmax, reference_log_softmax, LOG_SOFTMAX_SLIPS),
    Exercise("softmax_jacobian", check_softmax_jacobian, reference_softmax_jacobian, SOFTMAX_JACOBIAN_SLIPS),
    Exercise("jin_eq17_as_written", check_jin_eq17_as_written, reference_jin_eq17_as_written, JIN_EQ17_SLIPS),
    Exercise("jin_eq19", check_jin_eq19, reference_jin_eq19, JIN_EQ19_SLIPS),
    Exercise("softmax_cross_entropy_backward", check_softmax_cross_entropy_backward,
             reference_softmax_cross_entropy_backward, SOFTMAX_CROSS_ENTROPY_BACKWARD_SLIPS),
    Exercise("weight_decay_step", check_weight_decay_step, reference_weight_decay_step, WEIGHT_DECAY_STEP_SLIPS),
    Exercise("classifier_loss_and_grads", check_classifier_loss_and_grads, reference_classifier_loss_and_grads,
             CLASSIFIER_LOSS_AND_GRADS_SLIPS),
)
