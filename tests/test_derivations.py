"""The derivation checker: equivalent forms accepted, common slips named, bad input explained."""
import sympy as sp
import pytest

from backprop.derivations import (
    STEPS, DerivationCheck, assert_derivation, assert_step, check_derivation, check_step, step_symbols,
)

# ---------------------------------------------------------------- every catalogued step and slip


@pytest.mark.parametrize("key", sorted(STEPS))
def test_expected_expression_is_accepted(key):
    result = check_step(key, STEPS[key].expected)
    assert result.ok and result.kind == "ok", result
    assert result.method == "symbolic"


@pytest.mark.parametrize("key,slip", [(k, s) for k in sorted(STEPS) for s in STEPS[k].slips],
                         ids=lambda v: v if isinstance(v, str) else v.expr)
def test_every_known_slip_is_rejected_with_its_own_message(key, slip):
    for seed in (0, 7):
        result = check_step(key, slip.expr, seed=seed)
        assert not result.ok
        assert result.kind == slip.kind
        assert result.message == slip.message
        assert result.diff_text and result.latex


@pytest.mark.parametrize("key", sorted(STEPS))
def test_alternatives_are_accepted_with_their_note(key):
    for alt, note in STEPS[key].alternatives:
        result = check_step(key, alt)
        assert result.ok and note in result.message


# ---------------------------------------------------------------- equivalent forms students write
EQUIVALENT = [
    ("mlp.dE_dy.half", ["y - t", "-t + y", "-(t - y)", "(-1)*(t - y)", "-t+y+0*n"]),
    ("mlp.dE_dy.sum", ["2*(y - t)", "2y - 2t", "-2(t - y)", "-2*t + 2*y", "(t - y)*(-2)"]),
    ("mlp.dE_dy.mean", ["2*(y - t)/n", "-2/n*(t - y)", "(2y - 2t)/n", "-(2/n)*(t-y)", "2*y/n - 2*t/n"]),
    ("mlp.sigmoid_prime", ["a*(1 - a)", "a - a**2", "a - a^2", "a(1-a)", "-a*(a - 1)", "y*(1 - y)", "y(1-y)"]),
    ("mlp.tanh_prime", ["1 - a**2", "(1 - a)*(1 + a)", "1-a^2", "-(a - 1)*(a + 1)", "1 - y**2"]),
    ("mlp.delta_output", ["(y - t)*y*(1 - y)", "-(t - y)*y*(1 - y)", "-y**3 + y**2 + t*y**2 - t*y",
                          "(t - y)*y*(y - 1)"]),
    ("mlp.delta_hidden", ["a[i]*(1 - a[i])*Sum(W[k, i]*delta_next[k], (k, 1, K))",
                          "Sum(a[i]*(1 - a[i])*W[k, i]*delta_next[k], (k, 1, K))",
                          "(a[i] - a[i]**2)*Sum(delta_next[k]*W[k, i], (k, 1, K))",
                          "y[i]*(1 - y[i])*Sum(W[k, i]*delta[k], (k, 1, K))"]),
    ("mlp.dE_dW", ["delta[i]*a_prev[j]", "a_prev[j]*delta[i]", "delta[i]*a[j]"]),
    ("softmax.dyk_dxk", ["y_k*(1 - y_k)", "y_k - y_k**2"]),
    ("softmax.dyk_dxi", ["-y_k*y_i", "-y_i*y_k", "-(y_k*y_i)"]),
    ("softmax.dE_dxi", ["y_i - t_i", "-t_i + y_i", "-(t_i - y_i)"]),
    ("errata.liao2018_dL_dyhat", ["-y_j/yhat_j", "-y_j*yhat_j**(-1)", "-(y_j/y_hat_j)"]),
    ("errata.liao2018_update", ["w - eta*(dL_dw + lam*w)", "(1 - eta*lam)*w - eta*dL_dw",
                               "w - eta*dL_dw - eta*lamda*w", "w*(1 - η*λ) - η*dL_dw"]),
    ("errata.jin2016_delta_output", ["2*(y - t)*y*(1 - y)", "-2*(t - y)*y*(1 - y)"]),
    ("rnn.delta_scalar", ["(1 - h_k**2)*Wh*delta_next", "U*delta_next*(1 - h_k^2)",
                          "Wh*delta_next - Wh*delta_next*h_k**2"]),
    ("rnn.dh_scalar", ["Wh*(1 - h_next**2)*dh_next", "dh_next*U*(1 - h_next)*(1 + h_next)"]),
    ("rnn.delta_index", ["(1 - h[i]**2)*Sum(Wh[j, i]*delta_next[j], (j, 1, M))",
                         "Sum((1 - h[i]**2)*U[j, i]*delta_next[j], (j, 1, M))"]),
]

