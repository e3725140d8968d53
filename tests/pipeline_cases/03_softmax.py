"""Wrong submissions for solutions/03_softmax: each loses exactly the points of its own exercise.

Most are catalogued slips of backprop.checks.softmax, so the feedback must name them ("Recognised
mistake: ..." followed by the slip's words).
"""
CASES = [
    # (cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in feedback)
    # no max subtraction: overflows for large logits
    ("log_softmax", "shifted = X - np.max(X, axis=1, keepdims=True)", "shifted = X", ["test_log_softmax"],
     ["infinite", "Recognised mistake", "exp(1000) overflows to inf"]),
    # the maximum of each column instead of each row
    ("log_softmax", "np.max(X, axis=1, keepdims=True)", "np.max(X, axis=0, keepdims=True)", ["test_log_softmax"],
     ["maximum of each column"]),
    # only the diagonal of the Jacobian (the element-wise rule of Huang (2018))
    ("softmax_jacobian", "np.diag(y) - np.outer(y, y)", "np.diag(y * (1 - y))", ["test_softmax_jacobian"],
     ["Recognised mistake", "you kept only the diagonal of the Jacobian", "right on its diagonal and wrong off it"]),
    # the "as written" exercise repaired: not the printed formula, which is what was asked
    ("jin_eq17_as_written", "for j in range(i, K))", "for j in range(K) if j != i)",
     ["test_jin_eq17_as_written"], ["you repaired the slip"]),
    # twice the printed formula: refuted by the gradient checker too, but it is not the printed formula
    ("jin_eq17_as_written", "out[i] = first + second", "out[i] = 2 * (first + second)",
     ["test_jin_eq17_as_written"], ["is not right", "exactly as printed"]),
    # the shortcut y - t, wrong when the targets do not sum to 1
    ("jin_eq19", "return -t + y * np.sum(t)", "return y - t", ["test_jin_eq19"],
     ["Recognised mistake", "you used the shortcut y - t"]),
    # batch sum where the loss takes a mean
    ("softmax_cross_entropy_backward", "return loss, dlogits / N", "return loss, dlogits",
     ["test_softmax_cross_entropy_backward"], ["batch size", "the gradient of the batch SUM"]),
    # sign flipped
    ("softmax_cross_entropy_backward", "return loss, dlogits / N", "return loss, -dlogits / N",
     ["test_softmax_cross_entropy_backward"], ["sign"]),
    # one column per label in every row instead of one entry per row
    ("softmax_cross_entropy_backward", "dlogits[np.arange(N), labels] -= 1.0", "dlogits[:, labels] -= 1.0",
     ["test_softmax_cross_entropy_backward"], ["subtracts 1 in every label"]),
    # Liao (2018)'s printed sign: gradient ascent
    ("weight_decay_step", "new[k] = w - lr * g", "new[k] = w + lr * g", ["test_weight_decay_step"],
     ["not right", "the step goes uphill"]),
    # decay applied to the biases too
    ("weight_decay_step", 'g = grads[k] + lam * w if k.startswith("W") else grads[k]', "g = grads[k] + lam * w",
     ["test_weight_decay_step"], ["not right", "the biases decay too"]),
    # missing activation derivative (tanh' = 1 - H^2)
    ("classifier_loss_and_grads", "D1 = (D2 @ W2) * (1.0 - H ** 2)", "D1 = D2 @ W2",
     ["test_classifier_loss_and_grads"], ["is missing in the hidden layer"]),
    # batch sum where the loss takes a mean
    ("classifier_loss_and_grads", "D2 /= N", "D2 /= 1", ["test_classifier_loss_and_grads"],
     ["the gradient of the batch SUM"]),
    # weight decay left out of dW2 only: not a catalogued slip; the stages say where it enters
    ("classifier_loss_and_grads", '"W2": D2.T @ H + lam * W2,', '"W2": D2.T @ H,',
     ["test_classifier_loss_and_grads"], ["dW2 wrong", "in how dW2 is formed"]),
    # derivation steps: Liao (2018)'s printed update rule; only the term j = i kept
    ("deriv_liao_update", '"w - eta*(dL_dw + lam*w)"', '"w + eta*dL_dw + lam*w"', ["test_deriv_liao_update"],
     ["as Liao (2018) prints it"]),
    ("deriv_dE_dxi", '"y_i - t_i"', '"-t_i*(1 - y_i)"', ["test_deriv_dE_dxi"], ["j = i"]),
]
