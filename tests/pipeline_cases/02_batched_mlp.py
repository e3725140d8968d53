"""Wrong submissions for solutions/02_batched_mlp: each loses exactly the points of its own exercise."""
CASES = [
    # (cell grade_id, old text, new text, graded grade_ids expected to get 0, words expected in feedback)
    # transposed weight gradient
    ("layer_backward_batch", "Delta.T @ A_prev", "A_prev.T @ Delta", ["test_layer_backward_batch"], ["transpose"]),
    # bias gradient averaged instead of summed over the batch (a catalogued slip: named in its own words)
    ("layer_backward_batch", "Delta.sum(axis=0)", "Delta.mean(axis=0)", ["test_layer_backward_batch"],
     ["Recognised mistake: db averages Delta over the batch"]),
    # the "as printed" formula repaired with 1/N: the checker no longer confirms it for the sum
    ("delta_L_as_printed", "return -2.0 * (T - Y)", "return -2.0 / len(Y) * (T - Y)", ["test_delta_L_as_printed"],
     ["batch size"]),
    # batch sum where the loss takes a mean
    ("output_delta_mean", "-2.0 / N * (T - Y)", "-2.0 * (T - Y)", ["test_output_delta_mean"],
     ["batch size", "Recognised mistake: the 1/N of the mean is missing"]),
    # sign flipped
    ("output_delta_mean", "-2.0 / N * (T - Y)", "2.0 / N * (T - Y)", ["test_output_delta_mean"], ["sign"]),
    # batch sum where the loss takes a mean, in the full backward pass
    ("backward_batch", "Delta = Delta / N", "Delta = Delta", ["test_backward_batch"], ["batch size"]),
    # transposed weight gradient in the full backward pass
    ("backward_batch", "Delta.T @ A[l - 1]", "A[l - 1].T @ Delta", ["test_backward_batch"], ["transpose"]),
    # missing activation derivative in the recursion: named, and where the error enters
    ("backward_batch", " * get_activation(acts[l - 2]).df(Z[l - 1])", "", ["test_backward_batch"],
     ["Recognised mistake: you left sigma'(Z^l) out of the step"]),
    # no reshuffle each epoch (one order for the whole run)
    ("train_minibatch", "order = rng.permutation(N)", "order = np.arange(N)", ["test_train_minibatch"],
     ["rng.permutation"]),
    # the step goes uphill
    ("train_minibatch", "params[k] -= lr * grads[k]", "params[k] += lr * grads[k]", ["test_train_minibatch"],
     ["uphill"]),
    # learning rate scaled the wrong way
    ("sum_loss_learning_rate", "lr_mean / batch_size", "lr_mean * batch_size", ["test_sum_loss_learning_rate"],
     ["not right", "Recognised mistake: you multiplied by the batch size"]),
    # derivation step: Jin (2016)'s eq. (3) copied as printed
    ("deriv_jin_delta", '"-2*(t - y)*y*(1 - y)"', '"-(2/n)*(t - y)*y*(1 - y)"', ["test_deriv_jin_delta"],
     ["eq. (3)"]),
]
