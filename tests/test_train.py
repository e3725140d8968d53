"""The mini-batch SGD trainer and its helpers."""
import numpy as np
import pytest

from backprop import dense_backward, dense_forward, softmax_cross_entropy
from backprop.data import delayed_copy_task, load_digits_vectors
from backprop.rnn import init_rnn_params, rnn_predict, rnn_sequence_loss_and_grads
from backprop.train import (
    History, accuracy, confusion_matrix, iterate_minibatches, predict, sgd_step, step_decay, train,
)


def softmax_regression():
    def forward(params, x):
        return dense_forward(x, params["W"], params["b"])[0]

    def loss_and_grads(params, x, y):
        logits, cache = dense_forward(x, params["W"], params["b"])
        loss, dlogits = softmax_cross_entropy(logits, y)
        _, dW, db = dense_backward(dlogits, cache)
        return loss, {"W": dW, "b": db}

    return forward, loss_and_grads


def fresh_params(d=64, c=10):
    return {"W": np.zeros((c, d)), "b": np.zeros(c)}


# ------------------------------------------------------------------ helpers


@pytest.mark.parametrize("n, batch", [(10, 3), (10, 10), (10, 32), (1, 1)])
def test_minibatches_cover_every_index_once(n, batch):
    batches = list(iterate_minibatches(n, batch, np.random.default_rng(0)))
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(n))
    assert all(len(b) == min(batch, n) for b in batches[:-1])


def test_minibatches_are_seeded_and_can_drop_the_last():
    a = [b.tolist() for b in iterate_minibatches(10, 4, 5)]
    assert a == [b.tolist() for b in iterate_minibatches(10, 4, 5)]
    assert a != [b.tolist() for b in iterate_minibatches(10, 4, 6)]
    assert [len(b) for b in iterate_minibatches(10, 4, 0, drop_last=True)] == [4, 4]
    assert [b.tolist() for b in iterate_minibatches(5, 2, shuffle=False)] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_minibatches(5, 0))


def test_sgd_step_plain_and_weight_decay_only_on_weights():
    params = {"W": np.ones((2, 2)), "b": np.ones(2)}
    grads = {"W": np.full((2, 2), 2.0), "b": np.full(2, 2.0), "h0": np.zeros(3)}  # extra keys are ignored
    W = params["W"]
    sgd_step(params, grads, 0.1, weight_decay=0.5)
    assert params["W"] is W  # in place
    np.testing.assert_allclose(params["W"], 1 - 0.1 * (2 + 0.5 * 1))  # w - eta (g + lambda w)
    np.testing.assert_allclose(params["b"], 1 - 0.1 * 2)               # biases are not decayed
    sgd_step(params, grads, 0.1, weight_decay=0.5, decay={"b"})
    np.testing.assert_allclose(params["b"], 0.8 - 0.1 * (2 + 0.5 * 0.8))


def test_sgd_step_momentum():
    params = {"w": np.array([1.0])}
    g = {"w": np.array([1.0])}
    v = sgd_step(params, g, 0.1, momentum=0.9)
    np.testing.assert_allclose(params["w"], 0.9)
    v = sgd_step(params, g, 0.1, momentum=0.9, velocity=v)
    np.testing.assert_allclose(v["w"], 0.9 * -0.1 - 0.1)
    np.testing.assert_allclose(params["w"], 0.9 - 0.19)


@pytest.mark.parametrize("grads, message", [
    ({"W": np.zeros((2, 2))}, "no entry for b"),
    ({"W": np.zeros((2, 3)), "b": np.zeros(2)}, "shape"),
    ([np.zeros((2, 2))], "dict"),
])
def test_sgd_step_explains_bad_gradients(grads, message):
    with pytest.raises(ValueError, match=message):
        sgd_step({"W": np.zeros((2, 2)), "b": np.zeros(2)}, grads, 0.1)


def test_accuracy_predict_and_confusion_matrix():
    labels = np.array([0, 1, 2, 1])
    assert accuracy(np.array([0, 1, 1, 1]), labels) == 0.75
    scores = np.eye(3)[[0, 1, 1, 1]] + 0.1
    assert accuracy(scores, labels) == 0.75
    assert accuracy(np.array([[0, 1], [1, 1]]), np.array([[-1, 1], [1, 0]])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="shape"):
        accuracy(np.zeros(3), labels)
    forward = lambda params, x: x @ params["W"].T  # noqa: E731
    params = {"W": np.random.default_rng(0).normal(size=(3, 4))}
    x = np.random.default_rng(1).normal(size=(11, 4))
    np.testing.assert_array_equal(predict(forward, params, x, batch_size=4), predict(forward, params, x))
    counts = confusion_matrix(labels, np.array([0, 1, 1, 1]), 3)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 2, 0], [0, 1, 0]])
    assert confusion_matrix([0, 2], [2, 2]).shape == (3, 3)


