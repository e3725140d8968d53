"""Activation functions and their derivatives.

Each activation is an `Activation` with three functions of arrays of any shape:

    y = act.f(u)            the value
    d = act.df(u)           the derivative dy/du, element-wise, from the input u
    d = act.df_from_y(y)    the same derivative written with the output y, where the sources do
                            so (sigmoid: y(1 - y), tanh: 1 - y^2); None when no such form exists

ReLU at its kink. The course takes relu'(0) = 0, i.e. the derivative is (u > 0), as Jin (2016)
does. Sugihara (2021) takes relu'(0) = 1 (u >= 0), and a central finite difference taken exactly
at 0 returns 0.5. All three are "right": at 0 ReLU has no derivative, only a set of
subgradients [0, 1]. The gradient checker avoids the question by detecting entries that sit
on a kink and skipping them (see `backprop.gradcheck`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

__all__ = [
    "Activation", "ACTIVATIONS", "get_activation",
    "sigmoid", "sigmoid_grad", "sigmoid_grad_from_output",
    "tanh", "tanh_grad", "tanh_grad_from_output",
    "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
    "softplus", "softplus_grad", "scaled_tanh", "scaled_tanh_grad", "scaled_tanh_grad_from_output",
    "identity", "identity_grad", "LECUN_A", "LECUN_S",
]

LECUN_A = 1.7159
"""Amplitude of LeNet-5's squashing function A tanh(S a)."""
LECUN_S = 2.0 / 3.0
"""Slope of LeNet-5's squashing function A tanh(S a)."""


def sigmoid(u):
    """Logistic function 1 / (1 + exp(-u)), computed without overflow for large |u|."""
    u = np.asarray(u, dtype=_float_dtype(u))
    out = np.empty_like(u)
    pos = u >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-u[pos]))
    e = np.exp(u[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def sigmoid_grad(u):
    """sigma'(u) = sigma(u) (1 - sigma(u))."""
    y = sigmoid(u)
    return y * (1.0 - y)


def sigmoid_grad_from_output(y):
    """sigma'(u) written with y = sigma(u): y (1 - y)  (Jin 2016, Huang 2018; see SOURCES.md)."""
    return y * (1.0 - y)


def tanh(u):
    return np.tanh(u)


def tanh_grad(u):
    """tanh'(u) = 1 - tanh(u)^2."""
    y = np.tanh(u)
    return 1.0 - y * y


def tanh_grad_from_output(y):
    """tanh'(u) written with y = tanh(u): 1 - y^2."""
    return 1.0 - y * y


def relu(u):
    return np.maximum(u, 0)


def _float_dtype(u):
    """The dtype of u if it is floating, else float64 (derivatives are never integers)."""
    dtype = np.asarray(u).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def relu_grad(u):
    """(u > 0): the course's convention relu'(0) = 0 (Jin 2016). Sugihara (2021) uses (u >= 0)."""
    return (np.asarray(u) > 0).astype(_float_dtype(u))


def leaky_relu(u, slope: float = 0.01):
    return np.where(u > 0, u, slope * u)


def leaky_relu_grad(u, slope: float = 0.01):
    """1 for u > 0, `slope` for u <= 0 (same convention at the kink as ReLU)."""
    return np.where(np.asarray(u) > 0, 1.0, slope).astype(_float_dtype(u))


def softplus(u):
    """log(1 + exp(u)), stable for large |u|: max(u, 0) + log1p(exp(-|u|))."""
    return np.maximum(u, 0) + np.log1p(np.exp(-np.abs(u)))


def softplus_grad(u):
    """softplus'(u) = sigmoid(u)."""
    return sigmoid(u)


def scaled_tanh(u):
    """LeNet-5's squashing function f(a) = A tanh(S a) with A = 1.7159, S = 2/3."""
    return LECUN_A * np.tanh(LECUN_S * u)


def scaled_tanh_grad(u):
    """f'(a) = A S (1 - tanh(S a)^2)."""
    t = np.tanh(LECUN_S * u)
    return LECUN_A * LECUN_S * (1.0 - t * t)


def scaled_tanh_grad_from_output(y):
    """f'(a) written with y = f(a): (S / A) (A^2 - y^2)."""
    return (LECUN_S / LECUN_A) * (LECUN_A * LECUN_A - y * y)


def identity(u):
    return u


def identity_grad(u):
    return np.ones(np.shape(u), dtype=_float_dtype(u))


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: its value, its derivative, and (if any) the derivative from y."""

    name: str
    f: Callable
    df: Callable
    df_from_y: Optional[Callable] = None
    has_kink: bool = False
    """True when the function has a point without derivative (ReLU-like at 0)."""

    def __call__(self, u):
        return self.f(u)


ACTIVATIONS = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_grad, sigmoid_grad_from_output),
    "tanh": Activation("tanh", tanh, tanh_grad, tanh_grad_from_output),
    "relu": Activation("relu", relu, relu_grad, None, has_kink=True),
    "leaky_relu": Activation("leaky_relu", leaky_relu, leaky_relu_grad, None, has_kink=True),
    "softplus": Activation("softplus", softplus, softplus_grad, None),
    "scaled_tanh": Activation("scaled_tanh", scaled_tanh, scaled_tanh_grad, scaled_tanh_grad_from_output),
    "identity": Activation("identity", identity, identity_grad, None),
}


def get_activation(name_or_activation) -> Activation:
    """Look up an activation by name ("sigmoid", "tanh", "relu", ...) or pass one through."""
    if isinstance(name_or_activation, Activation):
        return name_or_activation
    try:
        return ACTIVATIONS[name_or_activation]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name_or_activation!r}; choose one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None
