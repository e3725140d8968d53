"""Checks of notebook 06 (recurrent networks, BPTT, clipping) and their catalogues of known slips.

    check_rnn_step_backward(rnn_step_backward)           Exercise 1: one step back
    check_liao_bptt(liao_bptt)                           Exercise 3: Liao (2018)'s double sum, gaps fixed
    check_rnn_backward(rnn_backward)                     Exercise 4: full BPTT in one sweep
    check_clip_by_global_norm(clip_by_global_norm)       Exercise 5: clipping by the global norm
    check_sequence_loss_and_grads(sequence_loss_and_grads)   Exercise 6: a character model's loss

Every check runs the student's function on the visible cases (or on `cases`, a list of dicts
with the same keys as the defaults), prints a table and raises a GradingError with the diagnosis
when something is wrong. A slip is the reference with one typical mistake (the `slip=` keyword
of the `_reference_*` functions below); a check names it only when the student's result equals
the slip's result on the very inputs the check used.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..explain import Stage
from ..grading import (BadReturn, call_student, check_function_gradients, check_layer_backward, check_values_slips,
                       random_inputs, random_labels)
from ..rnn import rnn_backward, rnn_forward, rnn_sequence_loss_and_grads, rnn_step_forward
from ..slips import run_slip, slip_factory
from . import Exercise, bind_slips, run_cases

__all__ = [
    "check_rnn_step_backward", "check_liao_bptt", "check_rnn_backward", "check_clip_by_global_norm",
    "check_sequence_loss_and_grads", "RNN_STEP_BACKWARD_SLIPS", "LIAO_BPTT_SLIPS", "RNN_BACKWARD_SLIPS",
    "CLIP_BY_GLOBAL_NORM_SLIPS", "SEQUENCE_LOSS_AND_GRADS_SLIPS", "EXERCISES",
]


def _previous_states(cache):
    """h_{t-1} for every step as (N, T, H): h0, then h_1 .. h_{T-1}."""
    return np.concatenate([cache.h0[:, None, :], cache.h[:, :-1]], axis=1)


# ------------------------------------------------------------------------------ Exercise 1
def reference_rnn_step_backward(dh_t, cache, slip=None):
    """rnn_step_backward (tanh), or one slip of it. Returns (dx_t, dh_prev, dWx, dWh, db)."""
    fprime = {"fprime_prev": 1.0 - cache.h_prev ** 2, "fprime_z": 1.0 - cache.z ** 2,
              "no_fprime": 1.0}.get(slip, 1.0 - cache.h ** 2)
    delta = dh_t * fprime
    dx_t = delta @ cache.Wx
    dh_prev = delta @ (cache.Wh.T if slip == "dh_prev_transposed" else cache.Wh)
    dWx = delta.T @ cache.x_t
    dWh = delta.T @ (cache.h if slip == "dWh_from_h" else cache.h_prev)
    db = delta.sum(axis=0)
    return dx_t, dh_prev, dWx, dWh, db


_step_slip = slip_factory(reference_rnn_step_backward)


RNN_STEP_BACKWARD_SLIPS = (
    _step_slip("fprime_prev", "you used 1 - h_{t-1}^2, the derivative at the previous step. The tanh this step "
                              "goes back through produced h_t, so the factor is 1 - h_t^2 (cache.h, not "
                              "cache.h_prev)."),
    _step_slip("fprime_z", "you used 1 - z_t^2. The tanh derivative written with the output is 1 - h_t^2 = "
                           "1 - tanh(z_t)^2: use cache.h, not the pre-activation cache.z."),
    _step_slip("no_fprime", "the tanh derivative is missing: delta = dh_t * (1 - h_t^2) is the gradient on the "
                            "pre-activation z_t, and every other gradient is built from it."),
    _step_slip("dWh_from_h", "dWh uses the new state h_t. W_h multiplied the state that entered the step, "
                             "so dWh = delta^T h_prev (cache.h_prev)."),
    _step_slip("dh_prev_transposed", "dh_prev multiplies delta by W_h^T. In row form h_prev @ Wh.T goes forward, so "
                                     "the gradient goes back as delta @ Wh (no transpose)."),
)

STEP_STAGES = (   # one error signal: every gradient is formed from delta
    Stage(("dx_t", "dh_prev", "dWx", "dWh", "db"), "in delta = dh_t * (1 - h_t^2), from which every gradient is "
                                                  "formed: check the tanh derivative"),
)

STEP_CASES = (dict(N=3, D=4, H=5, seed=0), dict(N=4, D=3, H=2, seed=1))


def _check_step_case(student_fn, N, D, H, seed, scale=0.5):
    shapes = {"x_t": (N, D), "h_prev": (N, H), "Wx": (H, D), "Wh": (H, H), "b": (H,)}
    check_layer_backward(student_fn, rnn_step_forward, random_inputs(shapes, seed=seed, scale=scale),
                         ("x_t", "h_prev", "Wx", "Wh", "b"), seed=seed, name="rnn_step_backward",
                         slips=RNN_STEP_BACKWARD_SLIPS, stages=STEP_STAGES)


def check_rnn_step_backward(rnn_step_backward, cases=None):
    """Exercise 1: rnn_step_backward(dh_t, cache) -> (dx_t, dh_prev, dWx, dWh, db) against finite differences.

    cases: dicts N, D, H, seed (and optionally scale, the std of the inputs; default 0.5).
    """
    __tracebackhide__ = True
    run_cases(partial(_check_step_case, rnn_step_backward), cases, STEP_CASES)


# ------------------------------------------------------------------------------ Exercise 3
def reference_liao_bptt(dh, cache, slip=None):
    """Liao (2018)'s double sum over loss terms t and steps k <= t, or one slip of it -> (dWx, dWh, db)."""
    x, h, Wh = cache.x, cache.h, cache.Wh
    fprime = 1.0 - h ** 2
    h_prev = h if slip == "dWh_from_h" else _previous_states(cache)
    dWx, dWh, db = np.zeros_like(cache.Wx), np.zeros_like(Wh), np.zeros_like(cache.b)
    stop = 0 if slip == "stops_before_first" else -1
    for t in range(h.shape[1]):
        delta = dh[:, t] * (1.0 if slip == "base_no_fprime" else fprime[:, t])
        for k in range(t, stop, -1):
            if k < t:
                if slip == "only_base_case":
                    break
                back = delta @ (Wh.T if slip == "step_transposed" else Wh)
                delta = back * fprime[:, k + 1 if slip == "fprime_next" else k]
            dWh += delta.T @ h_prev[:, k]
            dWx += delta.T @ x[:, k]
            db += delta.sum(axis=0)
    return (dWx, db, db) if slip == "third_line_as_dWh" else (dWx, dWh, db)


