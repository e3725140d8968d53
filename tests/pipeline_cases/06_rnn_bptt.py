"""Wrong submissions for solutions/06_rnn_bptt: each must lose exactly the listed graded cells.

(cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in the feedback)
`old` occurs exactly once in the solution cell named first.
"""

CASES = [
    # Issue 5's required case: BPTT that ignores h_{t-1}. The gradient arriving from step t+1 through
    # h_t's second consumer (the next cell) is dropped, so only the last time step is right.
    ("rnn_backward", "delta = (dh[:, t] + carry) * (1.0 - h[:, t] ** 2)", "delta = dh[:, t] * (1.0 - h[:, t] ** 2)",
     ["test_rnn_backward"], ["time steps", "h_{t-1}"]),
    # One step back: dWh built from the new state h_t instead of the state h_{t-1} that Wh multiplied.
    ("rnn_step_backward", "dWh = delta.T @ cache.h_prev", "dWh = delta.T @ cache.h",
     ["test_rnn_step_backward"], ["dWh", "WRONG"]),
    # Seed 004's last line taken at its word: sum_t sum_k delta_{t,k} returned as dL/dU (= dWh).
    ("seed_bptt", "return dWx, dWh, db", "return dWx, db, db",
     ["test_seed_bptt"], ["dWh", "shape"]),
    # Seed 004's missing base case filled in without f'(z_t): delta_{t,t} = dL_t/dh_t.
    ("seed_bptt", "delta = dh[:, t] * fprime[:, t]", "delta = dh[:, t]",
     ["test_seed_bptt"], ["dWh", "WRONG"]),
    # Seed 004's L = sum_t L_t instead of the mean over time: loss and gradients T times too large.
    ("sequence_loss_and_grads", "scale = 1.0 / (n * steps)", "scale = 1.0 / n",
     ["test_sequence_loss_and_grads"], ["loss", "ratio"]),
    # Clipping each array on its own changes the direction of the update.
    ("clip_by_global_norm", "return {name: g * factor for name, g in grads.items()}, norm",
     "return {name: g * min(1.0, max_norm / np.linalg.norm(g)) for name, g in grads.items()}, norm",
     ["test_clip_by_global_norm"], ["same factor"]),
    # The one-unit derivation with f'(z_{k+1}) instead of f'(z_k): the derivative taken at the wrong step.
    ("delta_recursion_scalar", "(1 - h_k**2)", "(1 - h_next**2)", ["test_delta_recursion_scalar"], ["f'(z_{k+1})"]),
    # The derivation step with the indices of Wh swapped (W instead of W^T).
    ("delta_recursion", "Wh[j, i]", "Wh[i, j]", ["test_delta_recursion"], ["swapped"]),
    # Calling the library's BPTT instead of writing it earns nothing.
    ("rnn_backward", "x, h, Wx, Wh = cache.x, cache.h, cache.Wx, cache.Wh",
     "return backprop.rnn_backward(dh, cache)",
     ["test_rnn_backward"], ["reference implementation"]),
]
