"""backprop.grading: the helpers every graded notebook cell uses.

Right code passes; each kind of wrong code fails with its own diagnosis; bad return values,
unimplemented stubs, crashes and calls to the reference give a clear GradingError (never a crash
inside the helper); nothing is written to stderr; the reference is restored afterwards.
"""
from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import backprop
from backprop import dense_forward, sigmoid, softmax_cross_entropy
from backprop.grading import (references_allowed, BadReturn, GradingError, NotImplementedYet, ReferenceCalled, StudentCodeError,
                              WrongGradient, WrongValue, blocked_reference, call_student, check_derivative,
                              check_function_gradients, check_layer_backward, check_value, expect_wrong,
                              random_inputs, random_labels)

SHAPES = {"x": (4, 3), "W": (2, 3), "b": (2,)}


def good(dout, cache):
    x, W, _ = cache
    return dout @ W, dout.T @ x, dout.sum(axis=0)


def check_dense(fn, seed=0, shapes=SHAPES, **kw):
    check_layer_backward(fn, dense_forward, random_inputs(shapes, seed), ("x", "W", "b"), seed=seed, **kw)


# ------------------------------------------------------------------ right code passes

@pytest.mark.parametrize("seed,n,d,m", [(0, 4, 3, 2), (1, 1, 5, 3), (2, 7, 2, 2), (3, 1, 1, 1)])
def test_right_backward_passes_on_several_shapes(seed, n, d, m, capsys):
    check_dense(good, seed, {"x": (n, d), "W": (m, d), "b": (m,)})
    out, err = capsys.readouterr()
    assert "dW" in out and "ok" in out and "agree" in out
    assert err == ""


def test_dict_and_single_array_returns_are_accepted():
    check_dense(lambda dout, cache: dict(zip(("dx", "dW", "db"), good(dout, cache))))
    check_dense(lambda dout, cache: dict(zip(("x", "W", "b"), good(dout, cache))))
    check_layer_backward(lambda dout, cache: dout @ cache[1], dense_forward, random_inputs(SHAPES, 0), "x", seed=0)


# ------------------------------------------------------------------ each mistake has its diagnosis

@pytest.mark.parametrize("wrong,label,kind", [
    (lambda dout, c: (-(dout @ c[1]), dout.T @ c[0], dout.sum(0)), "dx", "sign"),
    (lambda dout, c: (dout @ c[1], dout.T @ c[0] / dout.shape[0], dout.sum(0)), "dW", "scale"),
    (lambda dout, c: (dout @ c[1], dout.T @ c[0], 2 * dout.sum(0)), "db", "scale"),
    (lambda dout, c: (dout @ c[1], np.zeros_like(c[1]), dout.sum(0)), "dW", "zero"),
])
def test_wrong_gradients_are_refuted_with_the_right_kind(wrong, label, kind, capsys):
    with pytest.raises(WrongGradient) as info:
        check_dense(wrong, seed=5)
    assert info.value.kinds == {label: kind}
    out, err = capsys.readouterr()
    assert f"WRONG ({kind})" in out and err == ""


def test_transposed_weight_gradient_non_square_says_transpose():
    with pytest.raises(WrongGradient, match="transpose") as info:
        check_dense(lambda dout, c: (dout @ c[1], c[0].T @ dout, dout.sum(0)))
    assert info.value.kinds == {"dW": "transpose"}


def test_transposed_weight_gradient_square_says_transpose():
    with pytest.raises(WrongGradient) as info:
        check_dense(lambda dout, c: (dout @ c[1], (dout.T @ c[0]).T, dout.sum(0)),
                    shapes={"x": (5, 3), "W": (3, 3), "b": (3,)})
    assert info.value.kinds == {"dW": "transpose"}


def test_batch_sum_where_the_loss_takes_the_mean_names_the_batch_size():
    inputs = random_inputs({"W": (3, 4), "b": (3,), "x": (5, 4)}, seed=2)
    inputs["y"] = random_labels(5, 3, seed=2)

    def loss(W, b, x, y):
        return softmax_cross_entropy(x @ W.T + b, y)[0]

    def summed(W, b, x, y):
        _, d = softmax_cross_entropy(x @ W.T + b, y)
        return {"dW": d.T @ x * len(y), "db": d.sum(0)}

    with pytest.raises(WrongGradient, match="batch") as info:
        check_function_gradients(summed, loss, inputs, ("W", "b"), seed=1, batch_size=5)
    assert info.value.kinds == {"dW": "scale"}