_liao_slip = slip_factory(reference_liao_bptt)


LIAO_BPTT_SLIPS = (
    _liao_slip("base_no_fprime", "your base case is delta_{t,t} = dL_t/dh_t. The recursion runs on gradients "
                                 "with respect to the pre-activations z, so the base case passes through the tanh "
                                 "too: delta_{t,t} = dh[:, t] * (1 - h_t^2)."),
    _liao_slip("fprime_next", "in the step back you multiplied by 1 - h_{k+1}^2. delta_{t,k+1} already contains "
                              "that factor; the step from z_{k+1} back to z_k passes through h_k = tanh(z_k), so the "
                              "factor is 1 - h_k^2."),
    _liao_slip("step_transposed", "the step back multiplies by W_h the wrong way round. In row form the forward "
                                  "step is h_k @ Wh.T, so the gradient goes back as delta @ Wh (W_h^T delta in "
                                  "column form)."),
    _liao_slip("only_base_case", "you kept only the base cases delta_{t,t}: the recursion back to the earlier "
                                 "steps k < t is missing (that is truncated BPTT with a window of one step)."),
    _liao_slip("stops_before_first", "your loop over k stops one step early and never reaches the first step "
                                     "(index 0, Liao's k = 1): range(t, 0, -1) leaves it out, range(t, -1, -1) "
                                     "does not."),
    _liao_slip("dWh_from_h", "dWh uses h_k. W_h multiplies the state that entered step k, h_{k-1} (h0 at the "
                             "first step)."),
    _liao_slip("third_line_as_dWh", "you returned Liao (2018)'s third line, sum_t sum_k delta_{t,k}, as dL/dU (dWh). "
                                    "Its shape (H,) gives it away: it is dL/db, because dz_k/db is the identity."),
)

LIAO_BPTT_STAGES = (   # one error signal: all three gradients are formed from the deltas
    Stage(("dWx", "dWh", "db"), "in the deltas: check the base case delta_{t,t} = dh[:, t] * (1 - h_t^2) and the "
                                "step back delta_{t,k} = (delta_{t,k+1} @ Wh) * (1 - h_k^2), for every k down to "
                                "the first step"),
)

