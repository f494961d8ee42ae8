"""`python -m grader lab [COURSE_DIR]`: JupyterLab on the course, nbgrader's extensions on, its config found.

Learners run it at the repository's root: notebooks/ with the Validate button, which grades with the course's
nbgrader_config.py. Instructors point it at a class folder (the demo's build/sample_class, or any folder
`python -m grader grade` has graded): Formgrader then shows that class's gradebook.
"""

import os
import subprocess
import sys
from pathlib import Path

from grader.course import REPO, GraderError, write_class_config

# nbgrader's server extensions, on whatever the environment's own Jupyter config says.
EXTENSIONS = ("formgrader", "validate_assignment", "assignment_list", "course_list")


def lab_command(root: Path, extra: list[str]) -> list[str]:
    """The jupyter lab command line for a course folder; `extra` goes to jupyter lab as it is."""
    enable = [f"--ServerApp.jpserver_extensions=nbgrader.server_extensions.{name}=True" for name in EXTENSIONS]
    as_root = ["--allow-root"] if os.geteuid() == 0 else []  # containers and CI often run as root
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}", *enable, *as_root, *extra]


def lab(course_dir: Path | None, extra: list[str]) -> int:
    root = Path(course_dir or REPO).resolve()
    if not root.is_dir():
        raise GraderError(f"{root}: no such folder")
    write_class_config(root)  # nbgrader's Validate and Formgrader read it from the server's working folder
    return subprocess.call(lab_command(root, extra), cwd=root)