# written with sigma / exp / tanh of the pre-activation instead of the stored output: right, with a note
EQUIVALENT_OTHER_SYMBOLS = [
    ("mlp.sigmoid_prime", ["sigma(z)*(1 - sigma(z))", "sigma(z)(1 - sigma(z))", "exp(-z)/(1 + exp(-z))**2",
                           "1/(1 + exp(-z)) - 1/(1 + exp(-z))**2", "exp(z)/(1 + exp(z))^2", "sigma(u)*(1 - sigma(u))"]),
    ("mlp.tanh_prime", ["1 - tanh(z)**2", "sech(z)**2", "1/cosh(z)**2", "4/(exp(z) + exp(-z))**2", "1 - tanh(u)**2"]),
    ("softmax.dyk_dxk", ["exp(x_k)/Z - exp(2*x_k)/Z**2", "exp(x_k)*(Z - exp(x_k))/Z**2"]),
    ("softmax.dyk_dxi", ["-exp(x_k)*exp(x_i)/Z**2", "-exp(x_k + x_i)/Z^2"]),
    ("softmax.dE_dxi", ["exp(x_i)/Z - t_i"]),
]

# no "in terms of" restriction: the sigma / exp / tanh forms are plainly right
EQUIVALENT_MIXED = [
    ("mlp.delta_output", ["-(t - y)*sigma(z)*(1 - sigma(z))", "(y - t)*exp(-z)/(1 + exp(-z))**2",
                          "(sigma(z) - t)*sigma(z)*(1 - sigma(z))", "-(t - y)*sigma(u)*(1 - sigma(u))"]),
    ("mlp.delta_hidden", ["sigma(z[i])*(1 - sigma(z[i]))*Sum(W[k, i]*delta_next[k], (k, 1, K))",
                          "exp(-z[i])/(1 + exp(-z[i]))**2*Sum(W[k, i]*delta_next[k], (k, 1, K))"]),
    ("rnn.delta_scalar", ["Wh*delta_next*(1 - tanh(z_k)**2)", "Wh*delta_next/cosh(z_k)**2"]),
    ("rnn.delta_index", ["(1 - tanh(z[i])**2)*Sum(Wh[j, i]*delta_next[j], (j, 1, M))"]),
]


@pytest.mark.parametrize("key,answer", [(k, a) for k, answers in EQUIVALENT for a in answers])
def test_equivalent_forms_are_accepted(key, answer):
    result = check_step(key, answer)
    assert result.ok, result
    assert "Note:" not in result.message


@pytest.mark.parametrize("key,answer", [(k, a) for k, answers in EQUIVALENT_OTHER_SYMBOLS for a in answers])
def test_forms_with_sigma_exp_or_u_are_accepted_with_a_note(key, answer):
    result = check_step(key, answer)
    assert result.ok, result
    assert "in terms of" in result.message


@pytest.mark.parametrize("key,answer", [(k, a) for k, answers in EQUIVALENT_MIXED for a in answers])
def test_sigma_exp_forms_are_accepted(key, answer):
    assert check_step(key, answer).ok


def test_numeric_verdict_when_simplification_is_inconclusive():
    # the sum written the other way round: SymPy does not simplify Sum differences, numbers decide
    result = check_step("mlp.delta_hidden", "Sum(a[i]*(1 - a[i])*W[k, i]*delta_next[k], (k, 1, K))")
    assert result.ok and result.method.startswith("numeric")
    assert "random points" in result.message