def _rnn_inputs(N, T, D, H, seed, scale):
    """rnn_forward's arrays: x (N, T, D), h0 (N, H), Wx (H, D), Wh (H, H), b (H,), normal(0, scale)."""
    shapes = {"x": (N, T, D), "h0": (N, H), "Wx": (H, D), "Wh": (H, H), "b": (H,)}
    return random_inputs(shapes, seed=seed, scale=scale)


LIAO_BPTT_CASES = (dict(N=2, T=4, D=3, H=5, seed=0), dict(N=3, T=5, D=2, H=4, seed=1))


def _check_liao_bptt_case(student_fn, N, T, D, H, seed, scale=0.5):
    check_layer_backward(student_fn, rnn_forward, _rnn_inputs(N, T, D, H, seed, scale),
                         ("Wx", "Wh", "b"), seed=seed, name="liao_bptt", slips=LIAO_BPTT_SLIPS,
                         stages=LIAO_BPTT_STAGES)


def check_liao_bptt(liao_bptt, cases=None):
    """Exercise 3: liao_bptt(dh, cache) -> (dWx, dWh, db) against finite differences of rnn_forward.

    cases: dicts N, T, D, H, seed (and optionally scale; default 0.5).
    """
    __tracebackhide__ = True
    run_cases(partial(_check_liao_bptt_case, liao_bptt), cases, LIAO_BPTT_CASES)


# ------------------------------------------------------------------------------ Exercise 4
def reference_rnn_backward(dh, cache, slip=None):
    """Full BPTT in one backward sweep (tanh), or one slip of it -> (dx, dh0, dWx, dWh, db)."""
    x, h, Wx, Wh = cache.x, cache.h, cache.Wx, cache.Wh
    h_prev = _previous_states(cache)
    fprime = 1.0 - (h_prev if slip == "fprime_prev" else h) ** 2
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(cache.b)
    carry = np.zeros_like(cache.h0)
    delta = carry
    for t in range(h.shape[1] - 1, 0 if slip == "stops_before_first" else -1, -1):
        upstream = {"no_carry": dh[:, t], "no_upstream": carry}.get(slip, dh[:, t] + carry)
        delta = upstream * fprime[:, t]
        dx[:, t] = delta @ Wx
        terms = (delta.T @ x[:, t], delta.T @ (h if slip == "dWh_from_h" else h_prev)[:, t], delta.sum(axis=0))
        if slip == "not_accumulated":
            dWx, dWh, db = terms
        else:
            dWx, dWh, db = dWx + terms[0], dWh + terms[1], db + terms[2]
        carry = delta @ (Wh.T if slip == "carry_transposed" else Wh)
    dh0 = {"dh0_is_delta": delta, "dh0_zero": np.zeros_like(carry)}.get(slip, carry)
    return dx, dh0, dWx, dWh, db


_bptt_slip = slip_factory(reference_rnn_backward)


LOST_PATH_WORDS = ("you dropped the path through h_{t-1}: the gradient that comes back from step t+1 (the carry "
                   "delta_{t+1} @ Wh) is never added, so every step sees only its own loss and only the last time "
                   "step is right. The gradient on h_t has two parts: delta_t = (dh[:, t] + carry) * (1 - h_t^2).")

RNN_BACKWARD_SLIPS = (
    _bptt_slip("no_carry", LOST_PATH_WORDS),
    _bptt_slip("no_upstream", "you kept only the carried gradient and dropped dh[:, t], what the loss puts directly "
                              "on h_t: delta_t = (dh[:, t] + carry) * (1 - h_t^2) needs both."),
    _bptt_slip("fprime_prev", "you used 1 - h_{t-1}^2: the tanh derivative at the wrong time step. Step t's tanh "
                              "produced h_t, so delta_t = (dh[:, t] + carry) * (1 - h_t^2)."),
    _bptt_slip("not_accumulated", "dWx, dWh and db hold the contribution of one time step only: you assigned (=) "
                                  "them inside the loop instead of adding (+=). A weight shared by all steps collects "
                                  "one term per step."),
    _bptt_slip("carry_transposed", "the carry multiplies delta by W_h the wrong way round: in row form the "
                                   "forward step is h_{t-1} @ Wh.T, so the gradient goes back as delta @ Wh."),
    _bptt_slip("dWh_from_h", "dWh uses h_t. W_h multiplied the previous state, so dWh collects delta_t^T h_{t-1} "
                             "(h0 at the first step)."),
    _bptt_slip("stops_before_first", "your loop over time stops one step early: range(T - 1, 0, -1) never visits "
                                     "t = 0. Use range(T - 1, -1, -1) (or reversed(range(T)))."),
    _bptt_slip("dh0_is_delta", "dh0 is delta_1, the gradient on the first pre-activation. h0 reaches z_1 through "
                               "W_h, so dh0 = delta_1 @ Wh: the carry after the last step back."),
    _bptt_slip("dh0_zero", "dh0 is zero. The initial state feeds the first step like every other h_{t-1}: dh0 is "
                           "the carry after the last step back, delta_1 @ Wh."),
)

