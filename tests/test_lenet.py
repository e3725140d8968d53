"""LeNet-5: the C3 connection table, parameter counts, the partially connected C3 layer, and
the whole network (classic and modern, softmax and RBF output) against finite differences."""
import numpy as np
import pytest

from backprop.conv import conv2d_backward, conv2d_forward
from backprop.gradcheck import GradientCheckError, check_gradients
from backprop.lenet import (
    C3_TABLE, RBF_BITMAPS, count_parameters, init_lenet5, lenet5_forward, lenet5_loss,
    lenet5_loss_and_grads, lenet5_predict, lenet5_shapes, rbf_centres,
)


VARIANTS = [("classic", "softmax"), ("classic", "rbf"), ("modern", "softmax"), ("modern", "rbf")]
MASK = C3_TABLE.T[:, :, None, None].astype(float)          # (16, 6, 1, 1)


def batch(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 32, 32)), rng.integers(0, 10, n)


# ----------------------------------------------------------------------------- the table
def test_c3_table_is_table_1_of_the_paper():
    assert C3_TABLE.shape == (6, 16) and C3_TABLE.dtype == bool
    assert C3_TABLE.sum() == 60
    inputs = [tuple(np.flatnonzero(C3_TABLE[:, d])) for d in range(16)]
    for d in range(6):                                       # 3 cyclically contiguous S2 maps
        assert inputs[d] == tuple(sorted((d + k) % 6 for k in range(3)))
    for d in range(6, 12):                                   # 4 cyclically contiguous
        assert inputs[d] == tuple(sorted((d - 6 + k) % 6 for k in range(4)))
    assert inputs[12:15] == [(0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5)]   # 4 non-contiguous
    assert inputs[15] == (0, 1, 2, 3, 4, 5)
    # every S2 map feeds 10 C3 maps: the table is balanced
    np.testing.assert_array_equal(C3_TABLE.sum(axis=1), np.full(6, 10))


def test_c3_table_is_read_only():
    with pytest.raises(ValueError):
        C3_TABLE[0, 1] = True


# ----------------------------------------------------------------------------- parameters
def test_classic_lenet5_has_60000_parameters():
    params = init_lenet5(variant="classic", output="rbf")
    assert count_parameters(params) == 60000
    assert count_parameters(params, per_layer=True) == {
        "C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164}
    assert count_parameters(init_lenet5(variant="classic", output="softmax")) == 60850


def test_modern_lenet5_parameters():
    counts = count_parameters(init_lenet5(variant="modern"), per_layer=True)
    assert counts == {"C1": 156, "C3": 2416, "C5": 48120, "F6": 10164, "out": 850}


@pytest.mark.parametrize("variant,output", VARIANTS)
def test_init_shapes_dtype_and_seed(variant, output):
    a, b = init_lenet5(3, variant, output), init_lenet5(3, variant, output)
    assert {k: v.shape for k, v in a.items()} == lenet5_shapes(variant, output)
    assert all(v.dtype == np.float64 for v in a.values())
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["C1_W"], init_lenet5(4, variant, output)["C1_W"])


def test_unconnected_c3_kernels_start_at_zero():
    W = init_lenet5(0)["C3_W"]
    assert np.all(W[~C3_TABLE.T] == 0) and np.all(W[C3_TABLE.T] != 0)


# ----------------------------------------------------------------------------- forward
@pytest.mark.parametrize("variant,output", VARIANTS)
def test_forward_shapes(variant, output):
    x, _ = batch(3)
    scores, cache = lenet5_forward(init_lenet5(0, variant, output), x)
    assert scores.shape == (3, 10) and np.all(np.isfinite(scores))
    shapes = {k: v.shape for k, v in cache["acts"].items()}
    assert shapes == {"C1": (3, 6, 28, 28), "S2": (3, 6, 14, 14), "C3": (3, 16, 10, 10),
                      "S4": (3, 16, 5, 5), "C5": (3, 120, 1, 1), "F6": (3, 84)}
    if variant == "classic":   # the scaled tanh never exceeds 1.7159
        assert all(np.abs(a).max() < 1.7159 for a in cache["acts"].values())


def test_unconnected_c3_weights_do_not_change_the_output():
    x, _ = batch(2)
    params = init_lenet5(0)
    before, _ = lenet5_forward(params, x)
    params["C3_W"] = params["C3_W"] + 5.0 * (1 - MASK)
    after, _ = lenet5_forward(params, x)
    np.testing.assert_array_equal(before, after)


def test_rbf_output_is_the_squared_distance_to_the_centres():
    x, labels = batch(4)
    params = init_lenet5(0, output="rbf")
    scores, cache = lenet5_forward(params, x)
    f6 = cache["acts"]["F6"]
    expected = ((f6[:, None, :] - RBF_BITMAPS[None]) ** 2).sum(axis=2)
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert lenet5_loss(params, x, labels) == pytest.approx(expected[np.arange(4), labels].mean(), rel=1e-12)
    np.testing.assert_array_equal(lenet5_predict(params, x), np.argmin(expected, axis=1))


def test_rbf_centres():
    bitmaps = rbf_centres("bitmap")
    assert bitmaps.shape == (10, 84) and set(np.unique(bitmaps)) == {-1.0, 1.0}
    distances = ((bitmaps[:, None] - bitmaps[None]) ** 2).sum(axis=2)
    assert distances[~np.eye(10, dtype=bool)].min() >= 4 * 5     # any two codes differ in 5 pixels or more
    random = rbf_centres("random", seed=1)
    assert random.shape == (10, 84) and set(np.unique(random)) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="kind"):
        rbf_centres("gaussian")