# ---------------------------------------------------------------- generic slips: sign, factors, indices
SLIPS = [
    ("mlp.dE_dy.sum", "-(t - y)", "factor", "1/2 times"),
    ("mlp.dE_dy.sum", "-4*(t - y)", "factor", "2 times"),
    ("mlp.dE_dy.sum", "t - y", "factor", "sign is wrong"),
    ("mlp.dE_dy.half", "-2*(t - y)", "factor", "1/2 in E"),
    ("mlp.dE_dy.half", "y + t", "different", "not equal"),
    ("mlp.dE_dy.mean", "-2*(t - y)", "factor", "n times"),
    ("mlp.dE_dy.mean", "-(t - y)/n", "factor", "2 from the square"),
    ("mlp.dE_dy.mean", "-(t - y)", "factor", "1/n of the mean"),
    ("mlp.dE_dy.mean", "-(2/n**2)*(t - y)", "factor", "1/n times"),
    ("mlp.sigmoid_prime", "-a*(1 - a)", "sign", "Wrong sign"),
    ("mlp.sigmoid_prime", "a", "missing_factor", "(1 - a)"),
    ("mlp.sigmoid_prime", "2*y*(1 - y)", "factor", "2 times"),
    ("mlp.tanh_prime", "2*(1 - a**2)", "factor", "2 times"),
    ("mlp.delta_output", "-(t - y)*y", "missing_factor", "(1 - y)"),
    ("mlp.delta_output", "-2*(t - y)*y*(1 - y)", "factor", "cancels"),
    ("mlp.delta_output", "-(t - y)*sigma(z)", "missing_factor", "(1 - y)"),
    ("mlp.delta_hidden", "Sum(W[k, i]*delta_next[k], (k, 1, K))", "missing_factor", "sigma'(z[i])"),
    ("mlp.delta_hidden", "-a[i]*(1 - a[i])*Sum(W[k, i]*delta_next[k], (k, 1, K))", "sign", "Wrong sign"),
    ("mlp.delta_hidden", "Sum(a[i]*(1 - a[i])*W[i, k]*delta_next[k], (k, 1, K))", "index", "swapped"),
    ("mlp.delta_hidden", "a[i]*(1 - a[i])*W[k, i]*delta_next[k]", "different", "depends on k"),
    ("mlp.delta_hidden", "a[i]*(1 - a[i])*Sum(W[k, i]*delta_next[k], (k, 1, K + 1))", "different", "limits"),
    ("mlp.delta_hidden", "a[i]*(1 - a[i])*Sum(W[k, i]*delta_next[k], (k, 1, M))", "invalid", "Unknown symbol 'M'"),
    ("mlp.dE_dW", "a_prev[i]*delta[j]", "index", "swapped"),
    ("softmax.dyk_dxk", "y_k*(1 + y_k)", "different", "not equal"),
    ("softmax.dE_dxi", "2*(y_i - t_i)", "factor", "2 times"),
    ("errata.liao2018_dL_dyhat", "y_j/y_hat_j", "sign", "Liao (2018) prints"),
    ("rnn.delta_scalar", "Wh*delta_next", "missing_factor", "f'(z_k)"),
    ("rnn.delta_scalar", "(1 - h_k**2)*Wh**2*delta_next", "missing_factor", "extra factor Wh"),
    ("rnn.delta_scalar", "-(1 - h_k**2)*Wh*delta_next", "sign", "Wrong sign"),
    ("rnn.delta_index", "Sum(Wh[j, i]*delta_next[j], (j, 1, M))", "missing_factor", "f'(z_k[i])"),
    ("rnn.delta_index", "Sum((1 - h[i]**2)*U[i, j]*delta_next[j], (j, 1, M))", "index", "swapped"),
]


@pytest.mark.parametrize("key,answer,kind,fragment", SLIPS)
def test_common_slips_are_named(key, answer, kind, fragment):
    result = check_step(key, answer)
    assert not result.ok
    assert result.kind == kind, result
    assert fragment in result.message, result


