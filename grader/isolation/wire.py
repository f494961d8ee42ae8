"""What crosses between the grader and a submission's sandbox: plain data, never pickles.

The grader decodes whatever a submission sends back, so the format holds only numbers, strings, lists,
dicts, arrays and tensors (raw bytes with a whitelisted dtype), random generators' states, torch.nn modules
of a few whitelisted classes (rebuilt from their sizes and weights), and references to objects that stay in
the sandbox. A message is a JSON header followed by the raw buffers it points to.
"""

import json
import os
import select
import struct
import time
import types

import numpy as np
import torch

DTYPES = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}
MODULES = {  # torch.nn classes rebuilt on the other side: constructor arguments read off the module
    "Linear": ("in_features", "out_features"),
    "Embedding": ("num_embeddings", "embedding_dim", "padding_idx"),
    "LSTM": ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional"),
    "GRU": ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "bidirectional"),
    "RNN": ("input_size", "hidden_size", "num_layers", "nonlinearity", "bias", "batch_first", "bidirectional"),
    "LSTMCell": ("input_size", "hidden_size", "bias"),
    "GRUCell": ("input_size", "hidden_size", "bias"),
    "RNNCell": ("input_size", "hidden_size", "bias", "nonlinearity"),
}
MAX_MESSAGE, MAX_HEADER = 128 * 2**20, 16 * 2**20
"""A message (or its JSON part) larger than this is refused rather than read into memory: the checks' largest
messages are a few MB, and the grader's process must stay under 1 GB whatever a submission sends back."""
MAX_NODES, MAX_DEPTH, MAX_LAYERS, MAX_SIZE = 1_000_000, 64, 16, 2**20
"""Budgets of one decoded value: its parts, its nesting, and a torch.nn module's layers and sizes."""


class WireError(Exception):
    """A message that is not in the format: a submission's sandbox sent something it must not."""


class Ref:
    """An object that stays in the sandbox (a learner's function, class or model), known by its number."""

    def __init__(self, id: int, callable: bool, type: str):
        self.id, self.callable, self.type = id, callable, type


# --- encoding ------------------------------------------------------------------------------------


class Encoder:
    """Turns a value into a JSON tree and a list of buffers. `tensors` lists every tensor met, in order, so
    that both sides can name the inputs of a call (autograd) and write back what a call changed in place.
    `as_ref(obj)` is asked for anything else and returns a Ref number, or None to refuse the value."""

    def __init__(self, as_ref=None):
        self.buffers, self.tensors, self.as_ref = [], [], as_ref

    def encode(self, x):
        if x is None or isinstance(x, bool | int | float | str):
            return {"t": "v", "v": x}
        if isinstance(x, np.generic):
            return self.encode(np.asarray(x))
        if isinstance(x, tuple | list):  # a namedtuple (torch.return_types, _IncompatibleKeys) travels as a tuple
            return {"t": "list" if isinstance(x, list) else "tuple", "v": [self.encode(v) for v in x]}
        if isinstance(x, types.GeneratorType):
            return {"t": "gen", "v": [self.encode(v) for v in x]}
        if isinstance(x, dict) and all(isinstance(k, str | int) for k in x):
            return {"t": "dict", "k": list(x), "v": [self.encode(v) for v in x.values()]}
        if isinstance(x, np.ndarray) and x.dtype.name in DTYPES:
            return {"t": "array", **self._buffer(x)}
        if isinstance(x, torch.Tensor) and str(x.dtype).removeprefix("torch.") in DTYPES:
            self.tensors.append(x)
            grad = None if x.grad is None else self.encode(x.grad)
            return {"t": "tensor", **self._buffer(x.detach().cpu().numpy()), "device": x.device.type,
                    "requires_grad": x.requires_grad, "param": isinstance(x, torch.nn.Parameter), "grad": grad}
        if isinstance(x, torch.device):
            return {"t": "device", "v": x.type}
        if isinstance(x, torch.dtype) and str(x).removeprefix("torch.") in DTYPES:
            return {"t": "dtype", "v": str(x).removeprefix("torch.")}
        if isinstance(x, np.random.Generator) and type(x.bit_generator) is np.random.PCG64:
            return {"t": "rng", "state": x.bit_generator.state}
        if type(x).__name__ in MODULES and type(x) is getattr(torch.nn, type(x).__name__):
            init = {a: getattr(x, a) for a in MODULES[type(x).__name__]}
            return {"t": "module", "cls": type(x).__name__, "init": init,
                    "params": {name: self.encode(p) for name, p in x.named_parameters()}}
        ref = self.as_ref(x) if self.as_ref else None
        if ref is None:
            raise WireError(f"cannot send a {type(x).__name__}")
        return {"t": "ref", "id": ref.id, "callable": ref.callable, "type": ref.type}

    def _buffer(self, a: np.ndarray) -> dict:
        a = np.ascontiguousarray(a)
        self.buffers.append(a.tobytes())
        return {"dtype": a.dtype.name, "shape": list(a.shape), "b": len(self.buffers) - 1}


