"""backprop.checks.lenet5: right answers in any style pass, known slips are named, and the words
notebook 05 promises appear."""
from __future__ import annotations

import numpy as np
import pytest

from backprop import C3_TABLE, conv2d_backward
from backprop.checks import lenet5 as checks
from backprop.checks.catalogue import run_check
from backprop.grading import GradingError

A, S = 1.7159, 2.0 / 3.0


def exercise(name):
    return next(e for e in checks.EXERCISES if e.name == name)


def slip(name, key):
    return next(s for s in exercise(name).slips if s.key == key)


# ---------------------------------------------------------------- other correct styles
def counts_numpy_ints(table, trainable_subsampling=True):
    """Counts as numpy integers, computed layer by layer from shapes."""
    table = np.asarray(table)
    sub = np.int64(2) if trainable_subsampling else np.int64(0)
    return {"C1": np.prod((6, 1, 5, 5)) + 6, "S2": sub * 6, "C3": table.sum() * 25 + 16, "S4": sub * 16,
            "C5": np.int32(120 * 16 * 25 + 120), "F6": np.array(84 * 121), "out": float(10 * 85)}


def dscaled_tanh_via_arctanh(y, A=A, S=S):
    a = np.arctanh(y / A) / S
    return A * S / np.cosh(S * a) ** 2


def subsampling_loops(dout, cache):
    x_shape, size, stride, coeff, sums = cache
    N, C, OH, OW = dout.shape
    dx = np.zeros(x_shape)
    dcoeff, dbias = np.zeros(C), np.zeros(C)
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    dx[n, c, i * stride:i * stride + size, j * stride:j * stride + size] += coeff[c] * dout[n, c, i, j]
                    dcoeff[c] += dout[n, c, i, j] * sums[n, c, i, j]
                    dbias[c] += dout[n, c, i, j]
    return dx, dcoeff, dbias


def subsampling_kron_einsum(dout, cache):
    x_shape, size, stride, coeff, sums = cache
    dx = np.kron(dout * coeff[:, None, None], np.ones((size, size)))
    return dx, np.einsum("ncij,ncij->c", dout, sums), np.einsum("ncij->c", dout)


