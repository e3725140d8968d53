"""A vanilla recurrent network and backpropagation through time (BPTT).

Forward recurrence, one row per sequence of the batch (row-vector form, like `dense_forward`):

    z_t = x_t Wx^T + h_{t-1} Wh^T + b          x_t (N, D), h_t (N, H)
    h_t = f(z_t)                               f = tanh unless told otherwise

Liao (2018), section 4, writes the same step for one column vector as z_t = U h_{t-1} + W x_t + b:
its U is our `Wh` (H x H) and its W is our `Wx`. With x_t in R^N and h_t in R^M its W must be
M x N (output-major), not N x M as printed there (see SOURCES.md, slips).

Backward: Liao's delta recursion and what it leaves out
-------------------------------------------------------
Liao (2018) defines delta_{t,k} = dL_t/dz_k, the gradient of the loss term at time t with
respect to the pre-activation at an earlier time k <= t, and gives the step back in time

    delta_{t,k} = diag(f'(z_k)) U^T delta_{t,k+1}          (k < t)

but never states where the recursion starts. The base case is the step at which the loss term
itself is computed from h_t (this is where the output layer g enters):

    delta_{t,t} = diag(f'(z_t)) dL_t/dh_t.

Running one recursion per loss term costs O(T^2) steps. Full BPTT sums them first: the total
gradient on z_k is delta_k = sum_{t >= k} delta_{t,k}, and it obeys a single backward sweep

    delta_k = f'(z_k) * (dh_k + Wh^T delta_{k+1})    (element-wise *, delta_{T+1} = 0)

where dh_k is the gradient the loss puts on h_k directly (the `dh` argument of `rnn_backward`).
The parameter gradients then collect one outer product per step,

    dL/dWh = sum_k delta_k h_{k-1}^T,   dL/dWx = sum_k delta_k x_k^T,   dL/db = sum_k delta_k.

Liao prints the last of these as "dL/dU = sum_t sum_k delta_{t,k}": that line is dL/db
(the derivative of z_k with respect to b is the identity), not dL/dU.

Truncated BPTT is the double sum with the inner sum cut short, see `rnn_backward_truncated`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._threads import single_blas_thread
from ._validate import as_float_array, check_finite, check_shape
from .activations import Activation, get_activation
from .losses import log_softmax

__all__ = [
    "IGNORE_TARGET", "RNNStepCache", "RNNCache",
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "rnn_backward_truncated",
    "init_rnn_params", "rnn_output_forward", "rnn_sequence_loss_and_grads", "rnn_predict", "rnn_generate",
    "recurrent_matrix", "spectral_radius", "bptt_gradient_norms", "simulate_bptt_norms", "clip_gradients",
]


IGNORE_TARGET = -1
"""A target of -1 in `rnn_sequence_loss_and_grads` means "no target at this step"."""


class RNNStepCache(NamedTuple):
    """What `rnn_step_forward` keeps for the backward step."""

    x_t: np.ndarray      # (N, D) input of this step
    h_prev: np.ndarray   # (N, H) hidden state entering the step
    Wx: np.ndarray       # (H, D)
    Wh: np.ndarray       # (H, H)
    z: np.ndarray        # (N, H) pre-activation
    h: np.ndarray        # (N, H) output h_t = f(z)
    activation: Activation


class RNNCache(NamedTuple):
    """What `rnn_forward` keeps for the backward pass (whole sequences)."""

    x: np.ndarray        # (N, T, D) inputs
    h0: np.ndarray       # (N, H) initial state
    Wx: np.ndarray       # (H, D)
    Wh: np.ndarray       # (H, H)
    b: np.ndarray        # (H,)
    z: np.ndarray        # (N, T, H) pre-activations z_1..z_T
    h: np.ndarray        # (N, T, H) hidden states h_1..h_T
    activation: Activation


def _check_weights(Wx, Wh, b, d_in=None):
    Wx = as_float_array(Wx, "Wx", ndim=2, shape_hint="(H, D)")
    Wh = as_float_array(Wh, "Wh", ndim=2, shape_hint="(H, H)")
    b = as_float_array(b, "b", ndim=1, shape_hint="(H,)")
    hidden = Wx.shape[0]
    check_shape(Wh, "Wh", (hidden, hidden), f"(H, H): square, and Wx has H={hidden} rows")
    check_shape(b, "b", (hidden,), f"(H,): one bias per hidden unit, and Wx has H={hidden} rows")
    if d_in is not None and Wx.shape[1] != d_in:
        raise ValueError(
            f"Wx has shape {Wx.shape}, expected ({hidden}, {d_in}) (H, D): the inputs have D={d_in} features. "
            "Weights are output-major: Wx maps D inputs to H hidden units (Liao 2018 prints it transposed)"
        )
    return Wx, Wh, b


def _activation_grad(act: Activation, z, h):
    """f'(z), from the output where the activation allows it (tanh: 1 - h^2)."""
    return act.df_from_y(h) if act.df_from_y is not None else act.df(z)


