"""Can a submission run outside its sandbox, outlive it, or see what the grader keeps? Each attack is a student of
one class graded by the real command, `python -m grader grade .` started from inside the class folder, next to a
student with the reference answers, in both sandbox modes: bubblewrap (+ Landlock) and the Landlock-only fallback.

Every attack also tries to leave a mark outside the sandbox (a file in the host's /tmp or the class folder, an
edit to a classmate's notebook); after grading, none may exist and no file of the class or the course may differ.
"""

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from mutants import BWD, CELL_BWD, CELL_FWD, FWD, SAMPLE, SOFTMAX
from processes import kill_all, processes

from grader.course import REPO, new_workspace
from grader.isolation.family import tree
from grader.submissions import build

A = "01_rnn"
NB = f"{A}.ipynb"
TOKEN = uuid.uuid4().hex[:12]
SECRET = f"grader-secret-{TOKEN}"
ESCAPE = Path(f"/tmp/rnn-escape-{TOKEN}")  # the host's /tmp: any payload that runs outside the sandbox writes it
OPTIONS = ["--cell-timeout", "10", "--budget", "30", "--memory", "1"]
ALL = {SOFTMAX, CELL_FWD, FWD, CELL_BWD, BWD, SAMPLE}
SIGMOID = ("h_t = np.tanh(", "sigmoid = lambda a: 1 / (1 + np.exp(-a))\n    h_t = sigmoid(")


def _modes() -> list:
    probe = ["bwrap", "--unshare-all", "--unshare-user", "--ro-bind", "/", "/", "true"]
    bwrap_ok = shutil.which("bwrap") and subprocess.run(probe, capture_output=True).returncode == 0
    reason = "bubblewrap is not installed or cannot start here (.ci/run installs Debian's bubblewrap)"
    return [pytest.param("bubblewrap", marks=pytest.mark.skipif(not bwrap_ok, reason=reason)), "landlock"]


def before(grade_id: str, code: str) -> tuple[str, str]:
    """An edit that puts top-level code in front of the answer cell's function."""
    return f"def {grade_id}(", f"{code}\ndef {grade_id}("


def first_line(marker: str, code: str) -> tuple[str, str]:
    return marker, f"{code}\n{marker}"


def payload(root: Path, tag: str) -> str:
    """What an escaped piece of code would do: leave a file on the host, edit a classmate's notebook, add to
    the gradebook's folder. Each step is tried on its own; inside a sandbox none of them reaches the host."""
    victim = root / "submitted" / "a_perfect" / A / NB
    return (f"import os\nfor _path, _mode in [({str(ESCAPE) + '-' + tag!r}, 'w'), ({str(victim)!r}, 'a'), "
            f"({str(root / ('hacked-' + tag))!r}, 'w')]:\n"
            "    try:\n        open(_path, _mode).write(' ')\n    except OSError:\n        pass\n")


SPY = """import glob, os
found = []
for _path in {secrets!r} + glob.glob('/proc/*/environ'):
    try:
        _data = open(_path, 'rb').read()
    except OSError:
        continue
    if not _path.startswith('/proc/') or {secret!r}.encode() in _data:
        found.append(_path)
for _path in {targets!r}:
    try:
        open(_path, 'a').write('x')
        found.append('wrote ' + _path)
    except OSError:
        pass
assert not found, found
"""

STALL = "import time\ntime.sleep(6)"  # under the cell limit; with the replay forced by EXIT, past the budget
EXIT = "    __import__('os')._exit(1)"


