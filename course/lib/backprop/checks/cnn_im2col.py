"""Checks of notebook 04_cnn_im2col: convolution by im2col, its backward pass, the kernel flip, max pooling.

Layout NCHW; kernels W (F, C, KH, KW); cols = im2col(x) (C*KH*KW, N*OH*OW) with rows (c, p, q) and
columns (n, i, j), each in that order.

    check_output_size(output_size)                  (size, kernel, stride, pad) -> int
    check_my_im2col(my_im2col)                      (x, kh, kw, stride, pad) -> cols
    check_my_col2im(my_col2im)                      (dcols, x_shape, kh, kw, stride, pad) -> dx
    check_conv_forward(conv_forward)                (x, W, b, stride, pad) -> (out, cache)
    check_conv_backward(conv_backward)              (dout, cache) -> (dx, dW, db)
    check_dx_as_written(dx_as_written)              Jin (2016)'s summary read literally: refuted
    check_dx_full_convolution(dx_full_convolution)  eq. 24: full convolution with the flipped kernel
    check_maxpool_backward(maxpool_backward)        (dout, cache) -> dx

Every check takes `cases=None` (the visible cases) or a list of dicts with other shapes and seeds.
Each slip catalogue (`<FUNCTION>_SLIPS`) is the library's reference with one typical mistake.
"""
from __future__ import annotations

import numpy as np

from ..conv import col2im, conv2d_forward, im2col, window_view
from ..explain import Stage
from ..grading import (BadReturn, WrongValue, call_student, check_layer_backward, check_value_slips, expect_wrong,
                       random_inputs)
from ..pool import maxpool2d_forward
from ..slips import Slip, results_agree, slip_of, slip_values
from . import Exercise, bind_slips, run_cases

__all__ = [
    "check_output_size", "check_my_im2col", "check_my_col2im", "check_conv_forward",
    "check_conv_backward", "check_dx_as_written", "check_dx_full_convolution", "check_maxpool_backward",
    "EXERCISES",
]


_OWN = "checks.cnn_im2col."
"""Prefix for `also=`: the references of this module are switched off like the library's while a student's
function runs, so that calling one earns no credit either."""


# ------------------------------------------------------------------------------------------------
# Exercise 1: the output size, with the floor
# ------------------------------------------------------------------------------------------------

