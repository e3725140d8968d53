"""Offline data: shapes, ranges, determinism, stratified split, caching, sequence tasks."""
import numpy as np
import pytest

from backprop.data import (
    LECUN_BACKGROUND, LECUN_FOREGROUND, SONNET_18, char_dataset, decode_indices, delayed_copy_task, encode_text,
    load_digits_images, load_digits_raw, load_digits_vectors, resize_images, stratified_split,
)


def test_raw_digits_are_the_real_bundled_set():
    from sklearn.datasets import load_digits

    images, labels = load_digits_raw()
    official = load_digits()
    np.testing.assert_array_equal(images * 16, official.images)  # the fast reader gives the official arrays
    np.testing.assert_array_equal(labels, official.target)
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))
    assert np.all(np.bincount(labels) >= 170)


@pytest.mark.parametrize("scaling", ["unit", "standardize"])
def test_vectors_shapes_and_ranges(scaling):
    x_train, y_train, x_test, y_test = load_digits_vectors(scaling)
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert x_train.dtype == np.float64 and y_train.dtype == np.int64
    if scaling == "unit":
        assert x_train.min() == 0.0 and x_train.max() == 1.0 and x_test.max() <= 1.0
    else:
        np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-12)
        std = x_train.std(axis=0)
        assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))  # blank border pixels stay 0


def test_split_is_stratified_disjoint_and_deterministic():
    split = load_digits_vectors()
    np.testing.assert_array_equal(np.bincount(split.y_test), np.bincount(load_digits_vectors().y_test))
    counts = np.bincount(split.y_test, minlength=10)
    assert counts.sum() == 360 and counts.min() >= 35 and counts.max() <= 37
    _, labels = load_digits_raw()
    train_idx, test_idx = stratified_split(labels, 360, seed=0)
    assert len(np.intersect1d(train_idx, test_idx)) == 0 and len(train_idx) + len(test_idx) == 1797
    np.testing.assert_array_equal(labels[test_idx], split.y_test)
    other, _ = stratified_split(labels, 360, seed=1)
    assert not np.array_equal(other, train_idx)


def test_stratified_split_hits_the_exact_size_with_uneven_classes():
    labels = np.array([0] * 7 + [1] * 5 + [2] * 3)
    train_idx, test_idx = stratified_split(labels, 4, seed=0)
    assert len(test_idx) == 4 and len(train_idx) == 11
    assert set(np.unique(labels[test_idx])) == {0, 1, 2}
    with pytest.raises(ValueError, match="test_size"):
        stratified_split(labels, 15)


def test_returned_arrays_are_fresh_copies_of_a_cached_result():
    from backprop.data import _vectors_cached

    a = load_digits_vectors()
    hits = _vectors_cached.cache_info().hits
    a.x_train[:] = 123.0
    b = load_digits_vectors()
    assert _vectors_cached.cache_info().hits == hits + 1  # computed once, served from memory
    assert b.x_train.max() == 1.0
    assert b.x_train is not a.x_train


def test_images_for_lenet_default_normalisation():
    x_train, y_train, x_test, y_test = load_digits_images()
    assert x_train.shape == (1437, 1, 32, 32) and x_test.shape == (360, 1, 32, 32)
    assert x_train.min() == pytest.approx(LECUN_BACKGROUND) and x_train.max() == pytest.approx(LECUN_FOREGROUND)
    border = np.concatenate([x_train[:, 0, :2].ravel(), x_train[:, 0, -2:].ravel(),
                             x_train[:, 0, :, :2].ravel(), x_train[:, 0, :, -2:].ravel()])
    np.testing.assert_allclose(border, LECUN_BACKGROUND)  # the 2-pixel field around the 28x28 digit
    np.testing.assert_array_equal(y_test, load_digits_vectors().y_test)  # same split as the vectors


def test_images_content_follows_the_small_digit():
    images, _ = load_digits_raw()
    x = load_digits_images(normalization="unit", test_size=360).x_train
    train_idx, _ = stratified_split(load_digits_raw()[1], 360, 0)
    big = x[0, 0, 2:-2, 2:-2]
    small = images[train_idx[0]]
    # averaging the 28x28 back down to 8x8 blocks gives back roughly the original
    back = resize_images(big, 8, "bilinear")
    assert np.corrcoef(back.ravel(), small.ravel())[0, 1] > 0.9


@pytest.mark.parametrize("normalization", ["standardize", "unit"])
def test_images_other_normalisations(normalization):
    x_train, _, x_test, _ = load_digits_images(normalization=normalization, method="nearest")
    if normalization == "standardize":
        assert x_train.mean() == pytest.approx(0, abs=1e-12) and x_train.std() == pytest.approx(1, rel=1e-12)
    else:
        assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert x_test.shape == (360, 1, 32, 32)


def test_resize_is_exact_for_nearest_integer_factors_and_keeps_constants():
    img = np.arange(4.0).reshape(2, 2)
    np.testing.assert_array_equal(resize_images(img, 4, "nearest"), np.kron(img, np.ones((2, 2))))
    np.testing.assert_allclose(resize_images(np.full((8, 8), 0.7), 28), 0.7)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="scaling"):
        load_digits_vectors("minmax")
    with pytest.raises(ValueError, match="normalization"):
        load_digits_images(normalization="zscore")
    with pytest.raises(ValueError, match="method"):
        load_digits_images(method="cubic")
    with pytest.raises(ValueError, match="size"):
        load_digits_images(size=10, pad=2)


def test_char_dataset_windows_and_targets():
    data = char_dataset(20, stride=5)
    n, steps, v = data.x.shape
    assert steps == 20 and v == len(data.vocab) and data.targets.shape == (n, 20)
    np.testing.assert_array_equal(data.x.sum(axis=-1), 1.0)  # one-hot
    inputs = data.x.argmax(axis=-1)
    np.testing.assert_array_equal(inputs[:, 1:], data.targets[:, :-1])  # targets are the inputs shifted by one
    assert decode_indices(inputs[1], data.vocab) == data.text[5:25]
    assert data.text == SONNET_18.lower() and list(data.vocab) == sorted(set(data.text))
    assert char_dataset(20, stride=5).x.tobytes() == data.x.tobytes()


def test_char_dataset_options_and_errors():
    data = char_dataset(4, text="abcabcabd", lower=False)
    assert data.vocab == ("a", "b", "c", "d") and data.x.shape == (5, 4, 4)
    assert decode_indices(encode_text("cab", data.vocab), data.vocab) == "cab"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        encode_text("xyz", data.vocab)
    with pytest.raises(ValueError, match="seq_len"):
        char_dataset(100, text="short")


def test_delayed_copy_task():
    task = delayed_copy_task(50, 10, 3, num_symbols=5, seed=2)
    assert task.x.shape == (50, 10, 5) and task.targets.shape == task.mask.shape == (50, 10)
    symbols = task.x.argmax(axis=-1)
    np.testing.assert_array_equal(task.targets[:, 3:], symbols[:, :7])
    assert np.all(task.targets[:, :3] == -1) and np.all(task.mask[:, :3] == 0) and np.all(task.mask[:, 3:] == 1)
    again = delayed_copy_task(50, 10, 3, num_symbols=5, seed=2)
    np.testing.assert_array_equal(again.x, task.x)
    with pytest.raises(ValueError, match="delay"):
        delayed_copy_task(5, 4, 4)
