"""Checks of notebook 02_batched_mlp: backpropagation over a mini-batch, and the training loop.

Batches are rows: A^0 = X (N, n_0); Z^l = A^{l-1} W_l^T + b_l (N, n_l); A^l = sigma_l(Z^l).
The batch loss is sum_m sum_j (t - y)^2 ("sum") or that divided by N ("mean").

    check_layer_backward_batch(layer_backward_batch)   (Delta, A_prev, W) -> (dA_prev, dW, db)
    check_output_delta_mean(output_delta_mean)         (Y, T, U, activation) -> Delta^L of the mean loss
    check_delta_L_as_printed(delta_L_as_printed)             Jin (2016)'s Delta^L exactly as printed
    check_backward_batch(backward_batch)               (params, cache, T, reduction) -> grads
    check_train_minibatch(train_minibatch)             the mini-batch gradient descent loop
    check_sum_loss_learning_rate(sum_loss_learning_rate)

Every check takes `cases=None` (the visible cases) or a list of dicts with other shapes and seeds.
"""
from __future__ import annotations

import numpy as np

from ..activations import get_activation
from ..explain import layer_stages
from ..grading import (BadReturn, call_student, check_function_gradients, check_layer_backward, check_value_slips,
                       check_values_slips, expect_wrong, random_inputs)
from ..slips import Slip, run_slip, slip_factory
from . import Exercise, bind_slips, mlp_parameter_shapes, run_cases

__all__ = [
    "forward_batch", "check_layer_backward_batch", "check_output_delta_mean", "check_delta_L_as_printed",
    "check_backward_batch", "check_train_minibatch", "check_sum_loss_learning_rate", "EXERCISES",
]


def forward_batch(params, X, activations):
    """The notebook's forward pass: Y = A^L (N, n_L) and the cache {"A": [A^0..A^L], "Z": [None, Z^1..Z^L],
    "activations": [name_1..name_L]}; params {"W1": (n_1, n_0), "b1": (n_1,), ...}, X (N, n_0)."""
    A, Z = [np.asarray(X, dtype=np.float64)], [None]
    for l in range(1, len(activations) + 1):
        Z.append(A[l - 1] @ params[f"W{l}"].T + params[f"b{l}"])
        A.append(get_activation(activations[l - 1]).f(Z[l]))
    return A[-1], {"A": A, "Z": Z, "activations": list(activations)}


# ------------------------------------------------------------------------------------------------
# Exercise 1: one affine layer over a batch
# ------------------------------------------------------------------------------------------------

def reference_layer_backward_batch(Delta, A_prev, W, slip=None):
    """(dA_prev (N, n_{l-1}), dW (n_l, n_{l-1}), db (n_l,)) from Delta (N, n_l), A_prev, W (n_l, n_{l-1})."""
    N = Delta.shape[0]
    dA_prev = Delta @ W.T if slip == "dA_with_W_transposed" else Delta @ W
    dW = Delta.T @ A_prev / (N if slip == "dW_mean" else 1)
    db = Delta.mean(axis=0) if slip == "db_mean" else Delta.sum(axis=0)
    return dA_prev, dW, db


_layer_slip = slip_factory(reference_layer_backward_batch)


LAYER_BACKWARD_BATCH_SLIPS = (
    _layer_slip("db_mean", "db averages Delta over the batch. The layer sums the per-sample contributions "
                "(any 1/N of a mean loss is already inside Delta): db = Delta summed over the rows, axis 0."),
    _layer_slip("dW_mean", "dW divides by the batch size N. The 1/N of a mean loss is already inside Delta; "
                "the layer only sums the outer products: dW = Delta^T A_prev."),
    _layer_slip("dA_with_W_transposed", "dA_prev uses W^T where it needs W: with samples as rows, "
                "dA_prev = Delta W (shapes (N, n_l) times (n_l, n_{l-1}))."),
)


def _check_layer_case(layer_backward_batch, N, n_prev, n, seed):
    def wrap(fn):
        return lambda Delta, cache: fn(Delta, cache[0], cache[1])

    check_layer_backward(
        wrap(layer_backward_batch), lambda A_prev, W, b: (A_prev @ W.T + b, (A_prev, W)),
        random_inputs({"A_prev": (N, n_prev), "W": (n, n_prev), "b": (n,)}, seed=seed),
        ("A_prev", "W", "b"), seed=seed, batch_size=N, name="layer_backward_batch",
        slips=bind_slips(LAYER_BACKWARD_BATCH_SLIPS, wrap))


