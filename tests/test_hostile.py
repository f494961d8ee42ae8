"""Can a submission fake its grade, break the grading run or read what it must not? Each case is a student of one
class graded through the real pipeline (sandbox, gradebook, feedback), next to a student with the reference answer.

Every case is notebook 01's reference with one hostile edit; a `wrong` case also carries a real mistake
(sigmoid for tanh), so that faking the comparison would show up as points it did not earn.
"""

import json

import nbformat
import pytest
from conftest import self_check_disagreements
from mutants import CELL_FWD, FWD, SAMPLE, SOFTMAX

from grader.classroom import grade_class
from grader.course import REPO, new_workspace
from grader.isolation.sandbox import Limits, mode
from grader.submissions import build

A = "01_rnn"
LIMITS = Limits(cell_seconds=20, memory_bytes=2 * 2**30)
SIGMOID = ("h_t = np.tanh(", "sigmoid = lambda a: 1 / (1 + np.exp(-a))\n    h_t = sigmoid(")
SIGMOID_LOSES = {CELL_FWD, FWD, SAMPLE}


def before(grade_id: str, code: str) -> tuple[str, str]:
    """An edit that puts top-level code in front of the answer cell's function."""
    return f"def {grade_id}(", f"{code}\ndef {grade_id}("


def first_line(grade_id: str, code: str) -> tuple[str, str]:
    """An edit that makes `code` the first statement of the function's body."""
    marker = {"softmax": "    z = z - z.max(", "sample": "    V = params"}[grade_id]
    return marker, f"    {code}\n{marker}"


PATCHES = {
    "patches_numpy": "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                     "np.testing.assert_allclose = lambda *a, **k: None\nnp.array_equal = lambda *a, **k: True",
    "patches_torch": "import torch\ntorch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
                     "torch.testing.assert_close = lambda *a, **k: None",
    "patches_builtins": "import builtins\nbuiltins.AssertionError = Warning\nbuiltins.abs = lambda x: 0 * x",
    "patches_the_grader": "import grader.checks, grader.tolerance, grader.checks.rnn\n"
                          "grader.tolerance.assert_close = grader.checks.rnn.assert_close = lambda *a, **k: None\n"
                          "grader.checks.rnn.check_rnn_cell_forward = lambda *a, **k: print('OK')\n"
                          "grader.checks.rnn.check_rnn_forward = lambda *a, **k: print('OK')\n"
                          "grader.checks.rnn.check_sample = lambda *a, **k: print('OK')",
}

# name: (edits, parts lost, words in the feedback)
CASES = {
    **{name: ({"rnn_cell_forward": [SIGMOID, before("rnn_cell_forward", code)]}, SIGMOID_LOSES,
              "sigmoid used where h_t needs tanh") for name, code in PATCHES.items()},
    "infinite_loop": ({"sample": [first_line("sample", "while True: pass")]}, {SAMPLE}, "time limit of 20 s"),
    "os_exit_in_a_function": ({"sample": [first_line("sample", "import os; os._exit(3)")]}, {SAMPLE},
                              "exit code 3"),
    "os_exit_at_top_level": ({"softmax": [before("softmax", "import os\nos._exit(0)")]}, {SOFTMAX, SAMPLE},
                             "softmax is not defined"),
    "segfault": ({"sample": [first_line("sample", "import ctypes; ctypes.string_at(0)")]}, {SAMPLE},
                 "segmentation fault"),
    "sys_exit": ({"sample": [first_line("sample", "import sys; sys.exit('bye')")]}, {SAMPLE}, "SystemExit: bye"),
    "sys_exit_at_top_level": ({"softmax": [before("softmax", "import sys\nsys.exit(0)")]}, {SOFTMAX, SAMPLE},
                              "softmax is not defined"),
    "huge_memory": ({"sample": [first_line("sample", "import numpy; big = numpy.ones(500_000_000)")]}, {SAMPLE},
                    "memory limit of 2 GiB"),
    "gigabytes_of_output": ({"softmax": [before("softmax", "import os\nfor _ in range(1024):\n"
                                                           "    print('x' * 2**20)\n    os.write(1, b'y' * 2**20)")]},
                            set(), "printed 1,073,742,848 characters"),
    "syntax_error": ({"rnn_cell_forward": [before("rnn_cell_forward", "def broken(:\n    pass")]}, SIGMOID_LOSES,
                     "SyntaxError"),
    "renamed_function": ({"sample": [("def sample(", "def sample_chars(")]}, {SAMPLE},
                         "sample is not defined in your notebook"),
}
ALL = {SOFTMAX, CELL_FWD, FWD, "test_rnn_cell_backward", "test_rnn_backward", SAMPLE}


