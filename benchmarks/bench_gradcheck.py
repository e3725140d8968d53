"""How long does checking the full gradient of a 3-layer MLP take: entry by entry vs random directions?"""
from __future__ import annotations

import numpy as np

from backprop import check_gradients, init_mlp, mlp_loss_and_grads

try:
    from ._table import best_time, print_table
except ImportError:
    from _table import best_time, print_table


def main() -> None:
    rows = []
    for sizes, batch in [((64, 32, 16, 10), 16), ((64, 128, 64, 10), 32)]:
        params = init_mlp(sizes, seed=0)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, sizes[0]))
        y = rng.integers(0, sizes[-1], size=batch)
        acts = ("tanh", "tanh", "identity")
        _, grads = mlp_loss_and_grads(params, x, y, acts, "softmax_ce")
        f = lambda **p: mlp_loss_and_grads(p, x, y, acts, "softmax_ce")[0]  # noqa: E731
        n_params = sum(p.size for p in params.values())
        full = best_time(lambda: check_gradients(f, params, grads, max_full=10**9), repeat=1)
        sampled = best_time(lambda: check_gradients(f, params, grads, max_full=0, samples=8, directions=4), repeat=3)
        dirs = best_time(lambda: check_gradients(f, params, grads, max_full=0, samples=0, directions=4), repeat=3)
        rows.append([f"{sizes} batch {batch}", n_params, f"{full * 1e3:.0f}", f"{sampled * 1e3:.1f}",
                     f"{dirs * 1e3:.1f}", f"{full / dirs:.0f}x"])
    print_table("Gradient check of a 3-layer MLP (ms)",
                ["network", "parameters", "every entry", "8 entries + 4 dirs / tensor", "4 dirs / tensor",
                 "speed-up of directions"], rows)


if __name__ == "__main__":
    main()
