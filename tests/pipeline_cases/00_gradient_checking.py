"""Wrong submissions for solutions/00_gradient_checking: each loses exactly the points of its own exercise."""
CASES = [
    # (cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in feedback)
    # forward difference with the central step: off by a term of order h
    ("central_difference", "(f(x + h) - f(x - h)) / (2.0 * h)", "(f(x + h) - f(x)) / h",
     ["test_central_difference"], ["central_difference", "not right"]),
    # divides by h instead of 2h: every value twice the right one
    ("central_difference", "/ (2.0 * h)", "/ h", ["test_central_difference"], ["2 times"]),
    # forgets to restore the entry: later entries are measured at the wrong point
    ("numerical_gradient", "        x.flat[i] = old\n", "", ["test_numerical_gradient"], ["put every entry back"]),
    # relative error divided by |n| only (not symmetric, nan at 0)
    ("relative_error", "denom = np.maximum(np.abs(a), np.abs(n))", "denom = np.abs(n)",
     ["test_relative_error"], ["relative_error"]),
    # sigmoid derivative with the wrong sign inside
    ("sigmoid_prime", "return y * (1.0 - y)", "return y * (1.0 + y)", ["test_sigmoid_prime"], ["wrong"]),
    # the missing square: 1 - y instead of 1 - y^2
    ("sigmoid_prime", "return 1.0 - y * y", "return 1.0 - y", ["test_tanh_prime_from_output"], ["wrong"]),
    # open interval instead of closed
    ("straddles_kink", "<= h", "< h", ["test_straddles_kink"], ["closed interval"]),
    # the as-written exercise silently repaired: the checker accepts it, which is not what was asked
    ("scaled_tanh_prime_as_written", "LECUN_A * LECUN_S * (1.0 - y ** 2)",
     "(LECUN_S / LECUN_A) * (LECUN_A ** 2 - y ** 2)", ["test_scaled_tanh_prime_as_written"], ["exactly as written"]),
    # the slip kept in the corrected version
    ("scaled_tanh_prime_from_output", "(LECUN_S / LECUN_A) * (LECUN_A ** 2 - y ** 2)", "LECUN_A * LECUN_S * (1.0 - y ** 2)",
     ["test_scaled_tanh_prime_from_output"], ["partial"]),
    # a missing activation derivative: sigmoid itself instead of its derivative
    ("sigmoid_prime", "    y = sigmoid(u)\n    return y * (1.0 - y)", "    return sigmoid(u)",
     ["test_sigmoid_prime"], ["wrong"]),
]
