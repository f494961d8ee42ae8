"""Finding and ending the processes a test's submissions start, by a word in their command line; servers that a
test starts and stops by process id."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest


def processes(word: str) -> list[int]:
    """Processes (other than this one) whose command line contains `word`."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and name != str(os.getpid()):
            with contextlib.suppress(OSError):
                if word.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                    found.append(int(name))
    return found


def kill_all(word: str) -> None:
    for pid in processes(word):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(cmd: list[str], log: Path, probe: str, what: str, whole_group: bool = False, **popen):
    """A server started in a session of its own, its output in `log`; yields the process once `probe` answers
    (the test fails with the log's end if it does not within 60 s). Stopped by its process id at the end: SIGTERM
    to it (whole_group: to its process group, children included), SIGKILL to the group after 30 s."""
    with open(log, "w") as out:
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(probe, timeout=2)
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"{what} did not start:\n{Path(log).read_text()[-3000:]}")
                    time.sleep(0.5)
            yield server
        finally:
            if whole_group:
                os.killpg(server.pid, signal.SIGTERM)
            else:
                server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
