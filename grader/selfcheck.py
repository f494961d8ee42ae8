"""`python -m grader check NOTEBOOK`: a learner's self-check, with no instructor set-up.

Grades the notebook through the class grader's own function (grader.verdict.grade: the same sandbox, the
course's test cells with their hidden tests, each where it stands in the notebook), so the self-check's points
and messages are the class grade's. The notebook may have any name in any folder: its assignment is known from
its cells. The learner's file is only read, never written.
"""

from pathlib import Path

import nbformat

from grader.course import SOLUTIONS, GraderError, assignments, notebook_bytes, parse_notebook
from grader.i18n import of_notebook, speaking, tr
from grader.isolation.sandbox import DEFAULT_LIMITS, Limits
from grader.verdict import Verdict, grade


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


def check(path: Path, limits: Limits = DEFAULT_LIMITS, lang: str | None = None) -> Verdict:
    """The class grader's verdict on the notebook at `path`, in `lang` (by default the notebook's language)."""
    path = Path(path).resolve()
    data = notebook_bytes(path)
    nb = parse_notebook(data, str(path))
    assignment = assignment_of(nb)
    if assignment is None:
        with speaking(lang or of_notebook(nb)):
            raise GraderError(tr("{path}: not a course notebook (none of its cells comes from one); open one of "
                                 "notebooks/NN_topic/NN_topic.ipynb", path=path))
    verdict, _ = grade(SOLUTIONS / assignment / f"{assignment}.ipynb", data, "you", assignment, limits, lang=lang)
    return verdict


def report(path: Path, verdict: Verdict) -> str:
    """Points per part, each failure's message and the notebook's problems: the same text as the class feedback,
    in the verdict's language."""
    with speaking(verdict.language):
        lines = [tr("Self-check of {path} ({assignment}, hidden tests included, graded as the class grader does)",
                    path=path, assignment=verdict.assignment), ""]
        lines += [tr("  Problem: {problem}", problem=p) for p in verdict.problems]
        width = max(len(p.grade_id) for p in verdict.parts)
        for p in verdict.parts:
            mark = "PASS" if p.score == p.max_score else "FAIL"
            lines.append(f"  {mark}  {p.grade_id.ljust(width)}  {p.score:g}/{p.max_score:g}")
            if p.score != p.max_score and p.message:
                lines += ["          " + line for line in p.message.splitlines()]
        lines += ["", tr("  total {score:g}/{max_score:g}", score=verdict.score, max_score=verdict.max_score)]
    return "\n".join(lines)