def check_layer_backward_batch(layer_backward_batch, cases=None):
    """Finite-difference check of layer_backward_batch(Delta, A_prev, W) on each case (N, n_prev, n, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_layer_case(layer_backward_batch, **c), cases,
              [dict(N=3, n_prev=4, n=4, seed=1), dict(N=4, n_prev=5, n=3, seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercises 2a and 3: the output delta of the sum and of the mean loss
# ------------------------------------------------------------------------------------------------

def _loss_sum(U, T, activation):
    return np.sum((T - get_activation(activation).f(U)) ** 2)


def reference_output_delta_mean(Y, T, U, activation, slip=None):
    """Delta^L (N, n_L) = dE/dU for E = (1/N) sum (t - y)^2, with Y = phi(U); `slip` adds one mistake."""
    N = Y.shape[0]
    phi = get_activation(activation)
    scale = {"sum_not_mean": 2.0, "no_two": 1.0 / N}.get(slip, 2.0 / N)
    residual = (Y - T) if slip == "sign" else (T - Y)
    derivative = {"phi_prime_of_Y": phi.df(Y), "no_phi_prime": 1.0}.get(slip, phi.df(U))
    return -scale * residual * derivative


_delta_slip = slip_factory(reference_output_delta_mean)


OUTPUT_DELTA_MEAN_SLIPS = (
    _delta_slip("sum_not_mean", "the 1/N of the mean is missing: with E = (1/N) sum_m sum_j (t - y)^2 every "
                "row of Delta^L carries a factor 1/N (N = the batch size, Y.shape[0])."),
    _delta_slip("no_two", "the 2 from differentiating the square is missing: d/dy (t - y)^2 = -2 (t - y)."),
    _delta_slip("sign", "the sign is flipped: d/dy (t - y)^2 = -2 (t - y), so Delta^L = -(2/N) (T - Y) * "
                "phi'(U) = (2/N) (Y - T) * phi'(U)."),
    _delta_slip("phi_prime_of_Y", "phi' is evaluated at Y = phi(U) instead of at U: the chain rule needs "
                "phi'(U), the derivative at the weighted input."),
    _delta_slip("no_phi_prime", "the factor phi'(U) is missing: Delta^L = dE/dU = dE/dY * phi'(U), the chain "
                "rule through the output activation."),
)


def _check_mean_case(output_delta_mean, N, n, activation, seed):
    def wrap(fn):
        return lambda U, T: fn(get_activation(activation).f(U), T, U, activation)

    inputs = random_inputs({"U": (N, n), "T": (N, n)}, seed=seed, avoid_kinks={"U"})
    check_function_gradients(
        wrap(output_delta_mean), lambda U, T: _loss_sum(U, T, activation) / N, inputs, "U", seed=seed,
        batch_size=N, name="output_delta_mean", slips=bind_slips(OUTPUT_DELTA_MEAN_SLIPS, wrap),
        known_factors={"phi'(U)": get_activation(activation).df(inputs["U"])})


def check_output_delta_mean(output_delta_mean, cases=None):
    """Finite-difference check of output_delta_mean(Y, T, U, activation) on each case (N, n, activation, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_mean_case(output_delta_mean, **c), cases,
              [dict(N=5, n=3, activation="sigmoid", seed=0), dict(N=1, n=2, activation="tanh", seed=1)])


def _check_as_printed_case(delta_L_as_printed, N, n, activation, seed):
    inputs = random_inputs({"U": (N, n), "T": (N, n)}, seed=seed, avoid_kinks={"U"})

    def student(U, T):
        return delta_L_as_printed(get_activation(activation).f(U), T, U, activation)

    print("--- against the SUM  E = sum_m sum_j (t - y)^2: the checker should confirm")
    check_function_gradients(student, lambda U, T: _loss_sum(U, T, activation), inputs, "U", seed=seed,
                             batch_size=N, name="delta_L_as_printed")
    print(f"--- against the MEAN E = (1/N) sum_m sum_j (t - y)^2 of eq. (1), N = {N}: the checker should refute")
    expect_wrong(check_function_gradients, student, lambda U, T: _loss_sum(U, T, activation) / N, inputs, "U",
                 seed=seed, batch_size=N, kind="scale", name="delta_L_as_printed")


