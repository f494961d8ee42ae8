"""Grading on a Dask distributed cluster: `python -m grader grade COURSE --scheduler ADDRESS`.

Each notebook-submission is one task: its bytes and the course version go to a worker, which grades it in its
own sandbox (grader.verdict, grader.isolation) and sends the verdict and the autograded notebook back as data.
Workers need the course installed (`pip install -r requirements.txt`, the same commit), not the class folder:
nothing relies on a shared file system. The grader's process stays the only writer of the gradebook and records
each verdict as it arrives (grader.classroom), so resuming, the lock and Ctrl-C work as with local workers. A
worker that dies costs only its tasks, which the scheduler gives to another worker (Dask's own retries).

Run workers with one thread each (`dask worker ADDRESS --nthreads 1`): a task is one CPU-bound sandbox.
"""

from grader.classroom import NEEDS_ATTENTION
from grader.course import REPO, SOLUTIONS
from grader.isolation.sandbox import Limits
from grader.ledger import course_version
from grader.verdict import Verdict, grade, unreadable


def grade_task(notebook: bytes, student: str, assignment: str, version: str, limits: Limits) -> tuple:
    """On a worker: (verdict, autograded notebook) of one submission, graded against the worker's course, which
    must be the version the grader's process asked for."""
    source = _source(assignment)
    if course_version(assignment) != version:
        why = f"{NEEDS_ATTENTION}: this worker has another version of the course ({REPO}): install the same commit"
        return unreadable(source, student, assignment, why), None
    try:
        return grade(source, notebook, student, assignment, limits, threads=1)
    except Exception as e:  # the grader's own failure: this submission needs attention, the class goes on
        return unreadable(source, student, assignment, f"{NEEDS_ATTENTION}: {type(e).__name__}: {e}"), None


def graded_on(address: str, jobs: list, submission):
    """Verdicts (verdict, notebook, made_from) as the cluster at `address` makes them. `jobs` are grade_one's
    (root, student, assignment, version, limits, threads); `submission(root, student, assignment, version)` reads a
    notebook here (bytes or its GraderError, and its ledger key). An unreadable one is judged here."""
    from distributed import Client, as_completed

    with Client(address, timeout="60s") as client:
        futures = {}
        for root, student, assignment, version, limits, _ in jobs:
            data, made_from = submission(root, student, assignment, version)
            if isinstance(data, Exception):
                yield unreadable(_source(assignment), student, assignment, str(data)), None, made_from
                continue
            future = client.submit(grade_task, data, student, assignment, version, limits, pure=False)
            futures[future] = (student, assignment, made_from)
        try:
            for future in as_completed(futures):
                student, assignment, made_from = futures[future]
                verdict, nb = _result(future, student, assignment)
                yield verdict, nb, made_from
        finally:  # stopped: nothing more is computed for this run
            client.cancel(list(futures))


def _result(future, student: str, assignment: str) -> tuple[Verdict, dict | None]:
    """The task's answer; the cluster's own failure (the task failed on every worker it was retried on) becomes
    the submission's status, as a grader error does locally."""
    try:
        return future.result()
    except Exception as e:
        why = f"{NEEDS_ATTENTION}: on the cluster: {type(e).__name__}: {e}"
        return unreadable(_source(assignment), student, assignment, why), None


def _source(assignment: str):
    """The course's source notebook of `assignment`, as installed here."""
    return SOLUTIONS / assignment / f"{assignment}.ipynb"