# --- decoding ------------------------------------------------------------------------------------


class Decoder:
    """Rebuilds values from a JSON tree and its buffers, checking every field. `tensors` lists the tensors
    made, in order; `device` is where tensors go; `from_ref(Ref)` turns a reference into an object."""

    def __init__(self, buffers: list, device: torch.device, from_ref=None):
        self.buffers, self.device, self.from_ref, self.tensors = buffers, device, from_ref, []
        self.used, self.nodes, self.depth = set(), 0, 0

    def decode(self, node):
        self.nodes, self.depth = self.nodes + 1, self.depth + 1
        try:
            if self.nodes > MAX_NODES or self.depth > MAX_DEPTH:
                raise WireError(f"a value with more than {MAX_NODES:,} parts or {MAX_DEPTH} levels of nesting")
            return self._decode(node)
        finally:
            self.depth -= 1

    def _decode(self, node):
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise WireError("malformed value")
        t = node["t"]
        if t == "v":
            if node["v"] is not None and not isinstance(node["v"], bool | int | float | str):
                raise WireError("malformed scalar")
            return node["v"]
        if t in ("list", "tuple", "gen"):
            items = [self.decode(v) for v in _list(node["v"])]
            return {"list": list, "tuple": tuple, "gen": lambda v: (x for x in v)}[t](items)
        if t == "dict":
            keys = _list(node["k"])
            if any(not isinstance(k, str | int) for k in keys) or len(keys) != len(_list(node["v"])):
                raise WireError("malformed dict")
            return dict(zip(keys, [self.decode(v) for v in node["v"]], strict=True))
        if t == "array":
            return self._array(node).copy()
        if t == "tensor":
            return self._tensor(node)
        if t == "device" and node.get("v") in ("cpu", "cuda"):
            return self.device if node["v"] == self.device.type else torch.device("cpu")
        if t == "dtype" and node.get("v") in DTYPES:
            return getattr(torch, node["v"])
        if t == "rng":
            rng = np.random.Generator(np.random.PCG64())
            try:
                rng.bit_generator.state = node["state"]
            except (TypeError, ValueError, KeyError) as e:
                raise WireError(f"malformed generator state: {e}") from None
            return rng
        if t == "module":
            return self._module(node)
        if t == "ref" and self.from_ref:
            return self.from_ref(Ref(_int(node["id"]), bool(node["callable"]), str(node["type"])[:100]))
        raise WireError(f"unknown kind of value {t!r}")

    def _array(self, node) -> np.ndarray:
        dtype, shape, b = node.get("dtype"), _list(node.get("shape")), _int(node.get("b"))
        if dtype not in DTYPES or any(not isinstance(n, int) or n < 0 for n in shape) or not 0 <= b < len(self.buffers):
            raise WireError("malformed array")
        if b in self.used:  # each array has its own buffer: one buffer read many times would multiply memory
            raise WireError("a buffer used twice")
        self.used.add(b)
        data = self.buffers[b]
        if len(data) != int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize:
            raise WireError("array size does not match its shape")
        return np.frombuffer(data, dtype=dtype).reshape(shape)

    def _tensor(self, node) -> torch.Tensor:
        device = self.device if node.get("device") == self.device.type else torch.device("cpu")
        t = torch.tensor(self._array(node).copy(), device=device)
        if node.get("param"):
            t = torch.nn.Parameter(t, requires_grad=bool(node.get("requires_grad")) and t.is_floating_point())
        elif node.get("requires_grad") and t.is_floating_point():
            t.requires_grad_(True)
        self.tensors.append(t)  # before its gradient, in the order the encoder met them
        if node.get("grad") is not None:
            grad = self.decode(node["grad"])
            if not isinstance(grad, torch.Tensor) or grad.shape != t.shape:
                raise WireError("malformed gradient")
            t.grad = grad.to(t.dtype)
        return t

    def _module(self, node) -> torch.nn.Module:
        cls, init = node.get("cls"), node.get("init")
        if cls not in MODULES or not isinstance(init, dict) or set(init) != set(MODULES[cls]):
            raise WireError("malformed module")
        if any(v is not None and not isinstance(v, bool | int | str) for v in init.values()):
            raise WireError("malformed module sizes")
        layers = init.get("num_layers", 1)
        if any(isinstance(v, int) and not 0 <= v <= MAX_SIZE for v in init.values()) or \
                not isinstance(layers, int) or layers > MAX_LAYERS:
            raise WireError(f"torch.nn.{cls} with sizes beyond {MAX_SIZE:,} or more than {MAX_LAYERS} layers")
        try:  # on the meta device: no memory until the weights that came with it are checked against its sizes
            module = getattr(torch.nn, cls)(**init, device="meta")
        except Exception as e:  # sizes that torch refuses
            raise WireError(f"cannot build torch.nn.{cls}: {e}") from None
        if not isinstance(node.get("params"), dict):
            raise WireError("malformed module weights")
        params = {name: self.decode(value) for name, value in node["params"].items()}
        names = dict(module.named_parameters())
        if set(params) != set(names) or any(params[k].shape != names[k].shape for k in names):
            raise WireError(f"torch.nn.{cls}'s weights do not match its sizes")
        for name, value in params.items():  # the decoded Parameters become the module's own
            owner, _, leaf = name.rpartition(".")
            setattr(module.get_submodule(owner) if owner else module, leaf, value)
        return module


