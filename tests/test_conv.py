"""Convolution: output sizes, im2col/col2im, conv2d by im2col and by loops, all against
finite differences in float64, and against torch autograd where torch is installed."""
import numpy as np
import pytest

from backprop import conv2d_backward, conv2d_forward
from backprop.conv import (
    col2im, conv2d_naive_backward, conv2d_naive_forward, conv_output_size, im2col, scatter_windows,
    window_view,
)
from backprop.gradcheck import GradientCheckError, check_gradients


# (N, C, F, KH, KW, stride, pad, OH, OW): strides 1-3, paddings 0-2, non-square kernels, batch 1
CONFIGS = [
    (1, 1, 1, 3, 3, 1, 0, 3, 3),
    (2, 3, 4, 3, 3, 1, 1, 4, 5),
    (1, 2, 3, 2, 4, 2, 0, 3, 2),
    (2, 2, 2, 5, 3, 3, 2, 2, 3),
    (3, 1, 2, 1, 1, 2, 0, 3, 3),
    (1, 3, 2, 4, 2, 2, 2, 3, 4),
    (2, 2, 3, 3, 2, 3, 1, 2, 2),
    (2, 2, 3, 2, 2, 2, 0, 3, 2),      # windows tile the image (col2im's no-overlap shortcut)
]


def input_size(out, kernel, stride, pad):
    return (out - 1) * stride + kernel - 2 * pad


def make_case(cfg, seed):
    n, c, f, kh, kw, s, p, oh, ow = cfg
    h, w = input_size(oh, kh, s, p), input_size(ow, kw, s, p)
    assert h >= 1 and w >= 1
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    W = rng.standard_normal((f, c, kh, kw))
    b = rng.standard_normal(f)
    dout = rng.standard_normal((n, f, oh, ow))
    return x, W, b, s, p, dout


# ----------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("size,kernel,stride,pad,expected", [
    (32, 5, 1, 0, 28), (28, 2, 2, 0, 14), (7, 3, 2, 1, 4), (5, 5, 1, 0, 1), (1, 3, 1, 1, 1), (10, 4, 3, 0, 3),
])
def test_conv_output_size(size, kernel, stride, pad, expected):
    assert conv_output_size(size, kernel, stride, pad) == expected
    assert isinstance(conv_output_size(size, kernel, stride, pad), int)


def test_conv_output_size_accepts_numpy_ints():
    assert conv_output_size(np.int64(32), np.int32(5)) == 28


def test_conv_output_size_not_divisible_names_sizes_that_fit():
    with pytest.raises(ValueError) as err:
        conv_output_size(8, 3, 2, 0)
    msg = str(err.value)
    assert "not divisible by the stride 2" in msg
    assert "7 or 9" in msg
    for fitting in (7, 9):
        conv_output_size(fitting, 3, 2, 0)


def test_conv_output_size_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match="kernel 6 is larger than the padded input size 5"):
        conv_output_size(3, 6, 1, 1)
    # the suggested padding really is enough
    assert conv_output_size(3, 6, 1, 2) == 2


def test_conv_output_size_only_suggests_sizes_that_fit():
    with pytest.raises(ValueError) as err:
        conv_output_size(6, 5, 2, 0)       # 6 - 5 = 1 is odd; 5 and 7 fit, 5 is not too small
    assert "5 or 7" in str(err.value)
    with pytest.raises(ValueError) as err:
        conv_output_size(1, 3, 3, 2)       # the smaller candidate would be size -1: only 2 fits
    assert "Sizes that fit: input size 2 (" in str(err.value)
    assert conv_output_size(2, 3, 3, 2) == 2


@pytest.mark.parametrize("kwargs,word", [
    (dict(size=0, kernel=1), "size"), (dict(size=5, kernel=0), "kernel"), (dict(size=5, kernel=3, stride=0), "stride"),
    (dict(size=5, kernel=3, pad=-1), "pad"), (dict(size=5.0, kernel=3), "size"), (dict(size=5, kernel=True), "kernel"),
])
def test_conv_output_size_rejects_non_integers(kwargs, word):
    with pytest.raises(ValueError, match=word):
        conv_output_size(**kwargs)


