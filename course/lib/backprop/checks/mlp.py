"""Checks of notebook 01_mlp: backpropagation through an MLP, one sample at a time.

One sample is a column vector: a^0 = x (n_0,); z^l = W^l a^{l-1} + b^l (n_l,); a^l = sigma_l(z^l);
W^l has shape (n_l, n_{l-1}) (output-major). The loss of one sample is 0.5 ||y - t||^2 ("half")
or ||t - y||^2 ("sum").

    check_output_delta(output_delta)           (y, t, z, activation, convention) -> delta^L
    check_delta_step(delta_step)               (delta_next, W_next, z, activation) -> delta^l
    check_layer_gradients(layer_gradients)     (delta, a_prev) -> (dW, db)
    check_backward_sample(backward_sample)     (params, cache, t, convention) -> grads
    check_summary_as_written(fn)               the summary of *Backpropagation and Learning*, as printed
    check_input_major_layer_gradients(fn)      (a_hat, S) -> (dW (H, L), db) in that document's layout

Every check takes `cases=None` (the visible cases) or a list of dicts with other shapes and seeds.
"""
from __future__ import annotations

import functools
from typing import Callable, Optional

import numpy as np

from ..activations import get_activation
from ..explain import layer_stages
from ..grading import (BadReturn, StudentCodeError, WrongValue, call_student, check_function_gradients,
                       check_layer_backward, check_value, expect_wrong, random_inputs)
from ..slips import Slip, matching_slip, slip_factory
from . import Exercise, bind_slips, named_like, mlp_parameter_shapes, run_cases

__all__ = [
    "forward_sample", "sample_loss", "check_output_delta", "check_delta_step", "check_layer_gradients",
    "check_backward_sample", "check_summary_as_written", "check_input_major_layer_gradients", "EXERCISES",
]


def forward_sample(params, x, activations):
    """The notebook's forward pass for one sample: y = a^L (n_L,) and the cache
    {"a": [a^0..a^L], "z": [None, z^1..z^L], "activations": [name_1..name_L]};
    params {"W1": (n_1, n_0), "b1": (n_1,), ...}, x (n_0,)."""
    a, z = [np.asarray(x, dtype=np.float64)], [None]
    for l in range(1, len(activations) + 1):
        z.append(params[f"W{l}"] @ a[l - 1] + params[f"b{l}"])
        a.append(get_activation(activations[l - 1]).f(z[l]))
    return a[-1], {"a": a, "z": z, "activations": list(activations)}


def sample_loss(y, t, convention="half"):
    """0.5 ||y - t||^2 ("half") or ||t - y||^2 ("sum") of one sample."""
    if convention not in ("half", "sum"):
        raise ValueError(f"convention must be 'half' or 'sum'; got {convention!r}")
    return 0.5 * float(np.sum((y - t) ** 2)) if convention == "half" else float(np.sum((t - y) ** 2))


def _dE_dy(y, t, convention, slip):
    """dE/dy of one sample; the slips "other_convention" and "sign" change it."""
    if slip == "other_convention":
        convention = {"half": "sum", "sum": "half"}[convention]
    dE_dy = (y - t) if convention == "half" else -2.0 * (t - y)
    return -dE_dy if slip == "sign" else dE_dy


_SHAPE_HINT = ("\nA matrix product does not fit. The error signal goes back through the TRANSPOSE of the weights: "
               "(W^{l+1})^T delta^{l+1} has n_l entries, while W^{l+1} delta^{l+1} does not fit unless the layer is "
               "square. dE/dW^l = delta^l (a^{l-1})^T is an outer product (np.outer).")


def _with_shape_hint(check, *args, **kwargs):
    """Run a check; when the student's code crashed on mismatched shapes, add what usually causes it."""
    __tracebackhide__ = True
    try:
        check(*args, **kwargs)
    except StudentCodeError as err:
        text = str(err)
        if any(s in text for s in ("mismatch in its core dimension", "not aligned", "could not be broadcast")):
            raise StudentCodeError(text + _SHAPE_HINT, err.kinds) from err.__cause__
        raise


# ------------------------------------------------------------------------------------------------
# Exercise 1d: the output error signal delta^L
# ------------------------------------------------------------------------------------------------

