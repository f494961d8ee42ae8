"""What a submission's sandbox sees: one list of paths, from which both walls are built.

Readable: the system's libraries and programs, a few files of /etc that programs need to start (no
passwords, no keys), Python and its packages, the course's helpers (rnncourse/, datasets/) and the part of
grader/ that runs in the sandbox (grader/isolation/, tolerance.py, device.py, i18n.py but not the message
catalogues, which hold the checks' mistakes in Korean). Not the checks (their
references and catalogue of mistakes), not solutions/, not any class folder, not other processes. The list
is fixed by where the course and Python are installed; the grader's working folder and sys.path play no part.
"""

import site
import sys
from pathlib import Path

from grader.course import GraderError

REPO = Path(__file__).resolve().parents[2]
COURSE = [REPO / "rnncourse", REPO / "datasets", REPO / "grader" / "__init__.py", REPO / "grader" / "device.py",
          REPO / "grader" / "i18n.py", REPO / "grader" / "tolerance.py", REPO / "grader" / "isolation"]
SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
ETC = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/fonts",
       "/etc/alternatives", "/etc/nsswitch.conf", "/etc/host.conf"]
SYS = ["/sys/devices/system/cpu", "/sys/devices/system/node"]  # torch reads the CPU's topology here
PROC = ["/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/filesystems", "/proc/sys/kernel", "/proc/sys/vm"]
"""What the fallback may read of the host's /proc besides its own entry: never another process's."""
DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]


class ViewError(GraderError):
    """The sandbox cannot be built without showing the course's secrets; the message says why."""


def python() -> list[str]:
    """The interpreter's prefixes and package folders (a virtual environment and the Python it is made from)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *site.getsitepackages()}
    paths = sorted({str(Path(p).resolve()) for p in paths if Path(p).is_dir()})
    for p in paths:
        if REPO.is_relative_to(p) and p not in SYSTEM:
            raise ViewError(f"Python's folder {p} contains the course ({REPO}), so the sandbox would see solutions/; "
                            "install the course's packages in a virtual environment (README: set-up)")
    return [p for p in paths if not any(Path(p).is_relative_to(s) for s in SYSTEM)]


def gpu_devices() -> list[str]:
    return sorted(str(p) for p in Path("/dev").glob("nvidia*"))


def readable() -> list[str]:
    """Everything the sandbox may read, as host paths (those that exist)."""
    paths = SYSTEM + ETC + SYS + python() + [str(p) for p in COURSE]
    if gpu_devices():  # the CUDA driver reads the GPU's entries under /sys and /proc/driver/nvidia
        paths += ["/sys"]
    return [p for p in paths if Path(p).exists()]


def bwrap_arguments(tmp_bytes: int) -> list[str]:
    """bubblewrap's options for the view: new namespaces for users, processes, mounts, IPC, network, UTS and
    cgroups; read-only binds of `readable()`; its own /proc, /dev, and size-capped /tmp and /dev/shm."""
    args = ["--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(tmp_bytes), "--tmpfs", "/tmp", "--size", str(tmp_bytes), "--tmpfs", "/dev/shm"]
    for path in readable():
        p = Path(path)
        if p.is_symlink() and path in SYSTEM:  # merged /usr: /lib -> usr/lib
            args += ["--symlink", str(p.readlink()), path]
        else:
            args += ["--ro-bind", path, path]
    for dev in gpu_devices():
        args += ["--dev-bind", dev, dev]
    return args + ["--chdir", "/tmp"]


def landlock_rules(private: bool, workdir: str) -> tuple[list[str], list[str]]:
    """Landlock's (read, write) lists for the same view: the second wall inside bubblewrap (`private`: its /proc
    shows only the sandbox, its /tmp and /dev/shm are its own), the only one without. Without bubblewrap the
    child adds its own /proc entry to PROC; /dev/shm, shared with the host there, stays closed."""
    read = readable() + (["/proc"] if private else [p for p in PROC if Path(p).exists()])
    return read, [workdir, *DEVICES, *gpu_devices()] + (["/dev/shm"] if private else [])