# ----------------------------------------------------------------------------- im2col / col2im
def test_im2col_layout_matches_the_docstring():
    rng = np.random.default_rng(0)
    n, c, h, w, kh, kw, s, p = 2, 3, 5, 6, 3, 2, 2, 1
    x = rng.standard_normal((n, c, h, w))
    cols = im2col(x, kh, kw, s, p)
    oh, ow = conv_output_size(h, kh, s, p), conv_output_size(w, kw, s, p)
    assert cols.shape == (c * kh * kw, n * oh * ow)
    xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    for ci in range(c):
        for a in range(kh):
            for bq in range(kw):
                for ni in range(n):
                    for i in range(oh):
                        for j in range(ow):
                            row = ci * kh * kw + a * kw + bq
                            col = ni * oh * ow + i * ow + j
                            assert cols[row, col] == xpad[ni, ci, i * s + a, j * s + bq]


def test_im2col_rows_follow_the_weight_reshape():
    """W.reshape(F, -1) @ im2col(x) is the convolution: the rows are in W's C-major order."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 5))
    W = rng.standard_normal((4, 3, 3, 2))
    out = (W.reshape(4, -1) @ im2col(x, 3, 2, 1, 0)).reshape(4, 2, 4, 4).transpose(1, 0, 2, 3)
    expected, _ = conv2d_naive_forward(x, W, np.zeros(4))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_im2col_is_seed_000s_matrix_for_stride_1_no_padding():
    """K*K*n_in rows, (H-K+1)(W-K+1)*batch columns, one K x K patch per column."""
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float64).reshape(2, 1, 4, 4)
    cols = im2col(x, 3, 3)
    assert cols.shape == (9, 2 * 2 * 2)
    np.testing.assert_array_equal(cols[:, 0], x[0, 0, :3, :3].ravel())
    np.testing.assert_array_equal(cols[:, 3], x[0, 0, 1:, 1:].ravel())
    np.testing.assert_array_equal(cols[:, 4], x[1, 0, :3, :3].ravel())


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cfg", CONFIGS)
def test_col2im_is_the_adjoint_of_im2col(cfg, seed):
    x, W, _, s, p, _ = make_case(cfg, seed)
    kh, kw = W.shape[2:]
    cols = im2col(x, kh, kw, s, p)
    c = np.random.default_rng(seed + 100).standard_normal(cols.shape)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * col2im(c, x.shape, kh, kw, s, p))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_col2im_counts_how_often_each_pixel_is_used():
    x = np.zeros((1, 1, 4, 4))
    counts = col2im(np.ones_like(im2col(x, 3, 3, 1, 0)), x.shape, 3, 3, 1, 0)
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]], dtype=float)
    np.testing.assert_array_equal(counts[0, 0], expected)


def test_im2col_col2im_keep_float32():
    x = np.ones((1, 2, 4, 4), dtype=np.float32)
    cols = im2col(x, 2, 2, 2, 0)
    assert cols.dtype == np.float32
    assert col2im(cols, x.shape, 2, 2, 2, 0).dtype == np.float32


def test_col2im_rejects_wrong_shape():
    with pytest.raises(ValueError, match="cols has shape"):
        col2im(np.zeros((5, 4)), (1, 1, 3, 3), 2, 2, 1, 0)


# ----------------------------------------------------------------------------- conv2d values
@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("cfg", CONFIGS)
def test_im2col_and_naive_agree(cfg, seed):
    x, W, b, s, p, dout = make_case(cfg, seed)
    out, cache = conv2d_forward(x, W, b, s, p)
    out_n, cache_n = conv2d_naive_forward(x, W, b, s, p)
    assert out.shape == dout.shape
    np.testing.assert_allclose(out, out_n, rtol=1e-12, atol=1e-12)
    for g, g_n in zip(conv2d_backward(dout, cache), conv2d_naive_backward(dout, cache_n)):
        np.testing.assert_allclose(g, g_n, rtol=1e-11, atol=1e-12)


def test_conv_is_a_cross_correlation():
    """The kernel is not flipped: a kernel with a single 1 at (0, 0) reads the top-left pixel."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    W = np.zeros((1, 1, 2, 2))
    W[0, 0, 0, 0] = 1.0
    out, _ = conv2d_forward(x, W, np.zeros(1))
    np.testing.assert_array_equal(out[0, 0], x[0, 0, :3, :3])


