"""The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015): the long-range task
that notebooks 02, 03 and 04 share, so that RNN, LSTM and GRU are compared on exactly the same data.

Each input step is a pair (value, marker). Values are uniform in [0, 1); exactly two markers are 1, one in
the first half of the sequence and one in the second. The target, read at the last step, is the sum of the
two marked values. Predicting 1 every time gives the baseline mean squared error 1/6, which is where a
model that cannot carry the first marked value to the end stays.
"""

import numpy as np
import torch

from rnncourse.mode import pick

BASELINE_MSE = 1 / 6
"""MSE of always predicting the mean target, 1: the variance of the sum of two uniform values."""
TOLERANCE = 0.04
"""A prediction counts as correct when it is within 0.04 of the sum (Hochreiter & Schmidhuber 1997)."""
TEST_SIZE = 2000
GRADING_TEST_SIZE = 200  # while a notebook is graded: its analysis cells run, on fewer examples
TEST_SEED = 2024
TRAIN_SEED = 0


def adding_problem(n: int, T: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n sequences of length T: inputs x (n, T, 2) and targets y (n,), both float32."""
    if T < 2 or n < 1:
        raise ValueError(f"need n >= 1 sequences of length T >= 2, got n={n}, T={T}")
    values = rng.random((n, T), dtype=np.float32)
    half = T // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    markers = np.zeros((n, T), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1
    markers[rows, second] = 1
    x = np.stack([values, markers], axis=-1)
    y = values[rows, first] + values[rows, second]
    return x, y


def held_out_set(T: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed held-out set for length T: x (2000, T, 2), y (2000,), the same in every notebook (its first 200
    while the notebook is graded)."""
    x, y = adding_problem(pick(TEST_SIZE, GRADING_TEST_SIZE), T, np.random.default_rng(TEST_SEED))
    return torch.from_numpy(x), torch.from_numpy(y)


def training_batches(T: int, batch_size: int, seed: int = TRAIN_SEED):
    """An endless stream of fresh training batches (x, y) as tensors, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    while True:
        x, y = adding_problem(batch_size, T, rng)
        yield torch.from_numpy(x), torch.from_numpy(y)


def accuracy(pred: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of predictions within TOLERANCE of the target."""
    return ((pred.detach().reshape(-1) - y).abs() < TOLERANCE).float().mean().item()
