"""Vanilla RNN: every backward against finite differences, truncated BPTT, loss over time, norms."""
import numpy as np
import pytest

from backprop import check_gradients, GradientCheckError, softmax_cross_entropy
from backprop.rnn import (
    bptt_gradient_norms, clip_gradients, init_rnn_params, recurrent_matrix, rnn_backward, rnn_backward_truncated,
    rnn_forward, rnn_generate, rnn_predict, rnn_sequence_loss_and_grads, rnn_step_backward, rnn_step_forward,
    simulate_bptt_norms, spectral_radius,
)

SHAPES = [  # (N, T, D, H, seed)
    (1, 1, 1, 1, 0),
    (1, 1, 3, 4, 1),
    (2, 1, 3, 4, 2),
    (1, 5, 2, 3, 3),
    (3, 4, 3, 5, 4),
    (2, 7, 4, 2, 5),
]


def make_rnn(n, steps, d, hidden, seed, scale=0.6):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(n, steps, d)),
        "h0": rng.normal(size=(n, hidden)),
        "Wx": rng.normal(scale=scale, size=(hidden, d)),
        "Wh": rng.normal(scale=scale, size=(hidden, hidden)),
        "b": rng.normal(scale=0.3, size=hidden),
    }, rng.normal(size=(n, steps, hidden))


def rnn_h(activation="tanh"):
    return lambda x, h0, Wx, Wh, b: rnn_forward(x, h0, Wx, Wh, b, activation=activation)[0]


def as_dict(grads):
    return dict(zip(("x", "h0", "Wx", "Wh", "b"), grads))


LAYOUT = {"x": "NTD", "h0": "NH"}


# ------------------------------------------------------------------ forward


def test_forward_matches_the_recurrence_written_out():
    p, _ = make_rnn(2, 3, 4, 5, 0)
    h, _ = rnn_forward(**p)
    prev = p["h0"]
    for t in range(3):
        prev = np.tanh(p["x"][:, t] @ p["Wx"].T + prev @ p["Wh"].T + p["b"])
        np.testing.assert_allclose(h[:, t], prev, rtol=1e-14, atol=1e-15)


def test_forward_equals_chained_steps_and_keeps_the_cache():
    p, _ = make_rnn(3, 4, 2, 3, 1)
    h, cache = rnn_forward(**p)
    prev = p["h0"]
    for t in range(4):
        prev, _ = rnn_step_forward(p["x"][:, t], prev, p["Wx"], p["Wh"], p["b"])
        np.testing.assert_allclose(h[:, t], prev, rtol=1e-14, atol=1e-15)
    assert cache.z.shape == cache.h.shape == (3, 4, 3)
    np.testing.assert_array_equal(cache.h, h)


def test_float32_is_preserved():
    p, dh = make_rnn(2, 3, 2, 3, 0)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    h, cache = rnn_forward(**p32)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in rnn_backward(dh.astype(np.float32), cache))


@pytest.mark.parametrize("bad, message", [
    (dict(Wx=np.zeros((2, 5))), "Wx"),         # D and H swapped: seed 004's printed shape
    (dict(Wh=np.zeros((5, 4))), "Wh"),
    (dict(b=np.zeros(4)), "b"),
    (dict(h0=np.zeros((3, 5))), "h0"),
    (dict(x=np.zeros((3, 2))), "x"),
    (dict(x=np.zeros((2, 0, 2))), "T >= 1"),
    (dict(x=np.zeros((2, 3, 2), dtype=int)), "floating"),
])
def test_bad_inputs_name_the_argument(bad, message):
    p = {"x": np.zeros((2, 3, 2)), "h0": np.zeros((2, 5)), "Wx": np.zeros((5, 2)), "Wh": np.zeros((5, 5)),
         "b": np.zeros(5)}
    p.update(bad)
    with pytest.raises(ValueError, match=message):
        rnn_forward(**p)


def test_backward_rejects_a_wrong_dh_shape():
    p, _ = make_rnn(2, 3, 2, 4, 0)
    _, cache = rnn_forward(**p)
    with pytest.raises(ValueError, match="dh"):
        rnn_backward(np.zeros((2, 4, 3)), cache)


# ------------------------------------------------------------------ backward vs finite differences


