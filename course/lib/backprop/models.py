"""A small multi-layer perceptron built from the library's layers.

Parameters live in a dict {"W1", "b1", ..., "WL", "bL"}; W_l has shape (n_l, n_{l-1})
(output-major, as in Jin 2016 and Huang 2018) and b_l shape (n_l,). Layer l computes
u_l = a_{l-1} W_l^T + b_l and a_l = phi_l(u_l); a_0 = x.

x may be one sample (D,) or a batch (N, D); the loss conventions are those of
`backprop.losses` ("sum", "mean", "half" squared error, or "softmax_ce" with integer labels).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import as_float_array
from .activations import get_activation
from .dense import dense_backward, dense_forward
from .losses import SQUARED_ERRORS, softmax_cross_entropy

__all__ = ["init_mlp", "mlp_forward", "mlp_loss_and_grads", "LOSSES"]

LOSSES = ("sum", "mean", "half", "softmax_ce")


def init_mlp(sizes: Sequence[int], seed: int = 0, scale: str | float = "xavier") -> dict:
    """Random parameters for layer widths `sizes` = (D, n_1, ..., n_L).

    scale: "xavier" (std sqrt(1 / fan_in)), "he" (std sqrt(2 / fan_in)) or a number (the std).
    Biases start at zero. Returns {"W1": (n_1, D), "b1": (n_1,), ...}.
    """
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width; got {sizes}")
    rng = np.random.default_rng(seed)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        std = {"xavier": np.sqrt(1.0 / n_in), "he": np.sqrt(2.0 / n_in)}.get(scale, scale)
        if isinstance(std, str):
            raise ValueError(f"scale must be 'xavier', 'he' or a number; got {scale!r}")
        params[f"W{l}"] = rng.normal(0.0, float(std), size=(n_out, n_in))
        params[f"b{l}"] = np.zeros(n_out)
    return params


def _num_layers(params) -> int:
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    if L == 0:
        raise ValueError(f"params must hold W1, b1, W2, b2, ...; got keys {sorted(params)}")
    return L


def _activations(activations, L):
    if isinstance(activations, str):
        activations = [activations] * L
    if len(activations) != L:
        raise ValueError(f"activations has {len(activations)} entries but the network has {L} layers")
    return [get_activation(a) for a in activations]


def mlp_forward(params: dict, x, activations="sigmoid"):
    """Forward pass. x (D,) or (N, D) -> (output, caches).

    activations: one name for every layer or a list with one per layer (e.g. ("relu", "identity")).
    caches: per layer (dense cache, pre-activation u_l, activation) for `mlp_loss_and_grads`.
    The output has shape (n_L,) for a single sample and (N, n_L) for a batch.
    """
    x = as_float_array(x, "x", shape_hint="(D,) or (N, D)")
    single = x.ndim == 1
    a = x[None, :] if single else x
    if a.ndim != 2:
        raise ValueError(f"x must be one sample (D,) or a batch (N, D); got shape {x.shape}")
    L = _num_layers(params)
    acts = _activations(activations, L)
    caches = []
    for l in range(1, L + 1):
        u, dcache = dense_forward(a, params[f"W{l}"], params[f"b{l}"])
        a = acts[l - 1].f(u)
        caches.append((dcache, u, acts[l - 1]))
    return (a[0] if single else a), caches


def mlp_loss_and_grads(params: dict, x, t, activations="sigmoid", loss: str = "half"):
    """Loss and the gradient of every parameter, by backpropagation.

    x (D,) or (N, D); t has the output's shape for squared errors, or integer labels (N,) (or
    one int for a single sample) for "softmax_ce" (then the last activation should be "identity":
    the softmax is part of the loss). Returns (loss, grads) with grads[k] of params[k]'s shape.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    out, caches = mlp_forward(params, x, activations)
    single = out.ndim == 1
    out2 = out[None, :] if single else out
    if loss == "softmax_ce":
        labels = np.atleast_1d(np.asarray(t))
        value, dout = softmax_cross_entropy(out2, labels)
    else:
        t2 = as_float_array(t, "t")
        t2 = t2[None, :] if t2.ndim == 1 else t2
        value, dout = SQUARED_ERRORS[loss](out2, t2)
    grads = {}
    for l in range(len(caches), 0, -1):
        dcache, u, act = caches[l - 1]
        delta = dout * act.df(u)
        dout, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(delta, dcache)
    return value, {k: grads[k] for k in params if k in grads}
