"""`python -m grader hub`: a class of this course on JupyterHub, on this machine, in one command.

It prepares nbgrader's shared exchange and the instructor's class folder, then starts JupyterHub with
classroom/jupyterhub_config.py: the instructor and the students log in with their accounts on this machine.
The classroom loop is nbgrader's own (release, fetch, submit, collect, release_feedback, fetch_feedback); this
grader's sandboxed `grade` takes the place of nbgrader's autograde and generate_feedback (README, "A class on
JupyterHub").
"""

import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from grader.course import REPO, GraderError, new_workspace, use_current_solutions
from grader.release import generate

CONFIG = REPO / "classroom" / "jupyterhub_config.py"
EXCHANGE = Path("/srv/nbgrader/exchange")
STATE = Path("/srv/rnn-hub")


def prepare(course: Path, exchange: Path, instructor: str) -> Path:
    """The exchange, which every user may write to (sticky: nobody removes what another made; nbgrader sets the
    permissions of the course's folders inside it), and the instructor's class folder: the course's solutions,
    its nbgrader_config.py, the student versions, and as its exchange/ the shared one, owned by the instructor."""
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, 0o1777)
    course = Path(course)
    generate(use_current_solutions(course) if course.is_dir() else new_workspace(course))
    link = course / "exchange"
    if not link.is_symlink():
        if link.is_dir() and any(link.iterdir()):
            raise GraderError(f"{link} holds an exchange of its own: move it away, the class's exchange is {exchange}")
        if link.is_dir():
            link.rmdir()  # the class folder's own exchange, empty: nbgrader's must be the shared one
        link.symlink_to(exchange)
    user = pwd.getpwnam(instructor)
    # root handing over a tree the instructor may change meanwhile: by descriptors, never following a link
    for _, folders, files, fd in os.fwalk(course, follow_symlinks=False):
        os.chown(fd, user.pw_uid, user.pw_gid)
        for name in folders + files:
            os.chown(name, user.pw_uid, user.pw_gid, dir_fd=fd, follow_symlinks=False)
    return course


def environment(instructor: str, students: list[str], course: Path, exchange: Path, state: Path,
                port: int) -> dict:
    """What classroom/jupyterhub_config.py reads."""
    return {**os.environ, "RNN_HUB_INSTRUCTOR": instructor, "RNN_HUB_STUDENTS": ",".join(students),
            "RNN_HUB_COURSE": str(course), "RNN_HUB_EXCHANGE": str(exchange), "RNN_HUB_STATE": str(state),
            "RNN_HUB_PORT": str(port), "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}


def hub_command(extra: list[str] = ()) -> list[str]:
    return [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(CONFIG), *extra]


def hub(instructor: str, students: list[str], course: Path | None, port: int) -> int:
    """Check what JupyterHub needs, prepare the class, run the hub until Ctrl-C."""
    if os.geteuid() != 0:
        raise GraderError("JupyterHub starts each user's server as that user: run this as root (sudo)")
    missing = [name for name in [instructor, *students] if not _user(name)]
    if missing:
        raise GraderError(f"no such user on this machine: {', '.join(missing)}; create each with `useradd -m NAME` "
                          "and give them a password with `passwd NAME`")
    if not shutil.which("configurable-http-proxy"):
        raise GraderError("JupyterHub's proxy is missing: npm install -g configurable-http-proxy")
    hidden = sorted(str(p) for p in closed_to_users([Path(sys.executable).resolve(), Path(sys.prefix), REPO]))
    if hidden:
        raise GraderError(f"the users' servers run this environment, but {', '.join(hidden)} is closed to other "
                          "users: put the course and its Python where every user may read them (e.g. /opt/rnn-course "
                          "with a Python from apt or /opt)")
    course = Path(course or Path(_user(instructor).pw_dir) / "rnn-course").resolve()
    STATE.mkdir(parents=True, exist_ok=True, mode=0o700)
    prepare(course, EXCHANGE, instructor)
    print(f"class folder {course}, exchange {EXCHANGE}; JupyterHub on http://127.0.0.1:{port}", flush=True)
    return subprocess.call(hub_command(), cwd=STATE,
                           env=environment(instructor, students, course, EXCHANGE, STATE, port))


def closed_to_users(paths: list[Path]) -> dict[Path, set[str]]:
    """Folders on the way to `paths` that other users may not enter, each with the names below it on that way."""
    closed: dict[Path, set[str]] = {}
    for path in paths:
        for depth in range(1, len(path.parts)):
            folder = Path(*path.parts[:depth])
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                closed.setdefault(folder, set()).add(path.parts[depth])
    return closed


def _user(name: str):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None