@pytest.mark.parametrize("seed", range(3))
def test_dx_is_a_full_convolution_of_delta_with_W(seed):
    """Seed 000 eq. 24 (stride 1): dx = full correlation of dout with W rotated by 180 degrees."""
    x, W, b, s, p, dout = make_case((2, 3, 4, 3, 2, 1, 0, 4, 5), seed)
    kh, kw = W.shape[2:]
    dx, _, _ = conv2d_backward(dout, conv2d_forward(x, W, b)[1])
    w_rot = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)                  # (C, F, KH, KW)
    dpad = np.pad(dout, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    full, _ = conv2d_forward(dpad, w_rot, np.zeros(W.shape[1]))
    np.testing.assert_allclose(dx, full, rtol=1e-12, atol=1e-12)


def test_forward_keeps_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    W = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    out, cache = conv2d_forward(x, W, np.zeros(3, dtype=np.float32))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv2d_backward(np.ones_like(out), cache))


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cfg", CONFIGS)
def test_conv2d_gradients_against_finite_differences(cfg, seed):
    x, W, b, s, p, dout = make_case(cfg, seed)
    _, cache = conv2d_forward(x, W, b, s, p)
    dx, dW, db = conv2d_backward(dout, cache)
    check_gradients(lambda x, W, b: conv2d_forward(x, W, b, s, p)[0], {"x": x, "W": W, "b": b},
                    {"x": dx, "W": dW, "b": db}, dout=dout, layout={"x": "NCHW", "W": "FCHW"})


@pytest.mark.parametrize("cfg", [CONFIGS[i] for i in (0, 2, 3, 5)])
def test_naive_conv2d_gradients_against_finite_differences(cfg):
    x, W, b, s, p, dout = make_case(cfg, 7)
    _, cache = conv2d_naive_forward(x, W, b, s, p)
    dx, dW, db = conv2d_naive_backward(dout, cache)
    check_gradients(lambda x, W, b: conv2d_naive_forward(x, W, b, s, p)[0], {"x": x, "W": W, "b": b},
                    {"x": dx, "W": dW, "b": db}, dout=dout)