def _list(x) -> list:
    if not isinstance(x, list):
        raise WireError("malformed list")
    return x


def _int(x) -> int:
    if not isinstance(x, int) or isinstance(x, bool):
        raise WireError("malformed number")
    return x


# --- messages ------------------------------------------------------------------------------------


def send(fd: int, header: dict, buffers: list = ()) -> None:
    """Write one message: lengths, the JSON header, then each buffer."""
    head = json.dumps(header).encode()
    parts = [struct.pack("<QQ", len(head), len(buffers)), head]
    for b in buffers:
        parts += [struct.pack("<Q", len(b)), b]
    data = b"".join(parts)
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def receive(fd: int, deadline: float | None = None) -> tuple[dict, list]:
    """Read one message; TimeoutError after `deadline` (time.monotonic()), EOFError when the writer is gone."""
    n_head, n_buf = struct.unpack("<QQ", _read(fd, 16, deadline))
    if n_head > MAX_HEADER or n_buf > 100_000:
        raise WireError("message too large")
    try:
        header = json.loads(_read(fd, n_head, deadline))
    except ValueError:
        raise WireError("malformed message") from None
    buffers, total = [], n_head
    for _ in range(n_buf):
        (size,) = struct.unpack("<Q", _read(fd, 8, deadline))
        total += size
        if total > MAX_MESSAGE:
            raise WireError(f"a message larger than {MAX_MESSAGE // 2**20} MB")
        buffers.append(_read(fd, size, deadline))
    if not isinstance(header, dict):
        raise WireError("malformed message")
    return header, buffers


def _read(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, left = [], n
    while left:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(left, 2**20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