def test_step_decay():
    schedule = step_decay(0.8, 0.5, every=2)
    assert [schedule(e) for e in range(5)] == [0.8, 0.8, 0.4, 0.4, 0.2]


# ------------------------------------------------------------------ train


def test_training_softmax_regression_on_real_digits():
    x_train, y_train, x_test, y_test = load_digits_vectors()
    forward, loss_and_grads = softmax_regression()
    params = fresh_params()
    history = train(loss_and_grads, params, x_train, y_train, epochs=8, batch_size=32, lr=0.5, momentum=0.5,
                    seed=0, eval_fn=forward, x_test=x_test, y_test=y_test, progress=False)
    assert isinstance(history, History) and history.epochs == 8
    assert len(history.step_loss) == 8 * history.steps_per_epoch == 8 * 45
    assert history.epoch_loss[-1] < 0.25 * history.epoch_loss[0]
    assert history.epoch_loss[0] < np.log(10)  # already learning during the first epoch
    assert history.train_acc[-1] > 0.95 and history.test_acc[-1] > 0.9
    assert history.lr == [0.5] * 8
    assert accuracy(predict(forward, params, x_test), y_test) == history.test_acc[-1]  # params updated in place


def test_training_is_reproducible_and_seeded():
    x_train, y_train, _, _ = load_digits_vectors()
    _, loss_and_grads = softmax_regression()
    runs = [train(loss_and_grads, fresh_params(), x_train[:200], y_train[:200], epochs=2, batch_size=16, lr=0.3,
                  seed=s, progress=False).step_loss for s in (1, 1, 2)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_schedule_clipping_and_callback():
    x_train, y_train, _, _ = load_digits_vectors()
    _, loss_and_grads = softmax_regression()
    seen = []
    params = fresh_params()
    before = params["W"].copy()
    history = train(loss_and_grads, params, x_train[:64], y_train[:64], epochs=4, batch_size=64,
                    lr=step_decay(1.0, 0.1, every=2), clip_norm=1e-3, progress=False,
                    callback=lambda epoch, h: seen.append((epoch, h.epochs)))
    assert history.lr == [1.0, 1.0, 0.1, 0.1]
    assert seen == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert history.grad_norm[0] > 1e-2  # recorded before clipping
    assert np.linalg.norm(params["W"] - before) <= 2 * 1e-3 + 2 * 1e-4 + 1e-12  # every step capped at lr * 1e-3


def test_divergence_stops_with_advice():
    def exploding(params, x, y):
        return float("inf"), {"w": np.zeros(1)}

    with pytest.raises(ValueError, match="smaller learning rate"):
        train(exploding, {"w": np.zeros(1)}, np.zeros((4, 1)), np.zeros(4), epochs=1, batch_size=2, lr=1.0,
              progress=False)


def test_mismatched_data_is_refused():
    _, loss_and_grads = softmax_regression()
    with pytest.raises(ValueError, match="samples"):
        train(loss_and_grads, fresh_params(), np.zeros((5, 64)), np.zeros(4, int), epochs=1, batch_size=2, lr=0.1,
              progress=False)


def test_no_output_at_all_without_progress(capsys):
    x_train, y_train, _, _ = load_digits_vectors()
    forward, loss_and_grads = softmax_regression()
    train(loss_and_grads, fresh_params(), x_train[:100], y_train[:100], epochs=2, batch_size=25, lr=0.1,
          eval_fn=forward, progress=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_progress_bar_is_driven_and_never_writes_to_stderr(capsys):
    x_train, y_train, _, _ = load_digits_vectors()
    forward, loss_and_grads = softmax_regression()
    train(loss_and_grads, fresh_params(), x_train[:100], y_train[:100], epochs=2, batch_size=25, lr=0.1,
          eval_fn=forward, progress=True, description="digits")
    out = capsys.readouterr()
    assert out.err == ""  # nbgrader counts any stderr output as a failure
    assert "digits" in out.out and "8/8" in out.out and "train acc" in out.out


def test_bptt_window_must_reach_the_delay():
    """Delayed copy: full BPTT and k = delay + 1 learn the echo; k = delay cannot see the input."""
    delay = 2
    task = delayed_copy_task(256, 8, delay, num_symbols=3, seed=0)
    results = {}
    for k in (None, delay, delay + 1):
        params = init_rnn_params(3, 16, 3, seed=0)
        history = train(lambda p, xb, yb: rnn_sequence_loss_and_grads(p, xb, yb, truncate=k), params,
                        task.x, task.targets, epochs=15, batch_size=32, lr=0.5, momentum=0.9, clip_norm=5.0,
                        eval_fn=rnn_predict, progress=False)
        results[k] = history.train_acc[-1]
    assert results[None] > 0.95 and results[delay + 1] > 0.95
    assert results[delay] < 0.6  # chance is 1/3
