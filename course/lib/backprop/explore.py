"""The computations behind the interactive explorers, as plain functions.

`backprop.widgets` only wires sliders to these functions and draws what they return, so
every number an explorer shows can be reproduced (and is tested) without a browser:

    activation_curves, activation_at_point, saturation_regions     explorer 1: activations
    finite_difference_errors, best_step, checker_default_step      explorer 2: step size h
    random_mlp, mlp_gradients, depth_gradient_norms                explorer 3: depth
    conv_geometry, receptive_field                                 explorer 4: conv shapes
    rnn_gradient_norms                                             explorer 5: RNN over time

Everything is float64 numpy and depends only on `backprop` itself, so the explorers work in
a student's notebook before any exercise is solved.
"""
from __future__ import annotations

import inspect

import numpy as np

from .activations import get_activation, leaky_relu, leaky_relu_grad
from .dense import dense_backward, dense_forward

__all__ = [
    "ACTIVATION_CHOICES", "activation_functions", "activation_curves", "activation_at_point",
    "saturation_regions",
    "FD_FUNCTIONS", "finite_difference_errors", "best_step", "checker_default_step",
    "random_mlp", "mlp_gradients", "depth_gradient_norms",
    "conv_geometry", "receptive_field",
    "rnn_gradient_norms",
]

EPS = np.finfo(np.float64).eps

# --------------------------------------------------------------------------------------
# 1. Activations
# --------------------------------------------------------------------------------------

ACTIVATION_CHOICES = {
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "ReLU": "relu",
    "leaky ReLU": "leaky_relu",
    "softplus": "softplus",
    "LeNet scaled tanh 1.7159 tanh(2u/3)": "scaled_tanh",
}
"""Dropdown label -> name understood by `backprop.get_activation`."""


def activation_functions(name: str, slope: float = 0.01):
    """(f, df) for an activation name; `slope` is used by leaky ReLU only."""
    if name == "leaky_relu":
        return (lambda u: leaky_relu(u, slope)), (lambda u: leaky_relu_grad(u, slope))
    act = get_activation(name)
    return act.f, act.df


def activation_curves(name: str, lo: float = -5.0, hi: float = 5.0, n: int = 401, slope: float = 0.01):
    """The function and its analytic derivative on a grid.

    Returns a dict with u (n,), y (n,) = f(u), dy (n,) = f'(u).
    """
    f, df = activation_functions(name, slope)
    u = np.linspace(lo, hi, n)
    return {"u": u, "y": f(u), "dy": df(u)}


def activation_at_point(name: str, u: float, slope: float = 0.01, h: float | None = None):
    """Value, analytic derivative and central finite-difference estimate at one point u.

    The estimate comes from `backprop.numerical_gradient` (the course's checker) with its
    default step unless `h` is given. Returns a dict with u, value, analytic, numeric,
    abs_error = |analytic - numeric|, and at_kink: True when u lies within the finite
    difference's reach of a kink (ReLU and leaky ReLU at 0), where the two may disagree
    because the function has no derivative there.
    """
    from .gradcheck import numerical_gradient

    f, df = activation_functions(name, slope)
    h = checker_default_step() if h is None else float(h)
    x = np.array([float(u)])
    numeric = float(numerical_gradient(lambda z: float(np.sum(f(z))), x, h=h)[0])
    analytic = float(df(np.array([float(u)]))[0])
    has_kink = get_activation(name).has_kink
    step = h * max(1.0, abs(float(u)))
    return {
        "u": float(u),
        "value": float(f(np.array([float(u)]))[0]),
        "analytic": analytic,
        "numeric": numeric,
        "abs_error": abs(analytic - numeric),
        "at_kink": bool(has_kink and abs(float(u)) <= step),
    }


def saturation_regions(u, dy, fraction: float = 0.05):
    """Intervals of u where the derivative is small: |dy| < fraction * max |dy| on the grid.

    There the unit passes back almost no gradient (sigmoid and tanh for large |u|, ReLU for
    u < 0). u (n,) increasing, dy (n,). Returns a list of (start, end) pairs.
    """
    u = np.asarray(u, dtype=np.float64)
    small = np.abs(dy) < fraction * np.max(np.abs(dy))
    regions, start = [], None
    for i, s in enumerate(small):
        if s and start is None:
            start = i
        if start is not None and (not s or i == len(small) - 1):
            end = i if s else i - 1
            regions.append((float(u[start]), float(u[end])))
            start = None
    return regions


# --------------------------------------------------------------------------------------
# 2. Finite-difference step
# --------------------------------------------------------------------------------------

def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