def _cases(root: Path) -> dict:
    """student: (notebook or None, expected lost parts, words in feedback.txt by mode or for both)."""
    secrets = ["/etc/shadow", str(REPO / "solutions" / A / NB), str(root / "solutions" / A / NB),
               f"solutions/{A}/{NB}", str(root / "gradebook.db"), str(root / "submitted" / "a_perfect" / A / NB),
               str(REPO / "grader" / "checks" / "rnn.py"), str(REPO / "grader" / "checks" / "__init__.py")]
    targets = [str(root / "gradebook.db"), str(root / "scores.csv"), str(root / "submitted" / "a_perfect" / A / NB),
               str(REPO / "grader" / "checks" / "rnn.py")]
    spy = SPY.format(secrets=secrets, secret=SECRET, targets=targets)
    references = [("    h_t = np.tanh(", "    from grader.checks.rnn import ref_cell_forward\n"
                   "    h_t, y_t = ref_cell_forward(x_t, h_prev, params)\n"
                   "    return h_t.cpu().numpy(), y_t.cpu().numpy()\n    h_t = np.tanh(")]
    checks_source = ("import grader, os\n_checks = os.path.join(os.path.dirname(grader.__file__), 'checks', 'rnn.py')\n"
                     "try:\n    open(_checks).read()\n    raise AssertionError('read the checks')\nexcept OSError:\n"
                     "    pass")
    hog = ("    import subprocess, sys\n    subprocess.run([sys.executable, '-c', 'import numpy, time; "
           "a = numpy.ones(200_000_000); time.sleep(30)'])")
    shm = ("    import os\n    open(os.path.join(os.environ['HOME'], 'left-behind'), 'w').write('x')\n"
           "    with open('/dev/shm/rnn-hog', 'wb') as f:\n        for _ in range(1536):\n"
           "            f.write(b'x' * 2**20)")
    shm_reader = ("import os\nfor _path in ['/dev/shm/rnn-hog', os.path.join(os.environ['HOME'], 'left-behind')]:\n"
                  "    assert not os.path.exists(_path), _path + ' was left by the previous student'")
    loops = (f"import subprocess\nfor _ in range(2):\n    subprocess.Popen(['/bin/sh', '-c', '(setsid sh -c "
             f"\"while :; do :; done # rnn-detached-{TOKEN}\" &) ; exit 0'])")
    after_loops = f"import subprocess\nsubprocess.run(['/bin/sh', '-c', 'sleep 2; : rnn-next-{TOKEN}'])"
    many = ("    import subprocess\n    [subprocess.Popen(['sleep', '60']) for _ in range(300)]")
    sample = "    rng = np.random.default_rng() if rng is None else rng"
    return {
        "a_perfect": (build(A), set(), None),
        "shadow_numpy": (build(A), set(), None),
        "shadow_grader": (build(A), set(), None),
        "symlinked_notebook": (None, ALL, "is a symbolic link, not a notebook file"),
        "symlinked_folder": (None, ALL, "is not a folder"),
        "symlinks_inside": (build(A, {"rnn_cell_forward": [SIGMOID, before(
            "rnn_cell_forward", "for _p in ['hidden.ipynb', 'classmate/01_rnn.ipynb']:\n"
                                "    try:\n        print(open(_p).read())\n    except OSError:\n        pass")]}),
            {CELL_FWD, FWD, SAMPLE}, "sigmoid used where h_t needs tanh"),
        "fifo_notebook": (None, ALL, "is not a regular file"),
        "imports_the_references": (build(A, {"rnn_cell_forward": references,
                                             "softmax": [before("softmax", checks_source)]}),
                                   {CELL_FWD, FWD, SAMPLE}, "rnn_cell_forward"),
        "reads_secrets": (build(A, {"softmax": [before("softmax", spy)]}), set(), None),
        "shm_1_fills_dev_shm": (build(A, {"sample": [first_line(sample, shm)]}), {SAMPLE},
                                {"bubblewrap": "memory limit of 1 GiB", "landlock": "PermissionError"}),
        "shm_2_finds_it_empty": (build(A, {"softmax": [before("softmax", shm_reader)]}), set(), None),
        "subprocess_over_memory": (build(A, {"sample": [first_line(sample, hog)]}), {SAMPLE}, "memory limit of 1 GiB"),
        "too_many_processes": (build(A, {"sample": [first_line(sample, many)]}), {SAMPLE},
                               ("processes and threads", "Resource temporarily unavailable")),
        "loops_1_detached": (build(A, {"softmax": [before("softmax", loops)]}), set(), None),
        "loops_2_next_student": (build(A, {"softmax": [before("softmax", after_loops)]}), set(), None),
        "stall_and_replay": (build(A, {"softmax": [before("softmax", STALL)],
                                       "rnn_cell_forward": [before("rnn_cell_forward", STALL)],
                                       "rnn_forward": [before("rnn_forward", STALL)],
                                       "rnn_cell_backward": [first_line("    da = dh_t", EXIT)]}),
                             {CELL_BWD, BWD, SAMPLE}, "time budget of 30 s"),  # the first three tests ran
                             # where they stand, before the exit; the replay of 3 x 6 s then meets the budget
    }


