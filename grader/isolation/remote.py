"""The learner's functions, as the grader's checks see them: stand-ins that run the real code in the sandbox.

A check calls `Remote` objects like the learner's own functions. The arguments travel to the sandbox as data,
the function runs there, and its result comes back as data; a check then compares it with a reference computed
in the grader's process, which the learner's code never touches. Autograd crosses too: a result that depends
on inputs requiring grad is tied to them by `_Bridge`, whose backward asks the sandbox for the gradients.
Changes a function makes to its arguments in place (p.grad *= c, a dict edited) are copied back.
"""

import builtins
import contextlib

import numpy as np
import torch

from grader.device import device
from grader.isolation import wire
from grader.isolation.sandbox import Sandbox
from grader.isolation.tripwire import MESSAGES, ReadyMadeModule


class LearnerError(Exception):
    """The learner's code raised an exception of a type that is not one of Python's own."""


class Session:
    """Requests about the objects of one sandbox: look up a name, read an attribute, call, backward."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def lookup(self, name: str):
        """The learner's global `name` (a stand-in for functions and objects, the value for data), or KeyError."""
        answer, buffers = self.sandbox.request({"op": "lookup", "name": name})
        if not answer.get("found"):
            raise KeyError(name)
        return self._decode(answer["value"], buffers)

    def getattr(self, ref: int, name: str):
        answer, buffers = self.sandbox.request({"op": "getattr", "ref": ref, "name": name})
        return self._value(answer, buffers)

    def call(self, ref: int, args: tuple, kwargs: dict, tripwire: str | None = None, spy: str | None = None):
        encoder = wire.Encoder(as_ref=lambda obj: obj._ref if isinstance(obj, Remote) else None)
        header = {"op": "call", "ref": ref, "args": encoder.encode(list(args)), "kwargs": encoder.encode(kwargs),
                  "tripwire": tripwire, "spy": spy, "grad_enabled": torch.is_grad_enabled()}
        answer, buffers = self.sandbox.request(header, encoder.buffers)
        self.products = answer.get("products") if isinstance(answer.get("products"), int) else 0
        self.spied = answer.get("spied") if isinstance(answer.get("spied"), int) else None
        decoder = wire.Decoder(buffers, device(), from_ref=self._remote)
        value = self._value(answer, buffers, decoder)
        after = wire.Decoder(buffers, device(), from_ref=self._remote).decode(answer["after"])
        new_args, new_kwargs, new_tensors = after
        for old, new in zip(encoder.tensors, new_tensors, strict=False):  # changed in place, even in a generator
            _merge(old, new)
        _merge([list(args), kwargs], [new_args, new_kwargs])  # then entries replaced in dicts and lists
        if answer.get("same_as") is not None and 0 <= answer["same_as"] < len(args):
            return args[answer["same_as"]]  # the function returned an argument it changed in place
        outputs = [t for t in decoder.tensors if t.requires_grad]
        inputs = [t for t in encoder.tensors if t.requires_grad]
        if "call" not in answer or not torch.is_grad_enabled():
            return _detach_all(value, outputs)
        tied = _Bridge.apply(self, answer["call"], outputs, *inputs)
        return _replace(value, dict(zip(map(id, outputs), tied, strict=True)))

    def backward(self, call: int, outputs: list, grads: tuple) -> list:
        grads = [torch.zeros_like(o) if g is None else g for o, g in zip(outputs, grads, strict=True)]
        encoder = wire.Encoder()
        answer, buffers = self.sandbox.request({"op": "backward", "call": call, "grads": encoder.encode(grads)},
                                               encoder.buffers)
        return self._value(answer, buffers)

    def _value(self, answer: dict, buffers: list, decoder: wire.Decoder | None = None):
        if "error" in answer:
            raise _learner_error(answer["error"])
        return (decoder or wire.Decoder(buffers, device(), from_ref=self._remote)).decode(answer["value"])

    def _decode(self, node, buffers):
        return wire.Decoder(buffers, device(), from_ref=self._remote).decode(node)

    def _remote(self, ref: wire.Ref):
        return (RemoteCallable if ref.callable else Remote)(self, ref)


class Remote:
    """An object that lives in the sandbox. Reading an attribute asks the sandbox for it."""

    def __init__(self, session: Session, ref: wire.Ref):
        self._session, self._ref = session, ref

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.getattr(self._ref.id, name)

    def __repr__(self) -> str:
        return f"<your {self._ref.type}>"