def _tampered_tests(nb, how: str):
    """The reference with sigmoid for tanh, and its test cells edited, deleted or duplicated and reordered."""
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
             and not c.metadata["nbgrader"].get("solution")]
    if how == "edited":
        for c in tests:
            c.source = "print('OK: everything matches')"
    elif how == "deleted":
        nb.cells = [c for c in nb.cells if c not in tests]
    elif how == "moved_above_their_functions":
        nb.cells = tests + [c for c in nb.cells if c not in tests]
    else:  # moved to the end in reverse order, then each once more: every test still follows what it checks
        copies = [nbformat.from_dict({**json.loads(json.dumps(c)), "id": f"copy-{k}"}) for k, c in enumerate(tests)]
        nb.cells = [c for c in nb.cells if c not in tests] + list(reversed(tests)) + copies
    return nb


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    root = new_workspace(tmp_path_factory.mktemp("hostile") / "course")
    submitted = root / "submitted"
    notebooks = {"perfect": build(A)}
    notebooks.update({name: build(A, edits) for name, (edits, _, _) in CASES.items()})
    for how in ("edited", "deleted", "duplicated_and_reordered", "moved_above_their_functions"):
        notebooks[f"tests_{how}"] = _tampered_tests(build(A, {"rnn_cell_forward": [SIGMOID]}), how)
    secrets = [str(REPO / "solutions" / A / f"{A}.ipynb"), str(root / "solutions" / A / f"{A}.ipynb"),
               str(root / "gradebook.db"), str(submitted / "perfect" / A / f"{A}.ipynb")]
    targets = [str(root / "gradebook.db"), str(root / "hacked.txt")]
    spy = (f"import os, signal\nfound = []\nfor path in {secrets!r}:\n"
           "    try:\n        open(path, 'rb').read(1)\n        found.append('read ' + path)\n"
           "    except OSError as e:\n        print('denied', path, type(e).__name__)\n"
           f"for path in {targets!r}:\n"
           "    try:\n        open(path, 'ab').write(b'x')\n        found.append('wrote ' + path)\n"
           "    except OSError as e:\n        print('denied', path, type(e).__name__)\n"
           "try:\n    os.kill(os.getppid(), signal.SIGTERM)\n    found.append('signalled the grader')\n"
           "except OSError as e:\n    print('denied kill', type(e).__name__)\n"
           "assert not found, found")
    notebooks["reads_and_writes_course_files"] = build(A, {"softmax": [before("softmax", spy)]})
    for name, nb in notebooks.items():
        (submitted / name / A).mkdir(parents=True)
        nbformat.write(nb, submitted / name / A / f"{A}.ipynb")
    (submitted / "invalid_json" / A).mkdir(parents=True)
    (submitted / "invalid_json" / A / f"{A}.ipynb").write_text('{"cells": [')
    (submitted / "not_a_notebook" / A).mkdir(parents=True)
    (submitted / "not_a_notebook" / A / f"{A}.ipynb").write_text('{"hello": "world"}')
    (submitted / "wrong_file_name" / A).mkdir(parents=True)
    nbformat.write(build(A), submitted / "wrong_file_name" / A / f"{A} (1).ipynb")
    results = grade_class(root, limits=LIMITS)
    return root, {r.student: r for r in results if r.assignment == A}