def rnn_step_forward(x_t, h_prev, Wx, Wh, b, activation="tanh"):
    """One time step: h_t = f(x_t Wx^T + h_prev Wh^T + b).

    x_t (N, D), h_prev (N, H), Wx (H, D), Wh (H, H), b (H,)  ->  h_t (N, H) and an `RNNStepCache`
    holding the inputs, the pre-activation z and h_t.
    """
    x_t = as_float_array(x_t, "x_t", ndim=2, shape_hint="(N, D)")
    h_prev = as_float_array(h_prev, "h_prev", ndim=2, shape_hint="(N, H)")
    Wx, Wh, b = _check_weights(Wx, Wh, b, d_in=x_t.shape[1])
    check_shape(h_prev, "h_prev", (x_t.shape[0], Wh.shape[0]), "(N, H): one hidden state per row of x_t")
    act = get_activation(activation)
    z = x_t @ Wx.T + h_prev @ Wh.T + b
    h = act.f(z)
    return h, RNNStepCache(x_t, h_prev, Wx, Wh, z, h, act)


def rnn_step_backward(dh_t, cache: RNNStepCache):
    """Backward through one step.

    dh_t (N, H) is the *total* gradient on h_t (from the loss at this step plus what flows
    back from step t+1). Returns (dx_t (N, D), dh_prev (N, H), dWx (H, D), dWh (H, H), db (H,)):
    with delta = dh_t * f'(z_t),  dx_t = delta Wx,  dh_prev = delta Wh,  dWx = delta^T x_t,
    dWh = delta^T h_prev,  db = sum of delta over the batch.
    """
    dh_t = as_float_array(dh_t, "dh_t", ndim=2, shape_hint="(N, H)")
    check_shape(dh_t, "dh_t", cache.h.shape, "(N, H): the shape of rnn_step_forward's output")
    delta = dh_t * _activation_grad(cache.activation, cache.z, cache.h)
    return delta @ cache.Wx, delta @ cache.Wh, delta.T @ cache.x_t, delta.T @ cache.h_prev, delta.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b, activation="tanh"):
    """Run the recurrence over whole sequences.

    x (N, T, D), h0 (N, H), Wx (H, D), Wh (H, H), b (H,)  ->  h (N, T, H) with h[:, t] = h_{t+1},
    and an `RNNCache` (x, h0, the weights, the pre-activations z (N, T, H), h, the activation).
    `activation` is a name known to `get_activation` ("tanh" by default).
    """
    x = as_float_array(x, "x", ndim=3, shape_hint="(N, T, D)")
    h0 = as_float_array(h0, "h0", ndim=2, shape_hint="(N, H)")
    n, steps, d = x.shape
    if steps < 1:
        raise ValueError(f"x has shape {x.shape}: a sequence needs at least one time step (T >= 1)")
    Wx, Wh, b = _check_weights(Wx, Wh, b, d_in=d)
    check_shape(h0, "h0", (n, Wh.shape[0]), "(N, H): one initial hidden state per sequence")
    act = get_activation(activation)
    dtype = np.result_type(x, h0, Wx, Wh, b)
    z = np.empty((n, steps, Wh.shape[0]), dtype=dtype)
    h = np.empty_like(z)
    xw = x @ Wx.T + b  # the input part of every step at once, (N, T, H)
    h_prev = h0
    for t in range(steps):
        z[:, t] = xw[:, t] + h_prev @ Wh.T
        h[:, t] = act.f(z[:, t])
        h_prev = h[:, t]
    return h, RNNCache(x, h0, Wx, Wh, b, z, h, act)


