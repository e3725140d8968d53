"""Wrong submissions for solutions/05_lenet5: each loses exactly the points of its own exercise."""
CASES = [
    # (cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in feedback)
    # C3 counted as fully connected (the connection table ignored in the count)
    ("lenet5_parameter_counts", '"C3": int(table.sum()) * 5 * 5 + 16,', '"C3": 16 * 6 * 5 * 5 + 16,',
     ["test_lenet5_parameter_counts"], ["Recognised mistake", "fully connected", "1516"]),
    # derivative of the scaled tanh with y used as if it were tanh(S a) (A and S misplaced)
    ("dscaled_tanh", "return (S / A) * (A * A - y * y)", "return A * S * (1 - y * y)",
     ["test_dscaled_tanh"], ["Recognised mistake", "tanh(S a) = y / A"]),
    # mean-pool form mixed with the sum-pool coefficient: dx divided by 4 once too often
    ("subsampling_backward", "dx = coeff[None, :, None, None] * spread", "dx = coeff[None, :, None, None] * spread / 4",
     ["test_subsampling_backward"], ["Recognised mistake", "1/4"]),
    # the "as written" exercise repaired (sum over the output maps): the checker accepts it
    ("c3_input_grad_as_written",
     "    result = np.zeros((N, D, OH + K - 1, OW + K - 1))\n    for d in range(D):\n"
     "        for p in range(table.shape[0]):\n            if table[p, d]:\n"
     "                result[:, d] += full_conv(delta[:, d], W[d, p])",
     "    result = np.zeros((N, table.shape[0], OH + K - 1, OW + K - 1))\n    for d in range(D):\n"
     "        for p in range(table.shape[0]):\n            if table[p, d]:\n"
     "                result[:, p] += full_conv(delta[:, d], W[d, p])",
     ["test_c3_input_grad_as_written"], ["exactly as written"]),
    # twice the printed formula: it used to earn the point (only the refutation's kind was checked)
    ("c3_input_grad_as_written", "    return result", "    return 2 * result", ["test_c3_input_grad_as_written"],
     ["2 times"]),
    # connection table ignored: C3 kernel gradients computed for unconnected pairs too
    ("c3_backward", "dW = dW * table.T[:, :, None, None]", "dW = dW", ["test_c3_backward"],
     ["Recognised mistake", "connection table"]),
]
