"""The course's catalogue of derivation steps: data, read by the checker `backprop.derivations`.

`STEPS` maps a key such as "mlp.dE_dy.half" or "softmax.dyk_dxi" to a `Step`: the prompt, the
expected expression, the symbols it may use (a `Context`), and the known slips with a targeted
message each. Notebooks call `check_step(key, answer)` / `assert_step(key, answer)`.
This module imports only the vocabulary (`backprop.derivation_types`), never the checker.
"""
from __future__ import annotations

from types import MappingProxyType

import numpy as np
import sympy as sp
from sympy.tensor.indexed import IndexedBase

from .derivation_types import Context, Slip, Step, sigma, symbols

__all__ = ["STEPS"]


def _scalar_context(names, sample, definitions=None, scale=(), aliases=None):
    s = symbols(names)
    names_map = dict(s)
    for alias, target in (aliases or {}).items():
        names_map[alias] = s[target]
    return Context(names_map, {s[k]: v for k, v in sample.items()},
                   {s[k]: v(s) for k, v in (definitions or {}).items()}, tuple(s[k] for k in scale))


_SQ = _scalar_context("t y n", {"t": (-1.0, 2.0), "y": (-1.0, 2.0), "n": ("int", 2, 9)}, scale=("n",))
# notebook 01 writes z = W a + b, a = sigma(z), y = a^L; the seeds' u (input) and y (output) are aliases
_SIG = _scalar_context("a z", {"z": (-3.0, 3.0)}, {"a": lambda s: sigma(s["z"])}, aliases={"y": "a", "u": "z"})
_TANH = _scalar_context("a z", {"z": (-2.0, 2.0)}, {"a": lambda s: sp.tanh(s["z"])}, aliases={"y": "a", "u": "z"})
_SIG_OUT = _scalar_context("t y z n", {"t": (-0.5, 1.5), "z": (-3.0, 3.0), "n": ("int", 2, 9)},
                           {"y": lambda s: sigma(s["z"])}, scale=("n",), aliases={"u": "z", "a": "y"})
_SOFT_KK = _scalar_context("y_k x_k Z", {"x_k": (-2.0, 2.0),
                                         "Z": lambda v, rng: np.exp(v["x_k"]) + rng.uniform(0.3, 5.0)},
                           {"y_k": lambda s: sp.exp(s["x_k"]) / s["Z"]})
_SOFT_KI = _scalar_context("y_k y_i x_k x_i Z", {
    "x_k": (-2.0, 2.0), "x_i": (-2.0, 2.0),
    "Z": lambda v, rng: np.exp(v["x_k"]) + np.exp(v["x_i"]) + rng.uniform(0.3, 5.0)},
    {"y_k": lambda s: sp.exp(s["x_k"]) / s["Z"], "y_i": lambda s: sp.exp(s["x_i"]) / s["Z"]})
_SOFT_CE = _scalar_context("y_i t_i x_i Z", {"t_i": (0.0, 1.0), "x_i": (-2.0, 2.0),
                                             "Z": lambda v, rng: np.exp(v["x_i"]) + rng.uniform(0.3, 5.0)},
                           {"y_i": lambda s: sp.exp(s["x_i"]) / s["Z"]})
_CE_YHAT = _scalar_context("y_j yhat_j", {"y_j": (0.05, 1.0), "yhat_j": (0.05, 0.95)},
                           aliases={"y_hat_j": "yhat_j", "yhat": "yhat_j"})
_UPDATE = _scalar_context("w eta lam dL_dw", {"w": (-2.0, 2.0), "eta": (0.01, 0.5), "lam": (0.01, 0.5),
                                              "dL_dw": (-2.0, 2.0)}, aliases={"lamda": "lam", "dLdw": "dL_dw"})
_RNN = _scalar_context("Wh z_k h_k z_next h_next delta_next dh_next", {
    "Wh": (-1.5, 1.5), "z_k": (-2.0, 2.0), "z_next": (-2.0, 2.0), "delta_next": (-1.0, 1.0),
    "dh_next": (-1.0, 1.0)}, {"h_k": lambda s: sp.tanh(s["z_k"]), "h_next": lambda s: sp.tanh(s["z_next"])},
    aliases={"U": "Wh"})


def _indexed_context(scalars, bases, sample, definitions):
    s = symbols(scalars)
    b = {n: IndexedBase(n) for n in bases.split()}
    names = {**s, **b}
    return Context(names, {names[k]: v for k, v in sample.items()},
                   {b[k]: (lambda f: (lambda *i: f(names, *i)))(f) for k, f in definitions.items()})