def _write_class(root: Path) -> dict:
    cases = _cases(root)
    submitted = root / "submitted"
    for student, (nb, _, _) in cases.items():
        folder = submitted / student / A
        folder.mkdir(parents=True)
        if nb is not None:
            nbformat.write(nb, folder / NB)
    # code handed in next to the notebook, where an import would find it first
    shadow = payload(root, "shadow_numpy") + "import sys\nsys.path.pop(0)\ndel sys.modules['numpy']\nimport numpy\n"
    (submitted / "shadow_numpy" / A / "numpy.py").write_text(shadow)
    package = submitted / "shadow_grader" / A / "grader"
    package.mkdir()
    for name in ("__init__.py", "checks.py", "isolation.py"):
        (package / name).write_text(payload(root, "shadow_grader"))
    (submitted / "symlinked_notebook" / A / NB).symlink_to(Path("../../../solutions") / A / NB)
    (submitted / "symlinked_folder" / A).rmdir()
    (submitted / "symlinked_folder" / A).symlink_to(Path("../a_perfect") / A)
    inside = submitted / "symlinks_inside" / A
    (inside / "hidden.ipynb").symlink_to(Path("../../../solutions") / A / NB)
    (inside / "classmate").symlink_to(Path("../../a_perfect") / A)
    os.mkfifo(submitted / "fifo_notebook" / A / NB)
    return cases