# ------------------------------------------------------------------ bad returns never crash the helper

@pytest.mark.parametrize("ret,kind,words", [
    (lambda dout, c: None, None, "return"),
    (lambda dout, c: [1.0, 2.0], None, "expected 3"),
    (lambda dout, c: good(dout, c)[:2], None, "expected 3"),
    (lambda dout, c: (good(dout, c)[0].astype(np.float32),) + good(dout, c)[1:], "dtype", "float32"),
    (lambda dout, c: (good(dout, c)[0].tolist(),) + good(dout, c)[1:], "type", "list"),
    (lambda dout, c: (good(dout, c)[0] * np.nan,) + good(dout, c)[1:], "nonfinite", "NaN"),
    (lambda dout, c: (good(dout, c)[0].astype(int),) + good(dout, c)[1:], "dtype", "integer"),
    (lambda dout, c: (good(dout, c)[0][:, :1],) + good(dout, c)[1:], "shape", "shape"),
    (lambda dout, c: "dx", None, "str"),
    (lambda dout, c: {"dx": 1}, None, "key"),
])
def test_bad_return_values_get_a_clear_message(ret, kind, words):
    with pytest.raises(BadReturn) as info:
        check_dense(ret)
    assert words.lower() in str(info.value).lower()
    if kind:
        assert info.value.kinds.get("dx") == kind


def test_not_implemented_says_so():
    def stub(dout, cache):
        raise NotImplementedError()

    with pytest.raises(NotImplementedYet, match="not implemented yet"):
        check_dense(stub)


def test_not_implemented_in_a_helper_names_it():
    def helper():
        raise NotImplementedError

    def student(dout, cache):
        return helper()

    with pytest.raises(NotImplementedYet, match="raised in helper"):
        check_dense(student)


def test_exception_in_student_code_is_explained():
    with pytest.raises(StudentCodeError, match="ValueError"):
        check_dense(lambda dout, c: dout @ c[0])


def test_mutating_dout_is_refused():
    def mutating(dout, cache):
        dout[0, 0] = 0.0
        return good(dout, cache)

    with pytest.raises(BadReturn, match="in place"):
        check_dense(mutating)


def test_not_a_function():
    with pytest.raises(BadReturn, match="should be a function"):
        check_dense(np.zeros(3))


# ------------------------------------------------------------------ the reference is blocked, then restored

def test_calling_the_reference_earns_no_credit_and_is_restored():
    original = backprop.dense_backward
    for student in (lambda dout, c: backprop.dense_backward(dout, c),
                    lambda dout, c: backprop.dense.dense_backward(dout, c)):
        with pytest.raises(ReferenceCalled, match="earns no credit"):
            check_dense(student)
    assert backprop.dense_backward is original and backprop.dense.dense_backward is original
    check_layer_backward(backprop.dense_backward, dense_forward, random_inputs(SHAPES, 0), ("x", "W", "b"),
                         seed=0, block=False)


def test_catching_the_blocked_error_does_not_help():
    def sneaky(dout, cache):
        try:
            return backprop.dense_backward(dout, cache)
        except Exception:
            return good(dout, cache)

    with pytest.raises(ReferenceCalled, match="even when the error is caught"):
        check_dense(sneaky)


def test_names_imported_into_the_student_globals_are_blocked():
    namespace = {"dense_backward": backprop.dense_backward}
    exec("def student(dout, cache):\n    return dense_backward(dout, cache)\n", namespace)
    with pytest.raises(ReferenceCalled):
        check_dense(namespace["student"])
    assert namespace["dense_backward"] is backprop.dense_backward


