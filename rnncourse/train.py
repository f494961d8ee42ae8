"""Training on the adding problem, shared by notebooks 02-04 so every cell is trained the same way.

A model reads the whole sequence with a recurrent layer and predicts the sum from its last hidden state.
The recurrent layer can be torch's (nn.RNN, nn.LSTM, nn.GRU) or the learner's own, as long as it is
called as `layer(x, state=None) -> (outputs (N, T, H), final state)`, batch first.
"""

import time
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from grader.i18n import tr
from rnncourse.tasks import BASELINE_MSE, accuracy, held_out_set, training_batches


class Regressor(nn.Module):
    """A recurrent layer followed by a linear read-out of its last hidden state."""

    def __init__(self, layer: nn.Module, hidden_size: int):
        super().__init__()
        self.layer = layer
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor, truncate: int | None = None) -> torch.Tensor:
        """Predictions (N,). With `truncate=k` gradients flow through the last k steps only: the earlier
        steps run under no_grad and hand over their final state, as truncated BPTT does at a chunk border."""
        state = None
        if truncate is not None and truncate < x.shape[1]:
            with torch.no_grad():
                _, state = self.layer(x[:, :-truncate])
            x = x[:, -truncate:]
        outputs, _ = self.layer(x, state)
        return self.head(outputs[:, -1]).squeeze(-1)


@dataclass
class History:
    label: str
    steps: list = field(default_factory=list)
    test_mse: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)  # the total norm before clipping, every step
    seconds: float = 0.0

    def __str__(self) -> str:
        return (f"{self.label}: test MSE {self.test_mse[-1]:.4f} (baseline {BASELINE_MSE:.3f}), "
                f"accuracy {self.test_accuracy[-1]:.1%} after {self.steps[-1]} steps, {self.seconds:.0f} s")


def evaluate(model: Regressor, T: int) -> tuple[float, float]:
    """Test MSE and accuracy on the fixed held-out set of length T."""
    x, y = held_out_set(T)
    with torch.no_grad():
        pred = model(x)
    return ((pred - y) ** 2).mean().item(), accuracy(pred, y)


def train_adding(model: Regressor, T: int, n_steps: int, clip, label: str, lr: float = 3e-3,
                 max_norm: float = 1.0, batch_size: int = 64, truncate: int | None = None,
                 eval_every: int = 100) -> History:
    """Adam, its learning rate decayed to 0 on a cosine, on fresh batches of the adding problem.

    `clip(parameters, max_norm)` runs before every update and returns the total gradient norm, which the
    history keeps."""
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps}")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, n_steps)  # settles the end of training
    history = History(label)
    batches = training_batches(T, batch_size)
    start = time.perf_counter()
    bar = tqdm(range(1, n_steps + 1), desc=label, leave=False)
    for step in bar:
        x, y = next(batches)
        loss = ((model(x, truncate) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        history.grad_norms.append(float(clip(params, max_norm)))
        optimizer.step()
        schedule.step()
        if step % eval_every == 0 or step == n_steps:
            mse, acc = evaluate(model, T)
            history.steps.append(step)
            history.test_mse.append(mse)
            history.test_accuracy.append(acc)
            bar.set_postfix(test_mse=f"{mse:.4f}", acc=f"{acc:.0%}")
    history.seconds = time.perf_counter() - start
    return history


def plot_histories(histories: list[History], title: str):
    """Test MSE (log scale, with the predict-1 baseline) and accuracy against training steps."""
    import matplotlib.pyplot as plt

    fig, (ax_mse, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.6))
    for h in histories:
        ax_mse.plot(h.steps, h.test_mse, label=h.label)
        ax_acc.plot(h.steps, h.test_accuracy, label=h.label)
    ax_mse.axhline(BASELINE_MSE, color="gray", ls="--", label=tr("always predict 1"))
    ax_mse.set(yscale="log", xlabel=tr("training step"), ylabel=tr("test MSE"), title=title)
    ax_acc.set(xlabel=tr("training step"), ylabel=tr("test accuracy (|error| < 0.04)"), ylim=(0, 1.02))
    ax_mse.legend(fontsize=8)
    ax_acc.legend(fontsize=8)
    fig.tight_layout()
    return fig


def rnn_params(rnn: nn.RNN) -> dict:
    """A one-layer torch.nn.RNN's weights as the course's float64 numpy dict (W_xh, W_hh, b_h).

    torch keeps two biases, b_ih and b_hh; they are always added together, so b_h is their sum.
    """
    if not isinstance(rnn, nn.RNN) or rnn.num_layers != 1 or rnn.bidirectional or rnn.nonlinearity != "tanh":
        raise ValueError("rnn_params expects a one-layer, one-direction torch.nn.RNN with tanh")
    to_np = lambda t: t.detach().cpu().double().numpy()  # noqa: E731
    return {"W_xh": to_np(rnn.weight_ih_l0), "W_hh": to_np(rnn.weight_hh_l0),
            "b_h": to_np(rnn.bias_ih_l0 + rnn.bias_hh_l0)}
