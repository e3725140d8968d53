"""Tested training recipes: LeNet-5 on the course's digits, and the small tricks that make it fast.

One call trains a LeNet-5 on `load_digits_images()` (1437 training, 360 test digits) with
the settings measured in benchmarks/bench_lenet_train.py:

    result = train_lenet5()                      # classic net, softmax output, full recipe
    result = train_lenet5(epochs=5)              # a quick run for a notebook's default cell
    result = train_lenet5("modern")              # ReLU + max pooling
    result.params, result.history.test_acc, result.test_accuracy, result.seconds
    more = train_lenet5(epochs=10, params=result.params)   # train on from there (in place)

Training on from given parameters restarts the cosine schedule at its initial learning rate
(a "warm restart"), so the test accuracy may dip for an epoch or two before it settles again.

The recipe (`LENET5_RECIPES`, one `Recipe` per (variant, output)):

* mini-batch SGD with momentum 0.9, batch size 16 or 32, no weight decay (5e-4 did not help);
* a cosine learning-rate schedule lr0 * (1 + cos(pi * epoch / epochs)) / 2, one value per
  epoch: large steps early, small steps to settle at the end. A short run anneals just as
  fully as a long one, so `epochs=5` still ends on a small step;
* data augmentation: every training image of every mini-batch is redrawn with a small random
  rotation (up to 10 degrees), zoom (up to 10%) and shift (up to 2 pixels), by bilinear
  interpolation (`random_affine`), from a generator seeded by `seed`, so a run is
  reproducible. The digits are 8x8 scans blown up to 28x28 (one original pixel is 3.5 new
  ones), so these are the small changes of pose a writer makes anyway. Without augmentation
  the network fits the 1437 training digits perfectly and stops near 96% on the test digits;
  with shifts alone (`random_shift`) near 98%; with rotation and zoom too, about 99%.

Speed on a small machine. Two process-level settings matter for networks this small:

* one BLAS thread (`one_blas_thread`): LeNet's matrix products are small, and with a thread
  per core they spend their time handing work between threads; on a busy 2-core machine they
  ran 5 to 10 times slower. Uses threadpoolctl when installed (it comes with scikit-learn),
  limited to the call; without it nothing changes.
* `tune_malloc()`: glibc's malloc gives every array larger than 128 KiB fresh pages from the
  kernel and returns them when freed, so each training step pays for zeroing the same few
  megabytes of im2col matrices again (about half of a step, measured). Raising the mmap and
  trim thresholds lets freed blocks be reused. It is what the environment variables
  MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ do, but applied at run time with
  mallopt() through ctypes. It changes only how this process recycles memory (the process
  may keep up to `trim_threshold` bytes of freed memory instead of giving it back), never a
  result. glibc (Linux) only; elsewhere it does nothing and returns False. Measured in
  bench_lenet_train (one training step, 1 BLAS thread, CPU time): 1.2 to 1.9 times faster at
  batch 64, but no gain at batch 16 (0.8 to 1.05 times over two runs), where the arrays are
  small and glibc's own adaptive threshold already reuses them. The recipe trains at batch 16 or 32, so
  `train_lenet5` leaves malloc alone unless asked (`tune_memory=True`); call `tune_malloc()`
  yourself before training with large batches.
"""
from __future__ import annotations

import contextlib
import math
import sys
import time
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from ._threads import one_blas_thread
from ._validate import as_float_array
from .data import load_digits_images
from .lenet import init_lenet5, lenet5_loss_and_grads, lenet5_predict
from .train import History, train