FD_FUNCTIONS = {
    # name: (f, f', f'', f''')
    "exp(x)": (np.exp, np.exp, np.exp, np.exp),
    "sin(x)": (np.sin, np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)),
    "x^3": (lambda x: x ** 3, lambda x: 3 * x ** 2, lambda x: 6 * x, lambda x: 6.0 + 0 * x),
    "tanh(x)": (
        np.tanh,
        lambda x: 1 - np.tanh(x) ** 2,
        lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
        lambda x: -2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2),
    ),
    "sigmoid(x)": (
        _sig,
        lambda x: _sig(x) * (1 - _sig(x)),
        lambda x: _sig(x) * (1 - _sig(x)) * (1 - 2 * _sig(x)),
        lambda x: _sig(x) * (1 - _sig(x)) * (1 - 6 * _sig(x) + 6 * _sig(x) ** 2),
    ),
}
"""Smooth scalar functions with their first three derivatives, for the step-size explorer."""


def finite_difference_errors(name: str, x: float, hs=None):
    """Absolute error of forward and central differences at x, for every step h in `hs`.

    forward  (f(x+h) - f(x)) / h           truncation error ~ |f''| h / 2
    central  (f(x+h) - f(x-h)) / (2h)      truncation error ~ |f'''| h^2 / 6
    Both suffer rounding error ~ eps |f(x)| / h, which grows as h shrinks.

    hs defaults to 10^-16 ... 10^0 (161 steps). Returns a dict with h, forward, central
    (measured errors, floored at 1e-20 so a log plot can show them), exact (f'(x)) and the
    model curves forward_model, central_model (truncation + rounding estimates).
    """
    f, df, d2f, d3f = FD_FUNCTIONS[name]
    hs = np.logspace(-16, 0, 161) if hs is None else np.asarray(hs, dtype=np.float64)
    x = float(x)
    exact = float(df(x))
    fwd = (f(x + hs) - f(x)) / hs
    cen = (f(x + hs) - f(x - hs)) / (2 * hs)
    rounding = EPS * max(abs(float(f(x))), EPS) / hs
    return {
        "h": hs,
        "forward": np.maximum(np.abs(fwd - exact), 1e-20),
        "central": np.maximum(np.abs(cen - exact), 1e-20),
        "exact": exact,
        "forward_model": abs(float(d2f(x))) * hs / 2 + rounding,
        "central_model": abs(float(d3f(x))) * hs ** 2 / 6 + rounding,
    }


def best_step(h, err):
    """(h, error) at the smallest measured error."""
    i = int(np.argmin(err))
    return float(h[i]), float(err[i])


def checker_default_step() -> float:
    """The default step h of `backprop.numerical_gradient`, read from its signature."""
    from .gradcheck import numerical_gradient

    return float(inspect.signature(numerical_gradient).parameters["h"].default)


# --------------------------------------------------------------------------------------
# 3. Gradient flow through depth
# --------------------------------------------------------------------------------------