def _check_dh(dh, cache: RNNCache):
    dh = as_float_array(dh, "dh", ndim=3, shape_hint="(N, T, H)")
    check_shape(dh, "dh", cache.h.shape, "(N, T, H): the upstream gradient on every hidden state h_t")
    return dh


def _previous_states(cache: RNNCache):
    """h_{t-1} for t = 1..T as one (N, T, H) array: h0 followed by h_1..h_{T-1}."""
    return np.concatenate([cache.h0[:, None, :], cache.h[:, :-1]], axis=1)


def _weight_grads(delta, cache: RNNCache):
    """dWx, dWh, db from the total pre-activation gradients delta (N, T, H)."""
    hidden = delta.shape[-1]
    flat = delta.reshape(-1, hidden)  # (N T, H): one matrix product over all steps and sequences
    dWx = flat.T @ cache.x.reshape(-1, cache.x.shape[-1])
    dWh = flat.T @ _previous_states(cache).reshape(-1, hidden)
    return dWx, dWh, flat.sum(axis=0)


def rnn_backward(dh, cache: RNNCache):
    """Full backpropagation through time.

    dh (N, T, H) is the gradient the loss puts directly on every hidden state h_t (for a loss
    only on the last step, all zeros except dh[:, -1]). cache from `rnn_forward`.
    Returns (dx (N, T, D), dh0 (N, H), dWx (H, D), dWh (H, H), db (H,)).

    One sweep from t = T down to 1: delta_t = f'(z_t) * (dh_t + delta_{t+1} Wh), where the
    second term is the gradient coming back from step t+1 (zero at t = T).
    """
    dh = _check_dh(dh, cache)
    fprime = _activation_grad(cache.activation, cache.z, cache.h)
    delta = np.empty(cache.h.shape, dtype=np.result_type(dh, fprime))
    carry = np.zeros_like(delta[:, 0])  # gradient reaching h_t from step t+1
    for t in range(cache.h.shape[1] - 1, -1, -1):
        delta[:, t] = (dh[:, t] + carry) * fprime[:, t]
        carry = delta[:, t] @ cache.Wh
    dx = delta @ cache.Wx
    dWx, dWh, db = _weight_grads(delta, cache)
    return dx, carry, dWx, dWh, db


