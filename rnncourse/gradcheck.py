"""Numerical gradients by central differences, and the relative error used to compare gradients."""

import numpy as np


def numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """d f(x) / d x for a scalar function f, one entry of x at a time.

    f is called with x modified in place and must read x afresh on each call.
    Central differences have error O(h^2): about 1e-10 relative in float64 with h = 1e-5.
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient needs a float64 array, got {x.dtype}: float32 loses the digits")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f(x)
        x[i] = old - h
        f_minus = f(x)
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, 1e-8): about 1e-7 or less means two gradients agree."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
