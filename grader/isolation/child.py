"""The sandbox's side: runs the learner's cells and answers the grader's requests about what they define.

Started by grader.isolation.sandbox as `python -P -s -B -m grader.isolation.child CONFIG` (no working folder,
no user site, an environment built from scratch: no PYTHON* variable from the grader's), inside bubblewrap
where it is available. Before it imports anything outside the standard library it caps its processes, and
confines itself with Landlock; only then does it load numpy, torch and the course's helpers. The notebook's
cells arrive over the pipe as text: no file of the submission is ever on disk here, nor on an import path.

`from grader.checks... import check_x` in a notebook's cells gets a stand-in that does nothing: the checks
run in the grader's process, and their references are not readable here.
"""

import builtins
import contextlib
import importlib.abc
import importlib.machinery
import io
import json
import linecache
import os
import resource
import select
import signal
import socket
import sys
import traceback
import types

OUTPUT_KEPT = 20_000


class _Capped(io.TextIOBase):
    """sys.stdout and sys.stderr in the child: keeps the first OUTPUT_KEPT characters and counts the rest."""

    def __init__(self):
        self.kept, self.count = [], 0

    def write(self, s):
        if self.count < OUTPUT_KEPT:
            self.kept.append(s[: OUTPUT_KEPT - self.count])
        self.count += len(s)
        return len(s)

    def text(self) -> str:
        return "".join(self.kept)


