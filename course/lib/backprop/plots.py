"""Plots for the notebooks (matplotlib).

Every function draws into the axes `ax` it is given (a new figure when ax is None) and
returns that axes; call `ax.figure` for the figure. Nothing calls plt.show(): Jupyter shows
the figure, scripts save it. pyplot is imported only when a new figure is needed, so
`import backprop` stays fast.

Images and filters are drawn as one mosaic per axes (a single `imshow`), which keeps
figures light and lets tests read the pixels back from `ax.images[0].get_array()`.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "plot_history", "plot_accuracy", "image_mosaic", "plot_image_grid", "plot_filters", "plot_feature_maps",
    "plot_confusion_matrix", "plot_gradient_norms", "plot_gradient_error",
]


def _axes(ax, figsize=(6, 4)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _get(history, name, default=None):
    """history[name] for a dict, history.name for a History; `default` when absent (if given)."""
    if isinstance(history, dict):
        value = history.get(name, default)
    else:
        value = getattr(history, name, default)
    if value is None:
        raise ValueError(f"the history has no {name!r}")
    return value


def plot_history(history, ax=None, *, smooth: int = 0, log: bool = False):
    """Training loss: every mini-batch step (thin line) and the mean of each epoch (dots).

    history: a `train.History` or a dict with "step_loss" and optionally "epoch_loss",
    "steps_per_epoch". smooth > 1 adds a moving average over that many steps. Epoch means are
    drawn at the step where their epoch ends. x axis: step.
    """
    ax = _axes(ax)
    steps = np.asarray(_get(history, "step_loss"), dtype=float)
    ax.plot(np.arange(1, len(steps) + 1), steps, lw=0.8, alpha=0.6, label="mini-batch loss")
    if smooth and smooth > 1 and len(steps) >= smooth:
        kernel = np.ones(smooth) / smooth
        ax.plot(np.arange(smooth, len(steps) + 1), np.convolve(steps, kernel, mode="valid"), lw=1.5,
                label=f"moving average ({smooth} steps)")
    epoch_loss = list(_get(history, "epoch_loss", []))
    if epoch_loss:
        per = _get(history, "steps_per_epoch", 0) or max(1, len(steps) // len(epoch_loss))
        ax.plot(per * np.arange(1, len(epoch_loss) + 1), epoch_loss, "o-", ms=4, label="epoch mean")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("training loss")
    ax.legend()
    return ax


def plot_accuracy(history, ax=None):
    """Train and (if recorded) test accuracy after each epoch, epochs numbered from 1."""
    ax = _axes(ax)
    train_acc = list(_get(history, "train_acc", []))
    test_acc = list(_get(history, "test_acc", []))
    if not train_acc and not test_acc:
        raise ValueError("the history holds no accuracy: pass eval_fn to train() to record it")
    if train_acc:
        ax.plot(np.arange(1, len(train_acc) + 1), train_acc, "o-", ms=4, label="train")
    if test_acc:
        ax.plot(np.arange(1, len(test_acc) + 1), test_acc, "s-", ms=4, label="test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("accuracy")
    ax.legend()
    return ax


def image_mosaic(images, ncols: int, gap: int = 1, fill=np.nan):
    """Tile images (M, h, w) into one (rows*(h+gap)-gap, ncols*(w+gap)-gap) array, row by row.

    Gaps and unused tiles hold `fill` (NaN: drawn as background by imshow).
    """
    images = np.asarray(images, dtype=float)
    m, h, w = images.shape
    ncols = max(1, min(ncols, m))
    rows = -(-m // ncols)
    out = np.full((rows * (h + gap) - gap, ncols * (w + gap) - gap), fill)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = img
    return out


def _as_stack(images, name):
    """(M, h, w), (M, 1, h, w) or (M, D) with D a square number -> (M, h, w)."""
    images = np.asarray(images, dtype=float)
    if images.ndim == 4 and images.shape[1] == 1:
        return images[:, 0]
    if images.ndim == 3:
        return images
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side == images.shape[1]:
            return images.reshape(len(images), side, side)
    raise ValueError(f"{name} has shape {images.shape}; expected (M, h, w), (M, 1, h, w) or flat square images (M, h*w)")


def plot_image_grid(images, labels=None, predictions=None, ax=None, *, ncols: int = 10, max_images: int = 50,
                    cmap: str = "gray_r"):
    """Draw up to `max_images` images in a grid; label each with its class (and prediction).

    images (M, h, w), (M, 1, h, w) or flat (M, 64). With predictions, wrong ones are titled in red.
    """
    stack = _as_stack(images, "images")[:max_images]
    m, h, w = stack.shape
    ax = _axes(ax, figsize=(min(ncols, m) * 0.9 + 0.5, -(-m // ncols) * 1.0 + 0.5))
    ax.imshow(image_mosaic(stack, ncols), cmap=cmap, interpolation="nearest")
    if labels is not None:
        labels = np.asarray(labels)[:m]
        preds = None if predictions is None else np.asarray(predictions)[:m]
        for i in range(m):
            r, c = divmod(i, max(1, min(ncols, m)))
            text = str(labels[i]) if preds is None else f"{labels[i]}:{preds[i]}"
            color = "red" if preds is not None and preds[i] != labels[i] else "tab:blue"
            ax.text(c * (w + 1), r * (h + 1), text, fontsize=7, color=color, va="top", ha="left")
    ax.set_axis_off()
    return ax


def _symmetric_limit(values):
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


def plot_filters(W, ax=None, *, cmap: str = "RdBu_r"):
    """Convolution filters W (F, C, KH, KW) as an F x C grid (row f: filter f, column c: input map c).

    One colour scale for all, symmetric around zero (blue negative, red positive), so sizes
    compare across filters. A 3-D W (F, KH, KW) is a single input channel.
    """
    W = np.asarray(W, dtype=float)
    if W.ndim == 3:
        W = W[:, None]
    if W.ndim != 4:
        raise ValueError(f"W has shape {W.shape}; expected filters (F, C, KH, KW)")
    f, c, kh, kw = W.shape
    ax = _axes(ax, figsize=(max(2.0, c * 0.6 + 1), max(2.0, f * 0.6 + 0.5)))
    mosaic = image_mosaic(W.reshape(f * c, kh, kw), ncols=c)
    limit = _symmetric_limit(W)
    im = ax.imshow(mosaic, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(f"{f} filters x {c} input maps ({kh}x{kw})")
    ax.set_axis_off()
    return ax


def plot_feature_maps(maps, ax=None, *, ncols: int = 8, sample: int = 0, cmap: str = "viridis"):
    """Feature maps (C, H, W), or (N, C, H, W) of which sample `sample` is drawn, in a grid."""
    maps = np.asarray(maps, dtype=float)
    if maps.ndim == 4:
        maps = maps[sample]
    if maps.ndim != 3:
        raise ValueError(f"maps has shape {maps.shape}; expected (C, H, W) or (N, C, H, W)")
    ax = _axes(ax, figsize=(min(ncols, len(maps)) * 1.0 + 0.5, -(-len(maps) // ncols) * 1.0 + 0.5))
    ax.imshow(image_mosaic(maps, ncols), cmap=cmap, interpolation="nearest")
    ax.set_title(f"{len(maps)} feature maps of {maps.shape[1]}x{maps.shape[2]}")
    ax.set_axis_off()
    return ax


def plot_confusion_matrix(y_true, y_pred, ax=None, *, num_classes: int | None = None, normalize: bool = False,
                          class_names=None, cmap: str = "Blues"):
    """Confusion matrix: row = true class, column = predicted class, with counts written in.

    normalize=True divides each row by its total (per-class recall on the diagonal).
    """
    from .train import confusion_matrix

    counts = confusion_matrix(y_true, y_pred, num_classes)
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    c = len(counts)
    ax = _axes(ax, figsize=(0.5 * c + 1.5, 0.5 * c + 1))
    ax.imshow(values, cmap=cmap, vmin=0)
    threshold = values.max() / 2 if values.size else 0
    for i in range(c):
        for j in range(c):
            text = f"{values[i, j]:.2f}" if normalize else str(counts[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if values[i, j] > threshold else "black")
    names = [str(k) for k in range(c)] if class_names is None else list(class_names)
    ax.set_xticks(range(c), names)
    ax.set_yticks(range(c), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"confusion matrix (accuracy {acc:.3f})")
    return ax


def plot_gradient_norms(norms, ax=None, *, xlabel: str = "time step t", ylabel: str = "gradient norm",
                        title: str | None = None, xs=None):
    """Gradient norms on a log scale: one curve, or one per entry of a dict label -> norms.

    Use it for ||dL_T/dh_t|| over t (`bptt_gradient_norms`) or per layer of a deep network.
    x positions default to 1..len(norms). Zero norms cannot be drawn on a log axis and are
    left out of the curve.
    """
    ax = _axes(ax)
    curves = norms if isinstance(norms, dict) else {None: norms}
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        x = np.arange(1, len(values) + 1) if xs is None else np.asarray(xs)
        shown = np.where(values > 0, values, np.nan)
        ax.plot(x, shown, "o-", ms=3, label=None if label is None else str(label))
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if any(label is not None for label in curves):
        ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_gradient_error(analytic, numeric, ax=None, *, relative: bool = False, cmap: str = "magma",
                        title: str | None = None):
    """Heatmap of |analytic - numeric| to see *where* a gradient is wrong.

    Arrays of equal shape; 1-D arrays are drawn as one row, 2-D as they are, higher-rank arrays
    as (first axis, everything else flattened), e.g. (N, C*H*W). relative=True shows
    |a - n| / max(|a|, |n|, 1e-12) instead. A whole row lit up points at one sample or one
    output; a frame around an image points at padding; a transposed gradient lights up
    everything but the diagonal.
    """
    a, n = np.asarray(analytic, dtype=float), np.asarray(numeric, dtype=float)
    if a.shape != n.shape:
        raise ValueError(f"analytic has shape {a.shape} but numeric has shape {n.shape}; the gradient must have "
                         f"the shape of the array it differentiates")
    err = np.abs(a - n)
    if relative:
        err = err / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)
    if err.ndim == 0:
        err = err.reshape(1, 1)
    elif err.ndim == 1:
        err = err[None, :]
    elif err.ndim > 2:
        err = err.reshape(err.shape[0], -1)
    ax = _axes(ax)
    im = ax.imshow(err, cmap=cmap, aspect="auto", interpolation="nearest", vmin=0)
    ax.figure.colorbar(im, ax=ax, label="relative error" if relative else "|analytic - numeric|")
    worst = np.unravel_index(int(np.nanargmax(err)), err.shape) if np.any(np.isfinite(err)) else None
    default = f"max error {np.nanmax(err):.2e} at {tuple(int(i) for i in worst)}" if worst is not None else "error"
    ax.set_title(title or default)
    ax.set_xlabel("entry (flattened)" if a.ndim > 2 else "column")
    ax.set_ylabel("row")
    return ax