def test_blocked_reference_restores_on_error_and_allow_also():
    original = backprop.sigmoid_grad
    with pytest.raises(RuntimeError):
        with blocked_reference(also=("sigmoid_grad",)) as state:
            assert backprop.sigmoid_grad is not original
            assert "dense_backward" in state.blocked
            raise RuntimeError("boom")
    assert backprop.sigmoid_grad is original
    with blocked_reference(allow=("dense_backward",)):
        backprop.dense_backward(np.ones((1, 2)), dense_forward(np.ones((1, 3)), np.ones((2, 3)), np.ones(2))[1])
    with pytest.raises(ValueError, match="no 'nonexistent'"):
        with blocked_reference(also=("nonexistent",)):
            pass


def test_reference_used_by_the_grader_itself_is_not_blocked():
    # numerical_gradient is blocked for the student, but the checker still uses it afterwards
    check_derivative(lambda u: sigmoid(u) * (1 - sigmoid(u)), sigmoid, seed=0,
                     also=("numerical_gradient", "sigmoid_grad"))


# ------------------------------------------------------------------ stdout only

def test_student_stderr_and_warnings_go_to_stdout(capsys):
    def noisy(dout, cache):
        print("debug", file=sys.stderr)
        warnings.warn("careful")
        np.log(np.zeros(1))
        return good(dout, cache)

    check_dense(noisy)
    out, err = capsys.readouterr()
    assert err == ""
    assert "debug" in out and "careful" in out and "divide by zero" in out


def test_failure_table_goes_to_stdout(capsys):
    with pytest.raises(WrongGradient):
        check_dense(lambda dout, c: (-(dout @ c[1]), dout.T @ c[0], dout.sum(0)))
    out, err = capsys.readouterr()
    assert err == "" and "rel. error" in out and "sign" in out


# ------------------------------------------------------------------ derivatives, values, expect_wrong

def test_check_derivative_right_wrong_and_from_output():
    check_derivative(lambda u: sigmoid(u) * (1 - sigmoid(u)), sigmoid, seed=3)
    check_derivative(lambda y: y * (1 - y), sigmoid, seed=3, from_output=True)
    check_derivative(lambda y: 1 - y ** 2, np.tanh, seed=3, from_output=True, shape=(5,))
    with pytest.raises(WrongGradient):
        check_derivative(lambda u: 1 - np.tanh(u), np.tanh, seed=3)
    with pytest.raises(WrongGradient) as info:
        check_derivative(lambda u: -(1 - np.tanh(u) ** 2), np.tanh, seed=3)
    assert list(info.value.kinds.values()) == ["sign"]


def test_relu_derivative_skips_the_kink():
    check_derivative(lambda u: (u > 0).astype(float), backprop.relu, x=np.array([-1.0, 0.0, 0.5, 2.0]))
    check_derivative(lambda u: (u >= 0).astype(float), backprop.relu, x=np.array([-1.0, 0.0, 0.5, 2.0]))
    with pytest.raises(WrongGradient):
        check_derivative(lambda u: (u < 0).astype(float), backprop.relu, x=np.array([-1.0, 0.0, 0.5, 2.0]))


def test_check_value():
    check_value(np.array([1.0, 2.0]), [1.0, 2.0], name="v")
    check_value(0.5, 0.5, name="s")
    with pytest.raises(WrongValue, match="2 times"):
        check_value(np.array([2.0, 4.0]), [1.0, 2.0], name="v")
    with pytest.raises(WrongValue, match="expected 1, got 3"):
        check_value(3.0, 1.0, name="s")
    with pytest.raises(BadReturn, match="None"):
        check_value(None, 1.0, name="s")


# ------------------------------------------------------------------ integers, values and gradients

INTEGER_FORMS = [4, np.int64(4), np.int32(4), np.uint8(4), np.array(4), np.array(4, dtype=np.int16), 4.0,
                 np.float64(4.0), np.array(4.0), np.floor_divide(7 + 2 - 3, 2) + 1]


@pytest.mark.parametrize("got", INTEGER_FORMS, ids=lambda v: f"{type(v).__name__}")
@pytest.mark.parametrize("expected", [4, np.int64(4)], ids=["int", "np.int64"])
def test_integer_answers_accept_every_integer_type(got, expected, capsys):
    check_value(got, expected, name="output_size(7, 3, 2, 1)")
    assert "output_size(7, 3, 2, 1): ok" in capsys.readouterr().out