RNN_BACKWARD_STAGES = (
    Stage(("dx",), "in the deltas (dx_t = delta_t @ Wx is the first thing computed from each): check delta_t = "
                   "(dh[:, t] + carry) * (1 - h_t^2) and the carry delta_t @ Wh passed to step t-1"),
    Stage(("db", "dWx", "dWh", "dh0"), "after the deltas: check that db, dWx and dWh add one term per step (+=) "
                                       "with the right input (x_t for dWx, h_{t-1} for dWh), and that dh0 is the "
                                       "carry after the last step back"),
)

RNN_BACKWARD_CASES = (dict(N=2, T=6, D=3, H=4, seed=0), dict(N=3, T=5, D=2, H=4, seed=1))


def _check_rnn_backward_case(student_fn, N, T, D, H, seed, scale=0.5):
    check_layer_backward(student_fn, rnn_forward, _rnn_inputs(N, T, D, H, seed, scale),
                         ("x", "h0", "Wx", "Wh", "b"), seed=seed, layout={"x": "NTD"}, name="rnn_backward",
                         slips=RNN_BACKWARD_SLIPS, stages=RNN_BACKWARD_STAGES)


def check_rnn_backward(rnn_backward, cases=None):
    """Exercise 4: rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db) against finite differences of rnn_forward.

    cases: dicts N, T, D, H, seed (and optionally scale; default 0.5).
    """
    __tracebackhide__ = True
    run_cases(partial(_check_rnn_backward_case, rnn_backward), cases, RNN_BACKWARD_CASES)


# ------------------------------------------------------------------------------ Exercise 5
def reference_clip_by_global_norm(grads, max_norm, slip=None):
    """(a new dict with every gradient times min(1, max_norm / norm), the global norm before clipping)."""
    norms = {k: float(np.sqrt(np.sum(np.square(g)))) for k, g in grads.items()}
    norm = float(np.sqrt(sum(n ** 2 for n in norms.values())))
    if slip == "sum_of_norms":
        norm = sum(norms.values())
    elif slip == "squared_norm":
        norm = norm ** 2
    factor = min(1.0, max_norm / norm) if norm > 0 else 1.0
    if slip == "always_rescale":
        factor = max_norm / norm
    if slip == "per_array":
        clipped = {k: g * min(1.0, max_norm / norms[k]) for k, g in grads.items()}
    elif slip == "entrywise":
        clipped = {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}
    else:
        clipped = {k: g * factor for k, g in grads.items()}
    return clipped, (norm * factor if slip == "norm_after" else norm)


_clip_slip = slip_factory(reference_clip_by_global_norm)


CLIP_BY_GLOBAL_NORM_SLIPS = (
    _clip_slip("per_array", "you clipped each array by its own norm, which changes the direction of the update. "
                            "Every gradient must be multiplied by the same factor min(1, max_norm / norm), with the "
                            "norm taken over ALL arrays together."),
    _clip_slip("entrywise", "you clipped entry by entry (np.clip). Clipping by the global norm rescales every "
                            "array by one common factor, min(1, max_norm / norm), and keeps the direction."),
    _clip_slip("always_rescale", "you rescaled to length max_norm even when the gradient was shorter, which "
                                 "stretches small gradients. The factor is min(1, max_norm / norm): a short "
                                 "gradient stays as it is."),
    _clip_slip("sum_of_norms", "your global norm adds up the norms of the arrays. It is the square root of the "
                               "sum of the squares of ALL entries: sqrt(sum over arrays of ||g||^2)."),
    _clip_slip("squared_norm", "your global norm is the sum of squares without the square root."),
    _clip_slip("norm_after", "you returned the norm after clipping; the exercise asks for the norm before "
                             "clipping (it tells the trainer how large the raw gradient was)."),
)

