"""The gradient checker: accurate, catches every wrong gradient, never fails a right one."""
import numpy as np
import pytest

from backprop import check_gradients, numerical_gradient, numerical_vjp, relative_error, GradientCheckError
from backprop.gradcheck import DEFAULT_STEP, directional_derivative


def smooth(x):
    return float(np.sum(np.sin(x) * np.exp(x / 3) + 0.1 * x ** 3))


def smooth_grad(x):
    return np.cos(x) * np.exp(x / 3) + np.sin(x) * np.exp(x / 3) / 3 + 0.3 * x ** 2


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 4), (2, 3, 4)])
def test_numerical_gradient_is_accurate_on_smooth_functions(shape, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, size=shape)
    num = numerical_gradient(smooth, x)
    exact = smooth_grad(x)
    # relative to the scale of the gradient: entries near 0 have no meaningful relative error
    assert np.max(np.abs(num - exact)) / np.max(np.abs(exact)) < 1e-8


def test_numerical_gradient_restores_x_even_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    calls = []

    def f(z):
        calls.append(z.copy())
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(np.sum(z))

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    assert np.array_equal(x, before)


def test_numerical_gradient_uses_relative_step_for_large_entries():
    x = np.array([1e6, -3e5])
    num = numerical_gradient(lambda z: float(np.sum(z ** 2)), x)
    np.testing.assert_allclose(num, 2 * x, rtol=1e-9)


def test_numerical_gradient_refuses_float32_and_lists():
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(smooth, np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="numpy array"):
        numerical_gradient(smooth, [1.0, 2.0])


def test_numerical_gradient_refuses_non_scalar_f():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda z: z * 2, np.ones(3))


def test_numerical_vjp_matches_jacobian_transpose_product():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 3))
    x = rng.standard_normal(3)
    dout = rng.standard_normal(4)
    num = numerical_vjp(lambda z: np.tanh(A @ z), x, dout)
    exact = A.T @ (dout * (1 - np.tanh(A @ x) ** 2))
    np.testing.assert_allclose(num, exact, rtol=1e-8, atol=1e-11)


def test_directional_derivative():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(20)
    v = rng.standard_normal(20)
    v /= np.linalg.norm(v)
    assert directional_derivative(smooth, x, v) == pytest.approx(float(smooth_grad(x) @ v), rel=1e-8)


def test_relative_error_definition():
    assert relative_error(1.0, 1.0) == 0
    assert relative_error(0.0, 0.0) == 0
    assert relative_error(2.0, 1.0) == pytest.approx(0.5)
    assert relative_error(1e-20, 0.0, floor=1e-10) == pytest.approx(1e-10)


def _quadratic_problem(seed, shape):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal(shape)
    C = rng.standard_normal(shape)

    def f(A):
        return float(np.sum(C * A ** 2) + np.sum(np.sin(A)))

    return f, A, 2 * C * A + np.cos(A)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(1,), (5,), (4, 6), (30, 40), (3, 4, 5, 6)])
def test_right_gradients_always_pass(shape, seed):
    f, A, g = _quadratic_problem(seed, shape)
    report = check_gradients(f, {"A": A}, {"A": g})
    assert report.ok


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(5,), (4, 6), (30, 40)])
def test_a_single_wrong_entry_is_always_caught(shape, seed):
    """Even when the tensor is too large to check every entry (sampled + random directions)."""
    f, A, g = _quadratic_problem(seed, shape)
    bad = g.copy()
    i = np.random.default_rng(seed + 100).integers(bad.size)
    bad.flat[i] += 1e-3 * max(1.0, abs(bad.flat[i]))
    with pytest.raises(GradientCheckError) as err:
        check_gradients(f, {"A": A}, {"A": bad})
    assert err.value.report["A"].diagnosis.kind == "partial"
    assert "WRONG" in str(err.value)


def test_tiny_and_zero_gradients_never_raise_false_alarms():
    # a loss of order 1e6 whose gradient has exact zeros and entries at rounding-noise level
    x = np.array([0.0, 1e-9, 1.0, 2.0])
    w = np.array([0.0, 1e-12, 3.0, 0.0])

    def f(x):
        return 1e6 + float(np.sum(w * x ** 2))

    assert check_gradients(f, {"x": x}, {"x": 2 * w * x}).ok


def test_scaled_functions_large_and_small():
    x = np.random.default_rng(0).standard_normal(10)
    for k in (1e-8, 1e8):
        assert check_gradients(lambda x: k * smooth(x), {"x": x}, {"x": k * smooth_grad(x)}).ok


@pytest.mark.parametrize("offset", [0.0, 1e-7, 2e-6, 3.3e-6, 5e-6, 9.9e-6, -3.4e-6])
def test_relu_kinks_are_detected_and_skipped(offset):
    """Inputs at or within one step of ReLU's kink: skipped, reported, never a false alarm."""
    x = np.array([offset, 1.0, -2.0, 0.5])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    right = w * (x > 0)
    report = check_gradients(lambda x: float(np.sum(w * np.maximum(x, 0))), {"x": x}, {"x": right})
    assert report.ok
    assert report["x"].kinks <= 1


def test_kink_does_not_hide_a_wrong_entry_elsewhere():
    x = np.array([0.0, 1.0, -2.0, 0.5])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    wrong = w * (x > 0)
    wrong[1] = -2.0
    with pytest.raises(GradientCheckError):
        check_gradients(lambda x: float(np.sum(w * np.maximum(x, 0))), {"x": x}, {"x": wrong})


