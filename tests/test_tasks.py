"""The adding problem is the same task in every notebook, and behaves as datasets/README.md says."""

import hashlib

import numpy as np
import pytest
import torch

from rnncourse.tasks import BASELINE_MSE, TOLERANCE, accuracy, adding_problem, held_out_set, training_batches
from rnncourse.train import Regressor, rnn_params

HASHES = {10: "565fcd4b3d5451381c1e6aa869ed8edfbe27d4641bc25df6540dfbdc2283a952",
          50: "8f6c2d342ed72cd0aee740659474d9b85f5295a99668e80f786cdaf74a891637"}


@pytest.mark.parametrize("T", sorted(HASHES))
def test_held_out_sets_are_the_ones_recorded_in_the_datasets_readme(T):
    x, y = held_out_set(T)
    assert hashlib.sha256(x.numpy().tobytes() + y.numpy().tobytes()).hexdigest() == HASHES[T]


def test_each_sequence_has_one_marker_in_each_half_and_the_target_is_their_sum():
    x, y = adding_problem(500, 12, np.random.default_rng(0))
    markers = x[:, :, 1]
    assert np.all(markers[:, :6].sum(1) == 1) and np.all(markers[:, 6:].sum(1) == 1)
    np.testing.assert_allclose((x[:, :, 0] * markers).sum(1), y, rtol=1e-6)


def test_predicting_the_mean_scores_the_documented_baseline():
    _, y = held_out_set(50)
    assert abs(((1 - y) ** 2).mean().item() - BASELINE_MSE) < 0.01
    assert 0.05 < accuracy(torch.ones_like(y), y) < 0.11  # within TOLERANCE of 1 about 8% of the time
    assert accuracy(y + TOLERANCE / 2, y) == 1.0


def test_training_batches_are_reproducible_and_fresh():
    a, b = training_batches(10, 4, seed=0), training_batches(10, 4, seed=0)
    first, again = next(a)[0], next(b)[0]
    assert torch.equal(first, again) and not torch.equal(first, next(a)[0])


def test_bad_lengths_are_refused_with_a_message():
    with pytest.raises(ValueError, match="T >= 2"):
        adding_problem(3, 1, np.random.default_rng(0))


def test_truncation_stops_the_gradient_exactly_k_steps_back():
    torch.manual_seed(0)
    model = Regressor(torch.nn.RNN(2, 8, batch_first=True), 8)
    x = held_out_set(10)[0][:4].clone().requires_grad_(True)
    model(x, truncate=3).sum().backward()
    per_step = x.grad.abs().sum(dim=(0, 2))
    assert torch.all(per_step[:7] == 0) and torch.all(per_step[7:] > 0)


def test_rnn_params_gives_the_course_layout_with_summed_biases():
    rnn = torch.nn.RNN(3, 4, batch_first=True)
    params = rnn_params(rnn)
    x = torch.randn(2, 5, 3)
    h = np.zeros((2, 4))
    for t in range(5):
        h = np.tanh(x[:, t].double().numpy() @ params["W_xh"].T + h @ params["W_hh"].T + params["b_h"])
    np.testing.assert_allclose(h, rnn(x)[0][:, -1].detach().double().numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="one-layer"):
        rnn_params(torch.nn.RNN(3, 4, num_layers=2))
