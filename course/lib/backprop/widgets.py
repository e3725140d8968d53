"""Interactive explorers for the notebooks: sliders and dropdowns wired to a live plot.

    from backprop.widgets import activation_explorer
    activation_explorer()          # the last expression of a cell shows the widget

Five explorers, each a function returning an `Explorer`:

    activation_explorer()          activations, their derivatives, finite differences, kinks
    finite_difference_explorer()   error of forward/central differences against the step h
    gradient_flow_explorer()       gradient norm per layer of a deep random MLP
    conv_shape_explorer()          conv output size, im2col shape, receptive field of a pixel
    rnn_gradient_explorer()        gradient norm reaching each time step of a vanilla RNN

All numbers come from the plain functions in `backprop.explore`; this module only wires
controls to them and draws. The plot is a PNG in an `ipywidgets.Image`, redrawn on every
change, so it works in JupyterLab and classic Notebook without any extension and without a
particular matplotlib backend. ipywidgets and matplotlib are imported only when an explorer
is built, so `import backprop` stays fast for the graders.
"""
from __future__ import annotations

import html
import io

import numpy as np

from . import explore

__all__ = [
    "Explorer", "activation_explorer", "finite_difference_explorer", "gradient_flow_explorer",
    "conv_shape_explorer", "rnn_gradient_explorer",
]

_WIDE = {"description_width": "initial"}
_MARGINS = {"left": 0.08, "right": 0.98, "bottom": 0.17, "top": 0.91, "wspace": 0.22}


def _widgets():
    import ipywidgets

    return ipywidgets


class Explorer:
    """Controls, a plot and a readout, kept in sync.

    Built from: `controls` (dict name -> ipywidgets control), `compute(**values) -> data` (a
    plain function of the control values), `draw(figure, data, values)`, optional
    `describe(data, values) -> HTML` for the readout and `adjust(controls)`, called before
    each computation to adapt one control to the others (e.g. a slider's range). A ValueError
    from `compute` is shown in place of the plot instead of being lost in a log.

    Attributes:
    widget     the ipywidgets box to display (displaying the Explorer shows it)
    controls   dict name -> control widget; set `.value` to drive the explorer
    figure     the matplotlib Figure last drawn (figure.axes for its axes)
    image      the ipywidgets.Image holding the PNG of the figure
    readout    the ipywidgets.HTML under the plot (numbers, messages)
    last_data  what the computation returned for the current control values
    last_error the message of the last ValueError from the computation, else None
    """

    def __init__(self, title, controls, compute, draw, describe=None, adjust=None, figsize=(9.5, 3.6),
                 margins=None):
        w = _widgets()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.controls = dict(controls)
        self._compute, self._draw, self._describe, self._adjust = compute, draw, describe, adjust
        # fixed margins rather than a layout engine: a redraw costs half as much
        self.figure = Figure(figsize=figsize, dpi=80)
        self._margins = {**_MARGINS, **(margins or {})}
        FigureCanvasAgg(self.figure)
        self.image = w.Image(format="png", layout=w.Layout(width="auto", max_width="100%"))
        self.readout = w.HTML()
        box = w.Box(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([w.HTML(f"<b>{title}</b>"), box, self.image, self.readout])
        self.last_data, self.last_error = None, None
        self._busy = False
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change):
        if not self._busy:
            self.update()

    def update(self):
        """Recompute with the current control values and redraw."""
        self._busy = True
        try:
            if self._adjust is not None:
                self._adjust(self.controls)
            values = self.values()
            try:
                data = self._compute(**values)
                self.last_error = None
            except ValueError as exc:  # a setting that does not make sense: say why, keep going
                data, self.last_error = None, str(exc)
            self.last_data = data
            self.figure.clear()
            self.figure.subplots_adjust(**self._margins)  # clear() resets them
            if data is not None:
                self._draw(self.figure, data, values)
            else:
                ax = self.figure.add_subplot()
                ax.axis("off")
                ax.text(0.5, 0.5, "\n".join(_wrap(self.last_error, 90)), ha="center", va="center",
                        color="firebrick", transform=ax.transAxes)
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png")
            self.image.value = buf.getvalue()
            if self.last_error is not None:
                self.readout.value = f"<span style='color:firebrick'>{_html(self.last_error)}</span>"
            elif self._describe is not None:
                self.readout.value = self._describe(data, values)
        finally:
            self._busy = False

    @property
    def axes(self):
        return self.figure.axes

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def _html(text: str) -> str:
    return html.escape(str(text), quote=False)


