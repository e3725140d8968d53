"""Loss functions with their gradients.

The source documents (see SOURCES.md) disagree on how squared error is normalised, so each
convention has its own, clearly named function. Every function returns `(loss, grad)` where `grad` is dLoss/dy_pred
with the shape of `y_pred`.

| function                    | loss                               | gradient                 | source      |
|-----------------------------|------------------------------------|--------------------------|-------------|
| `squared_error_sum`         | sum_n sum_j (t - y)^2              | -2 (t - y)               | Jin 2016 sec. 1.5; *Backpropagation and Learning* (TSE) |
| `squared_error_mean`        | (1/N) sum_n sum_j (t - y)^2        | -(2/N) (t - y)           | Jin 2016 eq. 1; *Backpropagation and Learning* (MSE) |
| `squared_error_half`        | (1/2) sum_n sum_j (t - y)^2        | -(t - y) = y - t         | Sugihara 2021 eq. 3 |

`softmax_cross_entropy(logits, labels)` is the classifier loss (batch mean, stable);
`cross_entropy(probs, targets)` is the loss on probabilities, for the softmax derivation of
Jin (2016), section 1.6.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_labels

__all__ = [
    "squared_error_sum", "squared_error_mean", "squared_error_half", "SQUARED_ERRORS",
    "softmax", "log_softmax", "softmax_cross_entropy", "cross_entropy", "one_hot",
]


def _pair(y_pred, target):
    y_pred = as_float_array(y_pred, "y_pred")
    target = as_float_array(target, "target")
    if y_pred.shape != target.shape:
        raise ValueError(f"y_pred has shape {y_pred.shape} but target has shape {target.shape}; they must match")
    return y_pred, target


def squared_error_sum(y_pred, target):
    """E = sum over every sample and output of (t - y)^2.  Shapes: y_pred, target (N, M) or (M,)."""
    y_pred, target = _pair(y_pred, target)
    diff = target - y_pred
    return float(np.sum(diff * diff)), -2.0 * diff


def squared_error_mean(y_pred, target):
    """E = (1/N) sum_n sum_j (t - y)^2, the mean over the N samples (rows) of the batch.

    A 1-D `y_pred` is a single sample (N = 1).
    """
    y_pred, target = _pair(y_pred, target)
    n = y_pred.shape[0] if y_pred.ndim > 1 else 1
    diff = target - y_pred
    return float(np.sum(diff * diff)) / n, (-2.0 / n) * diff


def squared_error_half(y_pred, target):
    """E = (1/2) sum over every sample and output of (t - y)^2, whose gradient is y - t."""
    y_pred, target = _pair(y_pred, target)
    diff = target - y_pred
    return 0.5 * float(np.sum(diff * diff)), -diff


SQUARED_ERRORS = {
    "sum": squared_error_sum,
    "mean": squared_error_mean,
    "half": squared_error_half,
}


def log_softmax(logits, axis: int = -1):
    """log softmax, computed as x - logsumexp(x) with the maximum subtracted first."""
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(logits, axis: int = -1):
    """softmax along `axis`, stable for large logits (the maximum is subtracted first)."""
    shifted = logits - np.max(logits, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def one_hot(labels, num_classes: int, dtype=np.float64):
    """(N,) integer labels -> (N, num_classes) one-hot rows."""
    labels = np.asarray(labels)
    out = np.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits (N, C) float, labels (N,) ints in [0, C).
    Returns (loss, dlogits): loss = -(1/N) sum_n log softmax(logits_n)[labels_n], a float;
    dlogits (N, C) = (softmax(logits) - onehot(labels)) / N, i.e. "y - t" divided by the batch size.
    """
    logits = as_float_array(logits, "logits", ndim=2, shape_hint="(N, C)")
    n, c = logits.shape
    labels = check_labels(labels, "labels", n, c)
    if not np.all(np.isfinite(logits)):
        raise ValueError("logits contains NaN or infinite values")
    logp = log_softmax(logits)
    loss = -float(np.mean(logp[np.arange(n), labels]))
    dlogits = np.exp(logp)
    dlogits[np.arange(n), labels] -= 1
    dlogits /= n
    return loss, dlogits


def cross_entropy(probs, targets):
    """E = -sum_n sum_k t_nk log y_nk on probabilities (Jin 2016, section 1.6; a plain sum).

    probs, targets (N, C) or (C,). Returns (loss, dE/dprobs) with dE/dy = -t / y.
    """
    probs, targets = _pair(probs, targets)
    if np.any(probs <= 0):
        raise ValueError("probs must be strictly positive (log of zero); did you pass logits instead of probabilities?")
    return -float(np.sum(targets * np.log(probs))), -targets / probs
