"""Does class grading ever lose, mix up or invent a grade? Each case runs the real command, `python -m grader grade`,
in its own process, with real signals, on a small class of notebook 01 (a student with the reference answers, one
with sigmoid for tanh, one who handed in the untouched notebook), plus whatever the case adds.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unicodedata
import uuid
from pathlib import Path

import nbformat
import pytest
from processes import processes
from traitlets.config.loader import PyFileConfigLoader

from grader.course import REPO, api, new_workspace
from grader.submissions import build

A = "01_rnn"
NB = f"{A}.ipynb"
SIGMOID = ("h_t = np.tanh(", "sigmoid = lambda a: 1 / (1 + np.exp(-a))\n    h_t = sigmoid(")
SAMPLE_START = "    rng = np.random.default_rng() if rng is None else rng"
CLASS = {"kim": build(A), "lee": build(A, {"rnn_cell_forward": [SIGMOID]}), "park": build(A, answered=False)}
EXPECTED = {"kim": 13, "lee": 7, "park": 0}


def make_class(root: Path, notebooks: dict) -> Path:
    root = new_workspace(root)
    for student, nb in notebooks.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NB)
    return root


def grade(root: Path, *options: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "grade", str(root), "--cell-timeout", "30", *options],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def start(root: Path, *options: str) -> subprocess.Popen:
    """The grader in a process group of its own, as a terminal would start it."""
    return subprocess.Popen([sys.executable, "-m", "grader", "grade", str(root), "--cell-timeout", "60", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            start_new_session=True)


def scores(root: Path) -> dict:
    with open(root / "scores.csv") as f:
        return {r["student"]: (float(r["score"]), r["status"]) for r in csv.DictReader(f) if r["assignment"] == A}


def gradebook(root: Path) -> dict:
    """The gradebook's score per student who has a submission of notebook 01."""
    with api(root).gradebook as gb:
        return {s.student.id: s.score for s in gb.find_assignment(A).submissions}


def recorded(root: Path) -> set:
    return {p.stem for p in (root / "verdicts" / A).glob("*.json")} if (root / "verdicts" / A).exists() else set()


def graded_now(run: subprocess.CompletedProcess) -> int:
    return int(re.search(r"(\d+) graded now", run.stdout).group(1))


