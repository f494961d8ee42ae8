"""Grade a whole class: each submission in its sandbox (grader.verdict), in N worker processes at once, each
verdict recorded as soon as it is known (gradebook, feedback, ledger: from this process only), then the
scores CSVs and a table.

The course folder (a workspace) holds submitted/<student>/<assignment>/<assignment>.ipynb, as nbgrader's
collect step leaves it. Every submission gets a row in scores.csv, including one that was not handed in or
is not a readable notebook (0 points, with the reason in `status` and in its feedback folder).

Never lose, mix up or invent a grade (grader.ledger): one run per folder; a submission's failure, even the
grader's own, is that submission's status and the class goes on; a crash or Ctrl-C loses at most the
submissions in flight; a rerun grades only what changed (--force: everything); a withdrawn submission's grade
is removed. Which file belongs to which command:

| file | written by |
|---|---|
| gradebook.db, autograded/, feedback/<student>/<assignment>/<assignment>.html | this grader, as nbgrader would |
| feedback/<student>/<assignment>/feedback.txt | this grader (put back by a rerun if nbgrader removed it) |
| verdicts/, scores.csv, parts.csv, .grader.lock | this grader only |
| grades.csv | `nbgrader export` (this grader never writes it) |
"""

import contextlib
import csv
import io
import logging
import multiprocessing
import os
import re
import shutil
import signal
import sys
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Assignment, BaseCell, Grade, MissingEntry, SubmittedAssignment, SubmittedNotebook
from nbgrader.utils import parse_utc

from grader.course import GraderError, api, assignments, read_submitted_bytes, run, use_current_solutions
from grader.isolation.sandbox import DEFAULT_LIMITS, Limits, SandboxFailure, Template, close_all, cold, die_with_parent
from grader.ledger import Ledger, course_version, key, lock, write_whole
from grader.release import generate
from grader.verdict import Verdict, feedback_text, grade, unreadable

# nbgrader's gradebook triggers SQLAlchemy "not in session" warnings on every autograde; they are harmless.
warnings.filterwarnings("ignore", message=".*not in session.*")

STUDENT_ID = re.compile(r"^\w[\w.@-]*$")
"""Folder names nbgrader can hold as a student id: letters (Korean too), digits, _ . @ -; no leading dot."""
NEEDS_ATTENTION = "grader error"


EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")
"""What nbgrader's collect leaves beside a notebook: when it was submitted (the gradebook's lateness) and the
secret that names its feedback in the exchange (release_feedback and fetch_feedback need both)."""


class Interrupted(Exception):
    """The run was stopped (Ctrl-C, SIGTERM); the message says what was recorded."""


class DiskFull(GraderError):
    pass


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
    regraded: bool = True  # False: the recorded verdict was kept (nothing changed since)
    timings: dict = field(default_factory=dict)  # Verdict.timings

    @classmethod
    def of(cls, v: Verdict, regraded: bool = True) -> "Result":
        return cls(v.student, v.assignment, v.status, v.score, v.max_score,
                   {p.grade_id: (p.score, p.max_score) for p in v.parts}, v.seconds, v.problems, v.sandbox,
                   v.peak_bytes / 2**20, regraded, dict(v.timings))


def grade_one(root: Path, student: str, assignment: str, version: str, limits: Limits = DEFAULT_LIMITS,
              threads: int | None = None) -> tuple[Verdict, dict | None, str]:
    """Grade one submission in its sandbox: (verdict, autograded notebook, key of what was graded; `version` is
    the course_version of the assignment). Touches no file, so that several can run at once. Never raises for a
    submission: the grader's own failure becomes its status ("grader error: ...")."""
    source = Path(root) / "solutions" / assignment / f"{assignment}.ipynb"
    data, made_from = _submission(root, student, assignment, version)
    if isinstance(data, GraderError):
        return unreadable(source, student, assignment, str(data)), None, made_from
    try:
        verdict, nb = grade(source, data, student, assignment, limits, threads)
    except Exception as e:  # the grader's own failure: this submission needs attention, the class goes on
        verdict, nb = unreadable(source, student, assignment, f"{NEEDS_ATTENTION}: {type(e).__name__}: {e}"), None
    return verdict, nb, made_from


