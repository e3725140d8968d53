"""A minimal mini-batch SGD trainer, model-agnostic.

A model is described by two plain functions:

    loss, grads = loss_and_grads(params, x_batch, y_batch)   # grads: dict with params' keys
    scores      = eval_fn(params, x)                          # optional: logits or labels

`params` is a dict name -> float array and is **updated in place** by `sgd_step` and `train`
(the same dict, and the same arrays, hold the trained weights afterwards). Copy it first
(`{k: v.copy() for k, v in params.items()}`) to keep the starting point.

Update rule with learning rate eta, weight decay lambda and momentum mu:

    g <- dL/dw + lambda w        (the gradient of L + (lambda/2) ||w||^2; the rule Liao (2018)
                                  prints, w <- w + eta dL/dw + lambda w, has the sign and lambda wrong)
    v <- mu v - eta g,    w <- w + v        (mu = 0: plain SGD, w <- w - eta g)

Weight decay applies only to arrays with two or more dimensions (weight matrices, filters),
not to biases, unless `decay` names the keys explicitly.

`backprop.train` is this module; the trainer is `backprop.train.train`
(`from backprop.train import train`).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._threads import single_blas_thread
from .rnn import clip_gradients

__all__ = ["History", "iterate_minibatches", "sgd_step", "train", "accuracy", "predict", "confusion_matrix",
           "step_decay"]


@dataclass
class History:
    """What `train` records. Lists grow by one entry per step or per epoch."""

    step_loss: list = field(default_factory=list)      # mini-batch loss at every step
    grad_norm: list = field(default_factory=list)      # global gradient norm at every step (before clipping)
    epoch_loss: list = field(default_factory=list)     # mean of the step losses of each epoch
    train_acc: list = field(default_factory=list)      # accuracy on the whole training set after each epoch
    test_acc: list = field(default_factory=list)       # accuracy on (x_test, y_test) after each epoch, if given
    lr: list = field(default_factory=list)             # learning rate used in each epoch
    steps_per_epoch: int = 0

    @property
    def epochs(self) -> int:
        return len(self.epoch_loss)


def iterate_minibatches(n: int, batch_size: int, rng=None, *, shuffle: bool = True, drop_last: bool = False):
    """Yield index arrays covering range(n) once, in mini-batches of `batch_size`.

    rng: a numpy Generator, an int seed or None (seed 0); used only when `shuffle`.
    The last batch is smaller when batch_size does not divide n (dropped if `drop_last`).
    batch_size >= n gives full-batch gradient descent, batch_size = 1 plain SGD.
    """
    if n < 1 or batch_size < 1:
        raise ValueError(f"n and batch_size must be positive; got n={n}, batch_size={batch_size}")
    if shuffle:
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
        order = rng.permutation(n)
    else:
        order = np.arange(n)
    for start in range(0, n, batch_size):
        batch = order[start:start + batch_size]
        if drop_last and len(batch) < batch_size:
            return
        yield batch


def _check_grads(params, grads):
    if not isinstance(grads, dict):
        raise ValueError(f"loss_and_grads must return (loss, grads) with grads a dict; got {type(grads).__name__}")
    missing = [k for k in params if k not in grads]
    if missing:
        raise ValueError(f"grads has no entry for {', '.join(missing)}: every parameter needs a gradient")
    for key, value in params.items():
        if np.shape(grads[key]) != np.shape(value):
            raise ValueError(f"grads[{key!r}] has shape {np.shape(grads[key])} but params[{key!r}] has shape "
                             f"{np.shape(value)}; a gradient has the shape of its parameter")


def sgd_step(params, grads, lr: float, *, momentum: float = 0.0, weight_decay: float = 0.0,
             velocity=None, decay=None):
    """One (momentum) SGD update of `params` in place; returns the velocity dict.

    params, grads: dicts name -> array (grads may hold extra entries, e.g. "h0", which are
    ignored). velocity: the dict returned by the previous call (None to start from zero).
    decay: the keys that get weight decay (default: arrays with ndim >= 2).
    """
    _check_grads(params, grads)
    if velocity is None:
        velocity = {}
    for key, w in params.items():
        g = np.asarray(grads[key])
        if weight_decay and (key in decay if decay is not None else np.ndim(w) >= 2):
            g = g + weight_decay * w
        if momentum:
            v = velocity.get(key)
            v = -lr * g if v is None else momentum * v - lr * g
            velocity[key] = v
            w += v
        else:
            w -= lr * g
    return velocity


def accuracy(scores, labels) -> float:
    """Fraction of correct predictions.

    scores: either predicted labels with the shape of `labels`, or scores/logits/probabilities
    with one more (last) axis, in which case the argmax over that axis is the prediction.
    Works for (N,) labels and for (N, T) sequence labels alike. Labels equal to -1 mean
    "no target" (e.g. the first steps of `delayed_copy_task`) and are left out.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    if scores.ndim == labels.ndim + 1:
        scores = scores.argmax(axis=-1)
    if scores.shape != labels.shape:
        raise ValueError(f"predictions have shape {scores.shape} but labels have shape {labels.shape}")
    keep = labels != -1
    return float(np.mean(scores[keep] == labels[keep])) if np.any(keep) else float("nan")


