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