def _submission(root: Path, student: str, assignment: str, version: str) -> tuple[bytes | GraderError, str]:
    """The submitted notebook's bytes (or why it cannot be read) and the key a verdict of it is made under: a new
    submission through the exchange (a new timestamp and secret, the same notebook) is graded again, so that its
    feedback can be released under its own secret."""
    try:
        data = read_submitted_bytes(Path(root) / "submitted" / student / assignment / f"{assignment}.ipynb")
    except GraderError as e:
        return e, key(None, version) + str(e)
    stamps = _exchange_files(root, student, assignment)
    return data, key(data + b"".join(b"\0" + v.encode() for v in stamps.values()), version)


def _exchange_files(root: Path, student: str, assignment: str) -> dict[str, str]:
    """Those of EXCHANGE_FILES that the submission has, read as the notebook is (no links, no FIFOs), short text
    only."""
    found = {}
    for name in EXCHANGE_FILES:
        try:
            text = read_submitted_bytes(Path(root) / "submitted" / student / assignment / name)[:1025].decode()
        except (GraderError, UnicodeDecodeError):
            continue
        if len(text) <= 1024:
            found[name] = text
    return found


def _gradebook_scores(gb, assignment: str) -> dict[tuple[str, str], float | None]:
    """(student, grade id) -> the gradebook's automatic score, for one assignment, in one query."""
    rows = (gb.db.query(SubmittedAssignment.student_id, BaseCell.name, Grade.auto_score)
            .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
            .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
            .join(Grade, Grade.notebook_id == SubmittedNotebook.id)
            .join(BaseCell, Grade.cell_id == BaseCell.id)
            .filter(Assignment.name == assignment))
    return {(student, name): score for student, name, score in rows}


def _in_gradebook(scores: dict, verdict: Verdict) -> bool:
    """Whether the gradebook still holds a recorded verdict's scores, part by part. nbgrader's own autograde
    (Formgrader's Autograde button, `nbgrader autograde`) writes its own, from an unsandboxed run."""
    return verdict.status == "not submitted" or all(
        scores.get((verdict.student, p.grade_id)) == p.score for p in verdict.parts)


def _grade_job(job):
    return grade_one(*job)


