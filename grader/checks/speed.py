"""Checks for notebook 06, the LSTM at speed: the same equations, fewer and larger operations.

lstm_step(gx_t, h_prev, c_prev, V) is one step when the input projections gx_t = x_t W^T + b (N, 4H) are
already computed: gates = gx_t + h_{t-1} V^T, stacked i, f, g, o as in torch.nn.LSTM. Its reference is
torch.nn.LSTMCell with input size 4H, weight_ih the identity and no bias, so that the cell's input term is
gx_t itself, run in float64 with torch.autograd for the gradients.
lstm_layer_fused and lstm_layer_precomputed are checked as notebook 03's lstm_layer (torch.nn.LSTM, forward,
gradients, float32), then by the matrix products they make (counted where they reach ATen, however written):
at most 2 per step for the fused layer (one per term), T + 1 for T steps for the precomputed one (one for every
step's input projection, one per step), which must also call the `step` it is given once per step.
"""

import numpy as np
import torch

from grader.checks import (
    as_tensor,
    check_gradients,
    expect_callable,
    learner,
    learner_counted,
    passed,
    readable_tracebacks,
    returns,
    sigmoid,
)
from grader.checks.lstm import check_lstm_layer
from grader.device import describe, device
from grader.i18n import tr
from grader.tolerance import FLOAT64, assert_close, fail


def _step_equations(gx_t, h_prev, c_prev, V, order="ifgo", g_squash=np.tanh, with_i=True, tanh_c=True):
    """One step by the equations in numpy, with knobs for the usual mistakes."""
    blocks = dict(zip(order, np.split(gx_t + h_prev @ V.T, 4, axis=-1), strict=True))
    i_t, f_t, g_t, o_t = sigmoid(blocks["i"]), sigmoid(blocks["f"]), g_squash(blocks["g"]), sigmoid(blocks["o"])
    c_t = f_t * c_prev + (i_t if with_i else 1) * g_t
    return (o_t * (np.tanh(c_t) if tanh_c else c_t)), c_t


