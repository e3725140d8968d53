"""Wrong submissions for solutions/00_gradient_checking: each loses exactly the points of its own exercise."""
CASES = [
    # (cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in feedback)
    # forward difference with the central step: a catalogued slip, named
    ("central_difference", "(f(x + h) - f(x - h)) / (2.0 * h)", "(f(x + h) - f(x)) / h",
     ["test_central_difference"], ["one-sided (forward) difference"]),
    # divides by h instead of 2h: every value twice the right one
    ("central_difference", "/ (2.0 * h)", "/ h", ["test_central_difference"], ["divided by h instead of 2h"]),
    # `/ 2 * h`: Python divides by 2, then multiplies by h
    ("central_difference", "/ (2.0 * h)", "/ 2.0 * h", ["test_central_difference"], ["left to right"]),
    # forgets to restore the entry: the visible check and the graded cell both say so
    ("numerical_gradient", "        x.flat[i] = old\n", "", ["test_numerical_gradient"], ["did not put x back"]),
    # the same step for every entry
    ("numerical_gradient", "s = h * max(1.0, abs(old))", "s = h", ["test_numerical_gradient"],
     ["same step h for every entry"]),
    # relative error divided by |n| only (not symmetric)
    ("relative_error", "denom = np.maximum(np.abs(a), np.abs(n))", "denom = np.abs(n)",
     ["test_relative_error"], ["divided by |n| only"]),
    # sigmoid derivative with the wrong sign inside
    ("sigmoid_prime", "return y * (1.0 - y)", "return y * (1.0 + y)", ["test_sigmoid_prime"],
     ["sigma(u)(1 + sigma(u))"]),
    # a missing activation derivative: sigmoid itself instead of its derivative
    ("sigmoid_prime", "    y = sigmoid(u)\n    return y * (1.0 - y)", "    return sigmoid(u)",
     ["test_sigmoid_prime"], ["sigma(u) itself"]),
    # the missing square: 1 - y instead of 1 - y^2
    ("tanh_prime_from_output", "return 1.0 - y * y", "return 1.0 - y", ["test_tanh_prime_from_output"],
     ["you wrote 1 - y"]),
    # open interval instead of closed
    ("straddles_kink", "<= h", "< h", ["test_straddles_kink"], ["closed interval"]),
    # the as-written exercise silently repaired: the checker accepts it, which is not what was asked
    ("scaled_tanh_prime_as_written", "LECUN_A * LECUN_S * (1.0 - y ** 2)",
     "(LECUN_S / LECUN_A) * (LECUN_A ** 2 - y ** 2)", ["test_scaled_tanh_prime_as_written"], ["exactly as written"]),
    # twice the printed formula: refuted as well, but not the printed formula
    ("scaled_tanh_prime_as_written", "return LECUN_A * LECUN_S * (1.0 - y ** 2)",
     "return 2 * LECUN_A * LECUN_S * (1.0 - y ** 2)", ["test_scaled_tanh_prime_as_written"],
     ["exactly as written, slip included"]),
    # the slip kept in the corrected version
    ("scaled_tanh_prime_from_output", "(LECUN_S / LECUN_A) * (LECUN_A ** 2 - y ** 2)",
     "LECUN_A * LECUN_S * (1.0 - y ** 2)", ["test_scaled_tanh_prime_from_output"], ["kept the classmate's slip"]),
]