def wait_for(condition, seconds: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def grader_peak_mb(run: subprocess.CompletedProcess) -> float:
    return float(re.search(r"grader's peak memory (\d+) MB", run.stdout).group(1))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The class graded once, start to end: what every interrupted and resumed run must end equal to."""
    root = make_class(tmp_path_factory.mktemp("clean") / "course", CLASS)
    run = grade(root)
    assert run.returncode == 0, run.stderr
    assert {s: score for s, (score, _) in scores(root).items()} == EXPECTED
    assert gradebook(root) == EXPECTED
    return root, run


def test_a_rerun_with_nothing_changed_grades_nothing_and_changes_nothing(clean, tmp_path):
    root, _ = clean
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, symlinks=True)
    before = {p: p.read_bytes() for p in (copy / "verdicts").rglob("*.json")}
    run = grade(copy)
    assert run.returncode == 0 and graded_now(run) == 0, run.stdout
    assert {p: p.read_bytes() for p in (copy / "verdicts").rglob("*.json")} == before


def test_kill_9_loses_only_what_was_in_flight_and_a_rerun_finishes_the_job(clean, tmp_path):
    students = {**CLASS, **{f"z{k}": build(A) for k in range(3)}}
    root = make_class(tmp_path / "course", students)
    grader = start(root)
    wait_for(lambda: len(recorded(root)) >= 2, what="two recorded verdicts")
    grader.kill()
    grader.wait()
    kept = recorded(root)
    assert 2 <= len(kept) < len(students)
    assert set(gradebook(root)) >= kept  # every recorded verdict is in the gradebook
    files = {s: (root / "verdicts" / A / f"{s}.json") for s in kept}
    stamps = {s: (p.stat().st_mtime_ns, p.read_bytes()) for s, p in files.items()}
    run = grade(root)
    assert run.returncode == 0, run.stderr
    assert {s: (p.stat().st_mtime_ns, p.read_bytes()) for s, p in files.items()} == stamps  # kept, not regraded
    assert recorded(root) == set(students)
    assert {s: score for s, (score, _) in scores(root).items()} == {**EXPECTED, "z0": 13, "z1": 13, "z2": 13}
    assert gradebook(root) == {**EXPECTED, "z0": 13, "z1": 13, "z2": 13}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_during_a_test_records_no_score_stops_every_sandbox_and_a_rerun_resumes(tmp_path, workers):
    tag = f"rnn-slow-{uuid.uuid4().hex[:8]}"
    once = (f"    import subprocess, time\n    if not hasattr(sample, 'slept'):  # the first call only\n"
            f"        subprocess.Popen(['sh', '-c', 'sleep 20 # {tag}'])\n        time.sleep(8)\n"
            "    sample.slept = True\n")
    slow = build(A, {"sample": [(SAMPLE_START, once + SAMPLE_START)]})
    root = make_class(tmp_path / "course", {"kim": build(A), "slow": slow})
    grader = start(root, "--workers", workers)
    wait_for(lambda: processes(tag), what="the slow test to start")
    os.killpg(grader.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
    out, err = grader.communicate(timeout=60)
    assert grader.returncode == 130, (out, err)
    assert err.strip().splitlines() == [err.strip().splitlines()[-1]] and "run the same command again" in err, err
    assert "Traceback" not in err
    assert "slow" not in recorded(root) and "slow" not in gradebook(root)
    wait_for(lambda: not processes("grader.isolation.child"), 10, "the sandboxes to end")
    kim = root / "verdicts" / A / "kim.json"
    stamp = kim.stat().st_mtime_ns if kim.exists() else None  # with 2 workers kim may have been in flight too
    run = grade(root)
    assert run.returncode == 0, run.stderr
    assert scores(root)["slow"][0] == 13 and scores(root)["kim"][0] == 13
    assert stamp is None or kim.stat().st_mtime_ns == stamp  # a recorded verdict is kept, not graded again


def test_a_second_run_on_the_same_class_is_refused_at_once(tmp_path):
    root = make_class(tmp_path / "course", CLASS)
    first = start(root)
    try:
        wait_for(lambda: (root / ".grader.lock").exists() and (root / ".grader.lock").read_text().strip(),
                 what="the first run's lock")
        began = time.monotonic()
        second = grade(root)
        assert second.returncode == 2 and time.monotonic() - began < 30
        assert f"process {first.pid}" in second.stderr, second.stderr
    finally:
        first.wait(timeout=600)
    assert first.returncode == 0
    assert {s: score for s, (score, _) in scores(root).items()} == EXPECTED


def test_withdrawn_and_resubmitted_work(clean, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(clean[0], root, symlinks=True)
    shutil.rmtree(root / "submitted" / "kim" / A)  # withdrawn
    nbformat.write(build(A), root / "submitted" / "lee" / A / NB)  # resubmitted, fixed
    run = grade(root)
    assert run.returncode == 0, run.stderr
    assert graded_now(run) == 2  # lee's new notebook and kim's withdrawal; park's verdict is kept
    assert scores(root)["kim"] == (0, "not submitted") and scores(root)["lee"][0] == 13
    assert gradebook(root) == {"lee": 13, "park": 0}  # kim's old grade is gone, not left at 13
    assert "earlier grade" in (root / "feedback" / "kim" / A / "feedback.txt").read_text()


def test_submissions_that_used_to_stop_the_whole_class_get_a_status_of_their_own(tmp_path):
    breakers = {
        "count_none": build(A, {"softmax": [("def softmax(", "import sys\nsys.stdout.count = None\ndef softmax(")]}),
        "hidden_marker": build(A, {"softmax": [("def softmax(", "# ### BEGIN HIDDEN TESTS\ndef softmax(")]}),
        "dangling_link": build(A),
        "김민지": build(A),
    }
    root = make_class(tmp_path / "course", {**CLASS, **breakers})
    (root / "submitted" / "dangling_link" / A / "data.npy").symlink_to("/nonexistent/file")
    (root / "submitted" / "*").mkdir()
    nbformat.write(build(A), (root / "submitted" / "*" / NB))
    (root / "submitted" / ".ipynb_checkpoints").mkdir()
    run = grade(root)
    assert run.returncode == 0, run.stdout + run.stderr
    got = scores(root)
    assert {s: got[s][0] for s in (*CLASS, "count_none", "hidden_marker", "dangling_link", "김민지")} == {
        **EXPECTED, "count_none": 13, "hidden_marker": 13, "dangling_link": 13, "김민지": 13}
    assert got["*"][0] == 0 and "cannot be an nbgrader student id" in got["*"][1]
    assert ".ipynb_checkpoints" not in got
    assert (root / "feedback" / "hidden_marker" / A / f"{A}.html").exists()
    lines = [line for line in run.stdout.splitlines() if line.startswith(("student", "김민지", "kim "))]
    ends = {columns(line[:line.index("01_rnn") + 6] if line.startswith("student") else line[:line.index("13/13") + 5])
            for line in lines}
    assert len(lines) == 3 and len(ends) == 1, lines  # Korean names take two columns a character


def test_what_a_submission_sends_back_cannot_blow_up_the_grader(tmp_path):
    big = ("import numpy as _np, grader.isolation.wire as _w\n_orig = _w.Encoder._buffer\n"
           "def _buffer(self, a):\n    if a.nbytes > 2**20:\n        if not self.buffers:\n"
           "            self.buffers.append(a.tobytes())\n"
           "        return {'dtype': a.dtype.name, 'shape': list(a.shape), 'b': 0}\n    return _orig(self, a)\n"
           "_w.Encoder._buffer = _buffer\n")
    attacks = {
        "one_buffer_24_times": build(A, {"sample": [(SAMPLE_START, "    return [_np.ones(2**23)] * 24")],
                                         "softmax": [("def softmax(", big + "def softmax(")]}),
        "lstm_sizes_by_hand": build(A, {"sample": [(SAMPLE_START, "    import torch\n    m = torch.nn.LSTM(4, 4)\n"
                                                                  "    m.hidden_size, m.num_layers = 100_000, 8\n"
                                                                  "    return m")]}),
        "index_3e8": build(A, {"sample": [(SAMPLE_START, "    return [300_000_000] * n")]}),
        "output_past_the_cap": build(A, {"softmax": [("def softmax(", "import sys\n"
                                                     "sys.stdout.kept.append('x' * 300_000_000)\ndef softmax(")]}),
    }
    root = make_class(tmp_path / "course", {"kim": build(A), **attacks})
    run = grade(root, "--memory", "6")
    assert run.returncode == 0, run.stdout + run.stderr
    got = scores(root)
    assert got["kim"][0] == 13
    for name in ("one_buffer_24_times", "lstm_sizes_by_hand", "index_3e8"):
        assert got[name][0] == 11, (name, got[name])  # only sample's 2 points are lost
    assert got["output_past_the_cap"][0] == 13
    assert "outside" in (root / "feedback" / "index_3e8" / A / "feedback.txt").read_text()
    for student in attacks:
        for path in (root / "feedback" / student / A).iterdir():
            assert path.stat().st_size < 5 * 2**20, path
    assert grader_peak_mb(run) < 1024, run.stdout


def test_a_copied_class_folder_uses_its_own_gradebook(clean, tmp_path):
    original = clean[0]
    copy = tmp_path / "moved"
    shutil.copytree(original, copy, symlinks=True)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(copy)).load_config()
    assert config.CourseDirectory.root == str(copy)
    before = hashlib.sha256((original / "gradebook.db").read_bytes()).hexdigest()
    nbformat.write(build(A), copy / "submitted" / "lee" / A / NB)
    run = grade(copy)
    assert run.returncode == 0 and gradebook(copy)["lee"] == 13
    assert hashlib.sha256((original / "gradebook.db").read_bytes()).hexdigest() == before


def test_stock_nbgrader_commands_afterwards_do_not_destroy_the_graders_files(clean, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(clean[0], root, symlinks=True)
    ours = (root / "scores.csv").read_bytes()
    subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=root, capture_output=True, check=True)
    assert (root / "grades.csv").exists() and (root / "scores.csv").read_bytes() == ours
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", A, "--force"], cwd=root,
                   capture_output=True, check=True)
    assert not (root / "feedback" / "kim" / A / "feedback.txt").exists()  # nbgrader rewrote the folder
    run = grade(root)
    assert run.returncode == 0 and graded_now(run) == 0
    assert "13 / 13 points" in (root / "feedback" / "kim" / A / "feedback.txt").read_text()


def test_a_full_disk_gives_one_line_keeps_every_file_whole_and_a_rerun_completes(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        root = make_class(mount / "course", {**CLASS, "kim2": build(A), "kim3": build(A)})
        free = shutil.disk_usage(mount).free
        filler = mount / "filler"
        filler.write_bytes(b"\0" * max(0, free - 1_500_000))  # room for the first verdicts only
        run = grade(root)
        assert run.returncode == 2, run.stdout + run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and "disk is full" in run.stderr, run.stderr
        for path in root.rglob("*.json"):
            json.loads(path.read_text())
        for path in root.rglob("*.ipynb"):
            nbformat.read(path, as_version=4)
        gradebook(root)  # opens, whole
        assert not list(root.rglob(".*.tmp"))
        filler.unlink()
        run = grade(root)
        assert run.returncode == 0, run.stdout + run.stderr
        assert {s: score for s, (score, _) in scores(root).items()} == {**EXPECTED, "kim2": 13, "kim3": 13}
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_nbgraders_own_autograde_over_the_grades_is_found_and_graded_again(tmp_path):
    """Formgrader's Autograde button runs nbgrader's own autograde, unsandboxed, over this grader's scores: a
    submission that patches numpy.allclose earns there what its code does not. The next run finds the gradebook
    no longer holds the recorded verdict and grades that submission again, alone."""
    patch = ("import numpy as np\nnp.allclose = lambda *a, **k: True\n"
             "np.testing.assert_allclose = lambda *a, **k: None\n")
    cheat = build(A, {"rnn_cell_forward": [SIGMOID, ("def rnn_cell_forward(", patch + "def rnn_cell_forward(")]})
    root = make_class(tmp_path / "course", {"kim": build(A), "cheat": cheat})
    assert grade(root).returncode == 0
    ours = gradebook(root)
    assert ours["cheat"] < 13 and ours["kim"] == 13
    kim = root / "verdicts" / A / "kim.json"
    stamp = kim.stat().st_mtime_ns
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", A, "--force"], cwd=root, env=env, check=True,
                   capture_output=True)
    assert gradebook(root)["cheat"] > ours["cheat"]  # fooled

    run = grade(root)
    assert run.returncode == 0 and graded_now(run) == 1, run.stdout
    assert "the gradebook holds other scores than this grader recorded for 1 submission(s) (cheat/01_rnn" in run.stderr
    assert gradebook(root) == ours and scores(root)["cheat"][0] == ours["cheat"]
    assert kim.stat().st_mtime_ns == stamp
