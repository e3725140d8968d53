"""backprop.checks.mlp: right answers in any style pass, known slips are named, where the error enters is
said, and the words notebook 01 promises appear."""
from __future__ import annotations

import numpy as np
import pytest

from backprop import get_activation
from backprop.checks import mlp as checks
from backprop.checks.catalogue import run_check

# The mistakes here are built from the exercises' references, which stay switched on for them.
pytestmark = pytest.mark.usefixtures("references_on")
from backprop.grading import GradingError


def exercise(name):
    return next(e for e in checks.EXERCISES if e.name == name)


def printed_summary(a_hat, n_hat, S, activation):
    return np.diag(get_activation(activation).df(n_hat)).T @ S


# ---------------------------------------------------------------- other correct styles
def output_delta_loops(y, t, z, activation, convention="half"):
    df = get_activation(activation).df
    out = np.empty(len(y))
    for j in range(len(y)):
        dE = (y[j] - t[j]) if convention == "half" else 2.0 * (y[j] - t[j])
        out[j] = dE * df(z[j:j + 1])[0]
    return out


def delta_step_einsum(delta_next, W_next, z, activation):
    return np.einsum("ki,k->i", W_next, delta_next) * get_activation(activation).df(z)


def delta_step_row_vector(delta_next, W_next, z, activation):
    return (delta_next[None, :] @ W_next)[0] * get_activation(activation).df(z)


def layer_gradients_broadcast(delta, a_prev):
    return delta[:, None] * a_prev[None, :], np.asarray(delta)


def layer_gradients_transposed_copy(delta, a_prev):
    return np.outer(a_prev, delta).T, delta[:]


def backward_sample_unit_by_unit(params, cache, t, convention="half"):
    """Sugihara (2021)'s BackPropagate, one unit and one weight at a time."""
    a, z, acts = cache["a"], cache["z"], cache["activations"]
    L = len(acts)
    factor = 1.0 if convention == "half" else 2.0
    p = [factor * (a[L][i] - t[i]) * get_activation(acts[L - 1]).df(z[L][i:i + 1])[0] for i in range(len(t))]
    grads = {}
    for l in range(L, 0, -1):
        W = params[f"W{l}"]
        grads[f"dW{l}"] = np.array([[p[i] * a[l - 1][j] for j in range(W.shape[1])] for i in range(W.shape[0])])
        grads[f"db{l}"] = np.array(p, dtype=np.float64)
        if l > 1:
            df = get_activation(acts[l - 2]).df(z[l - 1])
            p = [sum(p[i] * W[i, j] for i in range(W.shape[0])) * df[j] for j in range(W.shape[1])]
    return grads


def backward_sample_einsum(params, cache, t, convention="half"):
    a, z, acts = cache["a"], cache["z"], cache["activations"]
    L = len(acts)
    delta = (1.0 if convention == "half" else 2.0) * (a[L] - t) * get_activation(acts[-1]).df(z[L])
    grads = {}
    for l in range(L, 0, -1):
        grads[f"W{l}"], grads[f"b{l}"] = np.einsum("i,j->ij", delta, a[l - 1]), delta
        if l > 1:
            delta = np.einsum("ij,i->j", params[f"W{l}"], delta) * get_activation(acts[l - 2]).df(z[l - 1])
    return grads


CORRECT_STYLES = [   # (exercise, a right answer in another style): tests/test_checks_catalogue.py runs them
    ("output_delta", output_delta_loops),
    ("delta_step", delta_step_einsum), ("delta_step", delta_step_row_vector),
    ("layer_gradients", layer_gradients_broadcast), ("layer_gradients", layer_gradients_transposed_copy),
    ("layer_gradients", lambda delta, a_prev: (np.multiply.outer(delta, a_prev), delta * 1.0)),
    ("backward_sample", backward_sample_unit_by_unit), ("backward_sample", backward_sample_einsum),
    ("summary_as_written", lambda a_hat, n_hat, S, activation: get_activation(activation).df(n_hat) * S),
    ("input_major_layer_gradients", lambda a_hat, S: (np.einsum("l,c->lc", a_hat, S), np.array(S))),
    ("input_major_layer_gradients", lambda a_hat, S: (a_hat[:, None] @ S[None, :], S + 0.0)),
]


HIDDEN_STYLE_CASES = {   # the kinds of cases the graded cells pass
    "output_delta": [dict(activation="relu", convention="sum", n=1, seed=13),
                     dict(activation="softplus", convention="sum", n=4, seed=15)],
    "delta_step": [dict(activation="relu", n_next=3, n=1, seed=24), dict(activation="sigmoid", n_next=1, n=5, seed=23)],
    "layer_gradients": [dict(n=1, n_prev=3, seed=32), dict(n=3, n_prev=1, seed=33)],
    "backward_sample": [dict(sizes=(2, 6, 5, 1, 3), activations=("tanh", "relu", "sigmoid", "softplus"),
                             convention="sum", seed=42),
                        dict(sizes=(1, 1, 1), activations=("sigmoid", "identity"), convention="sum", seed=44)],
    "summary_as_written": [dict(H=5, seed=51)],
    "input_major_layer_gradients": [dict(H=1, L=4, seed=62), dict(H=3, L=1, seed=63)],
}


def slip(exercise_name, key):
    return next(s for s in exercise(exercise_name).slips if s.key == key)