def rnn_backward_truncated(dh, cache: RNNCache, k: int):
    """Truncated BPTT: each loss term sends its gradient back at most k time steps.

    Definition used here (a window of k steps behind every loss term): the gradient
    dh_t that the loss puts on h_t reaches the pre-activations z_t, z_{t-1}, ..., z_{t-k+1}
    (k steps, step t itself included) and stops there. In Liao's notation only the terms
    delta_{t,j} with t - k < j <= t are kept:

        dL/dWh ~ sum_t sum_{j = max(1, t-k+1)}^{t} delta_{t,j} h_{j-1}^T      (likewise Wx, b, x)

    and dh0 receives a contribution only from the loss terms at t <= k, whose window reaches
    step 1. Consequences: k = 1 keeps only the base cases delta_{t,t} (no gradient through Wh's
    recurrence at all); k >= T gives exactly full BPTT. A target that depends on the input d
    steps back can only be learned when k >= d + 1. (Training code often uses the cheaper
    "chunked" variant instead: cut the sequence into pieces of k steps, carry h across the
    cut, backpropagate within each piece. There a loss term sees between 1 and k steps back.)

    dh (N, T, H), cache from `rnn_forward`, k >= 1 an integer.
    Returns (dx (N, T, D), dh0 (N, H), dWx (H, D), dWh (H, H), db (H,)).
    Cost O(T k) steps, one short recursion per loss term.
    """
    dh = _check_dh(dh, cache)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer number of time steps; got {k!r}")
    steps = cache.h.shape[1]
    if k >= steps:
        return rnn_backward(dh, cache)
    fprime = _activation_grad(cache.activation, cache.z, cache.h)
    delta = np.zeros(cache.h.shape, dtype=np.result_type(dh, fprime))  # sum over t of the kept delta_{t,j}
    dh0 = np.zeros_like(delta[:, 0])
    for t in range(steps):
        d = dh[:, t] * fprime[:, t]  # base case delta_{t,t}
        for j in range(t, max(t - k, -1), -1):
            if j < t:
                d = (d @ cache.Wh) * fprime[:, j]  # delta_{t,j} = f'(z_j) * (Wh^T delta_{t,j+1})
            delta[:, j] += d
        if t - k < 0:  # the window of this loss term reached step 1 (index 0): pass on to h0
            dh0 += d @ cache.Wh
    dx = delta @ cache.Wx
    dWx, dWh, db = _weight_grads(delta, cache)
    return dx, dh0, dWx, dWh, db


# --------------------------------------------------------------------------- output layer and loss


def init_rnn_params(input_size: int, hidden_size: int, output_size: int, *, seed: int = 0,
                    radius: float | None = 0.9, scale: float | None = None):
    """Small random parameters for an RNN with a softmax output layer.

    Returns a dict: Wx (H, D), Wh (H, H), b (H,), Wy (C, H), by (C,), all float64.
    Wx and Wy are Gaussian with std 1/sqrt(fan_in) (or `scale`); Wh is an orthogonal matrix
    scaled to spectral radius `radius` (`recurrent_matrix`), or Gaussian like the others if
    `radius` is None. Biases start at zero.
    """
    rng = np.random.default_rng(seed)

    def gauss(rows, cols):
        std = scale if scale is not None else 1.0 / np.sqrt(cols)
        return rng.normal(0.0, std, size=(rows, cols))

    Wx = gauss(hidden_size, input_size)
    if radius is None:
        Wh = gauss(hidden_size, hidden_size)
    else:
        Wh = recurrent_matrix(hidden_size, radius, seed=int(rng.integers(2**31)))
    return {
        "Wx": Wx, "Wh": Wh, "b": np.zeros(hidden_size),
        "Wy": gauss(output_size, hidden_size), "by": np.zeros(output_size),
    }


_PARAM_SHAPES = "params needs Wx (H, D), Wh (H, H), b (H,), Wy (C, H), by (C,)"


def _unpack(params):
    missing = [key for key in ("Wx", "Wh", "b", "Wy", "by") if key not in params]
    if missing:
        raise ValueError(f"params is missing {', '.join(missing)}; {_PARAM_SHAPES}")
    Wy = as_float_array(params["Wy"], "Wy", ndim=2, shape_hint="(C, H)")
    by = as_float_array(params["by"], "by", ndim=1, shape_hint="(C,)")
    hidden = np.shape(params["Wh"])[0] if np.ndim(params["Wh"]) == 2 else None
    check_shape(Wy, "Wy", (None, hidden), f"(C, H): the output layer reads H={hidden} hidden units")
    check_shape(by, "by", (Wy.shape[0],), f"(C,): one bias per output class, and Wy has C={Wy.shape[0]} rows")
    return params["Wx"], params["Wh"], params["b"], Wy, by