@pytest.mark.parametrize("n, steps, d, hidden, seed", SHAPES)
def test_rnn_backward_matches_finite_differences(n, steps, d, hidden, seed):
    p, dh = make_rnn(n, steps, d, hidden, seed)
    _, cache = rnn_forward(**p)
    grads = as_dict(rnn_backward(dh, cache))
    check_gradients(rnn_h(), p, grads, dout=dh, layout=LAYOUT, batch_size=n)


@pytest.mark.parametrize("activation", ["sigmoid", "identity", "softplus", "scaled_tanh"])
def test_rnn_backward_with_other_activations(activation):
    p, dh = make_rnn(2, 4, 3, 3, 7, scale=0.4)
    _, cache = rnn_forward(**p, activation=activation)
    check_gradients(rnn_h(activation), p, as_dict(rnn_backward(dh, cache)), dout=dh, layout=LAYOUT)


def test_a_loss_on_the_last_step_only():
    p, dh = make_rnn(2, 6, 3, 4, 8)
    dh[:, :-1] = 0.0
    _, cache = rnn_forward(**p)
    check_gradients(rnn_h(), p, as_dict(rnn_backward(dh, cache)), dout=dh, layout=LAYOUT)


def test_the_checker_catches_a_missing_recurrent_term():
    """Forgetting the gradient from step t+1 (delta_t = f'(z_t) dh_t only) must fail the check."""
    p, dh = make_rnn(2, 4, 3, 4, 9)
    _, cache = rnn_forward(**p)
    wrong = as_dict(rnn_backward_truncated(dh, cache, 1))
    with pytest.raises(GradientCheckError):
        check_gradients(rnn_h(), p, {"Wh": wrong["Wh"]}, dout=dh)


@pytest.mark.parametrize("n, d, hidden, seed", [(1, 1, 1, 0), (1, 3, 4, 1), (3, 2, 5, 2)])
def test_step_backward_matches_finite_differences(n, d, hidden, seed):
    rng = np.random.default_rng(seed)
    p = {"x_t": rng.normal(size=(n, d)), "h_prev": rng.normal(size=(n, hidden)),
         "Wx": rng.normal(size=(hidden, d)), "Wh": rng.normal(size=(hidden, hidden)), "b": rng.normal(size=hidden)}
    dh_t = rng.normal(size=(n, hidden))
    _, cache = rnn_step_forward(**p)
    grads = dict(zip(("x_t", "h_prev", "Wx", "Wh", "b"), rnn_step_backward(dh_t, cache)))
    check_gradients(lambda **kw: rnn_step_forward(**kw)[0], p, grads, dout=dh_t)


def test_chaining_step_backward_reproduces_full_bptt():
    p, dh = make_rnn(2, 5, 3, 4, 10)
    _, cache = rnn_forward(**p)
    caches, prev = [], p["h0"]
    for t in range(5):
        prev, c = rnn_step_forward(p["x"][:, t], prev, p["Wx"], p["Wh"], p["b"])
        caches.append(c)
    carry = np.zeros_like(p["h0"])
    dx = np.zeros_like(p["x"])
    dWx, dWh, db = np.zeros_like(p["Wx"]), np.zeros_like(p["Wh"]), np.zeros_like(p["b"])
    for t in reversed(range(5)):
        dx[:, t], carry, gx, gh, gb = rnn_step_backward(dh[:, t] + carry, caches[t])
        dWx, dWh, db = dWx + gx, dWh + gh, db + gb
    for mine, ref in zip((dx, carry, dWx, dWh, db), rnn_backward(dh, cache)):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-14)


def test_backward_does_not_mutate_its_inputs():
    p, dh = make_rnn(2, 4, 3, 3, 11)
    _, cache = rnn_forward(**p)
    before = [np.copy(a) for a in cache[:7]] + [dh.copy()]
    rnn_backward(dh, cache)
    rnn_backward_truncated(dh, cache, 2)
    for a, b in zip(list(cache[:7]) + [dh], before):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ truncated BPTT


@pytest.mark.parametrize("steps", [1, 3, 6])
def test_truncated_equals_full_bptt_when_k_covers_the_sequence(steps):
    p, dh = make_rnn(2, steps, 3, 4, steps)
    _, cache = rnn_forward(**p)
    full = rnn_backward(dh, cache)
    for k in (steps, steps + 3):
        for a, b in zip(rnn_backward_truncated(dh, cache, k), full):
            np.testing.assert_array_equal(a, b)
    if steps > 1:  # the window logic itself (not the shortcut) with k = T - 1 ... must differ
        short = rnn_backward_truncated(dh, cache, steps - 1)
        assert not np.allclose(short[3], full[3])


