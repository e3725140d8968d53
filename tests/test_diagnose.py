"""diagnose() names each kind of mistake, on several shapes, and never cries wolf."""
import numpy as np
import pytest

from backprop import diagnose
from backprop.diagnosis import describe_factor

SHAPES = [(5,), (4, 4), (3, 5), (2, 3, 4), (2, 3, 5, 5)]


def grad(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("shape", SHAPES)
def test_ok_including_near_misses(shape):
    n = grad(shape)
    assert diagnose(n, n).kind == "ok"
    # rounding-level noise, relative 1e-9, and absolute noise on tiny entries
    noisy = n * (1 + 1e-9 * grad(shape, 1)) + 1e-13 * grad(shape, 2)
    assert diagnose(noisy, n).kind == "ok"
    assert diagnose(n.tolist(), n).kind == "ok"


def test_tiny_magnitudes_are_not_false_alarms():
    n = np.array([1.0, 1e-14, 0.0, -2.0])
    a = np.array([1.0, -3e-14, 2e-15, -2.0])
    assert diagnose(a, n).kind == "ok"


@pytest.mark.parametrize("shape", SHAPES)
def test_sign(shape):
    n = grad(shape)
    d = diagnose(-n, n)
    assert d.kind == "sign" and "sign" in d.message


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("factor", [2.0, 0.5, 3.0, 1 / 32, -2.0])
def test_scale(shape, factor):
    n = grad(shape)
    d = diagnose(factor * n, n)
    assert d.kind == "scale"
    assert d.factor == pytest.approx(factor)


def test_scale_names_the_batch_size():
    n = grad((32, 3))
    d = diagnose(32 * n, n, batch_size=32)
    assert "sum over the batch where the loss takes the mean" in d.message
    d = diagnose(n / 32, n, batch_size=32)
    assert "one over the batch size" in d.message
    assert "1/2 in front" in diagnose(2 * n, n).message
    assert "factor 2 is missing" in diagnose(0.5 * n, n).message


def test_describe_factor():
    assert describe_factor(2.0) == "2x"
    assert describe_factor(0.25) == "1/4 of"
    assert describe_factor(1.37123) == "1.371x"


@pytest.mark.parametrize("n_", [2, 3, 6])
def test_transpose_square(n_):
    n = grad((n_, n_))
    d = diagnose(n.T, n)
    assert d.kind == "transpose"


@pytest.mark.parametrize("shape", [(3, 5), (1, 4), (7, 2)])
def test_transpose_wrong_shape(shape):
    n = grad(shape)
    d = diagnose(n.T, n)
    assert d.kind == "transpose" and str(shape) in d.message


def test_shape_messages():
    n = grad((4, 3))
    assert diagnose(n.reshape(12), n).kind == "shape"
    assert "reshape" in diagnose(n.reshape(12), n).message
    d = diagnose(np.ones((5, 4, 3)), n)
    assert d.kind == "shape" and "sum over the batch" in d.message
    d = diagnose(grad(3), grad((4, 3), 1))
    assert d.kind == "shape" and "missing the leading axis" in d.message
    assert diagnose(grad((2, 2)), grad((3, 3))).kind == "shape"
    assert diagnose((n, n), n).kind == "shape"
    assert diagnose("not an array", n).kind == "shape"


@pytest.mark.parametrize("shape", SHAPES)
def test_zero_and_none(shape):
    n = grad(shape)
    assert diagnose(np.zeros(shape), n).kind == "zero"
    d = diagnose(None, n)
    assert d.kind == "zero" and "None" in d.message


@pytest.mark.parametrize("shape", SHAPES)
def test_nonfinite(shape):
    n = grad(shape)
    a = n.copy()
    a.flat[0] = np.nan
    assert diagnose(a, n).kind == "nonfinite"
    a.flat[0] = np.inf
    assert diagnose(a, n).kind == "nonfinite"
    assert diagnose(n, a).kind == "nonfinite"


@pytest.mark.parametrize("shape", SHAPES)
def test_partial_marks_the_wrong_entries(shape):
    n = grad(shape)
    a = n.copy()
    a.flat[-1] += 1.0
    d = diagnose(a, n)
    assert d.kind == "partial"
    assert d.wrong.sum() == 1 and d.wrong.flat[-1]


def test_partial_rows_of_a_matrix():
    n = grad((5, 3))
    a = n.copy()
    a[2] = 0
    d = diagnose(a, n)
    assert d.kind == "partial" and "row 2 " in d.message and "zero" in d.message


def test_partial_time_steps():
    n = grad((2, 6, 3))
    a = n.copy()
    a[:, :3] *= 0.5
    d = diagnose(a, n, layout="NTD")
    assert d.kind == "partial"
    assert "time steps 0-2" in d.message and "h_{t-1}" in d.message


def test_partial_image_border():
    n = grad((2, 3, 8, 8))
    a = n.copy()
    a[:, :, 0, :] = 0
    a[:, :, :, -1] = 0
    d = diagnose(a, n, layout="NCHW")
    assert d.kind == "partial" and "border" in d.message and "padding" in d.message


def test_partial_channels():
    n = grad((2, 4, 5, 5))
    a = n.copy()
    a[:, 1] *= -1
    d = diagnose(a, n, layout="NCHW")
    assert "channel 1 " in d.message and "wrong sign" in d.message


def test_partial_connection_table_pairs():
    n = grad((16, 6, 5, 5))
    a = n.copy()
    a[3, 4] = 0
    a[7, 0] = 0
    d = diagnose(a, n, layout="FCHW")
    assert "(in 4, out 3)" in d.message and "(in 0, out 7)" in d.message
    assert "connection table" in d.message


def test_ignore_mask_skips_entries():
    n = grad((3, 3))
    a = n.copy()
    a[0, 0] = 100.0
    ignore = np.zeros((3, 3), dtype=bool)
    ignore[0, 0] = True
    assert diagnose(a, n, ignore=ignore).kind == "ok"
    assert diagnose(a, n).kind == "partial"


# ---------------------------------------------------------------- patterns beyond one constant
def _shifted(n, di, dj, fill):
    """n moved di pixels down and dj right over its last two axes; uncovered pixels get `fill`."""
    a = fill.copy()
    H, W = n.shape[-2:]
    a[..., max(di, 0):H + min(di, 0), max(dj, 0):W + min(dj, 0)] = \
        n[..., max(-di, 0):H + min(-di, 0), max(-dj, 0):W + min(-dj, 0)]
    return a


@pytest.mark.parametrize("di,dj,words", [
    (1, 0, "shifted by 1 pixel down"), (-1, 0, "shifted by 1 pixel up"), (0, 1, "shifted by 1 pixel right"),
    (0, -1, "shifted by 1 pixel left"), (1, 1, "1 pixel down and 1 pixel right"), (-2, 1, "2 pixels up"),
])
def test_shift_of_an_image_gradient(di, dj, words):
    n = grad((2, 3, 8, 8))
    d = diagnose(_shifted(n, di, dj, grad(n.shape, 9)), n, layout="NCHW")
    assert d.kind == "shift" and d.details["shift"] == (di, dj)
    assert words in d.message and "col2im/crop offset is off by" in d.message
    assert f"off by {abs(di)} row" in d.message and f"{abs(dj)} column" in d.message


def test_shift_on_a_plain_image_and_the_col2im_crop_slip():
    # col2im that crops the padded buffer one row too low: dx[i] holds the true gradient of row i + 1
    rng = np.random.default_rng(4)
    true_padded = rng.standard_normal((2, 3, 9, 9))
    pad = 1
    right = true_padded[:, :, pad:-pad, pad:-pad]
    slipped = true_padded[:, :, pad + 1:, pad:-pad]
    d = diagnose(slipped, right, layout="NCHW")
    assert d.kind == "shift" and "1 pixel up" in d.message and "entry (i + 1, j)" in d.message
    n = grad((7, 7))
    d = diagnose(_shifted(n, 0, 1, np.zeros_like(n)), n, layout="HW")
    assert d.kind == "shift" and "right" in d.message


def test_no_shift_without_an_image_layout_or_on_border_errors():
    n = grad((2, 3, 8, 8))
    a = _shifted(n, 1, 0, grad(n.shape, 9))
    assert diagnose(a, n).kind == "partial"              # no layout: no pixels to speak of
    assert diagnose(a, n, layout="NTDX").kind == "partial"
    border = n.copy()
    border[:, :, 0, :] = 0
    assert diagnose(border, n, layout="NCHW").kind == "partial"
    smooth = np.ones((1, 1, 6, 6))                         # constant image: a shift changes nothing inside
    edge = smooth.copy()
    edge[..., 0, :] = 3.0
    assert diagnose(edge, smooth, layout="NCHW").kind == "partial"


def _softmax_jacobian(y):
    return np.diag(y) - np.outer(y, y)


def test_diagonal_only_jacobian():
    y = np.random.default_rng(1).dirichlet(np.ones(5))
    J = _softmax_jacobian(y)
    d = diagnose(np.diag(np.diag(J)), J)
    assert d.kind == "diagonal" and d.details["wrong_part"] == "off-diagonal"
    assert "right on its diagonal and wrong off it" in d.message and "kept only the diagonal" in d.message


def test_batch_of_jacobians_wrong_on_the_diagonal():
    rng = np.random.default_rng(2)
    J = np.stack([_softmax_jacobian(rng.dirichlet(np.ones(4))) for _ in range(3)])
    a = J - np.einsum("nk,kj->nkj", np.einsum("nkk->nk", J), np.eye(4)) * 0.5   # diagonal halved
    d = diagnose(a, J, layout="NKK")
    assert d.kind == "diagonal" and "right off its diagonal and wrong on it" in d.message
    assert "Kronecker delta" in d.message
    off = J.copy()
    off[:, ~np.eye(4, dtype=bool)] = 0
    assert "kept only the diagonal" in diagnose(off, J).message


def test_diagonal_pattern_needs_most_of_the_part_wrong():
    J = _softmax_jacobian(np.random.default_rng(3).dirichlet(np.ones(4)))
    a = J.copy()
    a[0, 1] += 1.0                                   # one off-diagonal entry: a partial error
    assert diagnose(a, J).kind == "partial"
    assert diagnose(np.diag(np.diag(J)), J, layout="NT").kind != "diagonal"   # not a Jacobian layout
    x = grad((2, 3, 3))
    b = x.copy()
    b[:, 0, 1] = b[:, 1, 0] = b[:, 0, 2] = b[:, 2, 0] = b[:, 1, 2] = b[:, 2, 1] = 0
    assert diagnose(b, x, layout="NTD").kind == "partial"     # (N, T, D) with T == D is not a Jacobian


@pytest.fixture
def sigma_prime():
    z = grad((6, 4), 5)
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s)