def reference_output_delta(y, t, z, activation, convention="half", slip=None):
    """delta^L (n_L,) = dE/dy * sigma'(z^L); `slip` adds one typical mistake."""
    act = get_activation(activation)
    dE_dy = _dE_dy(y, t, convention, slip)
    if slip == "no_sigma_prime":
        return dE_dy
    if slip == "sigma_prime_of_y":
        return dE_dy * act.df(y)
    if slip == "output_form_of_z":
        if act.df_from_y is None:
            raise ValueError(f"{act.name} has no derivative written with its output")
        return dE_dy * act.df_from_y(z)
    return dE_dy * act.df(z)


_od_slip = slip_factory(reference_output_delta)


OUTPUT_DELTA_SLIPS = (
    _od_slip("sign", "the sign is flipped: you wrote t - y where y - t belongs. dE/dy = y - t for the half "
             "convention and -2 (t - y) = 2 (y - t) for the sum."),
    _od_slip("other_convention", "a factor 2: your dE/dy belongs to the other squared-error convention. "
             "0.5 ||y - t||^2 (\"half\") gives y - t; ||t - y||^2 (\"sum\") gives -2 (t - y)."),
    _od_slip("no_sigma_prime", "the factor sigma'(z^L) is missing: delta^L = dE/dz^L = dE/dy * sigma'(z^L), the "
             "chain rule through the output activation."),
    _od_slip("sigma_prime_of_y", "sigma' is evaluated at the output y = sigma(z) instead of at z: use "
             "get_activation(activation).df(z), the derivative at the weighted input."),
    _od_slip("output_form_of_z", "you used the form of sigma' written with the output (y (1 - y), 1 - y^2) but "
             "gave it z: that form needs y. With z, use get_activation(activation).df(z)."),
)


def _check_output_delta_case(output_delta, activation, convention, n, seed):
    def wrap(fn):
        return named_like(fn, lambda z, t: fn(get_activation(activation).f(z), t, z, activation, convention))

    inputs = random_inputs({"z": (n,), "t": (n,)}, seed=seed, avoid_kinks={"z"})
    check_function_gradients(
        wrap(output_delta), lambda z, t: sample_loss(get_activation(activation).f(z), t, convention), inputs, "z",
        seed=seed, name=f"output_delta ({activation}, {convention})", slips=bind_slips(OUTPUT_DELTA_SLIPS, wrap),
        known_factors={"sigma'(z)": get_activation(activation).df(inputs["z"])})


def check_output_delta(output_delta, cases=None):
    """Finite-difference check of output_delta(y, t, z, activation, convention) against z -> E(sigma(z), t),
    on each case (activation, convention, n, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_output_delta_case(output_delta, **c), cases,
              [dict(activation=a, convention=c, n=4, seed=0) for a in ("sigmoid", "tanh", "relu")
               for c in ("half", "sum")])


# ------------------------------------------------------------------------------------------------
# Exercise 2b: one step of the delta recursion
# ------------------------------------------------------------------------------------------------

def reference_delta_step(delta_next, W_next, z, activation, slip=None):
    """delta^l (n_l,) = sigma'(z^l) * (W^{l+1})^T delta^{l+1}; `slip` adds one typical mistake."""
    act = get_activation(activation)
    back = W_next @ delta_next if slip == "W_not_transposed" else W_next.T @ delta_next
    if slip == "no_sigma_prime":
        return back
    if slip == "sigma_prime_of_a":
        return act.df(act.f(z)) * back
    if slip == "output_form_of_z":
        if act.df_from_y is None:
            raise ValueError(f"{act.name} has no derivative written with its output")
        return act.df_from_y(z) * back
    return act.df(z) * back


_ds_slip = slip_factory(reference_delta_step)


DELTA_STEP_SLIPS = (
    _ds_slip("no_sigma_prime", "you left sigma'(z^l) out of the step: delta^l = sigma'(z^l) * (W^{l+1})^T "
             "delta^{l+1}. Each unit multiplies the error it receives by its own sigma'."),
    _ds_slip("W_not_transposed", "you multiplied by W^{l+1} instead of its transpose: the sum over k of "
             "w_ki delta_k runs down column i, which is (W^{l+1})^T delta^{l+1} (W_next.T @ delta_next)."),
    _ds_slip("sigma_prime_of_a", "sigma' is evaluated at a^l = sigma(z^l) instead of at z^l: use "
             "get_activation(activation).df(z)."),
    _ds_slip("output_form_of_z", "you used the form of sigma' written with the output (a (1 - a), 1 - a^2) but "
             "gave it z: that form needs a^l = sigma(z^l). With z, use get_activation(activation).df(z)."),
)


