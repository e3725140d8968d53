"""2-D convolution (cross-correlation) by im2col, plus a loop version for teaching.

The layer, in NCHW layout with output-major weights like `torch.nn.functional.conv2d`:

    x (N, C, H, W), W (F, C, KH, KW), b (F,)  ->  out (N, F, OH, OW)
    out[n, f, i, j] = b[f] + sum_{c, p, q} W[f, c, p, q] * xpad[n, c, i*S + p, j*S + q]

where xpad is x with `pad` zeros on every border and S is the stride. This is the formula of
Jin (2016), section 2 (u = sum_{p,q,d} w_{pqdm} y_{(p+i-1)(q+j-1)d} + b) in 0-based indices and
with a stride: a *cross-correlation*, the kernel is not flipped. Its backward pass to the input
is therefore a full *convolution* of the deltas with W (a full correlation with W rotated by
180 degrees: Jin (2016), eq. 24, and Liao (2018), section 3.4); im2col/col2im compute exactly that without ever
flipping anything.

The column matrix
-----------------
`im2col(x, kh, kw, stride, pad)` returns a matrix `cols` of shape (C*KH*KW, N*OH*OW):

* one ROW per kernel entry (c, p, q), ordered C-major: row = c*KH*KW + p*KW + q, which is
  the order of `W.reshape(F, C*KH*KW)`;
* one COLUMN per output position (n, i, j), ordered n-major: column = n*OH*OW + i*OW + j;
* cols[row(c, p, q), column(n, i, j)] = xpad[n, c, i*S + p, j*S + q].

So column (n, i, j) is the receptive field of output pixel (i, j) of sample n, unrolled, and
the whole layer is ONE matrix product:  out_matrix (F, N*OH*OW) = W.reshape(F, -1) @ cols + b.
This is Jin (2016)'s matrix A (K*K*n_in rows, (H-K+1)(W-K+1)*batch_size columns, built there by
MATLAB's im2col(..., 'sliding') per channel and sample) and its U = W * A + b, generalised to
stride and padding.

`col2im(cols, x_shape, kh, kw, stride, pad)` is the adjoint (transpose) of im2col: every entry
of a column matrix is added back to the input pixel it was copied from, so pixels shared by
overlapping windows accumulate the sum of their gradients. Padding entries are dropped.
Max pooling, average pooling and LeNet-5's subsampling (backprop.pool) use the same pair.

Two pieces of the pair are public for speed-minded callers: `window_view` is the strided view
of all windows that im2col copies (a reduction over it needs no copy), and `scatter_windows`
is col2im's loop over the KH*KW kernel offsets, fed one offset's rows at a time, so a backward
pass need not store a whole column matrix (conv2d_backward's dx and max pooling do this).
"""
from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import as_float_array, check_shape

__all__ = [
    "conv_output_size", "im2col", "col2im", "window_view", "scatter_windows",
    "conv2d_forward", "conv2d_backward",
    "conv2d_naive_forward", "conv2d_naive_backward",
]


# --------------------------------------------------------------------------- sizes
def check_int(value, name: str, minimum: int) -> int:
    """`value` as an int >= minimum (Python or numpy integer), else ValueError naming `name`."""
    if type(value) is int and value >= minimum:  # the common case, without the slow ABC check
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def conv_output_size(size, kernel, stride=1, pad=0, *, what: str = "input size") -> int:
    """Output length of a sliding window along one axis: (size + 2 pad - kernel) / stride + 1.

    All arguments are integers (stride >= 1, pad >= 0). Jin (2016) writes
    W2 = (W1 - K + 2P)/S + 1; here the division must be exact: a window that would hang over
    the (padded) border is an error rather than silently dropped, so a student never loses the
    last rows of an image without noticing. The ValueError names the nearest input sizes that
    fit. `what` names the axis in messages ("height", "width").
    """
    size = check_int(size, "size", 1)
    kernel = check_int(kernel, "kernel", 1)
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    padded = size + 2 * pad
    if kernel > padded:
        raise ValueError(
            f"kernel {kernel} is larger than the padded {what} {padded} (= {size} + 2*{pad}); "
            f"use a kernel of at most {padded} or pad by at least {(kernel - size + 1) // 2}"
        )
    rest = (padded - kernel) % stride
    if rest:
        smaller = size - rest
        larger = size + stride - rest
        fits = f"{what} {smaller} or {larger}" if smaller >= 1 else f"{what} {larger}"
        raise ValueError(
            f"{what} {size} does not fit kernel {kernel}, stride {stride}, pad {pad}: "
            f"({size} + 2*{pad} - {kernel}) = {padded - kernel} is not divisible by the stride {stride}, "
            f"so the last window would hang over the border. Sizes that fit: {fits} "
            f"(or change the stride or the padding)"
        )
    return (padded - kernel) // stride + 1


