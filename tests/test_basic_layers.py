"""Activations, losses, the dense layer and the MLP against finite differences (float64)."""
import numpy as np
import pytest

from backprop import (
    ACTIVATIONS, check_gradients, dense_backward, dense_forward, get_activation, init_mlp,
    mlp_loss_and_grads, numerical_gradient, softmax, softmax_cross_entropy, cross_entropy,
    squared_error_half, squared_error_mean, squared_error_sum,
)
from backprop.activations import LECUN_A, LECUN_S

SEEDS = [0, 1, 2]


def away_from_kinks(x):
    return np.where(np.abs(x) < 1e-2, 0.37, x)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("seed", SEEDS)
def test_activation_derivatives(name, seed):
    act = get_activation(name)
    u = away_from_kinks(np.random.default_rng(seed).uniform(-4, 4, size=(3, 5)))
    num = numerical_gradient(lambda z: float(np.sum(act.f(z))), u)
    np.testing.assert_allclose(act.df(u), num, rtol=1e-7, atol=1e-10)
    if act.df_from_y is not None:
        np.testing.assert_allclose(act.df_from_y(act.f(u)), act.df(u), rtol=1e-12, atol=1e-14)


def test_activation_conventions_and_values():
    assert get_activation("relu").df(np.array([0.0]))[0] == 0.0  # relu'(0) = 0, seed 000
    assert ACTIVATIONS["scaled_tanh"].f(np.array([1.0]))[0] == pytest.approx(LECUN_A * np.tanh(LECUN_S))
    assert ACTIVATIONS["scaled_tanh"].f(np.array([1.0]))[0] == pytest.approx(1.0, abs=2e-4)  # f(1) ~ 1 by design
    s = ACTIVATIONS["sigmoid"].f(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0])
    assert np.isfinite(ACTIVATIONS["softplus"].f(np.array([-1000.0, 1000.0]))).all()
    assert get_activation("tanh").df(np.array([1, 2])).dtype == np.float64
    assert get_activation("relu").df(np.ones(2, dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="unknown activation"):
        get_activation("swish")


@pytest.mark.parametrize("loss", [squared_error_sum, squared_error_mean, squared_error_half])
@pytest.mark.parametrize("shape", [(3,), (1, 4), (5, 2)])
def test_squared_errors(loss, shape):
    rng = np.random.default_rng(0)
    y, t = rng.standard_normal(shape), rng.standard_normal(shape)
    value, g = loss(y, t)
    assert value == pytest.approx(loss(y, t)[0])
    np.testing.assert_allclose(g, numerical_gradient(lambda z: loss(z, t)[0], y), rtol=1e-7, atol=1e-10)


def test_squared_error_conventions_relate():
    rng = np.random.default_rng(1)
    y, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    s, h, m = squared_error_sum(y, t)[0], squared_error_half(y, t)[0], squared_error_mean(y, t)[0]
    assert s == pytest.approx(2 * h) and s == pytest.approx(4 * m)


@pytest.mark.parametrize("n,c", [(1, 2), (4, 3), (7, 10)])
@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_cross_entropy(n, c, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c)) * 3
    labels = rng.integers(0, c, size=n)
    loss, d = softmax_cross_entropy(logits, labels)
    check_gradients(lambda z: softmax_cross_entropy(z, labels)[0], {"z": logits}, {"z": d}, batch_size=n)
    p = softmax(logits)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(n), labels])))


def test_softmax_cross_entropy_is_stable():
    logits = np.array([[1000.0, 0.0, -1000.0], [5e3, 5e3, 0.0]])
    loss, d = softmax_cross_entropy(logits, np.array([0, 1]))
    assert np.isfinite(loss) and np.isfinite(d).all()
    assert loss == pytest.approx(np.log(2) / 2)


def test_cross_entropy_on_probabilities():
    rng = np.random.default_rng(0)
    p = softmax(rng.standard_normal((3, 4)))
    t = np.eye(4)[[0, 2, 3]]
    _, g = cross_entropy(p, t)
    np.testing.assert_allclose(g, numerical_gradient(lambda z: cross_entropy(z, t)[0], p), rtol=1e-7)
    with pytest.raises(ValueError, match="strictly positive"):
        cross_entropy(np.zeros((1, 2)), np.ones((1, 2)))


