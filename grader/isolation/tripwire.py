"""The ready-made tripwire: stops torch's own recurrent ops and counts matrix products, at two levels.

- A TorchFunctionMode sees every call into torch by its name however it is spelled (torch.lstm, torch._VF.lstm,
  torch.ops.aten.lstm.input, nn.LSTM), before torch decomposes it.
- A TorchDispatchMode sees every op that reaches ATen's kernels: the recurrent kernels (mkldnn_rnn_layer,
  _cudnn_rnn, ...) and every matrix product however it was written (@, matmul, linalg.matmul, linear, einsum,
  multi_dot, addmv, conv1d, torch.ops.aten.mm, ...) arrive here as a few kernels, which are counted.
It lives here because it runs inside the sandbox, around the learner's function (grader.checks calls it
through `learner_counted`); the sandbox may read this package but not the checks.
"""

import inspect
import re
import warnings

import torch
from torch.overrides import TorchFunctionMode, _get_current_function_mode_stack
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode_stack

READY_MADE = {"lstm", "lstm_cell", "gru", "gru_cell", "rnn_tanh", "rnn_relu", "rnn_tanh_cell", "rnn_relu_cell",
              "_thnn_fused_lstm_cell", "_thnn_fused_gru_cell", "_cudnn_rnn", "miopen_rnn", "mkldnn_rnn",
              "mkldnn_rnn_layer", "_thnn_differentiable_lstm_cell_backward", "quantized_lstm_cell",
              "quantized_gru_cell"}
"""torch's recurrent ops and kernels: nn.LSTM, nn.LSTMCell, nn.GRU, nn.GRUCell and nn.RNN all end up in them."""
PRODUCTS = {"mm", "addmm", "bmm", "baddbmm", "addbmm", "addmv", "mv", "dot", "vdot", "addr", "convolution",
            "_convolution", "_addmm_activation", "_scaled_mm", "_int_mm"}
"""ATen's matrix-product kernels: every spelling of a product in Python reaches one of these."""
AUTOGRAD = {"grad", "backward"}
"""torch.autograd.grad, Tensor.backward and torch.func.grad by name; whatever the spelling, autograd's engine then
runs kernels named *_backward (sigmoid_backward, tanh_backward, ...), which are stopped too."""


class ReadyMadeModule(AssertionError):
    """Raised when the learner's code calls torch's own recurrent implementation (or autograd where the part asks
    for gradients by hand). Its text is one of MESSAGES with its fields, put in the reader's language when shown:
    in the sandbox that is English, so the grader rebuilds the exception from `template` and `fields`."""

    def __init__(self, template: str, **fields):
        super().__init__(template)
        self.template, self.fields = template, {k: str(v) for k, v in fields.items()}

    def __str__(self) -> str:
        from grader.i18n import tr

        return tr(self.template, **self.fields)


def tr(message: str) -> str:
    """Marks a message for the catalogue (grader.i18n): ReadyMadeModule translates it when it is shown."""
    return message


READY_MADE_USED = tr("{part} calls torch's ready-made recurrent implementation ({name}, used by nn.LSTM, "
                     "nn.LSTMCell, nn.GRU, ...): this part asks for the equations written out, so it gets no points")
AUTOGRAD_USED = tr("{part} lets autograd compute the gradients ({name}): this part asks for the chain rule worked "
                   "out by hand, with torch operations on the values of the forward step, so it gets no points")
SWITCHED_OFF = tr("{part} switched the grader's tripwire off (it popped torch's function or dispatch modes): this "
                  "part gets no points")
MESSAGES = (READY_MADE_USED, AUTOGRAD_USED, SWITCHED_OFF)


def _op_name(func) -> str:
    """torch.lstm_cell, aten.lstm_cell.default and aten::lstm_cell are all 'lstm_cell'."""
    name = getattr(func, "__name__", "") or ""
    return name.split(".")[0]


class _Names(TorchFunctionMode):
    def __init__(self, wire: "Tripwire"):
        super().__init__()
        self.wire = wire

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = _op_name(func)
        self.wire.stop_if_ready_made(name)
        self.wire.stop_if_autograd(name)
        return func(*args, **(kwargs or {}))


class _Kernels(TorchDispatchMode):
    def __init__(self, wire: "Tripwire"):
        super().__init__()
        self.wire = wire

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = _op_name(getattr(func, "overloadpacket", func))
        self.wire.stop_if_ready_made(name)
        self.wire.stop_if_autograd(name)
        self.wire.products += name in PRODUCTS
        return func(*args, **(kwargs or {}))


class Tripwire:
    """Stops torch's ready-made recurrent ops, and counts the matrix products that reach ATen (forward only).
    A part named *_backward asks for gradients worked out by hand, so autograd stops it too. A call that switches
    the tripwire off (pops its modes) fails the part."""

    def __init__(self, part: str):
        self.part, self.products, self.by_hand = part, 0, part.endswith("_backward")
        self.modes = (_Names(self), _Kernels(self))

    def stop_if_ready_made(self, name: str) -> None:
        if name in READY_MADE:
            raise ReadyMadeModule(READY_MADE_USED, part=self.part, name=name)

    def stop_if_autograd(self, name: str) -> None:
        if self.by_hand and (name in AUTOGRAD or name.endswith("_backward")):
            raise ReadyMadeModule(AUTOGRAD_USED, part=self.part, name=name)

    def __enter__(self):
        for mode in self.modes:
            mode.__enter__()
        return self

    def __exit__(self, kind, error, trace):
        names, kernels = self.modes
        on = (kernels in _get_current_dispatch_mode_stack(), names in _get_current_function_mode_stack())
        for mode, still_on in zip((kernels, names), on, strict=True):
            if still_on:
                mode.__exit__(kind, error, trace)
        if not all(on) and kind is None:
            raise ReadyMadeModule(SWITCHED_OFF, part=self.part)
        return False


class Spy:
    """A stand-in for a function the learner's code is given (for example a layer's `step`), counting its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def spied(fn, kwargs: dict, parameter: str) -> tuple[dict, Spy | None]:
    """kwargs with `fn`'s argument `parameter` (given, or its default) replaced by a Spy; no Spy when `fn` has no
    such parameter."""
    try:
        declared = inspect.signature(fn).parameters.get(parameter)
    except (TypeError, ValueError):
        declared = None
    given = kwargs.get(parameter, inspect.Parameter.empty if declared is None else declared.default)
    if given is inspect.Parameter.empty or not callable(given):
        return kwargs, None
    spy = Spy(given)
    return {**kwargs, parameter: spy}, spy


_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<fn>\S+)\n(?: {4}(?P<code>.*))?')


def traced():
    """Autograd's anomaly mode (without its NaN check) around a learner's call and the backward through it, so
    that a failed backward can name the line of the forward call (see backward_with_line)."""
    return torch.autograd.set_detect_anomaly(True, check_nan=False)


def backward_with_line(backward, learner_file) -> tuple:
    """(backward()'s value, None), or (None, (the error, the learner's line of the forward call whose gradient
    failed, or "")). `learner_file(filename)` tells a learner's frame and returns how to name it, else None."""
    with warnings.catch_warnings(record=True) as caught, traced():
        warnings.simplefilter("always")
        try:
            return backward(), None
        except RuntimeError as e:
            error = e
    for warning in caught:
        frames = [(m, name) for m in _FRAME.finditer(str(warning.message)) if (name := learner_file(m["file"]))]
        if frames:
            m, name = frames[-1]
            return None, (error, f"{name}, line {m['line']}, in {m['fn']}: {(m['code'] or '').strip()}".rstrip(": "))
    return None, (error, "")