def rnn_output_forward(params, x, h0=None, activation="tanh"):
    """Logits of the synchronous seq2seq RNN: s_t = Wy h_t + by for every step.

    params as in `init_rnn_params`; x (N, T, D); h0 (N, H) or None (zeros).
    Returns (logits (N, T, C), h (N, T, H), rnn_cache).
    """
    Wx, Wh, b, Wy, by = _unpack(params)
    x = as_float_array(x, "x", ndim=3, shape_hint="(N, T, D)")
    if h0 is None:
        h0 = np.zeros((x.shape[0], np.shape(Wh)[0]), dtype=np.result_type(x, Wh))
    h, cache = rnn_forward(x, h0, Wx, Wh, b, activation=activation)
    return h @ Wy.T + by, h, cache


def _sequence_targets_and_weights(targets, mask, reduction, n, steps, classes):
    """Checked integer targets (N, T) (IGNORE_TARGET replaced by 0) and the loss weight of every
    position (N, T): the mask, zero where the target is ignored, normalised as `reduction` says."""
    targets = np.asarray(targets)
    if targets.shape != (n, steps):
        raise ValueError(f"targets has shape {targets.shape}, expected ({n}, {steps}): one class per sequence and step")
    if targets.dtype.kind not in "iu":
        if targets.dtype.kind == "f" and np.all(targets == np.round(targets)):
            targets = targets.astype(np.int64)
        else:
            raise ValueError(f"targets must be integer class labels; got dtype {targets.dtype}")
    ignored = targets == IGNORE_TARGET
    if np.any(~ignored) and (targets[~ignored].min() < 0 or targets[~ignored].max() >= classes):
        raise ValueError(f"targets must lie in [0, {classes}) (C={classes} rows of Wy), or be {IGNORE_TARGET} "
                         f"for 'no target'; got values from {targets.min()} to {targets.max()}")
    weights = np.ones((n, steps)) if mask is None else as_float_array(mask, "mask", ndim=2, shape_hint="(N, T)")
    check_shape(weights, "mask", (n, steps), "(N, T): one weight per sequence and step")
    if np.any(ignored):
        weights = np.where(ignored, 0.0, weights)
        targets = np.where(ignored, 0, targets)
    if reduction == "mean":
        total = weights.sum()
        if total <= 0:
            raise ValueError("mask selects no position: at least one entry must be nonzero")
        weights = weights / total
    elif reduction == "sum_time":
        weights = weights / n
    else:
        raise ValueError(f"reduction must be 'mean' or 'sum_time'; got {reduction!r}")
    return targets, weights


@single_blas_thread
def rnn_sequence_loss_and_grads(params, x, targets, h0=None, truncate=None, *, mask=None,
                                reduction="mean", activation="tanh"):
    """Cross-entropy over time of y_t = softmax(Wy h_t + by), and its gradients by BPTT.

    params: dict with Wx (H, D), Wh (H, H), b (H,), Wy (C, H), by (C,).
    x (N, T, D) inputs (one-hot for characters), targets (N, T) integer classes,
    h0 (N, H) or None (zeros), truncate None (full BPTT) or k for `rnn_backward_truncated`,
    mask (N, T) of 0/1 weights or None: positions with weight 0 carry no loss. Targets equal to
    IGNORE_TARGET (-1) carry no loss either (as if their mask entry were 0).

    Normalisation. reduction="mean" (default): the mean over the batch *and* over time,
        L = (1 / (N T)) sum_n sum_t CE(y_nt, target_nt)   (with a mask: divided by sum(mask));
    reduction="sum_time": Liao (2018)'s L = sum_t L_t, with the batch mean inside each L_t.
    The two differ by the factor T, and so do their gradients.

    Returns (loss, grads): loss a float, grads a dict with the keys of `params` plus "h0" (N, H).

    Runs with one BLAS thread (`backprop._threads`): its products over all N*T steps at once are
    large enough for OpenBLAS to split them across threads, which then wait for one another.
    """
    Wx, Wh, b, Wy, by = _unpack(params)
    logits, h, cache = rnn_output_forward(params, x, h0, activation)
    n, steps, classes = logits.shape
    targets, weights = _sequence_targets_and_weights(targets, mask, reduction, n, steps, classes)
    check_finite(logits, "logits (Wy h_t + by)")

    logp = log_softmax(logits)                       # (N, T, C)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    loss = -float(np.sum(weights * picked))
    dlogits = np.exp(logp)                           # y_t - t_t, weighted
    rows, steps_idx = np.indices((n, steps))
    dlogits[rows, steps_idx, targets] -= 1.0
    dlogits *= weights[..., None]

    dWy = dlogits.reshape(-1, classes).T @ h.reshape(-1, h.shape[-1])
    dby = dlogits.sum(axis=(0, 1))
    dh = dlogits @ Wy                                # dL_t/dh_t: the base case's input
    if truncate is None:
        dx, dh0, dWx, dWh, db = rnn_backward(dh, cache)
    else:
        dx, dh0, dWx, dWh, db = rnn_backward_truncated(dh, cache, truncate)
    grads = {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby, "h0": dh0}
    return loss, grads


