"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998), built from the course's layers.

Classic variant, as in the paper and Liao (2018), section 3 (f = scaled tanh 1.7159 tanh(2a/3)):

    input  (N, 1, 32, 32)
    C1     conv 6 maps 5x5             -> (N, 6, 28, 28),  f
    S2     trainable subsampling 2x2   -> (N, 6, 14, 14),  f     out = coeff * (sum of window) + bias
    C3     conv 16 maps 5x5, partially connected by C3_TABLE -> (N, 16, 10, 10), f
    S4     trainable subsampling 2x2   -> (N, 16, 5, 5),   f
    C5     conv 120 maps 5x5           -> (N, 120, 1, 1) = (N, 120), f
    F6     dense 84                    -> (N, 84),         f
    output softmax: dense 10 -> logits, loss = softmax cross-entropy (default)
           rbf:     y_k = sum_j (F6_j - centre_kj)^2 with FIXED +-1 centres (not trained),
                    loss = mean over the batch of y_{label}: the distance to the right code.

With 32x32 inputs C5 is 1x1, so it is a dense layer on the flattened S4 maps; we keep it a
convolution as in the paper. The classic network has exactly 60,000 trainable parameters
(plus 850 for the softmax output layer); `count_parameters` counts only connected C3 kernels.

Modern variant, for comparison: ReLU instead of the scaled tanh, 2x2 max pooling (no
parameters) instead of the trainable subsampling, C3 fully connected to all six S2 maps.

Parameters are a dict name -> float64 array ("C1_W", "C1_b", "S2_coeff", ..., "out_W",
"out_b"); gradients come back as a dict with the same keys. The variant and the output layer
are read off the keys, so a params dict is all a function needs.

The partially connected C3 and Liao (2018). C3 is an ordinary 6 -> 16 convolution whose weight
W (16, 6, 5, 5) is multiplied by the connection mask M[d, p] = C3_TABLE[p, d] before use:
    Y~(d) = sum over p with T[p, d] = 1 of  W(d, p) (x) X(p) + b(d).
Backward, with delta(d) = dL/dY~(d):
    dL/dW(d, p) = delta(d) (x) X(p)   if T[p, d] = 1, else 0 (the mask zeros the gradient of
                                      every unconnected kernel, so training never revives it);
    dL/dX(p)    = sum over OUTPUT maps d with T[p, d] = 1 of full-conv(delta(d), W(d, p)).