class RemoteCallable(Remote):
    """A learner's function, class or model: calling it runs it in the sandbox."""

    def __call__(self, *args, **kwargs):
        return self._session.call(self._ref.id, args, kwargs)

    def under_tripwire(self, part: str, *args, spy: str | None = None) -> tuple:
        """Call it with torch's ready-made recurrent ops forbidden; return the result, the number of matrix
        products the call made and the calls of the spied argument (see grader.checks.learner_counted)."""
        result = self._session.call(self._ref.id, args, {}, tripwire=part, spy=spy)
        return result, self._session.products, self._session.spied

    @property
    def __globals__(self):
        """The learner's namespace, for checks that look up the other functions a function calls."""
        return _Globals(self._session)


class _Globals:
    def __init__(self, session: Session):
        self._session = session

    def get(self, name: str, default=None):
        try:
            return self._session.lookup(name)
        except KeyError:
            return default


class _Bridge(torch.autograd.Function):
    """Ties outputs computed in the sandbox to the grader's inputs; backward asks the sandbox for gradients."""

    @staticmethod
    def forward(ctx, session, call, outputs, *inputs):
        ctx.session, ctx.call, ctx.outputs = session, call, [o.detach() for o in outputs]
        return tuple(o.detach().clone() for o in outputs)

    @staticmethod
    def backward(ctx, *grads):
        found = ctx.session.backward(ctx.call, ctx.outputs, grads)
        return (None, None, None, *found)


def _learner_error(error: dict) -> Exception:
    """The learner's exception, rebuilt in the grader: Python's own type where it is one, with `where` attached."""
    if not isinstance(error, dict):
        error = {"type": "LearnerError", "message": "malformed error"}
    kind = getattr(builtins, str(error.get("type"))[:100], None)
    message = str(error.get("message", ""))[:2000]
    if isinstance(kind, type) and issubclass(kind, Exception) and kind.__module__ == "builtins":
        try:
            e = kind(message)
        except Exception:
            e = LearnerError(f"{error.get('type')}: {message}")
    elif error.get("type") == "ReadyMadeModule":
        fields = error.get("fields")
        e = ReadyMadeModule("{message}", message=message)  # shown as it came, unless it is the tripwire's own
        if error.get("template") in MESSAGES and isinstance(fields, dict) and set(fields) <= {"part", "name"}:
            own = ReadyMadeModule(error["template"], **{k: str(v)[:200] for k, v in fields.items()})
            with contextlib.suppress(KeyError, ValueError, IndexError):
                str(own)  # all its fields are there
                e = own
    else:
        e = LearnerError(f"{error.get('type')}: {message}")
    e.learner_where = str(error.get("where", ""))[:2000]
    return e


def _detach_all(value, outputs):
    return _replace(value, {id(t): t.detach().requires_grad_(False) for t in outputs})


def _replace(value, new: dict):
    """`value` with the tensors whose id is in `new` replaced, through lists, tuples and dicts."""
    if id(value) in new:
        return new[id(value)]
    if isinstance(value, list | tuple):
        return type(value)(_replace(v, new) for v in value)
    if isinstance(value, dict):
        return {k: _replace(v, new) for k, v in value.items()}
    return value


def _merge(old, new) -> None:
    """Copy into `old` what the learner's function changed in place in the sandbox's copy of it (`new`)."""
    if isinstance(old, torch.Tensor) and isinstance(new, torch.Tensor) and old.shape == new.shape:
        if not torch.equal(old.detach(), new.detach().to(old.device, old.dtype)):
            with torch.no_grad():
                old.copy_(new)
        if new.grad is None:
            old.grad = None
        elif old.grad is None or not torch.equal(old.grad, new.grad.to(old.grad.device, old.grad.dtype)):
            old.grad = new.grad.to(old.device, old.dtype)
    elif isinstance(old, np.ndarray) and isinstance(new, np.ndarray) and old.shape == new.shape:
        if not np.array_equal(old, new) and old.flags.writeable:
            old[...] = new
    elif isinstance(old, dict) and isinstance(new, dict):
        for k in [k for k in old if k not in new]:
            del old[k]
        for k, v in new.items():
            if k in old and type(old[k]) is type(v):
                _merge(old[k], v)
            else:
                old[k] = v
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (o, n) in enumerate(zip(old, new, strict=True)):
            if type(o) is type(n) or isinstance(o, torch.Tensor):
                _merge(o, n)
            else:
                old[i] = n
    elif isinstance(old, tuple) and isinstance(new, tuple) and len(old) == len(new):
        for o, n in zip(old, new, strict=True):
            _merge(o, n)
    elif isinstance(old, torch.nn.Module) and isinstance(new, torch.nn.Module):
        new_params = dict(new.named_parameters())
        for name, p in old.named_parameters():
            if name in new_params:
                _merge(p, new_params[name])
    elif isinstance(old, np.random.Generator) and isinstance(new, np.random.Generator):
        old.bit_generator.state = new.bit_generator.state
