"""The check of every code exercise, one module per notebook, and its catalogue of known slips.

    gradient_checking   00_gradient_checking        softmax      03_softmax
    mlp                 01_mlp                      cnn_im2col   04_cnn_im2col
    batched_mlp         02_batched_mlp              lenet5       05_lenet5
                                                    rnn_bptt     06_rnn_bptt

A visible check cell and its graded test cell call the same function, e.g.

    from backprop.checks.batched_mlp import check_backward_batch
    check_backward_batch(backward_batch)                      # the visible cases
    check_backward_batch(backward_batch, cases=[dict(...)])   # the hidden block: other shapes and seeds

Each check prints a per-tensor table and returns None, or raises a `backprop.grading.GradingError`
whose message starts with what went wrong. Each module lists its exercises in `EXERCISES`
(`Exercise` below): the tests run every check against its reference (it must pass) and against
every known slip (its words must appear).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable, Optional, Sequence

from .._threads import one_blas_thread

__all__ = ["Exercise", "run_cases", "bind_slips", "named_like", "mlp_parameter_shapes"]

MODULES = ("gradient_checking", "mlp", "batched_mlp", "softmax", "cnn_im2col", "lenet5", "rnn_bptt")


@dataclass(frozen=True)
class Exercise:
    """One code exercise of a notebook.

    name: the function the student writes (e.g. "backward_batch").
    check: check(student_fn, cases=None) -> None, raising a GradingError when the answer is wrong.
    reference: a right answer, called like the student's function.
    slips: backprop.slips.Slip objects whose fn is called like the student's function.
    """

    name: str
    check: Callable
    reference: Callable
    slips: tuple = ()


def run_cases(check_case: Callable, cases: Optional[Iterable[dict]], default: Sequence[dict]) -> None:
    """Call check_case(**case) for every case (the `default` ones when cases is None)."""
    __tracebackhide__ = True  # IPython and pytest show the student's frames, not the grader's
    cases = default if cases is None else cases
    if isinstance(cases, dict):
        raise ValueError("cases must be a list of dicts, e.g. cases=[dict(N=3, seed=1)]; got one dict")
    with one_blas_thread():   # many small products: threads only wait for each other (see _threads)
        for case in cases:
            check_case(**case)


def bind_slips(slips: Sequence, wrap: Callable) -> tuple:
    """The slips with each fn wrapped like the student's function is wrapped inside a check."""
    return tuple(replace(slip, fn=wrap(slip.fn)) for slip in slips)


def named_like(fn: Callable, wrapper: Callable) -> Callable:
    """`wrapper` (a check's adapter around a student's function) under the student function's name, so
    that messages say "jin_eq19 is not implemented yet", not "<lambda> ..."."""
    wrapper.__name__ = wrapper.__qualname__ = getattr(fn, "__name__", "your function")
    return wrapper


def mlp_parameter_shapes(sizes: Sequence[int]) -> dict:
    """{"W1": (n_1, n_0), "b1": (n_1,), ..., "WL": (n_L, n_{L-1}), "bL": (n_L,)} for sizes (n_0, ..., n_L)."""
    shapes = {}
    for l in range(1, len(sizes)):
        shapes[f"W{l}"], shapes[f"b{l}"] = (sizes[l], sizes[l - 1]), (sizes[l],)
    return shapes