def test_predict_softmax_is_argmax_and_batches_agree():
    x, _ = batch(5)
    params = init_lenet5(1)
    scores, _ = lenet5_forward(params, x)
    np.testing.assert_array_equal(lenet5_predict(params, x, batch_size=2), np.argmax(scores, axis=1))


# ----------------------------------------------------------------------------- the C3 layer
def seed_004_input_gradient(delta, W):
    """dL/dX(p) = sum over OUTPUT maps d with T[p, d] = 1 of full-conv(delta(d), W(d, p)),
    each term computed on its own, one (p, d) pair at a time (seed 004 with the index fixed)."""
    n, f, oh, ow = delta.shape
    kh, kw = W.shape[2:]
    dX = np.zeros((n, 6, oh + kh - 1, ow + kw - 1))
    padded = np.pad(delta, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
    for p in range(6):
        for d in range(16):
            if C3_TABLE[p, d]:
                rot = W[d, p, ::-1, ::-1][None, None]
                dX[:, p] += conv2d_forward(padded[:, d:d + 1], rot, np.zeros(1))[0][:, 0]
    return dX


@pytest.mark.parametrize("seed", range(3))
def test_c3_layer_gradients(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1 + seed % 2, 6, 14, 14))
    W = rng.standard_normal((16, 6, 5, 5)) * 0.2
    b = rng.standard_normal(16)
    out, cache = conv2d_forward(x, W * MASK, b)
    delta = rng.standard_normal(out.shape)
    dx, dW, db = conv2d_backward(delta, cache)
    dW = dW * MASK
    assert np.all(dW[~C3_TABLE.T] == 0)
    np.testing.assert_allclose(dx, seed_004_input_gradient(delta, W), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x, W, b: conv2d_forward(x, W * MASK, b)[0], {"x": x, "W": W, "b": b},
                    {"x": dx, "W": dW, "b": db}, dout=delta, samples=40, directions=6, seed=seed)


def test_unmasked_c3_weight_gradient_is_caught():
    """Forgetting the mask in backward gives non-zero gradients to kernels that are never used."""
    x, labels = batch(2)
    params = init_lenet5(0)
    _, grads = lenet5_loss_and_grads(params, x, labels)
    wrong = grads["C3_W"] + 0.1 * (1 - MASK)      # what an unmasked backward would leave there (any value)
    with pytest.raises(GradientCheckError) as err:
        check_gradients(lambda **p: lenet5_loss(p, x, labels), params, {"C3_W": wrong}, samples=24, directions=2)
    assert err.value.report["C3_W"].diagnosis.kind == "partial"


# ----------------------------------------------------------------------------- end to end
@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("variant,output", VARIANTS)
def test_whole_lenet5_gradients(variant, output, n):
    x, labels = batch(n, seed=n)
    params = init_lenet5(n, variant, output)
    rng = np.random.default_rng(n)
    for k in params:     # non-zero biases and coefficients, so no gradient hides behind a zero
        if k.endswith(("_b", "_bias", "_coeff")):
            params[k] = params[k] + 0.1 * rng.standard_normal(params[k].shape)
    params["C3_W"] *= MASK if variant == "classic" else 1.0
    loss, grads = lenet5_loss_and_grads(params, x, labels)
    assert loss == pytest.approx(lenet5_loss(params, x, labels), rel=1e-14)
    assert list(grads) == list(params)
    assert all(grads[k].shape == params[k].shape for k in params)
    if variant == "classic":
        assert np.all(grads["C3_W"][~C3_TABLE.T] == 0)
    report = check_gradients(lambda **p: lenet5_loss(p, x, labels), params, grads,
                             max_full=32, samples=12, directions=2, seed=n)
    assert report.ok and len(report.rows) == len(params)


def test_a_few_sgd_steps_lower_the_loss():
    x, labels = batch(8, seed=5)
    for variant, output in VARIANTS:
        params = init_lenet5(0, variant, output)
        first, _ = lenet5_loss_and_grads(params, x, labels)
        lr = 0.05 if output == "softmax" else 0.002
        for _ in range(15):
            loss, grads = lenet5_loss_and_grads(params, x, labels)
            params = {k: params[k] - lr * grads[k] for k in params}
        assert lenet5_loss(params, x, labels) < 0.7 * first, (variant, output)


def test_backward_does_not_change_params_or_x():
    x, labels = batch(2)
    params = init_lenet5(0)
    copies = {k: v.copy() for k, v in params.items()}
    x_copy = x.copy()
    lenet5_loss_and_grads(params, x, labels)
    assert all(np.array_equal(params[k], copies[k]) for k in params)
    np.testing.assert_array_equal(x, x_copy)


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs():
    params = init_lenet5(0)
    with pytest.raises(ValueError, match=r"x has shape \(2, 1, 28, 28\), expected \(any, 1, 32, 32\)"):
        lenet5_forward(params, np.zeros((2, 1, 28, 28)))
    with pytest.raises(ValueError, match="x must have 4 dimensions"):
        lenet5_forward(params, np.zeros((2, 32, 32)))
    broken = dict(params)
    del broken["S4_bias"]
    with pytest.raises(ValueError, match=r"missing \['S4_bias'\]"):
        lenet5_forward(broken, np.zeros((1, 1, 32, 32)))
    broken = dict(params, F6_W=np.zeros((84, 100)))
    with pytest.raises(ValueError, match=r"params\['F6_W'\] has shape \(84, 100\)"):
        lenet5_forward(broken, np.zeros((1, 1, 32, 32)))
    with pytest.raises(ValueError, match="variant"):
        init_lenet5(variant="resnet")
    with pytest.raises(ValueError, match="output"):
        init_lenet5(output="svm")
    with pytest.raises(ValueError, match="labels"):
        lenet5_loss_and_grads(params, np.zeros((2, 1, 32, 32)), np.array([0, 10]))
