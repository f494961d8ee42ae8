"""The ready-made tripwire: stops torch's own recurrent ops and counts matrix products.

It lives here because it runs inside the sandbox, around the learner's function (grader.checks calls it
through `learner_counted`); the sandbox may read this package but not the checks.
"""

from torch.overrides import TorchFunctionMode

READY_MADE = {"lstm", "lstm_cell", "gru", "gru_cell", "rnn_tanh", "rnn_relu", "rnn_tanh_cell", "rnn_relu_cell",
              "_thnn_fused_lstm_cell", "_thnn_fused_gru_cell"}
"""torch's recurrent ops: nn.LSTM, nn.LSTMCell, nn.GRU, nn.GRUCell and nn.RNN all end up in one of them."""
PRODUCTS = {"matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "addmm", "baddbmm", "addbmm", "linear", "einsum",
            "tensordot", "inner", "mv", "dot"}
"""torch's matrix products, counted by the tripwire for checks that ask how many a layer makes."""


class ReadyMadeModule(AssertionError):
    """Raised when the learner's code calls torch's own recurrent implementation."""


class Tripwire(TorchFunctionMode):
    """Stops torch's ready-made recurrent ops, and counts matrix products on the way."""

    def __init__(self, part: str):
        super().__init__()
        self.part, self.products = part, 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        self.products += name in PRODUCTS
        if name in READY_MADE:
            raise ReadyMadeModule(
                f"{self.part} calls torch's ready-made recurrent implementation (torch.{name}, used by nn.LSTM, "
                "nn.LSTMCell, nn.GRU, ...): this part asks for the equations written out, so it gets no points")
        return func(*args, **(kwargs or {}))