def predict(forward_fn: Callable, params, x, batch_size: int | None = None) -> np.ndarray:
    """Predicted class labels: argmax over the last axis of forward_fn(params, x_batch).

    forward_fn returns logits or probabilities (N, C) (or (N, T, C) for sequences).
    batch_size splits x to bound memory (None: all at once).
    """
    n = len(x)
    if batch_size is None or batch_size >= n:
        return np.asarray(forward_fn(params, x)).argmax(axis=-1)
    return np.concatenate([np.asarray(forward_fn(params, x[i:i + batch_size])).argmax(axis=-1)
                           for i in range(0, n, batch_size)])


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """counts[i, j] = number of samples of true class i predicted as class j, (C, C) int64."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.size} entries but y_pred has {y_pred.size}")
    c = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1) if num_classes is None else num_classes
    counts = np.zeros((c, c), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def step_decay(lr0: float, factor: float = 0.5, every: int = 10) -> Callable[[int], float]:
    """Learning-rate schedule for `train`: lr0 * factor ** (epoch // every)."""
    return lambda epoch: lr0 * factor ** (epoch // every)


def _evaluate(eval_fn, params, x, y, batch_size):
    if batch_size is None or len(x) <= batch_size:
        return accuracy(eval_fn(params, x), y)
    chunks = [np.asarray(eval_fn(params, x[i:i + batch_size])) for i in range(0, len(x), batch_size)]
    return accuracy(np.concatenate(chunks), y)


@single_blas_thread  # small matrix products: one BLAS thread is fastest, and much faster on a busy machine
def train(loss_and_grads: Callable, params, x, y, *, epochs: int, batch_size: int, lr,
          momentum: float = 0.0, weight_decay: float = 0.0, seed: int = 0, eval_fn: Callable | None = None,
          x_test=None, y_test=None, clip_norm: float | None = None, eval_batch_size: int | None = 512,
          progress: bool = True, description: str = "training", callback: Callable | None = None,
          eval_train: bool = True) -> History:
    """Mini-batch SGD over (x, y) for `epochs` passes; params are updated in place.

    loss_and_grads(params, x_batch, y_batch) -> (loss, grads dict); x (N, ...), y (N, ...)
    are indexed along their first axis. lr: a number or a function epoch -> learning rate
    (see `step_decay`). Mini-batches are reshuffled every epoch from one generator seeded by
    `seed`, so a run is reproducible. clip_norm: if set, gradients are rescaled to this global
    norm first (`clip_gradients`).
    eval_fn(params, x) -> logits or labels: when given, the accuracy on the whole training set
    (and on x_test, y_test if given) is recorded after each epoch; eval_train=False skips the
    training set (a whole extra forward pass over it per epoch) and records the test set only.
    progress: show a tqdm bar (a widget in Jupyter, text on stdout elsewhere); with False
    nothing at all is written. callback(epoch, history) runs after each epoch.
    Returns a `History`. A loss that becomes NaN or inf stops training with a ValueError that
    suggests lowering the learning rate.
    """
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}; they must match along the first axis")
    if epochs < 0:
        raise ValueError(f"epochs must be non-negative; got {epochs}")
    rng = np.random.default_rng(seed)
    history = History(steps_per_epoch=-(-len(x) // batch_size))
    schedule = lr if callable(lr) else (lambda epoch: lr)
    step = _Stepper(loss_and_grads, params, momentum, weight_decay, clip_norm, history)
    bar = None
    if progress:
        from .platform_info import progress_bar  # tqdm.auto; no monitor thread in the browser

        bar = progress_bar(total=epochs * history.steps_per_epoch, desc=description, unit="step", file=sys.stdout,
                           leave=True)
    try:
        for epoch in range(epochs):
            rate = float(schedule(epoch))
            history.lr.append(rate)
            losses = [step(x[idx], y[idx], rate, (epoch + 1, k + 1), bar)
                      for k, idx in enumerate(iterate_minibatches(len(x), batch_size, rng))]
            history.epoch_loss.append(float(np.mean(losses)))
            postfix = {"loss": f"{history.epoch_loss[-1]:.4f}"}
            if eval_fn is not None:
                postfix.update(_record_accuracy(history, eval_fn, params, (x, y) if eval_train else None,
                                                (x_test, y_test) if x_test is not None else None, eval_batch_size))
            if bar is not None:
                bar.set_postfix(postfix)
            if callback is not None:
                callback(epoch, history)
    finally:
        if bar is not None:
            bar.close()
    return history


class _Stepper:
    """One SGD step of `train` on a mini-batch: loss, checks, clipping, update, records."""

    def __init__(self, loss_and_grads, params, momentum, weight_decay, clip_norm, history):
        self.loss_and_grads, self.params, self.history = loss_and_grads, params, history
        self.momentum, self.weight_decay, self.clip_norm = momentum, weight_decay, clip_norm
        self.velocity = None

    def __call__(self, xb, yb, rate, where, bar) -> float:
        """where: (epoch, step within the epoch), both counted from 1, for the error message."""
        loss, grads = self.loss_and_grads(self.params, xb, yb)
        loss = float(loss)
        if not np.isfinite(loss):
            raise ValueError(f"the loss became {loss} at epoch {where[0]}, step {where[1]}: the updates "
                             f"diverged; try a smaller learning rate (now {rate}) or clip_norm")
        _check_grads(self.params, grads)
        grads = {k: grads[k] for k in self.params}
        if self.clip_norm is not None:
            grads, norm = clip_gradients(grads, self.clip_norm)
        else:
            norm = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))
        self.velocity = sgd_step(self.params, grads, rate, momentum=self.momentum, weight_decay=self.weight_decay,
                                 velocity=self.velocity)
        self.history.step_loss.append(loss)
        self.history.grad_norm.append(norm)
        if bar is not None:
            bar.update(1)
        return loss


def _record_accuracy(history, eval_fn, params, train_set, test_set, batch_size) -> dict:
    """Append the accuracies of this epoch to `history`; return them for the progress bar."""
    shown = {}
    if train_set is not None:
        history.train_acc.append(_evaluate(eval_fn, params, *train_set, batch_size))
        shown["train acc"] = f"{history.train_acc[-1]:.3f}"
    if test_set is not None:
        history.test_acc.append(_evaluate(eval_fn, params, *test_set, batch_size))
        shown["test acc"] = f"{history.test_acc[-1]:.3f}"
    return shown