def rnn_predict(params, x, h0=None, activation="tanh"):
    """Predicted class at every step: argmax_c of the logits, shape (N, T)."""
    return rnn_output_forward(params, x, h0, activation)[0].argmax(axis=-1)


def rnn_generate(params, start: int, length: int, *, seed: int = 0, temperature: float = 1.0,
                 h0=None, activation="tanh"):
    """Sample `length` symbols from a trained character RNN, feeding each sample back as input.

    The input size D must equal the number of classes C (one-hot symbols in and out).
    start: index of the first symbol; returns a list of `length` symbol indices (start excluded).
    temperature < 1 sharpens the distribution, > 1 flattens it; 0 picks the argmax.
    """
    Wx, Wh, b, Wy, by = _unpack(params)
    classes = Wy.shape[0]
    if np.shape(Wx)[1] != classes:
        raise ValueError(f"rnn_generate needs one-hot inputs and outputs of the same size: Wx has D={np.shape(Wx)[1]}, Wy has C={classes}")
    rng = np.random.default_rng(seed)
    act = get_activation(activation)
    h = np.zeros(np.shape(Wh)[0]) if h0 is None else np.asarray(h0, dtype=np.float64).reshape(-1)
    symbol, out = int(start), []
    for _ in range(length):
        h = act.f(Wx[:, symbol] + Wh @ h + b)
        logits = Wy @ h + by
        if temperature == 0:
            symbol = int(np.argmax(logits))
        else:
            p = np.exp(log_softmax(logits / temperature))
            symbol = int(rng.choice(classes, p=p / p.sum()))
        out.append(symbol)
    return out


# --------------------------------------------------------------------------- vanishing and exploding


def recurrent_matrix(hidden_size: int, spectral_radius: float, seed: int = 0, kind: str = "orthogonal"):
    """A random (H, H) recurrent matrix whose spectral radius (largest |eigenvalue|) is given.

    kind="orthogonal": r Q with Q a random orthogonal matrix. Every eigenvalue and every
        singular value then has modulus r, so a linear recurrence scales gradients by exactly r per
        step: the cleanest picture of vanishing (r < 1) and exploding (r > 1) gradients.
    kind="gaussian": a Gaussian matrix rescaled so its largest |eigenvalue| is r. Its singular
        values are spread out, so short-term growth is possible even when r < 1.
    """
    if hidden_size < 1:
        raise ValueError(f"hidden_size must be at least 1; got {hidden_size}")
    if not np.isfinite(spectral_radius) or spectral_radius < 0:
        raise ValueError(f"spectral_radius must be a non-negative number; got {spectral_radius}")
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(hidden_size, hidden_size))
    if kind == "orthogonal":
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))  # a uniformly distributed orthogonal matrix
        return spectral_radius * q
    if kind == "gaussian":
        return a * (spectral_radius / np.max(np.abs(np.linalg.eigvals(a))))
    raise ValueError(f"kind must be 'orthogonal' or 'gaussian'; got {kind!r}")