def _fingerprint(*folders: Path) -> dict:
    """Every file's hash under the folders (links and FIFOs by their kind, never followed or opened); Python's
    bytecode caches, which the grader's own imports may write, are left out."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            if path.is_symlink() or not path.is_file():
                found[str(path)] = "link" if path.is_symlink() else "other"
            else:
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _course_files() -> list[Path]:
    return [REPO / name for name in ("solutions", "notebooks", "grader", "rnncourse", "datasets")]


def _grader(root: Path, mode: str, *extra: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "RNN_COURSE_SANDBOX": mode, "GRADER_SECRET": SECRET}
    return subprocess.Popen([sys.executable, "-m", "grader", "grade", ".", *OPTIONS, *extra], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


@pytest.fixture(scope="module", params=_modes())
def attacked_class(request, tmp_path_factory):
    mode = request.param
    root = new_workspace(tmp_path_factory.mktemp(f"containment-{mode}") / "course")
    cases = _write_class(root)
    submitted_before = _fingerprint(root / "submitted")
    course_before = _fingerprint(*_course_files())
    grader = _grader(root, mode)
    looks = []  # (the next student's process seen, a detached loop of the previous one seen), while grading
    watcher = threading.Thread(target=_look, args=(grader, looks), daemon=True)
    watcher.start()
    out, _ = grader.communicate(timeout=900)
    watcher.join()
    leftovers = processes(f"rnn-detached-{TOKEN}")
    kill_all(f"rnn-detached-{TOKEN}")
    assert grader.returncode == 0, out
    yield {"mode": mode, "root": root, "cases": cases, "out": out, "leftovers": leftovers, "looks": looks,
           "submitted_before": submitted_before, "course_before": course_before}
    for mark in Path("/tmp").glob(f"rnn-escape-{TOKEN}*"):
        mark.unlink()


def _look(grader: subprocess.Popen, looks: list) -> None:
    while grader.poll() is None:
        looks.append((bool(processes(f"rnn-next-{TOKEN}")), bool(processes(f"rnn-detached-{TOKEN}"))))
        time.sleep(0.2)  # the next student's process lives 2 s


def _grades(root: Path) -> dict:
    import csv

    with open(root / "parts.csv") as f:
        parts = [row for row in csv.DictReader(f) if row["assignment"] == A]
    lost = {}
    for row in parts:
        lost.setdefault(row["student"], set())
        if float(row["score"]) < float(row["max_score"]):
            lost[row["student"]].add(row["part"])
    return lost


def test_the_grader_says_which_sandbox_it_used(attacked_class):
    words = {"bubblewrap": "bubblewrap namespaces and Landlock", "landlock": "Landlock only"}[attacked_class["mode"]]
    assert f"sandbox   on ({words}" in attacked_class["out"] or f"sandbox   on, {words}" in attacked_class["out"]


@pytest.mark.parametrize("student", sorted(_cases(Path("/class"))))
def test_an_attack_earns_only_what_its_code_earns_and_leaves_no_mark(attacked_class, student):
    root, mode = attacked_class["root"], attacked_class["mode"]
    _, expected, words = attacked_class["cases"][student]
    lost = _grades(root)
    assert lost[student] == expected, f"{student} lost {sorted(lost[student])}"
    text = (root / "feedback" / student / A / "feedback.txt").read_text()
    if isinstance(words, dict):
        words = words[mode]
    if words is not None:
        assert any(w in text for w in ([words] if isinstance(words, str) else words)), text
    assert not list(Path("/tmp").glob(f"rnn-escape-{TOKEN}*")), "a payload ran outside the sandbox"
    assert not list(root.glob("hacked-*"))


def test_no_file_of_the_class_or_the_course_changed(attacked_class):
    root = attacked_class["root"]
    assert _fingerprint(root / "submitted") == attacked_class["submitted_before"]
    assert _fingerprint(*_course_files()) == attacked_class["course_before"]


def test_nothing_behind_a_link_reaches_the_feedback(attacked_class):
    root = attacked_class["root"]
    for student in ("symlinks_inside", "symlinked_notebook", "symlinked_folder"):
        for path in (root / "feedback" / student / A).iterdir():
            text = path.read_text()
            for secret in ("BEGIN HIDDEN TESTS", "seed=2, N=8", "### BEGIN SOLUTION", "ref_cell_forward", "a_perfect"):
                assert secret not in text, (path, secret)
    assert not (root / "autograded" / "symlinked_notebook").exists()


def test_detached_processes_die_with_their_sandbox(attacked_class):
    """Two busy loops detached with setsid by one student are gone before the next student's code runs (in the
    fallback too: the template adopts them), and none is left after grading."""
    looks = attacked_class["looks"]
    assert any(next_student for next_student, _ in looks), "the next student's process was never seen"
    assert not any(next_student and loops for next_student, loops in looks), "the loops outlived their sandbox"
    assert attacked_class["leftovers"] == []


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("mode", _modes())
def test_kill_9_of_the_grader_leaves_no_process_behind(tmp_path, mode, workers):
    root = new_workspace(tmp_path / "course")
    tag = f"rnn-kill9-{uuid.uuid4().hex[:8]}"
    spin = (f"import subprocess\nsubprocess.Popen(['/bin/sh', '-c', '(setsid sh -c \"while :; do :; done # {tag}\" &)"
            f" ; exit 0'])\nsubprocess.Popen(['sh', '-c', 'while :; do :; done # {tag}'])\nwhile True:\n    pass")
    folder = root / "submitted" / "spinner" / A
    folder.mkdir(parents=True)
    nbformat.write(build(A, {"softmax": [before("softmax", spin)]}), folder / NB)
    grader = _grader(root, mode, "--workers", workers, "--cell-timeout", "120", start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(processes(tag)) < 2 and time.monotonic() < deadline and grader.poll() is None:
            time.sleep(0.2)
        assert len(processes(tag)) >= 2, "the submission's processes never started"
        sandboxes = set(processes("grader.isolation.child")) & set(tree(grader.pid))  # this grader's, not others'
        assert sandboxes, "no sandbox under the grader"
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        time.sleep(3)
        assert sandboxes & set(processes("grader.isolation.child")) == set(), "the sandbox outlived the grader"
        assert processes(tag) == [], "a submission's process outlived the grader"
    finally:
        kill_all(tag)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(grader.pid, signal.SIGKILL)
