"""Shared fixtures: one real nbgrader run over a class made of every named mistake."""

import nbformat
import pytest
from mutants import MUTANTS

from grader.classroom import grade_class
from grader.course import new_workspace
from grader.submissions import build

PERFECT, UNTOUCHED = "perfect", "untouched"


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade a class of 01_rnn submissions (perfect, untouched, one per mistake) through nbgrader once.

    Returns (workspace, {student: Result}).
    """
    root = new_workspace(tmp_path_factory.mktemp("class") / "course")
    submissions = {PERFECT: build("01_rnn"), UNTOUCHED: build("01_rnn", answered=False)}
    submissions.update({name: build("01_rnn", edits) for name, (edits, _, _) in MUTANTS.items()})
    for student, nb in submissions.items():
        folder = root / "submitted" / student / "01_rnn"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "01_rnn.ipynb")
    results = grade_class(root)
    return root, {r.student: r for r in results}


def cell_error(root, student: str, grade_id: str) -> str:
    """The error message a test cell printed in the student's autograded notebook."""
    nb = nbformat.read(root / "autograded" / student / "01_rnn" / "01_rnn.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return "\n".join(f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error")
    raise KeyError(grade_id)
