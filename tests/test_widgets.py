"""The explorers: their computations (backprop.explore) and their widgets, built headlessly.

No browser here (see test_browser.py): widgets are created without a kernel, their controls
are set from Python, and the tests check that the plotted data and the PNG change.
"""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop import explore  # noqa: E402
from backprop.gradcheck import DEFAULT_STEP, numerical_gradient  # noqa: E402

pytest.importorskip("ipywidgets")
from backprop import widgets  # noqa: E402

SMOOTH = ["sigmoid", "tanh", "softplus", "scaled_tanh"]
ALL_ACTIVATIONS = list(explore.ACTIVATION_CHOICES.values())


# ---------------------------------------------------------------------------- 1. activations
@pytest.mark.parametrize("name", ALL_ACTIVATIONS)
def test_activation_curves_derivative_matches_finite_differences(name):
    d = explore.activation_curves(name, lo=-4, hi=4, n=41, slope=0.2)
    assert d["u"].shape == d["y"].shape == d["dy"].shape == (41,)
    f, _ = explore.activation_functions(name, slope=0.2)
    off_kink = np.abs(d["u"]) > 1e-3
    for u, dy in zip(d["u"][off_kink], d["dy"][off_kink]):
        num = numerical_gradient(lambda z: float(np.sum(f(z))), np.array([u]))[0]
        assert dy == pytest.approx(num, rel=1e-6, abs=1e-9), (name, u)


def test_leaky_relu_slope_is_used():
    d = explore.activation_curves("leaky_relu", slope=0.3)
    assert np.allclose(d["dy"][d["u"] < 0], 0.3)
    assert np.allclose(d["y"][d["u"] < 0], 0.3 * d["u"][d["u"] < 0])
    assert np.allclose(d["dy"][d["u"] > 0], 1.0)


@pytest.mark.parametrize("name", SMOOTH)
@pytest.mark.parametrize("u", [-2.3, 0.0, 0.7, 4.0])
def test_point_smooth_activation_agrees(name, u):
    p = explore.activation_at_point(name, u)
    assert not p["at_kink"]
    assert p["abs_error"] < 1e-8
    assert p["value"] == pytest.approx(float(explore.activation_functions(name)[0](np.array([u]))[0]))


def test_point_relu_kink_disagrees_and_is_flagged():
    p = explore.activation_at_point("relu", 0.0)
    assert p["at_kink"]
    assert p["analytic"] == 0.0
    assert p["numeric"] == pytest.approx(0.5)
    q = explore.activation_at_point("leaky_relu", 0.0, slope=0.2)
    assert q["at_kink"] and q["numeric"] == pytest.approx(0.6) and q["analytic"] == pytest.approx(0.2)
    r = explore.activation_at_point("relu", 0.5)
    assert not r["at_kink"] and r["abs_error"] < 1e-8


def test_point_uses_the_checkers_step():
    # a step of 1e-1 makes tanh's central difference visibly wrong; the default does not
    assert explore.activation_at_point("tanh", 1.0, h=0.1)["abs_error"] > 1e-4
    assert explore.activation_at_point("tanh", 1.0)["abs_error"] < 1e-9
    assert explore.checker_default_step() == DEFAULT_STEP


def test_saturation_regions():
    d = explore.activation_curves("sigmoid", lo=-8, hi=8, n=801)
    regions = explore.saturation_regions(d["u"], d["dy"])
    assert len(regions) == 2
    (a0, b0), (a1, b1) = regions
    assert a0 == -8 and b1 == 8 and b0 == pytest.approx(-a1, abs=0.03)
    # sigmoid'(u) = 0.05 * 0.25 where sigma(1 - sigma) = 0.0125, i.e. |u| ~ 4.37
    assert -b0 == pytest.approx(4.37, abs=0.03)
    d = explore.activation_curves("relu")
    assert explore.saturation_regions(d["u"], d["dy"]) == [(-5.0, 0.0)]
    d = explore.activation_curves("leaky_relu", slope=0.2)
    assert explore.saturation_regions(d["u"], d["dy"]) == []
    assert explore.saturation_regions([0.0, 1.0, 2.0], [1.0, 0.0, 1.0]) == [(1.0, 1.0)]


