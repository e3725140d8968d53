"""conv2d forward + backward at LeNet-5's shapes: im2col vs plain loops vs PyTorch (if installed).

Prints one table per BLAS/torch thread count (1 and 2): the best of several timed runs of
forward + backward (dx, dW, db) at batch 64, float64, and the ratios against im2col, all
measured in the same run. The loop version is timed on a batch of 8 and scaled by 8 (its cost
is exactly linear in the batch), so the benchmark stays short. Peak memory of one im2col
forward + backward is measured with tracemalloc (numpy reports its buffers to it).

Run: .venv/bin/python benchmarks/bench_conv.py
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "course", "lib"))

from backprop.conv import (  # noqa: E402
    _conv2d_backward, conv2d_backward, conv2d_forward, conv2d_naive_backward, conv2d_naive_forward,
)

BATCH = 64
NAIVE_BATCH = 8
SHAPES = [  # name, x shape, W shape; "C1 no dx": a first layer, whose input needs no gradient
    ("C1", (BATCH, 1, 32, 32), (6, 1, 5, 5)),
    ("C1 no dx", (BATCH, 1, 32, 32), (6, 1, 5, 5)),
    ("C3", (BATCH, 6, 14, 14), (16, 6, 5, 5)),
    ("C5", (BATCH, 16, 5, 5), (120, 16, 5, 5)),
]


def best_time(fn, min_total=0.3, max_repeats=50, clock=time.perf_counter) -> float:
    """Best time of fn() in seconds over repeats filling about min_total seconds of wall time.

    With one thread the clock is the calling thread's CPU time (time.thread_time): on a shared
    machine that is the honest cost, unaffected by time spent waiting for a core. With two
    threads it is wall time (CPU time would add up both threads).
    """
    fn()  # warm up (allocations, BLAS threads, torch kernels)
    times = []
    start = time.perf_counter()
    while len(times) < max_repeats and (len(times) < 3 or time.perf_counter() - start < min_total):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)


def blas_threads(n):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")


def import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def im2col_step(x, W, b, dout, need_dx=True):
    _, cache = conv2d_forward(x, W, b)
    if need_dx:
        conv2d_backward(dout, cache)
    else:
        _conv2d_backward(dout, cache, need_dx=False)   # what lenet.py does for C1


def naive_step(x, W, b, dout):
    _, cache = conv2d_naive_forward(x, W, b)
    conv2d_naive_backward(dout, cache)


def peak_memory(x, W, b, dout, need_dx=True) -> int:
    """Peak bytes allocated during one forward + backward (inputs not counted)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    im2col_step(x, W, b, dout, need_dx)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def run_table(threads, torch, naive_times):
    if torch is not None:
        torch.set_num_threads(threads)
    rows = []
    rng = np.random.default_rng(0)
    clock = time.thread_time if threads == 1 else time.perf_counter
    with blas_threads(threads):
        for name, xs, ws in SHAPES:
            x, W = rng.standard_normal(xs), rng.standard_normal(ws) * 0.1
            b = rng.standard_normal(ws[0])
            out, _ = conv2d_forward(x, W, b)
            dout = rng.standard_normal(out.shape)
            need_dx = not name.endswith("no dx")
            t_ours = best_time(lambda: im2col_step(x, W, b, dout, need_dx), clock=clock)
            if name.endswith("no dx"):
                naive_times[name] = None
            elif name not in naive_times:
                n = NAIVE_BATCH
                naive_times[name] = best_time(lambda: naive_step(x[:n], W, b, dout[:n]), 0.0, 1, clock) * BATCH / n
            t_torch = None
            if torch is not None:
                xt = torch.tensor(x, requires_grad=need_dx)
                Wt = torch.tensor(W, requires_grad=True)
                bt = torch.tensor(b, requires_grad=True)
                dt = torch.tensor(dout)

                def torch_step():
                    xt.grad = Wt.grad = bt.grad = None
                    torch.nn.functional.conv2d(xt, Wt, bt).backward(dt)

                t_torch = best_time(torch_step, clock=clock)
            rows.append((name, xs, ws, t_ours, naive_times[name], t_torch, peak_memory(x, W, b, dout, need_dx)))
    return rows


def print_table(threads, rows, torch):
    what = "CPU time of the calling thread" if threads == 1 else "wall time"
    print(f"\nconv2d forward+backward, batch {BATCH}, float64, {threads} thread(s), best {what}"
          + ("" if torch is not None else "  (torch not installed)"))
    head = (f"{'layer':<8} {'x':<17} {'W':<16} {'im2col ms':>9} {'loops ms':>9} {'loops/im2col':>12} "
            f"{'torch ms':>9} {'im2col/torch':>12} {'im2col peak MB':>14}")
    print(head)
    print("-" * len(head))
    for name, xs, ws, t_ours, t_naive, t_torch, peak in rows:
        torch_ms = f"{t_torch * 1e3:9.2f}" if t_torch else f"{'-':>9}"
        ratio = f"{t_ours / t_torch:12.2f}" if t_torch else f"{'-':>12}"
        naive = f"{t_naive * 1e3:9.0f} {t_naive / t_ours:12.0f}" if t_naive else f"{'-':>9} {'-':>12}"
        print(f"{name:<8} {str(xs):<17} {str(ws):<16} {t_ours * 1e3:9.2f} {naive} "
              f"{torch_ms} {ratio} {peak / 2**20:14.1f}")


def main() -> None:
    torch = import_torch()
    naive_times: dict = {}
    for threads in (1, 2):
        rows = run_table(threads, torch, naive_times)
        print_table(threads, rows, torch)
    print(f"(loops timed on a batch of {NAIVE_BATCH}, scaled by {BATCH // NAIVE_BATCH}; "
          f"load average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())})")


if __name__ == "__main__":
    main()