def as_written_einsum(delta, W, table):
    """The printed sum with einsum over the connected pairs: map d = sum_p T[p, d] fullconv(delta_d, W[d, p])."""
    N, D, OH, OW = delta.shape
    K = W.shape[-1]
    padded = np.pad(delta, ((0, 0), (0, 0), (K - 1, K - 1), (K - 1, K - 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (K, K), axis=(2, 3))   # (N, D, H, W, K, K)
    return np.einsum("ndhwpq,dpq->ndhw", windows, np.einsum("pd,dpuv->duv", table, W[:, :, ::-1, ::-1]))


def c3_backward_masked_library(dout, cache, table):
    """dx from the masked kernel through the library (the masked kernels are zero), dW masked by table.T."""
    dx, dW, db = conv2d_backward(dout, cache)
    return dx, dW * table.T[:, :, None, None], db


def c3_backward_einsum(dout, cache, table):
    x, W, b, stride, pad, cols = cache
    K = W.shape[-1]
    padded = np.pad(dout, ((0, 0), (0, 0), (K - 1, K - 1), (K - 1, K - 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (K, K), axis=(2, 3))   # (N, D, H, W, K, K)
    dx = np.einsum("ndhwuv,dpuv,pd->nphw", windows, W[:, :, ::-1, ::-1], table.astype(float))
    xwin = np.lib.stride_tricks.sliding_window_view(x, (K, K), axis=(2, 3))          # (N, P, OH, OW, K, K)
    dW = np.einsum("ndij,npijuv->dpuv", dout, xwin) * table.T[:, :, None, None]
    return dx, dW, dout.sum(axis=(0, 2, 3))


CORRECT_STYLES = [   # (exercise, a right answer in another style): tests/test_checks_catalogue.py runs them
    ("lenet5_parameter_counts", counts_numpy_ints),
    ("dscaled_tanh", dscaled_tanh_via_arctanh),
    ("dscaled_tanh", lambda y, A=A, S=S: np.float64(S) / A * (A - y) * (A + y)),
    ("subsampling_backward", subsampling_loops), ("subsampling_backward", subsampling_kron_einsum),
    ("c3_input_grad_as_written", as_written_einsum),
    ("c3_backward", c3_backward_masked_library), ("c3_backward", c3_backward_einsum),
]


HIDDEN_STYLE_CASES = {   # the kinds of cases the graded cells pass
    "lenet5_parameter_counts": [dict(table=np.ones((6, 16), dtype=bool), trainable_subsampling=False),
                                dict(table=np.eye(6, 16, dtype=bool), trainable_subsampling=True)],
    "dscaled_tanh": [dict(shape=(1, 1), seed=3), dict(shape=(2, 3, 4), seed=4)],
    "subsampling_backward": [dict(n=1, c=1, h=2, w=2, size=2, seed=5), dict(n=2, c=4, h=6, w=6, size=3, seed=6)],
    "c3_input_grad_as_written": [dict(n=1, h=6, seed=7)],
    "c3_backward": [dict(n=1, h=6, k=5, table=C3_TABLE, seed=8),
                    dict(n=2, h=5, k=2, table=np.eye(4, 5, dtype=bool) | np.eye(4, 5, k=1, dtype=bool), seed=9)],
}


# ---------------------------------------------------------------- the words notebook 05 promises
def test_intro_promise_connection_table_slip():
    failed, message, _ = run_check(exercise("c3_backward"), slip("c3_backward", "table_ignored").fn)
    assert failed and message.startswith(
        "Recognised mistake: dW is nonzero for kernels the connection table leaves out")


def test_intro_rule_conv2d_backward_allowed_in_exercise_5_only():
    """Intro: the backward functions are switched off, except conv2d_backward in Exercise 5."""
    failed, message, _ = run_check(exercise("c3_backward"), c3_backward_masked_library)
    assert not failed, message

    def library_subsampling(dout, cache):
        import backprop
        return backprop.subsample_backward(dout, cache)

    failed, message, _ = run_check(exercise("subsampling_backward"), library_subsampling)
    assert failed and "earns no credit" in message


@pytest.mark.parametrize("name, function", [
    ("lenet5_parameter_counts", "count_parameters"), ("dscaled_tanh", "scaled_tanh_grad_from_output"),
    ("lenet5_parameter_counts", "checks.lenet5.reference_parameter_counts"),
    ("dscaled_tanh", "checks.lenet5.reference_dscaled_tanh"),
    ("c3_input_grad_as_written", "checks.lenet5.printed_c3_input_grad"),
])
def test_intro_rule_the_function_that_answers_an_exercise_is_switched_off(name, function):
    import backprop

    def calls_it(*args):
        fn = backprop
        for part in function.split("."):
            fn = getattr(fn, part)
        if name == "lenet5_parameter_counts" and function == "count_parameters":
            return fn(backprop.init_lenet5(0), per_layer=True)
        return fn(*args)

    failed, message, _ = run_check(exercise(name), calls_it)
    assert failed and "earns no credit" in message


def test_section_5_promise_the_printed_formula_has_the_wrong_shape(capsys):
    """Notebook 05 after Exercise 4: the printed formula gives 16 maps where the input gradient has 6."""
    checks.check_c3_input_grad_as_written(checks.printed_c3_input_grad)
    out = capsys.readouterr().out
    assert "has shape (2, 16, 8, 8), but it must have the shape of the variable, (2, 6, 8, 8)" in out
    assert "As expected, the checker refutes this formula (shape)" in out


def test_subsampling_quarter_slip_says_one_quarter():
    failed, message, _ = run_check(exercise("subsampling_backward"), slip("subsampling_backward", "dx_quarter").fn)
    assert failed and "1/4" in message


# ---------------------------------------------------------------- the "as written" exercise (issue 12, item 7)
@pytest.mark.parametrize("wrong, words", [
    (lambda d, W, T, _p=checks.printed_c3_input_grad: 2 * _p(d, W, T), "2 times"),
    (lambda d, W, T, _p=checks.printed_c3_input_grad: np.zeros_like(_p(d, W, T)), "only zeros"),
    (lambda d, W, T, _p=checks.printed_c3_input_grad: _p(d, W, T)[:, ::-1].copy(), "not right"),
], ids=["twice", "zeros", "maps reversed"])
def test_as_written_must_be_the_printed_formula(wrong, words):
    """These used to earn the point: the graded cell only asked for a refutation of kind "shape"."""
    failed, message, _ = run_check(exercise("c3_input_grad_as_written"), wrong)
    assert failed and words in message, message


def test_as_written_uses_the_graders_own_printed_formula():
    calls = []

    def as_printed(delta, W, table):
        calls.append(1)
        out = np.zeros(delta.shape[:2] + (delta.shape[2] + 4, delta.shape[3] + 4))
        for d, p in zip(*np.nonzero(table.T)):
            out[:, d] += checks.full_conv(delta[:, d], W[d, p])
        return out

    checks.check_c3_input_grad_as_written(as_printed, cases=[dict(n=1, h=6, seed=1)], as_printed=as_printed)
    assert calls
    with pytest.raises(GradingError, match="exactly as written"):
        checks.check_c3_input_grad_as_written(slip("c3_input_grad_as_written", "repaired").fn,
                                              cases=[dict(n=1, h=6, seed=1)], as_printed=as_printed)


def test_counts_refuse_a_dict_without_every_layer():
    with pytest.raises(GradingError, match="must return a dict with the keys"):
        checks.check_lenet5_parameter_counts(lambda table, trainable_subsampling=True: {"C1": 156})


def test_full_conv_is_the_notebooks_helper():
    a = np.random.default_rng(0).standard_normal((2, 4, 4))
    k = np.random.default_rng(1).standard_normal((3, 3))
    expected = np.zeros((2, 6, 6))
    for p in range(3):
        for q in range(3):
            expected[:, p:p + 4, q:q + 4] += k[p, q] * a
    assert np.allclose(checks.full_conv(a, k), expected)


def test_subsampling_says_where_the_error_enters():
    def only_dx(dout, cache):
        dx, dcoeff, dbias = subsampling_kron_einsum(dout, cache)
        return 1.3 * dx, dcoeff, dbias

    failed, message, _ = run_check(exercise("subsampling_backward"), only_dx)
    assert failed and message.startswith("dx wrong, although dcoeff and dbias, computed from the same error signal")
    assert "1.3x the right value" in message


def test_the_message_the_intro_quotes_is_one_the_checker_gives():
    import json
    import re
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "solutions/05_lenet5/05_lenet5.ipynb").read_text())
    quotes = re.findall(r'\*"(.+?)"\*', nb["cells"][0]["source"], flags=re.S)
    assert len(quotes) == 1
    quote = " ".join(quotes[0].split()).rstrip(". ")
    _, message, _ = run_check(exercise("c3_backward"), slip("c3_backward", "table_ignored").fn)
    assert quote in " ".join(message.split())
