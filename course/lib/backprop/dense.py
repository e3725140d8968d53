"""The affine (fully connected) layer.

Weights are stored output-major, W of shape (M, D) maps D inputs to M outputs, as in Jin
(2016) and Huang (2018) (W^l is N_l x N_{l-1}) and in torch.nn.Linear. The notes
*Backpropagation and Learning* store the transpose (n = W^T a + b with W of shape D x M);
their dF/dW is the transpose of ours. SOURCES.md in the course folder describes all five.
"""
from __future__ import annotations


from ._validate import as_float_array, check_shape

__all__ = ["dense_forward", "dense_backward"]


def dense_forward(x, W, b):
    """out = x @ W.T + b.

    x (N, D), W (M, D), b (M,)  ->  out (N, M); cache = (x, W, b).
    """
    x = as_float_array(x, "x", ndim=2, shape_hint="(N, D)")
    W = as_float_array(W, "W", ndim=2, shape_hint="(M, D)")
    b = as_float_array(b, "b", ndim=1, shape_hint="(M,)")
    m, d = W.shape
    check_shape(x, "x", (None, d), f"(N, D): W has shape {W.shape}, so each row of x needs D={d} features")
    check_shape(b, "b", (m,), f"(M,): one bias per output, and W has M={m} rows")
    return x @ W.T + b, (x, W, b)


def dense_backward(dout, cache):
    """Gradients of the affine map.

    dout (N, M) = dL/dout; cache from `dense_forward`.
    Returns dx (N, D) = dout @ W, dW (M, D) = dout.T @ x (sum over the batch of delta a^T),
    db (M,) = dout summed over the batch.
    """
    x, W, _ = cache
    dout = as_float_array(dout, "dout", ndim=2, shape_hint="(N, M)")
    check_shape(dout, "dout", (x.shape[0], W.shape[0]), "(N, M): the shape of dense_forward's output")
    return dout @ W, dout.T @ x, dout.sum(axis=0)
