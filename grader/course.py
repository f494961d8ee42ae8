"""Where the course lives, and nbgrader set up from the repository's nbgrader_config.py.

Every nbgrader step runs in-process through nbgrader's Python API (one process start instead of one
per step), on a course root that is either the repository itself or a workspace folder for a class.
"""

import os
import shutil
import stat
import sys
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from grader.i18n import tr

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
NOTEBOOKS = REPO / "notebooks"

# nbgrader shells out to `alembic` when it creates a gradebook: make this interpreter's bin/ findable.
_bin = str(Path(sys.executable).parent)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")


class GraderError(Exception):
    """A problem with the input to a grader command; the message says what and how to fix it."""


def assignments() -> list[str]:
    """The course's assignments: one folder per notebook in solutions/, e.g. '01_rnn'."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and list(p.glob("*.ipynb")))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and validate a notebook, with an error that says what is wrong with the file."""
    return parse_notebook(notebook_bytes(path), str(path))


def notebook_bytes(path: Path) -> bytes:
    """The bytes of the notebook file at `path`, with an error that says why when it is not one."""
    path = Path(path)
    if not path.exists():
        raise GraderError(tr("{path}: no such file", path=path))
    if path.is_dir() or path.suffix != ".ipynb":
        raise GraderError(tr("{path}: expected a Jupyter notebook file ending in .ipynb", path=path))
    return path.read_bytes()


MAX_NOTEBOOK = 64 * 2**20
"""A submitted notebook larger than this is refused rather than read into memory."""


def read_submitted_bytes(path: Path) -> bytes:
    """A submission's notebook file, submitted/<student>/<assignment>/<name>, read as one regular file: no folder
    or file on the way may be a symbolic link, and a FIFO or device is refused without being opened for reading,
    so a submission can neither point the grader at other files nor block it. GraderError says what is wrong."""
    path = Path(path)
    student, assignment, name = path.parts[-3:]
    fds = [os.open(path.parents[2], os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for folder in (student, assignment):
            try:
                fds.append(os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fds[-1]))
            except FileNotFoundError:
                raise GraderError("not submitted") from None
            except (NotADirectoryError, OSError):
                raise GraderError(tr("{folder} is not a folder (a symbolic link or a file): hand in the notebook "
                                     "itself", folder=folder)) from None
        try:
            fds.append(os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fds[-1]))
        except FileNotFoundError:
            found = ", ".join(sorted(os.listdir(fds[-1]))) or "nothing"
            raise GraderError(tr("expected a file named {name}, found {found}; rename it and hand it in again",
                                 name=name, found=found)) from None
        except OSError:
            raise GraderError(tr("{name} is a symbolic link, not a notebook file: hand in the notebook itself",
                                 name=name)) from None
        st = os.fstat(fds[-1])
        if not stat.S_ISREG(st.st_mode):
            raise GraderError(tr("{name} is not a regular file: hand in the notebook itself", name=name))
        if st.st_size > MAX_NOTEBOOK:
            raise GraderError(tr("{name} is {st_size:.0f} MB, more than the {max_notebook} MB a notebook may be: "
                                 "clear its outputs and hand it in again", name=name, st_size=st.st_size / 2**20,
                                 max_notebook=MAX_NOTEBOOK // 2**20))
        with os.fdopen(os.dup(fds[-1]), "rb") as f:
            return f.read(MAX_NOTEBOOK + 1)
    finally:
        for fd in fds:
            os.close(fd)


def parse_notebook(data: bytes, where: str) -> nbformat.NotebookNode:
    """A validated notebook from a file's bytes, or GraderError naming what is wrong with it."""
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as e:  # nbformat raises several kinds for bad JSON and bad structure
        raise GraderError(tr("{where}: not a readable notebook ({kind}: {e})", where=where,
                             kind=type(e).__name__, e=str(e)[:200])) from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as e:
        raise GraderError(tr("{where}: not a valid notebook ({message})", where=where,
                             message=e.message[:200])) from None
    return nb


def load_config(root: Path):
    """The repository's nbgrader_config.py, with the course root moved to `root`."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    config.CourseDirectory.root = str(Path(root).resolve())
    config.Exchange.root = str(Path(root).resolve() / "exchange")
    return config


def api(root: Path) -> NbGraderAPI:
    config = load_config(root)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def new_workspace(root: Path) -> Path:
    """A fresh course folder holding a copy of solutions/; everything nbgrader writes stays inside it."""
    root = Path(root).resolve()
    if root == REPO:
        raise GraderError(tr("the workspace must not be the repository itself"))
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    return use_current_solutions(root)


def use_current_solutions(root: Path) -> Path:
    """Give a course folder (not the repository) a fresh copy of solutions/ and an exchange folder."""
    root = Path(root).resolve()
    if root != REPO:
        if (root / "solutions").exists():
            shutil.rmtree(root / "solutions")
        shutil.copytree(SOLUTIONS, root / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        write_class_config(root)
    (root / "exchange").mkdir(exist_ok=True)
    return root


CLASS_CONFIG = '''"""Written by `python -m grader`: this class folder uses the course's nbgrader settings, with
the folder this file is in as the course root, so that a copied or moved class folder keeps to its own gradebook."""

import os

c = get_config()  # noqa: F821
load_subconfig({repo_config!r})  # noqa: F821
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
'''


def write_class_config(root: Path) -> Path:
    """Give a class folder an nbgrader_config.py, so that nbgrader, Formgrader and Validate started there find
    the course's settings, with the folder as the course root. The repository keeps its own."""
    root = Path(root).resolve()
    path = root / "nbgrader_config.py"
    if root != REPO:
        path.write_text(CLASS_CONFIG.format(repo_config=str(REPO / "nbgrader_config.py")))
    return path


def run(result: dict, what: str) -> None:
    """Raise GraderError with nbgrader's own log when one of its API calls failed."""
    if not result["success"]:
        details = (result.get("log") or "") + (result.get("error") or "")
        raise GraderError(f"{what} failed:\n{details.strip()[-3000:]}")
