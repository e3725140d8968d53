"""Wrong submissions for solutions/03_softmax: each loses exactly the points of its own exercise."""
CASES = [
    # (cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in feedback)
    # no max subtraction: overflows for large logits
    ("log_softmax", "shifted = X - np.max(X, axis=1, keepdims=True)", "shifted = X", ["test_log_softmax"],
     ["infinite"]),
    # only the diagonal of the Jacobian (the element-wise rule of seed 001)
    ("softmax_jacobian", "np.diag(y) - np.outer(y, y)", "np.diag(y * (1 - y))", ["test_softmax_jacobian"],
     ["wrong"]),
    # the "as written" exercise repaired: the checker accepts it, which is not what was asked
    ("seed000_eq17_as_written", "for j in range(i, K))", "for j in range(K) if j != i)",
     ["test_seed000_eq17_as_written"], ["exactly as written"]),
    # the shortcut y - t, wrong when the targets do not sum to 1
    ("seed000_eq19", "return -t + y * np.sum(t)", "return y - t", ["test_seed000_eq19"], ["wrong"]),
    # batch sum where the loss takes a mean
    ("softmax_cross_entropy_backward", "return loss, dlogits / N", "return loss, dlogits",
     ["test_softmax_cross_entropy_backward"], ["batch size"]),
    # sign flipped
    ("softmax_cross_entropy_backward", "return loss, dlogits / N", "return loss, -dlogits / N",
     ["test_softmax_cross_entropy_backward"], ["sign"]),
    # seed 004's printed sign: gradient ascent
    ("weight_decay_step", "new[k] = w - lr * g", "new[k] = w + lr * g", ["test_weight_decay_step"], ["not right"]),
    # decay applied to the biases too
    ("weight_decay_step", 'g = grads[k] + lam * w if k.startswith("W") else grads[k]', "g = grads[k] + lam * w",
     ["test_weight_decay_step"], ["not right"]),
    # missing activation derivative (tanh' = 1 - H^2)
    ("classifier_loss_and_grads", "D1 = (D2 @ W2) * (1.0 - H ** 2)", "D1 = D2 @ W2",
     ["test_classifier_loss_and_grads"], ["wrong"]),
    # batch sum where the loss takes a mean
    ("classifier_loss_and_grads", "D2 /= N", "D2 /= 1", ["test_classifier_loss_and_grads"], ["batch size"]),
    # weight decay left out of dW2 (caught only by the hidden tests, which use lam > 0)
    ("classifier_loss_and_grads", '"W2": D2.T @ H + lam * W2,', '"W2": D2.T @ H,',
     ["test_classifier_loss_and_grads"], ["dW2"]),
    # derivation steps: seed 004's printed update rule; only the term j = i kept
    ("deriv_seed004_update", '"w - eta*(dL_dw + lam*w)"', '"w + eta*dL_dw + lam*w"', ["test_deriv_seed004_update"],
     ["seed 004"]),
    ("deriv_dE_dxi", '"y_i - t_i"', '"-t_i*(1 - y_i)"', ["test_deriv_dE_dxi"], ["j = i"]),
]
