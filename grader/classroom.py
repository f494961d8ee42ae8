"""Grade a whole class through nbgrader: gradebook, autograde, feedback, grades CSV and a table.

The course folder (a workspace) holds submitted/<student>/<assignment>/<assignment>.ipynb, as nbgrader's
collect step leaves it. Every submission gets a row in the CSV, including one that was not handed in or
is not a readable notebook (0 points, with the reason in `status` and in its feedback folder).
"""

import csv
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import GraderError, api, assignments, read_notebook, use_current_solutions
from grader.release import generate

# nbgrader's gradebook triggers SQLAlchemy "not in session" warnings on every autograde; they are harmless.
warnings.filterwarnings("ignore", message=".*not in session.*")


@dataclass
class Result:
    student: str
    assignment: str
    status: str = "graded"
    score: float = 0.0
    max_score: float = 0.0
    parts: dict = field(default_factory=dict)  # grade_id -> (score, max_score)
    seconds: float = 0.0


def _max_scores(nbgrader, assignment: str) -> dict:
    with nbgrader.gradebook as gb:
        nb = gb.find_notebook(assignment, assignment)
        return {cell.name: cell.max_score for cell in nb.grade_cells}


def _read_scores(nbgrader, result: Result) -> None:
    with nbgrader.gradebook as gb:
        nb = gb.find_submission_notebook(result.assignment, result.assignment, result.student)
        result.parts = {g.name: (g.score, g.max_score) for g in nb.grades}
        result.score, result.max_score = nb.score, nb.max_score


def _note(root: Path, result: Result) -> None:
    """A plain-text feedback file for a submission that could not be autograded."""
    folder = root / "feedback" / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedback.txt").write_text(
        f"{result.assignment} for {result.student}: 0 / {result.max_score:g} points.\n{result.status}\n")


def grade_one(nbgrader, root: Path, student: str, assignment: str, max_scores: dict) -> Result:
    result = Result(student, assignment, max_score=sum(max_scores.values()),
                    parts={k: (0.0, v) for k, v in max_scores.items()})
    start = time.perf_counter()
    path = root / "submitted" / student / assignment / f"{assignment}.ipynb"
    try:
        if not path.parent.exists():
            raise GraderError("not submitted")
        if not path.exists():
            found = ", ".join(p.name for p in path.parent.iterdir()) or "nothing"
            raise GraderError(f"expected {path.name}, found {found}")
        read_notebook(path)
        outcome = nbgrader.autograde(assignment, student)
        if not outcome["success"]:
            details = (outcome.get("error") or outcome.get("log") or "no details").strip().splitlines()
            raise GraderError("autograde failed: " + details[-1])
        _read_scores(nbgrader, result)
        nbgrader.generate_feedback(assignment, student)
    except GraderError as e:
        result.status = str(e).replace(str(root) + "/", "")
        _note(root, result)
    result.seconds = time.perf_counter() - start
    return result


def read_roster(root: Path) -> dict[str, dict]:
    """Names and e-mails from COURSE/students.csv, in the format of `nbgrader db student import` (columns id,
    first_name, last_name, email; all but id optional), so that Formgrader shows names; {} without the file."""
    path = root / "students.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and "id" not in rows[0]:
        raise GraderError(f"{path}: the first line must name the columns, starting with id")
    fields = ("first_name", "last_name", "email")
    return {row["id"]: {k: row[k] for k in fields if row.get(k)} for row in rows}


def grade_class(root: Path) -> list[Result]:
    """Generate, add students, autograde, write feedback and grades; return one Result per submission."""
    root = Path(root).resolve()
    submitted = root / "submitted"
    if not submitted.is_dir():
        raise GraderError(f"{submitted}: no submitted/ folder (expected submitted/<student>/<assignment>/)")
    students = sorted(p.name for p in submitted.iterdir() if p.is_dir())
    if not students:
        raise GraderError(f"{submitted} holds no student folders")
    generate(use_current_solutions(root))
    nbgrader = api(root)
    roster = read_roster(root)
    with nbgrader.gradebook as gb:
        for student in students:
            gb.update_or_create_student(student, **roster.get(student, {}))
    results = []
    for assignment in assignments():
        max_scores = _max_scores(nbgrader, assignment)
        results += [grade_one(nbgrader, root, s, assignment, max_scores) for s in students]
    write_csv(results, root)
    return results


def write_csv(results: list[Result], root: Path) -> None:
    with open(root / "grades.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "score", "max_score", "status"])
        for r in results:
            w.writerow([r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}", r.status])
    with open(root / "parts.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "part", "score", "max_score"])
        for r in results:
            for part, (score, max_score) in r.parts.items():
                w.writerow([r.student, r.assignment, part, f"{score:g}", f"{max_score:g}"])


def table(results: list[Result]) -> str:
    """Points per student (rows) and notebook (columns), with totals and any problems."""
    names = sorted({r.assignment for r in results})
    students = sorted({r.student for r in results})
    by = {(r.student, r.assignment): r for r in results}
    width = max(len(s) for s in students + ["student"])
    widths = [max(9, len(n)) for n in names]
    lines = ["  ".join(["student".ljust(width)] + [n.rjust(w) for n, w in zip(names, widths, strict=True)]
                       + ["    total", "notes"])]
    for s in students:
        rs = [by[s, n] for n in names]
        cells = [f"{r.score:g}/{r.max_score:g}".rjust(w) for r, w in zip(rs, widths, strict=True)]
        total = f"{sum(r.score for r in rs):g}/{sum(r.max_score for r in rs):g}".rjust(9)
        notes = "; ".join(f"{r.assignment}: {r.status}" for r in rs if r.status != "graded")
        lines.append("  ".join([s.ljust(width)] + cells + [total, notes]).rstrip())
    return "\n".join(lines)
