"""Checks of notebook 05_lenet5: parameter counts, the scaled tanh, trainable subsampling, the C3 table.

LeNet-5 as in backprop.lenet: C3 is a 6 -> 16 convolution whose kernel W (16, 6, K, K) is multiplied by
the mask table.T (table (6, 16) bool, table[p, d] when C3 map d reads S2 map p); subsampling is
out = coeff * (window sum) + bias per map; f(a) = A tanh(S a), A = 1.7159, S = 2/3.

    check_lenet5_parameter_counts(lenet5_parameter_counts)   (table, trainable_subsampling) -> dict
    check_dscaled_tanh(dscaled_tanh)                         f' written with the output y = f(a)
    check_subsampling_backward(subsampling_backward)         (dout, cache) -> (dx, dcoeff, dbias)
    check_c3_input_grad_as_written(c3_input_grad_as_written) Liao (2018)'s printed sum: refuted
    check_c3_backward(c3_backward)                           (dout, cache, table) -> (dx, dW, db)

Every check takes `cases=None` (the visible cases) or a list of dicts with other shapes and seeds.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np

from ..activations import scaled_tanh
from ..conv import conv2d_backward, conv2d_forward
from ..explain import Stage
from ..grading import (BadReturn, WrongValue, call_student, check_derivative, check_layer_backward, check_value_slips,
                       expect_wrong, random_inputs)
from ..lenet import C3_TABLE, lenet5_shapes
from ..pool import subsample_forward
from ..slips import results_agree, slip_of
from . import Exercise, bind_slips, run_cases

__all__ = [
    "check_lenet5_parameter_counts", "check_dscaled_tanh", "check_subsampling_backward",
    "check_c3_input_grad_as_written", "check_c3_backward", "full_conv", "EXERCISES",
]

A, S = 1.7159, 2.0 / 3.0
LAYERS = ("C1", "S2", "C3", "S4", "C5", "F6", "out")


_OWN = "checks.lenet5."
"""Prefix for `also=`: this module's references are switched off while a student's function runs."""


def full_conv(a, k):
    """Full convolution of a batch of single maps a (N, OH, OW) with one kernel k (K, K) -> (N, OH+K-1, OW+K-1):
    the helper the notebook gives its students (flip, pad by K - 1, correlate)."""
    K = k.shape[-1]
    return conv2d_forward(a[:, None], k[::-1, ::-1][None, None].copy(), np.zeros(1), pad=K - 1)[0][:, 0]


# ------------------------------------------------------------------------------------------------
# Exercise 1: parameters per layer
# ------------------------------------------------------------------------------------------------

def reference_parameter_counts(table, trainable_subsampling=True, slip=None):
    """Trainable parameters per layer {"C1": int, ..., "out": int} of LeNet-5 with C3 connected by `table`."""
    table = np.asarray(table, dtype=bool)
    counts = dict.fromkeys(LAYERS, 0)
    for name, shape in lenet5_shapes("classic", "softmax").items():
        layer, kind = name.split("_")
        size = int(np.prod(shape))
        if name == "C3_W":
            size = (table.size if slip == "c3_full" else int(table.sum())) * 25
        elif name == "C3_b" and slip == "c3_bias_per_connection":
            size = int(table.sum())
        if kind in ("b", "bias") and slip == "no_biases":
            size = 0
        if layer in ("S2", "S4"):
            if not trainable_subsampling and slip != "subsampling_always":
                size = 0
            elif kind == "bias" and slip == "subsampling_coeff_only":
                size = 0
        counts[layer] += size
    return counts


LENET5_PARAMETER_COUNTS_SLIPS = (
    slip_of(reference_parameter_counts, "c3_full", "you counted C3 as fully connected (16 x 6 kernels). Only the "
          "pairs the table connects have a kernel: 25 weights per True entry of the table, plus 16 biases."),
    slip_of(reference_parameter_counts, "no_biases", "the biases are missing: every convolution map and every "
          "dense unit has one (C1 has 6 x 25 weights + 6 biases), and each subsampling map a bias beside its "
          "coefficient."),
    slip_of(reference_parameter_counts, "c3_bias_per_connection", "you gave C3 one bias per connection; there is "
          "one bias per output map (16), however many input maps it reads."),
    slip_of(reference_parameter_counts, "subsampling_always", "you counted the subsampling parameters although "
          "trainable_subsampling is False: then S2 and S4 are plain pooling, with 0 parameters."),
    slip_of(reference_parameter_counts, "subsampling_coeff_only", "each subsampling map has two parameters, a "
          "coefficient and a bias: 2 x 6 for S2 and 2 x 16 for S4."),
)


def _check_counts_case(lenet5_parameter_counts, table, trainable_subsampling):
    table = np.array(C3_TABLE if table is None else table, dtype=bool)
    got = call_student(lenet5_parameter_counts, table.copy(), trainable_subsampling,
                       also=("count_parameters", _OWN + "reference_parameter_counts"))
    if not isinstance(got, dict) or set(got) != set(LAYERS):
        raise BadReturn(f"lenet5_parameter_counts must return a dict with the keys {LAYERS}; got "
                        f"{sorted(got) if isinstance(got, dict) else type(got).__name__}.")
    expected = reference_parameter_counts(table, trainable_subsampling)
    # a slip is named only when it gives the student's count for every layer
    slips = [(s, v) for s in LENET5_PARAMETER_COUNTS_SLIPS for v in [s.fn(table, trainable_subsampling)]
             if all(results_agree(got[layer], v[layer]) for layer in LAYERS)]
    which = "trainable" if trainable_subsampling else "no"
    label = "C3_TABLE" if np.array_equal(table, C3_TABLE) else f"a table with {int(table.sum())} connections"
    for layer in LAYERS:
        with contextlib.redirect_stdout(io.StringIO()):   # one line per case below, not one per layer
            check_value_slips(got[layer], expected[layer], slips=[(s, v[layer]) for s, v in slips],
                              name=f"{layer} ({label}, {which} subsampling)", what="integer")
    print(f"lenet5_parameter_counts({label}, {which} subsampling): all {len(LAYERS)} layers ok")


def check_lenet5_parameter_counts(lenet5_parameter_counts, cases=None):
    """Compare lenet5_parameter_counts(table, trainable_subsampling) layer by layer on each case
    (table: a (6, 16) bool array or None for C3_TABLE; trainable_subsampling)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_counts_case(lenet5_parameter_counts, **c), cases, [
        dict(table=None, trainable_subsampling=True), dict(table=None, trainable_subsampling=False)])