CLIP_CASES = (
    dict(shapes={"Wx": (4, 3), "Wh": (4, 4), "b": (4,)}, max_norm=1.0, seed=1),     # long gradient: rescaled
    dict(shapes={"Wx": (4, 3), "Wh": (4, 4), "b": (4,)}, max_norm=100.0, seed=2),   # short gradient: unchanged
)


def _check_clip_case(clip_by_global_norm, shapes, max_norm, seed, scale=1.0):
    grads = random_inputs(shapes, seed=seed, scale=scale)
    result = call_student(clip_by_global_norm, {k: v.copy() for k, v in grads.items()}, max_norm,
                          also=("clip_gradients",), unchanged=True, name="clip_by_global_norm")
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], dict)):
        raise BadReturn("clip_by_global_norm should return a tuple (clipped dict, norm before clipping); it returned "
                        f"a {type(result).__name__}.", {"result": "type"})
    if set(result[0]) != set(grads):
        raise BadReturn(f"the clipped dict has the keys {sorted(result[0])}; expected {sorted(grads)}.",
                        {"clipped": "keys"})

    def named(out):
        return None if out is None else {"the global norm before clipping": out[1],
                                         **{f"clipped[{k!r}]": out[0][k] for k in grads}}

    candidates = ((s, named(run_slip(s.fn, {k: v.copy() for k, v in grads.items()}, max_norm)))
                  for s in CLIP_BY_GLOBAL_NORM_SLIPS)
    print(f"max_norm = {max_norm}:")
    check_values_slips(named(result), named(reference_clip_by_global_norm(grads, max_norm)), candidates,
                       hint="The global norm is sqrt(sum of squares over ALL entries of ALL gradients); every "
                            "gradient is multiplied by the same factor min(1, max_norm / norm).")


def check_clip_by_global_norm(clip_by_global_norm, cases=None):
    """Exercise 5: clip_by_global_norm(grads, max_norm) -> (clipped, norm) against the definition.

    cases: dicts shapes (name -> shape), max_norm, seed (and optionally scale, the std of the gradients).
    """
    __tracebackhide__ = True
    run_cases(partial(_check_clip_case, clip_by_global_norm), cases, CLIP_CASES)


# ------------------------------------------------------------------------------ Exercise 6
def reference_sequence_loss_and_grads(params, x, targets, bptt, slip=None):
    """Mean cross-entropy over batch and time of softmax(Wy h_t + by) and its gradients (BPTT by `bptt`)."""
    Wy, by = params["Wy"], params["by"]
    n, steps = targets.shape
    h, cache = rnn_forward(x, np.zeros((n, params["Wh"].shape[0])), params["Wx"], params["Wh"], params["b"])
    logits = h @ Wy.T + by
    log_probs = logits - logits.max(axis=-1, keepdims=True)
    log_probs = log_probs - np.log(np.exp(log_probs).sum(axis=-1, keepdims=True))
    rows, cols = np.indices(targets.shape)
    scale = {"sum_over_time": 1.0 / n, "sum_all": 1.0}.get(slip, 1.0 / (n * steps))
    loss = -scale * log_probs[rows, cols, targets].sum()
    dlogits = np.exp(log_probs)
    if slip == "class_index":
        dlogits[..., targets] -= 1.0
    elif slip != "no_onehot":
        dlogits[rows, cols, targets] -= 1.0
    dlogits *= 1.0 if slip == "grad_not_scaled" else scale
    dWy = np.einsum("ntv,nth->hv" if slip == "dWy_transposed" else "ntv,nth->vh", dlogits, h)
    dby = dlogits.sum(axis=0 if slip == "dby_per_step" else (0, 1))
    _, _, dWx, dWh, db = bptt(dlogits @ Wy, cache)
    return float(loss), {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}


_sequence_slip = slip_factory(reference_sequence_loss_and_grads)


