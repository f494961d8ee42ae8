"""Correct code in another style keeps full marks: the values are graded, not the container. Each student hands in
the reference answers with every tuple returned as a list ([h_t, c_t], [f_t, i_t, g_t, o_t], a layer's state
[h, c], [r_t, z_t]), graded through the real pipeline."""

import nbformat
import pytest

from grader.classroom import grade_class
from grader.course import new_workspace
from grader.submissions import build

AS_LISTS = {
    "01_rnn": {"rnn_cell_forward": [("return h_t, y_t", "return [h_t, y_t]")],
               "rnn_forward": [("return y, h", "return [y, h]")],
               "rnn_cell_backward": [("return dx_t, dh_prev, grads", "return [dx_t, dh_prev, grads]")],
               "rnn_backward": [("return grads, dh_next", "return [grads, dh_next]")]},
    "03_lstm": {"lstm_gates": [("return f_t, i_t, g_t, o_t", "return [f_t, i_t, g_t, o_t]")],
                "lstm_cell": [("return h_t, c_t", "return [h_t, c_t]")],
                "lstm_cell_fused": [("return h_t, c_t", "return [h_t, c_t]")],
                "lstm_layer": [("return torch.stack(outputs, dim=1), (h_t, c_t)",
                                "return [torch.stack(outputs, dim=1), [h_t, c_t]]")]},
    "04_gru": {"gru_gates": [("return r_t, z_t", "return [r_t, z_t]")],
               "gru_layer": [("return torch.stack(outputs, dim=1), h_t", "return [torch.stack(outputs, dim=1), h_t]")]},
    "06_lstm_speed": {"lstm_layer_fused": [("return torch.stack(outputs, dim=1), (h_t, c_t)",
                                            "return [torch.stack(outputs, dim=1), [h_t, c_t]]")],
                      "lstm_step": [("return h_t, c_t", "return [h_t, c_t]")],
                      "lstm_layer_precomputed": [("return torch.stack(outputs, dim=1), (h_t, c_t)",
                                                  "return [torch.stack(outputs, dim=1), [h_t, c_t]]")]},
}


@pytest.fixture(scope="module")
def lists_class(tmp_path_factory):
    root = new_workspace(tmp_path_factory.mktemp("styles") / "course")
    for assignment, edits in AS_LISTS.items():
        folder = root / "submitted" / "lists" / assignment
        folder.mkdir(parents=True)
        nbformat.write(build(assignment, edits), folder / f"{assignment}.ipynb")
    return {r.assignment: r for r in grade_class(root) if r.assignment in AS_LISTS}


@pytest.mark.parametrize("assignment", sorted(AS_LISTS))
def test_lists_where_tuples_are_asked_keep_full_marks(lists_class, assignment):
    r = lists_class[assignment]
    assert (r.status, r.score) == ("graded", r.max_score), r.problems