def test_factor_is_reported():
    assert check_step("mlp.dE_dy.sum", "-4*(t - y)").factor == 2
    n = STEPS["mlp.dE_dy.mean"].context.names["n"]
    assert check_step("mlp.dE_dy.mean", "-2*(t - y)").factor == n


def test_difference_is_shown_in_the_students_symbols():
    result = check_step("mlp.dE_dy.half", "t - y")
    assert sp.simplify(sp.sympify(result.diff_text) - sp.sympify("2*t - 2*y")) == 0
    assert "t" in result.diff_latex


# ---------------------------------------------------------------- malformed input never raises
MALFORMED = [
    (None, "No answer yet"),
    ([1, 2], "got list"),
    ({"a": 1}, "got dict"),
    (True, "got bool"),
    (object(), "got object"),
    ("", "empty"),
    ("   \n ", "empty"),
    ("y" * 5000, "characters long"),
    ("-(t - y", "parentheses"),
    ("t -* y", "Syntax error"),
    ("foo + y", "Unknown symbol 'foo'"),
    ("yy - t", "Did you mean"),
    ("u - t", "Known symbols: n, t, y"),
    ("lambda: 1", "Python"),
    ("sum(t for t in y)", "Python"),
    ('__import__("os").system("true")', "Unknown symbol '__import__'"),
    ("y.__class__", "'.' is not allowed"),
    ("sigma'(u)", "prime"),
    ("dE/dy = -(t - y)", "without '='"),
    ("y; t", "';' is not allowed"),
    ("y, t", "not a single expression"),
    ("[t]", "not a single expression"),
    ("y[0]", "takes no index"),
    ("t @ y", "'@' is not allowed"),
    ("1j*y", "ordinary real numbers"),
    ("2**10**10", "exponent"),
    ("9**9**9**9", "exponent"),
    ("y**(10**6)", "exponent"),
    ("1/0", "division by zero"),
    ("exp()", "Cannot parse"),
    ("Sum(y)", "Cannot parse"),
    ("Sum(t, (t, 1, 10**9))", "too large"),
    (float("nan"), "not an expression"),
    (sp.Symbol("q"), "Unknown symbol 'q'"),
    (sp.Eq(sp.Symbol("y"), 1), "Equality"),
    (sp.Matrix([1]), "MutableDenseMatrix"),
]


@pytest.mark.parametrize("answer,fragment", MALFORMED, ids=[f"malformed{i}" for i in range(len(MALFORMED))])
def test_malformed_input_gets_a_clear_message(answer, fragment, capsys):
    result = check_step("mlp.dE_dy.half", answer)
    assert isinstance(result, DerivationCheck)
    assert not result.ok and result.kind == "invalid", result
    assert fragment in result.message
    with pytest.raises(AssertionError, match="cannot check"):
        assert_step("mlp.dE_dy.half", answer)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("answer", ["exp(10**6)", "(y + t)**100", "y" + "**y" * 60, "log(y - t - 100)",
                                    "((((((((((y))))))))))", "-" * 300 + "y", "0x10*y", "exp(exp(exp(y)))"])
def test_hostile_but_parseable_input_is_judged_not_crashed(answer, capsys):
    result = check_step("mlp.dE_dy.half", answer)
    assert result.kind in ("different", "invalid") and not result.ok
    assert capsys.readouterr().err == ""


def test_indexed_answers_with_bad_indices_are_explained():
    assert "whole number" in check_step("mlp.delta_hidden", "W[k + 1/2, i]").message
    assert "whole number" in check_step("mlp.delta_hidden", "W[z[i], i]").message
    assert "too large" in check_step("mlp.delta_hidden", "Sum(W[k, i]*delta[k], (k, 1, 10**9))").message


def test_unknown_step_key():
    result = check_step("mlp.dE_dy.halve", "y - t")
    assert result.kind == "invalid" and "mlp.dE_dy.half" in result.message
    assert check_step(None, "y").kind == "invalid"


