"""Does the autograder give the right points? Every case is a real nbgrader run (see conftest.py)."""

import pytest
from conftest import PERFECT, UNTOUCHED, cell_error
from mutants import MUTANTS


def test_reference_solution_gets_full_marks(graded):
    _, results = graded
    r = results[PERFECT]
    assert r.status == "graded"
    assert r.max_score == 13
    assert r.score == r.max_score, r.parts


def test_untouched_student_notebook_gets_zero_and_is_graded(graded):
    _, results = graded
    r = results[UNTOUCHED]
    assert r.status == "graded"
    assert r.score == 0
    assert all(score == 0 for score, _ in r.parts.values())


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_realistic_mistake_loses_exactly_its_parts_with_a_diagnosis(graded, name):
    root, results = graded
    _, failing, message = MUTANTS[name]
    r = results[name]
    assert r.status == "graded"
    lost = {part for part, (score, max_score) in r.parts.items() if score < max_score}
    assert lost == failing, f"{name}: lost {sorted(lost)}, expected {sorted(failing)}"
    first = min(failing, key=list(r.parts).index)  # the first failing part names the mistake
    assert message in cell_error(root, name, first)


def test_feedback_shows_failures_but_no_hidden_tests(graded):
    root, _ = graded
    html = (root / "feedback" / "sigmoid_instead_of_tanh" / "01_rnn" / "01_rnn.html").read_text()
    assert "sigmoid used where h_t needs tanh" in html
    assert "HIDDEN TESTS" not in html
    assert "seed=1" not in html  # the hidden calls use other seeds
    assert "Traceback (most recent call last)" not in html and "grader/checks" not in html


def test_grades_csv_has_a_row_per_submission(graded):
    root, results = graded
    rows = (root / "grades.csv").read_text().strip().splitlines()
    assert rows[0] == "student,assignment,score,max_score,status"
    assert len(rows) == 1 + len(results)
    assert f"{PERFECT},01_rnn,13,13,graded" in rows