def describe(error: BaseException) -> dict:
    """An exception for the grader: its type, message, and where in the learner's cells it happened."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell ")]
    where = [f"{f.filename[1:-1]}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames]
    if isinstance(error, SyntaxError) and error.filename and error.filename.startswith("<cell "):
        where.append(f"{error.filename[1:-1]}, line {error.lineno}: {(error.text or '').strip()}")
    described = {"type": type(error).__name__, "message": str(error)[:2000], "where": "\n".join(where[-6:])}
    from grader.isolation.tripwire import ReadyMadeModule

    if isinstance(error, ReadyMadeModule):  # rebuilt by the grader, in the learner's language
        described.update(template=error.template, fields=error.fields)
    return described


class StandInChecks(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes `grader.checks` and its modules stand-ins: every name is a check that does nothing here."""

    def find_spec(self, name, path=None, target=None):
        if name == "grader.checks" or name.startswith("grader.checks."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = lambda attr: _stand_in(f"{spec.name}.{attr}")
        return module

    def exec_module(self, module):
        pass


def _stand_in(name: str):
    if name.rpartition(".")[2].startswith("__"):
        raise AttributeError(name)

    def check(*args, **kwargs):
        print(f"({name} runs in the grader's process, not in the notebook's)")

    check.__name__ = check.__qualname__ = name.rpartition(".")[2]
    return check


class _Child:
    """Runs cells in one namespace and answers the grader's requests about the objects they define."""

    def __init__(self):
        import torch

        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.objects, self.ids, self.calls = {}, {}, {}
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def ref(self, obj):
        from grader.isolation.wire import Ref

        if id(obj) not in self.ids:
            self.ids[id(obj)] = len(self.objects)
            self.objects[len(self.objects)] = obj
        return Ref(self.ids[id(obj)], callable(obj), type(obj).__name__)

    def encode(self, value):
        from grader.isolation.wire import Encoder

        encoder = Encoder(as_ref=self.ref)
        return encoder.encode(value), encoder

    def answer(self, header: dict, buffers: list) -> tuple[dict, list]:
        op = header["op"]
        if op == "cell":
            return self.cell(header["source"], header["name"]), []
        if op == "lookup":
            if header["name"] not in self.namespace:
                return {"found": False}, []
            node, encoder = self.encode(self.namespace[header["name"]])
            return {"found": True, "value": node}, encoder.buffers
        if op == "getattr":
            value, error, _ = _captured(lambda: getattr(self.objects[header["ref"]], header["name"]))
            return ({"error": error}, []) if error else self.encoded(value)[:2]
        if op == "call":
            return self.call(header, buffers)
        if op == "backward":
            return self.backward(header, buffers)
        raise ValueError(f"unknown request {op!r}")

    def cell(self, source: str, name: str) -> dict:
        filename = f"<cell {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        _, error, out = _captured(lambda: exec(compile(source, filename, "exec"), self.namespace))
        return {"error": error, "output": out.text()[:OUTPUT_KEPT], "printed": out.count}

    def encoded(self, value, also=None) -> tuple[dict, list, list]:
        """The answer carrying `value` (and `also`, the arguments after a call, so that changes made in place
        reach the grader), its buffers, and the tensors met in `value`."""
        try:
            node, encoder = self.encode(value)
            n = len(encoder.tensors)
            after = None if also is None else encoder.encode(also)
        except Exception as e:
            return {"error": {"type": "TypeError", "message": f"the value cannot be checked: {e}", "where": ""}}, [], []
        return {"value": node, "after": after}, encoder.buffers, encoder.tensors[:n]

    def call(self, header: dict, buffers: list) -> tuple[dict, list]:
        import torch

        from grader.isolation.tripwire import Tripwire, spied, traced
        from grader.isolation.wire import Decoder

        decoder = Decoder(buffers, self.device, from_ref=lambda ref: self.objects[ref.id])
        args, kwargs = decoder.decode(header["args"]), decoder.decode(header["kwargs"])
        inputs = [t for t in decoder.tensors if t.requires_grad]
        fn = self.objects[header["ref"]]
        checked = bool(header.get("tripwire"))  # a check's call: tripwire, and anomaly mode for a failed backward
        guard = Tripwire(header["tripwire"]) if checked else contextlib.nullcontext()
        trace = traced() if checked else contextlib.nullcontext()
        called, spy = spied(fn, kwargs, header["spy"]) if isinstance(header.get("spy"), str) else (kwargs, None)

        def compute():
            with torch.set_grad_enabled(header["grad_enabled"]), guard, trace:
                return fn(*args, **called)

        value, error, _ = _captured(compute)
        if error:
            return {"error": error}, []
        answer, data, tensors = self.encoded(value, also=[args, kwargs, decoder.tensors])
        answer["products"] = getattr(guard, "products", None)
        answer["spied"] = None if spy is None else spy.calls
        answer["same_as"] = next((i for i, a in enumerate(args) if a is value), None)
        outputs = [t for t in tensors if t.requires_grad]
        if outputs and inputs:
            answer["call"] = len(self.calls)
            self.calls[len(self.calls)] = (outputs, inputs)
        return answer, data

    def backward(self, header: dict, buffers: list) -> tuple[dict, list]:
        import torch

        from grader.isolation.tripwire import backward_with_line
        from grader.isolation.wire import Decoder

        outputs, inputs = self.calls[header["call"]]
        grads = Decoder(buffers, self.device).decode(header["grads"])

        def gradients():
            return list(torch.autograd.grad(outputs, inputs, grads, allow_unused=True, retain_graph=True))

        value, error, _ = _captured(lambda: backward_with_line(gradients, _cell_name))
        if error:
            return {"error": error}, []
        found, failed = value
        if failed:  # autograd's error, with the line of the forward call anomaly mode names
            error = describe(failed[0])
            error["where"] = error["where"] or failed[1]
            return {"error": error}, []
        return self.encoded(found)[:2]


def _cell_name(filename: str) -> str | None:
    """'cell lstm_cell' for a frame of the learner's cell of that name, None for any other frame."""
    return filename[1:-1] if filename.startswith("<cell ") else None


def _captured(compute) -> tuple:
    """Run learner code with its printing captured (capped): (value, None, output) or (None, error, output).
    SystemExit and KeyboardInterrupt count as errors too: the learner's code failed, the sandbox goes on."""
    out = _Capped()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            return compute(), None, out
        except BaseException as e:
            return None, describe(e), out


def main(config: dict) -> None:
    """The template: cap its processes, confine itself (without bubblewrap), load the libraries once, then fork
    one sandbox per request from the grader, until the grader closes the control socket."""
    from grader.isolation import namespaces

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    namespaces.adopt_orphans()  # the fallback: what a sandbox detaches stays in this tree (bubblewrap: in its own)
    signal.signal(signal.SIGTERM, lambda *_: _end())  # the grader died (PR_SET_PDEATHSIG)
    if config["tasks"]:  # processes and threads; the kernel counts them per user namespace (bubblewrap's)
        resource.setrlimit(resource.RLIMIT_NPROC, (config["tasks"], config["tasks"]))
    if config["landlock"] and not config["private"]:  # the fallback: a first layer for the template and its forks
        from grader.isolation.landlock import confine

        confine(read=config["read"], write=config["write"])
    sys.meta_path.insert(0, StandInChecks())

    import numpy  # noqa: F401  (what the notebooks import, loaded once before any sandbox is forked)
    import torch  # noqa: F401
    import torch._dynamo  # noqa: F401  (torch.optim's first optimizer imports it: 0.9 s in every sandbox otherwise)

    import grader.tolerance  # noqa: F401
    import rnncourse  # noqa: F401
    import rnncourse.language  # noqa: F401
    import rnncourse.speed  # noqa: F401
    import rnncourse.train  # noqa: F401

    namespaces.not_dumpable()
    control = socket.socket(fileno=config["control"])
    control.send(json.dumps({"ready": True}).encode())
    while True:
        ready, _, _ = select.select([control], [], [], 0.05)
        _report_exits(control)
        if not ready:
            continue
        data, fds, _, _ = socket.recv_fds(control, 2**16, 3)
        if not data:
            _end()  # the grader is gone
        pid = os.fork()
        if pid == 0:
            _sandbox(config, json.loads(data), fds, control)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"forked": pid}).encode())