# ---------------------------------------------------------------- SymPy objects, generic use, display
def test_sympy_expressions_built_by_the_student_are_mapped_by_name():
    t, y, z = sp.symbols("t y z", real=True)
    assert check_step("mlp.dE_dy.half", y - t).ok
    s = sp.Function("sigma")
    assert check_step("mlp.delta_output", -(t - s(z)) * s(z) * (1 - s(z))).ok
    W, delta, a = sp.IndexedBase("W"), sp.IndexedBase("delta_next"), sp.IndexedBase("a")
    i, k, K = sp.symbols("i k K")
    answer = a[i] * (1 - a[i]) * sp.Sum(W[k, i] * delta[k], (k, 1, K))
    assert check_step("mlp.delta_hidden", answer).ok
    assert check_step("mlp.delta_hidden", a[i] * (1 - a[i]) * sp.Sum(W[i, k] * delta[k], (k, 1, K))).kind == "index"


def test_step_symbols_build_an_answer():
    S = step_symbols("rnn.delta_scalar")
    assert check_step("rnn.delta_scalar", (1 - S["h_k"] ** 2) * S["Wh"] * S["delta_next"]).ok


def test_numbers_are_answers_too():
    assert check_step("softmax.dyk_dxi", 0).kind == "different"
    assert check_derivation(2, "2").ok
    assert check_derivation(0.5, "1/2").ok


def test_check_derivation_with_the_default_context():
    assert check_derivation("2*x*w", "2*w*x").ok
    assert check_derivation("-2*x*w", "2*w*x").kind == "sign"
    assert check_derivation("x*w", "2*w*x").kind == "factor"
    result = check_derivation("x*w/n", "w*x")
    assert result.kind == "factor" and "1/n" in result.message
    assert check_derivation("W[j, k]*a[k]", "W[k, j]*a[k]").kind == "index"
    assert check_derivation("sigma(x)*(1 - sigma(x))", "exp(-x)/(1 + exp(-x))**2").ok


def test_check_derivation_with_slips_factors_and_hints():
    from backprop.derivations import Slip
    slip = Slip("x + w", "different", "You added instead of multiplying.")
    assert check_derivation("w + x", "w*x", slips=(slip,)).message == slip.message
    r = check_derivation("w", "w*x", factors={"x (the input)": "x"})
    assert r.kind == "missing_factor" and "x (the input)" in r.message
    assert "halved" in check_derivation("w*x/2", "w*x", factor_hints={"1/2": "halved"}).message


def test_assert_derivation_raises_assertion_error_only():
    assert assert_derivation("2*w", "w + w").ok
    with pytest.raises(AssertionError, match="wrong sign"):
        assert_derivation("-2*w", "w + w")
    with pytest.raises(AssertionError, match="Unknown symbol"):
        assert_derivation("zeta", "w")
    assert assert_step("mlp.dE_dy.half", "y - t").ok
    with pytest.raises(AssertionError) as info:
        assert_step("mlp.dE_dy.half", "t - y")
    assert "yours - expected" in str(info.value)


def test_result_prints_as_text_and_renders_as_markdown():
    bad = check_step("mlp.dE_dy.half", "t - y")
    text = str(bad)
    assert text.startswith("WRONG") and "your expression: t - y" in text and "mlp.dE_dy.half" in text
    md = bad._repr_markdown_()
    assert "$\\displaystyle" in md and "wrong sign" in md
    assert not bad
    good = check_step("mlp.dE_dy.half", "y - t")
    assert good and str(good).startswith("OK") and "correct" in good._repr_markdown_()
    assert str(check_step("mlp.dE_dy.half", None)).startswith("INVALID")


def test_other_seeds_and_more_points_agree():
    for key, step in STEPS.items():
        assert check_step(key, step.expected, seed=12345, n_points=24).ok
        for slip in step.slips:
            assert check_step(key, slip.expr, seed=12345, n_points=24).kind == slip.kind


def test_nothing_is_written_to_stderr(capsys):
    for key, step in STEPS.items():
        check_step(key, step.expected)
        check_step(key, "1/(y - y)" if "y" in step.context.names else "0")
    assert capsys.readouterr().err == ""


