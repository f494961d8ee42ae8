"""Checks the notebooks' graded test cells call: one module per notebook.

A check takes the learner's function as its argument, raises AssertionError with a message that
names the wrong quantity and the likely mistake, and prints one line when everything matches.
"""

import contextlib
import functools
import io
from pathlib import Path

import numpy as np
import torch

from grader.device import device
from grader.i18n import tr
from grader.isolation.tripwire import Tripwire, backward_with_line, spied, traced
from grader.tolerance import FLOAT32, FLOAT64, TF32, Tolerance, assert_close, fail, to_numpy


def as_tensor(a, *, dtype=torch.float64, requires_grad: bool = False) -> torch.Tensor:
    """A reference input on the check's device, float64 unless asked otherwise."""
    return torch.tensor(np.asarray(a), dtype=dtype, device=device(), requires_grad=requires_grad)


def as_tensors(p: dict) -> dict:
    """A dict of reference parameters as float64 tensors on the check's device."""
    return {k: as_tensor(v) for k, v in p.items()}


def gate_params(gates: tuple, D: int, H: int, rng: np.random.Generator, scale: float = 0.5) -> dict:
    """Random per-gate parameters in the seeds' notation (float64 numpy): for each gate *, W_* (H, D),
    V_* (H, H) and b_* (H,)."""
    p = {}
    for gate in gates:
        p[f"W_{gate}"] = rng.normal(0, scale, (H, D))
        p[f"V_{gate}"] = rng.normal(0, scale, (H, H))
        p[f"b_{gate}"] = rng.normal(0, scale, H)
    return p


def fuse(p: dict, order: tuple) -> tuple:
    """Stack per-gate parameters in the given order, as torch does: W (kH, D), V (kH, H), b (kH,) (numpy)."""
    return tuple(np.concatenate([p[f"{kind}_{gate}"] for gate in order]) for kind in ("W", "V", "b"))