The input map p collects from every output map it feeds. Liao (2018) prints the last sum over p
for fixed d, i.e. over the wrong index (see SOURCES.md, slips); running conv2d_backward on W * M
computes the right sum automatically, because the masked kernels are zero.
"""
from __future__ import annotations

import numpy as np

from ._threads import single_blas_thread
from ._validate import as_float_array, check_labels, check_shape
from .activations import relu, relu_grad, scaled_tanh, scaled_tanh_grad_from_output
from .conv import conv2d_backward, conv2d_forward
from .dense import dense_backward, dense_forward
from .losses import softmax_cross_entropy
from .pool import maxpool2d_backward, maxpool2d_forward, subsample_backward, subsample_forward

__all__ = [
    "C3_TABLE", "RBF_BITMAPS", "rbf_centres", "init_lenet5", "lenet5_forward", "lenet5_backward",
    "lenet5_loss_and_grads", "lenet5_loss", "lenet5_predict", "count_parameters", "lenet5_shapes",
]

# C3 maps 0-5 read 3 contiguous S2 maps, 6-11 read 4 contiguous, 12-14 read 4 non-contiguous,
# 15 reads all six (Table I of the 1998 paper). Contiguous is cyclic: map 4 reads S2 maps 4, 5, 0.
_C3_INPUTS = [
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
]
C3_TABLE = np.zeros((6, 16), dtype=bool)
"""(6, 16) connection table: C3_TABLE[p, d] is True when C3 map d reads S2 map p (60 connections)."""
for _d, _inputs in enumerate(_C3_INPUTS):
    C3_TABLE[list(_inputs), _d] = True
C3_TABLE.setflags(write=False)
_C3_MASK = C3_TABLE.T[:, :, None, None].astype(np.float64)  # (16, 6, 1, 1), multiplies C3_W

# 7 x 12 bitmaps of the digits, drawn for the RBF output codes ('#' = +1, '.' = -1), in the
# spirit of the paper's stylised 7x12 characters.
_DIGIT_ROWS = [
    [".......", "..###..", ".#...#.", "#.....#", "#.....#", "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###..", "......."],
    [".......", "...#...", "..##...", ".#.#...", "...#...", "...#...", "...#...", "...#...", "...#...", "...#...", ".#####.", "......."],
    [".......", "..###..", ".#...#.", "#.....#", "......#", ".....#.", "....#..", "...#...", "..#....", ".#.....", "#######", "......."],
    [".......", ".#####.", "#.....#", "......#", "......#", "..####.", "......#", "......#", "......#", "#.....#", ".#####.", "......."],
    [".......", ".....#.", "....##.", "...#.#.", "..#..#.", ".#...#.", "#....#.", "#######", ".....#.", ".....#.", ".....#.", "......."],
    [".......", "#######", "#......", "#......", "######.", "......#", "......#", "......#", "......#", "#.....#", ".#####.", "......."],
    [".......", "..####.", ".#.....", "#......", "#......", "######.", "#.....#", "#.....#", "#.....#", "#.....#", ".#####.", "......."],
    [".......", "#######", "......#", ".....#.", ".....#.", "....#..", "....#..", "...#...", "...#...", "..#....", "..#....", "......."],
    [".......", ".#####.", "#.....#", "#.....#", "#.....#", ".#####.", "#.....#", "#.....#", "#.....#", "#.....#", ".#####.", "......."],
    [".......", ".#####.", "#.....#", "#.....#", "#.....#", "#.....#", ".######", "......#", "......#", ".....#.", ".####..", "......."],
]
RBF_BITMAPS = np.array([[1.0 if ch == "#" else -1.0 for ch in "".join(rows)] for rows in _DIGIT_ROWS])
"""(10, 84) fixed RBF centres: digit k drawn as a 12-row x 7-column +-1 bitmap, flattened by rows."""
RBF_BITMAPS.setflags(write=False)

_CLASSIC = ("C1", "S2", "C3", "S4", "C5", "F6")


def rbf_centres(kind: str = "bitmap", seed: int = 0, num_classes: int = 10, dim: int = 84) -> np.ndarray:
    """Fixed RBF centres (num_classes, dim) with entries +-1.

    kind "bitmap": the 7x12 digit drawings RBF_BITMAPS (10 classes, dim 84 only);
    kind "random": independent random +-1 codes from `seed` (far apart: about dim/2 entries differ).
    """
    if kind == "bitmap":
        if (num_classes, dim) != RBF_BITMAPS.shape:
            raise ValueError(f"bitmap centres exist for 10 classes and dim 84 only; got {num_classes} and {dim}")
        return RBF_BITMAPS.copy()
    if kind == "random":
        return np.random.default_rng(seed).choice([-1.0, 1.0], size=(num_classes, dim))
    raise ValueError(f"kind must be 'bitmap' or 'random'; got {kind!r}")


def lenet5_shapes(variant: str = "classic", output: str = "softmax", num_classes: int = 10) -> dict:
    """name -> shape of every trainable array of the chosen network."""
    _check_choice(variant, output)
    shapes = {"C1_W": (6, 1, 5, 5), "C1_b": (6,)}
    if variant == "classic":
        shapes.update({"S2_coeff": (6,), "S2_bias": (6,)})
    shapes.update({"C3_W": (16, 6, 5, 5), "C3_b": (16,)})
    if variant == "classic":
        shapes.update({"S4_coeff": (16,), "S4_bias": (16,)})
    shapes.update({"C5_W": (120, 16, 5, 5), "C5_b": (120,), "F6_W": (84, 120), "F6_b": (84,)})
    if output == "softmax":
        shapes.update({"out_W": (num_classes, 84), "out_b": (num_classes,)})
    return shapes


def _check_choice(variant, output):
    if variant not in ("classic", "modern"):
        raise ValueError(f"variant must be 'classic' or 'modern'; got {variant!r}")
    if output not in ("softmax", "rbf"):
        raise ValueError(f"output must be 'softmax' or 'rbf'; got {output!r}")


def init_lenet5(seed: int = 0, variant: str = "classic", output: str = "softmax", num_classes: int = 10) -> dict:
    """Fresh parameters, name -> float64 array (shapes in `lenet5_shapes`).

    classic: weights uniform in +-2.4 / sqrt(fan_in) (fan_in = inputs of one unit; for C3 the
      number of connected S2 maps times 25), biases 0, subsampling coefficients 1/4 (so S2 and
      S4 start as average pooling). The paper draws in +-2.4 / fan_in; with the scaled tanh that
      starts deep layers with very small signals, so we use the square root, which keeps every
      pre-activation's spread of the order of its inputs' (std about 1.4 times theirs; the
      advice of LeCun et al.'s "Efficient BackProp"). Training on the course's digits starts fast.
    modern: He initialisation, normal with std sqrt(2 / fan_in), biases 0.
    Unconnected C3 kernels are set to 0 (they are never used and never get a gradient).
    """
    shapes = lenet5_shapes(variant, output, num_classes)
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in shapes.items():
        if name.endswith("_b") or name.endswith("_bias"):
            params[name] = np.zeros(shape)
        elif name.endswith("_coeff"):
            params[name] = np.full(shape, 0.25)
        else:
            fan_in = int(np.prod(shape[1:]))
            if variant == "classic":
                if name == "C3_W":
                    fan_in = C3_TABLE.sum(axis=0)[:, None, None, None] * 25
                bound = 2.4 / np.sqrt(fan_in)
                params[name] = rng.uniform(-1.0, 1.0, size=shape) * bound
            else:
                params[name] = rng.standard_normal(shape) * np.sqrt((2.0 if name != "out_W" else 1.0) / fan_in)
    if variant == "classic":
        params["C3_W"] *= _C3_MASK
    return params


def _infer(params) -> tuple[str, str]:
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict name -> array (see init_lenet5); got {type(params).__name__}")
    variant = "classic" if "S2_coeff" in params else "modern"
    output = "softmax" if "out_W" in params else "rbf"
    num_classes = params["out_W"].shape[0] if output == "softmax" and np.ndim(params["out_W"]) == 2 else 10
    expected = lenet5_shapes(variant, output, num_classes)
    missing = [k for k in expected if k not in params]
    extra = [k for k in params if k not in expected]
    if missing or extra:
        raise ValueError(
            f"params do not describe a {variant} LeNet-5 with {output} output: "
            f"missing {missing}, unexpected {extra}. Create them with init_lenet5(variant=..., output=...)"
        )
    for name, shape in expected.items():
        arr = as_float_array(params[name], f"params[{name!r}]")
        check_shape(arr, f"params[{name!r}]", shape)
    return variant, output


def lenet5_forward(params, x, centres=None):
    """Scores of LeNet-5 for a batch of 32x32 images.

    params: dict from `init_lenet5`; x (N, 1, 32, 32); centres (10, 84) RBF codes for the rbf
    output (default RBF_BITMAPS; ignored for softmax).
    Returns (scores, cache): scores (N, 10) are logits (softmax output; larger is better) or
    squared distances to the centres (rbf output; smaller is better).
    cache is a dict: "variant", "output", "acts" (name -> activation after each layer: "C1",
    "S2", "C3", "S4", "C5", "F6"; handy for plotting feature maps) and "layers"
    (name -> that layer's cache) for `lenet5_backward`.
    """
    variant, output = _infer(params)
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, 1, 32, 32)")
    check_shape(x, "x", (None, 1, 32, 32),
                "(N, 1, 32, 32): LeNet-5 reads 32x32 single-channel images (pad 28x28 digits by 2 pixels)")
    p = params
    act = scaled_tanh if variant == "classic" else relu
    layers, acts = {}, {}

    def conv(name, inp, W):
        pre, layers[name] = conv2d_forward(inp, W, p[name + "_b"])
        acts[name] = act(pre)
        return acts[name]

    def pool(name, inp):
        if variant == "classic":
            pre, layers[name] = subsample_forward(inp, p[name + "_coeff"], p[name + "_bias"])
            acts[name] = act(pre)
        else:
            acts[name], layers[name] = maxpool2d_forward(inp, 2, 2)
        return acts[name]

    h = conv("C1", x, p["C1_W"])
    h = pool("S2", h)
    h = conv("C3", h, p["C3_W"] * _C3_MASK if variant == "classic" else p["C3_W"])
    h = pool("S4", h)
    h = conv("C5", h, p["C5_W"]).reshape(x.shape[0], 120)
    pre, layers["F6"] = dense_forward(h, p["F6_W"], p["F6_b"])
    acts["F6"] = act(pre)
    if output == "softmax":
        scores, layers["out"] = dense_forward(acts["F6"], p["out_W"], p["out_b"])
    else:
        centres = RBF_BITMAPS if centres is None else as_float_array(centres, "centres", ndim=2)
        check_shape(centres, "centres", (None, 84), "(num_classes, 84): one +-1 code per class")
        diff = acts["F6"][:, None, :] - centres[None, :, :]          # (N, K, 84)
        scores = np.einsum("nkj,nkj->nk", diff, diff)
        layers["out"] = centres
    return scores, {"variant": variant, "output": output, "acts": acts, "layers": layers}


def lenet5_backward(dscores, cache) -> dict:
    """Gradients of every parameter from dL/dscores (N, 10) and the cache of `lenet5_forward`.

    Returns a dict with the keys of params. Each layer is the course's own backward function;
    the squashing function enters as dL/dpre = dL/dact * f'(pre), written with f's output.
    """
    variant, output, acts, layers = cache["variant"], cache["output"], cache["acts"], cache["layers"]
    dscores = as_float_array(dscores, "dscores", ndim=2, shape_hint="(N, num_classes)")
    grads = {}

    def dact(name, dy):
        y = acts[name]
        return dy * (scaled_tanh_grad_from_output(y) if variant == "classic" else relu_grad(y))

    if output == "softmax":
        dF6, grads["out_W"], grads["out_b"] = dense_backward(dscores, layers["out"])
    else:
        centres = layers["out"]
        f6 = acts["F6"]
        # d/dF6 of sum_k g_k |F6 - c_k|^2 = 2 (sum_k g_k) F6 - 2 g @ c
        dF6 = 2.0 * (dscores.sum(axis=1, keepdims=True) * f6 - dscores @ centres)
    dh, grads["F6_W"], grads["F6_b"] = dense_backward(dact("F6", dF6), layers["F6"])
    n = dh.shape[0]
    dh, grads["C5_W"], grads["C5_b"] = conv2d_backward(dact("C5", dh.reshape(n, 120, 1, 1)), layers["C5"])
    dh = _pool_backward("S4", dh, variant, layers, grads, dact)
    dh, grads["C3_W"], grads["C3_b"] = conv2d_backward(dact("C3", dh), layers["C3"])
    if variant == "classic":
        grads["C3_W"] = grads["C3_W"] * _C3_MASK
    dh = _pool_backward("S2", dh, variant, layers, grads, dact)
    _, grads["C1_W"], grads["C1_b"] = conv2d_backward(dact("C1", dh), layers["C1"], need_dx=False)
    order = lenet5_shapes(variant, output, grads["out_W"].shape[0] if output == "softmax" else 10)
    return {k: grads[k] for k in order}


def _pool_backward(name, dh, variant, layers, grads, dact):
    if variant == "classic":
        dh, grads[name + "_coeff"], grads[name + "_bias"] = subsample_backward(dact(name, dh), layers[name])
        return dh
    return maxpool2d_backward(dh, layers[name])


def lenet5_loss_and_grads(params, x, labels, centres=None):
    """Mean loss over the batch and the gradient of every parameter.

    softmax output: mean softmax cross-entropy of the logits.
    rbf output: mean over the batch of the correct class's RBF output, (1/N) sum_n y_{n, label_n}
      (the paper's maximum-likelihood criterion, eq. 8; the centres are fixed, so it cannot
      collapse by moving them). Prediction picks the class with the smallest y.
    Returns (loss float, grads dict with the keys of params).
    """
    scores, cache = lenet5_forward(params, x, centres)
    loss, dscores = _loss(scores, labels, cache["output"])
    return loss, lenet5_backward(dscores, cache)


def lenet5_loss(params, x, labels, centres=None) -> float:
    """The loss of `lenet5_loss_and_grads` without the backward pass (for finite differences)."""
    scores, cache = lenet5_forward(params, x, centres)
    return _loss(scores, labels, cache["output"])[0]


def _loss(scores, labels, output):
    """(mean loss, dL/dscores) for the softmax or the rbf output."""
    if output == "softmax":
        return softmax_cross_entropy(scores, labels)
    n = scores.shape[0]
    labels = check_labels(labels, "labels", n, scores.shape[1])
    dscores = np.zeros_like(scores)
    dscores[np.arange(n), labels] = 1.0 / n
    return float(np.mean(scores[np.arange(n), labels])), dscores


@single_blas_thread
def lenet5_predict(params, x, centres=None, batch_size: int = 512) -> np.ndarray:
    """Predicted class of every image of x (N, 1, 32, 32) -> (N,) ints, in batches."""
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, 1, 32, 32)")
    out = []
    for start in range(0, x.shape[0], batch_size):
        scores, cache = lenet5_forward(params, x[start:start + batch_size], centres)
        out.append(np.argmax(scores, axis=1) if cache["output"] == "softmax" else np.argmin(scores, axis=1))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def count_parameters(params, per_layer: bool = False):
    """Number of trainable numbers: all entries, except unconnected C3 kernels in the classic net.

    Returns an int, or with per_layer=True a dict layer -> count ("C1", "S2", ..., "out").
    The classic LeNet-5 has 60,000 (C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164),
    plus 850 for a softmax output layer; the RBF centres are fixed and not counted.
    """
    variant, _ = _infer(params)
    counts = {}
    for name, arr in params.items():
        layer = name.split("_")[0]
        size = int(np.size(arr))
        if name == "C3_W" and variant == "classic":
            size = int(C3_TABLE.sum()) * 25
        counts[layer] = counts.get(layer, 0) + size
    return counts if per_layer else sum(counts.values())