# ------------------------------------------------------------------------------------------------
# Exercise 2: the scaled tanh's derivative, written with its output
# ------------------------------------------------------------------------------------------------

def reference_dscaled_tanh(y, A=A, S=S, slip=None):
    """f'(a) for f(a) = A tanh(S a), written with y = f(a): (S / A) (A^2 - y^2); `slip` adds one mistake."""
    if slip == "y_as_tanh":
        return A * S * (1.0 - y * y)
    if slip == "plain_tanh":
        return 1.0 - y * y
    if slip == "at_output_as_input":
        return A * S * (1.0 - np.tanh(S * y) ** 2)
    factor = {"no_AS": 1.0, "no_S": A, "no_A": S}.get(slip, A * S)
    return factor * (1.0 - (y / A) ** 2)


DSCALED_TANH_SLIPS = tuple(slip_of(reference_dscaled_tanh, key, words) for key, words in (
    ("y_as_tanh", "you used y as if it were tanh(S a). The output is y = A tanh(S a), so tanh(S a) = y / A and "
                  "f' = A S (1 - (y / A)^2)."),
    ("no_AS", "the factor A S = 1.7159 x 2/3 (about 1.144) is missing: the outer A and the inner derivative S of "
              "the chain rule, f' = A S (1 - tanh^2(S a))."),
    ("no_S", "the factor S = 2/3 is missing: the chain rule through tanh(S a) brings out the inner derivative S."),
    ("no_A", "the factor A = 1.7159 is missing: f = A tanh(S a) keeps its A in the derivative, "
             "f' = A S (1 - (y / A)^2)."),
    ("plain_tanh", "that is the derivative of plain tanh written with its output, 1 - y^2. Here y = A tanh(S a): "
                   "f' = (S / A) (A^2 - y^2)."),
    ("at_output_as_input", "you evaluated the derivative at y as if y were the pre-activation a (tanh(S y)); y is "
                           "the output: tanh(S a) = y / A, no tanh needed."),
))