# --------------------------------------------------------------------------- im2col / col2im
def window_geometry(x_shape, kh, kw, stride, pad):
    """(n, c, h, w, oh, ow) of sliding a kh x kw window over x_shape (N, C, H, W); shared by conv and pool."""
    n, c, h, w = x_shape
    oh = conv_output_size(h, kh, stride, pad, what="height")
    ow = conv_output_size(w, kw, stride, pad, what="width")
    return n, c, h, w, oh, ow


def im2col(x, kh, kw, stride=1, pad=0):
    """Unroll every receptive field of x into a column.

    x (N, C, H, W), kernel KH x KW, stride, zero padding  ->  cols (C*KH*KW, N*OH*OW),
    cols[c*KH*KW + p*KW + q, n*OH*OW + i*OW + j] = xpad[n, c, i*stride + p, j*stride + q].
    The dtype of x is kept. No loop over pixels: a strided window view, one copy.
    """
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    kh = check_int(kh, "kh", 1)
    kw = check_int(kw, "kw", 1)
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    n, c, _, _, oh, ow = window_geometry(x.shape, kh, kw, stride, pad)
    # (N, C, OH, OW, KH, KW) view, reordered to (C, KH, KW, N, OH, OW) and copied once
    cols = np.ascontiguousarray(window_view(x, kh, kw, stride, pad).transpose(1, 4, 5, 0, 2, 3))
    return cols.reshape(c * kh * kw, n * oh * ow)


def window_view(x, kh, kw, stride=1, pad=0):
    """All receptive fields of x as a read-only strided VIEW (no copy when pad = 0).

    x (N, C, H, W) -> windows (N, C, OH, OW, KH, KW), windows[n, c, i, j] = the KH x KW patch of
    (padded) x that output pixel (i, j) reads. im2col is this view reordered and copied;
    pooling reduces over its last two axes directly.
    """
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def col2im(cols, x_shape, kh, kw, stride=1, pad=0):
    """Adjoint of `im2col`: scatter-add every column entry back to its input pixel.

    cols (C*KH*KW, N*OH*OW), x_shape = (N, C, H, W)  ->  dx (N, C, H, W) with
    dx[n, c, h, w] = sum of cols[row(c, p, q), col(n, i, j)] over all (p, q, i, j) with
    i*stride + p - pad = h and j*stride + q - pad = w. Overlapping windows accumulate;
    entries that fell on the zero padding are dropped. Satisfies
    <im2col(x), cols> == <x, col2im(cols)> for every x and cols.
    The loop runs over the KH*KW kernel offsets only (each a strided add over all pixels).
    """
    cols = as_float_array(cols, "cols", ndim=2, shape_hint="(C*KH*KW, N*OH*OW)")
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W); got {tuple(x_shape)}")
    kh = check_int(kh, "kh", 1)
    kw = check_int(kw, "kw", 1)
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    n, c, h, w, oh, ow = window_geometry(tuple(int(s) for s in x_shape), kh, kw, stride, pad)
    check_shape(cols, "cols", (c * kh * kw, n * oh * ow),
                f"(C*KH*KW, N*OH*OW) for x_shape {tuple(x_shape)}, kernel {kh}x{kw}, stride {stride}, pad {pad}")
    blocks = cols.reshape(c, kh, kw, n, oh, ow)
    return scatter_windows(lambda p, q: blocks[:, p, q], (n, c, h, w), kh, kw, stride, pad, cols.dtype)