def test_loss_bad_inputs():
    with pytest.raises(ValueError, match="labels"):
        softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 4]))
    with pytest.raises(ValueError, match="logits"):
        softmax_cross_entropy(np.zeros(4), np.array([0]))
    with pytest.raises(ValueError, match="NaN"):
        softmax_cross_entropy(np.array([[np.nan, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match="target has shape"):
        squared_error_sum(np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize("n,d,m", [(1, 1, 1), (1, 4, 3), (5, 3, 2), (8, 6, 7)])
@pytest.mark.parametrize("seed", SEEDS)
def test_dense_backward(n, d, m, seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((n, d)), rng.standard_normal((m, d)), rng.standard_normal(m)
    out, cache = dense_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W.T + b)
    dout = rng.standard_normal(out.shape)
    copies = [a.copy() for a in (x, W, b, dout)]
    dx, dW, db = dense_backward(dout, cache)
    for before, after in zip(copies, (x, W, b, dout)):
        assert np.array_equal(before, after), "backward must not mutate its inputs"
    check_gradients(lambda x, W, b: dense_forward(x, W, b)[0], {"x": x, "W": W, "b": b},
                    {"x": dx, "W": dW, "b": db}, dout=dout)


def test_dense_bad_inputs_name_the_argument():
    x, W, b = np.ones((2, 3)), np.ones((4, 3)), np.ones(4)
    with pytest.raises(ValueError, match=r"x has shape \(2, 5\)"):
        dense_forward(np.ones((2, 5)), W, b)
    with pytest.raises(ValueError, match=r"b has shape \(3,\)"):
        dense_forward(x, W, np.ones(3))
    with pytest.raises(ValueError, match="W must have 2 dimensions"):
        dense_forward(x, np.ones(3), b)
    with pytest.raises(ValueError, match="x must be a floating-point array"):
        dense_forward(np.ones((2, 3), dtype=np.int64), W, b)
    with pytest.raises(ValueError, match="dout has shape"):
        dense_backward(np.ones((3, 4)), dense_forward(x, W, b)[1])
    assert dense_forward(x.astype(np.float32), W.astype(np.float32), b.astype(np.float32))[0].dtype == np.float32


@pytest.mark.parametrize("loss", ["sum", "mean", "half"])
@pytest.mark.parametrize("acts", ["sigmoid", ("tanh", "relu", "identity"), ("softplus", "leaky_relu", "sigmoid")])
@pytest.mark.parametrize("batch", [None, 1, 6])
def test_mlp_gradients_per_sample_and_batched(loss, acts, batch):
    rng = np.random.default_rng(7)
    params = init_mlp((4, 6, 5, 3), seed=3)
    x = rng.standard_normal(4 if batch is None else (batch, 4))
    t = rng.random(3 if batch is None else (batch, 3))
    value, grads = mlp_loss_and_grads(params, x, t, acts, loss)
    assert list(grads) == list(params)
    check_gradients(lambda **p: mlp_loss_and_grads(p, x, t, acts, loss)[0], params, grads,
                    batch_size=None if batch is None else batch)


def test_mlp_softmax_and_errors():
    rng = np.random.default_rng(0)
    params = init_mlp((5, 8, 4), seed=0, scale="he")
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 4, size=6)
    _, grads = mlp_loss_and_grads(params, x, y, ("relu", "identity"), "softmax_ce")
    check_gradients(lambda **p: mlp_loss_and_grads(p, x, y, ("relu", "identity"), "softmax_ce")[0], params, grads)
    with pytest.raises(ValueError, match="loss must be one of"):
        mlp_loss_and_grads(params, x, y, "relu", "hinge")
    with pytest.raises(ValueError, match="activations has 1 entries"):
        mlp_loss_and_grads(params, x, y, ("relu",), "softmax_ce")
    with pytest.raises(ValueError, match="sizes needs"):
        init_mlp((3,))
