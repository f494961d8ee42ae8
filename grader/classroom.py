"""Grade a whole class: each submission in its sandbox (grader.verdict), in N worker processes at once, then
the scores into nbgrader's gradebook (from this process only), feedback, grades CSV and a table.

The course folder (a workspace) holds submitted/<student>/<assignment>/<assignment>.ipynb, as nbgrader's
collect step leaves it. Every submission gets a row in the CSV, including one that was not handed in or
is not a readable notebook (0 points, with the reason in `status` and in its feedback folder).
"""

import csv
import multiprocessing
import os
import shutil
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.course import GraderError, api, assignments, run, use_current_solutions
from grader.isolation.sandbox import DEFAULT_LIMITS, Limits, die_with_parent
from grader.release import generate
from grader.verdict import Verdict, feedback_text, grade

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
    problems: list = field(default_factory=list)
    sandbox: str = ""
    peak_mb: float = 0.0

    @classmethod
    def of(cls, v: Verdict) -> "Result":
        return cls(v.student, v.assignment, v.status, v.score, v.max_score,
                   {p.grade_id: (p.score, p.max_score) for p in v.parts}, v.seconds, v.problems, v.sandbox,
                   v.peak_bytes / 2**20)


def grade_one(root: Path, student: str, assignment: str, limits: Limits = DEFAULT_LIMITS,
              threads: int | None = None) -> Verdict:
    """Grade one submission in its sandbox; write its autograded notebook. Touches no shared file, so that
    several can run at once (the caller writes the gradebook)."""
    root = Path(root)
    name = f"{assignment}.ipynb"
    verdict, nb = grade(root / "solutions" / assignment / name, root / "submitted" / student / assignment / name,
                        student, assignment, limits, threads)
    autograded = root / "autograded" / student / assignment
    shutil.rmtree(autograded, ignore_errors=True)
    if nb is not None:
        autograded.mkdir(parents=True)
        nbformat.write(nb, autograded / name)
    return verdict


def _record(nbgrader, root: Path, verdict: Verdict) -> None:
    """Write one verdict to the gradebook, as nbgrader's autograde would (scores of the test cells), and its
    feedback: nbgrader's HTML (hidden tests cleared) and feedback.txt, one paragraph per part."""
    a, s = verdict.assignment, verdict.student
    folder = root / "feedback" / s / a
    shutil.rmtree(folder, ignore_errors=True)
    if verdict.status == "not submitted":
        return
    with nbgrader.gradebook as gb:
        gb.update_or_create_submission(a, s)
        for part in verdict.parts:
            grade = gb.find_grade(part.grade_id, a, a, s)
            grade.auto_score, grade.needs_manual_grade = part.score, grade.manual_score is not None
        gb.db.commit()
    if (root / "autograded" / s / a).exists():
        run(nbgrader.generate_feedback(a, s), f"generate_feedback for {s}/{a}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedback.txt").write_text(feedback_text(verdict))


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


def grade_class(root: Path, workers: int = 1, limits: Limits = DEFAULT_LIMITS) -> list[Result]:
    """Generate, add students, grade every submission (in `workers` processes at once), record the grades in
    the gradebook (one writer), write feedback, grades.csv and parts.csv; return one Result per submission."""
    root = Path(root).resolve()
    submitted = root / "submitted"
    if not submitted.is_dir():
        raise GraderError(f"{submitted}: no submitted/ folder (expected submitted/<student>/<assignment>/)")
    students = sorted(p.name for p in submitted.iterdir() if p.is_dir())
    if not students:
        raise GraderError(f"{submitted} holds no student folders")
    if workers < 1:
        raise GraderError(f"workers must be at least 1, got {workers}")
    generate(use_current_solutions(root))
    nbgrader = api(root)
    roster = read_roster(root)
    with nbgrader.gradebook as gb:
        for student in students:
            gb.update_or_create_student(student, **roster.get(student, {}))
    jobs = [(root, s, a, limits, threads_per_worker(workers)) for a in assignments() for s in students]
    if workers == 1:
        verdicts = [grade_one(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=die_with_parent) as pool:  # no worker outlives the grader
            verdicts = list(pool.map(grade_one, *zip(*jobs, strict=True)))
    results = []
    for verdict in verdicts:
        _record(nbgrader, root, verdict)
        results.append(Result.of(verdict))
    write_csv(results, root)
    return results


def threads_per_worker(workers: int) -> int | None:
    """Each sandbox's torch threads: the cores shared among the workers (None: torch's default, when serial)."""
    return None if workers == 1 else max(1, (os.cpu_count() or 1) // workers)


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