def check_delta_L_as_printed(delta_L_as_printed, cases=None):
    """Jin (2016)'s Delta^L = -2 (T - Y) * phi'(U) as printed: right for the sum, wrong for the mean (N > 1)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_as_printed_case(delta_L_as_printed, **c), cases,
              [dict(N=5, n=3, activation="sigmoid", seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercise 4: the whole batched backward pass
# ------------------------------------------------------------------------------------------------

def reference_backward_batch(params, cache, T, reduction="mean", slip=None):
    """grads {"W1": (n_1, n_0), "b1": (n_1,), ...} of the batch loss; `slip` adds one typical mistake."""
    A, Z, acts = cache["A"], cache["Z"], cache["activations"]
    L, N = len(acts), A[0].shape[0]
    residual = (A[L] - T) if slip == "sign" else (T - A[L])
    Delta = -(1.0 if slip == "no_two" else 2.0) * residual * get_activation(acts[L - 1]).df(Z[L])
    if reduction == "mean" and slip != "no_mean":
        Delta = Delta / N
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"], grads[f"b{l}"] = Delta.T @ A[l - 1], Delta.sum(axis=0)
        if l > 1:
            Delta = Delta @ params[f"W{l}"]
            if slip == "mean_every_layer" and reduction == "mean":
                Delta = Delta / N
            name = acts[l - 1] if slip == "wrong_layer_activation" else acts[l - 2]
            at = A[l - 1] if slip == "sigma_prime_of_A" else Z[l - 1]
            if slip != "no_sigma_prime":
                Delta = Delta * get_activation(name).df(at)
    return grads


_backward_slip = slip_factory(reference_backward_batch)


BACKWARD_BATCH_SLIPS = (
    _backward_slip("no_sigma_prime", "you left sigma'(Z^l) out of the step from Delta^{l+1} to Delta^l: "
                   "Delta^l = (Delta^{l+1} W_{l+1}) * sigma_l'(Z^l) in every hidden layer."),
    _backward_slip("sigma_prime_of_A", "sigma' of the hidden layers is evaluated at A^l = sigma(Z^l) instead "
                   "of at Z^l: use get_activation(...).df(Z[l]) (the derivative at the weighted input)."),
    _backward_slip("wrong_layer_activation", "the step to Delta^l uses the derivative of layer l+1's activation; "
                   "it needs layer l's own. activations[0] belongs to layer 1, so Z^l goes with activations[l - 1]."),
    _backward_slip("no_mean", "for reduction=\"mean\" the 1/N of the loss is missing from Delta^L (N = the batch "
                   "size), so every gradient is N times too large."),
    _backward_slip("mean_every_layer", "you divided by N at every layer. The 1/N of the mean loss enters once, "
                   "in Delta^L, and the recursion carries it down to every layer."),
    _backward_slip("no_two", "the 2 from differentiating the square is missing in Delta^L: "
                   "d/dY (T - Y)^2 = -2 (T - Y)."),
    _backward_slip("sign", "Delta^L has the wrong sign: d/dY (T - Y)^2 = -2 (T - Y) = 2 (Y - T)."),
)


def _mlp_stages(L):
    return layer_stages(L, f"at the output: check Delta^{L} = dE/dY * sigma'(Z^{L}) (with the 2 of the square and, "
                        "for the mean, the 1/N)",
                        lambda l: f"check sigma'(Z^{l}) and the step Delta^{l} = (Delta^{l + 1} W_{l + 1}) * sigma'(Z^{l})")


def _check_backward_case(backward_batch, N, sizes, activations, reduction, seed):
    shapes = mlp_parameter_shapes(sizes)
    names = list(shapes)
    inputs = random_inputs(shapes, seed=seed, scale=0.7)
    rng = np.random.default_rng(seed)
    inputs["X"], inputs["T"] = rng.standard_normal((N, sizes[0])), rng.uniform(size=(N, sizes[-1]))

    def wrap(fn):
        def grads(**kw):
            params = {k: kw[k] for k in names}
            return fn(params, forward_batch(params, kw["X"], activations)[1], kw["T"], reduction)
        return grads

    def loss(**kw):
        total = np.sum((kw["T"] - forward_batch({k: kw[k] for k in names}, kw["X"], activations)[0]) ** 2)
        return total / N if reduction == "mean" else total

    check_function_gradients(wrap(backward_batch), loss, inputs, names, seed=seed, batch_size=N,
                             name=f"backward_batch (N={N}, {' -> '.join(map(str, sizes))}, {reduction})",
                             slips=bind_slips(BACKWARD_BATCH_SLIPS, wrap), stages=_mlp_stages(len(sizes) - 1))


def check_backward_batch(backward_batch, cases=None):
    """Finite-difference check of backward_batch(params, cache, T, reduction) on each case
    (N, sizes, activations, reduction, seed); the visible cases include a batch of one sample."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_backward_case(backward_batch, **c), cases, [
        dict(N=5, sizes=(4, 6, 3), activations=("tanh", "sigmoid"), reduction="mean", seed=0),
        dict(N=5, sizes=(4, 6, 3), activations=("relu", "sigmoid"), reduction="sum", seed=1),
        dict(N=1, sizes=(3, 4, 2), activations=("sigmoid", "tanh"), reduction="mean", seed=2),
    ])