def test_catalogue_is_read_only():
    with pytest.raises(TypeError):
        STEPS["mlp.dE_dy.half"] = STEPS["mlp.dE_dy.sum"]
    with pytest.raises(AttributeError):
        STEPS["mlp.dE_dy.half"].expected = "y"


def test_bad_options_do_not_raise():
    assert check_step("mlp.dE_dy.half", "y - t", n_points=0).ok
    assert check_step("mlp.dE_dy.half", "y - t", seed="x").kind == "invalid"


def test_sympy_objects_with_unavailable_functions_or_huge_numbers():
    y = sp.Symbol("y")
    assert "sin is not available" in check_step("mlp.dE_dy.half", sp.sin(y)).message
    assert "exponent" in check_step("mlp.dE_dy.half", sp.Pow(2, 10**10, evaluate=False)).message
    assert "comment" in check_step("mlp.dE_dy.half", "y - t  # my answer").message


def test_undefined_answers_and_nested_sums():
    result = check_step("mlp.dE_dy.half", "1/(y - y)")
    assert result.kind == "different" and "undefined" in result.message
    # an inner limit that depends on the outer summation index
    assert check_derivation("Sum(Sum(W[i, k], (k, 1, i)), (i, 1, K))",
                            "Sum(Sum(W[i, k], (i, k, K)), (k, 1, K))").ok
    assert not check_derivation("Sum(Sum(W[i, k], (k, 1, i)), (i, 1, K))",
                                "Sum(Sum(W[i, k], (i, 1, k)), (k, 1, K))").ok


def test_a_malformed_expected_expression_is_the_authors_error():
    with pytest.raises(ValueError, match="bad reference expression"):
        check_derivation("x", "x +* w")
    with pytest.raises(ValueError, match="Unknown symbol"):
        check_derivation("x", "nonsense")


# the solution notebooks use these keys, names and answers: changing them breaks the course
NOTEBOOK_ANSWERS = [
    ("mlp.dE_dy.sum", "-2*(t - y)"), ("mlp.dE_dy.mean", "-(2/n)*(t - y)"), ("mlp.dE_dy.half", "-(t - y)"),
    ("mlp.sigmoid_prime", "a*(1 - a)"), ("mlp.tanh_prime", "1 - a**2"),
    ("mlp.delta_output", "(y - t)*y*(1 - y)"),
    ("mlp.delta_hidden", "a[i]*(1 - a[i]) * Sum(W[k, i]*delta_next[k], (k, 1, K))"),
    ("errata.jin2016_delta_output", "-2*(t - y)*y*(1 - y)"),
    ("softmax.dyk_dxk", "y_k*(1 - y_k)"), ("softmax.dyk_dxi", "-y_k*y_i"), ("softmax.dE_dxi", "y_i - t_i"),
    ("errata.liao2018_update", "w - eta*(dL_dw + lam*w)"),
    ("rnn.delta_scalar", "(1 - h_k**2) * Wh * delta_next"),
    ("rnn.delta_index", "(1 - h[i]**2) * Sum(Wh[j, i] * delta_next[j], (j, 1, M))"),
]


@pytest.mark.parametrize("key,answer", NOTEBOOK_ANSWERS)
def test_answers_used_by_the_notebooks(key, answer):
    for seed, n_points in ((0, 12), (101, 40)):
        assert_step(key, answer, seed=seed, n_points=n_points)


def test_messages_the_pipeline_cases_rely_on():
    assert "f'(z_{k+1})" in check_step("rnn.delta_scalar", "(1 - h_next**2) * Wh * delta_next").message
    assert "swapped" in check_step("rnn.delta_index", "(1 - h[i]**2) * Sum(Wh[i, j] * delta_next[j], (j, 1, M))").message


def test_step_prompts_and_messages_cite_authors_not_seed_numbers():
    import re

    for key, step in STEPS.items():
        texts = [key, step.prompt] + [slip.message for slip in step.slips] + list(step.factor_hints.values())
        for text in texts:
            assert not re.search(r"seed\s*0*\d", text, re.I), f"{key}: {text}"
