"""Offline data for the course: real handwritten digits and small sequence tasks.

Nothing is downloaded at run time.

Digits. scikit-learn ships the UCI "optical recognition of handwritten digits" test set with
the library: 1797 real digits written by 43 people, 8x8 pixels with 17 grey levels (0..16),
about 180 per class. Two views of it:

- `load_digits_vectors()` for the MLP notebooks: 64 features per image.
- `load_digits_images()` for LeNet-5: (N, 1, 32, 32) images. LeNet-5 reads 32x32 inputs in
  which the 28x28 MNIST digits sit with a 2-pixel border of background. We mimic that: each
  8x8 image is resized to 28x28 by bilinear interpolation (or nearest neighbour), then padded
  with 2 pixels of background on every side. Pixel values follow the LeNet-5 paper by default:
  background -0.1, full ink 1.175 (chosen in the paper so that MNIST inputs have mean about 0
  and variance about 1; these blurrier upsampled digits have mean about 0.2 and std about 0.4,
  `normalization="standardize"` gives exactly 0 and 1 on the training set).

Both use the same fixed, seeded, stratified split: 360 test images (36 of each digit), 1437
training images. Results are cached in memory; every call returns fresh copies, so changing
an array in a notebook never corrupts the next call.

Sequences. `char_dataset` cuts a public-domain sonnet (Shakespeare, Sonnet 18, typed in
here) into next-character prediction windows. `delayed_copy_task` generates an echo task whose
targets repeat the input `delay` steps later: it is learnable only when gradients flow back
more than `delay` steps, which makes the point of (truncated) BPTT.
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

__all__ = [
    "DataSplit", "CharData", "SequenceTask",
    "load_digits_raw", "stratified_split", "load_digits_vectors", "load_digits_images", "resize_images",
    "SONNET_18", "char_dataset", "encode_text", "decode_indices", "delayed_copy_task",
    "LECUN_BACKGROUND", "LECUN_FOREGROUND",
]

LECUN_BACKGROUND = -0.1
"""Input value of a background pixel in LeNet-5 (LeCun et al. 1998)."""
LECUN_FOREGROUND = 1.175
"""Input value of a fully inked pixel in LeNet-5."""


class DataSplit(NamedTuple):
    """A train/test split; unpacks as `x_train, y_train, x_test, y_test = split`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def copy(self) -> "DataSplit":
        return DataSplit(*(a.copy() for a in self))


# --------------------------------------------------------------------------- digits


def _read_bundled_digits():
    """(1797, 64) grey levels 0..16 and (1797,) labels from the file scikit-learn ships.

    The CSV is read directly (30 ms) rather than through `sklearn.datasets.load_digits`, whose
    import alone takes seconds; if the file has moved in some scikit-learn version, the
    official loader is used. Both give identical arrays.
    """
    import importlib.util
    import os

    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")
        if os.path.exists(path):
            table = np.loadtxt(path, delimiter=",")
            return table[:, :-1], table[:, -1]
    from sklearn.datasets import load_digits  # bundled with scikit-learn, no download

    bunch = load_digits()
    return bunch.data, bunch.target


@lru_cache(maxsize=1)
def _digits_cached():
    pixels, target = _read_bundled_digits()
    images = pixels.reshape(-1, 8, 8).astype(np.float64) / 16.0  # 0..16 grey levels -> [0, 1]
    labels = target.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_digits_raw():
    """All 1797 digits: images (1797, 8, 8) in [0, 1] (ink = 1) and labels (1797,) ints 0..9."""
    images, labels = _digits_cached()
    return images.copy(), labels.copy()


def stratified_split(labels, test_size: int, seed: int = 0):
    """Indices (train_idx, test_idx) with every class in the test set in proportion to its size.

    labels (N,) ints; test_size the exact number of test samples. Each class gets
    test_size * count / N test samples, rounded so the total is exact (largest remainders
    first). Which samples go to the test set is drawn with numpy's generator seeded by `seed`.
    Both index arrays are sorted.
    """
    labels = np.asarray(labels)
    n = labels.shape[0]
    if not 0 < test_size < n:
        raise ValueError(f"test_size must lie strictly between 0 and the number of samples {n}; got {test_size}")
    classes, counts = np.unique(labels, return_counts=True)
    share = counts * test_size / n
    per_class = np.floor(share).astype(int)
    extra = test_size - per_class.sum()
    per_class[np.argsort(-(share - per_class), kind="stable")[:extra]] += 1
    rng = np.random.default_rng(seed)
    test = [rng.permutation(np.flatnonzero(labels == c))[:m] for c, m in zip(classes, per_class)]
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(n), test_idx)
    return train_idx, test_idx