def _check_delta_step_case(delta_step, activation, n_next, n, seed):
    act = get_activation(activation)

    def wrap(fn):
        return named_like(fn, lambda delta_next, cache: fn(delta_next, cache[1], cache[0], activation))

    inputs = random_inputs({"z": (n,), "W_next": (n_next, n)}, seed=seed, avoid_kinks={"z"})
    _with_shape_hint(
        check_layer_backward, wrap(delta_step), lambda z, W_next: (W_next @ act.f(z), (z, W_next)), inputs, "z",
        seed=seed, name=f"delta_step ({activation}, W_next {n_next}x{n})", slips=bind_slips(DELTA_STEP_SLIPS, wrap),
        known_factors={"sigma'(z)": act.df(inputs["z"])})


def check_delta_step(delta_step, cases=None):
    """Finite-difference check of delta_step(delta_next, W_next, z, activation): the derivative of
    z -> <delta_next, W_next sigma(z)>, on each case (activation, n_next, n, seed). The first visible
    case has a square W_next, so that W in place of W^T gives numbers rather than a crash."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_delta_step_case(delta_step, **c), cases,
              [dict(activation="sigmoid", n_next=4, n=4, seed=1)]
              + [dict(activation=a, n_next=3, n=5, seed=0) for a in ("sigmoid", "tanh", "relu")])


# ------------------------------------------------------------------------------------------------
# Exercise 3: dE/dW^l and dE/db^l from delta^l
# ------------------------------------------------------------------------------------------------

def reference_layer_gradients(delta, a_prev, slip=None):
    """(dW (n_l, n_{l-1}) = delta a_prev^T, db (n_l,) = delta); `slip` adds one typical mistake."""
    dW = {"transposed": lambda: np.outer(a_prev, delta), "inner": lambda: np.dot(delta, a_prev),
          "elementwise": lambda: delta * a_prev}.get(slip, lambda: np.outer(delta, a_prev))()
    db = np.sum(delta) if slip == "db_summed" else delta.copy()
    return dW, db


_lg_slip = slip_factory(reference_layer_gradients)


LAYER_GRADIENTS_SLIPS = (
    _lg_slip("transposed", "dW is transposed: you wrote a (delta)^T. dE/dW^l = delta^l (a^{l-1})^T, with one row "
             "per unit of layer l (np.outer(delta, a_prev)), like W^l itself."),
    _lg_slip("inner", "np.dot (or @) of two vectors is their inner product, one number. dE/dW^l is the outer "
             "product delta^l (a^{l-1})^T, a matrix: np.outer(delta, a_prev)."),
    _lg_slip("elementwise", "delta * a_prev multiplies entry by entry; dE/dW^l needs every pair (i, j), the outer "
             "product np.outer(delta, a_prev)."),
    _lg_slip("db_summed", "db is summed to one number: dE/db^l = delta^l itself, one entry per unit."),
)


def _check_layer_gradients_case(layer_gradients, n, n_prev, seed):
    def wrap(fn):
        return named_like(fn, lambda delta, a_prev: fn(delta, a_prev))

    _with_shape_hint(
        check_layer_backward, wrap(layer_gradients), lambda W, b, a_prev: (W @ a_prev + b, a_prev),
        random_inputs({"W": (n, n_prev), "b": (n,), "a_prev": (n_prev,)}, seed=seed), ("W", "b"), seed=seed,
        name=f"layer_gradients ({n}x{n_prev} layer)", slips=bind_slips(LAYER_GRADIENTS_SLIPS, wrap))


def check_layer_gradients(layer_gradients, cases=None):
    """Finite-difference check of layer_gradients(delta, a_prev) -> (dW, db): the derivative of
    (W, b) -> <delta, W a_prev + b>, on each case (n, n_prev, seed). The first visible case is a square
    layer, so that an inner or element-wise product gives numbers rather than a crash."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_layer_gradients_case(layer_gradients, **c), cases,
              [dict(n=4, n_prev=4, seed=1), dict(n=3, n_prev=5, seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercise 4: the whole backward pass of one sample
# ------------------------------------------------------------------------------------------------

def reference_backward_sample(params, cache, t, convention="half", slip=None):
    """grads {"W1": (n_1, n_0), "b1": (n_1,), ...} of one sample's loss; `slip` adds one typical mistake."""
    a, z, acts = cache["a"], cache["z"], cache["activations"]
    L = len(acts)

    def sigma_prime(l):          # sigma_l'(z^l), or what the slip takes instead
        name = acts[l] if (slip == "wrong_layer_activation" and l < L) else acts[l - 1]
        return get_activation(name).df(a[l] if slip == "sigma_prime_of_a" else z[l])

    dE_dy = _dE_dy(a[L], t, convention, slip)
    delta = dE_dy if slip == "no_sigma_prime_output" else dE_dy * sigma_prime(L)
    grads = {}
    for l in range(L, 0, -1):
        a_in = a[l] if slip == "a_of_same_layer" else a[l - 1]
        grads[f"W{l}"] = np.outer(a_in, delta) if slip == "dW_transposed" else np.outer(delta, a_in)
        grads[f"b{l}"] = delta.copy()
        if l > 1:
            W = params[f"W{l}"]
            back = W @ delta if slip == "W_not_transposed" else W.T @ delta
            delta = back if slip == "no_sigma_prime" else back * sigma_prime(l - 1)
    return {k: grads[k] for k in sorted(grads, key=lambda k: (int(k[1:]), k[0]))}


_bs_slip = slip_factory(reference_backward_sample)


BACKWARD_SAMPLE_SLIPS = (
    _bs_slip("no_sigma_prime", "you left sigma'(z^l) out of the recursion: delta^{l-1} = sigma_{l-1}'(z^{l-1}) * "
             "(W^l)^T delta^l in every hidden layer."),
    _bs_slip("no_sigma_prime_output", "the factor sigma_L'(z^L) is missing at the output: delta^L = dE/dy * "
             "sigma_L'(z^L)."),
    _bs_slip("sigma_prime_of_a", "sigma' is evaluated at a^l = sigma(z^l) instead of at z^l: use "
             "get_activation(...).df(z[l]), the derivative at the weighted input."),
    _bs_slip("W_not_transposed", "the recursion multiplies by W^l instead of its transpose: delta^{l-1} needs "
             "(W^l)^T delta^l (params[f\"W{l}\"].T @ delta)."),
    _bs_slip("dW_transposed", "every dW is transposed: you wrote a^{l-1} (delta^l)^T. dE/dW^l = delta^l "
             "(a^{l-1})^T = np.outer(delta, a[l - 1]), one row per unit of layer l."),
    _bs_slip("other_convention", "a factor 2 in every gradient: your dE/dy belongs to the other squared-error "
             "convention. \"half\" gives y - t; \"sum\" gives -2 (t - y)."),
    _bs_slip("wrong_layer_activation", "the step to delta^{l-1} uses the derivative of layer l's activation; it "
             "needs layer l-1's own. activations[0] belongs to layer 1, so z^{l-1} goes with activations[l - 2]."),
    _bs_slip("a_of_same_layer", "dE/dW^l uses a^l; it needs the activity at the input end of the weights, "
             "a^{l-1}: dE/dW^l = delta^l (a^{l-1})^T (a[l - 1], with a[0] = x)."),
    _bs_slip("sign", "the sign is flipped: dE/dy = y - t (half) or -2 (t - y) (sum), not t - y."),
)


def _mlp_stages(L):
    return layer_stages(L, f"at the output: check delta^{L} = dE/dy * sigma_{L}'(z^{L}) and the squared-error "
                        "convention",
                        lambda l: f"check sigma_{l}'(z^{l}) and the step delta^{l} = sigma_{l}'(z^{l}) * "
                                  f"(W^{l + 1})^T delta^{l + 1}")


def _check_backward_case(backward_sample, sizes, activations, convention, seed):
    shapes = mlp_parameter_shapes(sizes)
    names = list(shapes)
    inputs = random_inputs(shapes, seed=seed, scale=0.7)
    rng = np.random.default_rng(seed)
    inputs["x"], inputs["t"] = rng.standard_normal(sizes[0]), rng.uniform(size=sizes[-1])

    def wrap(fn):
        def grads(**kw):
            params = {k: kw[k] for k in names}
            return fn(params, forward_sample(params, kw["x"], activations)[1], kw["t"], convention)
        return named_like(fn, grads)

    def loss(**kw):
        return sample_loss(forward_sample({k: kw[k] for k in names}, kw["x"], activations)[0], kw["t"], convention)

    _with_shape_hint(
        check_function_gradients, wrap(backward_sample), loss, inputs, names, seed=seed,
        name=f"backward_sample ({' -> '.join(map(str, sizes))}, {', '.join(activations)}, {convention})",
        slips=bind_slips(BACKWARD_SAMPLE_SLIPS, wrap), stages=_mlp_stages(len(sizes) - 1))


def check_backward_sample(backward_sample, cases=None):
    """Finite-difference check of backward_sample(params, cache, t, convention) for every parameter, on each
    case (sizes, activations, convention, seed). The visible cases: a network of square layers (so that W
    in place of W^T gives numbers) and one of four different widths, both with three different activations."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_backward_case(backward_sample, **c), cases, [
        dict(sizes=(4, 4, 4, 4), activations=("tanh", "sigmoid", "softplus"), convention="sum", seed=1),
        dict(sizes=(6, 5, 4, 3), activations=("tanh", "relu", "sigmoid"), convention="half", seed=0),
    ])


# ------------------------------------------------------------------------------------------------
# Exercise 5a: the summary of *Backpropagation and Learning*, exactly as printed
# ------------------------------------------------------------------------------------------------

def _summary_layer(H, seed):
    """A layer n = W^T a_hat + b with H = L (so that A_hat^T S can be evaluated), a_hat = sigmoid(n_hat)."""
    inputs = random_inputs({"W": (H, H), "b": (H,), "n_hat": (H,)}, seed=seed)
    sigma = get_activation("sigmoid").f
    return inputs, lambda W, b, n_hat: (W.T @ sigma(n_hat) + b, (sigma(n_hat), n_hat))


def _summary_as_printed(a_hat, n_hat, S, activation):
    """The summary's formula itself, A_hat^T S with A_hat = diag(sigma'(n_hat)): the exercise's reference."""
    return np.diag(get_activation(activation).df(n_hat)).T @ S


SUMMARY_AS_WRITTEN_SLIPS = (
    Slip("repaired", "you repaired the formula (a_hat S^T is the body's right answer); this exercise asks for the "
         "summary's A_hat^T S exactly as printed (the right one is Exercise 5b).",
         lambda a_hat, n_hat, S, activation: np.outer(a_hat, S)),
    Slip("a_hat_for_A", "you used a_hat where the formula has A_hat = diag(sigma'(n_hat)): build A_hat with "
         "np.diag(get_activation(activation).df(n_hat)).",
         lambda a_hat, n_hat, S, activation: np.diag(a_hat).T @ S),
)


def _check_summary_case(fn, as_printed, H, seed):
    inputs, forward = _summary_layer(H, seed)
    if as_printed is not None:
        (_, (a_hat, n_hat)) = forward(**inputs)
        S = np.random.default_rng([seed, 0x5A]).standard_normal(H)
        args = (a_hat, n_hat, S, "sigmoid")
        got = call_student(fn, *[v.copy() if isinstance(v, np.ndarray) else v for v in args],
                           name="summary_as_written")
        expected = as_printed(*args)
        try:
            check_value(got, expected, name=f"summary_as_written (H = L = {H})", rtol=1e-12,
                        hint="Implement A_hat^T S with A_hat = diag(sigma'(n_hat)), exactly as printed.")
        except (WrongValue, BadReturn) as err:
            slip = matching_slip({"got": got}, ((s, {"got": s.fn(*args)}) for s in SUMMARY_AS_WRITTEN_SLIPS),
                                 right={"got": expected})
            if slip is None:
                raise
            print(f"Recognised mistake: {slip.words}")
            raise type(err)(f"Recognised mistake: {slip.words}\n{err}", err.kinds) from None
    expect_wrong(check_layer_backward,
                 named_like(fn, lambda S, cache: (fn(cache[0], cache[1], S, "sigmoid"), S.copy())),
                 forward, inputs, ("W", "b"), seed=seed, kind="shape", name="summary_as_written")


def check_summary_as_written(fn, cases=None, *, as_printed: Optional[Callable] = None):
    """The summary's dF/dW = A_hat^T S, fn(a_hat, n_hat, S, activation): passes when the gradient checker refutes
    it (kind "shape") on each case (H, seed). as_printed: the grader's own version of the printed formula (the
    graded cell's hidden block passes it); fn must then compute exactly that first, so that twice the formula
    or zeros of its shape do not earn the point merely because the checker refutes them too."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_summary_case(fn, as_printed, **c), cases, [dict(H=3, seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercise 5b: a layer's gradients in the input-major layout n = W^T a_hat + b
# ------------------------------------------------------------------------------------------------

def reference_input_major_layer_gradients(a_hat, S, slip=None):
    """(dW (H, L) = a_hat S^T, db (L,) = S) for n = W^T a_hat + b; `slip` adds one typical mistake."""
    dW = {"output_major": lambda: np.outer(S, a_hat), "inner": lambda: np.dot(a_hat, S),
          "elementwise": lambda: a_hat * S}.get(slip, lambda: np.outer(a_hat, S))()
    return dW, (np.sum(S) if slip == "db_summed" else S.copy())


_im_slip = slip_factory(reference_input_major_layer_gradients)


INPUT_MAJOR_LAYER_GRADIENTS_SLIPS = (
    _im_slip("output_major", "you used the course's output-major formula S a_hat^T. In this layout W is H x L "
             "(inputs x outputs), so dF/dW = a_hat S^T (np.outer(a_hat, S)), the transpose of ours."),
    _im_slip("inner", "np.dot (or @) of two vectors is their inner product, one number. dF/dW is the outer "
             "product a_hat S^T, a matrix: np.outer(a_hat, S)."),
    _im_slip("elementwise", "a_hat * S multiplies entry by entry; dF/dW needs every pair (l, c), the outer "
             "product np.outer(a_hat, S)."),
    _im_slip("db_summed", "db is summed to one number: dF/db = S itself, one entry per output."),
)


def _check_input_major_case(fn, H, L, seed):
    def wrap(f):
        return named_like(f, lambda S, a_hat: f(a_hat, S))

    _with_shape_hint(
        check_layer_backward, wrap(fn), lambda W, b, a_hat: (W.T @ a_hat + b, a_hat),
        random_inputs({"W": (H, L), "b": (L,), "a_hat": (H,)}, seed=seed), ("W", "b"), seed=seed,
        name=f"input_major_layer_gradients (H={H}, L={L})", slips=bind_slips(INPUT_MAJOR_LAYER_GRADIENTS_SLIPS, wrap))


def check_input_major_layer_gradients(fn, cases=None):
    """Finite-difference check of fn(a_hat, S) -> (dW, db) for n = W^T a_hat + b, W of shape (H, L), on each
    case (H, L, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_input_major_case(fn, **c), cases, [dict(H=3, L=3, seed=1), dict(H=4, L=3, seed=0)])


EXERCISES = (
    Exercise("output_delta", check_output_delta, reference_output_delta, OUTPUT_DELTA_SLIPS),
    Exercise("delta_step", check_delta_step, reference_delta_step, DELTA_STEP_SLIPS),
    Exercise("layer_gradients", check_layer_gradients, reference_layer_gradients, LAYER_GRADIENTS_SLIPS),
    Exercise("backward_sample", check_backward_sample, reference_backward_sample, BACKWARD_SAMPLE_SLIPS),
    # An as-written exercise's slips show only against the printed formula, which the graded cell passes.
    Exercise("summary_as_written", functools.partial(check_summary_as_written, as_printed=_summary_as_printed),
             _summary_as_printed, SUMMARY_AS_WRITTEN_SLIPS),
    Exercise("input_major_layer_gradients", check_input_major_layer_gradients, reference_input_major_layer_gradients,
             INPUT_MAJOR_LAYER_GRADIENTS_SLIPS),
)