@pytest.mark.parametrize("got,words", [
    (3.5, "is 3.5, but it must be a whole number"),
    (np.float64(3.5), "floor division //"),
    (True, "a bool"),
    (np.array([4]), "must be a single number"),
    ("4", "not an integer"),
    (np.array(4.0 + 0j), "complex"),
])
def test_integer_answers_refuse_what_is_not_one(got, words):
    with pytest.raises(BadReturn) as info:
        check_value(got, 4, name="output_size(8, 3, 2, 0)")
    assert words in str(info.value)
    assert "gradient" not in str(info.value)


@pytest.mark.parametrize("got", [3, np.int64(3), np.array(3), 3.0])
def test_a_wrong_integer_says_expected_and_got(got):
    with pytest.raises(WrongValue, match=r"expected 4, got 3\.") as info:
        check_value(got, 4, name="size")
    assert "gradient" not in str(info.value)


def test_integer_arrays_and_counts_in_a_dict():
    check_value(np.array([1516, 6, 0]), np.array([1516, 6, 0]), name="counts")
    check_value(np.array([1516.0, 6.0, 0.0]), np.array([1516, 6, 0]), name="counts")
    with pytest.raises(WrongValue, match="expected 1516"):
        check_value(np.array([2416, 6, 0]), np.array([1516, 6, 0]), name="counts")


@pytest.mark.parametrize("got", [0.05, np.float64(0.05), np.array(0.05), np.longdouble(0.05),
                                 np.array([0.05])[0]], ids=lambda v: type(v).__name__)
def test_values_accept_python_and_numpy_scalars_and_0d_arrays(got, capsys):
    check_value(got, 0.05, name="learning rate")
    assert "learning rate: ok" in capsys.readouterr().out


def test_value_messages_never_call_it_a_gradient():
    for got in (np.float32(0.05), np.array([1, 2]), [0.05], np.array([0.05, 0.05])):
        try:
            check_value(got, 0.05, name="the loss")
        except (BadReturn, WrongValue) as err:
            assert "gradient" not in str(err), str(err)
        else:  # pragma: no cover - every one of these must be refused
            pytest.fail(f"{got!r} was accepted as the loss 0.05")
    check_value(np.array([1, 2]), [1.0, 2.0], name="integer-valued array")   # values decide, not the dtype


def test_check_value_what_gradient_keeps_the_strict_rule():
    with pytest.raises(BadReturn, match="a gradient must be float64"):
        check_value(np.array([1, 2]), [1.0, 2.0], name="g", what="gradient")


def test_longdouble_gradient_gets_the_truthful_reason():
    def longdouble(dout, c):
        dx, dW, db = good(dout, c)
        return dx.astype(np.longdouble), dW, db

    if np.dtype(np.longdouble).itemsize <= 8:  # pragma: no cover - platforms where longdouble is float64
        pytest.skip("np.longdouble is float64 here")
    with pytest.raises(BadReturn) as info:
        check_dense(longdouble)
    text = str(info.value)
    assert info.value.kinds.get("dx") == "dtype"
    assert "extended precision" in text and "compares dtypes exactly" in text and ".astype(np.float64)" in text
    assert "rounding error is too large" not in text


def test_call_student_passes_arguments_and_blocks():
    assert call_student(lambda a, b=0: a + b, 1, b=2) == 3
    with pytest.raises(ReferenceCalled):
        call_student(lambda: backprop.sigmoid_grad(np.zeros(2)), also=("sigmoid_grad",))


def test_expect_wrong():
    inputs = {"yhat": np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]), "y": np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])}

    def loss(yhat, y):
        return -np.sum(y * np.log(yhat))

    as_written = lambda yhat, y: y / yhat  # noqa: E731 - Liao (2018)'s slip: the minus sign is missing
    fixed = lambda yhat, y: -y / yhat  # noqa: E731
    expect_wrong(check_function_gradients, as_written, loss, inputs, "yhat", kind="sign")
    expect_wrong(check_function_gradients, as_written, loss, inputs, "yhat")
    with pytest.raises(WrongGradient, match="accepts this formula"):
        expect_wrong(check_function_gradients, fixed, loss, inputs, "yhat", kind="sign")
    with pytest.raises(WrongGradient, match="expected scale"):
        expect_wrong(check_function_gradients, as_written, loss, inputs, "yhat", kind="scale")
    with pytest.raises(NotImplementedYet):
        expect_wrong(check_function_gradients, lambda yhat, y: (_ for _ in ()).throw(NotImplementedError()),
                     loss, inputs, "yhat", kind="sign")