_MLP_IDX = _indexed_context("i k K", "a z W delta_next", {
    "i": ("int", 1, 4), "k": ("int", 1, 4), "K": ("int", 2, 4),
    "z": (-2.0, 2.0), "W": (-1.0, 1.0), "delta_next": (-1.0, 1.0)},
    {"a": lambda n, *i: sigma(n["z"][i])})
_MLP_IDX.names.update(y=_MLP_IDX.names["a"], u=_MLP_IDX.names["z"], delta=_MLP_IDX.names["delta_next"])
_MLP_DW = _indexed_context("i j", "delta a_prev", {"i": ("int", 1, 4), "j": ("int", 1, 4),
                                                   "delta": (-1.0, 1.0), "a_prev": (-1.0, 1.0)}, {})
_MLP_DW.names["a"] = _MLP_DW.names["a_prev"]
_RNN_IDX = _indexed_context("i j M", "h z Wh delta_next", {
    "i": ("int", 1, 4), "j": ("int", 1, 4), "M": ("int", 2, 4),
    "z": (-2.0, 2.0), "Wh": (-1.0, 1.0), "delta_next": (-1.0, 1.0)},
    {"h": lambda n, *i: sp.tanh(n["z"][i])})
_RNN_IDX.names["U"] = _RNN_IDX.names["Wh"]

_SIGMA_PRIME = {"sigma'(z) = y(1 - y)": "y*(1 - y)"}
_SQUARE_HINT = ("A factor of 2 usually comes from the squared-error convention: with E = (1/2)(t - y)^2 the 2 "
                "from the square cancels, with E = (t - y)^2 it stays.")
_FACTOR_SUM = {"2": _SQUARE_HINT, "-2": _SQUARE_HINT, "-1/2": _SQUARE_HINT,
               "1/2": "You used E = (1/2)(t - y)^2. This convention has no 1/2: E = (t - y)^2, so the 2 that "
                      "comes down from the square stays."}


