"""Grade one notebook-submission: the learner's cells run in a sandbox, the verdicts are computed here.

1. The learner's code cells run in order in an isolated child process (grader.isolation), in grading mode.
   Test cells are never taken from the submission: an edited or duplicated test cell changes nothing. Locked
   cells are taken from the course's source, as nbgrader does.
2. Where each test cell stands in the submission (as nbgrader, Validate and the notebook itself run it), the
   course's test (hidden tests included) runs in this process, with the learner's names as they are at that
   point, bound to stand-ins that call the real code in the sandbox (grader.isolation.remote). Patching numpy,
   torch, builtins or the checks inside the submission cannot reach this process. `python -m grader check`
   grades through this same function, so the self-check and the class grade are one verdict.
3. A test cell scores its points when it runs without an error, 0 otherwise, with a message in plain words.
When the child dies, runs out of time or memory, the part being graded scores 0 and a fresh child (with the
cells that worked) grades the rest, up to Limits.restarts times.
"""

import ast
import contextlib
import copy
import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.course import GraderError, parse_notebook
from grader.i18n import of_notebook, speaking, tr
from grader.isolation.child import OUTPUT_KEPT
from grader.isolation.remote import Session
from grader.isolation.sandbox import DEFAULT_LIMITS, Limits, Sandbox, SandboxFailure, TimeLimit

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.DOTALL)
MARKERS = re.compile(r"(?:BEGIN|END) (?:HIDDEN TESTS|SOLUTION)")
"""nbgrader's markers: in a learner's answer they are written in lower case in the autograded notebook, so that
nbgrader's feedback (which looks for them anywhere in a line) cannot be broken or fooled by them."""


TIMINGS = ("libraries", "start", "cells", "tests")
"""Where a submission's seconds go (Verdict.timings): loading the sandbox's libraries, starting sandboxes, the
learner's cells, the tests."""


@dataclass
class Part:
    """One graded part (a test cell): what it checks, its points, and what happened."""

    grade_id: str
    what: str
    max_score: float
    score: float = 0.0
    message: str = ""
    output: str = ""
    error: bool = False  # the learner's code raised, or was stopped (not a check's verdict)


@dataclass
class Verdict:
    student: str
    assignment: str
    status: str = "graded"
    parts: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # what went wrong outside the test cells, in plain words
    seconds: float = 0.0
    sandbox: str = ""  # the isolation it ran under: bubblewrap, landlock or off
    peak_bytes: int = 0  # the largest memory of its sandbox (all its processes, /tmp and /dev/shm)
    language: str = "en"  # the notebook's (grader.i18n): the language of every message in this verdict
    timings: dict = field(default_factory=lambda: dict.fromkeys(TIMINGS, 0.0))
    """Seconds per entry of TIMINGS (the bench's breakdown); the libraries once per template."""

    @property
    def score(self) -> float:
        return sum(p.score for p in self.parts)

    @property
    def max_score(self) -> float:
        return sum(p.max_score for p in self.parts)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test(cell) -> bool:
    return bool(_meta(cell).get("grade")) and not _meta(cell).get("solution")


def parts_of(source_nb) -> list[Part]:
    """The graded parts of the course's notebook, with the first line of each test's docstring as `what`."""
    parts = []
    for cell in source_nb.cells:
        if cell.cell_type == "code" and is_test(cell):
            doc = ast.get_docstring(ast.parse(cell.source)) or _meta(cell)["grade_id"]
            parts.append(Part(_meta(cell)["grade_id"], doc.splitlines()[0], float(_meta(cell).get("points", 0))))
    return parts


def steps(source_nb, submitted_nb) -> tuple[list, list[str]]:
    """The work, in the submission's order, as nbgrader and the notebook itself do it: ("cell", name, source,
    is an answer cell) for each code cell to run, and ("test", grade_id) where each of the course's test cells
    stands, so that a test sees the learner's names as they are at its place. A test cell's content is never
    taken from the submission (nor is a cell that claims to be a test); locked cells are restored from the
    course's source. Tests missing from the submission come last. Returns (steps, problems)."""
    source = {_meta(c)["grade_id"]: c for c in source_nb.cells if _meta(c).get("grade_id")}
    tests = [_meta(c)["grade_id"] for c in source_nb.cells if c.cell_type == "code" and is_test(c)]
    work, placed = [], set()
    for k, cell in enumerate(submitted_nb.cells):
        if cell.get("cell_type") != "code":
            continue
        gid = _meta(cell).get("grade_id")
        original = source.get(gid)
        answer = bool(original is not None and _meta(original).get("solution"))
        if gid in tests:
            if gid not in placed:
                work.append(("test", gid))
                placed.add(gid)
            continue
        if is_test(cell) or ("### BEGIN HIDDEN TESTS" in cell.source and not answer):  # a test under another id
            continue
        if original is not None and _meta(original).get("locked") and not _meta(original).get("solution"):
            cell = original
        work.append(("cell", gid or f"{k + 1}", cell.source, answer))
    missing = [gid for gid in tests if gid not in placed]
    work += [("test", gid) for gid in missing]
    problems = [tr("the test cell {gid} is missing from your notebook: it was graded after all your "
                   "cells", gid=gid)
                for gid in missing]
    return work, problems


