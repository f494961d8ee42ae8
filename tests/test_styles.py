"""Correct code in another style keeps full marks: the values are graded, not the container or the coding style.
Each student of one class hands in every notebook in one style, graded through the real pipeline:
- `explicit` and `compact` (tests/styles.py): every graded function written again, independently;
- `lists`: the reference answers with every tuple returned as a list ([h_t, c_t], [f_t, i_t, g_t, o_t], a
  layer's state [h, c], [r_t, z_t]);
- `redefined`: a later cell defines a helper under a graded function's name (each test sees the names as they
  stand at its place in the notebook, as nbgrader and Run All do).
The self-check must give every one of them the same verdict as the class grade."""

import nbformat
import pytest
from conftest import self_check_disagreements
from styles import STYLES

from grader.classroom import grade_class
from grader.course import assignments, new_workspace
from grader.submissions import build

AS_LISTS = {
    "01_rnn": {"rnn_cell_forward": [("return h_t, y_t", "return [h_t, y_t]")],
               "rnn_forward": [("return y, h", "return [y, h]")],
               "rnn_cell_backward": [("return dx_t, dh_prev, grads", "return [dx_t, dh_prev, grads]")],
               "rnn_backward": [("return grads, dh_next", "return [grads, dh_next]")]},
    "03_lstm": {"lstm_gates": [("return f_t, i_t, g_t, o_t", "return [f_t, i_t, g_t, o_t]")],
                "lstm_cell": [("return h_t, c_t", "return [h_t, c_t]")],
                "lstm_cell_backward": [("return dx_t, dh_prev, dc_prev, grads",
                                        "return [dx_t, dh_prev, dc_prev, grads]")],
                "lstm_cell_fused": [("return h_t, c_t", "return [h_t, c_t]")],
                "lstm_layer": [("return torch.stack(outputs, dim=1), (h_t, c_t)",
                                "return [torch.stack(outputs, dim=1), [h_t, c_t]]")]},
    "04_gru": {"gru_gates": [("return r_t, z_t", "return [r_t, z_t]")],
               "gru_layer": [("return torch.stack(outputs, dim=1), h_t", "return [torch.stack(outputs, dim=1), h_t]")]},
    "05_bilstm": {"lstm_layer": [("return h_t, c_t", "return [h_t, c_t]"),
                                 ("return torch.stack(outputs, dim=1), (h_t, c_t)",
                                  "return [torch.stack(outputs, dim=1), [h_t, c_t]]")]},
    "06_lstm_speed": {"lstm_layer_fused": [("return torch.stack(outputs, dim=1), (h_t, c_t)",
                                            "return [torch.stack(outputs, dim=1), [h_t, c_t]]")],
                      "lstm_step": [("return h_t, c_t", "return [h_t, c_t]")],
                      "lstm_layer_precomputed": [("return torch.stack(outputs, dim=1), (h_t, c_t)",
                                                  "return [torch.stack(outputs, dim=1), [h_t, c_t]]")]},
}
REDEFINED = {  # found in a real submission: 10/10 from the self-check, 8/10 from the class grade before
    "03_lstm": {"lstm_cell_fused": [("def lstm_cell_fused(", '''def lstm_cell(x_t, h_prev, c_prev, W, V, b):
    """A helper under the name of Part 1b's function: from here on, lstm_cell takes six arguments."""
    a = x_t @ W.T + h_prev @ V.T + b
    a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
    c_t = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
    return torch.sigmoid(a_o) * torch.tanh(c_t), c_t


def lstm_cell_fused(''')]},
}


def _with_answers(assignment: str, answers: dict):
    nb = build(assignment)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.fixture(scope="module")
def styles_class(tmp_path_factory):
    root = new_workspace(tmp_path_factory.mktemp("styles") / "course")
    notebooks = {(style, a): _with_answers(a, STYLES[a][style]) for a in assignments() for style in STYLES[a]}
    notebooks.update({("lists", a): build(a, edits) for a, edits in AS_LISTS.items()})
    notebooks.update({("redefined", a): build(a, edits) for a, edits in REDEFINED.items()})
    for (student, assignment), nb in notebooks.items():
        folder = root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    return root, {(r.student, r.assignment): r for r in grade_class(root, workers=2) if (r.student, r.assignment)
                  in notebooks}


def test_every_graded_function_has_two_independent_styles_besides_the_reference():
    for assignment in assignments():
        answers = {c.metadata["nbgrader"]["grade_id"] for c in build(assignment).cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        for style, cells in STYLES[assignment].items():
            assert set(cells) == answers, (assignment, style, answers - set(cells))


@pytest.mark.parametrize(("student", "assignment"),
                         [(s, a) for a in assignments() for s in STYLES[a]]
                         + [("lists", a) for a in AS_LISTS] + [("redefined", a) for a in REDEFINED])
def test_correct_code_in_any_style_keeps_full_marks(styles_class, student, assignment):
    _, results = styles_class
    r = results[student, assignment]
    assert (r.status, r.score) == ("graded", r.max_score), (r.parts, r.problems)


def test_the_self_check_gives_every_style_the_class_grade(styles_class):
    root, results = styles_class
    compared, disagreements = self_check_disagreements(root)
    assert compared == len(results) and disagreements == []
