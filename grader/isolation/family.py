"""A process and everything below it, found in /proc; stopped, then killed, together.

Standard library only: the template (child.py) uses it too, confined before it may import anything else.
"""

import contextlib
import os
import signal
from collections.abc import Callable


def tree(root: int) -> list[int]:
    """`root` and every process descended from it, from /proc. Inside bubblewrap that is the whole sandbox:
    a process that detaches (setsid, double fork) is adopted by the namespace's first process; in the fallback,
    by the template (namespaces.adopt_orphans), not by init."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def kill(find: Callable[[], list[int]]) -> None:
    """SIGSTOP every process `find` lists until a new look finds none it has not stopped, then SIGKILL them all:
    a stopped process cannot fork, so none escapes between the list and the kill."""
    stopped = set()
    for _ in range(100):
        if not (new := set(find()) - stopped):
            break
        for pid in new:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= new
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