def truncated_objective(p, dh, k):
    """sum_t <dh_t, h_t> where h_t is recomputed from the *frozen* state h_{t-k} (k steps back).

    Straight from the definition: the loss term at t sees the parameters and inputs of steps
    t-k+1..t only; the state entering the window is a constant (from an unperturbed forward
    pass), except when the window reaches h0.
    """
    frozen, _ = rnn_forward(**p)
    frozen = frozen.copy()

    def f(x, h0, Wx, Wh, b):
        total = 0.0
        for t in range(x.shape[1]):
            start = t - k + 1
            h = h0 if start <= 0 else frozen[:, start - 1]
            for j in range(max(start, 0), t + 1):
                h = np.tanh(x[:, j] @ Wx.T + h @ Wh.T + b)
            total += np.sum(dh[:, t] * h)
        return total

    return f


@pytest.mark.parametrize("n, steps, k, seed", [(1, 4, 1, 0), (2, 5, 2, 1), (3, 6, 3, 2), (1, 7, 4, 3)])
def test_truncated_bptt_matches_its_definition_by_finite_differences(n, steps, k, seed):
    p, dh = make_rnn(n, steps, 2, 3, seed)
    _, cache = rnn_forward(**p)
    grads = as_dict(rnn_backward_truncated(dh, cache, k))
    check_gradients(truncated_objective(p, dh, k), p, grads, layout=LAYOUT)


def test_k_equal_one_keeps_only_the_base_cases():
    p, dh = make_rnn(2, 4, 3, 3, 12)
    _, cache = rnn_forward(**p)
    dx, dh0, dWx, dWh, db = rnn_backward_truncated(dh, cache, 1)
    delta = dh * (1 - cache.h ** 2)  # delta_{t,t} = f'(z_t) * dh_t for every t, nothing else
    h_prev = np.concatenate([p["h0"][:, None], cache.h[:, :-1]], axis=1)
    np.testing.assert_allclose(dx, delta @ p["Wx"], rtol=1e-13)
    np.testing.assert_allclose(dWx, np.einsum("nth,ntd->hd", delta, p["x"]), rtol=1e-13)
    np.testing.assert_allclose(dWh, np.einsum("nth,ntk->hk", delta, h_prev), rtol=1e-13)
    np.testing.assert_allclose(db, delta.sum(axis=(0, 1)), rtol=1e-13)
    np.testing.assert_allclose(dh0, delta[:, 0] @ p["Wh"], rtol=1e-13)  # only the loss at t = 1 reaches h0


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "2"])
def test_truncation_length_must_be_a_positive_integer(k):
    p, dh = make_rnn(1, 3, 2, 2, 0)
    _, cache = rnn_forward(**p)
    with pytest.raises(ValueError, match="k must be"):
        rnn_backward_truncated(dh, cache, k)


# ------------------------------------------------------------------ output layer and loss over time


def make_seq(n, steps, d, hidden, classes, seed):
    rng = np.random.default_rng(seed)
    params = init_rnn_params(d, hidden, classes, seed=seed)
    params["b"] = rng.normal(scale=0.2, size=hidden)
    params["by"] = rng.normal(scale=0.2, size=classes)
    return params, rng.normal(size=(n, steps, d)), rng.integers(classes, size=(n, steps)), rng.normal(size=(n, hidden))


