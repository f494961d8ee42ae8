"""The command line as learners and instructors use it: self-check, release check, bad input."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.classroom import read_roster
from grader.course import NOTEBOOKS, REPO, GraderError, new_workspace
from grader.isolation.sandbox import describe_mode, mode
from grader.lab import lab_command
from grader.release import differences, generate
from grader.submissions import build


def grader(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_notebooks_folder_is_what_nbgrader_generates_from_solutions(tmp_path):
    generated = generate(new_workspace(tmp_path / "course"))
    assert differences(generated) == [], "run `python -m grader release` and commit notebooks/"


def test_released_notebooks_carry_no_outputs_or_solutions():
    for path in NOTEBOOKS.rglob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and not c.get("execution_count") for c in nb.cells if c.cell_type == "code")


def test_self_check_of_a_finished_notebook_prints_full_points(tmp_path):
    path = tmp_path / "01_rnn" / "01_rnn.ipynb"
    path.parent.mkdir()
    nbformat.write(build("01_rnn"), path)
    before = path.read_bytes()
    run = grader("check", str(path))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "total 13/13" in run.stdout
    assert re.search(r"PASS +test_rnn_backward +3/3", run.stdout)
    assert path.read_bytes() == before  # the learner's file is not touched


def test_self_check_knows_the_notebook_from_its_cells_under_any_name_in_any_folder(tmp_path):
    path = tmp_path / "my work" / "rnn copy (2).ipynb"
    path.parent.mkdir()
    nbformat.write(build("01_rnn", {"rnn_cell_backward": [("da = dh_t * (1 - h_t**2)", "da = dh_t")]}), path)
    run = grader("check", str(path))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "total 7/13" in run.stdout


def test_self_check_names_each_failing_part_and_its_likely_cause(tmp_path):
    path = tmp_path / "01_rnn" / "01_rnn.ipynb"
    path.parent.mkdir()
    nbformat.write(build("01_rnn", {"rnn_cell_backward": [("da = dh_t * (1 - h_t**2)", "da = dh_t")]}), path)
    run = grader("check", str(path))
    assert run.returncode == 1
    assert re.search(r"FAIL +test_rnn_cell_backward +0/3", run.stdout)
    assert "tanh derivative (1 - h_t^2) is missing" in run.stdout
    assert "fix rnn_cell_backward first" in run.stdout  # rnn_backward's failure points at the cause
    assert "total 7/13" in run.stdout


def test_self_check_of_the_untouched_student_notebook_gives_zero():
    run = grader("check", "notebooks/01_rnn/01_rnn.ipynb")
    assert run.returncode == 1
    assert "total 0/13" in run.stdout
    assert "NotImplementedError" in run.stdout


def test_self_check_of_the_korean_edition_reports_in_korean_unless_asked_for_english():
    run = grader("check", "notebooks/ko/01_rnn/01_rnn.ipynb")
    assert run.returncode == 1
    assert "자가 점검" in run.stdout and "합계 0/13" in run.stdout
    assert "함수가 아직 노트북의 빈칸 그대로입니다" in run.stdout  # the placeholder, named in Korean
    english = grader("check", "notebooks/ko/01_rnn/01_rnn.ipynb", "--lang", "en")
    assert "total 0/13" in english.stdout and "still the notebook's placeholder" in english.stdout
    assert not re.search("[가-힣]", english.stdout)


def test_a_command_error_comes_in_the_language_asked_for(tmp_path):
    run = grader("check", str(tmp_path / "01_rnn.ipynb"), "--lang", "ko")
    assert run.returncode == 2
    assert run.stderr.strip() == f"오류: {tmp_path / '01_rnn.ipynb'}: 그런 파일이 없습니다"
    refused = grader("check", "notebooks/01_rnn/01_rnn.ipynb", "--lang", "fr")
    assert refused.returncode == 2 and "invalid choice: 'fr'" in refused.stderr


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file"),
    ("malformed_json", "not a readable notebook"),
    ("not_a_notebook", "not a readable notebook"),
    ("unknown_assignment", "not a course notebook"),
    ("wrong_suffix", "ending in .ipynb"),
])
def test_self_check_rejects_bad_input_clearly_and_changes_nothing(tmp_path, case, message):
    folder = tmp_path / ("99_unknown" if case == "unknown_assignment" else "01_rnn")
    folder.mkdir()
    path = folder / ("01_rnn.txt" if case == "wrong_suffix" else "01_rnn.ipynb")
    if case == "malformed_json":
        path.write_text('{"cells": [')
    elif case == "not_a_notebook":
        path.write_text('{"hello": "world"}')
    elif case == "unknown_assignment":  # a notebook with no cell of the course's
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")]), path)
    elif case == "wrong_suffix":
        nbformat.write(build("01_rnn"), path)
    before, repo_before = snapshot(tmp_path), snapshot(NOTEBOOKS)
    run = grader("check", str(path))
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert snapshot(tmp_path) == before and snapshot(NOTEBOOKS) == repo_before


def test_grade_rejects_a_folder_without_submissions(tmp_path):
    run = grader("grade", str(tmp_path))
    assert run.returncode == 2
    assert "no submitted/ folder" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_grade_records_unreadable_and_misnamed_submissions_as_zero(tmp_path):
    """A class with one good, one malformed and one misnamed notebook: all three get a row."""
    for student in ("good", "malformed", "misnamed"):
        (tmp_path / "submitted" / student / "01_rnn").mkdir(parents=True)
    nbformat.write(build("01_rnn"), tmp_path / "submitted" / "good" / "01_rnn" / "01_rnn.ipynb")
    (tmp_path / "submitted" / "malformed" / "01_rnn" / "01_rnn.ipynb").write_text("{not json")
    nbformat.write(build("01_rnn"), tmp_path / "submitted" / "misnamed" / "01_rnn" / "rnn_final.ipynb")
    run = grader("grade", str(tmp_path))
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "scores.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f) if r["assignment"] == "01_rnn"}
    assert (rows["good"]["score"], rows["good"]["status"]) == ("13", "graded")
    assert rows["malformed"]["score"] == "0" and "not a readable notebook" in rows["malformed"]["status"]
    assert rows["misnamed"]["score"] == "0"
    assert rows["misnamed"]["status"] == ("expected a file named 01_rnn.ipynb, found rnn_final.ipynb; rename it and "
                                          "hand it in again")
    feedback = (tmp_path / "feedback" / "malformed" / "01_rnn" / "feedback.txt").read_text()
    assert "0 / 13 points" in feedback


def test_demo_grades_the_sample_class_through_the_whole_pipeline(tmp_path):
    """The README's main job: a perfect, a partly wrong and an untouched student, every notebook."""
    run = grader("demo", "--workspace", str(tmp_path / "sample"))
    assert run.returncode == 0, run.stderr
    rows = {line.split()[0]: line.split()[1:] for line in run.stdout.splitlines() if line.split()}
    assert rows["kim_minji"][:7] == ["13/13", "10/10", "13/13", "10/10", "10/10", "6/6", "62/62"]
    assert rows["lee_junho"][:7] == ["7/13", "5/10", "7/13", "7/10", "6/10", "3/6", "35/62"]
    assert rows["park_seoyeon"][:7] == ["0/13", "0/10", "0/13", "0/10", "0/10", "0/6", "0/62"]
    assert f"sandbox   {describe_mode(mode())}" in run.stdout
    for student in ("kim_minji", "lee_junho", "park_seoyeon"):
        assert (tmp_path / "sample" / "feedback" / student / "05_bilstm" / "05_bilstm.html").exists()
    korean = (tmp_path / "sample" / "feedback" / "lee_junho" / "01_rnn" / "feedback.txt").read_text()
    assert "lee_junho의 01_rnn: 7 / 13점." in korean
    assert "예상 원인: h_t에는 tanh가 필요한데 sigmoid를 썼습니다" in korean
    english = (tmp_path / "sample" / "feedback" / "park_seoyeon" / "01_rnn" / "feedback.txt").read_text()
    assert "01_rnn for park_seoyeon: 0 / 13 points." in english and not re.search("[가-힣]", english)


