"""The references themselves: torch.autograd against numerical gradients, and the checks' verdicts
on correct code computed a second way (float32 inputs, the learner's usual alternative layout)."""

import numpy as np
import pytest
import torch

from grader.checks import gru
from grader.checks import rnn as checks
from grader.tolerance import FLOAT32, FLOAT64, TF32, assert_close, close
from rnncourse import numerical_gradient, rel_error


def test_autograd_reference_agrees_with_numerical_gradients():
    rng = np.random.default_rng(0)
    P = checks.make_params(3, 4, 2, rng)
    x, h0, dy = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 5, 2))
    grads, dh0 = checks.ref_backward(dy, x, h0, P)

    def loss(_):
        return float((checks.ref_forward(x, h0, P)[0].cpu().numpy() * dy).sum())

    for name in checks.PARAM_NAMES:
        assert rel_error(grads[name].cpu().numpy(), numerical_gradient(loss, P[name])) < 1e-7, name
    assert rel_error(dh0.cpu().numpy(), numerical_gradient(loss, h0)) < 1e-7


def test_cell_reference_gradients_match_the_sequence_reference_for_one_step():
    rng = np.random.default_rng(1)
    P = checks.make_params(3, 4, 2, rng)
    x, h0 = rng.normal(size=(2, 1, 3)), rng.normal(size=(2, 4))
    dy = rng.normal(size=(2, 1, 2))
    seq, _ = checks.ref_backward(dy, x, h0, P)
    dh = dy[:, 0] @ P["W_hy"]
    _, _, cell = checks.ref_cell_backward(dh, x[:, 0], h0, P)
    for name in ("W_xh", "W_hh", "b_h"):
        assert close(cell[name], seq[name])


def test_tolerances_are_ordered_and_far_below_a_realistic_mistake():
    assert FLOAT64.atol < FLOAT32.atol < TF32.atol < 0.05  # mistakes move outputs by 0.05 or more
    assert FLOAT64.rtol < FLOAT32.rtol < TF32.rtol


def test_float32_learner_code_fails_float64_policy_only_by_precision():
    want = np.linspace(-1, 1, 7)
    got = want.astype(np.float32) + np.float32(3e-7)
    assert close(got, want, FLOAT32)
    with pytest.raises(AssertionError, match="largest error"):
        assert_close("x", got, want, FLOAT64)


def test_assert_close_explains_shape_none_and_nan():
    with pytest.raises(AssertionError, match=r"expected shape \(2,\), got \(3,\)"):
        assert_close("v", np.zeros(3), np.zeros(2))
    with pytest.raises(AssertionError, match="returned None"):
        assert_close("v", None, np.zeros(2))
    with pytest.raises(AssertionError, match="NaN"):
        assert_close("v", np.array([np.nan, 0]), np.zeros(2))


def test_checks_pass_correct_code_written_differently():
    """A correct learner need not write the reference's exact code: einsum forms pass too."""

    def softmax(z):
        e = np.exp(z - np.max(z, axis=-1)[..., None])
        return e / np.sum(e, axis=-1)[..., None]

    def cell(x, h, p):
        h_t = np.tanh(np.einsum("hd,nd->nh", p["W_xh"], x) + np.einsum("hk,nk->nh", p["W_hh"], h) + p["b_h"])
        return h_t, np.einsum("vh,nh->nv", p["W_hy"], h_t) + p["b_y"]

    checks.check_softmax(softmax)
    checks.check_rnn_cell_forward(cell)


def test_a_check_refuses_a_result_instead_of_a_function():
    with pytest.raises(TypeError, match="pass your function softmax itself"):
        checks.check_softmax(np.zeros(3))


# --- the GRU's own reference (notebook 04): torch has no module for Cho's form, so check gru_step where it
# must agree with torch, and on a case small enough to compute by hand.


def _torch_gru_cell_output(weights, x_t, h_prev):
    cell = gru.torch_gru(*weights, cell=True)
    with torch.no_grad():
        return cell(gru.as_tensor(x_t), gru.as_tensor(h_prev)).cpu().numpy()


def test_gru_step_in_torch_form_equals_nn_GRUCell():
    rng = np.random.default_rng(0)
    weights = gru.make_torch_params(4, 5, rng)
    x_t, h_prev = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    want = _torch_gru_cell_output(weights, x_t, h_prev)
    assert close(gru.gru_step(x_t, h_prev, gru.split_torch(*weights), "after"), want)
    assert not close(gru.gru_step(x_t, h_prev, gru.split_torch(*weights), "before"), want)


def test_gru_step_in_cho_form_equals_nn_GRUCell_when_the_reset_gate_is_open():
    """With r_t = 1 (a large reset bias) and b_hn = 0 the two forms are the same function."""
    rng = np.random.default_rng(1)
    W_ih, W_hh, b_ih, b_hh = gru.make_torch_params(4, 5, rng)
    b_ih[:5], b_hh[:5], b_hh[10:] = 40.0, 0.0, 0.0
    x_t, h_prev = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    p = gru.split_torch(W_ih, W_hh, b_ih, b_hh)
    del p["b_hn"]
    assert close(gru.gru_step(x_t, h_prev, p, "before"), _torch_gru_cell_output((W_ih, W_hh, b_ih, b_hh), x_t, h_prev))


def test_gru_step_in_cho_form_by_hand():
    """One unit, one input: r = σ(0) = 0.5, z = σ(0) = 0.5, n = tanh(1·1 + 2·(0.5·1)) = tanh(2)."""
    p = {"W_r": [[0.0]], "V_r": [[0.0]], "b_r": [0.0], "W_z": [[0.0]], "V_z": [[0.0]], "b_z": [0.0],
         "W_n": [[1.0]], "V_n": [[2.0]], "b_n": [0.0]}
    p = {k: np.array(v) for k, v in p.items()}
    x_t, h_prev = np.array([[1.0]]), np.array([[1.0]])
    assert np.isclose(gru.gru_step(x_t, h_prev, p)[0, 0], 0.5 * np.tanh(2.0) + 0.5)
    assert np.isclose(gru.gru_step(x_t, h_prev, p, "after")[0, 0], 0.5 * np.tanh(1.0 + 0.5 * 2.0) + 0.5)
    p["W_z"] = np.array([[3.0]])  # z = σ(3): the conventions weigh old state and candidate the other way round
    z = 1 / (1 + np.exp(-3.0))
    assert np.isclose(gru.gru_step(x_t, h_prev, p)[0, 0], (1 - z) * np.tanh(2.0) + z)
    assert np.isclose(gru.gru_step(x_t, h_prev, p, keep="1-z")[0, 0], z * np.tanh(2.0) + (1 - z))


def test_a_checks_error_carries_the_learners_frames_but_not_the_graders():
    """What a test cell, Validate and the feedback show: no reference code or catalogue of mistakes."""

    def frames(error):
        tb, names = error.__traceback__, []
        while tb is not None:
            names.append((tb.tb_frame.f_code.co_filename, tb.tb_frame.f_code.co_name))
            tb = tb.tb_next
        return names

    def wrong_softmax(z):
        return z

    def unfinished_softmax(z):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="softmax") as wrong:
        checks.check_softmax(wrong_softmax)
    with pytest.raises(NotImplementedError) as unfinished:
        checks.check_softmax(unfinished_softmax)
    for error in (wrong.value, unfinished.value):
        assert not [f for f, _ in frames(error) if f.endswith(("checks/rnn.py", "tolerance.py"))], frames(error)
    assert frames(unfinished.value)[-1][1] == "unfinished_softmax"  # the learner's line that raised
