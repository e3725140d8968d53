"""The LeNet-5 training recipe and its pieces (augmentation, schedule, process settings).

Accuracy and speed of the full recipe are measured in benchmarks/bench_lenet_train.py, not here.
"""
import numpy as np
import pytest

from backprop.data import load_digits_images
from backprop.recipes import (
    LENET5_RECIPES, LeNet5Result, Recipe, cosine_schedule, one_blas_thread, random_affine, random_shift,
    train_lenet5, tune_malloc, warp_images,
)


def images(n=3, c=2, h=6, w=7, seed=0):
    return np.random.default_rng(seed).standard_normal((n, c, h, w))


# ------------------------------------------------------------------ warp_images / random_affine
def test_warp_identity_is_exact():
    x = images()
    np.testing.assert_array_equal(warp_images(x, 0.0, 1.0, 0.0, 0.0), x)


@pytest.mark.parametrize("dy, dx", [(1, 0), (0, -2), (2, 1), (-1, -1)])
def test_warp_integer_shift_is_a_translation_with_border_fill(dy, dx):
    x = images()
    h, w = x.shape[2:]
    got = warp_images(x, 0.0, 1.0, dy, dx)
    rows = np.clip(np.arange(h) - dy, 0, h - 1)
    cols = np.clip(np.arange(w) - dx, 0, w - 1)
    np.testing.assert_allclose(got, x[:, :, rows][:, :, :, cols], atol=1e-12)


def test_warp_quarter_turn_is_rot90_clockwise():
    x = images(h=5, w=5)
    np.testing.assert_allclose(warp_images(x, 90.0, 1.0, 0.0, 0.0), np.rot90(x, k=-1, axes=(2, 3)), atol=1e-12)


def test_warp_half_pixel_shift_averages_neighbours():
    x = images()
    got = warp_images(x, 0.0, 1.0, 0.0, 0.5)
    np.testing.assert_allclose(got[..., 1:], 0.5 * (x[..., 1:] + x[..., :-1]), atol=1e-12)


def test_warp_per_image_parameters():
    x = images(n=2)
    got = warp_images(x, [0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0])
    np.testing.assert_array_equal(got[0], x[0])
    np.testing.assert_allclose(got[1], warp_images(x[1:], 0.0, 1.0, 1.0, 0.0)[0])


def test_random_affine_is_seeded_and_leaves_input_alone():
    x = images(n=4)
    before = x.copy()
    a = random_affine(x, np.random.default_rng(5))
    b = random_affine(x, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(x, before)
    assert a.shape == x.shape and a.dtype == np.float64
    assert not np.allclose(a, x)
    np.testing.assert_array_equal(random_affine(x, 1, 0.0, 0.0, 0.0), x)


def test_random_affine_keeps_digit_values_in_range():
    x = load_digits_images()[0][:16]
    out = random_affine(x, 0)
    assert out.min() >= x.min() - 1e-12 and out.max() <= x.max() + 1e-12   # bilinear: convex combinations


def test_random_shift_moves_each_image_within_range():
    x = images(n=5, h=8, w=8)
    m = 2
    out = random_shift(x, m, np.random.default_rng(3))
    for i in range(len(x)):
        matches = [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1)
                   if np.array_equal(out[i], warp_images(x[i:i + 1], 0.0, 1.0, dy, dx)[0])]
        assert matches, f"image {i} is not a shift of its input by at most {m} pixels"
    np.testing.assert_array_equal(random_shift(x, 0, 0), x)


# ------------------------------------------------------------------ schedule and process settings
def test_cosine_schedule():
    lr = cosine_schedule(0.1, 10, final=0.01)
    values = [lr(e) for e in range(11)]
    assert values[0] == pytest.approx(0.1) and values[10] == pytest.approx(0.01)
    assert values[5] == pytest.approx(0.055)
    assert all(a > b for a, b in zip(values, values[1:]))
    with pytest.raises(ValueError, match="epochs"):
        cosine_schedule(0.1, 0)


def test_tune_malloc_is_idempotent_and_reports_a_bool():
    first = tune_malloc()
    assert isinstance(first, bool)
    assert tune_malloc() is first


def test_one_blas_thread_is_a_context_manager():
    with one_blas_thread():
        assert np.allclose(np.eye(3) @ np.ones(3), 1.0)


# ------------------------------------------------------------------ train_lenet5
def small_data(n_train=48, n_test=24):
    x_train, y_train, x_test, y_test = load_digits_images()
    return x_train[:n_train], y_train[:n_train], x_test[:n_test], y_test[:n_test]


def test_recipes_cover_every_network():
    assert set(LENET5_RECIPES) == {(v, o) for v in ("classic", "modern") for o in ("softmax", "rbf")}
    for recipe in LENET5_RECIPES.values():
        assert isinstance(recipe, Recipe) and 0 < recipe.quick_epochs <= recipe.epochs


@pytest.mark.parametrize("variant, output", [("classic", "softmax"), ("modern", "rbf")])
def test_train_lenet5_runs_and_is_reproducible(variant, output):
    data = small_data()
    a = train_lenet5(variant, output, epochs=1, data=data, progress=False, seed=3, batch_size=16)
    b = train_lenet5(variant, output, epochs=1, data=data, progress=False, seed=3, batch_size=16)
    assert isinstance(a, LeNet5Result)
    assert a.recipe.epochs == 1 and a.recipe.batch_size == 16
    assert len(a.history.test_acc) == 1 and a.history.train_acc == []   # eval_train=False
    assert a.test_accuracy == a.history.test_acc[-1] and 0.0 <= a.test_accuracy <= 1.0
    assert a.history.steps_per_epoch == 3 and len(a.history.step_loss) == 3
    assert a.seconds > 0
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])


def test_train_lenet5_trains_given_params_in_place():
    from backprop.lenet import init_lenet5
    params = init_lenet5(0)
    start = {k: v.copy() for k, v in params.items()}
    result = train_lenet5(epochs=1, data=small_data(), params=params, progress=False)
    assert result.params is params
    assert not np.allclose(params["C1_W"], start["C1_W"])


def test_train_lenet5_rejects_unknown_settings():
    with pytest.raises(ValueError, match="no recipe"):
        train_lenet5("lenet", progress=False)
    with pytest.raises(ValueError, match="unknown recipe settings"):
        train_lenet5(learning_rate=0.1, progress=False)
