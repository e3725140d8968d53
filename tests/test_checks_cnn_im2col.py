"""backprop.checks.cnn_im2col: right answers in any style pass, known slips are named, and the words
notebook 04 promises appear."""
from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from backprop import conv2d_forward
from backprop.checks import cnn_im2col as checks
from backprop.checks.catalogue import run_check
from backprop.grading import GradingError


def exercise(name):
    return next(e for e in checks.EXERCISES if e.name == name)


def slip(name, key):
    return next(s for s in exercise(name).slips if s.key == key)


def _sizes(H, W, kh, kw, stride, pad):
    return (H + 2 * pad - kh) // stride + 1, (W + 2 * pad - kw) // stride + 1


# ---------------------------------------------------------------- other correct styles
def im2col_pixel_loops(x, kh, kw, stride=1, pad=0):
    N, C, H, W = x.shape
    OH, OW = _sizes(H, W, kh, kw, stride, pad)
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((C * kh * kw, N * OH * OW))
    for n in range(N):
        for i in range(OH):
            for j in range(OW):
                window = xpad[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                cols[:, n * OH * OW + i * OW + j] = window.ravel()
    return cols


def im2col_strided_view(x, kh, kw, stride=1, pad=0):
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xpad, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, OH, OW, kh, kw)
    return np.einsum("ncijpq->cpqnij", windows).reshape(x.shape[1] * kh * kw, -1)


def col2im_add_at(dcols, x_shape, kh, kw, stride=1, pad=0):
    N, C, H, W = x_shape
    OH, OW = _sizes(H, W, kh, kw, stride, pad)
    c, p, q, n, i, j = np.indices((C, kh, kw, N, OH, OW)).reshape(6, -1)
    dxpad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    np.add.at(dxpad, (n, c, i * stride + p, j * stride + q), dcols.reshape(-1))
    return dxpad[:, :, pad:pad + H, pad:pad + W]          # a view of the padded buffer: fine


def col2im_fortran_loops(dcols, x_shape, kh, kw, stride=1, pad=0):
    N, C, H, W = x_shape
    OH, OW = _sizes(H, W, kh, kw, stride, pad)
    dx = np.zeros(x_shape, order="F")
    for col in range(N * OH * OW):
        n, i, j = col // (OH * OW), (col // OW) % OH, col % OW
        patch = dcols[:, col].reshape(C, kh, kw)
        for p in range(kh):
            for q in range(kw):
                r, s = i * stride + p - pad, j * stride + q - pad
                if 0 <= r < H and 0 <= s < W:
                    dx[n, :, r, s] += patch[:, p, q]
    return dx


def conv_forward_einsum(x, W, b, stride=1, pad=0):
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xpad, W.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("ncijpq,fcpq->nfij", windows, W) + b[None, :, None, None]
    return out, None


def conv_backward_einsum(dout, cache):
    x, W, b, stride, pad, cols = cache
    F, C, KH, KW = W.shape
    N, _, OH, OW = dout.shape
    blocks = cols.reshape(C, KH, KW, N, OH, OW)
    dW = np.einsum("nfij,cpqnij->fcpq", dout, blocks)
    db = np.einsum("nfij->f", dout)
    dblocks = np.einsum("fcpq,nfij->cpqnij", W, dout)
    return col2im_fortran_loops(dblocks.reshape(C * KH * KW, -1), x.shape, KH, KW, stride, pad), dW, db


def full_convolution_loops(delta, W, flip=True):
    N, F, OH, OW = delta.shape
    _, C, K, _ = W.shape
    dx = np.zeros((N, C, OH + K - 1, OW + K - 1))
    for f in range(F):
        for c in range(C):
            for p in range(K):
                for q in range(K):
                    w = W[f, c, p, q] if flip else W[f, c, K - 1 - p, K - 1 - q]
                    dx[:, c, p:p + OH, q:q + OW] += w * delta[:, f]
    return dx


