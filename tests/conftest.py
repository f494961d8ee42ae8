"""Shared fixtures: one real nbgrader run over a class made of every named mistake."""

import nbformat
import pytest
from mutants import MUTANTS

from grader.classroom import grade_class
from grader.course import assignments, new_workspace
from grader.submissions import build

PERFECT, UNTOUCHED = "perfect", "untouched"


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade one class through nbgrader once: `perfect` and `untouched` hand in every notebook, and each
    named mistake is a student who hands in the one notebook it belongs to.

    Returns (workspace, {(student, assignment): Result}).
    """
    root = new_workspace(tmp_path_factory.mktemp("class") / "course")
    submissions = {}
    for assignment in assignments():
        submissions[PERFECT, assignment] = build(assignment)
        submissions[UNTOUCHED, assignment] = build(assignment, answered=False)
        for name, (edits, _, _) in MUTANTS[assignment].items():
            submissions[name, assignment] = build(assignment, edits)
    for (student, assignment), nb in submissions.items():
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    results = grade_class(root)
    return root, {(r.student, r.assignment): r for r in results}


def cell_error(root, student: str, assignment: str, grade_id: str) -> str:
    """The error message a test cell printed in the student's autograded notebook."""
    nb = nbformat.read(root / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return "\n".join(f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error")
    raise KeyError(grade_id)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (item.rep_call), so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
