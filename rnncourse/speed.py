"""Timing recurrent layers fairly, for notebook 06 and `python -m grader bench`.

A layer's time is one forward plus one backward pass, after warm-up, with the GPU synchronised before the
clock is read (kernels run asynchronously), the median of several repeats. Ratios are against torch.nn.LSTM
on the same device: cuDNN on an NVIDIA GPU, oneDNN/MKL on a CPU.
"""

import statistics
import time

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from grader.i18n import tr


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def forward_backward_seconds(layer, x: torch.Tensor, repeats: int = 10, warmup: int = 3) -> float:
    """Median seconds of `layer(x).sum().backward()`; `layer(x)` returns the outputs (N, T, H)."""
    for _ in range(warmup):
        layer(x).sum().backward()
    times = []
    for _ in range(repeats):
        sync(x.device)
        start = time.perf_counter()
        layer(x).sum().backward()
        sync(x.device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class _Counter(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += not func.is_view  # a view (x[:, t], W.T, ...) only relabels memory: no kernel
        return func(*args, **(kwargs or {}))


def operations(layer, x: torch.Tensor) -> tuple[int, int]:
    """How many ATen operations that compute (views left out) one forward and one backward pass of `layer(x).sum()`
    issue. On a GPU each is a kernel launch, from Python forward and from autograd's engine backward."""
    with _Counter() as forward:
        out = layer(x).sum()
    with _Counter() as backward:
        out.backward()
    return forward.count, backward.count


class Layer(nn.Module):
    """A layer function lstm(x, state, W, V, b) -> (outputs, (h_T, c_T)) with its parameters, as a module
    (what CUDA graphs and the timing loop need)."""

    def __init__(self, layer_fn, W: torch.Tensor, V: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.layer_fn = layer_fn
        self.W, self.V, self.b = (nn.Parameter(t.detach().clone()) for t in (W, V, b))

    def forward(self, x):
        return self.layer_fn(x, None, self.W, self.V, self.b)[0]


def cuda_graphed(layer: nn.Module, x: torch.Tensor) -> nn.Module:
    """The layer's forward and backward captured as two CUDA graphs: each call replays a whole pass as one
    launch, so the hundreds of small kernels of a step-by-step loop no longer wait on Python. Shapes are fixed
    to those of `x`."""
    if x.device.type != "cuda":
        raise RuntimeError("CUDA graphs need an NVIDIA GPU")
    return torch.cuda.make_graphed_callables(layer, (x.detach().clone().requires_grad_(x.requires_grad),))


def same_as_nn_lstm(layer: nn.Module, x: torch.Tensor) -> float:
    """Largest |difference| between the layer's outputs and torch.nn.LSTM's with the same weights (the layer's
    W, V, b are torch's weight_ih, weight_hh and bias_ih; bias_hh is 0)."""
    H = layer.V.shape[1]
    lstm = nn.LSTM(layer.W.shape[1], H, batch_first=True).to(x.device, x.dtype)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(layer.W)
        lstm.weight_hh_l0.copy_(layer.V)
        lstm.bias_ih_l0.copy_(layer.b)
        lstm.bias_hh_l0.zero_()
        return float((layer(x) - lstm(x)[0]).abs().max())


def speed_table(seconds: dict, reference: str = "torch.nn.LSTM") -> str:
    """A markdown table: each variant's milliseconds per forward + backward and its ratio to `reference`."""
    ref = seconds[reference]
    lines = ["| variant | ms per forward + backward | × torch.nn.LSTM |", "|---|---|---|"]
    for name, s in seconds.items():
        lines.append(f"| {name} | {1000 * s:.2f} | {s / ref:.1f} |")
    return "\n".join(lines)


def plot_speed(seconds: dict, title: str, reference: str = "torch.nn.LSTM") -> None:
    names = list(seconds)
    ratios = [seconds[n] / seconds[reference] for n in names]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.2))
    ax.barh(names[::-1], ratios[::-1], color=["C2" if n == reference else "C0" for n in names[::-1]])
    ax.axvline(1, color="gray", lw=0.8)
    for y, r in enumerate(ratios[::-1]):
        ax.text(r, y, f" {r:.1f}×", va="center")
    ax.set(xlabel=tr("time of forward + backward / {reference}'s", reference=reference), title=title)
    ax.set_xlim(0, max(ratios) * 1.15)
    fig.tight_layout()