def _wrap(text: str, width: int):
    import textwrap

    return textwrap.wrap(str(text), width) or [""]


def _fmt(x: float) -> str:
    return f"{x:.6g}" if np.isfinite(x) else str(x)


# ------------------------------------------------------------------------------ 1. activations
def activation_explorer(activation: str = "tanh", point: float = 1.0) -> Explorer:
    """Plot an activation and its derivative; compare the derivative with finite differences.

    Shaded: where the derivative is below 5 % of its maximum (saturation, dead ReLU).
    Try the point slider at 0 with ReLU: the analytic derivative (0 by the course's
    convention) and the central difference (0.5) disagree, because there is no derivative.
    """
    w = _widgets()
    labels = {v: k for k, v in explore.ACTIVATION_CHOICES.items()}
    controls = {
        "name": w.Dropdown(options=list(explore.ACTIVATION_CHOICES.items()), value=activation,
                           description="activation", style=_WIDE),
        "u": w.FloatSlider(value=point, min=-5.0, max=5.0, step=0.05, description="point u",
                           continuous_update=False, style=_WIDE),
        "slope": w.FloatSlider(value=0.1, min=0.0, max=0.5, step=0.01, description="leaky slope",
                               continuous_update=False, style=_WIDE),
    }

    def adjust(c):
        c["slope"].disabled = c["name"].value != "leaky_relu"

    def compute(name, u, slope):
        u = round(u, 9)  # a slider walked to 0 in the browser can land on 1e-17; 0 is meant
        curves = explore.activation_curves(name, slope=slope)
        return {**curves, "point": explore.activation_at_point(name, u, slope=slope),
                "saturated": explore.saturation_regions(curves["u"], curves["dy"])}

    def draw(fig, d, v):
        p = d["point"]
        ax_f, ax_d = fig.subplots(1, 2)
        for ax in (ax_f, ax_d):
            for a, b in d["saturated"]:
                ax.axvspan(a, b, color="0.85", lw=0)
            ax.axhline(0, color="0.6", lw=0.8)
            ax.axvline(0, color="0.6", lw=0.8)
            ax.set_xlabel("u")
        ax_f.plot(d["u"], d["y"], color="C0")
        ax_f.plot([p["u"]], [p["value"]], "o", color="C3")
        ax_f.set_title(f"f(u) = {labels[v['name']]}")
        ax_d.plot(d["u"], d["dy"], color="C1", label="analytic f'(u)")
        ax_d.plot([p["u"]], [p["analytic"]], "o", color="C3", label="analytic at u")
        ax_d.plot([p["u"]], [p["numeric"]], "x", color="k", ms=10, mew=2, label="central difference at u")
        ax_d.set_title("derivative f'(u)  (grey: saturated, f' < 5 % of max)")
        ax_d.legend(loc="upper left", fontsize=8)

    def describe(d, v):
        p = d["point"]
        text = (f"u = {_fmt(p['u'])}: f(u) = {_fmt(p['value'])}, analytic f'(u) = {_fmt(p['analytic'])}, "
                f"central difference = {_fmt(p['numeric'])}, |difference| = {p['abs_error']:.2e}")
        if p["at_kink"]:
            text += ("<br><b>At the kink u = 0 there is no derivative:</b> the difference quotient "
                     "averages the slopes on both sides, the analytic formula picks one of them. "
                     "The gradient checker skips such entries instead of loosening its tolerance.")
        return text

    return Explorer("Activation functions and their derivatives", controls, compute, draw, describe, adjust)