def test_max_ties_are_kinks():
    x = np.array([1.0, 1.0, 0.3])
    report = check_gradients(lambda x: float(np.max(x)), {"x": x}, {"x": np.array([1.0, 0.0, 0.0])})
    assert report.ok and report["x"].kinks == 2


def test_dout_form_checks_vector_jacobian_products():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    report = check_gradients(lambda x: np.tanh(x), {"x": x}, {"x": dout * (1 - np.tanh(x) ** 2)}, dout=dout)
    assert report.ok
    with pytest.raises(GradientCheckError):
        check_gradients(lambda x: np.tanh(x), {"x": x}, {"x": dout * np.tanh(x)}, dout=dout)


def test_inputs_are_restored_and_unknown_gradients_refused():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((50, 50))
    before = A.copy()
    check_gradients(lambda A: float(np.sum(A ** 2)), {"A": A}, {"A": 2 * A})
    assert np.array_equal(A, before)
    with pytest.raises(ValueError, match="not among the inputs"):
        check_gradients(lambda A: 0.0, {"A": A}, {"B": A})


def test_report_table_lists_every_tensor():
    x = np.ones(3)
    y = np.ones(2)
    report = check_gradients(lambda x, y: float(np.sum(x) * np.sum(y)), {"x": x, "y": y}, {"x": 2 * x, "y": 3 * y})
    text = str(report)
    assert "x" in text and "y" in text and "ok" in text


def test_non_finite_loss_is_a_clear_error():
    with pytest.raises(ValueError, match="returns nan"):
        check_gradients(lambda x: float("nan"), {"x": np.ones(2)}, {"x": np.ones(2)})


def test_default_step_is_near_cube_root_of_eps():
    eps = np.finfo(float).eps
    assert 0.5 * eps ** (1 / 3) < DEFAULT_STEP < 5 * eps ** (1 / 3)


def test_one_tolerance_rule_and_one_rtol():
    from backprop import diagnosis, gradcheck, grading, rules

    assert gradcheck.DEFAULT_RTOL is rules.DEFAULT_RTOL and grading.DEFAULT_RTOL is rules.DEFAULT_RTOL
    assert diagnosis.DEFAULT_RTOL is rules.DEFAULT_RTOL
    assert not hasattr(gradcheck, "_agrees") and not hasattr(diagnosis, "_allclose")
    assert rules.agrees(1.0, 1.0 + 5e-6) and not rules.agrees(1.0, 1.0 + 5e-5)
    assert rules.agrees(0.0, 1e-12, atol=1e-11) and not rules.agrees(0.0, 1e-12)


def _elementwise_problem(shape, seed=0):
    """f(z) = sum(dout * sigmoid(z)); its gradient is dout * sigma'(z)."""
    rng = np.random.default_rng(seed)
    z, dout = rng.standard_normal(shape), rng.standard_normal(shape)
    s = 1 / (1 + np.exp(-z))
    return (lambda z: float(np.sum(dout * (1 / (1 + np.exp(-z)))))), z, dout * s * (1 - s), s * (1 - s)


@pytest.mark.parametrize("shape", [(4, 5), (30, 40)])   # full and sampled checks
def test_known_factors_pass_through_check_gradients(shape):
    f, z, g, sprime = _elementwise_problem(shape)
    factors = {"sigma'(z)": sprime, "unrelated": np.ones(3)}
    with pytest.raises(GradientCheckError) as info:
        check_gradients(f, {"z": z}, {"z": g / sprime}, known_factors=factors)
    d = info.value.report["z"].diagnosis
    assert d.kind == "factor" and "missing a factor of sigma'(z)" in d.message
    with pytest.raises(GradientCheckError) as info:
        check_gradients(f, {"z": z}, {"z": g * sprime}, known_factors=factors)
    assert "an extra factor of sigma'(z)" in info.value.report["z"].diagnosis.message
    check_gradients(f, {"z": z}, {"z": g}, known_factors=factors)   # right: no false alarm


def test_check_gradients_names_a_one_pixel_shift():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((1, 2, 6, 6))
    right = np.cos(x) * w
    wrong = np.zeros_like(right)
    wrong[..., :, 1:] = right[..., :, :-1]
    with pytest.raises(GradientCheckError) as info:
        check_gradients(lambda x: float(np.sum(np.sin(x) * w)), {"x": x}, {"x": wrong}, layout={"x": "NCHW"})
    d = info.value.report["x"].diagnosis
    assert d.kind == "shift" and "shifted by 1 pixel right" in d.message


def test_results_table_layout_and_sampled_rows():
    from backprop.gradcheck import TABLE_HEAD, format_table

    text = format_table(TABLE_HEAD, [("dW", "(2, 3)", "1.0e-10", "ok"), ("db", "(2,)", "2.0e+00", "WRONG (sign)")])
    lines = text.splitlines()
    assert lines[0].split() == ["gradient", "shape", "rel.", "error", "result"] and set(lines[1]) == {"-"}
    assert lines[2].index("1.0e-10") + len("1.0e-10") == lines[3].index("2.0e+00") + len("2.0e+00")  # right-aligned
    f, A, g = _quadratic_problem(0, (30, 40))
    report = check_gradients(f, {"A": A}, {"A": g})
    assert report["A"].cells() == ("A", "(30, 40)", f"{report['A'].max_rel_error:.1e}",
                                   "ok, sampled 24 entries + 4 directions")
    assert "sampled 24 entries + 4 directions" in str(report)