# ------------------------------------------------------------------------------------------------
# Exercise 5: the mini-batch training loop, checked on a linear model
# ------------------------------------------------------------------------------------------------

def linear_loss_and_grads(params, X, T):
    """Mean squared error of Y = X W^T + b and its gradients; X (N, D), T (N, C), W (C, D), b (C,)."""
    N = X.shape[0]
    R = X @ params["W"].T + params["b"] - T
    return float(np.sum(R ** 2) / N), {"W": 2.0 / N * R.T @ X, "b": 2.0 / N * R.sum(axis=0)}


def reference_train_minibatch(loss_and_grads, params, X, T, *, epochs, batch_size, lr, seed=0, progress=True,
                              slip=None):
    """The training loop of the notebook (progress is ignored); `slip` adds one typical mistake."""
    rng = np.random.default_rng(seed)
    N, losses = len(X), []
    order = rng.permutation(N) if slip == "shuffle_once" else None
    for _ in range(epochs):
        if slip == "no_shuffle":
            order = np.arange(N)
        elif slip != "shuffle_once":
            order = rng.permutation(N)
        stop = N - N % batch_size if (slip == "drop_last" and N % batch_size and N > batch_size) else N
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size]
            loss, grads = loss_and_grads(params, X[idx], T[idx])
            for k in params:
                params[k] += (1 if slip == "uphill" else -1) * lr * grads[k]
            losses.append(float(loss))
    return losses


_train_slip = slip_factory(reference_train_minibatch)


TRAIN_MINIBATCH_SLIPS = (
    _train_slip("no_shuffle", "the batches follow the data's own order: draw order = rng.permutation(N) at the "
                "start of every epoch."),
    _train_slip("shuffle_once", "one order serves the whole run: draw a new order = rng.permutation(N) at the "
                "start of every epoch, not once before the loop."),
    _train_slip("uphill", "the update goes uphill: a gradient descent step is params[k] -= lr * grads[k]."),
    _train_slip("drop_last", "the last, smaller batch of each epoch is skipped: range(0, N, batch_size) with "
                "order[start:start + batch_size] covers every sample."),
)


TRAIN_MINIBATCH_HINT = ("One loss per update, epochs x ceil(N / batch_size) of them, in order: each epoch draws "
                        "order = rng.permutation(N), takes consecutive slices order[start:start + batch_size] "
                        "and updates every parameter in place once per batch, params[k] -= lr * grads[k].")


def _run_training(fn, start, X, T, what, **settings):
    """{"the losses ...": losses, "params['W'] after ...": W, ...} after fn trained a copy of `start`."""
    params = {k: v.copy() for k, v in start.items()}
    losses = fn(linear_loss_and_grads, params, X, T, **settings)
    if not isinstance(losses, (list, tuple, np.ndarray)):
        raise BadReturn(f"train_minibatch {what} should return the list of mini-batch losses; it returned "
                        f"{type(losses).__name__}.", {"losses": "type"})
    return {f"the losses {what}": np.asarray(losses, dtype=np.float64),
            **{f"params[{k!r}] after training {what}": params[k] for k in start}}


