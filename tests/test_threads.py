"""backprop._threads: the training loops and many-call functions run with one BLAS thread."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

import backprop  # noqa: E402
from backprop import _threads  # noqa: E402
from backprop.recipes import one_blas_thread  # noqa: E402


def _blas_threads() -> set[int]:
    return {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}


@pytest.fixture
def two_threads():
    if not _blas_threads():
        pytest.skip("no BLAS library that threadpoolctl can control")
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        yield


def test_one_blas_thread_limits_and_restores(two_threads):
    before = _blas_threads()
    with one_blas_thread():
        assert _blas_threads() == {1}
        with one_blas_thread():  # nested use keeps one thread and restores one thread
            assert _blas_threads() == {1}
        assert _blas_threads() == {1}
    assert _blas_threads() == before


def test_decorated_functions_run_with_one_thread_and_keep_their_signature(two_threads):
    seen = []

    @_threads.single_blas_thread
    def probe(a, *, b=2):
        """doc"""
        seen.append(_blas_threads())
        return a + b

    assert probe(1) == 3 and seen == [{1}]
    assert _blas_threads() != {1}
    assert probe.__name__ == "probe" and probe.__doc__ == "doc"
    assert str(inspect.signature(probe)) == "(a, *, b=2)"


@pytest.mark.parametrize("fn", [backprop.rnn_sequence_loss_and_grads, backprop.train.train,
                                backprop.lenet.lenet5_predict])
def test_training_and_many_call_functions_are_single_threaded(fn):
    assert getattr(fn, "__wrapped__", None) is not None, f"{fn.__name__} does not run with one BLAS thread"


def test_rnn_sequence_loss_and_grads_runs_with_one_thread_and_stays_blockable(two_threads, monkeypatch):
    from backprop import rnn as rnn_module
    from backprop.grading import ReferenceCalled, blocked_reference

    seen = []
    real = rnn_module.rnn_backward
    monkeypatch.setattr(rnn_module, "rnn_backward", lambda *a: (seen.append(_blas_threads()), real(*a))[1])
    params = backprop.init_rnn_params(5, 4, 5, seed=0)
    x = np.eye(5)[np.arange(6).reshape(2, 3) % 5]
    loss, grads = backprop.rnn_sequence_loss_and_grads(params, x, np.zeros((2, 3), dtype=int))
    assert np.isfinite(loss) and seen == [{1}]
    with blocked_reference(), pytest.raises(ReferenceCalled):
        backprop.rnn_sequence_loss_and_grads(params, x, np.zeros((2, 3), dtype=int))


def test_a_blas_loaded_after_the_first_use_is_limited_too(two_threads):
    """SciPy (loaded by scikit-learn) brings its own OpenBLAS; one_blas_thread must see it even when it was
    first used before SciPy was imported."""
    with one_blas_thread():
        pass
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS if it was not loaded yet)
    with threadpoolctl.threadpool_limits(2, user_api="blas"), one_blas_thread():
        assert _blas_threads() == {1}
