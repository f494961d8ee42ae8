"""The process a submission runs in, and the grader's handle on it.

`Sandbox` starts `python -m grader.sandbox` in an empty working folder, confined by Landlock (see confine.py),
and talks to it over a pair of pipes (see wire.py). The child runs the learner's cells and calls the learner's
functions on request; the grader computes every verdict in its own process from the data that comes back.

Limits, and what happens when a submission reaches them:
- time: every request has a deadline (the cell's time limit); past it the child is killed (TimeLimit);
- memory: the child's resident memory is watched; above the limit it is killed (MemoryLimit);
- output: printing is kept up to OUTPUT_KEPT bytes per cell and counted beyond;
- the child dying (os._exit, a segfault, a kill) ends the request with Crashed.
All three are BaseExceptions, so that no `except Exception` in a check can swallow them.
"""

import builtins
import contextlib
import io
import linecache
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

OUTPUT_KEPT = 20_000
START_SECONDS = 120


@dataclass(frozen=True)
class Limits:
    """Per-submission limits: seconds per cell (and per test cell), resident memory, restarts after a crash."""

    cell_seconds: float = 120.0
    memory_bytes: int = 4 * 2**30
    restarts: int = 3


DEFAULT_LIMITS = Limits()


class SandboxFailure(BaseException):  # noqa: N818 (these are outcomes, not program errors)
    """The sandboxed process could not finish a request; the message says why in plain words."""


class TimeLimit(SandboxFailure):
    pass


class MemoryLimit(SandboxFailure):
    pass


class Crashed(SandboxFailure):
    pass


def _readable_paths() -> list[str]:
    """What the sandbox may read: the system, Python and its packages, and the course's helper code and data.
    Not the repository as a whole, nor any class folder: solutions, hidden tests and gradebooks stay out."""
    from grader.course import REPO

    paths = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", sys.prefix, sys.base_prefix,
             sys.exec_prefix, os.path.realpath(sys.executable)]
    paths += [p for p in sys.path if p and os.path.isdir(p) and Path(p).resolve() != REPO
              and not Path(p).resolve().is_relative_to(REPO)]
    paths += [str(REPO / name) for name in ("rnncourse", "grader", "datasets", ".venv")]
    return sorted(set(paths))


def _device_files() -> list[str]:
    """Device files a Python process needs, and the GPU's where there is one; never disks."""
    fixed = ["/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/shm"]
    return fixed + [str(p) for p in Path("/dev").glob("nvidia*")]


# --- the grader's side ---------------------------------------------------------------------------