def _check_train_case(train_minibatch, N, D, C, epochs, batch_size, lr, seed):
    rng = np.random.default_rng(seed)
    X, T = rng.standard_normal((N, D)), rng.standard_normal((N, C))
    start = {"W": rng.standard_normal((C, D)) * 0.1, "b": np.zeros(C)}
    settings = dict(X=X, T=T, what=f"(N={N}, batch_size={batch_size}, epochs={epochs})", epochs=epochs,
                    batch_size=batch_size, lr=lr, seed=seed, progress=False)
    got = _run_training(lambda *a, **kw: call_student(train_minibatch, *a, **kw), start, **settings)
    candidates = ((slip, run_slip(_run_training, slip.fn, start, **settings)) for slip in TRAIN_MINIBATCH_SLIPS)
    check_values_slips(got, _run_training(reference_train_minibatch, start, **settings), candidates, rtol=1e-10,
                       hint=TRAIN_MINIBATCH_HINT)


def check_train_minibatch(train_minibatch, cases=None):
    """Run train_minibatch on a linear model and compare losses and parameters with the right loop; each case
    is (N, D, C, epochs, batch_size, lr, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_train_case(train_minibatch, **c), cases,
              [dict(N=10, D=3, C=2, epochs=3, batch_size=4, lr=0.1, seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercise 6: the learning rate of the sum loss
# ------------------------------------------------------------------------------------------------

def reference_sum_loss_learning_rate(lr_mean, batch_size, slip=None):
    """The learning rate for the sum loss that gives the same updates as lr_mean for the mean loss."""
    return {"times_n": lr_mean * batch_size, "unchanged": lr_mean}.get(slip, lr_mean / batch_size)


SUM_LOSS_LEARNING_RATE_SLIPS = (
    Slip("times_n", "you multiplied by the batch size. The sum's gradient is N times the mean's, so its step "
         "must be N times smaller: lr_mean / batch_size.",
         lambda lr_mean, batch_size: reference_sum_loss_learning_rate(lr_mean, batch_size, "times_n")),
    Slip("unchanged", "the learning rate is unchanged, but the sum's gradient is batch_size times the mean's: "
         "divide lr_mean by batch_size.",
         lambda lr_mean, batch_size: reference_sum_loss_learning_rate(lr_mean, batch_size, "unchanged")),
)


def _check_lr_case(sum_loss_learning_rate, lr_mean, batch_size):
    got = call_student(sum_loss_learning_rate, lr_mean, batch_size)
    check_value_slips(got, lr_mean / batch_size, name=f"sum_loss_learning_rate({lr_mean}, {batch_size})",
                      slips=[(s, s.fn(lr_mean, batch_size)) for s in SUM_LOSS_LEARNING_RATE_SLIPS])


def check_sum_loss_learning_rate(sum_loss_learning_rate, cases=None):
    """Compare sum_loss_learning_rate(lr_mean, batch_size) with lr_mean / batch_size on each case."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_lr_case(sum_loss_learning_rate, **c), cases,
              [dict(lr_mean=0.5, batch_size=8)])


EXERCISES = (
    Exercise("layer_backward_batch", check_layer_backward_batch, reference_layer_backward_batch,
             LAYER_BACKWARD_BATCH_SLIPS),
    Exercise("output_delta_mean", check_output_delta_mean, reference_output_delta_mean, OUTPUT_DELTA_MEAN_SLIPS),
    Exercise("delta_L_as_printed", check_delta_L_as_printed,
             lambda Y, T, U, activation: -2.0 * (T - Y) * get_activation(activation).df(U)),
    Exercise("backward_batch", check_backward_batch, reference_backward_batch, BACKWARD_BATCH_SLIPS),
    Exercise("train_minibatch", check_train_minibatch, reference_train_minibatch, TRAIN_MINIBATCH_SLIPS),
    Exercise("sum_loss_learning_rate", check_sum_loss_learning_rate, reference_sum_loss_learning_rate,
             SUM_LOSS_LEARNING_RATE_SLIPS),
)