def spectral_radius(W) -> float:
    """Largest modulus of the eigenvalues of a square matrix W."""
    W = as_float_array(W, "W", ndim=2, shape_hint="(H, H)")
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W has shape {W.shape}; the spectral radius needs a square matrix")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


@single_blas_thread
def bptt_gradient_norms(cache: RNNCache, dh_last=None):
    """||dL/dh_t|| for t = 1..T when the loss L = <dh_last, h_T> sits on the last step only.

    cache from `rnn_forward`; dh_last (N, H) or None (every sequence gets the same random unit
    vector, seeded). Returns norms (T,) where norms[t-1] is the Euclidean norm of dL/dh_t,
    averaged over the batch. norms[-1] = ||dh_last||; each step back multiplies the gradient by
    Wh^T diag(f'(z_t)), so the curve shows how fast a signal from step T fades or blows up
    on its way back to step 1.
    """
    n, steps, hidden = cache.h.shape
    if dh_last is None:
        v = np.random.default_rng(0).normal(size=hidden)
        dh_last = np.tile(v / np.linalg.norm(v), (n, 1))
    dh_last = as_float_array(dh_last, "dh_last", ndim=2, shape_hint="(N, H)")
    check_shape(dh_last, "dh_last", (n, hidden), "(N, H): the gradient of the loss on the last hidden state")
    fprime = _activation_grad(cache.activation, cache.z, cache.h)
    norms = np.empty(steps)
    g = dh_last
    for t in range(steps - 1, -1, -1):
        norms[t] = np.mean(np.linalg.norm(g, axis=1))
        g = (g * fprime[:, t]) @ cache.Wh
    return norms


@single_blas_thread
def simulate_bptt_norms(spectral_radius: float, steps: int = 50, hidden_size: int = 32, *,
                        input_size: int = 4, batch_size: int = 8, input_scale: float = 0.1,
                        activation: str = "tanh", kind: str = "orthogonal", seed: int = 0):
    """Gradient norm per time step for a random RNN with a chosen recurrent spectral radius.

    Builds Wh = `recurrent_matrix(hidden_size, spectral_radius, seed, kind)`, a random Wx with
    entries of std `input_scale`, random inputs, h0 = 0, runs `rnn_forward` for `steps` steps and
    returns `bptt_gradient_norms` (steps,). The explorer widget plots this; with
    `input_scale` = 0 and tanh the network stays at 0, in the linear regime, and the norms are
    exactly r^(T - t) for an orthogonal Wh.
    """
    rng = np.random.default_rng(seed)
    Wh = recurrent_matrix(hidden_size, spectral_radius, seed=seed, kind=kind)
    Wx = rng.normal(0.0, input_scale, size=(hidden_size, input_size))
    x = rng.normal(size=(batch_size, steps, input_size))
    h0 = np.zeros((batch_size, hidden_size))
    _, cache = rnn_forward(x, h0, Wx, Wh, np.zeros(hidden_size), activation=activation)
    return bptt_gradient_norms(cache)


def clip_gradients(grads, max_norm: float):
    """Rescale all gradients together so that their global Euclidean norm is at most max_norm.

    grads: dict name -> array. Returns (clipped, total_norm): a new dict (the input is not
    modified) and the norm before clipping. The direction of the update is kept; only its
    length is capped, which tames exploding gradients without hiding vanishing ones.
    """
    if not (max_norm > 0):
        raise ValueError(f"max_norm must be a positive number; got {max_norm}")
    total = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))
    if not np.isfinite(total):
        raise ValueError("the gradients contain NaN or inf, clipping cannot repair them; lower the learning rate")
    factor = min(1.0, max_norm / total) if total > 0 else 1.0
    return {key: np.asarray(g) * factor for key, g in grads.items()}, total