def check_dscaled_tanh(dscaled_tanh, cases=None):
    """Compare dscaled_tanh(y) with the derivative of scaled_tanh (central differences at a, given y = f(a))
    on each case (shape, seed)."""
    __tracebackhide__ = True

    def case(shape, seed):
        check_derivative(dscaled_tanh, scaled_tanh, shape=shape, seed=seed, from_output=True,
                         also=("scaled_tanh_grad", "scaled_tanh_grad_from_output", _OWN + "reference_dscaled_tanh"),
                         slips=DSCALED_TANH_SLIPS)

    run_cases(case, cases, [dict(shape=(3, 4), seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercise 3: trainable subsampling
# ------------------------------------------------------------------------------------------------

def reference_subsampling_backward(dout, cache, slip=None):
    """(dx (N, C, H, W), dcoeff (C,), dbias (C,)) for the cache (x_shape, size, stride, coeff, window_sums)
    of subsample_forward (stride = size); `slip` adds one typical mistake."""
    x_shape, size, stride, coeff, sums = cache
    dbias = dout.sum(axis=(0, 2, 3))
    dcoeff = dbias.copy() if slip == "dcoeff_no_sums" else np.sum(dout * sums, axis=(0, 2, 3))
    if slip == "dcoeff_mean":
        dcoeff = dcoeff / (size * size)
    scaled = dout if slip == "dx_no_coeff" else dout * coeff[None, :, None, None]
    if slip == "dx_tile":
        dx = np.tile(scaled, (1, 1, size, size))
    else:
        dx = np.repeat(np.repeat(scaled, size, axis=2), size, axis=3)
    if slip == "dx_quarter":
        dx = dx / (size * size)
    return dx, dcoeff, dbias


SUBSAMPLING_BACKWARD_SLIPS = (
    slip_of(reference_subsampling_backward, "dx_quarter", "you divided dx by size*size (1/4 for 2x2 windows) on top "
          "of the coefficient. The layer adds the window (a sum, not a mean), so every pixel gets coeff * delta; "
          "Liao (2018)'s omega / 4 is our coeff already."),
    slip_of(reference_subsampling_backward, "dcoeff_no_sums", "dcoeff is missing the pooled sum: the coefficient "
          "multiplies each window's sum s, so dcoeff = sum over n, i, j of delta * s (window_sums in the cache)."),
    slip_of(reference_subsampling_backward, "dcoeff_mean", "dcoeff uses the window mean (Liao (2018)'s MeanPool) "
          "with our coefficient: our layer multiplies the window SUM, so dcoeff = sum of delta * window_sums."),
    slip_of(reference_subsampling_backward, "dx_no_coeff", "dx is missing the coefficient: every pixel enters its "
          "window's sum, which is multiplied by coeff[c], so dx = coeff[c] * delta spread over the window."),
    slip_of(reference_subsampling_backward, "dx_tile", "you spread delta with np.tile, which repeats the whole map; "
          "each window's gradient belongs to its own size x size pixels: np.repeat along both image axes."),
)


SUBSAMPLING_BACKWARD_STAGES = (
    Stage(("dx", "dcoeff", "dbias"), "in how dout is read: all three are built from dout as it is (dbias is dout "
                                     "summed over n, i, j; no g' and no 1/4 to apply here)"),
)


def _check_subsampling_case(subsampling_backward, n, c, h, w, size, seed):
    check_layer_backward(subsampling_backward, subsample_forward,
                         random_inputs({"x": (n, c, h, w), "coeff": (c,), "bias": (c,)}, seed=seed),
                         ("x", "coeff", "bias"), seed=seed, forward_kwargs={"size": size},
                         layout={"x": "NCHW"}, name="subsampling_backward", slips=SUBSAMPLING_BACKWARD_SLIPS,
                         stages=SUBSAMPLING_BACKWARD_STAGES)


def check_subsampling_backward(subsampling_backward, cases=None):
    """Finite-difference check of subsampling_backward(dout, cache) for the cache of subsample_forward on each
    case (n, c, h, w, size, seed)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_subsampling_case(subsampling_backward, **c), cases,
              [dict(n=2, c=3, h=4, w=4, size=2, seed=0)])


# ------------------------------------------------------------------------------------------------
# Exercises 4 and 5: the partially connected C3
# ------------------------------------------------------------------------------------------------

def _masked_forward(table):
    mask = np.asarray(table, dtype=np.float64).T[:, :, None, None]
    return lambda x, W, b: conv2d_forward(x, W * mask, b)


def printed_c3_input_grad(delta, W, table, slip=None):
    """Liao (2018)'s formula as printed: map d of the result = sum over p with table[p, d] of
    full_conv(delta[:, d], W[d, p]). delta (N, D, OH, OW), W (D, P, K, K) -> (N, D, OH+K-1, OW+K-1)."""
    N, D, OH, OW = delta.shape
    K = W.shape[-1]
    result = np.zeros((N, table.shape[0] if slip == "repaired" else D, OH + K - 1, OW + K - 1))
    for d in range(D):
        for p in range(table.shape[0]):
            if table[p, d] or slip == "no_table":
                if slip == "unflipped":
                    term = full_conv(delta[:, d], W[d, p][::-1, ::-1])
                else:
                    term = full_conv(delta[:, d], W[d, p])
                result[:, p if slip == "repaired" else d] += term
    return result


C3_INPUT_GRAD_AS_WRITTEN_SLIPS = tuple(slip_of(printed_c3_input_grad, key, words) for key, words in (
    ("repaired", "you summed over the output maps d that input map p feeds and stored the result as map p: that "
                 "is the corrected formula (Exercise 5). Here implement the formula exactly as written: map d of "
                 "the result is the sum over the input maps p with table[p, d]."),
    ("no_table", "you summed over every input map p; the printed sum runs only over the p with table[p, d] = 1."),
    ("unflipped", "you correlated instead of convolving: the printed formula correlates with rot180(W), i.e. "
                  "convolves with W. Use the full_conv given in the cell."),
))


def _check_c3_as_written_case(c3_input_grad_as_written, n, h, seed, as_printed):
    arrays = random_inputs({"x": (n, 6, h, h), "W": (16, 6, 5, 5), "b": (16,)}, seed=seed)
    delta = np.random.default_rng([seed, 0xC3]).standard_normal((n, 16, h - 4, h - 4))
    table = np.array(C3_TABLE)
    got = call_student(c3_input_grad_as_written, delta.copy(), arrays["W"].copy(), table.copy(),
                       also=(_OWN + "printed_c3_input_grad",))
    if isinstance(got, np.ndarray) and got.size and not np.any(got):
        raise WrongValue("c3_input_grad_as_written returns only zeros: implement the printed formula (for every "
                         "output map d, the sum over the input maps p with table[p, d] of full_conv(delta[:, d], "
                         "W[d, p])).", {"dx": "zero"})
    slips = [(s, s.fn(delta, arrays["W"], table)) for s in C3_INPUT_GRAD_AS_WRITTEN_SLIPS]
    check_value_slips(got, as_printed(delta.copy(), arrays["W"].copy(), table.copy()), slips=slips,
                      name=f"c3_input_grad_as_written (delta {delta.shape})",
                      hint="Implement the formula exactly as written: map d of the result is the sum over p with "
                             "table[p, d] of full_conv(delta[:, d], W[d, p]).")
    print("Your function computes the formula as printed. Now the gradient checker's verdict on it as dL/dX:")
    expect_wrong(check_layer_backward,
                 lambda dout, cache: c3_input_grad_as_written(dout, cache[1], table.copy()),
                 _masked_forward(table), arrays, "x", seed=seed, kind="shape", name="c3_input_grad_as_written",
                 also=(_OWN + "printed_c3_input_grad",))


def check_c3_input_grad_as_written(c3_input_grad_as_written, cases=None, as_printed=None):
    """c3_input_grad_as_written(delta, W, table) must compute Liao (2018)'s printed formula (compared with
    `as_printed`, default printed_c3_input_grad) and the checker must then refute it as dL/dX (the shape is
    wrong: one map per output map). Each case is (n, h, seed), with C3_TABLE and 5x5 kernels."""
    __tracebackhide__ = True
    as_printed = printed_c3_input_grad if as_printed is None else as_printed
    run_cases(lambda **c: _check_c3_as_written_case(c3_input_grad_as_written, as_printed=as_printed, **c), cases,
              [dict(n=2, h=8, seed=0)])


def reference_c3_backward(dout, cache, table, slip=None):
    """(dx (N, P, H, W), dW (D, P, K, K), db (D,)) for the cache of conv2d_forward with the masked kernel."""
    x, W, b, stride, pad, cols = cache
    if slip == "dx_as_printed":
        dx = printed_c3_input_grad(dout, W, table)
    else:
        dx = np.zeros_like(x)
        for p in range(x.shape[1]):
            for d in range(W.shape[0]):
                if table[p, d]:
                    k = W[d, p][::-1, ::-1] if slip == "dx_unflipped" else W[d, p]
                    dx[:, p] += full_conv(dout[:, d], k)
    _, dW, db = conv2d_backward(dout, cache)
    if slip == "table_reshaped":
        dW = dW * np.asarray(table).reshape(W.shape[0], W.shape[1])[:, :, None, None]
    elif slip != "table_ignored":
        dW = dW * np.asarray(table).T[:, :, None, None]
    return dx, dW, db


C3_BACKWARD_SLIPS = (
    slip_of(reference_c3_backward, "table_ignored", "dW is nonzero for kernels the connection table leaves out: "
          "an unconnected pair takes no part in the loss, so its gradient is 0. Multiply dW by "
          "table.T[:, :, None, None]."),
    slip_of(reference_c3_backward, "table_reshaped", "you reshaped the (P, D) table to (D, P), which scrambles the "
          "pairs of the connection table: the mask for W[d, p] is table.T (a transpose, not a reshape)."),
    slip_of(reference_c3_backward, "dx_as_printed", "your dx sums over the input maps p for a fixed output map d, as "
          "Liao (2018) prints it. Input map p collects from every output map d it feeds: loop over p and sum "
          "full_conv(dout[:, d], W[d, p]) over the d with table[p, d]."),
    slip_of(reference_c3_backward, "dx_unflipped", "your dx correlates with the kernel instead of convolving: the "
          "input gradient is a full convolution (the kernel rotated by 180 degrees), which full_conv computes."),
)


C3_BACKWARD_STAGES = (
    Stage(("dx", "dW", "db"), "in how dout is read: all three are computed from dout as it is (db is dout summed "
                              "over n, i, j)"),
)


def _c3_wrap(table):
    return lambda fn: (lambda dout, cache: fn(dout, cache, table.copy()))


def _check_c3_case(c3_backward, n, h, k, table, seed):
    table = np.array(table, dtype=bool)
    c, f = table.shape
    wrap = _c3_wrap(table)
    check_layer_backward(wrap(c3_backward), _masked_forward(table),
                         random_inputs({"x": (n, c, h, h), "W": (f, c, k, k), "b": (f,)}, seed=seed),
                         ("x", "W", "b"), seed=seed, layout={"x": "NCHW", "W": "FCHW"},
                         allow=("conv2d_backward",), name="c3_backward", slips=bind_slips(C3_BACKWARD_SLIPS, wrap),
                         stages=C3_BACKWARD_STAGES)


def small_table():
    """A (4, 6) table in the style of LeNet-5's: output maps 0-3 read two neighbouring input maps, 4-5 three."""
    table = np.zeros((4, 6), dtype=bool)
    for d in range(6):
        table[[d % 4, (d + 1) % 4, (d + 2) % 4][:2 + d // 4], d] = True
    return table


def check_c3_backward(c3_backward, cases=None):
    """Finite-difference check of c3_backward(dout, cache, table) for the masked convolution on each case
    (n, h, k, table (P, D) bool, seed). The library's conv2d_backward may be called here (for dW and db)."""
    __tracebackhide__ = True
    run_cases(lambda **c: _check_c3_case(c3_backward, **c), cases, [dict(n=2, h=7, k=3, table=small_table(), seed=0)])


EXERCISES = (
    Exercise("lenet5_parameter_counts", check_lenet5_parameter_counts, reference_parameter_counts,
             LENET5_PARAMETER_COUNTS_SLIPS),
    Exercise("dscaled_tanh", check_dscaled_tanh, reference_dscaled_tanh, DSCALED_TANH_SLIPS),
    Exercise("subsampling_backward", check_subsampling_backward, reference_subsampling_backward,
             SUBSAMPLING_BACKWARD_SLIPS),
    Exercise("c3_input_grad_as_written", check_c3_input_grad_as_written, printed_c3_input_grad,
             C3_INPUT_GRAD_AS_WRITTEN_SLIPS),
    Exercise("c3_backward", check_c3_backward, reference_c3_backward, C3_BACKWARD_SLIPS),
)
