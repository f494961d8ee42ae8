"""`python -m grader bench`: how long the course takes on this machine, against its targets.

It runs every solution notebook in full mode and in grading mode (time and the kernel's peak memory), grades a
sample class serially and with 2 workers (time per notebook-submission, wall time, peak memory of a sandbox),
and copies notebook 06's speed table (each LSTM variant against torch.nn.LSTM). The tables are printed and
written to a markdown file. Targets on a 2-core machine without a GPU: every notebook at most 2 minutes in full
mode, the series at most 8, a notebook-submission graded in at most 10 seconds.
"""

import os
import platform
import re
import resource
import shutil
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from grader.course import REPO, SOLUTIONS, assignments, new_workspace

NOTEBOOK_SECONDS, SERIES_SECONDS, SUBMISSION_SECONDS = 120, 480, 10
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
    """Grade a sample class of 3 x copies students on `names`, once per worker count."""
    from grader.classroom import grade_class
    from grader.submissions import write_sample_class

    lines = ["| workers | students | notebook-submissions | wall time s | per submission s (mean / max) | "
             "submission ≤ 10 s | largest sandbox MB |", "|---|---|---|---|---|---|---|"]
    root = new_workspace(REPO / "build" / "bench_class")
    students = write_sample_class(root / "submitted", copies)
    for folder in (root / "submitted").glob("*/*"):
        if folder.name not in names:
            shutil.rmtree(folder)
    for n in workers:
        for folder in ("autograded", "feedback"):  # a fresh start for each run
            shutil.rmtree(root / folder, ignore_errors=True)
        (root / "gradebook.db").unlink(missing_ok=True)
        start = time.perf_counter()
        results = [r for r in grade_class(root, workers=n) if r.assignment in names]
        wall = time.perf_counter() - start
        seconds = [r.seconds for r in results]
        mean = sum(seconds) / len(seconds)
        lines.append(f"| {n} | {len(students)} | {len(results)} | {wall:.0f} | {mean:.1f} / {max(seconds):.1f} | "
                     f"{_mark(mean <= SUBMISSION_SECONDS)} | {max(r.peak_mb for r in results):.0f} |")
    return lines


def bench_sandbox(starts: int = 5) -> list:
    """The fixed cost of a sandbox in each mode this machine offers: start it, load numpy, torch and the course's
    helpers, and answer that it is ready (mean and slowest of `starts`)."""
    from grader.isolation import sandbox

    lines = ["| sandbox mode | start s (mean / max) |", "|---|---|"]
    saved = os.environ.get("RNN_COURSE_SANDBOX")
    try:
        for mode in ("bubblewrap", "landlock"):
            os.environ["RNN_COURSE_SANDBOX"] = mode
            sandbox.mode.cache_clear()
            try:
                sandbox.mode()
            except OSError:
                lines.append(f"| {mode} | cannot start here |")
                continue
            seconds = []
            for _ in range(starts):
                start = time.perf_counter()
                sandbox.Sandbox(sandbox.DEFAULT_LIMITS).close()
                seconds.append(time.perf_counter() - start)
            lines.append(f"| {mode} | {sum(seconds) / starts:.2f} / {max(seconds):.2f} |")
    finally:
        os.environ.pop("RNN_COURSE_SANDBOX", None)
        if saved is not None:
            os.environ["RNN_COURSE_SANDBOX"] = saved
        sandbox.mode.cache_clear()
    return lines


def bench(out: Path, tiny: bool = False) -> str:
    """Run the benchmarks (tiny: grading mode only, one notebook, a class of 3) and write the report."""
    names = assignments()
    start = time.perf_counter()
    notebook_lines, speed = bench_notebooks(["06_lstm_speed"] if tiny else names, full=not tiny)
    starts = bench_sandbox(2 if tiny else 5)
    grading = bench_grading(1 if tiny else 7, ["01_rnn"] if tiny else names, (1, 2))
    report = "\n".join([
        f"# Benchmarks ({'tiny configuration' if tiny else 'full'})", "", f"Machine: {machine()}", "",
        "## Notebooks (solutions, in a fresh kernel)", "", *notebook_lines, "",
        "## A sandbox's start (new processes, numpy, torch and the course's helpers loaded)", "", *starts, "",
        "## Grading a class (sandbox per submission, gradebook, feedback)", "", *grading, "",
        "## LSTM at speed (notebook 06)", "", speed or "(notebook 06 printed no table)", "",
        f"Bench wall time {time.perf_counter() - start:.0f} s; grader process peak memory "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB.",
    ])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    return re.sub(r"\n{3,}", "\n\n", report)