# ---------------------------------------------------------------------------- 2. step size
@pytest.mark.parametrize("name", list(explore.FD_FUNCTIONS))
def test_fd_function_table_derivatives_are_right(name):
    fs = explore.FD_FUNCTIONS[name]
    for x in (-1.3, 0.4, 2.0):
        for lower, higher in zip(fs[:-1], fs[1:]):
            num = numerical_gradient(lambda z: float(lower(z[0])), np.array([x]))[0]
            assert float(higher(x)) == pytest.approx(num, rel=1e-6, abs=1e-8), (name, x)


def test_fd_errors_truncation_falls_rounding_rises():
    d = explore.finite_difference_errors("exp(x)", 1.0)
    h, fwd, cen = d["h"], d["forward"], d["central"]
    at = lambda arr, value: arr[int(np.argmin(np.abs(np.log10(h) - np.log10(value))))]  # noqa: E731
    # truncation: forward falls like h, central like h^2
    assert at(fwd, 1e-2) / at(fwd, 1e-4) == pytest.approx(100, rel=0.05)
    assert at(cen, 1e-1) / at(cen, 1e-2) == pytest.approx(100, rel=0.05)
    # rounding: both grow as h shrinks below the optimum
    assert at(fwd, 1e-13) > 100 * at(fwd, 1e-8)
    assert at(cen, 1e-12) > 100 * at(cen, 1e-5)
    hf, ef = explore.best_step(h, fwd)
    hc, ec = explore.best_step(h, cen)
    assert 1e-10 <= hf <= 1e-6 and 1e-7 <= hc <= 1e-4
    assert ec < ef / 10
    assert d["exact"] == pytest.approx(np.e)
    # the error model follows the measured truncation error where rounding is negligible
    assert at(d["central_model"], 1e-2) == pytest.approx(at(cen, 1e-2), rel=0.05)
    assert np.all(fwd > 0) and np.all(cen > 0)


def test_fd_errors_custom_steps_and_best_step():
    d = explore.finite_difference_errors("sin(x)", 0.3, hs=[1e-1, 1e-3])
    assert d["h"].shape == (2,)
    assert d["forward"][0] == pytest.approx(abs((np.sin(0.4) - np.sin(0.3)) / 0.1 - np.cos(0.3)))
    assert explore.best_step(np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0, 2.0])) == (2.0, 1.0)