def torch_cell(module: type, W_ih, W_hh, b_ih, b_hh, x_t, state):
    """The output of a float64 torch.nn.LSTMCell or GRUCell (`module`) run on the given tensors as its weights,
    so that autograd reaches them: the independent reference for a learner's cell, forward and gradients."""
    cell = module(W_ih.shape[1], W_hh.shape[1]).to(device(), torch.float64)
    weights = {"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b_ih, "bias_hh": b_hh}
    return torch.func.functional_call(cell, weights, (x_t, state))


def sigmoid(a):
    """The logistic function on numpy arrays, for references computed by the equations."""
    return 1 / (1 + np.exp(-a))


SQUASH = {"sigmoid": sigmoid, "tanh": np.tanh}


def term_mistakes(label: str, gate: str, pre, x_t, h_prev, p: dict, squash: str) -> dict:
    """The usual mistakes in one gate `squash(W_* x_t + V_* h_{t-1} + b_*)`, from its pre-activation `pre`
    (numpy): the other squashing function, and each of the three terms missing."""
    right = SQUASH[squash]
    wrong = "tanh" if squash == "sigmoid" else "sigmoid"
    return {
        tr("{wrong} used where {label} needs {squash}", wrong=wrong, label=label, squash=squash): SQUASH[wrong](pre),
        tr("the recurrent term V_{gate} h_{{t-1}} is missing from {label}", gate=gate, label=label):
            right(pre - h_prev @ p[f"V_{gate}"].T),
        tr("the bias b_{gate} is missing from {label}", gate=gate, label=label): right(pre - p[f"b_{gate}"]),
        tr("the input term W_{gate} x_t is missing from {label}", gate=gate, label=label):
            right(pre - x_t @ p[f"W_{gate}"].T),
    }


def expect_callable(fn, name: str) -> None:
    if not callable(fn):
        raise TypeError(tr("pass your function {name} itself (not its result), got {kind}", name=name,
                           kind=type(fn).__name__))


def returns(result, n: int) -> bool:
    """Whether a learner's function returned n values: a tuple, or any list of them (the values are what is
    graded, not the container)."""
    return isinstance(result, tuple | list) and len(result) == n


def passed(what: str) -> None:
    print(tr("OK: {what}", what=what))


def depends_on(**checks):
    """Decorate a check whose function calls other graded functions of the learner.

    When the check fails, each of those functions (found by name in the learner's namespace) is run
    through its own check, quietly; the ones that fail are named, so the learner fixes the cause first.
    """

    def decorate(check):
        @functools.wraps(check)
        def wrapper(fn, *args, **kwargs):
            try:
                return check(fn, *args, **kwargs)
            except AssertionError as error:
                broken = [name for name, dep_check in checks.items() if _fails(dep_check, fn, name)]
                if not broken:
                    raise
                note = "".join(tr("\n  Note: this calls your {name}, which fails notebook {notebook}'s check of "
                                  "{name} on its own: fix {name} first.", name=name,
                                  notebook=_notebook_of(checks[name])) for name in broken)
                raise AssertionError(f"{error}{note}") from None

        return wrapper

    return decorate


_NOTEBOOK_OF_MODULE = {"rnn": "01", "gradients": "02", "lstm": "03", "gru": "04", "bilstm": "05", "speed": "06"}


def _notebook_of(check) -> str:
    """'03' for a check of grader.checks.lstm: the notebook where the learner finds that function's own test."""
    return _NOTEBOOK_OF_MODULE.get(check.__module__.rsplit('.', 1)[-1], '?')


def _fails(dep_check, fn, name: str) -> bool:
    dep = getattr(fn, "__globals__", {}).get(name)
    if not callable(dep):
        return False
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            dep_check(dep)
    except Exception:
        return True
    return False


# --- the ready-made tripwire ----------------------------------------------------------------------


def learner(part: str, fn, *args):
    """Call the learner's function under the tripwire: a ready-made recurrent op fails the part."""
    return learner_counted(part, fn, *args)[0]


def learner_counted(part: str, fn, *args, spy: str | None = None) -> tuple:
    """learner(), the number of matrix products the call made (forward only), and, with `spy`, how many times
    the function called the argument of that name (given or its default; None when it has none). When grading,
    `fn` runs in the sandbox (grader.isolation.remote), and the tripwire and the spy are set there."""
    if hasattr(fn, "under_tripwire"):
        return fn.under_tripwire(part, *args, spy=spy)
    kwargs, spying = spied(fn, {}, spy) if spy else ({}, None)
    with Tripwire(part) as tripwire, traced():
        result = fn(*args, **kwargs)
    return result, tripwire.products, None if spying is None else spying.calls


def check_blocks_from_torch(gates_from_torch, module: torch.nn.Module, gates: tuple) -> None:
    """Check the learner's split of a one-layer torch.nn.LSTM or torch.nn.GRU into the lecture's per-gate dict:
    the blocks of weight_ih_l0 and weight_hh_l0 in torch's order `gates`, and b = bias_ih + bias_hh."""
    kind, order, H = type(module).__name__, ", ".join(gates), module.hidden_size
    before = {k: v.detach().clone() for k, v in module.state_dict().items()}
    p = learner("gates_from_torch", gates_from_torch, module)
    if not isinstance(p, dict):
        fail(tr("gates_from_torch must return a dict with W_{gates}, V_{gates}, b_{gates}, ... "
                "for the gates {order}", gates=gates[0], order=order))
    missing = [f"{k}_{g}" for g in gates for k in ("W", "V", "b") if f"{k}_{g}" not in p]
    if missing:
        fail(tr("the dict has no entries {missing}", missing=missing))
    if any(not torch.equal(v, module.state_dict()[k]) for k, v in before.items()):
        fail(tr("gates_from_torch changed the torch module's weights; it must only read them"))
    w_ih, w_hh = to_numpy(module.weight_ih_l0), to_numpy(module.weight_hh_l0)
    b_ih, b_hh = to_numpy(module.bias_ih_l0), to_numpy(module.bias_hh_l0)
    block = {g: slice(k * H, (k + 1) * H) for k, g in enumerate(gates)}
    for gate in gates:
        rows = block[gate]
        order_hint = {tr("W_{gate} holds rows {start}:{stop}, which belong to gate {g}: torch.nn.{kind} "
                         "stacks {order}", gate=gate, start=block[g].start, stop=block[g].stop, g=g, kind=kind,
                         order=order): w_ih[block[g]] for g in gates if g != gate}
        assert_close(f"W_{gate}", p[f"W_{gate}"], w_ih[rows], FLOAT64, order_hint)
        assert_close(f"V_{gate}", p[f"V_{gate}"], w_hh[rows])
        assert_close(f"b_{gate}", p[f"b_{gate}"], b_ih[rows] + b_hh[rows], FLOAT64, {
            tr("only bias_ih was read: torch adds two biases, so b = bias_ih + bias_hh"): b_ih[rows],
            tr("only bias_hh was read: torch adds two biases, so b = bias_ih + bias_hh"): b_hh[rows],
        })
    passed(tr("gates_from_torch splits torch.nn.{kind}'s {order} blocks and sums its two "
              "biases (D={input_size} H={h})", kind=kind, order=order, input_size=module.input_size, h=H))


IN_PLACE = "modified by an inplace operation"
"""The words of autograd's error when a tensor it saved for the backward pass was changed in place."""


def _learner_frame(filename: str) -> str | None:
    """In a notebook's kernel: 'your code' for a frame of the learner's cells, None for the grader's or a library's."""
    library = filename.startswith((_GRADER, "<frozen")) or "site-packages" in filename
    return None if library else tr("your code")


def check_gradients(loss, inputs: dict, want_grads: dict, what: str) -> None:
    """The gradients autograd finds through the learner's code (`loss` is built from its outputs, `inputs` holds
    the tensors it was given) against the reference's; autograd's in-place error said in plain words."""
    if not loss.requires_grad:
        fail(tr("the outputs of {what} carry no gradient: compute them with torch operations on "
                "the inputs (no .detach(), .numpy() or torch.no_grad())", what=what))
    _, failed = backward_with_line(loss.backward, _learner_frame)
    if failed:
        error, line = failed
        if IN_PLACE not in str(error):
            raise error
        where = getattr(error, "learner_where", "") or line  # from the sandbox, or from this kernel
        fail(tr("autograd cannot compute the gradients through {what}: your code changes a "
                "tensor in place that the backward pass needs (an operation ending in _ such as "
                ".mul_() or .tanh_(), +=, *=, or out=). The forward values are right; write that "
                "step out of place, e.g. o_t * torch.tanh(c_t) rather than "
                "torch.tanh(c_t).mul_(o_t)", what=what) + (tr("\n  where: {where}", where=where) if where else ""))
    for name, want in want_grads.items():
        assert_close(tr("the gradient of {name} (by autograd through {what})", name=name, what=what),
                     inputs[name].grad, want)


def check_backward_and_float32(loss, inputs: dict, want_grads: dict, run_float32, want_out) -> Tolerance:
    """The second half of a layer check: the gradients autograd finds through the learner's layer against the
    reference's (check_gradients), then the layer again on float32 inputs, compared with the device's float32
    tolerance (TF32 on a GPU). Returns it."""
    check_gradients(loss, inputs, want_grads, tr("your layer"))
    tol = TF32 if device().type == "cuda" else FLOAT32
    out32 = run_float32()
    if out32.dtype != torch.float32:
        fail(tr("with float32 inputs the outputs are {dtype}: create new tensors with the "
                "inputs' dtype and device (torch.zeros_like, x.new_zeros)", dtype=out32.dtype))
    assert_close(tr("outputs with float32 inputs"), out32, want_out, tol)
    return tol


# --- tracebacks a learner can read ----------------------------------------------------------------

_GRADER = str(Path(__file__).resolve().parent.parent)


def readable_tracebacks(namespace: dict) -> None:
    """Wrap every check_* function of a check module so that the errors it raises carry the learner's frames
    only: the test cell's line, then the learner's own code where the error happened, then the message. The
    grader's frames (reference code, the catalogue of mistakes) stay out of the test cell, Validate and feedback.
    """
    for name, fn in list(namespace.items()):
        if name.startswith("check_") and callable(fn) and getattr(fn, "__module__", "") == namespace["__name__"]:
            namespace[name] = _without_grader_frames(fn)


def _without_grader_frames(check):
    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # IPython hides this frame unless it is the last one  # noqa: F841
        try:
            return check(*args, **kwargs)
        except Exception as error:
            raise error.with_traceback(_learner_frames(error.__traceback__)) from None

    return wrapper


def _learner_frames(tb):
    """The traceback `tb` relinked without the grader's frames (None when nothing else is left)."""
    kept = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(_GRADER):
            kept.append(tb)
        tb = tb.tb_next
    for t, following in zip(kept, kept[1:] + [None], strict=False):
        t.tb_next = following
    return kept[0] if kept else None


def _show_without_grader_frames(shell, etype, value, tb, tb_offset=None):
    """IPython shows the last frame of a traceback even when it is hidden: for a check's AssertionError that
    is the wrapper above. Drop every grader frame, then let IPython show the rest as usual."""
    shell.showtraceback((etype, value, _learner_frames(tb) or tb), tb_offset=tb_offset)


def _in_a_notebook() -> None:
    """In a Jupyter kernel, the test cells' AssertionErrors are shown without the grader's frames."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and not shell.custom_exceptions:
        shell.set_custom_exc((AssertionError,), _show_without_grader_frames)


_in_a_notebook()
