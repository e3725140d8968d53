"""backprop.checks.rnn_bptt: right answers in any style pass, every known slip is named, and the words
notebook 06 promises appear (above all: BPTT without the path through h_{t-1})."""
from __future__ import annotations

import numpy as np
import pytest

from backprop.checks import rnn_bptt as checks
from backprop.checks.catalogue import VAGUE, run_check
from backprop.grading import GradingError


def exercise(name):
    return next(e for e in checks.EXERCISES if e.name == name)


# ---------------------------------------------------------------- other correct styles
def step_einsum(dh_t, cache):
    delta = np.einsum("nh,nh->nh", dh_t, 1 - np.tanh(cache.z) ** 2)
    return (np.einsum("nh,hd->nd", delta, cache.Wx), np.einsum("nh,hk->nk", delta, cache.Wh),
            np.einsum("nh,nd->hd", delta, cache.x_t), np.einsum("nh,nk->hk", delta, cache.h_prev),
            np.einsum("nh->h", delta))


def liao_k_outer(dh, cache):
    """The same double sum with the loop over the earlier step k outside and the loss term t inside."""
    x, h, Wh = cache.x, cache.h, cache.Wh
    N, T, H = h.shape
    h_prev = np.concatenate([cache.h0[:, None], h[:, :-1]], axis=1)
    deltas = np.zeros((T, T, N, H))            # deltas[t, k] = delta_{t,k}
    for k in range(T - 1, -1, -1):
        for t in range(k, T):
            upstream = dh[:, t] if k == t else deltas[t, k + 1] @ Wh
            deltas[t, k] = upstream * (1 - h[:, k] ** 2)
    total = deltas.sum(axis=0)                 # (T, N, H): sum over t of delta_{t,k}
    return (np.einsum("knh,nkd->hd", total, x), np.einsum("knh,nkj->hj", total, h_prev), total.sum(axis=(0, 1)))


def bptt_list_and_views(dh, cache):
    N, T, H = cache.h.shape
    delta = np.zeros((N, T, H))
    carry = np.zeros((N, H))
    for t in reversed(range(T)):
        delta[:, t] = (dh[:, t] + carry) * (1 - cache.h[:, t] ** 2)
        carry = delta[:, t] @ cache.Wh
    flat = delta.reshape(N * T, H)
    h_prev = np.concatenate([cache.h0[:, None], cache.h[:, :-1]], axis=1).reshape(N * T, H)
    return [delta @ cache.Wx, carry, flat.T @ cache.x.reshape(N * T, -1), flat.T @ h_prev, flat.sum(axis=0)]


def clip_concatenated(grads, max_norm):
    norm = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))
    scale = np.minimum(1.0, max_norm / norm)
    return {k: scale * g for k, g in grads.items()}, np.array(norm)


def sequence_take_along(params, x, targets, bptt):
    from backprop import rnn_forward   # a forward function: allowed

    N, T = targets.shape
    h, cache = rnn_forward(x, np.zeros((N, params["Wh"].shape[0])), params["Wx"], params["Wh"], params["b"])
    logits = np.einsum("nth,vh->ntv", h, params["Wy"]) + params["by"]
    logp = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    loss = -np.take_along_axis(logp, targets[..., None], axis=-1).mean()
    onehot = np.eye(params["Wy"].shape[0])[targets]
    dlogits = (np.exp(logp) - onehot) / (N * T)
    _, _, dWx, dWh, db = bptt(dlogits @ params["Wy"], cache)
    return np.float64(loss), {"Wx": dWx, "Wh": dWh, "b": db, "Wy": np.einsum("ntv,nth->vh", dlogits, h),
                              "by": dlogits.sum(axis=(0, 1))}


CORRECT_STYLES = [   # (exercise, a right answer in another style): tests/test_checks_catalogue.py runs them
    ("rnn_step_backward", step_einsum), ("liao_bptt", liao_k_outer), ("rnn_backward", bptt_list_and_views),
    ("clip_by_global_norm", clip_concatenated), ("sequence_loss_and_grads", sequence_take_along),
]


HIDDEN_STYLE_CASES = {   # the kinds of cases the graded cells pass
    "rnn_step_backward": [dict(N=1, D=3, H=2, seed=11, scale=0.6), dict(N=1, D=1, H=1, seed=14, scale=0.6)],
    "liao_bptt": [dict(N=1, T=6, D=3, H=2, seed=21, scale=0.6), dict(N=4, T=1, D=2, H=3, seed=22, scale=0.6)],
    "rnn_backward": [dict(N=4, T=1, D=2, H=3, seed=32, scale=0.6), dict(N=1, T=9, D=1, H=6, seed=34, scale=0.6)],
    "clip_by_global_norm": [dict(shapes={"W": (1, 1)}, max_norm=2.0, seed=42, scale=10.0),
                            dict(shapes={"A": (6, 6), "c": (6,)}, max_norm=3.0, seed=43, scale=0.1)],
    "sequence_loss_and_grads": [dict(N=1, T=6, V=3, H=5, seed=51), dict(N=4, T=1, V=6, H=2, seed=52)],
}