def reference_output_size(size, kernel, stride=1, pad=0, slip=None):
    """floor((size + 2 pad - kernel) / stride) + 1; `slip` adds one typical mistake."""
    span = size + (pad if slip == "pad_once" else 2 * pad) - kernel
    if slip == "no_floor":
        return span / stride + 1
    if slip == "ceil":
        return -(-span // stride) + 1
    if slip == "no_plus_one":
        return span // stride
    if slip == "no_stride":
        return span + 1
    return span // stride + 1


OUTPUT_SIZE_SLIPS = tuple(slip_of(reference_output_size, key, words) for key, words in (
    ("no_floor", "you divided with / and kept the fraction: Jin (2016)'s (W1 - K + 2P)/S + 1 needs a floor when "
                 "the stride does not divide size + 2 pad - kernel. Use floor division //."),
    ("ceil", "you rounded the division up: a window that would hang over the border does not count, so round "
             "down (floor division //)."),
    ("no_plus_one", "the + 1 is missing: the first window starts at 0, so there is one more window than there "
                    "are strides."),
    ("pad_once", "you added the padding once: it goes on both sides, size + 2 * pad."),
    ("no_stride", "the stride is missing: the windows start at 0, S, 2S, ..., so divide by the stride."),
))


def check_output_size(output_size, cases=None):
    """Compare output_size(size, kernel, stride, pad) with the floor formula on each case; any integer type
    (Python int, numpy integer, 0-d integer array, a whole-number float) is accepted. A slip is named when
    it gives the student's answer on every case."""
    __tracebackhide__ = True
    args = []
    run_cases(lambda size, kernel, stride, pad: args.append((size, kernel, stride, pad)), cases, [
        dict(size=7, kernel=3, stride=2, pad=1), dict(size=32, kernel=5, stride=1, pad=0),
        dict(size=8, kernel=3, stride=2, pad=0), dict(size=6, kernel=3, stride=1, pad=2)])
    got = [call_student(output_size, *a, also=("conv_output_size", _OWN + "reference_output_size")) for a in args]
    consistent = [s for s in OUTPUT_SIZE_SLIPS
                  if all(results_agree(g, s.fn(*a)) for a, g in zip(args, got))]
    for a, g in zip(args, got):
        check_value_slips(g, reference_output_size(*a), slips=[(s, s.fn(*a)) for s in consistent],
                          name=f"output_size{a}", what="integer",
                          hint="The formula is floor((size + 2*pad - kernel) / stride) + 1.")


# ------------------------------------------------------------------------------------------------
# Exercise 2: im2col
# ------------------------------------------------------------------------------------------------

def reference_im2col(x, kh, kw, stride=1, pad=0, slip=None):
    """cols (C*kh*kw, N*OH*OW) of x (N, C, H, W); `slip` adds one typical mistake. Built from the strided
    window view (the library's im2col is switched off while this exercise is checked)."""
    N, C, H, W = x.shape
    OH, OW = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
    step = 1 if slip == "no_stride" else stride
    windows = window_view(x, kh, kw, step, pad)[:, :, :OH, :OW]       # (N, C, OH, OW, kh, kw)
    blocks = windows.transpose(1, 4, 5, 0, 2, 3).reshape(C, kh, kw, N, OH * OW)
    if slip == "kernel_major":
        blocks = blocks.transpose(1, 2, 0, 3, 4)           # rows (p, q, c)
    elif slip == "q_before_p":
        blocks = blocks.transpose(0, 2, 1, 3, 4)           # rows (c, q, p)
    elif slip == "sample_last":
        blocks = blocks.transpose(0, 1, 2, 4, 3)           # columns (i, j, n)
    return np.ascontiguousarray(blocks).reshape(C * kh * kw, -1)


MY_IM2COL_SLIPS = (
    slip_of(reference_im2col, "kernel_major", "your rows are in the order (p, q, c), kernel position first: "
          "im2col's rows are (c, p, q), channel first, to match W.reshape(F, C*KH*KW). Build a "
          "(C, kh, kw, N, OH, OW) array before the reshape."),
    slip_of(reference_im2col, "q_before_p", "your rows are in the order (c, q, p): the kernel row p comes before "
          "the kernel column q, row index c*kh*kw + p*kw + q."),
    slip_of(reference_im2col, "sample_last", "your columns are in the order (i, j, n), sample last: the columns are "
          "(n, i, j), one block of OH*OW columns per sample. Move the sample axis before OH, OW before reshaping."),
    slip_of(reference_im2col, "no_stride", "the stride is missing: your windows start at every pixel. Window (i, j) "
          "starts at row i*stride, column j*stride: slice xpad[:, :, p : p + stride*OH : stride, ...]."),
)


def _check_im2col_case(my_im2col, shape, kh, kw, stride, pad, seed):
    x = random_inputs({"x": shape}, seed=seed)["x"]
    got = call_student(my_im2col, x.copy(), kh, kw, stride, pad, also=("im2col", _OWN + "reference_im2col"))
    check_value_slips(got, im2col(x, kh, kw, stride, pad), slips=slip_values(MY_IM2COL_SLIPS, x, kh, kw, stride, pad),
                      name=f"my_im2col(x of shape {shape}, kernel {kh}x{kw}, stride {stride}, pad {pad})",
                      hint="Rows are (c, p, q) and columns (n, i, j), both in that order (see the formula above).")


def check_my_im2col(my_im2col, cases=None):
    """Compare my_im2col(x, kh, kw, stride, pad) with the library's im2col on each case
    (shape, kh, kw, stride, pad, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_im2col_case(my_im2col, **c), cases, [
        dict(shape=(2, 3, 5, 5), kh=3, kw=3, stride=1, pad=1, seed=0),
        dict(shape=(2, 2, 7, 7), kh=3, kw=3, stride=2, pad=1, seed=1)])


# ------------------------------------------------------------------------------------------------
# Exercise 3: col2im, the adjoint of im2col
# ------------------------------------------------------------------------------------------------

def _padded_buffer(dcols, x_shape, kh, kw, stride, pad, offsets_stride=None):
    """Every entry of dcols added into the padded image, (N, C, H + 2 pad, W + 2 pad), nothing cropped.
    offsets_stride: the step between windows (default stride; 1 for the slip that forgets it)."""
    N, C, H, W = x_shape
    OH, OW = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
    blocks = dcols.reshape(C, kh, kw, N, OH, OW)
    s = stride if offsets_stride is None else offsets_stride
    buffer = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for p in range(kh):
        for q in range(kw):
            buffer[:, :, p:p + s * (OH - 1) + 1:s, q:q + s * (OW - 1) + 1:s] += blocks[:, p, q].transpose(1, 0, 2, 3)
    return buffer


def _col2im_loop(dcols, x_shape, kh, kw, stride, pad, slip):
    """The notebook's plan (a loop over the output positions) with one slip in the border or the add."""
    N, C, H, W = x_shape
    OH, OW = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
    blocks = dcols.reshape(C, kh, kw, N, OH, OW)
    dx = np.zeros(x_shape)
    for i in range(OH):
        r0 = i * stride - pad
        r_lo, r_hi = max(r0, 0), min(r0 + kh, H)
        for j in range(OW):
            c0 = j * stride - pad
            c_lo, c_hi = max(c0, 0), min(c0 + kw, W)
            if slip == "border_first_rows":   # kernel rows counted from 0 instead of r_lo - r0
                window = blocks[:, :r_hi - r_lo, :c_hi - c_lo, :, i, j]
            else:
                window = blocks[:, r_lo - r0:r_hi - r0, c_lo - c0:c_hi - c0, :, i, j]
            if slip == "overwrite":
                dx[:, :, r_lo:r_hi, c_lo:c_hi] = window.transpose(3, 0, 1, 2)
            else:
                dx[:, :, r_lo:r_hi, c_lo:c_hi] += window.transpose(3, 0, 1, 2)
    return dx


def reference_col2im(dcols, x_shape, kh, kw, stride=1, pad=0, slip=None):
    """dx (N, C, H, W) from dcols (C*kh*kw, N*OH*OW); `slip` adds one typical mistake."""
    N, C, H, W = x_shape
    if slip in ("border_first_rows", "overwrite"):
        return _col2im_loop(dcols, x_shape, kh, kw, stride, pad, slip)
    if slip in ("crop_late", "crop_early"):
        start = pad + (1 if slip == "crop_late" else -1)
        if start < 0:
            raise ValueError("this slip needs pad >= 1")
        dx = _padded_buffer(dcols, x_shape, kh, kw, stride, pad)[:, :, start:start + H, start:start + W]
        if dx.shape != tuple(x_shape):
            raise ValueError("the crop runs past the buffer")
        return dx
    if slip == "kernel_major":
        OH, OW = (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1
        dcols = dcols.reshape(kh, kw, C, N * OH * OW).transpose(2, 0, 1, 3).reshape(C * kh * kw, -1)
    buffer = _padded_buffer(dcols, x_shape, kh, kw, stride, pad, 1 if slip == "no_stride" else None)
    return buffer if slip == "padding_kept" else buffer[:, :, pad:pad + H, pad:pad + W]


_CROP = ("your col2im crop is one pixel off: after adding into the padded buffer, keep rows and columns "
         "pad .. pad + H - 1, i.e. dxpad[:, :, pad:pad + H, pad:pad + W]")
MY_COL2IM_SLIPS = (
    slip_of(reference_col2im, "crop_late", _CROP + " (yours starts at pad + 1)."),
    slip_of(reference_col2im, "crop_early", _CROP + " (yours starts at pad - 1)."),
    slip_of(reference_col2im, "padding_kept", "you returned the padded buffer: crop the padding off. It is a "
          "constant, not part of x, so the gradient that lands on it is dropped."),
    slip_of(reference_col2im, "border_first_rows", "where a window hangs over the border you took its first kernel "
          "rows (or columns); the rows that lie on real pixels are r - r0 for max(r0, 0) <= r < min(r0 + kh, H)."),
    slip_of(reference_col2im, "overwrite", "where windows overlap you overwrote the pixel (=) instead of adding "
          "(+=): a pixel shared by several windows collects the sum of their gradients."),
    slip_of(reference_col2im, "no_stride", "the stride is missing in your col2im: window (i, j) starts at row "
          "i*stride - pad and column j*stride - pad, not at i - pad, j - pad."),
    slip_of(reference_col2im, "kernel_major", "you read the rows of dcols in the order (p, q, c): im2col's rows are "
          "(c, p, q), so reshape dcols to (C, kh, kw, N, OH, OW)."),
)


def _col2im_wrap(fn):
    return lambda dcols, cache: fn(dcols, *cache)


def _check_col2im_case(my_col2im, shape, kh, kw, stride, pad, seed):
    # the gradient of x -> <im2col(x), D> is col2im(D): checked against finite differences
    check_layer_backward(
        _col2im_wrap(my_col2im), lambda x: (im2col(x, kh, kw, stride, pad), (x.shape, kh, kw, stride, pad)),
        random_inputs({"x": shape}, seed=seed), "x", seed=seed, layout={"x": "NCHW"},
        name="my_col2im", also=("col2im", _OWN + "reference_col2im"), slips=bind_slips(MY_COL2IM_SLIPS, _col2im_wrap))


def check_my_col2im(my_col2im, cases=None):
    """Finite-difference check of my_col2im(dcols, x_shape, kh, kw, stride, pad) as the gradient of
    x -> <im2col(x), dcols>, on each case (shape, kh, kw, stride, pad, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_col2im_case(my_col2im, **c), cases, [
        dict(shape=(2, 2, 7, 7), kh=3, kw=3, stride=1, pad=1, seed=0),
        dict(shape=(2, 1, 7, 7), kh=3, kw=3, stride=2, pad=1, seed=1)])


# ------------------------------------------------------------------------------------------------
# Exercise 4: the forward pass through im2col
# ------------------------------------------------------------------------------------------------

def reference_conv_forward(x, W, b, stride=1, pad=0, slip=None):
    """(out (N, F, OH, OW), cache (x, W, b, stride, pad, cols)); `slip` adds one typical mistake."""
    N, F = x.shape[0], W.shape[0]
    if slip == "flipped":
        W = W[:, :, ::-1, ::-1]
    OH = (x.shape[2] + 2 * pad - W.shape[2]) // stride + 1
    OW = (x.shape[3] + 2 * pad - W.shape[3]) // stride + 1
    cols = im2col(x, W.shape[2], W.shape[3], stride, pad)
    W_mat = W.transpose(0, 2, 3, 1).reshape(F, -1) if slip == "W_kernel_major" else W.reshape(F, -1)
    if slip == "cols_first":
        out = (cols.T @ W_mat.T).reshape(F, -1) + b[:, None]
    else:
        out = W_mat @ cols + (0.0 if slip == "no_bias" else b[:, None])
    if slip == "reshape_no_transpose":
        return out.reshape(N, F, OH, OW), (x, W, b, stride, pad, cols)
    out = out.reshape(F, N, OH, OW).transpose(1, 0, 2, 3)
    return out, (x, W, b, stride, pad, cols)


CONV_FORWARD_SLIPS = (
    slip_of(reference_conv_forward, "reshape_no_transpose", "you reshaped the (F, N*OH*OW) product straight to "
          "(N, F, OH, OW). Its columns are (n, i, j) and the filter axis comes first: reshape to (F, N, OH, OW), "
          "then move the batch axis to the front with transpose(1, 0, 2, 3)."),
    slip_of(reference_conv_forward, "flipped", "you flipped the kernel (a true convolution). The layer is a "
          "cross-correlation: use W as it is, entry (0, 0) on the window's top-left pixel."),
    slip_of(reference_conv_forward, "no_bias", "the bias is missing: add b[:, None] to the (F, N*OH*OW) product, "
          "one bias per filter."),
    slip_of(reference_conv_forward, "W_kernel_major", "you flattened W in the order (p, q, c), but the rows of cols "
          "are (c, p, q): W.reshape(F, C*KH*KW) keeps the order that matches."),
    slip_of(reference_conv_forward, "cols_first", "you computed cols^T W_mat^T, of shape (N*OH*OW, F), and reshaped "
          "it as if it were (F, N*OH*OW): compute W_mat @ cols."),
)


def _check_conv_forward_case(conv_forward, n, c, h, w, f, k, stride, pad, seed):
    arrays = random_inputs({"x": (n, c, h, w), "W": (f, c, k, k), "b": (f,)}, seed=seed)
    args = (arrays["x"], arrays["W"], arrays["b"], stride, pad)
    result = call_student(conv_forward, *(a.copy() if isinstance(a, np.ndarray) else a for a in args),
                          also=("conv2d_forward", "conv2d_naive_forward", _OWN + "reference_conv_forward"))
    if not (isinstance(result, tuple) and len(result) == 2):
        raise BadReturn("conv_forward must return a pair (out, cache).")
    slips = [(s, None if v is None else v[0]) for s, v in slip_values(CONV_FORWARD_SLIPS, *args)]
    check_value_slips(result[0], conv2d_forward(*args)[0], slips=slips,
                      name=f"out (x {(n, c, h, w)}, W {(f, c, k, k)}, stride {stride}, pad {pad})",
                      hint="Reshape (F, N*OH*OW) to (F, N, OH, OW) first, then move the batch axis to the front.")


def check_conv_forward(conv_forward, cases=None):
    """Compare conv_forward(x, W, b, stride, pad)[0] with the library's conv2d_forward on each case
    (n, c, h, w, f, k, stride, pad, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_conv_forward_case(conv_forward, **c), cases,
              [dict(n=2, c=3, h=6, w=6, f=4, k=3, stride=1, pad=1, seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercise 5: the backward pass through col2im
# ------------------------------------------------------------------------------------------------

def reference_conv_backward(dout, cache, slip=None):
    """(dx, dW, db) for the cache (x, W, b, stride, pad, cols) of conv2d_forward; `slip` adds one mistake."""
    x, W, b, stride, pad, cols = cache
    F, C, KH, KW = W.shape
    G = dout.reshape(F, -1) if slip == "G_no_transpose" else dout.transpose(1, 0, 2, 3).reshape(F, -1)
    dW = (cols @ G.T).reshape(W.shape) if slip == "dW_transposed" else (G @ cols.T).reshape(W.shape)
    db = G.mean(axis=1) if slip == "db_mean" else G.sum(axis=1)
    W_used = W[:, :, ::-1, ::-1] if slip == "dx_flipped" else W
    dcols = W_used.reshape(F, -1).T @ G
    return col2im(dcols, x.shape, KH, KW, stride, pad), dW, db


CONV_BACKWARD_SLIPS = (
    slip_of(reference_conv_backward, "G_no_transpose", "you reshaped dout (N, F, OH, OW) straight to (F, N*OH*OW): "
          "that mixes samples and filters. Move the filter axis first, dout.transpose(1, 0, 2, 3).reshape(F, -1), "
          "so the columns are (n, i, j) like those of cols."),
    slip_of(reference_conv_backward, "dW_transposed", "you computed cols G^T, which is dW_mat transposed "
          "(C*KH*KW, F), and reshaped it to (F, C, KH, KW): compute dW_mat = G cols^T, then reshape."),
    slip_of(reference_conv_backward, "db_mean", "db averages dout over the batch and the positions; the bias is "
          "added at every position of every sample, so db sums dout over N, OH and OW (Jin 2016, eq. 29)."),
    slip_of(reference_conv_backward, "dx_flipped", "you flipped the kernel before col2im. col2im already sends "
          "every gradient back through the kernel entry that produced it: dcols = W_mat^T G with W as it is "
          "(the flip of section 7 appears only when dx is written as a convolution)."),
)

CONV_BACKWARD_STAGES = (
    Stage(("dx", "dW", "db"), "where dout becomes G (F, N*OH*OW), the one error signal all three are computed "
                              "from: move the filter axis first, dout.transpose(1, 0, 2, 3).reshape(F, -1)"),
)


def _check_conv_backward_case(conv_backward, n, c, h, w, f, k, stride, pad, seed):
    check_layer_backward(conv_backward, conv2d_forward,
                         random_inputs({"x": (n, c, h, w), "W": (f, c, k, k), "b": (f,)}, seed=seed),
                         ("x", "W", "b"), seed=seed, forward_kwargs={"stride": stride, "pad": pad},
                         layout={"x": "NCHW", "W": "FCHW"}, name="conv_backward",
                         slips=CONV_BACKWARD_SLIPS, stages=CONV_BACKWARD_STAGES)


def check_conv_backward(conv_backward, cases=None):
    """Finite-difference check of conv_backward(dout, cache) for the cache of conv2d_forward on each case
    (n, c, h, w, f, k, stride, pad, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_conv_backward_case(conv_backward, **c), cases, [
        dict(n=2, c=3, h=6, w=6, f=4, k=3, stride=1, pad=1, seed=0),
        dict(n=2, c=2, h=7, w=7, f=3, k=3, stride=2, pad=1, seed=1)])


# ------------------------------------------------------------------------------------------------
# Exercises 6 and 7: the input gradient as a full convolution (stride 1, no padding)
# ------------------------------------------------------------------------------------------------

def reference_full_convolution(delta, W, slip=None):
    """dx (N, C, OH+K-1, OW+K-1) = full convolution of delta (N, F, OH, OW) with W (F, C, K, K); `slip` adds
    one typical mistake."""
    return _full_convolution(delta, W, slip)


def _full_convolution(delta, W, slip=None):
    F, C, K, _ = W.shape
    kernel = {"not_flipped": W, "rows_only": W[:, :, ::-1, :], "spatial_transpose": W.transpose(0, 1, 3, 2)
              }.get(slip, W[:, :, ::-1, ::-1])
    swapped = (np.ascontiguousarray(kernel).reshape(C, F, K, K) if slip == "channels_reshaped"
               else kernel.transpose(1, 0, 2, 3))
    pad = K // 2 if slip == "pad_same" else K - 1
    return conv2d_forward(delta, np.ascontiguousarray(swapped), np.zeros(C), stride=1, pad=pad)[0]


DX_FULL_CONVOLUTION_SLIPS = (
    slip_of(reference_full_convolution, "not_flipped", "the kernel is not flipped: dx is the full cross-correlation "
          "with W as it is. The backward pass reads delta at r - p (a convolution): rotate each kernel by 180 "
          "degrees, W[:, :, ::-1, ::-1], before swapping the channel axes."),
    slip_of(reference_full_convolution, "rows_only", "you flipped the kernel's rows only: a rotation by 180 degrees "
          "flips both axes, W[:, :, ::-1, ::-1]."),
    slip_of(reference_full_convolution, "spatial_transpose", "you transposed each kernel (swapped p and q) instead of "
          "rotating it by 180 degrees: rot180 is W[:, :, ::-1, ::-1]."),
    slip_of(reference_full_convolution, "channels_reshaped", "you reshaped the kernel from (F, C, K, K) to "
          "(C, F, K, K): a reshape keeps the order of the numbers and scrambles the pairs. Swap the axes with "
          "transpose(1, 0, 2, 3)."),
    slip_of(reference_full_convolution, "pad_same", "you padded delta by K // 2 ('same'); a full convolution pads by "
          "K - 1 on each side, so that every partial overlap counts and dx has the input's size."),
)


def _full_conv_wrap(fn):
    return lambda delta, cache: fn(delta, cache[1])


def _conv_inputs(n, c, h, f, k, seed):
    return random_inputs({"x": (n, c, h, h), "W": (f, c, k, k), "b": (f,)}, seed=seed)


def _check_full_case(dx_full_convolution, n, c, h, f, k, seed):
    check_layer_backward(_full_conv_wrap(dx_full_convolution), conv2d_forward, _conv_inputs(n, c, h, f, k, seed),
                         "x", seed=seed, layout={"x": "NCHW"}, name="dx_full_convolution",
                         also=(_OWN + "reference_full_convolution",),
                         slips=bind_slips(DX_FULL_CONVOLUTION_SLIPS, _full_conv_wrap))


def check_dx_full_convolution(dx_full_convolution, cases=None):
    """Finite-difference check of dx_full_convolution(delta, W) as the input gradient of a stride-1,
    unpadded convolution, on each case (n, c, h, f, k, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_full_case(dx_full_convolution, **c), cases,
              [dict(n=2, c=2, h=6, f=3, k=3, seed=0)])


def printed_dx_as_written(delta, W):
    """Jin (2016)'s one-line summary read literally: the full cross-correlation of delta with the UNflipped
    W, channels swapped. delta (N, F, OH, OW), W (F, C, K, K) -> (N, C, OH+K-1, OW+K-1)."""
    return _full_convolution(delta, W, slip="not_flipped")


DX_AS_WRITTEN_SLIPS = (
    Slip("repaired", "you flipped the kernel: that is the corrected formula (Exercise 7). Here implement the "
         "summary exactly as written, a full cross-correlation with W as it is.", reference_full_convolution),
    slip_of(reference_full_convolution, "channels_reshaped", "you reshaped the kernel from (F, C, K, K) to "
          "(C, F, K, K), which scrambles the pairs: swap the channel axes with W.transpose(1, 0, 2, 3)."),
    slip_of(reference_full_convolution, "pad_same", "you padded delta by K // 2; the summary says 'full': pad by K - 1."),
)


def _check_as_written_case(dx_as_written, n, c, h, f, k, seed, as_printed):
    arrays = _conv_inputs(n, c, h, f, k, seed)
    delta = np.random.default_rng([seed, 0xDE]).standard_normal((n, f, h - k + 1, h - k + 1))
    got = call_student(dx_as_written, delta.copy(), arrays["W"].copy(), also=(_OWN + "printed_dx_as_written",))
    if isinstance(got, np.ndarray) and got.size and not np.any(got):
        raise WrongValue("dx_as_written returns only zeros: implement the summary as written (a full "
                         "cross-correlation of delta with the unflipped kernel).", {"dx": "zero"})
    expected = as_printed(delta.copy(), arrays["W"].copy())
    values = [(s, s.fn(delta, arrays["W"])) for s in DX_AS_WRITTEN_SLIPS]
    check_value_slips(got, expected, slips=values, name=f"dx_as_written (delta {delta.shape}, W {arrays['W'].shape})",
                      hint="Implement the summary exactly as written: a full cross-correlation (pad K - 1) of "
                             "delta with W as it is, channels swapped.")
    print("As written, your function computes the printed formula. Now the gradient checker's verdict on it:")
    expect_wrong(check_layer_backward, _full_conv_wrap(dx_as_written), conv2d_forward, arrays, "x",
                 seed=seed, layout={"x": "NCHW"}, name="dx_as_written", also=(_OWN + "printed_dx_as_written",),
                 slips=bind_slips(DX_FULL_CONVOLUTION_SLIPS[:1], _full_conv_wrap))   # names what is wrong with it


def check_dx_as_written(dx_as_written, cases=None, as_printed=None):
    """dx_as_written(delta, W) must compute Jin (2016)'s summary exactly as printed (compared with
    `as_printed`, default printed_dx_as_written), and the gradient checker must then refute it as dL/dx.
    Each case is (n, c, h, f, k, seed)."""
    __tracebackhide__ = True
    as_printed = printed_dx_as_written if as_printed is None else as_printed
    run_cases(lambda **c: _check_as_written_case(dx_as_written, as_printed=as_printed, **c), cases,
              [dict(n=2, c=2, h=6, f=3, k=3, seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercise 8: max pooling
# ------------------------------------------------------------------------------------------------

def reference_maxpool_backward(dout, cache, slip=None):
    """dx (N, C, H, W) for the cache (x_shape, size, stride, argmax) of maxpool2d_forward."""
    x_shape, size, stride, argmax = cache
    N, C, H, W = x_shape
    winners = argmax.reshape(-1).astype(np.intp)
    if slip == "winner_transposed":                    # p and q of the winner swapped
        winners = (winners % size) * size + winners // size
    values = dout.transpose(1, 0, 2, 3).reshape(-1) if slip == "wrong_window" else dout.reshape(-1)
    if slip in ("all_entries", "average"):
        dcols = np.tile(values / (size * size if slip == "average" else 1), (size * size, 1))
    else:
        dcols = np.zeros((size * size, winners.size))
        dcols[winners, np.arange(winners.size)] = values
    if slip == "overwrite":      # fancy-index assignment: a pixel that wins two windows keeps one gradient
        dx = np.zeros(x_shape)
        n, c, i, j = np.indices(argmax.shape).reshape(4, -1)
        dx[n, c, i * stride + winners // size, j * stride + winners % size] = values
        return dx
    return col2im(dcols, (N * C, 1, H, W), size, size, stride, 0).reshape(x_shape)


MAXPOOL_BACKWARD_SLIPS = (
    slip_of(reference_maxpool_backward, "all_entries", "the gradient reached entries that are not the maximum of "
          "their window: you gave every entry of the window the whole gradient. Only the winner (argmax) of each "
          "window receives it; the others get zero."),
    slip_of(reference_maxpool_backward, "average", "you shared each window's gradient equally, 1/size^2 to every "
          "entry: that is the backward pass of average pooling. Max pooling routes it to the winner only."),
    slip_of(reference_maxpool_backward, "winner_transposed", "you decoded the winner's position as "
          "(argmax % size, argmax // size). argmax = p * size + q, so the row is p = argmax // size and the "
          "column q = argmax % size."),
    slip_of(reference_maxpool_backward, "wrong_window", "each gradient went to the winner of another window: the "
          "columns are ordered (n, c, i, j) like dout.reshape(-1); you read dout in the order (c, n, i, j)."),
    slip_of(reference_maxpool_backward, "overwrite", "where windows overlap, a pixel that wins several windows kept "
          "only one of their gradients (dx[idx] = ... keeps the last write): it must collect the sum "
          "(np.add.at, +=, or let col2im add them up)."),
)


def _check_pool_case(maxpool_backward, shape, size, stride, seed):
    check_layer_backward(maxpool_backward, maxpool2d_forward, random_inputs({"x": shape}, seed=seed), "x",
                         seed=seed, forward_kwargs={"size": size, "stride": stride}, layout={"x": "NCHW"},
                         name="maxpool_backward", slips=MAXPOOL_BACKWARD_SLIPS)


def check_maxpool_backward(maxpool_backward, cases=None):
    """Finite-difference check of maxpool_backward(dout, cache) for the cache of maxpool2d_forward on each
    case (shape, size, stride, seed); the visible cases include overlapping windows."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_pool_case(maxpool_backward, **c), cases, [
        dict(shape=(2, 3, 4, 4), size=2, stride=2, seed=0), dict(shape=(2, 2, 5, 5), size=3, stride=2, seed=1)])


EXERCISES = (
    Exercise("output_size", check_output_size, reference_output_size, OUTPUT_SIZE_SLIPS),
    Exercise("my_im2col", check_my_im2col, reference_im2col, MY_IM2COL_SLIPS),
    Exercise("my_col2im", check_my_col2im, reference_col2im, MY_COL2IM_SLIPS),
    Exercise("conv_forward", check_conv_forward, reference_conv_forward, CONV_FORWARD_SLIPS),
    Exercise("conv_backward", check_conv_backward, reference_conv_backward, CONV_BACKWARD_SLIPS),
    Exercise("dx_as_written", check_dx_as_written, printed_dx_as_written, DX_AS_WRITTEN_SLIPS),
    Exercise("dx_full_convolution", check_dx_full_convolution, reference_full_convolution,
             DX_FULL_CONVOLUTION_SLIPS),
    Exercise("maxpool_backward", check_maxpool_backward, reference_maxpool_backward, MAXPOOL_BACKWARD_SLIPS),
)
