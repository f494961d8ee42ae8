"""The grader's handle on the process a submission runs in (grader.isolation.child), and its limits.

Two walls, where the machine allows both:
1. bubblewrap (Debian's `bubblewrap`, the sandbox under Flatpak) starts the child in new user, process,
   mount, IPC, network, UTS and cgroup namespaces, with read-only binds of exactly the paths of view.py,
   its own /proc, private size-capped /tmp and /dev/shm that vanish with it, and --die-with-parent: when
   the grader dies, even by kill -9, every process of the sandbox dies with it.
2. Landlock, which the child applies to itself before it imports anything outside the standard library.
Where bubblewrap cannot start (no user namespaces), the child runs with Landlock alone in a temporary folder
(mode "landlock"; weaker, see the README); where neither exists, the mode is "off" and the summary says so.

Limits, and what happens when a submission reaches them (each a SandboxFailure, a BaseException, so that no
`except Exception` in a check can swallow it):
- time: every request has a deadline, the cell's limit or the submission's budget, whichever comes first;
- memory: the resident memory of every process of the sandbox plus its /tmp and /dev/shm is watched;
- processes and threads: counted the same way (and capped by the kernel per user namespace);
- the child dying (os._exit, a segfault, a kill) ends the request with Crashed.
"""

import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.i18n import tr
from grader.isolation import family, namespaces, view, wire
from grader.isolation.family import tree

START_SECONDS = 120
TEMPLATE_TASKS = 16  # the template's own threads and each sandbox's waiting first process, under RLIMIT_NPROC
WATCH_SECONDS = 0.05


def cold() -> bool:
    """RNN_COURSE_COLD_START=1: every sandbox from a new template, as the grader did before there was one (the
    bench's baseline)."""
    return os.environ.get("RNN_COURSE_COLD_START") == "1"


@dataclass(frozen=True)
class Limits:
    """Per-submission limits: seconds per cell (and per test cell), seconds for the whole notebook-submission
    (all cells, tests and restarts), memory, processes and threads, and restarts after a crash."""

    cell_seconds: float = 120.0
    submission_seconds: float = 600.0
    memory_bytes: int = 4 * 2**30
    tasks: int = 64 + 4 * (os.cpu_count() or 1)
    restarts: int = 3


DEFAULT_LIMITS = Limits()


class SandboxFailure(BaseException):  # noqa: N818 (these are outcomes, not program errors)
    """The sandboxed process could not finish a request; the message says why in plain words."""


class TimeLimit(SandboxFailure):
    pass


class MemoryLimit(SandboxFailure):
    pass


class TaskLimit(SandboxFailure):
    pass


class Crashed(SandboxFailure):
    pass


@functools.cache
def mode() -> str:
    """'bubblewrap', 'landlock' or 'off': the strongest isolation this machine gives. RNN_COURSE_SANDBOX=landlock
    asks for the fallback (the tests grade in both modes)."""
    from grader.isolation import landlock

    wanted = os.environ.get("RNN_COURSE_SANDBOX", "")
    if wanted != "landlock" and shutil.which("bwrap"):
        probe = subprocess.run(["bwrap", *view.bwrap_arguments(2**20), "/bin/true"], capture_output=True)
        if probe.returncode == 0:
            return "bubblewrap"
        if wanted == "bubblewrap":
            raise OSError(f"bubblewrap cannot start here: {probe.stderr.decode()[:300]}")
    return "landlock" if landlock.available() else "off"


def describe_mode(name: str) -> str:
    return {"bubblewrap": "on (bubblewrap namespaces and Landlock: the notebooks see no solutions, hidden tests, "
                          "gradebook or other process, and die with the grader)",
            "landlock": "on, Landlock only (bubblewrap cannot start here: see the README for what that leaves out)",
            "off": "OFF: this kernel has neither user namespaces nor Landlock; submissions can read files"}[name]