SEQUENCE_LOSS_AND_GRADS_SLIPS = (
    _sequence_slip("sum_over_time", "you summed the loss over time (Liao (2018)'s L = sum_t L_t) and averaged "
                                    "only over the batch. This model's loss is the mean over batch AND time: "
                                    "divide by N * T, in the loss and in dlogits."),
    _sequence_slip("grad_not_scaled", "the loss is divided by N * T, but dlogits is not: the gradient of a mean "
                                      "carries the same 1 / (N T)."),
    _sequence_slip("sum_all", "the loss is the plain sum over batch and time. It is the mean: divide by N * T, in "
                              "the loss and in dlogits."),
    _sequence_slip("no_onehot", "dlogits is the softmax without the one-hot targets subtracted: "
                                "dlogits = (y_t - onehot(target_t)) / (N T)."),
    _sequence_slip("class_index", "dlogits[..., targets] -= 1 subtracts 1 in every class that occurs anywhere in "
                                  "targets, at every step. Pick one entry per sequence and step: "
                                  "dlogits[rows, cols, targets] with rows, cols = np.indices(targets.shape)."),
    _sequence_slip("dWy_transposed", "dWy is the transpose of the right gradient: Wy is (V, H), so dWy = sum over "
                                     "n, t of dlogits[n, t] h_t^T, shape (V, H)."),
    _sequence_slip("dby_per_step", "dby still has a time axis: the output bias is shared by all steps, so sum "
                                   "dlogits over the batch AND time, axis=(0, 1)."),
)

SEQUENCE_STAGES = (
    Stage(("dWy", "dby"), "at the output: check dlogits = (softmax(logits) - onehot(targets)) / (N T)"),
    Stage(("dWx", "dWh", "db"), "between the output layer and the recurrence: check dh = dlogits @ Wy, the input "
                                "the BPTT function receives"),
)

SEQUENCE_NAMES = ("Wx", "Wh", "b", "Wy", "by")
SEQUENCE_CASES = (dict(N=2, T=4, V=5, H=3, seed=0), dict(N=3, T=5, V=4, H=3, seed=1))


def _sequence_loss(Wx, Wh, b, Wy, by, x, targets):
    return rnn_sequence_loss_and_grads({"Wx": Wx, "Wh": Wh, "b": b, "Wy": Wy, "by": by}, x, targets)[0]


def _check_sequence_case(sequence_loss_and_grads, N, T, V, H, seed):
    inputs = random_inputs({"Wx": (H, V), "Wh": (H, H), "b": (H,), "Wy": (V, H), "by": (V,)}, seed=seed, scale=0.5)
    inputs["x"] = np.eye(V)[random_labels(N * T, V, seed + 1).reshape(N, T)]
    inputs["targets"] = random_labels(N * T, V, seed + 2).reshape(N, T)

    def wrap(fn):
        def called(Wx, Wh, b, Wy, by, x, targets):
            return fn({"Wx": Wx, "Wh": Wh, "b": b, "Wy": Wy, "by": by}, x, targets, bptt=rnn_backward)

        called.__name__ = getattr(fn, "__name__", "your function")
        return called

    check_function_gradients(wrap(sequence_loss_and_grads), _sequence_loss, inputs, SEQUENCE_NAMES,
                             returns_loss=True, seed=seed,
                             allow=("rnn_backward",), name=f"sequence_loss_and_grads (N={N}, T={T})",
                             slips=bind_slips(SEQUENCE_LOSS_AND_GRADS_SLIPS, wrap), stages=SEQUENCE_STAGES)


def check_sequence_loss_and_grads(sequence_loss_and_grads, cases=None):
    """Exercise 6: sequence_loss_and_grads(params, x, targets, bptt) -> (loss, grads), graded with the library's
    BPTT (rnn_backward) as `bptt`, against rnn_sequence_loss_and_grads's loss and its finite differences.

    cases: dicts N, T, V (vocabulary size), H (hidden units), seed.
    """
    __tracebackhide__ = True
    run_cases(partial(_check_sequence_case, sequence_loss_and_grads), cases, SEQUENCE_CASES)


EXERCISES = (
    Exercise("rnn_step_backward", check_rnn_step_backward, reference_rnn_step_backward, RNN_STEP_BACKWARD_SLIPS),
    Exercise("liao_bptt", check_liao_bptt, reference_liao_bptt, LIAO_BPTT_SLIPS),
    Exercise("rnn_backward", check_rnn_backward, reference_rnn_backward, RNN_BACKWARD_SLIPS),
    Exercise("clip_by_global_norm", check_clip_by_global_norm, reference_clip_by_global_norm,
             CLIP_BY_GLOBAL_NORM_SLIPS),
    Exercise("sequence_loss_and_grads", check_sequence_loss_and_grads,
             partial(reference_sequence_loss_and_grads), SEQUENCE_LOSS_AND_GRADS_SLIPS),
)
