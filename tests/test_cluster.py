"""Grading on a real Dask cluster: a scheduler and two workers on localhost, started and stopped by process id
(grader.cluster). The grades must be those of a local run, even when a worker is killed in the middle."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import processes

from grader.classroom import grade_class
from grader.course import new_workspace
from grader.ledger import Ledger
from grader.submissions import write_sample_class

DASK = Path(sys.executable).parent / "dask"
NOTEBOOKS = ("01_rnn", "06_lstm_speed")  # the sample class on these two: 6 submissions, the other 12 not submitted


def sample_class(root: Path) -> Path:
    root = new_workspace(root)
    write_sample_class(root / "submitted", copies=2)
    for folder in (root / "submitted").glob("*/*"):
        if folder.name not in NOTEBOOKS:
            shutil.rmtree(folder)
    return root


def start(*args, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(DASK), *args], stdout=open(log, "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    """The process and everything it started (a worker's nanny starts the worker), by process group."""
    with_children = [process.pid, *(int(p) for p in processes(f"--name {process.args[-1]}"))]
    for pid in with_children:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    process.wait()


@pytest.fixture
def cluster(tmp_path):
    """A scheduler and two one-thread workers; yields (address, workers, scheduler log)."""
    folder = tmp_path / "cluster"
    folder.mkdir()
    scheduler_file = folder / "scheduler.json"
    scheduler = start("scheduler", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1", "--port", "0",
                      "--no-dashboard", log=folder / "scheduler.log")
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for name in ("w1", "w2"):
            workers.append(start("worker", address, "--nthreads", "1", "--no-dashboard", "--name", name,
                                 log=folder / f"{name}.log"))
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, workers, folder / "scheduler.log"
    finally:
        for process in [*workers, scheduler]:
            stop(process)


def verdicts(root: Path) -> dict:
    ledger = Ledger(root)
    found = {}
    for assignment in NOTEBOOKS:
        for student in ledger.students(assignment):
            verdict = ledger.get(student, assignment)[1]
            found[student, assignment] = (verdict.status, [(p.grade_id, p.score, p.message) for p in verdict.parts],
                                          verdict.problems)
    return found


def test_a_class_graded_on_the_cluster_gets_the_grades_of_a_local_run(cluster, tmp_path):
    address, _, _ = cluster
    here, there = sample_class(tmp_path / "here"), sample_class(tmp_path / "there")
    grade_class(here)
    began = time.perf_counter()
    results = grade_class(there, scheduler=address)
    print(f"the cluster graded {len(results)} notebook-submissions in {time.perf_counter() - began:.1f} s")
    assert verdicts(there) == verdicts(here)
    assert len(verdicts(there)) == 2 * 3 * len(NOTEBOOKS)  # 2 copies of 3 students
    scores = {(r.student, r.assignment): r.score for r in results}
    assert scores["kim_minji", "01_rnn"] == 13 and scores["lee_junho", "01_rnn"] == 7
    assert (there / "feedback" / "lee_junho" / "01_rnn" / "feedback.txt").read_text().startswith("lee_junho의 01_rnn")


def test_a_worker_killed_in_the_middle_costs_only_its_tasks(cluster, tmp_path):
    address, workers, scheduler_log = cluster
    root = sample_class(tmp_path / "class")
    grader = subprocess.Popen([sys.executable, "-m", "grader", "grade", str(root), "--scheduler", address],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while not list((root / "verdicts").glob("*/*.json")) and time.monotonic() < deadline:
        time.sleep(0.1)  # the first verdicts of readable submissions: the workers are busy
    stop(workers[0])
    out, _ = grader.communicate(timeout=600)
    assert grader.returncode == 0, out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.split()}
    for copy in ("", "_2"):
        assert rows[f"kim_minji{copy}"][0] == "13/13" and rows[f"kim_minji{copy}"][5] == "6/6"
        assert rows[f"lee_junho{copy}"][0] == "7/13" and rows[f"lee_junho{copy}"][5] == "3/6"
    assert "grader error" not in out
    assert "Remove worker" in scheduler_log.read_text()  # the scheduler saw it go, and gave its tasks to w2