# ---------------------------------------------------------------- what the notebook promises
def test_intro_quotes_the_transpose_message():
    """Section 0 quotes "Recognised mistake: dW is transposed: you wrote a (delta)^T"."""
    failed, message, _ = run_check(exercise("layer_gradients"), slip("layer_gradients", "transposed").fn)
    assert failed and "Recognised mistake: dW is transposed: you wrote a (delta)^T" in message


def test_transpose_recognised_in_square_and_non_square_layers():
    """Section 5: the checker recognises the transpose from the shape in one layer and the values in the other."""
    wrong = slip("layer_gradients", "transposed").fn
    for case in (dict(n=4, n_prev=4, seed=1), dict(n=3, n_prev=5, seed=0)):
        with pytest.raises(GradingError, match="dW is transposed") as err:
            checks.check_layer_gradients(wrong, cases=[case])
        assert err.value.kinds["dW"] in ("transpose", "shape")


def test_other_convention_is_a_factor_two_and_sign_is_named():
    """Sections 3 and Exercise 1d: a factor 2 is the other convention; a sign is t - y versus y - t."""
    failed, message, printed = run_check(exercise("output_delta"), slip("output_delta", "other_convention").fn)
    assert failed and "a factor 2: your dE/dy belongs to the other squared-error convention" in message
    assert "WRONG (scale)" in printed
    failed, message, printed = run_check(exercise("output_delta"), slip("output_delta", "sign").fn)
    assert failed and "you wrote t - y where y - t belongs" in message and "WRONG (sign)" in printed


def test_summary_table_kinds():
    """The summary of notebook 01 explains the kinds transpose, sign, scale and partial: each shows up."""
    shown = {
        ("backward_sample", "dW_transposed"): "WRONG (transpose)",
        ("backward_sample", "sign"): "WRONG (sign)",
        ("backward_sample", "other_convention"): "WRONG (scale)",
        ("backward_sample", "no_sigma_prime"): "WRONG (partial)",
    }
    for (name, key), words in shown.items():
        failed, _, printed = run_check(exercise(name), slip(name, key).fn)
        assert failed and words in printed, (key, printed)


def test_where_the_error_enters_without_a_known_slip():
    """Exercise 4: when only some gradients are wrong, the checker says which are right and where the error enters."""
    def sigma_prime_of_a_in_hidden_layers_only(params, cache, t, convention="half"):
        cache = dict(cache, z=[None] + list(cache["a"][1:-1]) + [cache["z"][-1]])
        return checks.reference_backward_sample(params, cache, t, convention)

    failed, message, _ = run_check(exercise("backward_sample"), sigma_prime_of_a_in_hidden_layers_only)
    assert failed and message.startswith("dW3 and db3 right; ")
    assert "the error enters between layer 3 and layer 2: check sigma_2'(z^2)" in message
    assert "wrong as a consequence" in message


def test_W_instead_of_W_transposed_in_a_non_square_layer_gets_a_shape_hint():
    with pytest.raises(GradingError, match="TRANSPOSE of the weights"):
        checks.check_delta_step(slip("delta_step", "W_not_transposed").fn,
                                cases=[dict(activation="tanh", n_next=3, n=5, seed=0)])


@pytest.mark.parametrize("wrong", [
    lambda a_hat, n_hat, S, activation: 2 * printed_summary(a_hat, n_hat, S, activation),
    lambda a_hat, n_hat, S, activation: np.zeros_like(S),
    lambda a_hat, n_hat, S, activation: np.outer(a_hat, S)[:, 0],
], ids=["twice", "zeros", "a_column"])
def test_as_written_must_be_the_printed_formula(wrong):
    """Each is refuted by the gradient checker with kind "shape", yet none is the printed formula."""
    checks.check_summary_as_written(wrong)     # the visible part alone would accept it ...
    with pytest.raises(GradingError, match="exactly as printed"):
        checks.check_summary_as_written(wrong, cases=[dict(H=5, seed=51)], as_printed=printed_summary)


def test_as_written_repaired_fails_without_the_printed_formula_too():
    with pytest.raises(GradingError, match="exactly as written"):
        checks.check_summary_as_written(lambda a_hat, n_hat, S, activation: np.outer(a_hat, S))


def test_forward_sample_is_the_notebooks_contract():
    params = {"W1": np.ones((2, 3)), "b1": np.zeros(2), "W2": np.ones((1, 2)), "b2": np.zeros(1)}
    y, cache = checks.forward_sample(params, np.array([1.0, 0.0, -1.0]), ["relu", "identity"])
    assert y.shape == (1,) and cache["z"][0] is None and len(cache["a"]) == 3
    assert cache["activations"] == ["relu", "identity"]
    with pytest.raises(ValueError, match="convention"):
        checks.sample_loss(y, y, "mean")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_sigma_prime_applied_twice_is_named_by_the_known_factor(activation):
    """Not a catalogued slip: sigma'(z) applied twice in the output delta, or in one recursion step."""
    def twice(y, t, z, act, convention="half"):
        dE_dy = (y - t) if convention == "half" else -2.0 * (t - y)
        return dE_dy * get_activation(act).df(z) ** 2

    failed, message, _ = run_check(exercise("output_delta"), twice)
    assert failed and "multiplied by sigma'(z): an extra factor of sigma'(z)" in message, message

    def step_twice(delta_next, W_next, z, act):
        return get_activation(act).df(z) ** 2 * (W_next.T @ delta_next)

    failed, message, _ = run_check(exercise("delta_step"), step_twice)
    assert failed and "an extra factor of sigma'(z)" in message, message