def scatter_windows(block, x_shape, kh, kw, stride=1, pad=0, dtype=np.float64):
    """The loop inside col2im, for callers that produce the column matrix piece by piece.

    block(p, q) returns the rows of the column matrix for kernel offset (p, q), arranged as
    (C, N, OH, OW) (anything that broadcasts to it). They are added into the (padded) image at
    rows p + stride*i and columns q + stride*j; the result is dx (N, C, H, W). So
    col2im(cols) = scatter_windows(lambda p, q: cols.reshape(C, KH, KW, N, OH, OW)[:, p, q]).
    conv2d_backward and max pooling use it to avoid storing the whole column matrix.
    When the windows tile the image (kernel = stride, no padding, e.g. 2x2 pooling with
    stride 2) every pixel belongs to exactly one window and the adds become plain writes.
    """
    n, c, h, w = x_shape
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    hi, wi = stride * (oh - 1) + 1, stride * (ow - 1) + 1
    tiles = kh == kw == stride and pad == 0 and (h, w) == (oh * kh, ow * kw)
    dxt = (np.empty if tiles else np.zeros)((c, n, h + 2 * pad, w + 2 * pad), dtype=dtype)
    for p in range(kh):
        for q in range(kw):
            if tiles:
                dxt[:, :, p:p + hi:stride, q:q + wi:stride] = block(p, q)
            else:
                dxt[:, :, p:p + hi:stride, q:q + wi:stride] += block(p, q)
    if pad:
        dxt = dxt[:, :, pad:pad + h, pad:pad + w]
    return np.ascontiguousarray(dxt.transpose(1, 0, 2, 3))


# --------------------------------------------------------------------------- convolution
def _check_conv_inputs(x, W, b, stride, pad):
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    W = as_float_array(W, "W", ndim=4, shape_hint="(F, C, KH, KW)")
    b = as_float_array(b, "b", ndim=1, shape_hint="(F,)")
    stride = check_int(stride, "stride", 1)
    pad = check_int(pad, "pad", 0)
    if W.shape[1] != x.shape[1]:
        raise ValueError(
            f"W has {W.shape[1]} input channels but x has {x.shape[1]}: W must have shape (F, C, KH, KW) "
            f"with C = x.shape[1] = {x.shape[1]}; got W of shape {W.shape}"
        )
    check_shape(b, "b", (W.shape[0],), f"(F,): one bias per output channel, and W has F={W.shape[0]} filters")
    window_geometry(x.shape, W.shape[2], W.shape[3], stride, pad)
    return x, W, b, stride, pad


def conv2d_forward(x, W, b, stride=1, pad=0):
    """Cross-correlation of x with W plus one bias per output channel, by im2col.

    x (N, C, H, W), W (F, C, KH, KW), b (F,), stride >= 1, pad >= 0 zeros on each border
    ->  out (N, F, OH, OW) with OH = (H + 2 pad - KH)/stride + 1 (and OW likewise).
    cache = (x, W, b, stride, pad, cols) where cols = im2col(x) has shape (C*KH*KW, N*OH*OW).
    Agrees with torch.nn.functional.conv2d(x, W, b, stride, pad).
    """
    x, W, b, stride, pad = _check_conv_inputs(x, W, b, stride, pad)
    n = x.shape[0]
    f, _, kh, kw = W.shape
    _, _, _, _, oh, ow = window_geometry(x.shape, kh, kw, stride, pad)
    cols = im2col(x, kh, kw, stride, pad)
    out = W.reshape(f, -1) @ cols                        # (F, N*OH*OW)
    out += b[:, None]
    out = out.reshape(f, n, oh, ow).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(out), (x, W, b, stride, pad, cols)


_CHUNK = 4096
"""Columns per block in dW's product: BLAS is slow on one long inner dimension, fast on blocks."""