# ------------------------------------------------------------------------------ 2. step size h
def finite_difference_explorer(function: str = "exp(x)", x: float = 1.0, h: float = 1e-3) -> Explorer:
    """Error of forward and central differences against the step h, on a log-log plot.

    Large h: truncation error (slope 1 for forward, 2 for central). Small h: rounding error
    eps |f| / h takes over. The best h sits where they cross (dots); the dotted line is the
    gradient checker's default step, the red line the step chosen with the slider, whose two
    errors the readout prints.
    """
    w = _widgets()
    controls = {
        "name": w.Dropdown(options=list(explore.FD_FUNCTIONS), value=function, description="function",
                           style=_WIDE),
        "h": w.FloatLogSlider(value=h, base=10, min=-16, max=0, step=0.25, description="step h",
                              readout_format=".1e", continuous_update=False, style=_WIDE),
        "x": w.FloatSlider(value=x, min=-3.0, max=3.0, step=0.1, description="point x",
                           continuous_update=False, style=_WIDE),
        "model": w.Checkbox(value=True, description="show error model"),
    }

    def compute(name, h, x, model):
        d = explore.finite_difference_errors(name, x)
        d["best_forward"] = explore.best_step(d["h"], d["forward"])
        d["best_central"] = explore.best_step(d["h"], d["central"])
        d["checker_h"] = explore.checker_default_step() * max(1.0, abs(x))
        d["checker_error"] = float(explore.finite_difference_errors(name, x, hs=[d["checker_h"]])["central"][0])
        at_h = explore.finite_difference_errors(name, x, hs=[h])
        d["at_h"] = {"h": float(h), "forward": float(at_h["forward"][0]), "central": float(at_h["central"][0])}
        return d

    def draw(fig, d, v):
        ax = fig.add_subplot()
        ax.loglog(d["h"], d["forward"], color="C0", label="forward (f(x+h) - f(x)) / h")
        ax.loglog(d["h"], d["central"], color="C1", label="central (f(x+h) - f(x-h)) / 2h")
        if v["model"]:
            ax.loglog(d["h"], d["forward_model"], "--", color="C0", lw=1, alpha=0.7,
                      label="model |f''| h/2 + eps|f|/h")
            ax.loglog(d["h"], d["central_model"], "--", color="C1", lw=1, alpha=0.7,
                      label="model |f'''| h²/6 + eps|f|/h")
        for (h, e), c in ((d["best_forward"], "C0"), (d["best_central"], "C1")):
            ax.plot([h], [e], "o", color=c, ms=8)
        ax.axvline(d["checker_h"], color="k", ls=":", label=f"checker's step {d['checker_h']:.2g}")
        at = d["at_h"]
        ax.axvline(at["h"], color="C3", lw=1.2, label=f"your step {at['h']:.1e}")
        ax.plot([at["h"], at["h"]], [at["forward"], at["central"]], "s", color="C3", ms=6)
        ax.set_ylim(1e-17, 1e2)
        ax.set_xlabel("step h")
        ax.set_ylabel("|estimate - f'(x)|")
        ax.set_title(f"{v['name']} at x = {v['x']:g}: exact f'(x) = {d['exact']:.6g}")
        ax.legend(loc="lower left", fontsize=8)

    def describe(d, v):
        (hf, ef), (hc, ec), at = d["best_forward"], d["best_central"], d["at_h"]
        return (f"at your step h = {at['h']:.1e}: forward error {at['forward']:.1e}, "
                f"central error {at['central']:.1e}.<br>"
                f"best h: forward {hf:.1e} (error {ef:.1e}), central {hc:.1e} (error {ec:.1e}). "
                f"At the checker's step {d['checker_h']:.2g} the central error is {d['checker_error']:.1e}. "
                f"Theory: forward best near sqrt(eps) = {np.sqrt(explore.EPS):.0e}, "
                f"central near cbrt(eps) = {np.cbrt(explore.EPS):.0e}.")

    return Explorer("Finite differences: truncation against rounding", controls, compute, draw, describe)


# ------------------------------------------------------------------------------ 3. depth
_DEPTH_ACTIVATIONS = [("tanh", "tanh"), ("sigmoid", "sigmoid"), ("ReLU", "relu"), ("leaky ReLU (0.01)", "leaky_relu"),
                      ("softplus", "softplus"), ("LeNet scaled tanh", "scaled_tanh"), ("identity (linear)", "identity")]


