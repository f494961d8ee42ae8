"""Does the autograder give the right points? Every case is a real nbgrader run (see conftest.py)."""

import pytest
from conftest import PERFECT, UNTOUCHED, cell_error, self_check_disagreements
from mutants import MUTANTS

from grader.course import assignments

POINTS = {"01_rnn": 13, "02_vanishing_gradients": 10, "03_lstm": 13, "04_gru": 10, "05_bilstm": 10,
          "06_lstm_speed": 6}
CASES = [(assignment, name) for assignment in sorted(MUTANTS) for name in sorted(MUTANTS[assignment])]


def test_every_notebook_has_its_mistakes_catalogued():
    assert sorted(MUTANTS) == sorted(POINTS) == assignments()


@pytest.mark.parametrize("assignment", sorted(POINTS))
def test_reference_solution_gets_full_marks(graded, assignment):
    _, results = graded
    r = results[PERFECT, assignment]
    assert r.status == "graded"
    assert r.max_score == POINTS[assignment]
    assert r.score == r.max_score, r.parts


@pytest.mark.parametrize("assignment", sorted(POINTS))
def test_untouched_student_notebook_gets_zero_and_is_graded(graded, assignment):
    _, results = graded
    r = results[UNTOUCHED, assignment]
    assert r.status == "graded"
    assert r.score == 0
    assert r.parts and all(score == 0 for score, _ in r.parts.values())


@pytest.mark.parametrize(("assignment", "name"), CASES)
def test_realistic_mistake_loses_exactly_its_parts_with_a_diagnosis(graded, assignment, name):
    root, results = graded
    _, failing, message = MUTANTS[assignment][name]
    r = results[name, assignment]
    assert r.status == "graded"
    lost = {part for part, (score, max_score) in r.parts.items() if score < max_score}
    assert lost == failing, f"{name}: lost {sorted(lost)}, expected {sorted(failing)}"
    first = min(failing, key=list(r.parts).index)  # the first failing part names the mistake
    assert message in cell_error(root, name, assignment, first)


def test_a_notebook_not_handed_in_scores_zero_with_a_reason(graded):
    _, results = graded
    r = results["sigmoid_instead_of_tanh", "02_vanishing_gradients"]
    assert (r.score, r.max_score, r.status) == (0, 10, "not submitted")


def test_feedback_shows_failures_but_no_hidden_tests(graded):
    root, _ = graded
    for student, assignment, message in [("sigmoid_instead_of_tanh", "01_rnn", "sigmoid used where h_t needs tanh"),
                                         ("clip_by_value", "02_vanishing_gradients", "clipped by value"),
                                         ("layer_calls_nn_LSTM", "03_lstm", "ready-made"),
                                         ("cho_reset_after_the_product", "04_gru", "Cho's form resets"),
                                         ("backward_direction_reads_the_padding", "05_bilstm", "reads the padding")]:
        html = (root / "feedback" / student / assignment / f"{assignment}.html").read_text()
        assert message in html
        assert "HIDDEN TESTS" not in html
        assert "seed=1" not in html  # the hidden calls use other seeds
        assert "Traceback (most recent call last)" not in html and "grader/checks" not in html


def test_scores_csv_has_a_row_per_student_and_notebook(graded):
    root, results = graded
    rows = (root / "scores.csv").read_text().strip().splitlines()
    assert rows[0] == "student,assignment,score,max_score,status"
    assert len(rows) == 1 + len(results)
    assert f"{PERFECT},01_rnn,13,13,graded" in rows
    assert f"{PERFECT},02_vanishing_gradients,10,10,graded" in rows


@pytest.mark.parametrize(("assignment", "name", "part"), [
    ("03_lstm", "fused_cell_calls_torch_lstm_cell", "test_lstm_cell_fused"),
    ("03_lstm", "layer_calls_nn_LSTM", "test_lstm_layer"),
    ("04_gru", "torch_cell_calls_torch_gru_cell", "test_gru_cell_torch"),
    ("04_gru", "gru_layer_calls_nn_GRU", "test_gru_layer"),
])
def test_a_ready_made_recurrent_module_gets_no_points_for_its_part(graded, assignment, name, part):
    _, results = graded
    assert results[name, assignment].parts[part][0] == 0


SANDBOX_WORDS = ("ready-made", "autograd", "calls", "in lstm_cell:", "products")
"""Words of the messages the sandbox's side writes (the tripwire, the spy, the learner's line): every mistake
with one of these in its message is compared too."""


def one_mistake_per_part() -> set:
    """(student, assignment) pairs: for every graded part, the first catalogued mistake that fails it, and every
    mistake whose message comes from the sandbox's side."""
    chosen = set()
    for assignment, mistakes in MUTANTS.items():
        for part in sorted(set().union(*(failing for _, failing, _ in mistakes.values()))):
            chosen.add((min(name for name, (_, failing, _) in mistakes.items() if part in failing), assignment))
        chosen |= {(name, assignment) for name, (_, _, words) in mistakes.items()
                   if any(w in words for w in SANDBOX_WORDS)}
    return chosen


def test_the_self_check_gives_the_class_grade_part_by_part(graded):
    """One verdict: `python -m grader check` on a submitted notebook equals its class grade, points and message of
    every part and the problems. Compared here: each notebook's reference and untouched version and, for every
    graded part, a mistake that fails it (so every part's failure message is compared); test_hostile and
    test_styles compare every one of their submissions. Both commands call verdict.grade, so the comparison
    guards the paths into it (file, limits, name); the class grades of the whole catalogue are tested above."""
    root, _ = graded
    chosen = one_mistake_per_part() | {(s, a) for a in POINTS for s in (PERFECT, UNTOUCHED)}
    compared, disagreements = self_check_disagreements(root, only=chosen)
    assert compared == len(chosen) >= 45 and disagreements == []