class Template:
    """The process every sandbox of this grader process is forked from, started once (and again if it dies): inside
    bubblewrap where it runs, it has loaded numpy, torch and the course's helpers, so that a sandbox starts in
    milliseconds instead of seconds. It never runs a submission's code; each fork takes its own namespaces, /tmp,
    Landlock layer and no capabilities before it does (grader.isolation.child, namespaces.py)."""

    current: "Template | None" = None

    def __init__(self, limits: Limits, threads: int | None):
        began = time.perf_counter()
        self.key, self.mode = (limits.memory_bytes, limits.tasks, threads), mode()
        private = self.mode == "bubblewrap"
        self.root = "/tmp" if private else tempfile.mkdtemp(prefix="rnn-sandbox-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/bin:/bin", "HOME": self.root, "USER": "learner", "LANG": "C.UTF-8",
               "MPLCONFIGDIR": self.root, "XDG_CACHE_HOME": self.root, "MPLBACKEND": "Agg",
               "NBGRADER_EXECUTION": "autograde", "PYTHONHASHSEED": "0", "PYTORCH_NVML_BASED_CUDA_CHECK": "1",
               "RNN_COURSE_DEVICE": os.environ.get("RNN_COURSE_DEVICE", "")}
        if threads:
            env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
        read, write = view.landlock_rules(private, self.root)
        config = {"control": theirs.fileno(), "landlock": self.mode != "off", "private": private,
                  "read": read + ([] if private else ["/proc"]), "write": write, "tmp_bytes": limits.memory_bytes,
                  "tasks": limits.tasks + TEMPLATE_TASKS if private else 0}
        command = [sys.executable, "-P", "-s", "-B", "-m", "grader.isolation.child", json.dumps(config)]
        if private:
            env_args = [a for k, v in env.items() for a in ("--setenv", k, v)]
            command = ["bwrap", *view.bwrap_arguments(limits.memory_bytes), "--cap-add", "CAP_SYS_ADMIN", *env_args,
                       *command]
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.root,
            env=env, pass_fds=(theirs.fileno(),), start_new_session=True,
            preexec_fn=functools.partial(die_with_parent, signal.SIGTERM))  # it kills its tree, then exits
        theirs.close()
        self.control, self.exits, self.lock = ours, {}, threading.Condition()
        self.tail, self.forked = b"", []
        threading.Thread(target=self._drain, daemon=True).start()
        ours.settimeout(START_SECONDS)
        try:
            ready = ours.recv(2**16)
        except OSError:
            ready = b""
        if not ready:
            self.close()
            time.sleep(0.1)
            raise self._no_start()
        ours.settimeout(None)
        threading.Thread(target=self._listen, daemon=True).start()
        self.level = 2 if private else 1  # the template's process namespace: bubblewrap's, or the grader's
        self.seconds, self.charged = time.perf_counter() - began, False  # its start, charged to its first sandbox

    @classmethod
    def get(cls, limits: Limits, threads: int | None) -> "Template":
        """This process's template for these limits, started when there is none or it died."""
        template = cls.current
        if template is None or template.key != (limits.memory_bytes, limits.tasks, threads) or \
                template.mode != mode() or template.process.poll() is not None:
            if template is not None:
                template.close()
            cls.current = template = Template(limits, threads)
        return template

    def fork(self, workdir: str, fds: list) -> "Forked":
        """A new sandbox's process, given the ends of its pipes (request in, answers out, its own output)."""
        read, write = view.landlock_rules(self.mode == "bubblewrap", workdir)
        request = {"workdir": workdir, "read": read, "write": write,
                   "env": {"HOME": workdir, "MPLCONFIGDIR": workdir, "XDG_CACHE_HOME": workdir}}
        with self.lock:
            self.forked.clear()
            socket.send_fds(self.control, [json.dumps(request).encode()], fds)
            if not self.lock.wait_for(lambda: self.forked or self.process.poll() is not None, timeout=START_SECONDS) \
                    or not self.forked:
                raise self._no_start()
            pid = self.forked[0]
        return Forked(self, pid, self._host_pid(pid))

    def _no_start(self) -> "Crashed":
        return Crashed(tr("the Python process running the notebook could not start; it printed: {tail}",
                          tail=self.tail.decode(errors="replace")[-600:]))

    def _host_pid(self, pid: int) -> int:
        """The grader's number for the template's child `pid` (the same outside bubblewrap)."""
        for candidate in tree(self.process.pid):
            ids = _nspids(candidate)
            if len(ids) == self.level and ids[-1] == pid:
                return candidate
        return -1  # it has already exited

    def _listen(self) -> None:
        while True:
            try:
                data = self.control.recv(2**16)
            except OSError:
                data = b""
            with self.lock:
                if not data:
                    self.lock.notify_all()
                    return
                message = json.loads(data)
                if "forked" in message:  # its number may be an earlier process's, whose exit is then forgotten
                    self.forked.append(message["forked"])
                    self.exits.pop(message["forked"], None)
                else:
                    self.exits[message["exited"]] = message["code"]
                self.lock.notify_all()

    def _drain(self) -> None:
        while chunk := self.process.stdout.read1(2**16):
            self.tail = (self.tail + chunk)[-2000:]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.control.close()
        family.kill(lambda: tree(self.process.pid))
        self.process.wait()
        if self.mode != "bubblewrap":
            shutil.rmtree(self.root, ignore_errors=True)
        if Template.current is self:
            Template.current = None


