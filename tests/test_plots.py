"""Plots: each function draws the data it is given into the axes it is given."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from backprop.plots import (  # noqa: E402
    image_mosaic, plot_accuracy, plot_confusion_matrix, plot_feature_maps, plot_filters, plot_gradient_error,
    plot_gradient_norms, plot_history, plot_image_grid,
)
from backprop.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def history():
    return History(step_loss=[4.0, 3.0, 2.0, 1.5, 1.0, 0.8], epoch_loss=[3.0, 1.1], train_acc=[0.5, 0.9],
                   test_acc=[0.4, 0.8], steps_per_epoch=3)


def test_plot_history_draws_steps_and_epoch_means_into_the_given_axes():
    fig, ax = plt.subplots()
    out = plot_history(history(), ax=ax, smooth=2)
    assert out is ax
    steps, smooth, epochs = ax.get_lines()
    np.testing.assert_array_equal(steps.get_ydata(), [4.0, 3.0, 2.0, 1.5, 1.0, 0.8])
    np.testing.assert_allclose(smooth.get_ydata(), [3.5, 2.5, 1.75, 1.25, 0.9])
    np.testing.assert_array_equal(epochs.get_xdata(), [3, 6])
    np.testing.assert_array_equal(epochs.get_ydata(), [3.0, 1.1])


def test_plot_history_accepts_a_dict_and_makes_its_own_figure():
    ax = plot_history({"step_loss": [1.0, 0.5]}, log=True)
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 1
    assert ax.figure is not None


def test_plot_accuracy():
    ax = plot_accuracy(history())
    train, test = ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2])
    np.testing.assert_array_equal(test.get_ydata(), [0.4, 0.8])
    with pytest.raises(ValueError, match="eval_fn"):
        plot_accuracy(History())


def test_image_mosaic_places_images_row_by_row():
    images = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    m = image_mosaic(images, ncols=2)
    assert m.shape == (3 * 3 - 1, 2 * 4 - 1)
    np.testing.assert_array_equal(m[0:2, 0:3], images[0])
    np.testing.assert_array_equal(m[0:2, 4:7], images[1])
    np.testing.assert_array_equal(m[6:8, 0:3], images[4])
    assert np.isnan(m[6:8, 4:7]).all() and np.isnan(m[2]).all()


def test_plot_image_grid_with_labels_and_predictions():
    rng = np.random.default_rng(0)
    images = rng.random((12, 1, 8, 8))
    labels = np.arange(12) % 10
    preds = labels.copy()
    preds[3] = 0
    ax = plot_image_grid(images, labels, preds, ncols=5)
    shown = ax.images[0].get_array()
    np.testing.assert_array_equal(shown[0:8, 9:17], images[1, 0])
    texts = [t.get_text() for t in ax.texts]
    assert texts[3] == "3:0" and len(texts) == 12
    assert ax.texts[3].get_color() == "red" and ax.texts[2].get_color() != "red"
    flat = plot_image_grid(rng.random((3, 64)))  # flat 8x8 vectors
    assert flat.images[0].get_array().shape == (8, 8 * 3 + 2)
    with pytest.raises(ValueError, match="images"):
        plot_image_grid(rng.random((3, 10)))


def test_plot_filters_grid_and_symmetric_colours():
    W = np.random.default_rng(1).normal(size=(6, 2, 5, 5))
    ax = plot_filters(W)
    im = ax.images[0]
    np.testing.assert_array_equal(im.get_array()[0:5, 6:11], W[0, 1])   # row f = filter, column c = input map
    np.testing.assert_array_equal(im.get_array()[6:11, 0:5], W[1, 0])
    vmin, vmax = im.get_clim()
    assert vmin == -vmax == -np.abs(W).max()
    assert plot_filters(W[:, 0]).images[0].get_array().shape == (6 * 6 - 1, 5)


def test_plot_feature_maps_picks_one_sample():
    maps = np.random.default_rng(2).random((2, 6, 4, 4))
    ax = plot_feature_maps(maps, sample=1, ncols=3)
    np.testing.assert_array_equal(ax.images[0].get_array()[5:9, 0:4], maps[1, 3])
    with pytest.raises(ValueError, match="maps"):
        plot_feature_maps(np.zeros((4, 4)))


def test_plot_confusion_matrix_counts():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 2, 0])
    ax = plot_confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(ax.images[0].get_array(), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert [t.get_text() for t in ax.texts][:3] == ["1", "1", "0"]
    assert "0.667" in ax.get_title()
    norm = plot_confusion_matrix(y_true, y_pred, normalize=True)
    np.testing.assert_allclose(norm.images[0].get_array()[2], [1 / 3, 0, 2 / 3])


def test_plot_gradient_norms_log_scale_several_curves():
    ax = plot_gradient_norms({"r=0.5": [1e-6, 1e-3, 1.0], "r=1.5": [3.0, 1.5, 1.0]})
    assert ax.get_yscale() == "log"
    first, second = ax.get_lines()
    np.testing.assert_array_equal(first.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(second.get_ydata(), [3.0, 1.5, 1.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["r=0.5", "r=1.5"]
    single = plot_gradient_norms(np.array([0.0, 2.0]), xlabel="layer")
    assert np.isnan(single.get_lines()[0].get_ydata()[0]) and single.get_xlabel() == "layer"


def test_plot_gradient_error_heatmap_points_at_the_wrong_entries():
    numeric = np.random.default_rng(3).normal(size=(4, 3))
    analytic = numeric.copy()
    analytic[2, 1] += 0.5
    ax = plot_gradient_error(analytic, numeric)
    err = ax.images[0].get_array()
    assert err.shape == (4, 3) and err[2, 1] == pytest.approx(0.5) and np.sum(err > 1e-12) == 1
    assert "(2, 1)" in ax.get_title()
    conv = plot_gradient_error(np.ones((2, 3, 4, 4)), np.zeros((2, 3, 4, 4)), relative=True)
    assert conv.images[0].get_array().shape == (2, 48)
    np.testing.assert_allclose(conv.images[0].get_array(), 1.0)
    assert plot_gradient_error(np.ones(5), np.zeros(5)).images[0].get_array().shape == (1, 5)
    with pytest.raises(ValueError, match="shape"):
        plot_gradient_error(np.ones((2, 3)), np.ones((3, 2)))


def test_plots_never_call_show(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("plt.show called inside a plot function")

    monkeypatch.setattr(plt, "show", refuse)
    plot_history(history())
    plot_accuracy(history())
    plot_image_grid(np.zeros((2, 8, 8)))
    plot_filters(np.ones((1, 1, 3, 3)))
    plot_confusion_matrix([0, 1], [1, 1])
    plot_gradient_norms([1.0, 0.1])
    plot_gradient_error(np.ones(3), np.ones(3))
