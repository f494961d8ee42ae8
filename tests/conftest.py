"""Shared fixtures: one real nbgrader run over a class made of every named mistake."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import nbformat
import pytest
from mutants import MUTANTS

from grader.classroom import grade_class
from grader.course import GraderError, assignments, new_workspace
from grader.isolation.sandbox import DEFAULT_LIMITS, close_all
from grader.ledger import Ledger
from grader.selfcheck import check
from grader.submissions import build

PERFECT, UNTOUCHED = "perfect", "untouched"


@pytest.fixture(autouse=True)
def _no_template_left():
    """A test that graded in this process leaves no sandbox template behind (tests count the sandboxes' processes)."""
    yield
    close_all()


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade one class through nbgrader once (2 workers): `perfect` and `untouched` hand in every notebook, and each
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
    results = grade_class(root, workers=2)
    return root, {(r.student, r.assignment): r for r in results}


def _self_check(job) -> object:
    """check()'s verdict, or its GraderError's text (in a worker process: each check's stdout is its own)."""
    path, limits = job
    try:
        return check(path, limits)
    except GraderError as e:
        return str(e)


def self_check_disagreements(root, limits=DEFAULT_LIMITS, only: set | None = None) -> tuple[int, list[str]]:
    """Run `python -m grader check`'s function on every submitted notebook of a graded class (or on the
    (student, assignment) pairs in `only`), and compare it with the class grade recorded for it, part by part:
    points and message, and the problems. Returns (how many submissions were compared, the disagreements)."""
    ledger = Ledger(root)
    jobs = [(s, a) for a in assignments() for s in sorted(ledger.students(a))
            if (root / "submitted" / s / a / f"{a}.ipynb").is_file() and (only is None or (s, a) in only)]
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        checked = list(pool.map(_self_check, [(root / "submitted" / s / a / f"{a}.ipynb", limits) for s, a in jobs]))
    found = []
    for job, mine in zip(jobs, checked, strict=True):
        _, graded = ledger.get(*job)
        if isinstance(mine, str):  # an unreadable notebook: the class grade must give the same reason
            if graded.status.split(": ", 1)[-1] not in mine:
                found.append(f"{job}: check said {mine}, the class {graded.status}")
            continue
        found += [f"{job} {p.grade_id}: check {p.score:g} {p.message!r}, class {q.score:g} {q.message!r}"
                  for p, q in zip(mine.parts, graded.parts, strict=True)
                  if (p.score, p.message) != (q.score, q.message)]
        if mine.problems != graded.problems:
            found.append(f"{job} problems: check {mine.problems}, class {graded.problems}")
    return len(jobs), found


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
