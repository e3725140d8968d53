"""Wrong submissions for solutions/06_rnn_bptt: each must lose exactly the listed graded cells.

(cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in the feedback)
`old` occurs exactly once in the solution cell named first. Most are catalogued slips of
backprop.checks.rnn_bptt, so the feedback must name them ("Recognised mistake: ...").
"""

CASES = [
    # BPTT that ignores h_{t-1}: the gradient arriving from step t+1 through h_t's second consumer (the next
    # cell) is dropped, so only the last time step is right; the slip is named, dx says which steps.
    ("rnn_backward", "delta = (dh[:, t] + carry) * (1.0 - h[:, t] ** 2)", "delta = dh[:, t] * (1.0 - h[:, t] ** 2)",
     ["test_rnn_backward"], ["Recognised mistake", "you dropped the path through h_{t-1}", "time steps"]),
    # tanh' taken at the previous state: 1 - h_{t-1}^2
    ("rnn_backward", "delta = (dh[:, t] + carry) * (1.0 - h[:, t] ** 2)",
     "delta = (dh[:, t] + carry) * (1.0 - h_prev[:, t] ** 2)",
     ["test_rnn_backward"], ["the tanh derivative at the wrong time step"]),
    # the weight gradients of the last visited step only (= instead of +=)
    ("rnn_backward", "dWx += delta.T @ x[:, t]\n        dWh += delta.T @ h_prev[:, t]\n        db += delta.sum(axis=0)",
     "dWx = delta.T @ x[:, t]\n        dWh = delta.T @ h_prev[:, t]\n        db = delta.sum(axis=0)",
     ["test_rnn_backward"], ["instead of adding"]),
    # dh0 left at zero
    ("rnn_backward", "return dx, carry, dWx, dWh, db", "return dx, np.zeros_like(carry), dWx, dWh, db",
     ["test_rnn_backward"], ["dh0 is zero"]),
    # One step back: dWh built from the new state h_t instead of the state h_{t-1} that Wh multiplied.
    ("rnn_step_backward", "dWh = delta.T @ cache.h_prev", "dWh = delta.T @ cache.h",
     ["test_rnn_step_backward"], ["dWh", "WRONG", "dWh uses the new state h_t"]),
    # One step back: tanh' at the wrong time index
    ("rnn_step_backward", "delta = dh_t * (1.0 - cache.h ** 2)", "delta = dh_t * (1.0 - cache.h_prev ** 2)",
     ["test_rnn_step_backward"], ["the derivative at the previous step"]),
    # Liao (2018)'s last line taken at its word: sum_t sum_k delta_{t,k} returned as dL/dU (= dWh).
    ("liao_bptt", "return dWx, dWh, db", "return dWx, db, db",
     ["test_liao_bptt"], ["dWh", "shape", "third line"]),
    # Liao (2018)'s missing base case filled in without f'(z_t): delta_{t,t} = dL_t/dh_t.
    ("liao_bptt", "delta = dh[:, t] * fprime[:, t]", "delta = dh[:, t]",
     ["test_liao_bptt"], ["dWh", "WRONG", "your base case is"]),
    # Liao (2018)'s L = sum_t L_t instead of the mean over time: loss and gradients T times too large.
    ("sequence_loss_and_grads", "scale = 1.0 / (n * steps)", "scale = 1.0 / n",
     ["test_sequence_loss_and_grads"], ["loss", "ratio", "you summed the loss over time"]),
    # Clipping each array on its own changes the direction of the update.
    ("clip_by_global_norm", "return {name: g * factor for name, g in grads.items()}, norm",
     "return {name: g * min(1.0, max_norm / np.linalg.norm(g)) for name, g in grads.items()}, norm",
     ["test_clip_by_global_norm"], ["same factor", "you clipped each array by its own norm"]),
    # A short gradient stretched to length max_norm.
    ("clip_by_global_norm", "factor = min(1.0, max_norm / norm) if norm > 0 else 1.0", "factor = max_norm / norm",
     ["test_clip_by_global_norm"], ["even when the gradient was shorter"]),
    # The one-unit derivation with f'(z_{k+1}) instead of f'(z_k): the derivative taken at the wrong step.
    ("delta_recursion_scalar", "(1 - h_k**2)", "(1 - h_next**2)", ["test_delta_recursion_scalar"], ["f'(z_{k+1})"]),
    # The derivation step with the indices of Wh swapped (W instead of W^T).
    ("delta_recursion", "Wh[j, i]", "Wh[i, j]", ["test_delta_recursion"], ["swapped"]),
    # Calling the library's BPTT instead of writing it earns nothing.
    ("rnn_backward", "x, h, Wx, Wh = cache.x, cache.h, cache.Wx, cache.Wh",
     "return backprop.rnn_backward(dh, cache)",
     ["test_rnn_backward"], ["reference implementation"]),
]