@lru_cache(maxsize=8)
def _vectors_cached(scaling: str, test_size: int, seed: int) -> DataSplit:
    images, labels = _digits_cached()
    x = images.reshape(len(images), -1)
    train_idx, test_idx = stratified_split(labels, test_size, seed)
    x_train, x_test = x[train_idx], x[test_idx]
    if scaling == "standardize":
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std == 0] = 1.0  # border pixels that are blank in every training image
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    elif scaling != "unit":
        raise ValueError(f"scaling must be 'unit' ([0, 1]) or 'standardize' (mean 0, std 1); got {scaling!r}")
    return DataSplit(x_train, labels[train_idx], x_test, labels[test_idx])


def load_digits_vectors(scaling: str = "unit", test_size: int = 360, seed: int = 0) -> DataSplit:
    """The digits as flat vectors for the MLPs.

    scaling="unit": pixel values in [0, 1] (grey level / 16);
    scaling="standardize": each of the 64 features shifted and scaled to mean 0, std 1 on the
        training set (the test set uses the training statistics; always-blank pixels stay 0).
    Returns DataSplit(x_train (1437, 64), y_train (1437,), x_test (360, 64), y_test (360,))
    for the default test_size; labels are int64 in 0..9, arrays float64.
    """
    return _vectors_cached(scaling, int(test_size), int(seed)).copy()


def _resize_matrix(n_in: int, n_out: int, method: str) -> np.ndarray:
    """(n_out, n_in) matrix A such that A @ v resamples the 1-D signal v to n_out samples.

    Pixel centres are aligned as in common image libraries: output pixel i sits at input
    coordinate (i + 0.5) * n_in / n_out - 0.5.
    """
    centres = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    A = np.zeros((n_out, n_in))
    if method == "nearest":
        A[np.arange(n_out), np.clip(np.floor(centres + 0.5), 0, n_in - 1).astype(int)] = 1.0
        return A
    if method != "bilinear":
        raise ValueError(f"method must be 'bilinear' or 'nearest'; got {method!r}")
    centres = np.clip(centres, 0, n_in - 1)
    left = np.minimum(np.floor(centres).astype(int), n_in - 2) if n_in > 1 else np.zeros(n_out, int)
    frac = centres - left
    A[np.arange(n_out), left] = 1.0 - frac
    if n_in > 1:
        A[np.arange(n_out), left + 1] += frac
    return A


def resize_images(images, size: int, method: str = "bilinear"):
    """Resize square images (..., h, w) to (..., size, size) with a separable interpolation."""
    images = np.asarray(images, dtype=np.float64)
    rows = _resize_matrix(images.shape[-2], size, method)
    cols = _resize_matrix(images.shape[-1], size, method)
    return rows @ images @ cols.T


@lru_cache(maxsize=8)
def _images_cached(size: int, pad: int, method: str, normalization: str, test_size: int, seed: int) -> DataSplit:
    images, labels = _digits_cached()
    inner = size - 2 * pad
    if inner < 8 or pad < 0:
        raise ValueError(f"size={size} with pad={pad} leaves {inner}x{inner} pixels for the digit; need at least 8")
    big = np.clip(resize_images(images, inner, method), 0.0, 1.0)
    big = np.pad(big, ((0, 0), (pad, pad), (pad, pad)))[:, None]  # (N, 1, size, size), ink in [0, 1]
    train_idx, test_idx = stratified_split(labels, test_size, seed)
    x_train, x_test = big[train_idx], big[test_idx]
    if normalization == "lecun":
        scale = LECUN_FOREGROUND - LECUN_BACKGROUND
        x_train, x_test = LECUN_BACKGROUND + scale * x_train, LECUN_BACKGROUND + scale * x_test
    elif normalization == "standardize":
        mean, std = x_train.mean(), x_train.std()
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    elif normalization != "unit":
        raise ValueError(f"normalization must be 'lecun', 'standardize' or 'unit'; got {normalization!r}")
    return DataSplit(x_train, labels[train_idx], x_test, labels[test_idx])