def _worker_start(limits: Limits, threads: int | None) -> None:
    """A pool worker: dies with the grader, leaves Ctrl-C to the grader, and on SIGTERM (the pool's terminate
    when the grader is stopped) closes its sandbox and exits at once, quietly. It starts its template now, while
    the grader sets up the class folder (not for cold sandboxes, which start their own)."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)
    if not cold():
        with contextlib.suppress(Exception, SandboxFailure):  # the first submission says what went wrong
            Template.get(limits, threads).charged = True  # its start is no submission's: none waits for it


def _worker_stop(*_) -> None:
    close_all()
    os._exit(143)


def _record(nbgrader, root: Path, verdict: Verdict, nb, ledger: Ledger, made_from: str) -> None:
    """Write one verdict: the autograded notebook, the gradebook's scores (as nbgrader's autograde would), the
    feedback (nbgrader's HTML, hidden tests cleared, and feedback.txt), and last the ledger entry that says it is
    recorded. A withdrawn submission's grade is removed."""
    a, s = verdict.assignment, verdict.student
    autograded, folder = root / "autograded" / s / a, root / "feedback" / s / a
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(autograded, ignore_errors=True)
    stamps = _exchange_files(root, s, a)
    with nbgrader.gradebook as gb:
        if verdict.status == "not submitted":
            with contextlib.suppress(MissingEntry):  # withdrawn: an earlier grade goes
                gb.remove_submission(a, s)
        else:
            when = _timestamp(stamps.get("timestamp.txt"))
            gb.update_or_create_submission(a, s, **({"timestamp": when} if when else {}))
            for part in verdict.parts:
                grade_row = gb.find_grade(part.grade_id, a, a, s)
                grade_row.auto_score, grade_row.needs_manual_grade = part.score, grade_row.manual_score is not None
            gb.db.commit()
    if nb is not None:
        write_whole(autograded / f"{a}.ipynb", nbformat.writes(nb))
        for name, text in stamps.items():  # generate_feedback copies them beside the feedback
            write_whole(autograded / name, text)
        try:
            run(nbgrader.generate_feedback(a, s), f"generate_feedback for {s}/{a}")
        except GraderError as e:
            shutil.rmtree(folder, ignore_errors=True)  # nothing half-written stays
            if _disk_full(e):
                raise
            verdict.problems.append(f"the HTML feedback could not be made ({str(e).splitlines()[0]}); "
                                    "feedback.txt has everything")
    write_whole(folder / "feedback.txt", feedback_text(verdict))
    if not verdict.status.startswith(NEEDS_ATTENTION):  # a grader error is retried by the next run
        ledger.put(verdict, made_from)


def _timestamp(text: str | None):
    """nbgrader's reading of timestamp.txt, or None when there is none or it is not a time."""
    try:
        return parse_utc(text.strip()) if text and text.strip() else None
    except (ValueError, OverflowError):
        return None


def _disk_full(e: BaseException) -> bool:
    text = str(e).lower()
    return (isinstance(e, OSError) and e.errno == 28) or "no space left" in text or "disk is full" in text


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


def students_of(submitted: Path) -> tuple[list[str], dict[str, str]]:
    """The student folders to grade, and those that cannot be graded with the reason. Hidden folders
    (.ipynb_checkpoints) are skipped silently; a name nbgrader cannot hold is refused, never globbed."""
    students, refused = [], {}
    for entry in sorted(os.scandir(submitted), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if not STUDENT_ID.match(entry.name):
            refused[entry.name] = (f"the folder name {entry.name!r} cannot be an nbgrader student id (letters, "
                                   "digits, _ . @ - only): rename the folder and grade again")
        elif entry.is_dir(follow_symlinks=False):
            students.append(entry.name)
        elif entry.is_symlink():
            refused[entry.name] = "the student's folder is a symbolic link: collect the submission itself"
    return students, refused


def grade_class(root: Path, workers: int = 1, limits: Limits = DEFAULT_LIMITS, force: bool = False,
                scheduler: str | None = None) -> list[Result]:
    """Grade every submission that changed since its recorded verdict (all with force), in `workers` processes
    at once or on the Dask cluster at `scheduler` (grader.cluster), recording each verdict as it arrives; write
    scores.csv and parts.csv; return one Result per submission (and per refused folder). Interrupted when
    stopped; DiskFull when the disk fills."""
    root = Path(root).resolve()
    submitted = root / "submitted"
    if not submitted.is_dir():
        raise GraderError(f"{submitted}: no submitted/ folder (expected submitted/<student>/<assignment>/)")
    if workers < 1:
        raise GraderError(f"workers must be at least 1, got {workers}")
    with lock(root), _grading(workers, scheduler, limits) as graded:
        students, refused = students_of(submitted)
        if not students and not refused:
            raise GraderError(f"{submitted} holds no student folders")
        with _quiet_gradebook(), _one_line_when_disk_full("setting up the class folder"):
            generate(use_current_solutions(root))
            nbgrader = api(root)
            roster = read_roster(root)
            with nbgrader.gradebook as gb:
                for student in students:
                    gb.update_or_create_student(student, **roster.get(student, {}))
        ledger = Ledger(root)
        results, jobs, overwritten = {}, [], []
        with _quiet_gradebook(), nbgrader.gradebook as gb:
            for a in assignments():
                version, scores = course_version(a), _gradebook_scores(gb, a)
                for s in sorted(set(students) | ledger.students(a)):  # a student whose folder went: withdrawn
                    recorded = ledger.get(s, a)
                    unchanged = recorded and recorded[0] == _submission(root, s, a, version)[1]
                    if unchanged and not _in_gradebook(scores, recorded[1]):
                        overwritten.append(f"{s}/{a}")
                    elif not force and unchanged:
                        results[s, a] = Result.of(recorded[1], regraded=False)
                        if not (root / "feedback" / s / a / "feedback.txt").exists():  # removed by nbgrader
                            write_whole(root / "feedback" / s / a / "feedback.txt", feedback_text(recorded[1]))
                        continue
                    jobs.append((root, s, a, version, limits, threads_per_worker(workers)))
        if overwritten:
            print(f"the gradebook holds other scores than this grader recorded for {len(overwritten)} "
                  f"submission(s) ({', '.join(overwritten[:5])}{', ...' if len(overwritten) > 5 else ''}; nbgrader's "
                  "own autograde writes its own): graded again", file=sys.stderr)
        try:
            for verdict, nb, made_from in graded(jobs):
                with _held_back():  # a verdict is written whole or not at all
                    _record_safely(nbgrader, root, verdict, nb, ledger, made_from)
                    results[verdict.student, verdict.assignment] = Result.of(verdict)
        except KeyboardInterrupt:
            done = sum(r.regraded for r in results.values())
            write_csv(_rows(results, students, refused), root)
            raise Interrupted(f"interrupted: {done} of {len(jobs)} notebook-submissions to grade were recorded "
                              f"({len(jobs) - done} not); run the same command again to grade the rest") from None
        except DiskFull as e:
            write_csv(_rows(results, students, refused), root, ignore_errors=True)
            raise DiskFull(f"{e}; {sum(r.regraded for r in results.values())} of {len(jobs)} were recorded and "
                           "every file is whole: free some space and run the same command again") from None
        rows = _rows(results, students, refused)
        write_csv(rows, root)
        return rows


@contextlib.contextmanager
def _grading(workers: int, scheduler: str | None, limits: Limits):
    """Where submissions are graded: on a Dask cluster, or in a pool of spawned workers (even one is a process of
    its own, so that this process records one verdict while the next submission is graded). The pool starts
    before the class folder is set up: its workers load their libraries and start their templates meanwhile.
    Yields graded(jobs), the verdicts as they are made (unordered). Stopped: each worker closes its sandbox."""
    if scheduler:
        from grader.cluster import graded_on

        yield lambda jobs: graded_on(scheduler, jobs, _submission)
        return
    pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_start,
                                                     initargs=(limits, threads_per_worker(workers)))
    try:
        yield lambda jobs: pool.imap_unordered(_grade_job, jobs)
    finally:  # done (every verdict taken) or stopped: each worker closes its sandbox and exits at once
        pool.terminate()
        pool.join()


@contextlib.contextmanager
def _held_back():
    """Ctrl-C and SIGTERM wait until the block has run, then stop the run. Python's handlers, not the signal
    mask: the kernel may give a signal to any thread (the pool's, the Dask client's) that does not block it, and
    Python runs the handler in the main thread all the same."""
    pending = []
    saved = {s: signal.signal(s, lambda signum, _: pending.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    if pending:
        raise KeyboardInterrupt


def _record_safely(nbgrader, root, verdict, nb, ledger, made_from) -> None:
    """Record one verdict; an error of the grader becomes the submission's status, a full disk stops the run."""
    try:
        with _quiet_gradebook(), _one_line_when_disk_full(f"recording {verdict.student}/{verdict.assignment}"):
            _record(nbgrader, root, verdict, nb, ledger, made_from)
    except DiskFull:
        raise
    except Exception as e:
        verdict.status = f"{NEEDS_ATTENTION} while recording: {type(e).__name__}: {str(e).splitlines()[0][:300]}"
        try:
            write_whole(root / "feedback" / verdict.student / verdict.assignment / "feedback.txt",
                        feedback_text(verdict))
        except OSError:
            pass


@contextlib.contextmanager
def _quiet_gradebook():
    """nbgrader's gradebook logs a traceback before it raises; the grader says what went wrong itself."""
    log = logging.getLogger("tornado.application")
    level, log.level = log.level, logging.CRITICAL + 1
    try:
        yield
    finally:
        log.level = level


@contextlib.contextmanager
def _one_line_when_disk_full(what: str):
    try:
        yield
    except Exception as e:
        if _disk_full(e):
            raise DiskFull(f"the disk is full ({what}: {str(e).splitlines()[0][:200]})") from None
        raise


def _rows(results: dict, students: list, refused: dict) -> list[Result]:
    rows = list(results.values())
    for s in students:
        for a in assignments():
            if (s, a) not in results:
                rows.append(Result(s, a, "not graded yet: the run was stopped; run the command again", regraded=False))
    for name, why in refused.items():
        rows += [Result(name, a, why, regraded=False) for a in assignments()]
    return sorted(rows, key=lambda r: (r.student, r.assignment))


def threads_per_worker(workers: int) -> int | None:
    """Each sandbox's torch threads: the cores shared among the workers (None: torch's default, when serial)."""
    return None if workers == 1 else max(1, (os.cpu_count() or 1) // workers)


def write_csv(results: list[Result], root: Path, ignore_errors: bool = False) -> None:
    """scores.csv (a row per student and notebook) and parts.csv (a row per graded part), each written whole."""
    scores, parts = io.StringIO(), io.StringIO()
    w = csv.writer(scores)
    w.writerow(["student", "assignment", "score", "max_score", "status"])
    for r in results:
        w.writerow([r.student, r.assignment, f"{r.score:g}", f"{r.max_score:g}", r.status])
    w = csv.writer(parts)
    w.writerow(["student", "assignment", "part", "score", "max_score"])
    for r in results:
        for part, (score, max_score) in r.parts.items():
            w.writerow([r.student, r.assignment, part, f"{score:g}", f"{max_score:g}"])
    try:
        write_whole(root / "scores.csv", scores.getvalue())
        write_whole(root / "parts.csv", parts.getvalue())
    except OSError:
        if not ignore_errors:
            raise


def _notes(results: list[Result]) -> str:
    """One student's statuses other than graded, each said once: "01_rnn, 03_lstm: not submitted"."""
    by_status = {}
    for r in results:
        if r.status != "graded":
            by_status.setdefault(r.status, []).append(r.assignment)
    return "; ".join(why if len(names) == len(results) else f"{', '.join(names)}: {why}"
                     for why, names in by_status.items())


def _width(text: str) -> int:
    """Columns a terminal gives `text`: Korean and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def table(results: list[Result]) -> str:
    """Points per student (rows) and notebook (columns), with totals and any problems."""
    names = sorted({r.assignment for r in results})
    students = sorted({r.student for r in results})
    by = {(r.student, r.assignment): r for r in results}
    width = max(_width(s) for s in students + ["student"])
    widths = [max(9, len(n)) for n in names]
    lines = ["  ".join([_pad("student", width)] + [n.rjust(w) for n, w in zip(names, widths, strict=True)]
                       + ["    total", "notes"])]
    for s in students:
        rs = [by[s, n] for n in names]
        cells = [f"{r.score:g}/{r.max_score:g}".rjust(w) for r, w in zip(rs, widths, strict=True)]
        total = f"{sum(r.score for r in rs):g}/{sum(r.max_score for r in rs):g}".rjust(9)
        notes = _notes(rs)
        lines.append("  ".join([_pad(s, width)] + cells + [total, notes]).rstrip())
    return "\n".join(lines)