def check_lstm_step(lstm_step, seed: int = 0, N: int = 3, H: int = 4):
    """Forward against torch.nn.LSTMCell fed gx_t through an identity weight_ih; gradients of gx_t, h, c, V."""
    expect_callable(lstm_step, "lstm_step")
    rng = np.random.default_rng(seed)
    gx, h0, c0 = rng.normal(size=(N, 4 * H)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    V, r_h, r_c = rng.normal(0, 0.5, (4 * H, H)), rng.normal(size=(N, H)), rng.normal(size=(N, H))

    cell = torch.nn.LSTMCell(4 * H, H).to(device(), torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(4 * H))
        cell.weight_hh.copy_(as_tensor(V))
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    ref = {k: as_tensor(v, requires_grad=True) for k, v in (("gx_t", gx), ("h_prev", h0), ("c_prev", c0))}
    want_h, want_c = cell(ref["gx_t"], (ref["h_prev"], ref["c_prev"]))
    ((want_h * as_tensor(r_h)).sum() + (want_c * as_tensor(r_c)).sum()).backward()

    ours = {k: as_tensor(v, requires_grad=True) for k, v in (("gx_t", gx), ("h_prev", h0), ("c_prev", c0), ("V", V))}
    result = learner("lstm_step", lstm_step, ours["gx_t"], ours["h_prev"], ours["c_prev"], ours["V"])
    if not returns(result, 2):
        fail(tr("lstm_step must return the pair (h_t, c_t)"))
    h_t, c_t = result
    wrong = {
        tr("the blocks are read in the order i, f, o, g; torch.nn.LSTM stacks i, f, g, o"):
            _step_equations(gx, h0, c0, V, order="ifog"),
        tr("sigmoid used where g_t (block 3 of i, f, g, o) needs tanh"):
            _step_equations(gx, h0, c0, V, g_squash=sigmoid),
        tr("c_t = f_t ⊙ c_{t-1} + g_t: the input gate i_t is missing"): _step_equations(gx, h0, c0, V, with_i=False),
        tr("h_t = o_t ⊙ c_t: tanh(c_t) is missing"): _step_equations(gx, h0, c0, V, tanh_c=False),
    }
    assert_close("c_t", c_t, want_c, FLOAT64, {k: c for k, (_, c) in wrong.items()})
    assert_close("h_t", h_t, want_h, FLOAT64, {k: h for k, (h, _) in wrong.items()})
    loss = (h_t * as_tensor(r_h)).sum() + (c_t * as_tensor(r_c)).sum()
    want = {**{k: t.grad for k, t in ref.items()}, "V": cell.weight_hh.grad}
    check_gradients(loss, ours, want, tr("your lstm_step"))
    passed(tr("lstm_step matches torch.nn.LSTMCell given the input projections, forward and "
              "backward (float64, {describe}); N={n} H={h}", describe=describe(), n=N, h=H))


def _counted(name: str, layer, seed: int, N: int, T: int, D: int, H: int, spy: str | None = None) -> tuple:
    """The matrix products (every spelling, counted where they reach ATen) and the spied calls of one call."""
    rng = np.random.default_rng(seed)
    x, W, V, b = (as_tensor(rng.normal(size=s)) for s in ((N, T, D), (4 * H, D), (4 * H, H), (4 * H,)))
    _, products, calls = learner_counted(name, layer, x, None, W, V, b, spy=spy)
    return products, calls


def check_lstm_layer_fused(lstm_layer_fused, seed: int = 0, N: int = 2, T: int = 6, D: int = 3, H: int = 4):
    """notebook 03's layer check, then the number of matrix products: at most 2 per step, one per term."""
    check_lstm_layer(lstm_layer_fused, seed=seed, N=N, T=T, D=D, H=H, name="lstm_layer_fused")
    products, _ = _counted("lstm_layer_fused", lstm_layer_fused, seed, N, T, D, H)
    if products > 2 * T:
        fail(tr("lstm_layer_fused made {products} matrix products for T = {t} steps "
                "({products2:g} per step): stack the four gates' weights and compute all four "
                "gates with one product per term, x_t W^T and h_{{t-1}} V^T, 2 per step ({value} "
                "in all); a product per gate and term makes 8 per step", products=products, t=T,
                products2=products / T, value=2 * T))
    passed(tr("lstm_layer_fused makes {products} matrix products for T = {t} steps (at most 2T "
              "= {value})", products=products, t=T, value=2 * T))


def check_lstm_layer_precomputed(lstm_layer_precomputed, seed: int = 0, N: int = 2, T: int = 6, D: int = 3,
                                 H: int = 4):
    """notebook 03's layer check, then the number of matrix products (T + 1 for T steps) and the calls of
    `step` (one per step: the race later hands the layer a compiled step, which must be what runs)."""
    check_lstm_layer(lstm_layer_precomputed, seed=seed, N=N, T=T, D=D, H=H, name="lstm_layer_precomputed")
    products, steps = _counted("lstm_layer_precomputed", lstm_layer_precomputed, seed, N, T, D, H, spy="step")
    if steps is None:
        fail(tr("lstm_layer_precomputed has no argument `step`: keep the signature "
                "lstm_layer_precomputed(x, state, W, V, b, step=lstm_step)"))
    if steps != T:
        fail(tr("lstm_layer_precomputed called its `step` argument {steps} times for T = {t} "
                "steps: call h_t, c_t = step(gx_t, h_t, c_t, V) once per step, rather than "
                "writing the step out or calling lstm_step by name (the race hands the layer a "
                "compiled step, which must be what runs)", steps=steps, t=T))
    if products > T + 1:
        fail(tr("lstm_layer_precomputed made {products} matrix products for T = {t} steps: "
                "compute the input projections of all steps with one product before the loop (x "
                "@ W.T + b), then one product per step (h_{{t-1}} V^T), T + 1 = {t2} in all", products=products,
                t=T, t2=T + 1))
    passed(tr("lstm_layer_precomputed makes {products} matrix products for T = {t} steps (T + "
              "1 = {t2}) and calls step {steps} times", products=products, t=T, t2=T + 1, steps=steps))


readable_tracebacks(globals())