__all__ = [
    "Recipe", "LENET5_RECIPES", "LeNet5Result", "train_lenet5", "random_shift", "random_affine", "warp_images",
    "cosine_schedule",
    "one_blas_thread", "tune_malloc",
]


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one training run (see the module docstring for why each)."""

    epochs: int            # full recipe (classic/softmax: 98-99.5% test accuracy, depending on the seed)
    quick_epochs: int      # a short run for a notebook: classic/softmax 97.2% in 4.7 s of CPU time (seed 0)
    batch_size: int
    lr: float              # initial learning rate of the cosine schedule
    momentum: float = 0.9
    weight_decay: float = 0.0
    max_shift: float = 2.0      # augmentation (random_affine): shifts of up to this many pixels,
    max_rotation: float = 10.0  # rotations of up to this many degrees,
    max_scale: float = 0.1      # zoom by a factor in 1 +- max_scale (all three 0: no augmentation)


LENET5_RECIPES = {
    ("classic", "softmax"): Recipe(epochs=30, quick_epochs=5, batch_size=16, lr=0.01),
    ("classic", "rbf"): Recipe(epochs=30, quick_epochs=5, batch_size=32, lr=0.002),
    ("modern", "softmax"): Recipe(epochs=30, quick_epochs=5, batch_size=32, lr=0.02),
    ("modern", "rbf"): Recipe(epochs=30, quick_epochs=5, batch_size=32, lr=0.002),
}
"""(variant, output) -> Recipe. Measured by benchmarks/bench_lenet_train.py (one run per seed,
accuracy on the 360 test digits after the last epoch, inputs of load_digits_images()):
classic/softmax 99.7%, 98.6%, 99.2% for seeds 0, 1, 2 in 30 epochs (about 25 s of CPU time) and
97.2-97.8% after its 5 quick epochs (4-5 s; the same with normalization="standardize");
modern/softmax 99.2% and classic/rbf 97.8% (seed 0). modern/rbf reuses classic/rbf's settings,
untested. The RBF loss is a sum of 84 squared distances, hence its smaller learning rate."""


class LeNet5Result(NamedTuple):
    """What `train_lenet5` returns."""

    params: dict           # the trained parameters (name -> array)
    history: History       # per-step losses; per-epoch loss, lr and test accuracy (history.test_acc)
    test_accuracy: float   # accuracy on the 360 test digits after the last epoch
    seconds: float         # wall-clock time of the training loop (evaluation included)
    recipe: Recipe         # the settings actually used


# --------------------------------------------------------------------------- pieces
def cosine_schedule(lr0: float, epochs: int, final: float = 0.0):
    """epoch -> learning rate, from lr0 at epoch 0 down along half a cosine towards `final`."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1; got {epochs}")
    return lambda epoch: final + (lr0 - final) * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def random_shift(x, max_shift: int, rng) -> np.ndarray:
    """Every image of x (N, C, H, W) moved by its own random (dy, dx) in [-max_shift, max_shift].

    The image is padded with its border pixels (the background of a digit) and a window of
    the original size is cut out at a random offset. Returns a new array; x is not changed.
    rng: a numpy Generator (or an int seed).
    """
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    if max_shift <= 0:
        return x.copy()
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n, _, h, w = x.shape
    m = int(max_shift)
    padded = np.pad(x, ((0, 0), (0, 0), (m, m), (m, m)), mode="edge")
    dy = rng.integers(0, 2 * m + 1, n)
    dx = rng.integers(0, 2 * m + 1, n)
    out = np.empty_like(x)
    for i in range(n):
        out[i] = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    return out


def random_affine(x, rng, max_shift: float = 2.0, max_rotation: float = 10.0, max_scale: float = 0.1) -> np.ndarray:
    """Every image of x (N, C, H, W) rotated, scaled and moved by its own random amounts.

    For each image: an angle uniform in +-max_rotation degrees, a zoom factor uniform in
    1 +- max_scale and a shift (dy, dx) uniform in +-max_shift pixels; see `warp_images`.
    All zeros give back x exactly. Returns a new array; rng is a numpy Generator (or an int seed).
    """
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n = x.shape[0]
    angle = rng.uniform(-max_rotation, max_rotation, n)
    zoom = 1.0 + rng.uniform(-max_scale, max_scale, n)
    dy, dx = rng.uniform(-max_shift, max_shift, (2, n))
    return warp_images(x, angle, zoom, dy, dx)