def _end() -> None:
    """Kill every process below the template, then exit: the sandboxes would die with it anyway
    (PR_SET_PDEATHSIG), what they detached would not."""
    from grader.isolation import family

    family.kill(lambda: family.tree(os.getpid())[1:])
    os._exit(0)


def _report_exits(control) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send(json.dumps({"exited": pid, "code": os.waitstatus_to_exitcode(status)}).encode())


def _sandbox(config: dict, request: dict, fds: list, control) -> None:
    """In a fork of the template. Where bubblewrap runs: new namespaces, whose first process mounts a fresh /tmp
    and /dev/shm and waits, as bubblewrap's own first process does, for the submission's process, which drops
    every capability. That process (the only one without bubblewrap) takes its own session and Landlock layer
    (which also keeps it from signalling the processes above it) and prints to the grader's pipe. Each process
    of the chain exits as the one below it did (128 + n when a signal ended it)."""
    from grader.isolation import namespaces
    from grader.isolation.landlock import confine

    try:
        control.close()
        namespaces.die_with_parent()
        if config["private"]:
            namespaces.unshare()
            _wait_for(os.fork(), fds)  # outside the new namespaces
            namespaces.die_with_parent()  # the first process of the new ones: when it ends, they all end
            namespaces.private_tmp(config["tmp_bytes"], config["read"])
            _wait_for(os.fork(), fds)
            namespaces.drop_capabilities()
        os.setsid()
        os.chdir(request["workdir"])
        os.environ.update(request["env"])
        read_fd, write_fd, out_fd = fds
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.dup2(read_fd, 3)
        os.dup2(write_fd, 4)
        os.closerange(5, 2**16)
        if config["landlock"]:
            own = [] if config["private"] else [f"/proc/{os.getpid()}"]  # the fallback: its own entry only
            confine(read=request["read"] + own, write=request["write"])
    except BaseException:
        os._exit(70)
    serve(3, 4)
    os._exit(0)


def _wait_for(pid: int, fds: list) -> None:
    """In the parent (pid > 0): close the sandbox's pipes, reap every child until `pid` ends, exit as it did.
    In the child (pid 0): return."""
    if pid == 0:
        return
    for fd in fds:
        os.close(fd)
    while True:
        try:
            ended, status = os.wait()
        except ChildProcessError:
            os._exit(70)
        if ended == pid:
            code = os.waitstatus_to_exitcode(status)
            os._exit(128 - code if code < 0 else code)


def serve(read_fd: int, write_fd: int) -> None:
    """Answer the grader's requests until it closes the pipe."""
    from grader.isolation import wire

    child = _Child()
    wire.send(write_fd, {"ready": True})
    while True:
        try:
            header, buffers = wire.receive(read_fd)
        except EOFError:
            return
        answer, data = child.answer(header, buffers)
        wire.send(write_fd, answer, data)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
