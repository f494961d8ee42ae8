"""`python -m grader check NOTEBOOK`: a learner's self-check, with no instructor set-up.

Runs a copy of the notebook as the autograder would (grading mode, the course's test cells with their
hidden tests put back in place of the notebook's), and reports points per graded part. The learner's
file is only read, never written.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.utils import determine_grade, is_grade

from grader.course import SOLUTIONS, GraderError, assignments, read_notebook

CELL_TIMEOUT = 120


@dataclass
class Part:
    name: str
    score: float
    max_score: float
    message: str


def _reference_tests(assignment: str, filename: str) -> dict:
    source = nbformat.read(SOLUTIONS / assignment / filename, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells if is_grade(c)}


def _message(cell) -> str:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    if errors:
        return f"{errors[-1].ename}: {errors[-1].evalue}"
    stderr = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
    return f"wrote to stderr (nbgrader scores that 0): {stderr.strip()[:300]}" if stderr else ""


def assignment_of(nb) -> str | None:
    """The assignment a notebook belongs to, from its cells' nbgrader ids, so that a copy under any name, in any
    folder, is checked: the assignment sharing the most ids, None when it shares none."""
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None}
    shared = {a: len(ids & set(_reference_ids(a))) for a in assignments()}
    best = max(shared, key=shared.get, default=None)
    return best if best is not None and shared[best] else None


def _reference_ids(assignment: str) -> list:
    source = nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)
    return [c.metadata["nbgrader"]["grade_id"] for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id")]


def check(path: Path) -> list[Part]:
    path = Path(path).resolve()
    nb = read_notebook(path)
    assignment = assignment_of(nb)
    if assignment is None:
        raise GraderError(f"{path}: not a course notebook (none of its cells comes from one); open one of "
                          "notebooks/NN_topic/NN_topic.ipynb")
    tests = _reference_tests(assignment, f"{assignment}.ipynb")
    present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    missing = sorted(set(tests) - present)
    if missing:
        raise GraderError(f"{path}: test cells {', '.join(missing)} were deleted; "
                          f"copy them back from a fresh notebooks/{assignment}/{assignment}.ipynb")
    for i, cell in enumerate(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in tests:
            nb.cells[i] = nbformat.from_dict(dict(tests[gid]))  # the course's test, hidden part included

    os.environ["NBGRADER_EXECUTION"] = "validate"  # inherited by the kernel: training runs short
    NotebookClient(nb, timeout=CELL_TIMEOUT, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    parts = []
    for cell in nb.cells:
        if is_grade(cell):
            score, max_score = determine_grade(cell)
            parts.append(Part(cell.metadata["nbgrader"]["grade_id"], score, max_score, _message(cell)))
    return parts


def report(path: Path, parts: list[Part]) -> str:
    lines = [f"Self-check of {path} (hidden tests included)", ""]
    width = max(len(p.name) for p in parts)
    for p in parts:
        mark = "PASS" if p.score == p.max_score else "FAIL"
        lines.append(f"  {mark}  {p.name.ljust(width)}  {p.score:g}/{p.max_score:g}")
        if p.score != p.max_score and p.message:
            lines += ["          " + line for line in p.message.splitlines()]
    total, most = sum(p.score for p in parts), sum(p.max_score for p in parts)
    lines += ["", f"  total {total:g}/{most:g}"]
    return "\n".join(lines)