def _imports(source_nb) -> str:
    """The source notebook's imports from the grader package (its test cells' check functions)."""
    lines = []
    for cell in source_nb.cells:
        if cell.cell_type == "code" and not is_test(cell):
            with contextlib.suppress(SyntaxError):
                for node in ast.parse(cell.source).body:
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader."):
                        lines.append(ast.unparse(node))
    return "\n".join(lines)


def _cell_answer(answer: dict) -> dict:
    """A cell's answer from the sandbox, checked field by field: the sandbox is the submission's, so nothing in
    it is trusted (types, and sizes kept within OUTPUT_KEPT)."""
    printed, output, error = answer.get("printed"), answer.get("output"), answer.get("error")
    clean = {"printed": printed if isinstance(printed, int) and not isinstance(printed, bool) else 0,
             "output": output[:OUTPUT_KEPT] if isinstance(output, str) else "", "error": None}
    if isinstance(error, dict):
        clean["error"] = {k: str(error.get(k, ""))[:2000] for k in ("type", "message", "where")}
    return clean


def _names(code) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names(const)
    return names


class _Run:
    """The sandbox of one submission, restarted (replaying the cells that worked) after a failure, within the
    submission's time budget (Limits.submission_seconds: every cell, test and restart)."""

    def __init__(self, cells: list, limits: Limits, threads: int | None, verdict: Verdict):
        self.cells, self.limits, self.threads, self.verdict = cells, limits, threads, verdict
        self.sandbox, self.restarts, self.ran, self.skip, self.outputs = None, -1, 0, set(), {}
        self.stopped_at, self.later_errors = None, []  # the first cell that raised (Run All stops there), and later
        self.budget_end = time.monotonic() + limits.submission_seconds

    def deadline(self) -> float:
        """The next request's deadline: the cell's time limit or the end of the budget, whichever comes first."""
        return min(time.monotonic() + self.limits.cell_seconds, self.budget_end)

    def out_of_budget(self) -> bool:
        return time.monotonic() >= self.budget_end

    def stopped(self, e: SandboxFailure) -> str:
        """Why a request was stopped, with the budget named when it is what ran out."""
        if isinstance(e, TimeLimit) and self.out_of_budget():
            return (tr("the notebook used up its time budget of {submission_seconds:g} s (all cells, "
                       "tests and restarts together)", submission_seconds=self.limits.submission_seconds))
        return str(e)

    def session(self, upto: int) -> Session | None:
        """A live sandbox in which the first `upto` cells have run, or None when the restarts are used up."""
        while True:
            if self.sandbox is None or self.sandbox.process.poll() is not None:
                if not self._restart():
                    return None
            if self._run_cells(upto):
                return Session(self.sandbox)

    def _restart(self) -> bool:
        if self.restarts >= self.limits.restarts or self.out_of_budget():
            return False
        self.restarts += 1
        if self.sandbox is not None:
            self.verdict.peak_bytes = max(self.verdict.peak_bytes, self.sandbox.peak)
        self.ran = 0
        try:
            self.sandbox = Sandbox(self.limits, self.threads, self.budget_end)
        except SandboxFailure as e:
            self.verdict.problems.append(tr("the notebook's process could not start: {stopped}",
                                            stopped=self.stopped(e)))
            self.sandbox = None
            return True
        self.verdict.sandbox = self.sandbox.mode
        self.verdict.timings["libraries"] += self.sandbox.libraries_seconds
        self.verdict.timings["start"] += self.sandbox.start_seconds
        return True

    def _run_cells(self, upto: int) -> bool:
        """Run the cells from where this sandbox stands up to `upto`; False when one was stopped."""
        if self.sandbox is None:
            return False
        while self.ran < upto:
            name, source, answer_cell = self.cells[self.ran]
            self.ran += 1
            if name in self.skip:
                continue
            self.sandbox.deadline = self.deadline()
            began = time.perf_counter()
            try:
                answer = _cell_answer(self.sandbox.request({"op": "cell", "source": source, "name": name})[0])
            except SandboxFailure as e:
                self.skip.add(name)
                self.verdict.problems.append(tr("cell {name} was stopped: {stopped}; it is skipped from here on",
                                                name=name, stopped=self.stopped(e)))
                return False
            finally:
                self.verdict.timings["cells"] += time.perf_counter() - began
            if name not in self.outputs:
                self.outputs[name] = answer
                self._note(name, answer, answer_cell)
        return True

    def _note(self, name: str, answer: dict, answer_cell: bool) -> None:
        """Problems worth a line in the feedback: an answer cell that fails to run, floods of output."""
        error = answer.get("error")
        if error and not answer_cell and self.stopped_at is not None:
            self.later_errors.append(name)  # most likely a consequence of the first error: counted, not listed
        elif error:
            error_text = _error_text(error["type"], error["message"])
            text = (tr("your cell {name} raised {error}", name=name, error=error_text) if answer_cell else
                    tr("cell {name} raised {error}", name=name, error=error_text))
            text += f" ({error['where']})" if error["where"] else ""
            if self.stopped_at is None:
                self.stopped_at = name
                text += (tr("; the notebook stops here (Run All stops at the first error; the grader ran the "
                            "cells after it anyway, but in your notebook they do not run until this is fixed)"))
            self.verdict.problems.append(text)
        if answer.get("printed", 0) > OUTPUT_KEPT:
            self.verdict.problems.append(tr("cell {name} printed {printed:,} characters; the first {output_kept:,} "
                                            "are kept", name=name, printed=answer['printed'], output_kept=OUTPUT_KEPT))

    def close(self) -> None:
        if self.later_errors:
            self.verdict.problems.append(tr("{n_later_errors} later cells of the course raised errors too (cells "
                                            "{later_errors}); fix the first error first",
                                            n_later_errors=len(self.later_errors),
                                            later_errors=', '.join(self.later_errors)))
        if self.sandbox is not None:
            self.sandbox.close()
            self.verdict.peak_bytes = max(self.verdict.peak_bytes, self.sandbox.peak)
        if self.sandbox is not None and self.sandbox.printed > OUTPUT_KEPT:
            self.verdict.problems.append(tr("the notebook wrote {printed:,} bytes straight to its output; they "
                                            "were discarded",
                                            printed=self.sandbox.printed))