def load_digits_images(size: int = 32, *, pad: int = 2, method: str = "bilinear", normalization: str = "lecun",
                       test_size: int = 360, seed: int = 0) -> DataSplit:
    """The digits as (N, 1, size, size) images for LeNet-5.

    Each 8x8 digit is resized to (size - 2 pad) pixels square (28x28 by default, the size of an
    MNIST digit) with `method` ("bilinear" or "nearest"), then surrounded by `pad` pixels of
    background, giving the 32x32 input field of LeNet-5.
    normalization="lecun": background -0.1, full ink 1.175, as in the LeNet-5 paper;
    "standardize": one mean and one std over all training pixels, giving mean 0 and std 1;
    "unit": background 0, full ink 1.
    Returns DataSplit(x_train (1437, 1, 32, 32), y_train (1437,), x_test (360, 1, 32, 32),
    y_test (360,)) for the defaults; the split is the same as `load_digits_vectors`'s.
    """
    return _images_cached(int(size), int(pad), method, normalization, int(test_size), int(seed)).copy()


# --------------------------------------------------------------------------- sequences

SONNET_18 = """\
Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
"""
"""William Shakespeare, Sonnet 18 (1609), in the public domain."""


class CharData(NamedTuple):
    """Next-character windows: x (N, T, V) one-hot, targets (N, T) ints, vocab, the text."""

    x: np.ndarray
    targets: np.ndarray
    vocab: tuple
    text: str


class SequenceTask(NamedTuple):
    """A generated sequence task: x (N, T, V) one-hot, targets (N, T), mask (N, T) 0/1 weights."""

    x: np.ndarray
    targets: np.ndarray
    mask: np.ndarray


def encode_text(text: str, vocab) -> np.ndarray:
    """Characters -> integer indices into `vocab`; unknown characters raise ValueError."""
    index = {ch: i for i, ch in enumerate(vocab)}
    unknown = sorted(set(text) - set(index))
    if unknown:
        raise ValueError(f"text contains characters outside the vocabulary: {unknown!r}")
    return np.array([index[ch] for ch in text], dtype=np.int64)


def decode_indices(indices, vocab) -> str:
    """Integer indices -> the string they spell in `vocab`."""
    return "".join(vocab[int(i)] for i in indices)


def char_dataset(seq_len: int = 25, *, stride: int = 1, text: str | None = None, lower: bool = True) -> CharData:
    """Character-level next-symbol prediction on a short text (Sonnet 18 by default).

    Window i covers characters [i*stride, i*stride + seq_len); its targets are the same window
    shifted by one character (the symbol to predict at every step). The vocabulary is the
    sorted set of characters of the text (after lower-casing when `lower`).
    Returns CharData(x (N, seq_len, V) float64 one-hot, targets (N, seq_len) int64, vocab (V,)
    tuple of characters, text).
    """
    text = SONNET_18 if text is None else text
    if lower:
        text = text.lower()
    if seq_len < 1 or stride < 1:
        raise ValueError(f"seq_len and stride must be positive; got seq_len={seq_len}, stride={stride}")
    if len(text) < seq_len + 1:
        raise ValueError(f"the text has {len(text)} characters; seq_len={seq_len} needs at least {seq_len + 1}")
    vocab = tuple(sorted(set(text)))
    codes = encode_text(text, vocab)
    starts = np.arange(0, len(codes) - seq_len, stride)
    windows = codes[starts[:, None] + np.arange(seq_len + 1)]  # (N, T + 1)
    x = np.eye(len(vocab))[windows[:, :-1]]
    return CharData(x, windows[:, 1:].copy(), vocab, text)


def delayed_copy_task(n_sequences: int = 256, steps: int = 12, delay: int = 3, *, num_symbols: int = 4,
                      seed: int = 0) -> SequenceTask:
    """Echo task: the target at step t is the input symbol of step t - delay.

    Inputs are random symbols 0..num_symbols-1, one-hot: x (N, T, num_symbols). targets (N, T)
    ints; the first `delay` steps have nothing to echo yet, so their target is -1 ("no target",
    skipped by `rnn_sequence_loss_and_grads` and by `accuracy`) and their mask entry 0. The network has to carry each symbol
    `delay` steps forward in its hidden state, and learns that only if the gradient of the loss
    at step t reaches step t - delay: truncated BPTT with k <= delay cannot.
    """
    if not 0 <= delay < steps:
        raise ValueError(f"delay must lie in [0, steps); got delay={delay}, steps={steps}")
    if num_symbols < 2:
        raise ValueError(f"num_symbols must be at least 2; got {num_symbols}")
    rng = np.random.default_rng(seed)
    symbols = rng.integers(num_symbols, size=(n_sequences, steps))
    x = np.eye(num_symbols)[symbols]
    targets = np.full_like(symbols, -1)
    targets[:, delay:] = symbols[:, : steps - delay]
    mask = np.zeros((n_sequences, steps))
    mask[:, delay:] = 1.0
    return SequenceTask(x, targets, mask)