def test_extra_known_factor(sigma_prime):
    n = grad((6, 4))
    d = diagnose(n * sigma_prime, n, known_factors={"sigma'(z^1)": sigma_prime})
    assert d.kind == "factor" and d.details == {"factor": "sigma'(z^1)", "direction": "extra"}
    assert "the right one multiplied by sigma'(z^1): an extra factor of sigma'(z^1)" in d.message


def test_missing_known_factor(sigma_prime):
    n = grad((6, 4))
    y = np.tanh(grad((6, 4), 6))
    d = diagnose(n / sigma_prime, n, known_factors={"1 - y^2": 1 - y ** 2, "sigma'(z^1)": sigma_prime})
    assert d.kind == "factor" and "missing a factor of sigma'(z^1)" in d.message


def test_known_factors_that_do_not_explain_it_or_do_not_fit(sigma_prime):
    n = grad((6, 4))
    assert diagnose(n + 1, n, known_factors={"sigma'(z^1)": sigma_prime}).kind == "partial"
    assert diagnose(n * sigma_prime, n, known_factors={"other": np.ones(3)}).kind == "partial"
    d = diagnose(2 * n, n, known_factors={"two": np.full((6, 4), 2.0)})
    assert d.kind == "scale"                                   # a constant factor stays "scale"
    col = sigma_prime[:, :1]                                   # broadcastable factors are fine
    assert diagnose(n * col, n, known_factors={"s": col}).kind == "factor"


