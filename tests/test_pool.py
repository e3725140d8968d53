"""Max pooling, average pooling and LeNet-5's trainable subsampling: values, the tie rule,
overlapping windows, gradients against finite differences, torch where installed."""
import numpy as np
import pytest

from backprop import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward
from backprop.conv import conv2d_forward
from backprop.gradcheck import GradientCheckError, check_gradients
from backprop.pool import subsample_backward, subsample_forward


# (N, C, OH, OW, size, stride): non-overlapping, overlapping (stride < size), gaps (stride > size), batch 1
POOLS = [
    (1, 1, 2, 2, 2, 2),
    (2, 3, 3, 2, 2, 2),
    (2, 2, 3, 3, 3, 1),
    (1, 2, 2, 3, 3, 2),
    (2, 1, 4, 4, 2, 1),
    (1, 2, 2, 2, 2, 3),
    (3, 2, 1, 1, 4, 4),
]


def make_pool_case(cfg, seed):
    n, c, oh, ow, size, stride = cfg
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, (oh - 1) * stride + size, (ow - 1) * stride + size))
    return x, size, stride, rng.standard_normal((n, c, oh, ow))


# ----------------------------------------------------------------------------- max pooling
def test_maxpool_values():
    x = np.array([[1., 2., 5., 0.], [3., 4., 1., 1.], [0., 0., 2., 2.], [7., 0., 2., 9.]]).reshape(1, 1, 4, 4)
    out, _ = maxpool2d_forward(x)
    np.testing.assert_array_equal(out[0, 0], [[4., 5.], [7., 9.]])
    dx = maxpool2d_backward(np.array([[10., 20.], [30., 40.]]).reshape(1, 1, 2, 2), _)
    expected = np.zeros((4, 4))
    expected[1, 1], expected[0, 2], expected[3, 0], expected[3, 3] = 10, 20, 30, 40
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_maxpool_tie_rule_first_maximum_in_window_order_gets_everything():
    x = np.array([[1., 3.], [3., 3.]]).reshape(1, 1, 2, 2)
    out, cache = maxpool2d_forward(x)
    dx = maxpool2d_backward(np.full((1, 1, 1, 1), 5.0), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0., 5.], [0., 0.]])   # (0, 1) comes first in row-major order
    flat = np.full((1, 1, 3, 3), 2.0)                                 # all tied, overlapping windows
    _, cache = maxpool2d_forward(flat, size=2, stride=1)
    dx = maxpool2d_backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1., 1., 0.], [1., 1., 0.], [0., 0., 0.]])


def test_maxpool_overlapping_windows_accumulate():
    """A pixel that wins two overlapping windows receives both gradients."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 10.0
    _, cache = maxpool2d_forward(x, size=2, stride=1)
    dx = maxpool2d_backward(np.array([1., 2., 3., 4.]).reshape(1, 1, 2, 2), cache)
    assert dx[0, 0, 1, 1] == 10.0 and np.count_nonzero(dx) == 1


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cfg", POOLS)
def test_maxpool_gradients(cfg, seed):
    x, size, stride, dout = make_pool_case(cfg, seed)
    _, cache = maxpool2d_forward(x, size, stride)
    dx = maxpool2d_backward(dout, cache)
    check_gradients(lambda x: maxpool2d_forward(x, size, stride)[0], {"x": x}, {"x": dx},
                    dout=dout, layout={"x": "NCHW"})


def test_maxpool_gradient_check_skips_ties_instead_of_failing():
    x, size, stride, dout = make_pool_case((1, 1, 2, 2, 2, 2), 0)
    x[0, 0, 0, 0] = x[0, 0, 0, 1] = np.abs(x).max() + 1.0    # a tie for the top-left window's maximum
    dx = maxpool2d_backward(dout, maxpool2d_forward(x, size, stride)[1])
    report = check_gradients(lambda x: maxpool2d_forward(x, size, stride)[0], {"x": x}, {"x": dx}, dout=dout)
    assert report["x"].kinks >= 1


def test_maxpool_wrong_gradient_is_caught():
    x, size, stride, dout = make_pool_case((2, 2, 2, 2, 2, 2), 1)
    _, cache = maxpool2d_forward(x, size, stride)
    wrong = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) / 4      # the average-pool gradient
    with pytest.raises(GradientCheckError):
        check_gradients(lambda x: maxpool2d_forward(x, size, stride)[0], {"x": x}, {"x": wrong}, dout=dout)


# ----------------------------------------------------------------------------- average pooling
def test_avgpool_values_and_gradient():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, cache = avgpool2d_forward(x)
    np.testing.assert_array_equal(out[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    dx = avgpool2d_backward(np.ones((1, 1, 2, 2)), cache)
    np.testing.assert_array_equal(dx, np.full((1, 1, 4, 4), 0.25))


@pytest.mark.parametrize("cfg", POOLS)
def test_avgpool_is_a_convolution_with_a_uniform_kernel(cfg):
    x, size, stride, _ = make_pool_case(cfg, 0)
    n, c = x.shape[:2]
    out, _ = avgpool2d_forward(x, size, stride)
    W = np.zeros((c, c, size, size))
    W[np.arange(c), np.arange(c)] = 1.0 / size ** 2
    np.testing.assert_allclose(out, conv2d_forward(x, W, np.zeros(c), stride)[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cfg", POOLS)
def test_avgpool_gradients(cfg, seed):
    x, size, stride, dout = make_pool_case(cfg, seed)
    dx = avgpool2d_backward(dout, avgpool2d_forward(x, size, stride)[1])
    check_gradients(lambda x: avgpool2d_forward(x, size, stride)[0], {"x": x}, {"x": dx},
                    dout=dout, layout={"x": "NCHW"})


# ----------------------------------------------------------------------------- LeNet-5 subsampling
def test_subsample_values():
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    coeff, bias = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    out, _ = subsample_forward(x, coeff, bias)
    sums = x.reshape(1, 2, 2, 2, 2, 2).sum(axis=(3, 5))
    np.testing.assert_allclose(out, coeff[None, :, None, None] * sums + bias[None, :, None, None])


def test_subsample_with_quarter_coefficient_is_average_pooling():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    out, _ = subsample_forward(x, np.full(3, 0.25), np.zeros(3))
    np.testing.assert_allclose(out, avgpool2d_forward(x)[0], rtol=1e-14)


def test_subsample_input_gradient_is_seed_004s_upsampling():
    """dL/dY[i, j] = coeff * delta[i // 2, j // 2] (seed 004 with omega = 4 coeff)."""
    rng = np.random.default_rng(1)
    x, coeff, bias = rng.standard_normal((2, 3, 6, 4)), rng.standard_normal(3), rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 3, 2))
    dx, _, _ = subsample_backward(dout, subsample_forward(x, coeff, bias)[1])
    up = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)
    np.testing.assert_allclose(dx, coeff[None, :, None, None] * up, rtol=1e-14)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cfg", [POOLS[i] for i in (0, 1, 2, 6)])