class Forked:
    """A sandbox's first process, forked by the template: what subprocess.Popen offers, for that process."""

    def __init__(self, template: Template, pid: int, host_pid: int):
        self.template, self.ns_pid, self.pid = template, pid, host_pid

    def _ended(self) -> bool:
        return self.ns_pid in self.template.exits or self.template.process.poll() is not None

    def poll(self) -> int | None:
        with self.template.lock:
            return self.template.exits.get(self.ns_pid, -signal.SIGKILL) if self._ended() else None

    def wait(self) -> int:
        with self.template.lock:
            self.template.lock.wait_for(self._ended, timeout=START_SECONDS)
            return self.template.exits.get(self.ns_pid, -signal.SIGKILL)


def _nspids(pid: int) -> list[int]:
    """A process's number in each process namespace it is in, outermost first (from /proc/PID/status)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return [int(n) for n in line.split()[1:]]
    except (OSError, ValueError):
        pass
    return []


class Sandbox:
    """One isolated process for one submission, forked from the template. `deadline` (time.monotonic()) bounds
    every request."""

    live: set = set()  # this process's open sandboxes, for close_all()

    def __init__(self, limits: Limits, threads: int | None = None, deadline: float | None = None):
        self.limits, self.mode = limits, mode()
        self.deadline = min(time.monotonic() + max(START_SECONDS, limits.cell_seconds), deadline or float("inf"))
        template = Template.get(limits, threads)
        self.libraries_seconds = 0.0 if template.charged else template.seconds  # its template's start, if new
        template.charged, began = True, time.perf_counter()
        self.workdir = "/tmp" if self.mode == "bubblewrap" else tempfile.mkdtemp(dir=template.root)
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        output, child_prints = os.pipe()
        try:
            self.process = template.fork(self.workdir, [child_reads, child_writes, child_prints])
        finally:
            for fd in (child_reads, child_writes, child_prints):
                os.close(fd)
        Sandbox.live.add(self)
        self._out, self._in, self.output = parent_writes, parent_reads, os.fdopen(output, "rb")
        self.printed, self.tail, self.killed_for, self.peak = 0, b"", None, 0
        threading.Thread(target=self._drain, daemon=True).start()
        threading.Thread(target=self._watch, daemon=True).start()
        try:
            self.receive()
            self.start_seconds = time.perf_counter() - began
        except Crashed as e:  # the course's own start-up failed: say what it printed
            time.sleep(0.1)
            raise Crashed(f"{e}; it printed: {self.tail.decode(errors='replace')[-600:]}") from None

    def request(self, header: dict, buffers: list = ()) -> tuple[dict, list]:
        """Send one request and wait for its answer, until the deadline."""
        try:
            wire.send(self._out, header, list(buffers))
        except OSError:
            raise self._death() from None
        return self.receive()

    def receive(self) -> tuple[dict, list]:
        try:
            return wire.receive(self._in, self.deadline)
        except TimeoutError:
            self.close()
            raise TimeLimit(tr("it ran longer than the time limit of {cell_seconds:g} s",
                               cell_seconds=self.limits.cell_seconds)) from None
        except (EOFError, OSError):
            raise self._death() from None
        except wire.WireError as e:
            self.close()
            raise Crashed(tr("the notebook's process sent malformed data back ({e})", e=e)) from None

    def _death(self) -> SandboxFailure:
        code = self.process.wait()
        self.close()
        if self.killed_for:
            return self.killed_for
        if code > 128:  # the sandbox's first process reports its child's death by a signal as 128 + n
            code = -(code - 128)
        if code < 0:
            name = signal.Signals(-code).name
            what = {"SIGSEGV": tr("a segmentation fault"), "SIGKILL": tr("it was killed"), "SIGABRT": tr("an abort")}
            return Crashed(tr("the Python process running the notebook died ({name}, signal {name2})",
                              name=what.get(name, name), name2=name))
        return Crashed(tr("the Python process running the notebook exited (exit code {code}: os._exit or a "
                          "crash)", code=code))

    def _drain(self) -> None:
        """Read what the child writes to its file descriptors 1 and 2 directly, so it never blocks; count it."""
        while chunk := self.output.read1(2**16):
            self.printed += len(chunk)
            self.tail = (self.tail + chunk)[-2000:]

    def _watch(self) -> None:
        """Kill the whole sandbox when its processes together pass the memory or the process limit."""
        while self.process.poll() is None:
            memory, tasks = usage(self._submission())
            self.peak = max(self.peak, memory)
            if memory > self.limits.memory_bytes:
                self.killed_for = MemoryLimit(tr("it used more than the memory limit of {memory_bytes:g} GiB "
                                                 "(all its processes, /tmp and /dev/shm together)",
                                                 memory_bytes=self.limits.memory_bytes / 2**30))
            elif tasks > self.limits.tasks:
                self.killed_for = TaskLimit(tr("it ran more than {tasks} processes and threads at once",
                                               tasks=self.limits.tasks))
            if self.killed_for:
                self._kill()
                return
            time.sleep(WATCH_SECONDS)

    def _submission(self) -> list[int]:
        """The submission's processes. In bubblewrap: the sandbox's tree without the two that wait in it above the
        submission's (forks of the template holding only its pages, which the submission's own count already).
        In the fallback: the template's tree without the template and its other sandboxes, which holds what this
        sandbox detached (setsid, a double fork): the template adopts it (namespaces.adopt_orphans), not init."""
        if self.mode != "bubblewrap":
            template = self.process.template.process.pid
            others = {p for s in Sandbox.live - {self} if s.process.template.process.pid == template
                      for p in tree(s.process.pid)}
            return [p for p in tree(template) if p != template and p not in others]
        pids = tree(self.process.pid)
        with contextlib.suppress(OSError, ValueError):
            waiting = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            return [p for p in pids if p != self.process.pid and str(p) not in waiting]
        return pids

    def _kill(self) -> None:
        """Kill every process of the submission (in bubblewrap its namespace dies with its first process)."""
        if self.process.pid > 0:
            family.kill(lambda: tree(self.process.pid) if self.mode == "bubblewrap" else self._submission())

    def close(self) -> None:
        Sandbox.live.discard(self)
        self._kill()
        self.process.wait()
        if cold() and Template.current is not None:  # a new template, its libraries loaded again, per sandbox
            Template.current.close()
        for fd in (self._out, self._in):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._out = self._in = -1
        if self.mode != "bubblewrap":
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None or self._out != -1:
            self.close()


def usage(pids: list[int]) -> tuple[int, int]:
    """(bytes, tasks): the resident memory of the processes plus what their private /tmp and /dev/shm hold,
    and their number of threads."""
    memory, tasks, mounts = 0, 0, set()
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        memory += int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
        tasks += int(fields.get("Threads", "1"))
        for folder in ("tmp", "dev/shm"):
            with contextlib.suppress(OSError):
                st = os.statvfs(f"/proc/{pid}/root/{folder}")
                mounts.add((st.f_fsid, folder, (st.f_blocks - st.f_bfree) * st.f_frsize))
    host = {os.statvfs(f"/{folder}").f_fsid for folder in ("tmp", "dev/shm") if os.path.exists(f"/{folder}")}
    return memory + sum(used for fsid, _, used in mounts if fsid not in host), tasks


def close_all() -> None:
    """Close every sandbox this process has open, and the template (a worker told to stop, a run that ends)."""
    for sandbox in list(Sandbox.live):
        sandbox.close()
    if Template.current is not None:
        Template.current.close()


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """`sig` to this process when its parent dies (namespaces.die_with_parent); no core dumps."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    namespaces.die_with_parent(sig)