def _steps():
    S = []
    S.append(Step("mlp.dE_dy.sum", "01_mlp",
                  "E = (t - y)^2 (plain sum, Jin (2016), section 1.5). Write dE/dy.", "-2*(t - y)", _SQ,
                  slips=(Slip("2*(t - y)", "sign", "Wrong sign: d(t - y)/dy = -1, so dE/dy = 2(t - y)(-1). "
                              "Check: increasing y above t must increase E."),),
                  factor_hints=_FACTOR_SUM))
    S.append(Step("mlp.dE_dy.mean", "01_mlp",
                  "E = (1/n) sum_i (t_i - y_i)^2 (mean over n samples, Jin (2016), eq. 1). Write dE/dy_i for one "
                  "sample, using t and y for t_i and y_i.", "-(2/n)*(t - y)", _SQ,
                  slips=(Slip("(2/n)*(t - y)", "sign", "Wrong sign: d(t - y)/dy = -1."),),
                  factor_hints={"n": "Your answer is n times too large: the mean puts 1/n in front of every "
                                     "sample's term, and it stays in the derivative.",
                                "n/2": "Both the 2 from the square and the 1/n of the mean are missing.",
                                "1/2": "The 2 from the square is missing: d(t - y)^2/dy = -2(t - y)."}))
    S.append(Step("mlp.dE_dy.half", "01_mlp",
                  "E = (1/2)(t - y)^2 (the 1/2 convention). Write dE/dy.", "-(t - y)", _SQ,
                  slips=(Slip("t - y", "sign", "Wrong sign: d(t - y)/dy = -1, so dE/dy = (t - y)(-1). "
                              "Check: increasing y above t must increase E."),),
                  factor_hints={"2": "Your answer is twice too large: the 1/2 in E = (1/2)(t - y)^2 cancels the "
                                     "2 that comes down from the square."}))
    S.append(Step("mlp.sigmoid_prime", "01_mlp",
                  "a = sigma(z) = 1/(1 + exp(-z)). Write sigma'(z) in terms of a only (y and u are accepted "
                  "for a and z).", "a*(1 - a)", _SIG, in_terms_of=("a",),
                  slips=(Slip("z*(1 - z)", "different", "You applied the formula to z: sigma'(z) = a(1 - a) is "
                              "written with the output a = sigma(z), not with the input z."),
                         Slip("1 - a**2", "different", "1 - a^2 is the derivative of tanh written with its output; "
                              "the logistic sigma has a different one."),
                         Slip("exp(-z)", "different", "That is only the derivative of the exponential inside; "
                              "the chain rule through 1/(1 + exp(-z)) adds a factor.")),
                  factors={"a": "a", "(1 - a)": "1 - a"}))
    S.append(Step("mlp.tanh_prime", "01_mlp",
                  "a = tanh(z). Write tanh'(z) in terms of a only (y and u are accepted for a and z).",
                  "1 - a**2", _TANH, in_terms_of=("a",),
                  slips=(Slip("a*(1 - a)", "different", "a(1 - a) is the derivative of the logistic sigma; "
                              "tanh has its own: start from tanh = sinh/cosh."),
                         Slip("1 - z**2", "different", "You applied the formula to z: write it with the output "
                              "a = tanh(z)."),
                         Slip("1 + a**2", "different", "Check the sign inside: tanh' = 1/cosh^2 = 1 - tanh^2.")),
                  factor_hints={"2": "Check the factor: 1 - tanh^2 has no 2 in front."}))
    S.append(Step("mlp.delta_output", "01_mlp",
                  "Output unit y = sigma(z), loss E = (1/2)(t - y)^2. Write delta = dE/dz in terms of t and y.",
                  "-(t - y)*y*(1 - y)", _SIG_OUT, factors={**_SIGMA_PRIME, "(1 - y)": "1 - y", "y": "y"},
                  slips=(Slip("(t - y)*y*(1 - y)", "sign", "Wrong sign: dE/dy = -(t - y), and sigma'(z) > 0."),
                         Slip("-(t - y)*(1 - y)", "missing_factor", "sigma'(z) = y(1 - y): the factor y is missing."),
                         Slip("-(t - y)*z*(1 - z)", "different", "sigma'(z) is y(1 - y), written with the output y, "
                              "not z(1 - z)."),
                         Slip("-(t - y)", "missing_factor", "That is dE/dy, not dE/dz: the chain rule through "
                              "y = sigma(z) multiplies by sigma'(z) = y(1 - y).")),
                  factor_hints={"2": "With E = (1/2)(t - y)^2 the 2 from the square cancels.", "1/2": _SQUARE_HINT}))
    S.append(Step("mlp.delta_hidden", "01_mlp",
                  "Hidden unit i: a[i] = sigma(z[i]); the next layer has units k = 1..K with z_next[k] = "
                  "sum_i W[k, i] a[i] + b[k] and error signals delta_next[k]. Write delta_i = dE/dz[i] using "
                  "Sum(..., (k, 1, K)).",
                  "a[i]*(1 - a[i])*Sum(W[k, i]*delta_next[k], (k, 1, K))", _MLP_IDX,
                  factors={"sigma'(z[i]) = a[i]*(1 - a[i])": "a[i]*(1 - a[i])"},
                  alternatives=(("a[i]*(1 - a[i])*Sum(W[k, i]*delta_next[k], (k, 0, K - 1))",
                                 "(You summed from 0 to K - 1, Python style; the notes count from 1 to K.)"),),
                  slips=(Slip("Sum(a[k]*(1 - a[k])*W[k, i]*delta_next[k], (k, 1, K))", "different",
                              "The derivative belongs to unit i, not to the units k of the next layer (delta_next[k] "
                              "already contains theirs): sigma'(z[i]) multiplies the whole sum."),
                         Slip("a[i]*(1 - a[i])*Sum(W[i, k]*delta_next[k], (k, 1, K))", "index",
                              "W[i, k] has its indices swapped. Weights are output-major: W[k, i] connects unit i "
                              "of this layer to unit k of the next, and the sum runs over the receiving units k. "
                              "In matrix form this is why W appears transposed: "
                              "delta = sigma'(z) * (W^T delta_next)."),),
                  factor_hints={"index": "Weights are output-major: W[k, i] connects unit i to unit k of the next "
                                         "layer."}))
    S.append(Step("mlp.dE_dW", "01_mlp",
                  "z[i] = sum_j W[i, j] a_prev[j] + b[i] and delta[i] = dE/dz[i]. Write dE/dW[i, j].",
                  "delta[i]*a_prev[j]", _MLP_DW,
                  slips=(Slip("delta[j]*a_prev[i]", "index", "The indices are swapped: W[i, j] multiplies a_prev[j] "
                              "and feeds unit i, so its gradient is delta[i] * a_prev[j] (dW = delta a_prev^T)."),)))
    S.append(Step("softmax.dyk_dxk", "03_softmax",
                  "y_k = exp(x_k) / Z with Z = sum_j exp(x_j). Write dy_k/dx_k (the case i = k) in terms of y_k.",
                  "y_k*(1 - y_k)", _SOFT_KK, in_terms_of=("y_k",),
                  slips=(Slip("y_k", "different", "You differentiated only the numerator exp(x_k); Z depends on x_k "
                              "too (quotient rule)."),
                         Slip("-y_k**2", "different", "That is only the part that comes from Z; the numerator "
                              "exp(x_k) depends on x_k too.")),
                  factors={"y_k": "y_k", "(1 - y_k)": "1 - y_k"}))
    S.append(Step("softmax.dyk_dxi", "03_softmax",
                  "y_k = exp(x_k) / Z with Z = sum_j exp(x_j). Write dy_k/dx_i for i != k in terms of y_k and y_i.",
                  "-y_k*y_i", _SOFT_KI, in_terms_of=("y_k", "y_i"),
                  slips=(Slip("0", "different", "y_k depends on x_i through the denominator Z: it is not 0."),
                         Slip("y_k*y_i", "sign", "Wrong sign: raising x_i raises Z and so lowers y_k."),
                         Slip("y_k*(1 - y_i)", "different", "That mixes the two cases: for i != k the numerator "
                              "exp(x_k) does not depend on x_i."),
                         Slip("y_i*(1 - y_i)", "different", "That is dy_i/dx_i, the case i = k."))))
    S.append(Step("softmax.dE_dxi", "03_softmax",
                  "E = -sum_j t_j log(y_j) with y = softmax(x) and sum_j t_j = 1. Write dE/dx_i in terms of y_i, t_i.",
                  "y_i - t_i", _SOFT_CE, in_terms_of=("y_i", "t_i"),
                  slips=(Slip("t_i - y_i", "sign", "Wrong sign: dE/dx_i = y_i - t_i (raising the logit of a class "
                              "that should not win raises the loss)."),
                         Slip("-t_i/y_i", "different", "That is dE/dy_i: the softmax lies between y and x, so the "
                              "chain rule sums dE/dy_j * dy_j/dx_i over all j."),
                         Slip("-t_i*(1 - y_i)", "different", "You kept only the term j = i of the chain-rule sum; "
                              "the terms j != i (dy_j/dx_i = -y_j y_i) add t_j y_i each."),
                         Slip("y_i - 1", "different", "That holds only for the true class (t_i = 1); write it for "
                              "any i with t_i."))))
    S.append(Step("errata.liao2018_dL_dyhat", "03_softmax",
                  "Liao (2018) writes dL/dy_j = y_nj / y_j for L = -sum_j y_j log(yhat_j) (y the target, yhat the "
                  "prediction). Is it right? Write the correct dL/dyhat_j.", "-y_j/yhat_j", _CE_YHAT,
                  slips=(Slip("y_j/yhat_j", "sign", "That is the formula as Liao (2018) prints it, and it lacks the "
                              "minus: d(-y_j log yhat_j)/dyhat_j = -y_j / yhat_j."),
                         Slip("-1/yhat_j", "missing_factor", "The target y_j multiplies the log, so it stays as a "
                              "factor."),
                         Slip("-y_j*log(yhat_j)", "different", "That is the loss term itself; differentiate it with "
                              "respect to yhat_j."))))
    S.append(Step("errata.liao2018_update", "03_softmax",
                  "Liao (2018) updates w <- w + eta dL/dw + lambda w for the loss L + (lambda/2) sum w^2. Is it right? "
                  "Write the correct new value of w (symbols w, eta, lam, dL_dw; dL_dw is the gradient of L "
                  "without the decay term).", "w - eta*(dL_dw + lam*w)", _UPDATE,
                  slips=(Slip("w + eta*dL_dw + lam*w", "different", "That is the rule as Liao (2018) prints it: it climbs "
                              "the loss (+eta) and adds the decay term outside the step. Gradient descent subtracts "
                              "eta times the full gradient dL/dw + lam w."),
                         Slip("w - eta*dL_dw - lam*w", "different", "The signs are right now, but the decay is part "
                              "of the gradient of the regularised loss, so it is scaled by eta as well."),
                         Slip("w + eta*(dL_dw + lam*w)", "sign", "This climbs the loss: gradient descent "
                              "subtracts the gradient."),
                         Slip("w - eta*(dL_dw - lam*w)", "sign", "The decay term has the wrong sign: "
                              "d/dw (lam/2) w^2 = +lam w, and descent subtracts it, shrinking w."),
                         Slip("w - eta*dL_dw", "missing_factor", "The weight-decay term is missing: the loss "
                              "includes (lam/2) sum w^2, whose gradient is lam w."),
                         Slip("-eta*(dL_dw + lam*w)", "different", "That is the change Delta w; the question asks "
                              "for the new value of w."))))
    S.append(Step("errata.jin2016_delta_output", "01_mlp",
                  "Jin (2016), eq. (3), writes delta_j^L = -(2/n)(t_j - y_j) phi'(u_j) (its u is our z). "
                  "For one sample with "
                  "E = sum_j (t_j - y_j)^2 over the output nodes j and a sigmoid output, write the correct "
                  "delta_j^L (use t, y, z for t_j, y_j, z_j).", "-2*(t - y)*y*(1 - y)", _SIG_OUT, factors=_SIGMA_PRIME,
                  slips=(Slip("-(2/n)*(t - y)*y*(1 - y)", "factor", "That is eq. (3) as printed: its 1/n belongs to "
                              "the mean over n training samples, not to an output node; for a single sample with "
                              "a plain sum over nodes there is no 1/n."),),
                  factor_hints=_FACTOR_SUM))
    S.append(Step("rnn.delta_scalar", "06_rnn_bptt",
                  "A 1-unit RNN: z_k = Wh h_{k-1} + Wx x_k + b, h_k = tanh(z_k). With delta_{t,k} = dL_t/dz_k, "
                  "write delta_{t,k} in terms of delta_next = delta_{t,k+1} (symbols Wh, h_k, h_next, z_k, "
                  "z_next, delta_next).", "(1 - h_k**2)*Wh*delta_next", _RNN,
                  factors={"f'(z_k) = 1 - h_k^2": "1 - h_k**2", "Wh": "Wh"},
                  slips=(Slip("(1 - h_next**2)*Wh*delta_next", "different", "You used f'(z_{k+1}); delta_{t,k+1} "
                              "already contains that factor. Going from z_{k+1} back to z_k passes through h_k = "
                              "tanh(z_k), so the factor is f'(z_k) = 1 - h_k^2."),
                         Slip("h_k*(1 - h_k)*Wh*delta_next", "different", "h(1 - h) is the logistic derivative; "
                              "this RNN uses tanh, whose derivative is 1 - h^2."),
                         Slip("(1 - h_k**2)*delta_next", "missing_factor", "The recurrent weight is missing: "
                              "z_{k+1} = Wh h_k + ..., so dz_{k+1}/dh_k = Wh."))))
    S.append(Step("rnn.dh_scalar", "06_rnn_bptt",
                  "Same 1-unit RNN. With dh_next = dL_t/dh_{k+1}, write dL_t/dh_k for k < t (symbols Wh, h_k, "
                  "h_next, dh_next).", "Wh*(1 - h_next**2)*dh_next", _RNN,
                  factors={"f'(z_{k+1}) = 1 - h_next^2": "1 - h_next**2", "Wh": "Wh"},
                  slips=(Slip("Wh*(1 - h_k**2)*dh_next", "different", "From h_{k+1} back to h_k the path is "
                              "h_{k+1} = tanh(z_{k+1}), z_{k+1} = Wh h_k + ...: the derivative is taken at z_{k+1}, "
                              "i.e. 1 - h_next^2."),)))
    S.append(Step("rnn.delta_index", "06_rnn_bptt",
                  "An RNN with M hidden units: z_{k+1}[j] = sum_i Wh[j, i] h_k[i] + ..., h_k[i] = tanh(z_k[i]). "
                  "Write unit i of delta_{t,k} = dL_t/dz_k in terms of delta_next[j] = delta_{t,k+1}[j], using "
                  "h[i], z[i] for h_k[i], z_k[i] and Sum(..., (j, 1, M)).",
                  "(1 - h[i]**2)*Sum(Wh[j, i]*delta_next[j], (j, 1, M))", _RNN_IDX,
                  factors={"f'(z_k[i]) = 1 - h[i]^2": "1 - h[i]**2"},
                  alternatives=(("(1 - h[i]**2)*Sum(Wh[j, i]*delta_next[j], (j, 0, M - 1))",
                                 "(You summed from 0 to M - 1, Python style; the notes count from 1 to M.)"),),
                  slips=(Slip("(1 - h[i]**2)*Sum(Wh[i, j]*delta_next[j], (j, 1, M))", "index",
                              "Wh[i, j] has its indices swapped: h_k[i] feeds z_{k+1}[j] through Wh[j, i], so "
                              "the sum is over the first index. In matrix form: diag(f'(z_k)) Wh^T delta_{t,k+1}."),),
                  factor_hints={"index": "h_k[i] feeds z_{k+1}[j] through Wh[j, i]."}))
    return {s.key: s for s in S}


STEPS = MappingProxyType(_steps())  # read-only: a notebook cannot rewrite the expected answers
