"""A forked sandbox's own walls inside the template's bubblewrap: Linux namespaces and capabilities through libc.

bubblewrap gives the template (grader.isolation.child) its user, network, UTS and cgroup namespaces and the
read-only view; the template keeps CAP_SYS_ADMIN in that user namespace only so that each sandbox it forks can
take new mount, IPC and process namespaces, its own /tmp and /dev/shm, and then drop every capability before
anything of the submission runs.
"""

import ctypes
import os
import signal

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x08000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x1, 0x2, 0x4, 0x20, 0x1000, 0x4000, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 1, 4, 47, 4
PR_SET_CHILD_SUBREAPER = 36
_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def unshare() -> None:
    """New mount, IPC and process namespaces: this process's next child is the first process of its own."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID), "unshare")


def private_tmp(size: int, view: list[str]) -> bool:
    """Fresh size-capped /tmp and /dev/shm, with the paths of the view that lie under /tmp (a course checked out
    there) bound again, read-only; and a /proc of this process namespace where the kernel allows one (it refuses
    when bubblewrap, run as root, covers parts of its own /proc: bubblewrap's /proc then stays, showing the
    sandbox's helper processes above it, which are not dumpable). Returns whether /proc is new."""
    _check(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    under_tmp = [p for p in view if p.startswith("/tmp/")]
    held = "/dev/shm/.view"  # the old /tmp, held here while the new one is mounted
    if under_tmp:
        os.makedirs(held, exist_ok=True)
        _check(_libc.mount(b"/tmp", held.encode(), None, MS_BIND | MS_REC, None), "mount --rbind /tmp")
    _tmpfs(b"/tmp", size)
    for path in under_tmp:
        if os.path.isdir(held + path[4:]):
            os.makedirs(path, exist_ok=True)
        else:  # a file: its folder, and an empty file to bind it on
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").close()
        _check(_libc.mount((held + path[4:]).encode(), path.encode(), None, MS_BIND | MS_REC, None), f"bind {path}")
        _check(_libc.mount(None, path.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, None),
               f"remount {path} read-only")
    if under_tmp:
        _check(_libc.umount2(held.encode(), MNT_DETACH), "umount the old /tmp")
    _tmpfs(b"/dev/shm", size)
    return _libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV, None) == 0


def _tmpfs(path: bytes, size: int) -> None:
    _check(_libc.mount(b"tmpfs", path, b"tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777".encode()),
           f"mount tmpfs {path.decode()}")


def drop_capabilities() -> None:
    """No capability left, ambient, effective, permitted or inheritable."""
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(CAP_AMBIENT_CLEAR_ALL)")
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(_CapHeader(_CAPABILITY_VERSION_3, 0)), data), "capset")


def not_dumpable() -> None:
    """No ptrace and no /proc/PID/mem of this process (and its forks) for processes of the same user."""
    _check(_libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(DUMPABLE)")


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """The kernel sends `sig` to this process when its parent dies."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0), "prctl(PDEATHSIG)")


def adopt_orphans() -> None:
    """Become the parent of every process a descendant detaches (setsid, a double fork) instead of init, so that
    the grader still finds it in this process's tree (PR_SET_CHILD_SUBREAPER)."""
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(CHILD_SUBREAPER)")
