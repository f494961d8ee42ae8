"""What the class grader has recorded, so that a crash, a Ctrl-C or a full disk never loses or invents a grade.

COURSE/verdicts/<assignment>/<student>.json holds one notebook-submission's verdict and the key it was made
under: a hash of the submitted notebook's bytes and of the course version (the assignment's source notebook
and the grader's and helpers' code). It is written last, after the gradebook, the autograded notebook and
the feedback, so its presence means "recorded"; a rerun keeps a verdict whose key still matches and grades
the rest. Every file here is written whole or not at all (a temporary file, then a rename).

One `python -m grader grade` runs per class folder at a time: `lock` holds COURSE/.grader.lock (flock, released
by the kernel even after kill -9), and a second run is refused with the first one's process id.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
from pathlib import Path

from grader.course import REPO, SOLUTIONS, GraderError
from grader.verdict import Part, Verdict


def write_whole(path: Path, data: bytes | str) -> None:
    """Write a file so that readers see the old content or the new, never a part: temporary file, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def course_version(assignment: str) -> str:
    """A hash of everything a verdict of `assignment` depends on besides the notebook: its source notebook,
    the grader's code (checks, sandbox) and the helpers the notebooks import."""
    h = hashlib.sha256((SOLUTIONS / assignment / f"{assignment}.ipynb").read_bytes())
    for folder in ("grader", "rnncourse"):
        for path in sorted((REPO / folder).rglob("*.py")):
            h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def key(notebook: bytes | None, version: str) -> str:
    """What a verdict was made from: the notebook's bytes (None: nothing readable was handed in) and the course."""
    return hashlib.sha256(version.encode() + b"\0" + (b"-" if notebook is None else notebook)).hexdigest()


class Ledger:
    """The recorded verdicts of one class folder."""

    def __init__(self, root: Path):
        self.folder = Path(root) / "verdicts"

    def path(self, student: str, assignment: str) -> Path:
        return self.folder / assignment / f"{student}.json"

    def get(self, student: str, assignment: str) -> tuple[str, Verdict] | None:
        """(key, verdict) as recorded, or None (never recorded, or a file that cannot be read: grade again)."""
        try:
            data = json.loads(self.path(student, assignment).read_text())
            parts = [Part(**p) for p in data["verdict"].pop("parts")]
            return data["key"], Verdict(**data["verdict"], parts=parts)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, verdict: Verdict, made_from: str) -> None:
        data = {"key": made_from, "verdict": dataclasses.asdict(verdict)}
        write_whole(self.path(verdict.student, verdict.assignment), json.dumps(data, ensure_ascii=False, indent=1))

    def students(self, assignment: str) -> set[str]:
        """Everyone with a recorded verdict of `assignment`, including students whose folder has since gone."""
        return {p.stem for p in (self.folder / assignment).glob("*.json")}


@contextlib.contextmanager
def lock(root: Path):
    """Hold the class folder for this run; GraderError naming the other run's process when it is taken."""
    path = Path(root) / ".grader.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            raise GraderError(f"another `python -m grader grade` (process {other}) is grading {root}; wait for it "
                              "to finish, or stop it and run this again (it resumes)") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)