@pytest.mark.parametrize("a_shape,layout,words", [
    ((5,), None, "Only entries 1-3 (of 0-4) are affected."),
    ((5, 3), None, "Only rows 1-3 (of 0-4) are affected."),
    ((2, 6, 3), "NTD", "Only time steps 1-3 (of 0-5) are affected."),
    ((4, 2, 3), None, "Only indices on axis 0 1-3 (of 0-3) are affected."),
])
def test_plural_wording(a_shape, layout, words):
    n = grad(a_shape)
    a = n.copy()
    a[1:4] += 1.0
    if layout == "NTD":
        a = n.copy()
        a[:, 1:4] += 1.0
    d = diagnose(a, n, layout=layout)
    assert words in d.message
    assert "entrys" not in d.message and "indexs" not in d.message and "index on axis 0s" not in d.message


def test_singular_wording():
    n = grad((5,))
    a = n.copy()
    a[2] += 1.0
    assert "Only entry 2 (of 0-4) is affected." in diagnose(a, n).message


def test_plural_rule_and_counts_in_messages():
    from backprop.rules import plural

    assert [plural(w, 2) for w in ("entry", "time step", "row", "index on axis 2", "pixel")] == \
        ["entries", "time steps", "rows", "indices on axis 2", "pixels"]
    assert plural("entry", 1) == "entry"
    n = grad((4,))
    a = n.copy()
    a[0] = np.nan
    assert "1 NaN or infinite value," in diagnose(a, n).message
    a[1] = np.inf
    assert "2 NaN or infinite values," in diagnose(a, n).message