def unreadable(source_path: Path, student: str, assignment: str, status: str) -> Verdict:
    """The verdict of a submission that could not be graded: every part 0, with `status` as the reason."""
    verdict = Verdict(student, assignment, status=status, parts=parts_of(nbformat.read(source_path, as_version=4)))
    for part in verdict.parts:
        part.message = status
    return verdict


def grade(source_path: Path, notebook: bytes, student: str, assignment: str, limits: Limits = DEFAULT_LIMITS,
          threads: int | None = None, lang: str | None = None) -> tuple[Verdict, nbformat.NotebookNode | None]:
    """Grade one submission, the notebook file's bytes. Returns the verdict and the autograded notebook (None
    when nothing could run). Its messages are in `lang`, by default the notebook's own language."""
    start = time.perf_counter()
    source_nb = nbformat.read(source_path, as_version=4)
    try:
        with speaking(lang):
            submitted_nb = parse_notebook(notebook, f"{assignment}.ipynb")
    except GraderError as e:
        return unreadable(source_path, student, assignment, str(e)), None
    lang = lang or of_notebook(submitted_nb)
    with speaking(lang):
        verdict, graded = _grade(source_nb, submitted_nb, Verdict(student, assignment, language=lang), limits,
                                 threads)
    verdict.seconds = time.perf_counter() - start
    return verdict, graded


def _grade(source_nb, submitted_nb, verdict: Verdict, limits: Limits, threads: int | None) -> tuple:
    verdict.parts = parts_of(source_nb)
    work, verdict.problems = steps(source_nb, submitted_nb)
    cells = [step[1:] for step in work if step[0] == "cell"]
    run = _Run(cells, limits, threads, verdict)
    try:
        tests = {_meta(c)["grade_id"]: c.source for c in source_nb.cells if c.cell_type == "code" and is_test(c)}
        parts = {p.grade_id: p for p in verdict.parts}
        imports, ran = _imports(source_nb), 0
        for step in work:
            if step[0] == "cell":
                ran += 1
            else:
                _grade_part(parts[step[1]], tests[step[1]], imports, run, ran, limits)
        run.session(len(cells))  # the cells after the last test, for their output and problems
    finally:
        run.close()
    return verdict, autograded_notebook(source_nb, submitted_nb, verdict, run.outputs)


