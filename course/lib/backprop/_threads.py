"""One BLAS thread for the library's training loops and many-call checks.

The course's matrix products are small (a batch of 16 sequences of 25 steps, a LeNet-5 layer
on 4 digits). With one BLAS thread per core, OpenBLAS splits each of them across threads that
then wait for one another; when another process keeps a core busy, every product waits for a
time slice. Measured on 2 cores with one kept busy: `rnn_sequence_loss_and_grads` on 16
sequences of 25 characters took 48-53 ms per call with the default threads, 4-12 ms with one.
So the functions that train or evaluate a model many times run inside `one_blas_thread()`, or
carry the `single_blas_thread` decorator.

threadpoolctl is asked which BLAS libraries the process has loaded (about 0.1 ms) once, and again
only after more modules were imported; every other use only sets and restores the thread count
(about 10 microseconds), cheap enough for every call of a loss function. Without threadpoolctl, or where it cannot inspect the process
(e.g. in a browser), nothing changes.
"""
from __future__ import annotations

import contextlib
import functools
import sys

_CONTROLLER: dict = {}


def _controller():
    """threadpoolctl's view of the BLAS libraries, made again when modules were imported since (a new
    module may load another BLAS, e.g. SciPy's OpenBLAS beside NumPy's): len(sys.modules) is the key."""
    key = len(sys.modules)
    if _CONTROLLER.get("key") != key:
        try:
            from threadpoolctl import ThreadpoolController

            controller = ThreadpoolController()
        except Exception:  # not installed, or the platform cannot be inspected
            controller = None
        _CONTROLLER.update(key=len(sys.modules), controller=controller)
    return _CONTROLLER["controller"]


def one_blas_thread():
    """Context manager: at most one BLAS thread inside it; the previous setting is restored on exit."""
    controller = _controller()
    if controller is None:
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


def single_blas_thread(fn):
    """Decorator: run `fn` inside `one_blas_thread()`."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return fn(*args, **kwargs)

    return wrapper