def gradient_flow_explorer(depth: int = 20, width: int = 64, activation: str = "sigmoid",
                           weight_scale: float = 1.0) -> Explorer:
    """Gradient norm per layer of a random deep MLP: vanishing and exploding gradients.

    Weights ~ N(0, scale^2 / width). Try sigmoid (vanishes: sigmoid' <= 1/4), tanh at scale 1
    (roughly steady) and 4 (explodes), ReLU at 1 (vanishes), sqrt(2) = 1.41 (steady, He's
    initialisation) and 2 (explodes). With ReLU the weight gradients keep their balance across
    layers at every scale (ReLU is positively homogeneous), while activations and the
    backpropagated gradient do not.
    """
    w = _widgets()
    controls = {
        "depth": w.IntSlider(value=depth, min=1, max=60, description="depth", continuous_update=False, style=_WIDE),
        "width": w.IntSlider(value=width, min=2, max=256, description="width", continuous_update=False, style=_WIDE),
        "activation": w.Dropdown(options=_DEPTH_ACTIVATIONS, value=activation, description="activation",
                                 style=_WIDE),
        "weight_scale": w.FloatSlider(value=weight_scale, min=0.1, max=4.0, step=0.05, description="weight scale",
                                      continuous_update=False, style=_WIDE),
    }

    def compute(depth, width, activation, weight_scale):
        return explore.depth_gradient_norms(depth, width, activation, weight_scale)

    def draw(fig, d, v):
        from matplotlib.ticker import MaxNLocator

        ax_g, ax_a = fig.subplots(1, 2)
        ax_g.semilogy(d["layer"], d["grad_W"], "o-", ms=3, label="||dL/dW|| of layer l")
        ax_g.semilogy(d["layer"], d["grad_a"], "s-", ms=3, alpha=0.7, label="||dL/d(input of layer l)||")
        ax_g.set_xlabel("layer l (1 = next to the input)")
        ax_g.set_title("gradient norm per layer")
        ax_g.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_a.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_g.legend(fontsize=8)
        ax_a.plot(d["layer"], d["act_std"], "o-", ms=3, color="C2")
        ax_a.set_ylim(bottom=0)
        ax_a.set_xlabel("layer l")
        ax_a.set_title("std of the activations a_l (forward pass)")

    def describe(d, v):
        ga, gw = d["grad_a"], d["grad_W"]
        ratio = ga[0] / ga[-1] if ga[-1] > 0 else np.inf
        verdict = "vanishing" if ratio < 1e-2 else "exploding" if ratio > 1e2 else "roughly steady"
        per_layer = ratio ** (1 / max(len(ga) - 1, 1))
        return (f"gradient reaching the input of layer 1 / of layer {len(ga)}: {ratio:.2e}, "
                f"a factor {per_layer:.3f} per layer: <b>{verdict}</b>. "
                f"Weight gradients ||dW_1|| / ||dW_{len(gw)}|| = {gw[0] / gw[-1]:.2e}.")

    return Explorer("Gradient flow through depth", controls, compute, draw, describe)


# ------------------------------------------------------------------------------ 4. conv shapes
def conv_shape_explorer(size: int = 7, kernel: int = 3, stride: int = 2, pad: int = 1) -> Explorer:
    """Output size of a convolution, im2col's matrix shape and one output pixel's receptive field.

    A stride that leaves the last window hanging over the border is an error in this course
    (`backprop.conv.conv_output_size` says which sizes would fit).
    """
    w = _widgets()

    def slider(name, value, lo, hi, label):
        return w.IntSlider(value=value, min=lo, max=hi, description=label, continuous_update=False, style=_WIDE)

    controls = {
        "size": slider("size", size, 1, 16, "input size H=W"),
        "kernel": slider("kernel", kernel, 1, 7, "kernel K"),
        "stride": slider("stride", stride, 1, 4, "stride S"),
        "pad": slider("pad", pad, 0, 3, "padding P"),
        "row": slider("row", 0, 0, 15, "output row"),
        "col": slider("col", 0, 0, 15, "output col"),
    }

    def adjust(c):
        try:
            out = explore.conv_geometry(c["size"].value, c["kernel"].value, c["stride"].value, c["pad"].value)["out"]
        except ValueError:
            out = None
        for key in ("row", "col"):
            c[key].disabled = out is None
            if out is not None:
                c[key].max = out - 1

    def compute(size, kernel, stride, pad, row, col):
        geo = explore.conv_geometry(size, kernel, stride, pad, channels=1, batch=1)
        field = None if geo["out"] is None else explore.receptive_field(size, kernel, stride, pad, row, col)
        return {**geo, "field": field, "size": size, "pad": pad}

    return Explorer("Convolution shapes and im2col", controls, compute, _draw_conv_shapes, _describe_conv_shapes,
                    adjust, figsize=(9.5, 4.0))


def _draw_conv_shapes(fig, d, v):
    """The padded input with one output pixel's window, and the output grid (conv_shape_explorer)."""
    ax_in, ax_out = fig.subplots(1, 2, width_ratios=[3, 2])
    n = d["size"] + 2 * d["pad"]
    grid = np.zeros((n, n))
    p = d["pad"]
    grid[p:p + d["size"], p:p + d["size"]] = 1.0  # real pixels
    if d["field"] is not None:
        grid[d["field"]["mask"]] += 2.0  # 2: padding under the kernel, 3: pixel under the kernel
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap(["#e6e6e6", "#ffffff", "#f4a582", "#ca0020"])
    ax_in.imshow(grid, cmap=cmap, vmin=-0.5, vmax=3.5)
    _grid_lines(ax_in, n)
    ax_in.set_title(f"padded input {n}x{n} (grey: padding, red: kernel window)", fontsize=9)
    if d["out"] is None:
        ax_out.axis("off")
        ax_out.text(0.0, 0.5, "\n".join(_wrap(d["error"], 45)), color="firebrick", va="center", fontsize=8,
                    transform=ax_out.transAxes)
        return
    out = np.zeros((d["out"], d["out"]))
    out[v["row"], v["col"]] = 1.0
    ax_out.imshow(out, cmap=ListedColormap(["#ffffff", "#ca0020"]), vmin=0, vmax=1)
    _grid_lines(ax_out, d["out"])
    ax_out.set_title(f"output {d['out']}x{d['out']}, pixel ({v['row']}, {v['col']})", fontsize=9)