def feedback(root, student: str) -> str:
    return (root / "feedback" / student / A / "feedback.txt").read_text()


def lost(result) -> set:
    return {part for part, (score, max_score) in result.parts.items() if score < max_score}


def test_the_reference_next_to_hostile_submissions_gets_full_marks(hostile_class):
    _, results = hostile_class
    assert results["perfect"].score == 13 and results["perfect"].sandbox == mode()


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission_earns_only_what_its_code_earns_and_says_why(hostile_class, name):
    root, results = hostile_class
    _, expected, words = CASES[name]
    r = results[name]
    assert r.status == "graded"
    assert lost(r) == expected, f"{name}: lost {sorted(lost(r))}"
    assert words in feedback(root, name)


@pytest.mark.parametrize("how", ["edited", "deleted", "duplicated_and_reordered"])
def test_tampered_test_cells_change_nothing(hostile_class, how):
    root, results = hostile_class
    assert lost(results[f"tests_{how}"]) == SIGMOID_LOSES
    assert "sigmoid used where h_t needs tanh" in feedback(root, f"tests_{how}")


def test_a_deleted_test_cell_is_graded_last_and_named(hostile_class):
    root, results = hostile_class
    assert "the test cell test_sample is missing from your notebook" in feedback(root, "tests_deleted")


def test_test_cells_moved_above_their_functions_fail_as_in_nbgrader_and_run_all(hostile_class):
    """Each test runs where it stands (as nbgrader, Validate and the notebook do): before the functions exist,
    every part fails, saying the function is not defined; nothing crashes."""
    root, results = hostile_class
    r = results["tests_moved_above_their_functions"]
    assert r.status == "graded" and lost(r) == ALL
    assert "softmax is not defined in your notebook" in feedback(root, "tests_moved_above_their_functions")


def test_the_self_check_gives_the_class_grade_of_every_hostile_submission(hostile_class):
    """`python -m grader check` (same limits) equals the class grade, part by part, message by message; the
    wrongly named file is left out: the self-check takes any name, the class grader collects 01_rnn.ipynb.
    The class was graded one submission at a time, the self-checks run two at a time: parallel grading gives
    the same verdicts under the attacks too (the catalogue's class is graded with 2 workers, see conftest)."""
    root, results = hostile_class
    compared, disagreements = self_check_disagreements(root, LIMITS)
    assert compared == len(results) - 1 and disagreements == []


def test_course_files_cannot_be_read_or_written_and_the_grader_cannot_be_signalled(hostile_class):
    root, results = hostile_class
    r = results["reads_and_writes_course_files"]
    assert r.score == 13, feedback(root, "reads_and_writes_course_files")
    assert not (root / "hacked.txt").exists()
    printed = nbformat.read(root / "autograded" / r.student / A / f"{A}.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in printed.cells for o in c.get("outputs", []))
    assert text.count("denied") == 7 and "PermissionError" in text


@pytest.mark.parametrize(("name", "words"), [("invalid_json", "not a readable notebook"),
                                             ("not_a_notebook", "missing a key: cells"),
                                             ("wrong_file_name", "expected a file named 01_rnn.ipynb")])
def test_an_unreadable_submission_scores_zero_with_a_reason(hostile_class, name, words):
    root, results = hostile_class
    r = results[name]
    assert (r.score, r.max_score) == (0, 13) and words in r.status
    assert words in feedback(root, name)


def test_feedback_names_each_part_and_never_shows_hidden_tests_or_reference_code(hostile_class):
    root, _ = hostile_class
    text = feedback(root, "patches_numpy")
    assert "[FAIL] test_rnn_cell_forward: 0 / 2 - rnn_cell_forward equals torch.nn.RNNCell" in text
    assert "[PASS] test_softmax: 1 / 1" in text
    html = (root / "feedback" / "patches_numpy" / A / f"{A}.html").read_text()
    for secret in ("BEGIN HIDDEN TESTS", "seed=2, N=8", "### BEGIN SOLUTION", "ref_cell_forward"):
        assert secret not in text and secret not in html