def conv2d_backward(dout, cache, *, need_dx=True):
    """Gradients of `conv2d_forward`.

    dout (N, F, OH, OW) = dL/dout; cache from `conv2d_forward`. Returns
      dx (N, C, H, W)      = col2im(W_mat.T @ dout_mat): every output gradient is sent back
                             through the kernel entry that produced it; as a formula, a full
                             convolution of dout with W (Jin 2016, eq. 24);
      dW (F, C, KH, KW)    = dout_mat @ cols.T: correlation of the input with dout (Jin 2016, eq. 27);
      db (F,)              = dout summed over batch and positions (Jin 2016, eq. 29),
    where dout_mat is dout arranged as (F, N*OH*OW) and W_mat = W.reshape(F, C*KH*KW).
    need_dx=False skips dx (returned as None): a network's first layer needs no dx.
    """
    x, W, _, stride, pad, cols = cache
    f, c, kh, kw = W.shape
    n = x.shape[0]
    oh, ow = window_geometry(x.shape, kh, kw, stride, pad)[4:]
    dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, F, OH, OW)")
    check_shape(dout, "dout", (n, f, oh, ow), "(N, F, OH, OW): the shape of conv2d_forward's output")
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(f, n * oh * ow)
    db = dout_mat.sum(axis=1)
    dW = np.zeros((f, c * kh * kw), dtype=np.result_type(dout_mat, cols))
    for start in range(0, cols.shape[1], _CHUNK):
        dW += dout_mat[:, start:start + _CHUNK] @ cols[:, start:start + _CHUNK].T
    dx = None
    if need_dx:
        # dx = col2im(W_mat.T @ dout_mat), one kernel offset at a time: the rows of the product
        # for offset (p, q) are W[:, :, p, q].T @ dout_mat, so the (C*KH*KW, N*OH*OW) matrix is
        # never stored (less memory traffic, about a third faster at LeNet's C1 and C3)
        w_offsets = np.ascontiguousarray(W.transpose(2, 3, 1, 0))          # (KH, KW, C, F)
        dx = scatter_windows(lambda p, q: (w_offsets[p, q] @ dout_mat).reshape(c, n, oh, ow),
                             x.shape, kh, kw, stride, pad, np.result_type(W, dout_mat))
    return dx, dW.reshape(W.shape), db


# --------------------------------------------------------------------------- loops, for teaching
def conv2d_naive_forward(x, W, b, stride=1, pad=0):
    """The same layer written with plain loops over samples, filters and output pixels.

    Slow (use it on small inputs) but reads like the formula; the tests use it as an oracle.
    Same shapes as `conv2d_forward`; cache = (x, W, b, stride, pad).
    """
    x, W, b, stride, pad = _check_conv_inputs(x, W, b, stride, pad)
    n, _, _, _ = x.shape
    f, _, kh, kw = W.shape
    _, _, _, _, oh, ow = window_geometry(x.shape, kh, kw, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, f, oh, ow), dtype=np.result_type(x, W, b))
    for s in range(n):
        for k in range(f):
            for i in range(oh):
                for j in range(ow):
                    window = xpad[s, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[s, k, i, j] = np.sum(window * W[k]) + b[k]
    return out, (x, W, b, stride, pad)


def conv2d_naive_backward(dout, cache):
    """Loop version of `conv2d_backward`: each output pixel sends its gradient back to the
    window it was computed from (dx) and to the kernel (dW, weighted by the window).

    Returns (dx (N, C, H, W), dW (F, C, KH, KW), db (F,)).
    """
    x, W, _, stride, pad = cache
    n = x.shape[0]
    f, _, kh, kw = W.shape
    _, _, h, w, oh, ow = window_geometry(x.shape, kh, kw, stride, pad)
    dout = as_float_array(dout, "dout", ndim=4, shape_hint="(N, F, OH, OW)")
    check_shape(dout, "dout", (n, f, oh, ow), "(N, F, OH, OW): the shape of conv2d_forward's output")
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxpad = np.zeros_like(xpad)
    dW = np.zeros_like(W)
    db = np.zeros(f, dtype=dout.dtype)
    for s in range(n):
        for k in range(f):
            for i in range(oh):
                for j in range(ow):
                    g = dout[s, k, i, j]
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    dW[k] += g * xpad[s, :, rows, cols]
                    dxpad[s, :, rows, cols] += g * W[k]
                    db[k] += g
    return dxpad[:, :, pad:pad + h, pad:pad + w].copy(), dW, db