def _describe_conv_shapes(d, v):
    """The output-size formula, im2col's shape and the chosen pixel's receptive field, as HTML."""
    if d["out"] is None:
        return (f"{_html(d['formula'])} is not a whole number.<br>"
                f"<span style='color:firebrick'>{_html(d['error'])}</span>")
    f = d["field"]
    return (f"output size {_html(d['formula'])}.<br>"
            f"im2col of one {v['size']}x{v['size']} single-channel image: matrix of shape {d['cols_shape']} "
            f"(one row per kernel entry C*K*K, one column per output pixel N*OH*OW).<br>"
            f"output pixel ({v['row']}, {v['col']}) reads {len(f['pixels'])} input pixels "
            f"and {f['padding_cells']} padding zeros.")


def _grid_lines(ax, n):
    ax.set_xticks(np.arange(-0.5, n, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n, 1), minor=True)
    ax.grid(which="minor", color="0.5", lw=0.5)
    ax.tick_params(which="both", length=0)
    ticks = np.arange(n) if n <= 12 else np.arange(0, n, 2)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)


# ------------------------------------------------------------------------------ 5. RNN
def rnn_gradient_explorer(spectral_radius: float = 0.9, length: int = 40, activation: str = "tanh") -> Explorer:
    """Norm of the gradient that reaches each time step of a vanilla RNN from the last step's loss.

    Each step back multiplies the gradient by Wh^T diag(f'(z_t)). With an orthogonal Wh and
    small inputs the norm changes by the spectral radius r per step: it vanishes for r < 1 and
    explodes for r > 1 (linear activation); larger inputs saturate tanh and damp it further.
    """
    w = _widgets()
    controls = {
        "spectral_radius": w.FloatSlider(value=spectral_radius, min=0.1, max=2.0, step=0.05,
                                         description="spectral radius of W_h", continuous_update=False, style=_WIDE),
        "length": w.IntSlider(value=length, min=2, max=100, description="sequence length T",
                              continuous_update=False, style=_WIDE),
        "activation": w.Dropdown(options=[("tanh", "tanh"), ("identity (linear)", "identity"), ("ReLU", "relu")],
                                 value=activation, description="activation", style=_WIDE),
        "input_scale": w.FloatLogSlider(value=0.1, base=10, min=-3, max=1, step=0.25, description="input weight std",
                                        continuous_update=False, style=_WIDE),
        "kind": w.Dropdown(options=[("orthogonal r Q", "orthogonal"), ("Gaussian, rescaled", "gaussian")],
                           value="orthogonal", description="W_h", style=_WIDE),
    }

    def draw(fig, d, v):
        ax = fig.add_subplot()
        ax.semilogy(d["t"], d["norm"], "o-", ms=3, label="BPTT (backprop.rnn)")
        T = d["t"][-1]
        ax.semilogy(d["t"], d["norm"][-1] * v["spectral_radius"] ** (T - d["t"]), "--", color="0.5", lw=1,
                    label="r^(T - t): linear recurrence, orthogonal W_h")
        ax.set_xlabel("time step t")
        ax.set_ylabel("||dL/dh_t||")
        ax.set_title(f"gradient of a loss at the last step T = {T}, reaching each step t", fontsize=10)
        ax.legend(fontsize=8)

    def describe(d, v):
        n = d["norm"]
        ratio = n[0] / n[-1] if n[-1] > 0 else np.inf
        return (f"||dL/dh_1|| / ||dL/dh_T|| = {ratio:.2e} over {len(n) - 1} steps back "
                f"(factor {ratio ** (1 / max(len(n) - 1, 1)):.3f} per step; spectral radius "
                f"{v['spectral_radius']:.2f}).")

    return Explorer("RNN: gradient flow back through time", controls, explore.rnn_gradient_norms, draw, describe)
