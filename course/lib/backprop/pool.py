"""Pooling layers: max, average, and LeNet-5's trainable subsampling.

All three work channel by channel on x (N, C, H, W) with a `size` x `size` window moved by
`stride` (stride < size gives overlapping windows), and all three reuse the im2col/col2im
machinery of `backprop.conv`. Picture the channels folded into the batch,
x -> (N*C, 1, H, W): im2col then gives one column per output pixel and one row per window
entry (size*size rows in row-major window order, N*C*OH*OW columns). Pooling is a reduction
over the rows of that matrix, and its backward pass fills a column matrix of gradients and
lets col2im add them back; where windows overlap, a pixel collects the gradients of every
window it is in.

The code takes two shortcuts through the same machinery, for speed: the forward passes
reduce `window_view` (the strided view of the windows that im2col copies into its matrix)
without copying it, and max pooling's backward hands col2im's loop (`scatter_windows`) one
row of the gradient matrix at a time instead of the whole, mostly zero, matrix.

Ties in max pooling. When several entries of a window share the maximum, the FIRST one in
row-major window order (smallest row, then smallest column; what np.argmax picks) is the one that
was "selected" and receives the whole gradient; the others get zero. Any split of the
gradient among the tied entries is a valid subgradient; this is the rule of most libraries.
A finite difference across a tie measures neither, so the gradient checker skips such entries.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_shape
from .conv import check_int, col2im, scatter_windows, window_geometry, window_view

__all__ = [
    "maxpool2d_forward", "maxpool2d_backward",
    "avgpool2d_forward", "avgpool2d_backward",
    "subsample_forward", "subsample_backward",
]


def _check_pool(x, size, stride):
    """Validate and return (x, size, stride, out shape (N, C, OH, OW))."""
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    size = check_int(size, "size", 1)
    stride = check_int(stride, "stride", 1)
    n, c = x.shape[:2]
    oh, ow = window_geometry(x.shape, size, size, stride, 0)[4:]
    return x, size, stride, (n, c, oh, ow)


def _window_sums(x, size, stride):
    """Sum of every window, (N, C, OH, OW), from im2col's window view without copying it.

    One whole-array add per window offset (size*size of them): numpy is much faster at that
    than at reducing the view's two tiny trailing axes.
    """
    windows = window_view(x, size, size, stride)
    sums = windows[..., 0, 0].copy()
    for p in range(size):
        for q in range(size):
            if p or q:
                sums += windows[..., p, q]
    return sums


def _check_dout(dout, out_shape, layer):
    dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, C, OH, OW)")
    check_shape(dout, "dout", out_shape, f"(N, C, OH, OW): the shape of {layer}'s output")
    return dout


def _cols_to_image(dcols, x_shape, size, stride):
    n, c, h, w = x_shape
    return col2im(dcols, (n * c, 1, h, w), size, size, stride, 0).reshape(x_shape)


# --------------------------------------------------------------------------- max pooling
def maxpool2d_forward(x, size=2, stride=2):
    """Maximum of each size x size window, per channel.

    x (N, C, H, W) -> out (N, C, OH, OW), OH = (H - size)/stride + 1 (must be exact).
    cache = (x.shape, size, stride, argmax) with argmax (N, C, OH, OW) the position of the
    winner in its window, p * size + q (row-major window order, the row of im2col's matrix);
    on ties the first maximum in that order wins.
    """
    x, size, stride, _ = _check_pool(x, size, stride)
    windows = window_view(x, size, size, stride)
    out = windows[..., 0, 0].copy()
    argmax = np.zeros(out.shape, dtype=np.int16 if size * size < 2 ** 15 else np.intp)
    better = np.empty(out.shape, dtype=bool)
    for k in range(1, size * size):           # one whole-array pass per window entry
        candidate = windows[..., k // size, k % size]
        np.greater(candidate, out, out=better)  # strictly: an equal later entry never wins
        np.copyto(out, candidate, where=better)
        np.copyto(argmax, k, where=better)
    return out, (x.shape, size, stride, argmax)


def maxpool2d_backward(dout, cache):
    """dx (N, C, H, W): each output gradient goes to the entry that won its window (first
    maximum on ties, see the module docstring); overlapping windows add up. dout (N, C, OH, OW).

    This is col2im of the column matrix that holds dout in each window's winning row and
    zeros elsewhere, built one window entry (one row) at a time.
    """
    x_shape, size, stride, argmax = cache
    dout = _check_dout(dout, argmax.shape, "maxpool2d_forward")
    n, c, h, w = x_shape
    zero = np.zeros((), dtype=dout.dtype)

    def row(p, q):
        return np.where(argmax == p * size + q, dout, zero).reshape(1, n * c, *argmax.shape[2:])

    return scatter_windows(row, (n * c, 1, h, w), size, size, stride, 0, dout.dtype).reshape(x_shape)


# --------------------------------------------------------------------------- average pooling
def avgpool2d_forward(x, size=2, stride=2):
    """Mean of each size x size window, per channel.

    x (N, C, H, W) -> out (N, C, OH, OW). cache = (x.shape, size, stride).
    """
    x, size, stride, _ = _check_pool(x, size, stride)
    return _window_sums(x, size, stride) / (size * size), (x.shape, size, stride)


def avgpool2d_backward(dout, cache):
    """dx (N, C, H, W): each output gradient is shared equally, 1/size^2 to every window entry;
    overlapping windows add up. dout (N, C, OH, OW)."""
    x_shape, size, stride = cache
    n, c = x_shape[:2]
    out_shape = (n, c) + window_geometry(x_shape, size, size, stride, 0)[4:]
    dout = _check_dout(dout, out_shape, "avgpool2d_forward")
    row = dout.reshape(1, -1) / (size * size)
    dcols = np.broadcast_to(row, (size * size, row.shape[1]))   # every window entry gets the same share
    return _cols_to_image(dcols, x_shape, size, stride)


# --------------------------------------------------------------------------- LeNet-5 subsampling
def subsample_forward(x, coeff, bias, size=2, stride=None):
    """LeNet-5's trainable subsampling (layers S2 and S4), without the squashing function.

    out[n, c] = coeff[c] * (sum of each size x size window of x[n, c]) + bias[c]

    x (N, C, H, W), coeff (C,), bias (C,); stride defaults to size (non-overlapping windows,
    as in LeNet-5) -> out (N, C, OH, OW). cache = (x.shape, size, stride, coeff, window_sums)
    with window_sums (N, C, OH, OW).

    LeCun et al. (1998) add the four inputs and multiply by one trainable coefficient per map;
    Liao (2018) writes the same layer as omega * MeanPool(Y) + a. The two are one layer with the
    coefficient scaled by 4 (omega = 4 coeff), so Liao's dL/dY = (omega / 4) (...) is our
    coeff * (...) below.
    """
    stride = size if stride is None else stride
    x, size, stride, _ = _check_pool(x, size, stride)
    c = x.shape[1]
    coeff = as_float_array(coeff, "coeff", ndim=1, shape_hint="(C,)")
    bias = as_float_array(bias, "bias", ndim=1, shape_hint="(C,)")
    check_shape(coeff, "coeff", (c,), f"(C,): one coefficient per channel, and x has C={c} channels")
    check_shape(bias, "bias", (c,), f"(C,): one bias per channel, and x has C={c} channels")
    sums = _window_sums(x, size, stride)
    out = coeff[None, :, None, None] * sums + bias[None, :, None, None]
    return out, (x.shape, size, stride, coeff, sums)


def subsample_backward(dout, cache):
    """Gradients of `subsample_forward`.

    dout (N, C, OH, OW). Returns
      dx (N, C, H, W)  = coeff[c] * dout[n, c, i, j] copied to every entry of window (i, j);
      dcoeff (C,)      = sum over n, i, j of dout * window_sums  (Liao 2018: sum(dL/dX~ . MeanPool(Y)), times 1/4);
      dbias (C,)       = sum over n, i, j of dout.
    With the squashing function applied afterwards, dout here is already dL/dX (.) g'(X~).
    """
    x_shape, size, stride, coeff, sums = cache
    dout = _check_dout(dout, sums.shape, "subsample_forward")
    dcoeff = np.einsum("nchw,nchw->c", dout, sums)
    dbias = dout.sum(axis=(0, 2, 3))
    row = (dout * coeff[None, :, None, None]).reshape(1, -1)
    dcols = np.broadcast_to(row, (size * size, row.shape[1]))
    return _cols_to_image(dcols, x_shape, size, stride), dcoeff, dbias