class Sandbox:
    """One confined child process for one submission. `deadline` (time.monotonic()) bounds every request."""

    def __init__(self, folder: Path | None, limits: Limits, threads: int | None = None):
        from grader import confine

        self.limits, self.deadline = limits, None
        self.confined = confine.available()
        self.workdir = Path(tempfile.mkdtemp(prefix="rnn-sandbox-"))
        if folder is not None:
            shutil.copytree(folder, self.workdir, dirs_exist_ok=True)
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.workdir),
               "MPLCONFIGDIR": str(self.workdir), "XDG_CACHE_HOME": str(self.workdir), "MPLBACKEND": "Agg",
               "NBGRADER_EXECUTION": "autograde", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
               "RNN_COURSE_DEVICE": os.environ.get("RNN_COURSE_DEVICE", "")}
        if threads:
            env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.sandbox", str(child_reads), str(child_writes)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.workdir,
            env=env, pass_fds=(child_reads, child_writes), start_new_session=True, preexec_fn=_no_core_dumps)
        os.close(child_reads)
        os.close(child_writes)
        self._out, self._in = parent_writes, parent_reads
        self.printed, self.tail, self.memory_killed, self.peak = 0, b"", False, 0
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self._watch_memory, daemon=True).start()
        self.deadline = time.monotonic() + max(START_SECONDS, limits.cell_seconds)
        self.request({"op": "start", "confine": self.confined, "read": _readable_paths(),
                      "write": [str(self.workdir)], "devices": _device_files()})

    def request(self, header: dict, buffers: list = ()) -> tuple[dict, list]:
        """Send one request and wait for its answer, until the deadline."""
        from grader import wire

        try:
            wire.send(self._out, header, list(buffers))
            answer, data = wire.receive(self._in, self.deadline)
        except TimeoutError:
            self.close()
            raise TimeLimit(f"it ran longer than the time limit of {self.limits.cell_seconds:g} s") from None
        except (EOFError, BrokenPipeError, OSError):
            raise self._death() from None
        except wire.WireError as e:
            self.close()
            raise Crashed(f"the notebook's process sent malformed data back ({e})") from None
        return answer, data

    def _death(self) -> SandboxFailure:
        code = self.process.wait()
        self.close()
        if self.memory_killed:
            return MemoryLimit(f"it used more than the memory limit of {self.limits.memory_bytes / 2**30:g} GiB")
        if code < 0:
            name = signal.Signals(-code).name
            what = {"SIGSEGV": "a segmentation fault", "SIGKILL": "it was killed", "SIGABRT": "an abort"}
            return Crashed(f"the Python process running the notebook died ({what.get(name, name)}, signal {name})")
        return Crashed(f"the Python process running the notebook exited (exit code {code}: os._exit or a crash)")

    def _drain(self) -> None:
        """Read what the child writes to its file descriptors 1 and 2 directly, so it never blocks; count it."""
        while chunk := self.process.stdout.read1(2**16):
            self.printed += len(chunk)
            self.tail = (self.tail + chunk)[-2000:]

    def _watch_memory(self) -> None:
        status = Path(f"/proc/{self.process.pid}/status")
        while self.process.poll() is None:
            try:
                rss = next(int(line.split()[1]) * 1024 for line in status.read_text().splitlines()
                           if line.startswith("VmRSS:"))
            except (OSError, StopIteration, ValueError):
                return
            if rss > self.limits.memory_bytes:
                self.memory_killed = True
                self._kill()
                return
            time.sleep(0.05)

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def peak_bytes(self) -> int:
        """The child's peak resident memory so far (VmHWM), 0 once it has ended."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0)

    def close(self) -> None:
        self.peak = max(self.peak, self.peak_bytes())
        self._kill()
        self.process.wait()
        for fd in (self._out, self._in):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._out = self._in = -1
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None or self._out != -1:
            self.close()


def _no_core_dumps() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# --- the child's side ----------------------------------------------------------------------------


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
    return {"type": type(error).__name__, "message": str(error)[:2000], "where": "\n".join(where[-6:])}


class _Child:
    """Runs cells in one namespace and answers the grader's requests about the objects they define."""

    def __init__(self):
        import torch

        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.objects, self.ids, self.calls = {}, {}, {}
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def ref(self, obj):
        from grader.wire import Ref

        if id(obj) not in self.ids:
            self.ids[id(obj)] = len(self.objects)
            self.objects[len(self.objects)] = obj
        return Ref(self.ids[id(obj)], callable(obj), type(obj).__name__)

    def encode(self, value):
        from grader.wire import Encoder

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
        return {"error": error, "output": out.text(), "printed": out.count}

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

        from grader.checks import _Tripwire
        from grader.wire import Decoder

        decoder = Decoder(buffers, self.device, from_ref=lambda ref: self.objects[ref.id])
        args, kwargs = decoder.decode(header["args"]), decoder.decode(header["kwargs"])
        inputs = [t for t in decoder.tensors if t.requires_grad]
        fn = self.objects[header["ref"]]
        guard = _Tripwire(header["tripwire"]) if header.get("tripwire") else contextlib.nullcontext()

        def compute():
            with torch.set_grad_enabled(header["grad_enabled"]), guard:
                return fn(*args, **kwargs)

        value, error, _ = _captured(compute)
        if error:
            return {"error": error}, []
        answer, data, tensors = self.encoded(value, also=[args, kwargs, decoder.tensors])
        answer["products"] = getattr(guard, "products", None)
        answer["same_as"] = next((i for i, a in enumerate(args) if a is value), None)
        outputs = [t for t in tensors if t.requires_grad]
        if outputs and inputs:
            answer["call"] = len(self.calls)
            self.calls[len(self.calls)] = (outputs, inputs)
        return answer, data

    def backward(self, header: dict, buffers: list) -> tuple[dict, list]:
        import torch

        from grader.wire import Decoder

        outputs, inputs = self.calls[header["call"]]
        grads = Decoder(buffers, self.device).decode(header["grads"])
        found, error, _ = _captured(
            lambda: list(torch.autograd.grad(outputs, inputs, grads, allow_unused=True, retain_graph=True)))
        return ({"error": error}, []) if error else self.encoded(found)[:2]


def _captured(compute) -> tuple:
    """Run learner code with its printing captured (capped): (value, None, output) or (None, error, output).
    SystemExit and KeyboardInterrupt count as errors too: the learner's code failed, the sandbox goes on."""
    out = _Capped()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            return compute(), None, out
        except BaseException as e:
            return None, describe(e), out


def main(read_fd: int, write_fd: int) -> None:
    from grader import wire

    header, _ = wire.receive(read_fd)
    import numpy  # noqa: F401  (everything a notebook imports, loaded before the file system closes)
    import torch  # noqa: F401

    import grader.checks.bilstm  # noqa: F401
    import grader.checks.gradients  # noqa: F401
    import grader.checks.gru  # noqa: F401
    import grader.checks.lstm  # noqa: F401
    import grader.checks.rnn  # noqa: F401
    import grader.checks.speed  # noqa: F401
    import rnncourse  # noqa: F401
    import rnncourse.language  # noqa: F401
    import rnncourse.speed  # noqa: F401
    import rnncourse.train  # noqa: F401

    if header["confine"]:
        from grader.confine import confine

        confine(read=header["read"], write=header["write"] + header["devices"])
    child = _Child()
    wire.send(write_fd, {"ready": True})
    while True:
        header, buffers = wire.receive(read_fd)
        answer, data = child.answer(header, buffers)
        wire.send(write_fd, answer, data)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