def warp_images(x, angle, zoom, dy, dx) -> np.ndarray:
    """Rotate image n of x (N, C, H, W) by angle[n] degrees (clockwise as displayed, rows
    down), zoom it by zoom[n] about its centre, then move it dy[n] pixels down and dx[n] right.

    Each output pixel reads the input at its preimage by bilinear interpolation; points outside
    the image read the nearest border pixel (the background of a digit). Arguments are (N,)
    arrays or numbers. Returns a new (N, C, H, W) array.
    """
    x = as_float_array(x, "x", ndim=4, shape_hint="(N, C, H, W)")
    n, c, h, w = x.shape
    if h < 2 or w < 2:
        raise ValueError(f"x must have images of at least 2x2 pixels; got {h}x{w}")
    angle, zoom, dy, dx = (np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))[:, None, None]
                           for v in (angle, zoom, dy, dx))
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    yy, xx = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    py, px = yy - dy, xx - dx                                   # undo the shift, then the rotation and zoom
    rad = np.deg2rad(angle)
    cos, sin = np.cos(rad) / zoom, np.sin(rad) / zoom
    sy = np.clip(cos * py - sin * px + cy, 0.0, h - 1.0)        # (N, H, W) source coordinates
    sx = np.clip(sin * py + cos * px + cx, 0.0, w - 1.0)
    y0 = np.minimum(np.floor(sy).astype(np.intp), h - 2)
    x0 = np.minimum(np.floor(sx).astype(np.intp), w - 2)
    fy, fx = (sy - y0)[:, None], (sx - x0)[:, None]
    flat = x.reshape(n, c, h * w)
    top, bottom = y0 * w + x0, (y0 + 1) * w + x0
    a, b, d, e = (np.take_along_axis(flat, np.broadcast_to(idx.reshape(n, 1, h * w), (n, c, h * w)), axis=2)
                  .reshape(n, c, h, w) for idx in (top, top + 1, bottom, bottom + 1))
    return (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MALLOC_TUNED = []


def tune_malloc(mmap_threshold: int = 32 * 2 ** 20, trim_threshold: int = 128 * 2 ** 20) -> bool:
    """Let glibc's malloc reuse freed blocks up to `mmap_threshold` bytes (see the module
    docstring). Returns True if the settings are in effect, False where this is not glibc.
    Safe to call more than once; it never changes a computed value.
    """
    if _MALLOC_TUNED:
        return _MALLOC_TUNED[0]
    ok = False
    if sys.platform.startswith("linux"):
        import ctypes  # here, not at the top: ctypes.util alone costs ~35 ms of `import backprop`
        import ctypes.util

        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
            gnu = libc.gnu_get_libc_version  # only glibc has it (musl and others do not)
        except (OSError, AttributeError):
            mallopt = gnu = None
        if mallopt is not None and gnu is not None:
            mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            mallopt.restype = ctypes.c_int
            ok = bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and \
                bool(mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))
    _MALLOC_TUNED.append(ok)
    return ok


# --------------------------------------------------------------------------- the recipe
def train_lenet5(variant: str = "classic", output: str = "softmax", *, epochs: int | None = None, seed: int = 0,
                 data=None, params=None, progress: bool = True, tune_memory: bool = False,
                 single_thread: bool = True, **overrides) -> LeNet5Result:
    """Train LeNet-5 on the digits with the recipe of LENET5_RECIPES[(variant, output)].

    epochs: None for the full recipe (recipe.epochs), or any number (the cosine schedule is
      stretched over it; recipe.quick_epochs is a tested short run).
    seed: initial weights (init_lenet5(seed)), order of the mini-batches and the shifts.
    data: (x_train, y_train, x_test, y_test) (default load_digits_images()).
    params: start from these parameters instead of fresh ones; they are trained IN PLACE.
    progress: tqdm bar with loss and test accuracy. tune_memory: call `tune_malloc()`.
    single_thread: one BLAS thread during training (`one_blas_thread`).
    overrides: any Recipe field (batch_size, lr, momentum, weight_decay, max_shift).
    Returns a LeNet5Result (params, history, test_accuracy, seconds, recipe).
    """
    if (variant, output) not in LENET5_RECIPES:
        raise ValueError(f"no recipe for variant={variant!r}, output={output!r}; "
                         f"choose from {sorted(LENET5_RECIPES)}")
    unknown = set(overrides) - set(Recipe.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown recipe settings {sorted(unknown)}; known: {list(Recipe.__dataclass_fields__)}")
    recipe = replace(LENET5_RECIPES[(variant, output)], **overrides)
    if epochs is not None:
        recipe = replace(recipe, epochs=int(epochs))
    x_train, y_train, x_test, y_test = load_digits_images() if data is None else data
    if params is None:
        params = init_lenet5(seed, variant, output)
    if tune_memory:
        tune_malloc()
    shift_rng = np.random.default_rng([seed, 1])

    augment = bool(recipe.max_shift or recipe.max_rotation or recipe.max_scale)

    def loss_and_grads(p, xb, yb):
        if augment:
            xb = random_affine(xb, shift_rng, recipe.max_shift, recipe.max_rotation, recipe.max_scale)
        return lenet5_loss_and_grads(p, xb, yb)

    def predict(p, x):
        return lenet5_predict(p, x, batch_size=128)

    start = time.perf_counter()
    with one_blas_thread() if single_thread else contextlib.nullcontext():
        history = train(loss_and_grads, params, x_train, y_train, epochs=recipe.epochs,
                        batch_size=recipe.batch_size, lr=cosine_schedule(recipe.lr, max(recipe.epochs, 1)),
                        momentum=recipe.momentum, weight_decay=recipe.weight_decay, seed=seed,
                        eval_fn=predict, x_test=x_test, y_test=y_test, eval_train=False, progress=progress,
                        description=f"LeNet-5 {variant}/{output}")
    seconds = time.perf_counter() - start
    acc = history.test_acc[-1] if history.test_acc else float(np.mean(predict(params, x_test) == y_test))
    return LeNet5Result(params, history, float(acc), seconds, recipe)