def test_lenet_sized_conv_gradients_sampled():
    """Large tensors are checked by sampled entries and random directions."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 14, 14))
    W = rng.standard_normal((16, 6, 5, 5)) * 0.1
    b = rng.standard_normal(16)
    dout = rng.standard_normal((2, 16, 10, 10))
    dx, dW, db = conv2d_backward(dout, conv2d_forward(x, W, b)[1])
    report = check_gradients(lambda x, W, b: conv2d_forward(x, W, b)[0], {"x": x, "W": W, "b": b},
                             {"x": dx, "W": dW, "b": db}, dout=dout)
    assert report["W"].mode == "sampled" and report["W"].directions > 0


@pytest.mark.parametrize("mistake", ["dW_flipped", "dx_factor_2", "db_mean", "dx_no_border"])
def test_the_check_catches_wrong_conv_gradients(mistake):
    """The finite-difference check above can fail: typical wrong gradients are rejected."""
    x, W, b, s, p, dout = make_case((2, 2, 3, 3, 3, 1, 1, 4, 4), 0)
    dx, dW, db = conv2d_backward(dout, conv2d_forward(x, W, b, s, p)[1])
    if mistake == "dW_flipped":
        dW = dW[:, :, ::-1, ::-1].copy()
    elif mistake == "dx_factor_2":
        dx = 2 * dx
    elif mistake == "db_mean":
        db = db / dout[:, 0].size
    else:
        dx = dx.copy()
        dx[:, :, 0, :] = 0
    with pytest.raises(GradientCheckError):
        check_gradients(lambda x, W, b: conv2d_forward(x, W, b, s, p)[0], {"x": x, "W": W, "b": b},
                        {"x": dx, "W": dW, "b": db}, dout=dout)


def test_backward_does_not_mutate_inputs():
    x, W, b, s, p, dout = make_case(CONFIGS[1], 0)
    copies = [a.copy() for a in (x, W, b, dout)]
    _, cache = conv2d_forward(x, W, b, s, p)
    conv2d_backward(dout, cache)
    for a, c in zip((x, W, b, dout), copies):
        np.testing.assert_array_equal(a, c)


# ----------------------------------------------------------------------------- bad input
def test_channel_mismatch_is_named():
    with pytest.raises(ValueError, match="W has 3 input channels but x has 2"):
        conv2d_forward(np.zeros((1, 2, 5, 5)), np.zeros((4, 3, 3, 3)), np.zeros(4))


@pytest.mark.parametrize("args,match", [
    ((np.zeros((2, 5, 5)), np.zeros((4, 2, 3, 3)), np.zeros(4)), r"x must have 4 dimensions"),
    ((np.zeros((1, 2, 5, 5)), np.zeros((4, 2, 3)), np.zeros(4)), r"W must have 4 dimensions"),
    ((np.zeros((1, 2, 5, 5)), np.zeros((4, 2, 3, 3)), np.zeros(3)), r"b has shape \(3,\), expected \(4,\)"),
    ((np.zeros((1, 2, 5, 5), dtype=int), np.zeros((4, 2, 3, 3)), np.zeros(4)), r"x must be a floating-point"),
    ((np.zeros((1, 2, 2, 2)), np.zeros((4, 2, 3, 3)), np.zeros(4)), r"kernel 3 is larger than the padded height"),
])
def test_bad_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        conv2d_forward(*args)


def test_bad_stride_and_pad():
    x, W, b = np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1)
    with pytest.raises(ValueError, match="height 6 does not fit kernel 3, stride 2"):
        conv2d_forward(x, W, b, stride=2)
    with pytest.raises(ValueError, match="stride"):
        conv2d_forward(x, W, b, stride=0)
    with pytest.raises(ValueError, match="pad"):
        conv2d_forward(x, W, b, pad=1.5)


def test_backward_rejects_wrong_dout_shape():
    x, W, b, s, p, dout = make_case(CONFIGS[1], 0)
    _, cache = conv2d_forward(x, W, b, s, p)
    with pytest.raises(ValueError, match="dout has shape"):
        conv2d_backward(dout[:, :, :-1], cache)


# ----------------------------------------------------------------------------- torch oracle
@pytest.mark.parametrize("cfg", CONFIGS)
def test_against_torch_autograd(cfg):
    torch = pytest.importorskip("torch")
    x, W, b, s, p, dout = make_case(cfg, 11)
    out, cache = conv2d_forward(x, W, b, s, p)
    dx, dW, db = conv2d_backward(dout, cache)
    xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    ot = torch.nn.functional.conv2d(xt, Wt, bt, stride=s, padding=p)
    ot.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in ((dx, xt), (dW, Wt), (db, bt)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_window_view_is_im2col_without_the_copy():
    x, W, _, s, p, _ = make_case(CONFIGS[5], 0)
    kh, kw = W.shape[2:]
    view = window_view(x, kh, kw, s, p)                  # (N, C, OH, OW, KH, KW)
    n, c, oh, ow = view.shape[:4]
    cols = view.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * oh * ow)
    np.testing.assert_array_equal(cols, im2col(x, kh, kw, s, p))


def test_scatter_windows_row_by_row_equals_col2im():
    x, W, _, s, p, _ = make_case(CONFIGS[3], 1)
    kh, kw = W.shape[2:]
    cols = np.random.default_rng(0).standard_normal(im2col(x, kh, kw, s, p).shape)
    n, c = x.shape[:2]
    blocks = cols.reshape(c, kh, kw, n, -1)
    oh, ow = conv_output_size(x.shape[2], kh, s, p), conv_output_size(x.shape[3], kw, s, p)
    dx = scatter_windows(lambda a, b: blocks[:, a, b].reshape(c, n, oh, ow), x.shape, kh, kw, s, p)
    np.testing.assert_allclose(dx, col2im(cols, x.shape, kh, kw, s, p), rtol=1e-14)