def test_subsample_gradients(cfg, seed):
    x, size, stride, dout = make_pool_case(cfg, seed)
    rng = np.random.default_rng(seed + 50)
    c = x.shape[1]
    coeff, bias = rng.standard_normal(c), rng.standard_normal(c)
    _, cache = subsample_forward(x, coeff, bias, size, stride)
    dx, dcoeff, dbias = subsample_backward(dout, cache)
    check_gradients(lambda x, coeff, bias: subsample_forward(x, coeff, bias, size, stride)[0],
                    {"x": x, "coeff": coeff, "bias": bias}, {"x": dx, "coeff": dcoeff, "bias": dbias},
                    dout=dout, layout={"x": "NCHW"})


def test_subsample_coefficient_gradient_error_is_caught():
    """Seed 004 writes dL/domega with MeanPool; used for our summing coefficient it is 4x too small."""
    x, size, stride, dout = make_pool_case((2, 3, 2, 2, 2, 2), 0)
    coeff, bias = np.ones(3), np.zeros(3)
    dx, dcoeff, dbias = subsample_backward(dout, subsample_forward(x, coeff, bias)[1])
    with pytest.raises(GradientCheckError) as err:
        check_gradients(lambda coeff: subsample_forward(x, coeff, bias)[0], {"coeff": coeff},
                        {"coeff": dcoeff / 4}, dout=dout)
    assert err.value.report["coeff"].diagnosis.kind == "scale"


# ----------------------------------------------------------------------------- bad input, purity
@pytest.mark.parametrize("forward", [maxpool2d_forward, avgpool2d_forward])
def test_pool_size_that_does_not_fit(forward):
    with pytest.raises(ValueError, match="height 5 does not fit kernel 2, stride 2"):
        forward(np.zeros((1, 1, 5, 4)))
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        forward(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="size"):
        forward(np.zeros((1, 1, 4, 4)), size=0)


def test_subsample_bad_parameters():
    with pytest.raises(ValueError, match=r"coeff has shape \(2,\), expected \(3,\)"):
        subsample_forward(np.zeros((1, 3, 4, 4)), np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"bias must have 1 dimensions"):
        subsample_forward(np.zeros((1, 3, 4, 4)), np.zeros(3), np.zeros((3, 1)))


@pytest.mark.parametrize("backward,forward", [(maxpool2d_backward, maxpool2d_forward),
                                              (avgpool2d_backward, avgpool2d_forward)])
def test_pool_backward_checks_dout_and_keeps_it(backward, forward):
    x, size, stride, dout = make_pool_case(POOLS[2], 0)
    _, cache = forward(x, size, stride)
    keep = dout.copy()
    backward(dout, cache)
    np.testing.assert_array_equal(dout, keep)
    with pytest.raises(ValueError, match="dout has shape"):
        backward(dout[:, :1], cache)


def test_pooling_keeps_float32():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    for fwd, bwd in ((maxpool2d_forward, maxpool2d_backward), (avgpool2d_forward, avgpool2d_backward)):
        out, cache = fwd(x)
        assert out.dtype == np.float32 and bwd(np.ones_like(out), cache).dtype == np.float32


# ----------------------------------------------------------------------------- torch oracle
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("cfg", POOLS)
def test_pooling_against_torch(cfg, kind):
    torch = pytest.importorskip("torch")
    x, size, stride, dout = make_pool_case(cfg, 5)
    fwd, bwd = (maxpool2d_forward, maxpool2d_backward) if kind == "max" else (avgpool2d_forward, avgpool2d_backward)
    out, cache = fwd(x, size, stride)
    dx = bwd(dout, cache)
    xt = torch.tensor(x, requires_grad=True)
    pool = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    ot = pool(xt, size, stride)
    ot.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-14)
