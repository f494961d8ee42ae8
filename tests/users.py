"""Real users of this machine for the classroom tests: created as root under a folder of the test's, removed at
the end. Where this environment's Python lies behind a folder others may not enter (/root, mode 700, as on the
machines CI runs on), their commands run in a mount namespace of their own in which each such folder is an
empty tmpfs again holding only the way to this environment: the machine itself is left as it was."""

import contextlib
import os
import pwd
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from grader.course import REPO
from grader.hub import closed_to_users

NEEDED = ("useradd", "userdel", "unshare", "setpriv")


def why_not() -> str | None:
    """Why this machine cannot run the test's users (None: it can)."""
    if os.geteuid() != 0:
        return "creating users needs root; run the tests as root (CI does) to walk the classroom loop"
    missing = [tool for tool in NEEDED if not shutil.which(tool)]
    return f"missing {', '.join(missing)} (Debian: passwd, util-linux)" if missing else None


class Machine:
    """Users of this machine under `base`: base/home/<name> each (mode 700), removed by close()."""

    def __init__(self, base: Path):
        self.base = Path(base)
        self.base.mkdir(parents=True)
        os.chmod(self.base, 0o755)
        (self.base / "home").mkdir(mode=0o755)
        self.names: list[str] = []
        targets = [Path(p).resolve() for p in (sys.prefix, sys.base_prefix, REPO, Path(sys.executable).resolve())]
        keep = self.base / ".keep"
        keep.mkdir(mode=0o700)
        lines = []
        for k, (folder, names) in enumerate(sorted(closed_to_users(targets).items(), key=lambda f: len(f[0].parts))):
            (keep / str(k)).mkdir()
            q, held = shlex.quote(str(folder)), shlex.quote(str(keep / str(k)))
            lines += [f"mount --bind {q} {held}", f"mount -t tmpfs -o mode=755 tmpfs {q}"]
            for name in sorted(names):
                make = "mkdir" if (folder / name).is_dir() else "touch"
                inner = shlex.quote(name)
                lines += [f"{make} {q}/{inner}", f"mount --bind {held}/{inner} {q}/{inner}"]
        self.script = " && ".join(["set -e", *lines]) if lines else "set -e"

    def add(self, name: str) -> Path:
        home = self.base / "home" / name
        subprocess.run(["useradd", "--home-dir", str(home), "--create-home",
                        "--shell", "/bin/sh", name], check=True, capture_output=True)
        os.chmod(home, 0o700)
        self.names.append(name)
        return home

    def command(self, cmd: list[str], user: str | None = None) -> list[str]:
        """`cmd` in this machine's mount namespace, as `user` (root when None)."""
        if user:
            entry = pwd.getpwnam(user)
            cmd = ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups", *cmd]
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", f"{self.script} && exec \"$@\"", "sh",
                *cmd]

    def run(self, user: str, *cmd: str, cwd: Path | None = None, env: dict | None = None, check: bool = True,
            input: str | None = None) -> subprocess.CompletedProcess:
        home = Path(pwd.getpwnam(user).pw_dir)
        environment = {"HOME": str(home), "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
                       "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", **(env or {})}
        done = subprocess.run(self.command(list(cmd), user), cwd=cwd or home, env=environment, capture_output=True,
                              text=True, timeout=900, input=input)
        if check and done.returncode:
            raise AssertionError(f"{user}$ {shlex.join(cmd)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def close(self) -> None:
        for name in self.names:
            with contextlib.suppress(subprocess.SubprocessError):
                subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
                subprocess.run(["userdel", "--force", "--remove", name], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
