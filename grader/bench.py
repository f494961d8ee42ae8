"""`python -m grader bench`: how long the course takes on this machine, against its targets.

It runs every solution notebook in full mode and in grading mode (time and the kernel's peak memory), grades a
class of reference answers serially and with 2 workers, cold and warm, and with plain nbgrader (time per
notebook-submission and where it goes, wall time, peak memory of a sandbox),
and copies notebook 06's speed table (each LSTM variant against torch.nn.LSTM). The tables are printed and
written to a markdown file. Targets on a 2-core machine without a GPU: every notebook at most 2 minutes in full
mode, the series at most 8; a notebook-submission's sandbox time at most 2 seconds on average from the warm
template, and twice the throughput of cold sandboxes at equal workers.
"""

import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from grader.course import REPO, SOLUTIONS, assignments, new_workspace
from grader.submissions import build, write_roster
from grader.verdict import TIMINGS

NOTEBOOK_SECONDS, SERIES_SECONDS, WARM_SECONDS = 120, 480, 2
_PEAK = "import re\nprint('peak-rss-kB', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))"


def execute(assignment: str, grading: bool, peak: bool = False) -> nbformat.NotebookNode:
    """Run a solution notebook in a fresh kernel, in grading mode (NBGRADER_EXECUTION set) or in full mode.
    Errors stay in the outputs. peak=True appends a cell that prints the kernel's peak resident memory."""
    path = SOLUTIONS / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    if peak:
        nb.cells.append(nbformat.v4.new_code_cell(_PEAK))
    saved = os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        if grading:
            os.environ["NBGRADER_EXECUTION"] = "validate"
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                       allow_errors=True).execute()
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)
        if saved is not None:
            os.environ["NBGRADER_EXECUTION"] = saved
    return nb


def errors(nb) -> list[str]:
    return [f"{o.ename}: {o.evalue}" for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "error"]


def text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def machine() -> str:
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (f"{platform.machine()}, {os.cpu_count()} cores, {gpu}; Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


def bench_notebooks(names: list, full: bool) -> tuple[list, str]:
    """Lines of the notebooks' table, and notebook 06's speed table (from the last run that printed one)."""
    lines = ["| notebook | full mode s | grading mode s | peak memory MB (full / grading) | full ≤ 2 min |",
             "|---|---|---|---|---|"]
    speed, total = "", 0.0
    for name in names:
        runs = {}
        for grading in ([False, True] if full else [True]):
            start = time.perf_counter()
            nb = execute(name, grading=grading, peak=True)
            seconds = time.perf_counter() - start
            if errors(nb):
                raise RuntimeError(f"{name} ({'grading' if grading else 'full'} mode) failed: {errors(nb)[0]}")
            out = text(nb)
            runs[grading] = (seconds, int(out.split("peak-rss-kB ")[-1].split()[0]) / 1024)
            if "| variant |" in out and not (grading and speed):  # full mode's table where there is one
                speed = "\n".join(line for line in out.splitlines()
                                  if line.startswith(("|", "forward + backward", "best of")))
        full_s, full_mb = runs.get(False, (float("nan"), float("nan")))
        total += full_s
        lines.append(f"| {name} | {full_s:.0f} | {runs[True][0]:.0f} | {full_mb:.0f} / {runs[True][1]:.0f} | "
                     f"{_mark(full_s <= NOTEBOOK_SECONDS) if full else '-'} |")
    if full:
        lines.append(f"| the series | {total:.0f} | | | ≤ 8 min: {_mark(total <= SERIES_SECONDS)} |")
    return lines, speed


def bench_grading(copies: int, names: list, workers: tuple) -> list:
    """Grade `copies` students who hand in the reference answers of `names`: with each worker count, once with
    every sandbox started from a new template (cold: the libraries loaded for each, as the grader did before the
    template), once from this run's warm template; then with plain `nbgrader autograde`, the tool an instructor
    would otherwise use, on the same submissions. Lines of the table and of the per-submission breakdown."""
    from grader.classroom import grade_class

    root = new_workspace(REPO / "build" / "bench_class")
    students = [f"reference_{k}" for k in range(1, copies + 1)]
    write_roster(root, students)
    for student in students:
        for name in names:
            (root / "submitted" / student / name).mkdir(parents=True)
            nbformat.write(build(name), root / "submitted" / student / name / f"{name}.ipynb")
    runs = []
    for n in workers:
        for start in ("cold", "warm"):
            _fresh(root)
            os.environ["RNN_COURSE_COLD_START"] = "1" if start == "cold" else "0"
            began = time.perf_counter()
            try:
                results = [r for r in grade_class(root, workers=n) if r.assignment in names]
            finally:
                os.environ.pop("RNN_COURSE_COLD_START")
            runs.append((n, start, time.perf_counter() - began, results))
    _fresh(root)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}  # alembic

    def nbgrader(*args):
        subprocess.run([sys.executable, "-m", "nbgrader", *args, "--force"], cwd=root, check=True, capture_output=True,
                       env=env)

    for name in names:
        nbgrader("generate_assignment", name)  # the gradebook's assignment, as an instructor has it
    began = time.perf_counter()
    for name in names:
        nbgrader("autograde", name)
    nbgrader_wall = time.perf_counter() - began

    count = copies * len(names)
    lines = ["| workers | sandboxes | notebook-submissions | wall s | per minute | vs cold | sandbox s per submission "
             "(mean / max) | ≤ 2 s | largest sandbox MB | all full marks |", "|---" * 10 + "|"]
    breakdown = ["| workers | sandboxes | libraries s | start s | cells s | tests s | other s |", "|---" * 7 + "|"]
    for n, start, wall, results in runs:
        cold = next(w for m, how, w, _ in runs if m == n and how == "cold")
        seconds = [r.seconds for r in results]
        mean = sum(seconds) / len(seconds)
        full = all(r.score == r.max_score for r in results)
        lines.append(f"| {n} | {start} | {len(results)} | {wall:.0f} | {60 * len(results) / wall:.1f} | "
                     f"{cold / wall:.2f}x | {mean:.2f} / {max(seconds):.2f} | {_mark(mean <= WARM_SECONDS)} | "
                     f"{max(r.peak_mb for r in results):.0f} | {_mark(full)} |")
        parts = {k: sum(r.timings.get(k, 0) for r in results) / len(results) for k in TIMINGS}
        breakdown.append(f"| {n} | {start} | " + " | ".join(f"{parts[k]:.2f}" for k in TIMINGS) +
                         f" | {mean - sum(parts.values()):.2f} |")
    warm_1 = next(w for m, how, w, _ in runs if m == 1 and how == "warm")
    lines.append(f"| 1 | plain `nbgrader autograde` | {count} | {nbgrader_wall:.0f} | "
                 f"{60 * count / nbgrader_wall:.1f} | this grader warm, 1 worker: {nbgrader_wall / warm_1:.2f}x faster "
                 f"| {nbgrader_wall / count:.2f} (wall / submissions) | | | |")
    return lines + ["", "Per notebook-submission, mean seconds:", "", *breakdown]