def random_mlp(depth: int, width: int, weight_scale: float = 1.0, batch: int = 16, seed: int = 0):
    """Inputs and weights of a random deep MLP, width -> width in every layer.

    Returns x (batch, width) ~ N(0, 1), Ws: list of `depth` arrays (width, width) with entries
    ~ N(0, weight_scale^2 / width) (so weight_scale 1 keeps a linear layer's output variance),
    and g (batch, width) ~ N(0, 1): the loss is sum(a_L * g), so dL/da_L = g.
    """
    if depth < 1 or width < 1 or batch < 1:
        raise ValueError(f"depth, width and batch must be at least 1; got {depth}, {width}, {batch}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    Ws = [rng.standard_normal((width, width)) * (weight_scale / np.sqrt(width)) for _ in range(depth)]
    g = rng.standard_normal((batch, width))
    return x, Ws, g


def mlp_gradients(x, Ws, g, activation: str = "tanh", slope: float = 0.01):
    """Forward a_l = f(a_{l-1} W_l^T) (zero biases) and backward from L = sum(a_L * g).

    Uses `dense_forward`/`dense_backward` and the activation's derivative. x (N, D), Ws list
    of (D, D), g (N, D). Returns (dWs, das, act_std): dWs[l] = dL/dW_l (D, D), das[l] = dL/da_{l}
    where a_0 = x is the input of layer 1 (so das[l] reaches the input of layer l + 1), and
    act_std[l] = std of a_{l+1}.
    """
    f, df = activation_functions(activation, slope)
    a, caches, pre, act_std = x, [], [], []
    for W in Ws:
        u, cache = dense_forward(a, W, np.zeros(W.shape[0]))
        a = f(u)
        caches.append(cache)
        pre.append(u)
        act_std.append(float(np.std(a)))
    grad = g
    dWs, das = [None] * len(Ws), [None] * len(Ws)
    for layer in reversed(range(len(Ws))):
        grad, dWs[layer], _ = dense_backward(grad * df(pre[layer]), caches[layer])
        das[layer] = grad
    return dWs, das, act_std


def depth_gradient_norms(depth: int = 10, width: int = 64, activation: str = "tanh",
                         weight_scale: float = 1.0, batch: int = 16, seed: int = 0, slope: float = 0.01):
    """Gradient norm per layer of a random MLP (`random_mlp`, `mlp_gradients`).

    Returns a dict with layer (depth,) = 1..depth, grad_W (depth,) = ||dL/dW_l|| (Frobenius),
    grad_a (depth,) = ||dL/d(input of layer l)||, act_std (depth,) = std of each layer's output.
    """
    x, Ws, g = random_mlp(depth, width, weight_scale, batch, seed)
    dWs, das, act_std = mlp_gradients(x, Ws, g, activation, slope)
    return {"layer": np.arange(1, depth + 1), "grad_W": np.array([np.linalg.norm(d) for d in dWs]),
            "grad_a": np.array([np.linalg.norm(d) for d in das]), "act_std": np.array(act_std)}


# --------------------------------------------------------------------------------------
# 4. Convolution shapes
# --------------------------------------------------------------------------------------

def conv_geometry(size: int, kernel: int, stride: int = 1, pad: int = 0, channels: int = 1, batch: int = 1):
    """Output size and im2col shape of a square convolution, or the reason it does not fit.

    Uses `backprop.conv.conv_output_size` and `backprop.conv.im2col` themselves. Returns a
    dict with out (int or None), error (None or the library's ValueError message),
    formula (the output-size formula with the numbers filled in) and cols_shape (the shape
    im2col returns for a (batch, channels, size, size) input, or None).
    """
    from .conv import conv_output_size, im2col

    formula = f"(H + 2P - K) / S + 1 = ({size} + 2*{pad} - {kernel}) / {stride} + 1"
    try:
        out = conv_output_size(size, kernel, stride, pad)
    except ValueError as exc:
        return {"out": None, "error": str(exc), "formula": formula, "cols_shape": None}
    x = np.zeros((batch, channels, size, size))
    cols = im2col(x, kernel, kernel, stride, pad)
    return {"out": int(out), "error": None, "formula": f"{formula} = {out}", "cols_shape": tuple(cols.shape)}


def receptive_field(size: int, kernel: int, stride: int, pad: int, row: int, col: int):
    """Which input pixels feed output pixel (row, col), read off the library's im2col.

    An input whose pixel values are their own indices + 1 is unrolled by `im2col`; the
    entries of the column belonging to (row, col) are the input pixels the kernel touches
    there (0 marks zero padding). Returns a dict with mask (size + 2 pad, size + 2 pad) bool:
    the padded-input cells under the kernel, pixels: sorted list of (i, j) input coordinates
    (unpadded) that feed the output, padding_cells: how many kernel taps fall on padding.
    """
    from .conv import conv_output_size, im2col

    out = conv_output_size(size, kernel, stride, pad)
    if not (0 <= row < out and 0 <= col < out):
        raise ValueError(f"output pixel ({row}, {col}) is outside the {out}x{out} output")
    x = np.arange(1, size * size + 1, dtype=np.float64).reshape(1, 1, size, size)
    cols = im2col(x, kernel, kernel, stride, pad)
    patch = cols[:, row * out + col]  # column n*OH*OW + i*OW + j, here n = 0
    pixels = sorted(divmod(int(v) - 1, size) for v in patch if v > 0)
    mask = np.zeros((size + 2 * pad, size + 2 * pad), dtype=bool)
    r0, c0 = row * stride, col * stride
    mask[r0:r0 + kernel, c0:c0 + kernel] = True
    return {"mask": mask, "pixels": pixels, "padding_cells": int(np.sum(patch == 0))}



# --------------------------------------------------------------------------------------
# 5. RNN gradient flow over time
# --------------------------------------------------------------------------------------

def rnn_gradient_norms(spectral_radius: float = 0.9, length: int = 40, activation: str = "tanh",
                       input_scale: float = 0.1, kind: str = "orthogonal", hidden_size: int = 32, seed: int = 0):
    """||dL/dh_t|| for t = 1..T when the loss sits on the last step of a random vanilla RNN.

    Wh has the given spectral radius (`backprop.rnn.recurrent_matrix`, `kind` "orthogonal" or
    "gaussian"); inputs are random with input weights of std `input_scale` (larger inputs push
    tanh into saturation). Forward and backward are `backprop.rnn`'s own
    (`simulate_bptt_norms`). Returns a dict with t (T,) = 1..T and norm (T,).
    """
    from .rnn import simulate_bptt_norms

    if length < 1:
        raise ValueError(f"length must be at least 1; got {length}")
    norms = simulate_bptt_norms(spectral_radius, steps=int(length), hidden_size=hidden_size,
                                input_scale=input_scale, activation=activation, kind=kind, seed=seed)
    return {"t": np.arange(1, int(length) + 1), "norm": np.asarray(norms, dtype=np.float64)}