def maxpool_backward_add_at(dout, cache):
    x_shape, size, stride, argmax = cache
    dx = np.zeros(x_shape)
    n, c, i, j = np.indices(argmax.shape).reshape(4, -1)
    k = argmax.reshape(-1)
    np.add.at(dx, (n, c, i * stride + k // size, j * stride + k % size), dout.reshape(-1))
    return dx


CORRECT_STYLES = [   # (exercise, a right answer in another style): tests/test_checks_catalogue.py runs them
    ("output_size", lambda s, k, st=1, p=0: np.floor_divide(s + 2 * p - k, st) + 1),        # np.int64
    ("output_size", lambda s, k, st=1, p=0: np.array((s + 2 * p - k) // st + 1)),           # 0-d int array
    ("output_size", lambda s, k, st=1, p=0: np.int32((s + 2 * p - k) // st) + np.int32(1)),
    ("output_size", lambda s, k, st=1, p=0: float(math.floor((s + 2 * p - k) / st) + 1)),    # a whole-number float
    ("my_im2col", im2col_pixel_loops), ("my_im2col", im2col_strided_view),
    ("my_col2im", col2im_add_at), ("my_col2im", col2im_fortran_loops),
    ("conv_forward", conv_forward_einsum),
    ("conv_backward", conv_backward_einsum),
    ("dx_as_written", lambda delta, W: full_convolution_loops(delta, W, flip=False)),
    ("dx_full_convolution", full_convolution_loops),
    ("maxpool_backward", maxpool_backward_add_at),
]


HIDDEN_STYLE_CASES = {   # batches of one, 1x1 and non-square kernels, no padding, overlapping pools
    "output_size": [dict(size=1, kernel=1, stride=1, pad=0), dict(size=6, kernel=7, stride=1, pad=1)],
    "my_im2col": [dict(shape=(1, 2, 7, 6), kh=3, kw=2, stride=2, pad=1, seed=9),
                  dict(shape=(2, 4, 6, 6), kh=1, kw=1, stride=1, pad=0, seed=8)],
    "my_col2im": [dict(shape=(2, 1, 7, 8), kh=3, kw=2, stride=2, pad=1, seed=7),
                  dict(shape=(1, 2, 10, 10), kh=5, kw=5, stride=1, pad=2, seed=6)],
    "conv_forward": [dict(n=1, c=1, h=5, w=5, f=2, k=3, stride=1, pad=0, seed=5)],
    "conv_backward": [dict(n=1, c=2, h=7, w=9, f=5, k=3, stride=2, pad=1, seed=4)],
    "dx_as_written": [dict(n=1, c=1, h=5, f=1, k=2, seed=3)],
    "dx_full_convolution": [dict(n=1, c=2, h=8, f=4, k=5, seed=2)],
    "maxpool_backward": [dict(shape=(2, 2, 6, 4), size=3, stride=1, seed=1)],
}


# ---------------------------------------------------------------- issue 12: sizes of any integer type
@pytest.mark.parametrize("value", [np.int64(4), 4, np.array(4), np.int16(4), 4.0], ids=repr)
def test_output_size_accepts_every_integer_type(value):
    checks.check_output_size(lambda *args: value, cases=[dict(size=7, kernel=3, stride=2, pad=1)])


def test_a_wrong_size_is_never_called_a_gradient():
    with pytest.raises(GradingError) as err:
        checks.check_output_size(lambda *args: np.int64(5), cases=[dict(size=7, kernel=3, stride=2, pad=1)])
    assert "gradient" not in str(err.value) and "expected 4, got 5" in str(err.value)


def test_no_floor_is_named_even_though_the_fraction_is_refused_first():
    failed, message, _ = run_check(exercise("output_size"), slip("output_size", "no_floor").fn)
    assert failed and message.startswith("Recognised mistake: you divided with / and kept the fraction")
    assert "must be a whole number" in message


def test_a_slip_is_named_only_when_it_fits_every_case():
    """(size + pad - kernel) // stride + 1 and a missing + 1 agree on some cases; each is named only alone."""
    for key in ("pad_once", "no_plus_one"):
        failed, message, _ = run_check(exercise("output_size"), slip("output_size", key).fn)
        others = [s.words for s in exercise("output_size").slips if s.key != key]
        assert failed and slip("output_size", key).words in message and not any(w in message for w in others)


# ---------------------------------------------------------------- the words notebook 04 promises
def test_intro_promise_col2im_crop_one_pixel_off():
    """Intro: 'Recognised mistake: your col2im crop is one pixel off' (it used to be 'No simple pattern')."""
    for key in ("crop_late", "crop_early"):
        failed, message, printed = run_check(exercise("my_col2im"), slip("my_col2im", key).fn)
        assert failed and message.startswith("Recognised mistake: your col2im crop is one pixel off")
        assert "No simple pattern" not in message + printed


def test_intro_and_exercise_3_promise_the_border_pattern():
    """Intro and Exercise 3: when only pixels near the border are wrong, the diagnosis says so."""
    def border_only(dcols, x_shape, kh, kw, stride=1, pad=0):
        dx = col2im_add_at(dcols, x_shape, kh, kw, stride, pad)
        dx[:, :, 0, :] *= 1.5          # an error in the first row only, not a catalogued slip
        return dx

    failed, message, _ = run_check(exercise("my_col2im"), border_only)
    assert failed and "all wrong entries lie within 1 pixel of the image border: check the padding" in message.lower()


def test_summary_promise_kernel_not_flipped():
    failed, message, _ = run_check(exercise("dx_full_convolution"), slip("dx_full_convolution", "not_flipped").fn)
    assert failed and "the kernel is not flipped" in message


def test_intro_promise_switched_off_function_earns_no_credit():
    failed, message, _ = run_check(exercise("my_im2col"), lambda x, kh, kw, stride=1, pad=0:
                                   __import__("backprop").im2col(x, kh, kw, stride, pad))
    assert failed and "earns no credit" in message


def test_conv_backward_says_where_the_error_enters():
    def dx_off(dout, cache):
        dx, dW, db = conv_backward_einsum(dout, cache)
        return dx * 1.1 + 0.01, dW, db

    failed, message, _ = run_check(exercise("conv_backward"), dx_off)
    assert failed and message.startswith("dx wrong, although dW and db, computed from the same error signal, "
                                          "are right")

    def all_off(dout, cache):
        return tuple(1.1 * g + 0.01 for g in conv_backward_einsum(dout, cache))

    failed, message, _ = run_check(exercise("conv_backward"), all_off)
    assert failed and message.startswith("dx, dW and db wrong: the error enters where dout becomes G")


# ---------------------------------------------------------------- the "as written" exercise (issue 12, item 7)
# the printed formula captured as a default argument: the checks switch off the module's public name
@pytest.mark.parametrize("wrong, words", [
    (lambda delta, W, _p=checks.printed_dx_as_written: 2 * _p(delta, W), "2 times"),
    (lambda delta, W, _p=checks.printed_dx_as_written: np.zeros_like(_p(delta, W)), "only zeros"),
    (lambda delta, W, _p=checks.printed_dx_as_written: -_p(delta, W), "-1 times"),
], ids=["twice", "zeros", "negated"])
def test_as_written_must_be_the_printed_formula(wrong, words):
    failed, message, _ = run_check(exercise("dx_as_written"), wrong)
    assert failed and words in message, message


def test_as_written_uses_the_graders_own_printed_formula():
    own = []

    def as_printed(delta, W):
        own.append(True)
        return conv2d_forward(delta, W.transpose(1, 0, 2, 3).copy(), np.zeros(W.shape[1]), pad=W.shape[-1] - 1)[0]

    checks.check_dx_as_written(checks.printed_dx_as_written, cases=[dict(n=1, c=2, h=6, f=2, k=3, seed=4)],
                               as_printed=as_printed)
    assert own
    with pytest.raises(GradingError, match="2 times"):
        checks.check_dx_as_written(lambda d, W, _printed=checks.printed_dx_as_written: 2 * _printed(d, W),
                                   cases=[dict(n=1, c=2, h=6, f=2, k=3, seed=4)], as_printed=as_printed)


def test_as_written_refutation_is_shown(capsys):
    checks.check_dx_as_written(checks.printed_dx_as_written)
    assert "As expected, the checker refutes this formula" in capsys.readouterr().out


def test_checks_leave_the_students_inputs_alone():
    def mutating(dout, cache):
        result = maxpool_backward_add_at(dout, cache)
        dout[...] = 0
        return result

    with pytest.raises(GradingError, match="changed dout in place"):
        checks.check_maxpool_backward(mutating)


@pytest.mark.parametrize("name, reference", [
    ("output_size", "reference_output_size"), ("my_im2col", "reference_im2col"), ("my_col2im", "reference_col2im"),
    ("conv_forward", "reference_conv_forward"), ("conv_backward", "reference_conv_backward"),
    ("dx_as_written", "printed_dx_as_written"), ("dx_full_convolution", "reference_full_convolution"),
    ("maxpool_backward", "reference_maxpool_backward"),
])
def test_calling_the_checks_own_reference_earns_no_credit(name, reference):
    def calls_it(*args):
        return getattr(checks, reference)(*args)

    failed, message, _ = run_check(exercise(name), calls_it)
    assert failed and "earns no credit" in message


def test_every_message_the_intro_quotes_is_one_the_checker_gives():
    """The intro quotes two messages (*"..."*): each must be what the checker says about such a mistake."""
    import json
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "solutions/04_cnn_im2col/04_cnn_im2col.ipynb").read_text())
    intro = nb["cells"][0]["source"]
    quotes = [" ".join(q.split()).rstrip(". ").lower() for q in re.findall(r'\*"(.+?)"\*', intro, flags=re.S)]
    assert len(quotes) == 2, quotes

    def border_only(dcols, x_shape, kh, kw, stride=1, pad=0):
        dx = col2im_add_at(dcols, x_shape, kh, kw, stride, pad)
        dx[:, :, 0, :] *= 1.5
        return dx

    said = " ".join(" ".join(run_check(exercise("my_col2im"), fn)[1].split()).lower()
                    for fn in (slip("my_col2im", "crop_late").fn, border_only))
    for quote in quotes:
        assert quote in said, quote