@pytest.mark.parametrize("n, steps, seed", [(1, 1, 0), (1, 4, 1), (3, 5, 2), (2, 8, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum_time"])
def test_sequence_loss_gradients_match_finite_differences(n, steps, seed, reduction):
    params, x, targets, h0 = make_seq(n, steps, 3, 4, 5, seed)
    inputs = dict(params, h0=h0)
    loss, grads = rnn_sequence_loss_and_grads(params, x, targets, h0, reduction=reduction)

    def f(Wx, Wh, b, Wy, by, h0):
        return rnn_sequence_loss_and_grads(dict(Wx=Wx, Wh=Wh, b=b, Wy=Wy, by=by), x, targets, h0,
                                           reduction=reduction)[0]

    check_gradients(f, inputs, grads, layout={"h0": "NH"})


def test_sequence_loss_is_the_mean_cross_entropy_over_batch_and_time():
    params, x, targets, h0 = make_seq(3, 4, 2, 5, 6, 4)
    loss, _ = rnn_sequence_loss_and_grads(params, x, targets, h0)
    h, _ = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    logits = h @ params["Wy"].T + params["by"]
    expected, _ = softmax_cross_entropy(logits.reshape(-1, 6), targets.ravel())
    assert loss == pytest.approx(expected, rel=1e-12)
    loss_sum, grads_sum = rnn_sequence_loss_and_grads(params, x, targets, h0, reduction="sum_time")
    _, grads = rnn_sequence_loss_and_grads(params, x, targets, h0)
    assert loss_sum == pytest.approx(4 * loss, rel=1e-12)  # seed 004: L = sum over t
    np.testing.assert_allclose(grads_sum["Wh"], 4 * grads["Wh"], rtol=1e-12)


def test_mask_and_ignored_targets_leave_those_steps_out():
    params, x, targets, h0 = make_seq(2, 5, 3, 4, 3, 5)
    mask = np.ones((2, 5))
    mask[:, :2] = 0
    masked_loss, masked = rnn_sequence_loss_and_grads(params, x, targets, h0, mask=mask)
    ignored = targets.copy()
    ignored[:, :2] = -1
    ignore_loss, ignoring = rnn_sequence_loss_and_grads(params, x, ignored, h0)
    assert masked_loss == pytest.approx(ignore_loss, rel=1e-14)
    for key in masked:
        np.testing.assert_allclose(masked[key], ignoring[key], rtol=1e-13, atol=1e-16)

    def f(Wh, Wy):
        return rnn_sequence_loss_and_grads(dict(params, Wh=Wh, Wy=Wy), x, targets, h0, mask=mask)[0]

    check_gradients(f, {"Wh": params["Wh"], "Wy": params["Wy"]}, {"Wh": masked["Wh"], "Wy": masked["Wy"]})


def test_sequence_loss_truncation_composes_with_rnn_backward_truncated():
    params, x, targets, h0 = make_seq(2, 6, 3, 4, 5, 6)
    _, full = rnn_sequence_loss_and_grads(params, x, targets, h0)
    _, long = rnn_sequence_loss_and_grads(params, x, targets, h0, truncate=6)
    _, short = rnn_sequence_loss_and_grads(params, x, targets, h0, truncate=2)
    for key in full:
        np.testing.assert_array_equal(full[key], long[key])
    np.testing.assert_array_equal(full["Wy"], short["Wy"])  # the output layer is not affected by truncation
    assert not np.allclose(full["Wh"], short["Wh"])


@pytest.mark.parametrize("targets, message", [
    (np.zeros((2, 3)), "targets"),           # wrong T
    (np.full((2, 4), 7), r"\[0, 5\)"),       # out of range
    (np.full((2, 4), 0.5), "integer"),
])
def test_sequence_loss_rejects_bad_targets(targets, message):
    params, x, _, _ = make_seq(2, 4, 3, 4, 5, 0)
    with pytest.raises(ValueError, match=message):
        rnn_sequence_loss_and_grads(params, x, targets)


def test_missing_parameter_is_named():
    params, x, targets, _ = make_seq(2, 4, 3, 4, 5, 0)
    del params["Wy"]
    with pytest.raises(ValueError, match="Wy"):
        rnn_sequence_loss_and_grads(params, x, targets)


def test_predict_and_generate():
    params = init_rnn_params(6, 8, 6, seed=1)
    x = np.eye(6)[np.random.default_rng(0).integers(6, size=(3, 5))]
    assert rnn_predict(params, x).shape == (3, 5)
    a = rnn_generate(params, 0, 20, seed=3)
    assert a == rnn_generate(params, 0, 20, seed=3) and len(a) == 20 and all(0 <= s < 6 for s in a)
    greedy = rnn_generate(params, 0, 5, temperature=0)
    assert greedy == rnn_generate(params, 0, 5, temperature=0, seed=99)


# ------------------------------------------------------------------ vanishing / exploding gradients


@pytest.mark.parametrize("kind", ["orthogonal", "gaussian"])
@pytest.mark.parametrize("radius", [0.5, 1.0, 2.5])
def test_recurrent_matrix_has_the_requested_spectral_radius(kind, radius):
    W = recurrent_matrix(16, radius, seed=3, kind=kind)
    assert W.shape == (16, 16)
    assert spectral_radius(W) == pytest.approx(radius, rel=1e-9)
    np.testing.assert_array_equal(W, recurrent_matrix(16, radius, seed=3, kind=kind))
    if kind == "orthogonal":
        np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), radius, rtol=1e-10)


def test_recurrent_matrix_rejects_bad_arguments():
    with pytest.raises(ValueError, match="spectral_radius"):
        recurrent_matrix(4, -1.0)
    with pytest.raises(ValueError, match="kind"):
        recurrent_matrix(4, 1.0, kind="unitary")


def test_gradient_norms_vanish_for_a_small_spectral_radius():
    norms = simulate_bptt_norms(0.5, steps=30)
    assert norms.shape == (30,)
    assert norms[-1] == pytest.approx(1.0)
    assert np.all(np.diff(norms) > 0)   # smaller and smaller going back in time
    assert norms[0] < 1e-6


def test_gradient_norms_explode_for_a_large_spectral_radius():
    norms = simulate_bptt_norms(2.0, steps=30, input_scale=0.0)  # inputs off: tanh stays linear at 0
    assert np.all(np.diff(norms) < 0)
    assert norms[0] > 1e6
    lin = simulate_bptt_norms(1.5, steps=20, activation="identity")
    np.testing.assert_allclose(lin, 1.5 ** np.arange(19, -1, -1), rtol=1e-10)  # orthogonal: exactly r per step


def test_saturation_makes_even_large_radii_vanish():
    """With big inputs tanh saturates, f' is small, and the product shrinks despite r > 1."""
    assert simulate_bptt_norms(1.1, steps=30, input_scale=1.0)[0] < 1e-3


def test_bptt_gradient_norms_agree_with_rnn_backward():
    p, _ = make_rnn(3, 6, 2, 4, 13)
    _, cache = rnn_forward(**p)
    dh_last = np.random.default_rng(0).normal(size=(3, 4))
    norms = bptt_gradient_norms(cache, dh_last)
    # L = <dh_last, h_T>. dL/dh_t is the dh0 that rnn_backward returns for the rest of the sequence
    # (steps t+1..T) started from h_t; for t = T it is dh_last itself.
    for t in range(5):
        rest = cache._replace(x=cache.x[:, t + 1:], z=cache.z[:, t + 1:], h=cache.h[:, t + 1:], h0=cache.h[:, t])
        dh = np.zeros(rest.h.shape)
        dh[:, -1] = dh_last
        g = rnn_backward(dh, rest)[1]
        assert norms[t] == pytest.approx(np.mean(np.linalg.norm(g, axis=1)), rel=1e-12)
    assert norms[5] == pytest.approx(np.mean(np.linalg.norm(dh_last, axis=1)), rel=1e-12)


# ------------------------------------------------------------------ clipping


def test_clip_gradients_caps_the_global_norm_and_keeps_the_direction():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    clipped, norm = clip_gradients(grads, 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [[0.8]])
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])  # the input is untouched
    same, _ = clip_gradients(grads, 10.0)
    np.testing.assert_array_equal(same["b"], grads["b"])
    with pytest.raises(ValueError, match="max_norm"):
        clip_gradients(grads, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        clip_gradients({"a": np.array([np.nan])}, 1.0)


# ------------------------------------------------------------------ torch as an independent oracle


def test_rnn_gradients_agree_with_torch_autograd():
    torch = pytest.importorskip("torch")
    p, dh = make_rnn(3, 6, 4, 5, 21)
    h, cache = rnn_forward(**p)
    ours = as_dict(rnn_backward(dh, cache))
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in p.items()}
    rnn = torch.nn.RNN(4, 5, batch_first=True, nonlinearity="tanh", bias=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(t["Wx"])
        rnn.weight_hh_l0.copy_(t["Wh"])
        rnn.bias_ih_l0.copy_(t["b"])
        rnn.bias_hh_l0.zero_()
    x = t["x"]
    out, _ = rnn(x, t["h0"][None])
    np.testing.assert_allclose(out.detach().numpy(), h, rtol=1e-12, atol=1e-14)
    (out * torch.tensor(dh)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ours["x"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(t["h0"].grad.numpy(), ours["h0"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rnn.weight_ih_l0.grad.numpy(), ours["Wx"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rnn.weight_hh_l0.grad.numpy(), ours["Wh"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rnn.bias_ih_l0.grad.numpy(), ours["b"], rtol=1e-10, atol=1e-13)