def test_catalogue_sizes():
    assert all(3 <= len(ex.slips) <= 9 for ex in checks.EXERCISES), {ex.name: len(ex.slips) for ex in checks.EXERCISES}


# ---------------------------------------------------------------- what notebook 06 promises
def lost_path(dh, cache):
    """BPTT that forgets the gradient coming back through h_{t-1}."""
    dx, dh0, dWx, dWh, db = [np.zeros_like(a) for a in (cache.x, cache.h0, cache.Wx, cache.Wh, cache.b)]
    h_prev = np.concatenate([cache.h0[:, None], cache.h[:, :-1]], axis=1)
    for t in range(cache.h.shape[1] - 1, -1, -1):
        delta = dh[:, t] * (1 - cache.h[:, t] ** 2)
        dx[:, t] = delta @ cache.Wx
        dWx, dWh, db = dWx + delta.T @ cache.x[:, t], dWh + delta.T @ h_prev[:, t], db + delta.sum(0)
        dh0 = delta @ cache.Wh
    return dx, dh0, dWx, dWh, db


def test_lost_h_prev_path_is_named_once_with_the_time_steps():
    """Issue 11's example: dx diagnosed (which time steps), the slip named, no vague line for dh0, dWx, dWh, db."""
    failed, message, printed = run_check(exercise("rnn_backward"), lost_path)
    assert failed and message.startswith("Recognised mistake: you dropped the path through h_{t-1}")
    assert "Only time steps 0-4 (of 0-5) are affected" in message
    assert VAGUE not in printed and VAGUE not in message
    assert printed.index("Recognised mistake") < printed.index("rnn_backward: gradients against finite differences")


def test_without_a_known_slip_the_other_gradients_are_consequences():
    def lost_path_and_zero_dh0(dh, cache):
        dx, dh0, dWx, dWh, db = lost_path(dh, cache)
        return dx, np.zeros_like(dh0), dWx, dWh, db

    failed, message, _ = run_check(exercise("rnn_backward"), lost_path_and_zero_dh0)
    assert failed and "Recognised" not in message
    assert message.startswith("dx wrong: the error enters in the deltas")
    assert "db, dWx, dWh and dh0 are computed from that wrong error signal" in message
    assert VAGUE not in message


def test_one_wrong_weight_gradient_is_formed_wrong_from_a_right_signal():
    def dWx_doubled(dh, cache, reference=checks.reference_rnn_backward):
        dx, dh0, dWx, dWh, db = reference(dh, cache)   # bound here: the check blocks backprop's *_backward
        return dx, dh0, 2 * dWx + 0.1, dWh, db

    failed, message, _ = run_check(exercise("rnn_backward"), dWx_doubled)
    assert failed and message.startswith("dx right; dWx wrong, although db, dWh and dh0")


def test_clipping_must_not_change_its_input():
    def in_place(grads, max_norm):
        norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
        for g in grads.values():
            g *= min(1.0, max_norm / norm)
        return grads, norm

    with pytest.raises(GradingError, match="changed its input grads in place"):
        checks.check_clip_by_global_norm(in_place)


def test_sequence_loss_is_graded_with_the_library_bptt():
    """Exercise 6: graded with the library's rnn_backward as bptt, so calling that one is allowed here."""
    checks.check_sequence_loss_and_grads(checks.reference_sequence_loss_and_grads)


def test_bad_returns_are_grading_errors():
    with pytest.raises(GradingError, match="should return a tuple"):
        checks.check_clip_by_global_norm(lambda grads, max_norm: grads)
    with pytest.raises(GradingError, match="returned None"):
        checks.check_rnn_backward(lambda dh, cache: None)


def test_step_backward_must_not_modify_dh_t():
    """Exercise 1: 'Do not modify dh_t or the cache.'"""
    def in_place(dh_t, cache, reference=checks.reference_rnn_step_backward):
        dh_t *= 1 - cache.h ** 2
        return reference(dh_t / (1 - cache.h ** 2), cache)

    with pytest.raises(GradingError, match="changed dout in place"):
        checks.check_rnn_step_backward(in_place)


def test_calling_the_library_bptt_earns_nothing():
    import backprop

    failed, message, _ = run_check(exercise("rnn_backward"), lambda dh, cache: backprop.rnn_backward(dh, cache))
    assert failed and "reference implementation" in message


def test_one_step_without_a_known_slip_says_which_gradient_is_formed_wrong():
    def dWh_off(dh_t, cache, reference=checks.reference_rnn_step_backward):
        dx_t, dh_prev, dWx, dWh, db = reference(dh_t, cache)
        return dx_t, dh_prev, dWx, 2 * dWh + 0.1, db

    failed, message, _ = run_check(exercise("rnn_step_backward"), dWh_off)
    assert failed and message.startswith("dWh wrong, although dx_t, dh_prev, dWx and db, computed from the same")