# ---------------------------------------------------------------------------- 3. depth
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu"])
def test_mlp_gradients_match_finite_differences(activation):
    x, Ws, g = explore.random_mlp(3, 4, 1.3, batch=2, seed=5)
    dWs, das, _ = explore.mlp_gradients(x, Ws, g, activation)
    f, _ = explore.activation_functions(activation)

    def loss():
        a = x
        for W in Ws:
            a = f(a @ W.T)
        return float(np.sum(a * g))

    for W, dW in zip(Ws, dWs):
        np.testing.assert_allclose(dW, numerical_gradient(lambda _: loss(), W), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(das[0], numerical_gradient(lambda _: loss(), x), rtol=1e-5, atol=1e-8)


def test_depth_gradient_norms_vanish_and_explode():
    d = explore.depth_gradient_norms(20, 64, "sigmoid", 1.0)
    assert d["layer"].tolist() == list(range(1, 21))
    assert d["grad_W"].shape == d["grad_a"].shape == d["act_std"].shape == (20,)
    assert d["grad_a"][0] / d["grad_a"][-1] < 1e-8  # sigmoid' <= 1/4: vanishing
    steady = explore.depth_gradient_norms(20, 64, "relu", np.sqrt(2))
    assert 1e-1 < steady["grad_a"][0] / steady["grad_a"][-1] < 10
    exploding = explore.depth_gradient_norms(20, 64, "relu", 2.0)
    assert exploding["grad_a"][0] / exploding["grad_a"][-1] > 1e2
    assert explore.depth_gradient_norms(1, 3, "tanh")["grad_W"].shape == (1,)
    with pytest.raises(ValueError, match="depth"):
        explore.depth_gradient_norms(0, 3)


# ---------------------------------------------------------------------------- 4. conv shapes
@pytest.mark.parametrize("size,kernel,stride,pad,out", [(7, 3, 2, 1, 4), (32, 5, 1, 0, 28), (5, 5, 1, 0, 1),
                                                        (6, 2, 2, 0, 3), (4, 3, 1, 1, 4)])
def test_conv_geometry_fits(size, kernel, stride, pad, out):
    g = explore.conv_geometry(size, kernel, stride, pad, channels=3, batch=2)
    assert g["error"] is None and g["out"] == out
    assert g["cols_shape"] == (3 * kernel * kernel, 2 * out * out)
    assert g["formula"].endswith(f"= {out}")


def test_conv_geometry_reports_stride_that_does_not_fit():
    g = explore.conv_geometry(8, 3, 2, 1)
    assert g["out"] is None and g["cols_shape"] is None
    assert "stride" in g["error"] and "7" in g["error"] and "9" in g["error"]
    assert explore.conv_geometry(2, 5, 1, 0)["out"] is None  # kernel larger than the input


@pytest.mark.parametrize("size,kernel,stride,pad", [(7, 3, 2, 1), (5, 3, 1, 2), (6, 2, 2, 0), (9, 4, 1, 0)])
def test_receptive_field_matches_the_formula(size, kernel, stride, pad):
    out = (size + 2 * pad - kernel) // stride + 1
    for row, col in [(0, 0), (out - 1, out - 1), (out // 2, 0)]:
        rf = explore.receptive_field(size, kernel, stride, pad, row, col)
        expected = sorted((row * stride + p - pad, col * stride + q - pad)
                          for p in range(kernel) for q in range(kernel)
                          if 0 <= row * stride + p - pad < size and 0 <= col * stride + q - pad < size)
        assert rf["pixels"] == expected
        assert rf["padding_cells"] == kernel * kernel - len(expected)
        assert rf["mask"].shape == (size + 2 * pad,) * 2 and rf["mask"].sum() == kernel * kernel
        rows, cols = np.nonzero(rf["mask"])
        assert sorted(zip(rows - pad, cols - pad)) == sorted(
            (row * stride + p - pad, col * stride + q - pad) for p in range(kernel) for q in range(kernel))


def test_receptive_field_rejects_pixel_outside_output():
    with pytest.raises(ValueError, match="outside"):
        explore.receptive_field(7, 3, 2, 1, 4, 0)


# ---------------------------------------------------------------------------- 5. RNN
@pytest.mark.parametrize("r", [0.5, 0.9, 1.2])
def test_rnn_linear_orthogonal_norms_are_powers_of_r(r):
    d = explore.rnn_gradient_norms(r, 12, "identity")
    assert d["t"].tolist() == list(range(1, 13))
    np.testing.assert_allclose(d["norm"], d["norm"][-1] * r ** (12 - d["t"]), rtol=1e-10)


def test_rnn_tanh_saturation_damps_the_gradient():
    small = explore.rnn_gradient_norms(1.0, 30, "tanh", input_scale=1e-6)
    np.testing.assert_allclose(small["norm"], small["norm"][-1], rtol=1e-6)
    big = explore.rnn_gradient_norms(1.0, 30, "tanh", input_scale=1.0)
    assert big["norm"][0] < 0.1 * big["norm"][-1]
    exploding = explore.rnn_gradient_norms(1.5, 30, "identity")
    assert exploding["norm"][0] > 1e4 * exploding["norm"][-1]


# ---------------------------------------------------------------------------- widgets, headless
EXPLORERS = [widgets.activation_explorer, widgets.finite_difference_explorer, widgets.gradient_flow_explorer,
             widgets.conv_shape_explorer, widgets.rnn_gradient_explorer]

# a control of each explorer and a new value for it
MOVES = {
    "activation_explorer": ("u", -2.0),
    "finite_difference_explorer": ("x", -1.5),
    "gradient_flow_explorer": ("weight_scale", 2.5),
    "conv_shape_explorer": ("kernel", 5),
    "rnn_gradient_explorer": ("spectral_radius", 1.4),
}


def _png(explorer):
    value = explorer.image.value
    assert value[:8] == b"\x89PNG\r\n\x1a\n"
    return bytes(value)


@pytest.mark.parametrize("build", EXPLORERS, ids=lambda f: f.__name__)
def test_explorer_builds_and_follows_its_controls(build):
    import ipywidgets

    e = build()
    assert isinstance(e.widget, ipywidgets.VBox)
    assert e.last_error is None and e.last_data is not None
    assert e.axes and e.readout.value
    assert hasattr(e, "_ipython_display_")
    before_png, before = _png(e), e.last_data
    name, value = MOVES[build.__name__]
    e.controls[name].value = value
    assert e.last_error is None
    assert e.last_data is not before
    assert _png(e) != before_png
    for control in e.controls.values():  # every control is wired
        assert any(control._trait_notifiers.get("value", {}).values())


def test_activation_explorer_data_and_kink_message():
    e = widgets.activation_explorer()
    assert e.controls["slope"].disabled
    y_tanh = e.last_data["y"].copy()
    e.controls["name"].value = "relu"
    assert not np.allclose(e.last_data["y"], y_tanh)
    e.controls["u"].value = 0.0
    assert e.last_data["point"]["at_kink"] and "kink" in e.readout.value
    assert e.last_data["saturated"] == [(-5.0, 0.0)]
    e.controls["name"].value = "leaky_relu"
    assert not e.controls["slope"].disabled
    e.controls["slope"].value = 0.3
    assert np.allclose(e.last_data["dy"][e.last_data["u"] < 0], 0.3)
    ax_f, ax_d = e.axes
    curves = [line for line in ax_d.lines if len(line.get_ydata()) == len(e.last_data["u"])]
    np.testing.assert_allclose(curves[0].get_ydata(), e.last_data["dy"])  # what is drawn is the data


def test_fd_explorer_step_slider():
    e = widgets.finite_difference_explorer(function="exp(x)", x=1.0, h=1e-2)
    at = e.last_data["at_h"]
    assert at["forward"] == pytest.approx(abs((np.exp(1.01) - np.e) / 0.01 - np.e))
    assert at["central"] == pytest.approx(abs((np.exp(1.01) - np.exp(0.99)) / 0.02 - np.e))
    e.controls["h"].value = 1e-12  # rounding dominates: the forward error is far above its best
    assert e.last_data["at_h"]["h"] == pytest.approx(1e-12)
    assert e.last_data["at_h"]["forward"] > 100 * e.last_data["best_forward"][1]
    assert "1.0e-12" in e.readout.value


def test_fd_explorer_marks_the_checkers_step():
    e = widgets.finite_difference_explorer()
    ax = e.axes[0]
    vlines = [line for line in ax.lines if np.ptp(line.get_xdata()) == 0 and len(line.get_xdata()) == 2]
    assert any(line.get_xdata()[0] == pytest.approx(DEFAULT_STEP) for line in vlines)
    n_lines = len(ax.lines)
    e.controls["model"].value = False
    assert len(e.axes[0].lines) == n_lines - 2
    e.controls["x"].value = 2.0  # the step scales with |x|
    assert e.last_data["checker_h"] == pytest.approx(2 * DEFAULT_STEP)
    assert 0 < e.last_data["checker_error"] < 1e-8  # the checker's step is close to the best one


def test_gradient_flow_explorer_depth_changes_the_plot():
    e = widgets.gradient_flow_explorer(depth=5)
    assert len(e.last_data["grad_W"]) == 5
    e.controls["depth"].value = 12
    assert len(e.last_data["grad_W"]) == 12
    np.testing.assert_allclose(e.axes[0].lines[0].get_ydata(), e.last_data["grad_W"])
    e.controls["activation"].value = "sigmoid"
    assert "vanishing" in e.readout.value


def test_conv_explorer_error_and_pixel_sliders():
    e = widgets.conv_shape_explorer(size=7, kernel=3, stride=2, pad=1)
    assert e.last_data["out"] == 4 and e.controls["row"].max == 3
    e.controls["row"].value, e.controls["col"].value = 3, 2
    assert e.last_data["field"]["pixels"][0] == (5, 3)
    e.controls["size"].value = 8  # (8 + 2 - 3) / 2 is not whole
    assert e.last_data["out"] is None and e.last_data["field"] is None
    assert "does not fit" in e.readout.value and "firebrick" in e.readout.value
    assert e.controls["row"].disabled
    e.controls["size"].value = 5  # out = 3: the pixel sliders shrink and clamp
    assert e.last_data["out"] == 3 and e.controls["row"].max == 2 and e.controls["row"].value <= 2
    assert not e.controls["row"].disabled
    assert e.last_data["cols_shape"] == (9, 9)
    e.controls["kernel"].value = 7  # larger than the padded input 7? no: 5 + 2 = 7 fits once
    assert e.last_data["out"] == 1
    e.controls["pad"].value = 0  # kernel 7 > input 5: an error, not a crash
    assert e.last_data["out"] is None and "larger" in e.last_data["error"]


def test_rnn_explorer_controls():
    e = widgets.rnn_gradient_explorer(length=10)
    assert len(e.last_data["norm"]) == 10
    e.controls["length"].value = 25
    assert len(e.last_data["norm"]) == 25
    e.controls["activation"].value = "identity"
    e.controls["spectral_radius"].value = 0.5
    n = e.last_data["norm"]
    assert n[0] / n[-1] == pytest.approx(0.5 ** 24, rel=1e-8)
    e.controls["kind"].value = "gaussian"
    e.controls["input_scale"].value = 1.0
    assert e.last_error is None


def test_explorer_shows_a_computation_error_instead_of_raising():
    import ipywidgets

    def compute(n):
        if n < 0:
            raise ValueError("n must be non-negative")
        return {"n": n}

    e = widgets.Explorer("t", {"n": ipywidgets.IntSlider(value=1, min=-3, max=3)}, compute,
                         lambda fig, d, v: fig.add_subplot().plot([0, d["n"]]), lambda d, v: f"n={d['n']}")
    assert e.readout.value == "n=1"
    e.controls["n"].value = -1
    assert e.last_error == "n must be non-negative" and e.last_data is None
    assert "non-negative" in e.readout.value
    e.controls["n"].value = 2
    assert e.last_error is None and e.readout.value == "n=2"


def test_importing_backprop_does_not_import_ipywidgets():
    import subprocess
    import sys

    code = "import sys, backprop; print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.slow
def test_explorers_run_in_a_fresh_kernel_without_stderr(tmp_path):
    """Each explorer cell, as a notebook shows it, in a fresh kernel: it needs only backprop,
    displays a widget and writes nothing to stderr (nbgrader would count that as a failure)."""
    nbformat = pytest.importorskip("nbformat")
    from notebook_runner import execute

    names = [f.__name__ for f in EXPLORERS]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"from backprop.widgets import {n}\n{n}()") for n in names]
    nb = execute(dict(nb), cwd=tmp_path, timeout=120)
    for name, cell in zip(names, nb.cells):
        kinds = [(o["output_type"], o.get("name")) for o in cell.outputs]
        assert ("stream", "stderr") not in kinds and all(k != "error" for k, _ in kinds), (name, cell.outputs)
        views = [o for o in cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
        assert len(views) == 1, (name, cell.outputs)
