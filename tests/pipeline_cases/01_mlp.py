"""Wrong submissions for solutions/01_mlp: each loses exactly the points of its own exercise."""
CASES = [
    # (cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in feedback)
    # sign flipped: t - y where y - t belongs
    ("output_delta", "dE_dy = y - t", "dE_dy = t - y", ["test_output_delta"], ["you wrote t - y where y - t belongs"]),
    # the other squared-error convention: gradient of 0.5||t - y||^2 used for ||t - y||^2
    ("output_delta", "dE_dy = -2.0 * (t - y)", "dE_dy = -(t - y)", ["test_output_delta"],
     ["other squared-error convention"]),
    # missing activation derivative at the output
    ("output_delta", "return dE_dy * get_activation(activation).df(z)", "return dE_dy",
     ["test_output_delta"], ["sigma'(z^L) is missing"]),
    # missing activation derivative in the recursion
    ("delta_step", "get_activation(activation).df(z) * (W_next.T @ delta_next)", "W_next.T @ delta_next",
     ["test_delta_step"], ["you left sigma'(z^l) out"]),
    # W instead of W^T in the recursion
    ("delta_step", "(W_next.T @ delta_next)", "(W_next @ delta_next)", ["test_delta_step"],
     ["instead of its transpose"]),
    # transposed weight gradient
    ("layer_gradients", "np.outer(delta, a_prev)", "np.outer(a_prev, delta)", ["test_layer_gradients"],
     ["dW is transposed", "transpose"]),
    # transposed weight gradient inside the full backward pass
    ("backward_sample", "np.outer(delta, a[l - 1])", "np.outer(a[l - 1], delta)", ["test_backward_sample"],
     ["every dW is transposed"]),
    # activation derivative of the wrong layer (sigma_l instead of sigma_{l-1})
    ("backward_sample", "get_activation(acts[l - 2]).df(z[l - 1])", "get_activation(acts[l - 1]).df(z[l - 1])",
     ["test_backward_sample"], ["layer l-1's own"]),
    # sigma' of the hidden layers taken at a^{l-1}: no catalogued slip, the checker says where the error enters
    ("backward_sample", "df(z[l - 1])", "df(a[l - 1])", ["test_backward_sample"],
     ["right; ", "the error enters between layer 3 and layer 2"]),
    # sign flipped in the full backward pass
    ("backward_sample", "a[L] - t if", "t - a[L] if", ["test_backward_sample"], ["the sign is flipped"]),
    # the "as written" exercise repaired: the checker accepts it, which is not what was asked
    ("summary_as_written", "return A_hat.T @ S", "return np.outer(a_hat, S)",
     ["test_summary_as_written"], ["exactly as written"]),
    # twice the printed formula: refuted as well, but not the printed formula
    ("summary_as_written", "return A_hat.T @ S", "return 2 * A_hat.T @ S", ["test_summary_as_written"],
     ["exactly as printed"]),
    # our output-major formula delta a^T used in the input-major layout: the transpose
    ("input_major_layer_gradients", "np.outer(a_hat, S)", "np.outer(S, a_hat)", ["test_input_major_layer_gradients"],
     ["output-major formula"]),
    # derivation steps: sign of dE/dy, swapped weight indices in the recursion
    ("deriv_dE_dy", 'answer_dE_dy_half = "-(t - y)"', 'answer_dE_dy_half = "t - y"', ["test_deriv_dE_dy"], ["sign"]),
    ("deriv_delta_hidden", "W[k, i]", "W[i, k]", ["test_deriv_delta_hidden"], ["swapped"]),
]
