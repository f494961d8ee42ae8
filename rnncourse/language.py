"""A character language model in torch, so that recurrent layers can be compared on notebook 01's names.

The model reads one-hot characters with any recurrent layer called as `layer(x, state) -> (outputs, state)`
(torch's nn.RNN, nn.LSTM, nn.GRU or the learner's own) and predicts the next character with a linear layer.
Training walks the text with truncated BPTT, exactly as notebook 01 does in numpy.
"""

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from rnncourse.data import stream_batches
from rnncourse.mode import pick

GRADING_CHUNKS, GRADING_CHARS = 5, 500
"""While a notebook is graded: chunks per epoch, and held-out characters read."""


class CharModel(nn.Module):
    """One-hot characters -> recurrent layer -> logits over the vocabulary at every step."""

    def __init__(self, layer: nn.Module, vocab_size: int, hidden_size: int):
        super().__init__()
        self.layer = layer
        self.vocab_size = vocab_size
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor, state=None):
        """ids (N, T) int64 -> logits (N, T, V) and the layer's final state."""
        x = F.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)
        outputs, state = self.layer(x, state)
        return self.head(outputs), state


def detach(state):
    """Cut the graph at a chunk border: the state's value flows on, its gradient stops (truncated BPTT)."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


@dataclass
class CharHistory:
    label: str
    val_loss: list = field(default_factory=list)  # nats per character on the held-out names, after each epoch
    val_accuracy: list = field(default_factory=list)  # the most likely next character is the right one
    seconds_per_epoch: list = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.label}: held-out loss {self.val_loss[-1]:.3f} nats/char, next-character accuracy "
                f"{self.val_accuracy[-1]:.1%} after {len(self.val_loss)} epochs, "
                f"{sum(self.seconds_per_epoch) / len(self.seconds_per_epoch):.1f} s per epoch")


def evaluate_chars(model: CharModel, val_ids) -> tuple[float, float]:
    """Loss (nats/char) and next-character accuracy on the held-out text, read as one sequence."""
    ids = torch.as_tensor(val_ids)[None, :pick(None, GRADING_CHARS)]  # all of it, or a start while graded
    with torch.no_grad():
        logits, _ = model(ids[:, :-1])
    loss = F.cross_entropy(logits[0], ids[0, 1:]).item()
    return loss, (logits[0].argmax(-1) == ids[0, 1:]).float().mean().item()


def train_char_model(model: CharModel, ids, val_ids, epochs: int, label: str, lr: float = 3e-3,
                     batch_size: int = 32, seq_len: int = 25, max_norm: float = 1.0) -> CharHistory:
    """Adam with gradient clipping by norm, truncated BPTT over `batch_size` parallel streams of the text."""
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = CharHistory(label)
    n_chunks = (len(ids) - 1) // batch_size // seq_len
    bar = tqdm(total=epochs * n_chunks, desc=label, leave=False)
    for _ in range(epochs):
        start, state = time.perf_counter(), None  # each pass over the text starts from a zero state
        for chunk, (inputs, targets) in enumerate(stream_batches(ids, batch_size, seq_len)):
            if chunk == pick(None, GRADING_CHUNKS):
                break
            logits, state = model(torch.as_tensor(inputs), state)
            state = detach(state)
            loss = F.cross_entropy(logits.reshape(-1, model.vocab_size), torch.as_tensor(targets).reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            bar.update()
        history.seconds_per_epoch.append(time.perf_counter() - start)
        val_loss, val_acc = evaluate_chars(model, val_ids)
        history.val_loss.append(val_loss)
        history.val_accuracy.append(val_acc)
        bar.set_postfix(val_loss=f"{val_loss:.3f}", acc=f"{val_acc:.0%}")
    bar.close()
    return history

