"""Vanilla RNN forward + backward (full BPTT): backprop.rnn in numpy against PyTorch's nn.RNN.

Also times truncated BPTT (k = 5), which runs one short recursion per loss term (O(T k) steps
instead of O(T)): a definition made for teaching, not for speed. The torch columns are skipped
when torch is not installed. Everything is float64 on the CPU, timed in this one run.
"""
from __future__ import annotations

import numpy as np

from backprop.rnn import rnn_backward, rnn_backward_truncated, rnn_forward

try:
    from ._table import best_time, print_table
except ImportError:
    from _table import best_time, print_table

SHAPES = [  # (N, T, D, H)
    (1, 50, 10, 32),
    (32, 25, 31, 64),     # the character RNN of the notebook (Sonnet 18, vocabulary of 31)
    (64, 100, 32, 128),
    (16, 100, 64, 256),
]


def _numpy_case(n, steps, d, hidden, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, steps, d))
    h0 = np.zeros((n, hidden))
    Wx = rng.standard_normal((hidden, d)) / np.sqrt(d)
    Wh = rng.standard_normal((hidden, hidden)) * 0.9 / np.sqrt(hidden)
    b = np.zeros(hidden)
    dh = rng.standard_normal((n, steps, hidden))
    return x, h0, Wx, Wh, b, dh


def _torch_runner(torch, x, h0, Wx, Wh, b, dh):
    rnn = torch.nn.RNN(Wx.shape[1], Wx.shape[0], batch_first=True, nonlinearity="tanh").double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(Wx))
        rnn.weight_hh_l0.copy_(torch.from_numpy(Wh))
        rnn.bias_ih_l0.copy_(torch.from_numpy(b))
        rnn.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_(True)
    h0t = torch.from_numpy(h0)[None].clone().requires_grad_(True)
    dht = torch.from_numpy(dh)

    def run():
        rnn.zero_grad(set_to_none=True)
        xt.grad = None
        out, _ = rnn(xt, h0t)
        out.backward(dht)

    return run


def main() -> None:
    try:
        import torch

        torch.set_num_threads(2)
    except ImportError:
        torch = None
    rows = []
    for n, steps, d, hidden in SHAPES:
        x, h0, Wx, Wh, b, dh = _numpy_case(n, steps, d, hidden)

        def ours():
            _, cache = rnn_forward(x, h0, Wx, Wh, b)
            rnn_backward(dh, cache)

        def truncated():
            _, cache = rnn_forward(x, h0, Wx, Wh, b)
            rnn_backward_truncated(dh, cache, 5)

        repeat = 5 if n * steps * hidden < 10**6 else 3
        t_ours = best_time(ours, repeat=repeat)
        t_trunc = best_time(truncated, repeat=repeat)
        row = [f"({n}, {steps}, {d}, {hidden})", f"{t_ours * 1e3:.2f}", f"{t_trunc * 1e3:.2f}",
               f"{t_trunc / t_ours:.1f}x"]
        if torch is not None:
            run = _torch_runner(torch, x, h0, Wx, Wh, b, dh)
            run()  # warm-up
            t_torch = best_time(run, repeat=repeat)
            row += [f"{t_torch * 1e3:.2f}", f"{t_ours / t_torch:.2f}x"]
        else:
            row += ["-", "-"]
        rows.append(row)
    print_table("Vanilla RNN forward + backward, float64, CPU (ms, best of several runs)",
                ["(N, T, D, H)", "numpy full BPTT", "numpy truncated k=5", "truncated / full",
                 "torch nn.RNN", "numpy / torch"], rows)
    if torch is None:
        print("PyTorch is not installed: the torch columns are empty (pip install torch==2.13.0 to fill them).")


if __name__ == "__main__":
    main()