def _grade_part(part: Part, test_source: str, imports: str, run: _Run, ran: int, limits: Limits) -> None:
    """Grade one part where its test cell stands: after the first `ran` cells of the notebook."""
    session = run.session(ran)
    if session is None:
        part.message = (tr("not graded: the notebook used up its time budget of {submission_seconds:g} s",
                           submission_seconds=limits.submission_seconds)
                        if run.out_of_budget() else
                        tr("not graded: the notebook's process failed {restarts} times (see the problems above)",
                           restarts=limits.restarts + 1))
        return
    namespace = {"__name__": "__test__"}
    exec(imports, namespace)
    code = compile(test_source, f"<test {part.grade_id}>", "exec")
    missing = []
    session.sandbox.deadline = run.deadline()
    out, began = io.StringIO(), time.perf_counter()
    try:
        for name in sorted(_names(code) - set(namespace) - set(dir(__builtins__))):
            try:
                namespace[name] = session.lookup(name)
            except KeyError:
                missing.append(name)
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
        part.score = part.max_score
    except SandboxFailure as e:
        part.message = tr("stopped: {why}", why=run.stopped(e))
        part.error = True
        run.verdict.problems.append(tr("{part} was stopped: {why}", part=part.grade_id, why=run.stopped(e)))
    except NameError as e:
        name = getattr(e, "name", None) or str(e)
        part.message = _explain(e) if name not in missing else tr(
            "{name} is not defined in your notebook: keep the function's name as given and run its cell (was the "
            "cell deleted or the function renamed?)", name=name)
    except Exception as e:  # a check's AssertionError, or the learner's own exception (never a Ctrl-C)
        if run.sandbox is not None and run.sandbox.process.poll() is not None:
            part.message, part.error = tr("stopped: the notebook's process ended while this part was checked"), True
        else:
            part.message = _explain(e)
            part.error = not isinstance(e, AssertionError) and bool(getattr(e, "learner_where", ""))
    part.output = out.getvalue()[-5000:]
    run.verdict.timings["tests"] += time.perf_counter() - began


def _error_text(kind: str, message: str) -> str:
    """An exception in words; the notebook's placeholder is named as such."""
    if kind == "NotImplementedError" and not message.strip():
        return tr("NotImplementedError: the function is still the notebook's placeholder (raise "
                  "NotImplementedError())")
    return f"{kind}: {message}"


def _explain(e: BaseException) -> str:
    where = getattr(e, "learner_where", "")
    if isinstance(e, AssertionError):  # a check's verdict, or the ready-made tripwire
        return str(e) + (tr("\n  where: {where}", where=where) if where else "")
    text = _error_text(type(e).__name__, str(e))
    return tr("your code raised {error}\n  where: {where}", error=text, where=where) if where else text


def autograded_notebook(source_nb, submitted_nb, verdict: Verdict, outputs: dict) -> nbformat.NotebookNode:
    """The notebook nbgrader's feedback and Formgrader read: the course's cells in order, the learner's answers
    in the solution cells (with what they printed), and each test cell's verdict as its output."""
    nb = copy.deepcopy(source_nb)
    answers = {_meta(c).get("grade_id"): c for c in submitted_nb.cells if _meta(c).get("solution")}
    parts = {p.grade_id: p for p in verdict.parts}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = _meta(cell).get("grade_id")
        cell.outputs, cell.execution_count = [], None
        if _meta(cell).get("solution") and gid in answers:
            cell.source = MARKERS.sub(lambda m: m.group(0).lower(), answers[gid].source)
        if gid in parts:
            p = parts[gid]
            if p.output:
                cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=p.output))
            if p.score < p.max_score:
                ename = "Error" if p.error else "Failed"
                cell.outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=p.message,
                                                           traceback=[f"{ename}: {p.message}"]))
        elif gid in outputs or str(gid) in outputs:
            answer = outputs.get(gid) or {}
            if answer.get("output"):
                cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=answer["output"]))
            if answer.get("error"):
                err = answer["error"]
                trace = [err["where"], f"{err['type']}: {err['message']}"]
                cell.outputs.append(nbformat.v4.new_output("error", ename=err["type"], evalue=err["message"],
                                                           traceback=trace))
    return nb


def feedback_text(verdict: Verdict) -> str:
    """Plain-text feedback, in the language of the learner's notebook: the score, any problems, then per part
    what was checked, the points and why."""
    with speaking(verdict.language):
        lines = [tr("{assignment} for {student}: {score:g} / {max_score:g} points.", assignment=verdict.assignment,
                    student=verdict.student, score=verdict.score, max_score=verdict.max_score)]
        if verdict.status == "not submitted":
            lines.append(tr("Not submitted: no notebook was found, so any earlier grade of it was removed."))
        elif verdict.status != "graded":
            lines.append(tr("Not graded: {status}.", status=verdict.status))
        lines += [tr("Problem: {problem}", problem=p) for p in verdict.problems]
        for p in verdict.parts:
            mark = "PASS" if p.score == p.max_score else "FAIL"
            lines.append(f"\n[{mark}] {p.grade_id}: {p.score:g} / {p.max_score:g} - {tr(p.what)}")
            if p.message and mark == "FAIL":
                lines += ["    " + line for line in p.message.splitlines()]
    return "\n".join(lines) + "\n"