def test_returns_loss_is_compared():
    inputs = {"yhat": np.array([[0.2, 0.8]]), "y": np.array([[1.0, 0.0]])}

    def loss(yhat, y):
        return -np.sum(y * np.log(yhat))

    check_function_gradients(lambda yhat, y: (loss(yhat, y), -y / yhat), loss, inputs, "yhat", returns_loss=True)
    with pytest.raises(WrongValue, match="loss"):
        check_function_gradients(lambda yhat, y: (2 * loss(yhat, y), -y / yhat), loss, inputs, "yhat",
                                 returns_loss=True)


@pytest.mark.parametrize("form", [float, np.float64, np.array, lambda v: np.array([v])[0], np.longdouble],
                         ids=["float", "np.float64", "0-d array", "numpy scalar from an array", "longdouble"])
def test_a_returned_loss_may_be_any_real_scalar(form):
    inputs = {"yhat": np.array([[0.2, 0.8]]), "y": np.array([[1.0, 0.0]])}

    def loss(yhat, y):
        return -np.sum(y * np.log(yhat))

    check_function_gradients(lambda yhat, y: (form(loss(yhat, y)), -y / yhat), loss, inputs, "yhat",
                             returns_loss=True)
    with pytest.raises(BadReturn) as info:
        check_function_gradients(lambda yhat, y: (np.float32(loss(yhat, y)), -y / yhat), loss, inputs, "yhat",
                                 returns_loss=True)
    assert "the loss" in str(info.value) and "gradient" not in str(info.value)


def test_random_inputs():
    a = random_inputs({"x": (100,)}, seed=1, avoid_kinks=True)["x"]
    b = random_inputs({"x": (100,)}, seed=1, avoid_kinks=True)["x"]
    assert a.dtype == np.float64 and np.array_equal(a, b) and np.all(np.abs(a) >= 0.1)
    assert np.all(random_inputs({"p": (50,)}, seed=2, positive=("p",))["p"] > 0)
    labels = random_labels(20, 4, seed=0)
    assert labels.shape == (20,) and labels.min() >= 0 and labels.max() < 4


def test_all_failures_are_assertion_errors():
    for cls in (NotImplementedYet, StudentCodeError, ReferenceCalled, BadReturn, WrongGradient, WrongValue):
        assert issubclass(cls, GradingError) and issubclass(cls, AssertionError)


def test_mutating_a_dataclass_cache_is_refused():
    from dataclasses import dataclass

    @dataclass
    class Cache:
        x: np.ndarray
        W: np.ndarray

    def forward(x, W, b):
        return x @ W.T + b, Cache(x, W)

    def mutating(dout, cache):
        cache.x *= 2.0
        return dout @ cache.W, dout.T @ (cache.x / 2.0), dout.sum(0)

    def right(dout, cache):
        return dout @ cache.W, dout.T @ cache.x, dout.sum(0)

    inputs = random_inputs(SHAPES, 4)
    check_layer_backward(right, forward, inputs, ("x", "W", "b"), seed=4)
    with pytest.raises(BadReturn, match="cache in place"):
        check_layer_backward(mutating, forward, inputs, ("x", "W", "b"), seed=4)


def test_the_checks_own_references_are_switched_off_for_students():
    """Copying an exercise's reference from backprop.checks earns nothing, like the library's backward."""
    from backprop.checks import batched_mlp

    def copied(Delta, A_prev, W):
        return batched_mlp.reference_layer_backward_batch(Delta, A_prev, W)

    with pytest.raises(GradingError, match="reference implementation"):
        batched_mlp.check_layer_backward_batch(copied)
    batched_mlp.check_layer_backward_batch(lambda D, A, W: (D @ W, D.T @ A, D.sum(axis=0)))   # written out: passes
    with references_allowed():   # the course's own tools may run the reference through the check
        batched_mlp.check_layer_backward_batch(copied)
