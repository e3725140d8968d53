"""LeNet-5: time to gradient-check the whole network, and one training step at batch 64.

Table 1: check_gradients on every parameter of LeNet-5 (both variants, both outputs) on a
batch of 2 images, with the checker's default settings and with a lighter setting (fewer
sampled entries), as wall time and number of loss evaluations. Goal: under one second.
Table 2: forward and forward + backward (loss and every gradient) at batch 64, in ms.

Run: .venv/bin/python benchmarks/bench_lenet.py
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "course", "lib"))

from backprop.gradcheck import check_gradients  # noqa: E402
from backprop.lenet import init_lenet5, lenet5_forward, lenet5_loss, lenet5_loss_and_grads  # noqa: E402

VARIANTS = [("classic", "softmax"), ("classic", "rbf"), ("modern", "softmax"), ("modern", "rbf")]
SETTINGS = {
    "default": {},
    "light": dict(max_full=32, samples=12, directions=2),
}
CHECK_BATCH = 2
TRAIN_BATCH = 64


def blas_threads(n):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")


def best_time(fn, repeats=8, clock=time.perf_counter) -> float:
    """Best of `repeats` runs; with one thread, pass clock=time.thread_time (CPU time of this
    thread: on a shared machine, the cost without the time spent waiting for a core)."""
    fn()
    times = []
    for _ in range(repeats):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)


def gradcheck_rows():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((CHECK_BATCH, 1, 32, 32))
    labels = rng.integers(0, 10, CHECK_BATCH)
    rows = []
    for variant, output in VARIANTS:
        params = init_lenet5(0, variant, output)
        _, grads = lenet5_loss_and_grads(params, x, labels)
        for setting, kwargs in SETTINGS.items():
            calls = [0]

            def loss(**p):
                calls[0] += 1
                return lenet5_loss(p, x, labels)

            t, cpu = time.perf_counter(), time.thread_time()
            report = check_gradients(loss, params, grads, **kwargs)
            rows.append((variant, output, setting, time.perf_counter() - t, time.thread_time() - cpu,
                         calls[0], report.ok))
    return rows


def step_rows(clock):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((TRAIN_BATCH, 1, 32, 32))
    labels = rng.integers(0, 10, TRAIN_BATCH)
    rows = []
    for variant, output in VARIANTS:
        params = init_lenet5(0, variant, output)
        t_fwd = best_time(lambda: lenet5_forward(params, x), clock=clock)
        t_both = best_time(lambda: lenet5_loss_and_grads(params, x, labels), clock=clock)
        rows.append((variant, output, t_fwd, t_both))
    return rows


def main() -> None:
    with blas_threads(1):
        checks = gradcheck_rows()
    print(f"\nGradient check of the whole LeNet-5 (every parameter), batch {CHECK_BATCH}, 1 BLAS thread")
    head = (f"{'variant':<8} {'output':<8} {'setting':<8} {'wall s':>7} {'CPU s':>7} {'loss evals':>10} "
            f"{'CPU ms/eval':>11}  result")
    print(head)
    print("-" * len(head))
    for variant, output, setting, secs, cpu, calls, ok in checks:
        print(f"{variant:<8} {output:<8} {setting:<8} {secs:7.2f} {cpu:7.2f} {calls:10d} {cpu / calls * 1e3:11.2f}  "
              f"{'ok' if ok else 'FAILED'}")
    print("settings: default = check_gradients' defaults; light = " +
          ", ".join(f"{k}={v}" for k, v in SETTINGS["light"].items()))

    for threads in (1, 2):
        with blas_threads(threads):
            steps = step_rows(time.thread_time if threads == 1 else time.perf_counter)
        what = "CPU time of the calling thread" if threads == 1 else "wall time"
        print(f"\nLeNet-5 at batch {TRAIN_BATCH}, float64, {threads} BLAS thread(s), best {what}")
        head = f"{'variant':<8} {'output':<8} {'forward ms':>10} {'fwd+bwd ms':>10} {'bwd/fwd':>8}"
        print(head)
        print("-" * len(head))
        for variant, output, t_fwd, t_both in steps:
            print(f"{variant:<8} {output:<8} {t_fwd * 1e3:10.2f} {t_both * 1e3:10.2f} {(t_both - t_fwd) / t_fwd:8.2f}")
    print(f"(load average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())})")


if __name__ == "__main__":
    main()