def test_a_roster_without_an_id_column_is_refused(tmp_path):
    (tmp_path / "students.csv").write_text("name,email\nkim,\n")
    with pytest.raises(GraderError, match="starting with id"):
        read_roster(tmp_path)
    (tmp_path / "students.csv").write_text("id,first_name,last_name,email\nkim_minji,Minji,Kim,\n")
    assert read_roster(tmp_path) == {"kim_minji": {"first_name": "Minji", "last_name": "Kim"}}


def test_lab_refuses_a_missing_class_folder_and_passes_other_options_to_jupyter(tmp_path):
    run = grader("lab", str(tmp_path / "nowhere"), "--port", "8899")
    assert run.returncode == 2 and "no such folder" in run.stderr
    command = lab_command(tmp_path, ["--port", "8899"])
    assert command[-2:] == ["--port", "8899"] and f"--ServerApp.root_dir={tmp_path}" in command
    assert "--ServerApp.jpserver_extensions=nbgrader.server_extensions.validate_assignment=True" in command


def test_the_korean_readme_gives_the_same_two_commands_and_each_readme_links_the_other():
    english, korean = (REPO / "README.md").read_text(), (REPO / "README.ko.md").read_text()
    two_commands = re.compile(r"^python3 -m venv .*$|^\.venv/bin/python -m pytest$", re.M)
    assert two_commands.findall(english) == two_commands.findall(korean)
    assert len(two_commands.findall(korean)) == 2
    assert "](README.ko.md)" in english.split("\n## ")[0] and "](README.md)" in korean.split("\n## ")[0]