def _fresh(root: Path) -> None:
    """The class folder as before any grading: no verdicts, gradebook, autograded notebooks or feedback."""
    for folder in ("autograded", "feedback", "verdicts"):
        shutil.rmtree(root / folder, ignore_errors=True)
    for name in ("gradebook.db", "scores.csv", "parts.csv"):
        (root / name).unlink(missing_ok=True)


def bench_sandbox(starts: int = 5) -> list:
    """What a sandbox costs to start in each mode this machine offers: a template (new processes, numpy, torch and
    the course's helpers loaded), and a sandbox forked from it (mean and slowest of `starts`)."""
    from grader.isolation import sandbox

    lines = ["| sandbox mode | template start s (mean / max) | sandbox from the template s (mean / max) |",
             "|---|---|---|"]
    saved = os.environ.get("RNN_COURSE_SANDBOX")
    try:
        for mode in ("bubblewrap", "landlock"):
            os.environ["RNN_COURSE_SANDBOX"] = mode
            sandbox.mode.cache_clear()
            try:
                sandbox.mode()
            except OSError:
                lines.append(f"| {mode} | cannot start here | |")
                continue
            templates, forks = [], []
            for _ in range(starts):
                sandbox.close_all()
                begin = time.perf_counter()
                sandbox.Sandbox(sandbox.DEFAULT_LIMITS).close()
                templates.append(time.perf_counter() - begin)
                begin = time.perf_counter()
                sandbox.Sandbox(sandbox.DEFAULT_LIMITS).close()
                forks.append(time.perf_counter() - begin)
            sandbox.close_all()
            lines.append(f"| {mode} | {sum(templates) / starts:.2f} / {max(templates):.2f} | "
                         f"{sum(forks) / starts:.3f} / {max(forks):.3f} |")
    finally:
        os.environ.pop("RNN_COURSE_SANDBOX", None)
        if saved is not None:
            os.environ["RNN_COURSE_SANDBOX"] = saved
        sandbox.mode.cache_clear()
    return lines


def bench(out: Path, tiny: bool = False, grading: bool = False) -> str:
    """Run the benchmarks (tiny: grading mode only, one notebook, a class of 3; grading: only the sandbox and the
    class) and write the report."""
    names = assignments()
    start = time.perf_counter()
    notebook_lines, speed = (["(not run: --grading)"], "") if grading else \
        bench_notebooks(["06_lstm_speed"] if tiny else names, full=not tiny)
    starts = bench_sandbox(2 if tiny else 5)
    grading = bench_grading(3 if tiny else 7, ["01_rnn"] if tiny else names, (1, 2))
    report = "\n".join([
        f"# Benchmarks ({'tiny configuration' if tiny else 'full'})", "", f"Machine: {machine()}", "",
        "## Notebooks (solutions, in a fresh kernel)", "", *notebook_lines, "",
        "## A sandbox's start", "", *starts, "",
        "## Grading a class of reference answers (sandbox per submission, gradebook, feedback)", "", *grading, "",
        "## LSTM at speed (notebook 06)", "", speed or "(notebook 06 printed no table)", "",
        f"Bench wall time {time.perf_counter() - start:.0f} s; grader process peak memory "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB.",
    ])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    return re.sub(r"\n{3,}", "\n\n", report)
