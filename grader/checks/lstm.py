"""Checks for notebook 03, the LSTM in torch, in the lecture notes' notation.

    f_t = σ(W_f x_t + V_f h_{t-1} + b_f)     forget gate        i_t = σ(W_i x_t + V_i h_{t-1} + b_i)   input gate
    g_t = tanh(W_g x_t + V_g h_{t-1} + b_g)  candidate          o_t = σ(W_o x_t + V_o h_{t-1} + b_o)   output gate
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t                             h_t = o_t ⊙ tanh(c_t)

Layout: batch first, x_t (N, D), h_t and c_t (N, H); W_* (H, D), V_* (H, H), b_* (H,) in a dict p.
The fused form stacks the gates in torch.nn.LSTM's order i, f, g, o: W (4H, D), V (4H, H), b (4H,).

References are torch.nn.LSTMCell / torch.nn.LSTM with copied weights (torch's two biases: b_ih = b,
b_hh = 0), in float64 on the GPU when there is one, and torch.autograd for gradients. The learner's code
runs with a tripwire: calling a ready-made recurrent module or op earns no points for that part.
"""

import numpy as np
import torch

from grader.checks import (
    as_tensor,
    as_tensors,
    check_backward_and_float32,
    check_blocks_from_torch,
    check_gradients,
    depends_on,
    expect_callable,
    fuse,
    gate_params,
    learner,
    passed,
    readable_tracebacks,
    returns,
    sigmoid,
    term_mistakes,
    torch_cell,
)
from grader.device import describe, device
from grader.i18n import tr
from grader.tolerance import FLOAT64, assert_close, fail, to_numpy

GATES = ("i", "f", "g", "o")  # torch.nn.LSTM's order in the fused matrices


# --- inputs and references ------------------------------------------------------------------------


def make_gate_params(D: int, H: int, rng: np.random.Generator) -> dict:
    """Random per-gate parameters W_*, V_*, b_* for the four LSTM gates (float64 numpy)."""
    return gate_params(GATES, D, H, rng)


def torch_lstm(W, V, b, cell: bool):
    """torch.nn.LSTMCell or torch.nn.LSTM (batch first, float64) holding W, V and b (b_ih = b, b_hh = 0)."""
    H, D = V.shape[1], W.shape[1]
    module = (torch.nn.LSTMCell(D, H) if cell else torch.nn.LSTM(D, H, batch_first=True)).to(device(), torch.float64)
    sfx = "" if cell else "_l0"
    with torch.no_grad():
        getattr(module, "weight_ih" + sfx).copy_(as_tensor(W))
        getattr(module, "weight_hh" + sfx).copy_(as_tensor(V))
        getattr(module, "bias_ih" + sfx).copy_(as_tensor(b))
        getattr(module, "bias_hh" + sfx).zero_()
    return module


def _gate_values(x_t, h_prev, p) -> dict:
    """Pre-activations and gates by the equations, float64 numpy (torch.nn.LSTMCell exposes no gates)."""
    pre = {g: x_t @ p[f"W_{g}"].T + h_prev @ p[f"V_{g}"].T + p[f"b_{g}"] for g in GATES}
    return {"pre": pre, "f": sigmoid(pre["f"]), "i": sigmoid(pre["i"]), "g": np.tanh(pre["g"]), "o": sigmoid(pre["o"])}


# --- the checks -----------------------------------------------------------------------------------


def check_lstm_gates(lstm_gates, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    """Each gate against its equation, with the mistake named per gate."""
    expect_callable(lstm_gates, "lstm_gates")
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    ref = _gate_values(x_t, h_prev, p)
    result = learner("lstm_gates", lstm_gates, as_tensor(x_t), as_tensor(h_prev), as_tensors(p))
    if not returns(result, 4):
        fail(tr("lstm_gates must return the four gates (f_t, i_t, g_t, o_t)"))
    names = {"f": tr("f_t (forget gate)"), "i": tr("i_t (input gate)"), "g": tr("g_t (candidate)"),
             "o": tr("o_t (output gate)")}
    for gate, got in zip(("f", "i", "g", "o"), result, strict=True):
        others = {o: ref[o] for o in ("f", "i", "g", "o") if o != gate}
        mistakes = term_mistakes(names[gate], gate, ref["pre"][gate], x_t, h_prev, p,
                                 "tanh" if gate == "g" else "sigmoid")
        mistakes.update({tr("this is {names}: the gates are returned in the wrong order; return (f_t, i_t, "
                            "g_t, o_t)", names=names[o]): v for o, v in others.items()})
        assert_close(names[gate], got, ref[gate], FLOAT64, mistakes)
    passed(tr("lstm_gates: f_t, i_t, g_t, o_t follow their equations (float64, {describe}), "
              "N={n} D={d} H={h}", describe=describe(), n=N, d=D, h=H))


def _cell_mistakes(ref: dict, c_prev, h_prev) -> tuple[dict, dict]:
    f, i, g, o = ref["f"], ref["i"], ref["g"], ref["o"]
    c = f * c_prev + i * g
    c_mistakes = {
        tr("the forget gate multiplies h_{t-1}; it must multiply the cell state: c_t = f_t "
           "⊙ c_{t-1} + i_t ⊙ g_t"):
            f * h_prev + i * g,
        tr("the input gate is missing: c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t"): f * c_prev + g,
        tr("the forget gate is missing: c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t"): c_prev + i * g,
        tr("f_t and i_t are swapped in the cell update"): i * c_prev + f * g,
    }
    h_mistakes = {
        tr("h_t uses tanh(c_{t-1}); it must use the new cell state: h_t = o_t ⊙ tanh(c_t)"): o * np.tanh(c_prev),
        tr("tanh is missing from the output: h_t = o_t ⊙ tanh(c_t)"): o * c,
        tr("sigmoid used where h_t needs tanh(c_t)"): o * sigmoid(c),
        tr("the output gate is missing: h_t = o_t ⊙ tanh(c_t)"): np.tanh(c),
    }
    return c_mistakes, h_mistakes


def _check_cell_result(result, name, want_h, want_c, ref, c_prev, h_prev):
    if not returns(result, 2):
        fail(tr("{name} must return the pair (h_t, c_t)", name=name))
    h_t, c_t = result
    c_mistakes, h_mistakes = _cell_mistakes(ref, c_prev, h_prev)
    assert_close(tr("c_t (the cell update)"), c_t, want_c, FLOAT64, c_mistakes)
    assert_close(tr("h_t (the output)"), h_t, want_h, FLOAT64, h_mistakes)


def _reference_cell(W, V, b, x_t, h_prev, c_prev) -> tuple:
    """(h_t, c_t) of torch.nn.LSTMCell run with W, V, b (torch tensors: autograd reaches them) and b_hh = 0."""
    return torch_cell(torch.nn.LSTMCell, W, V, b, torch.zeros_like(b), x_t, (h_prev, c_prev))


def _per_gate_reference(inputs: dict) -> tuple:
    """torch.nn.LSTMCell run on the per-gate inputs {"x_t", "h_prev", "c_prev", "p['W_f']", ...} (numpy) as float64
    leaves: (the leaves, whose .grad a backward fills, and (h_t, c_t))."""
    ref = {k: as_tensor(v, requires_grad=True) for k, v in inputs.items()}
    W, V, b = (torch.cat([ref[f"p['{kind}_{g}']"] for g in GATES]) for kind in ("W", "V", "b"))
    return ref, _reference_cell(W, V, b, ref["x_t"], ref["h_prev"], ref["c_prev"])


def _readout(rng, N: int, H: int):
    """A fixed random readout of (h_t, c_t), whose gradients the checks compare: L = Σ r_h ⊙ h_t + Σ r_c ⊙ c_t."""
    r_h, r_c = as_tensor(rng.normal(size=(N, H))), as_tensor(rng.normal(size=(N, H)))
    return lambda h, c: (h * r_h).sum() + (c * r_c).sum()


@depends_on(lstm_gates=check_lstm_gates)
def check_lstm_cell(lstm_cell, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    """Forward against torch.nn.LSTMCell, then the gradients of x_t, h_prev, c_prev and every W_*, V_*, b_*."""
    expect_callable(lstm_cell, "lstm_cell")
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    x_t, h_prev, c_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    readout = _readout(rng, N, H)
    inputs = {"x_t": x_t, "h_prev": h_prev, "c_prev": c_prev, **{f"p['{k}']": v for k, v in p.items()}}
    ref, (want_h, want_c) = _per_gate_reference(inputs)
    readout(want_h, want_c).backward()
    ours = {k: as_tensor(v, requires_grad=True) for k, v in inputs.items()}
    result = learner("lstm_cell", lstm_cell, ours["x_t"], ours["h_prev"], ours["c_prev"],
                     {k: ours[f"p['{k}']"] for k in p})
    _check_cell_result(result, "lstm_cell", want_h.detach(), want_c.detach(), _gate_values(x_t, h_prev, p), c_prev,
                       h_prev)
    check_gradients(readout(*result), ours, {k: t.grad for k, t in ref.items()}, tr("your lstm_cell"))
    passed(tr("lstm_cell matches torch.nn.LSTMCell, forward and gradients (float64, "
              "{describe}), N={n} D={d} H={h}", describe=describe(), n=N, d=D, h=H))


_BACKWARD_MISTAKES = {
    "through_h": tr("the gradient that reaches c_t through h_t = o_t ⊙ tanh(c_t) is missing: the "
                    "cell's gradient is dc_t + dh_t ⊙ o_t ⊙ (1 - tanh²(c_t))"),
    "c_squared": tr("the derivative of tanh(c_t) was written 1 - c_t²; it is 1 - tanh²(c_t)"),
    "f_times_c_t": tr("f_t's gradient uses the new c_t; f_t multiplies c_{t-1}, so it is dc ⊙ c_{t-1}"),
    "gates_tanh_derivative": tr("the sigmoid gates' derivative was written 1 - σ²; it is σ(1 - σ)"),
    "candidate_sigmoid_derivative": tr("the candidate's derivative was written g(1 - g); g_t uses tanh: 1 - g_t²"),
    "bias_averaged": tr("the biases' gradients are averaged over the batch; they must be summed"),
    "transposed": tr("the weights' gradients are transposed: dW_* = da_*^T x_t (H, D), dV_* = da_*^T "
                     "h_{t-1} (H, H)"),
}
"""The classic mistakes of an LSTM backward pass by hand (CS231n's lstm_step_backward, Coursera's LSTM backward)."""


def _cell_backward(dh_t, dc_t, x_t, h_prev, c_prev, p, mistake: str | None = None) -> tuple:
    """(dx_t, dh_prev, dc_prev, grads) by the chain rule in float64 numpy, with one named mistake or none: the
    catalogue's predictions (the reference itself is autograd through torch.nn.LSTMCell)."""
    v = _gate_values(x_t, h_prev, p)
    f, i, g, o = v["f"], v["i"], v["g"], v["o"]
    c_t = f * c_prev + i * g
    tanh_c = np.tanh(c_t)
    dc = dc_t + (0 if mistake == "through_h" else dh_t * o * (1 - (c_t if mistake == "c_squared" else tanh_c) ** 2))
    sig = (lambda s: 1 - s**2) if mistake == "gates_tanh_derivative" else (lambda s: s * (1 - s))
    da = {"f": dc * (c_t if mistake == "f_times_c_t" else c_prev) * sig(f), "i": dc * g * sig(i),
          "g": dc * i * (g * (1 - g) if mistake == "candidate_sigmoid_derivative" else 1 - g**2),
          "o": dh_t * tanh_c * sig(o)}
    grads = {}
    for k, d in da.items():
        grads[f"W_{k}"] = x_t.T @ d if mistake == "transposed" else d.T @ x_t
        grads[f"V_{k}"] = h_prev.T @ d if mistake == "transposed" else d.T @ h_prev
        grads[f"b_{k}"] = d.mean(0) if mistake == "bias_averaged" else d.sum(0)
    dx_t = sum(d @ p[f"W_{k}"] for k, d in da.items())
    dh_prev = sum(d @ p[f"V_{k}"] for k, d in da.items())
    return dx_t, dh_prev, dc * f, grads


def _named(gradients: tuple) -> dict:
    """(dx_t, dh_prev, dc_prev, grads) as one dict by name, in the order the check compares them: the cell's
    gradients first, then each gate's W, V, b."""
    dx_t, dh_prev, dc_prev, grads = gradients
    return {"dc_prev": dc_prev, "dh_prev": dh_prev, "dx_t": dx_t,
            **{f"grads['{k}_{g}']": grads[f"{k}_{g}"] for g in ("f", "i", "g", "o") for k in ("W", "V", "b")}}


@depends_on(lstm_gates=check_lstm_gates)
def check_lstm_cell_backward(lstm_cell_backward, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    """The gradients worked out by hand against torch.autograd through torch.nn.LSTMCell (float64): dc_prev, dh_prev,
    dx_t, then every W_*, V_*, b_*. Autograd inside the learner's function stops the part (the tripwire)."""
    expect_callable(lstm_cell_backward, "lstm_cell_backward")
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    x_t, h_prev, c_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    dh_t, dc_t = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    inputs = {"x_t": x_t, "h_prev": h_prev, "c_prev": c_prev, **{f"p['{k}']": v for k, v in p.items()}}
    ref, (want_h, want_c) = _per_gate_reference(inputs)
    ((want_h * as_tensor(dh_t)).sum() + (want_c * as_tensor(dc_t)).sum()).backward()
    result = learner("lstm_cell_backward", lstm_cell_backward, as_tensor(dh_t), as_tensor(dc_t), as_tensor(x_t),
                     as_tensor(h_prev), as_tensor(c_prev), as_tensors(p))
    if not returns(result, 4) or not isinstance(result[3], dict):
        fail(tr("lstm_cell_backward must return (dx_t, dh_prev, dc_prev, grads) with grads a dict"))
    missing = [k for k in p if k not in result[3]]
    if missing:
        fail(tr("grads has no entries {missing}: it needs W_*, V_* and b_* for each of f, i, g, o",
                missing=missing))
    want = _named((ref["x_t"].grad, ref["h_prev"].grad, ref["c_prev"].grad, {k: ref[f"p['{k}']"].grad for k in p}))
    predicted = {m: _named(_cell_backward(dh_t, dc_t, x_t, h_prev, c_prev, p, m)) for m in _BACKWARD_MISTAKES}
    for name, got in _named(result).items():
        assert_close(name, got, want[name], FLOAT64, {_BACKWARD_MISTAKES[m]: v[name] for m, v in predicted.items()})
    passed(tr("lstm_cell_backward matches torch.autograd through nn.LSTMCell (float64, "
              "{describe}), N={n} D={d} H={h}", describe=describe(), n=N, d=D, h=H))


def check_lstm_cell_fused(lstm_cell_fused, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    """Forward against torch.nn.LSTMCell (the gates' order named when it is wrong), then the gradients of every
    argument."""
    expect_callable(lstm_cell_fused, "lstm_cell_fused")
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    x_t, h_prev, c_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    W, V, b = fuse(p, GATES)
    readout = _readout(rng, N, H)
    inputs = {"x_t": x_t, "h_prev": h_prev, "c_prev": c_prev, "W": W, "V": V, "b": b}
    theirs = {k: as_tensor(v, requires_grad=True) for k, v in inputs.items()}
    want_h, want_c = _reference_cell(*(theirs[k] for k in ("W", "V", "b", "x_t", "h_prev", "c_prev")))
    readout(want_h, want_c).backward()
    want_h, want_c = want_h.detach(), want_c.detach()
    ours = {k: as_tensor(v, requires_grad=True) for k, v in inputs.items()}
    result = learner("lstm_cell_fused", lstm_cell_fused, *ours.values())
    if not returns(result, 2):
        fail(tr("lstm_cell_fused must return the pair (h_t, c_t)"))
    ref = _gate_values(x_t, h_prev, p)
    c_mistakes, h_mistakes = _cell_mistakes(ref, c_prev, h_prev)
    wrong_orders = {"i, f, o, g (CS231n's order)": ("i", "f", "o", "g"), "f, i, g, o": ("f", "i", "g", "o"),
                    "i, g, f, o": ("i", "g", "f", "o")}
    for label, order in wrong_orders.items():
        relabel = dict(zip(order, GATES, strict=True))  # the block the learner read as gate x is torch's gate y
        q = {f"{kind}_{relabel[gate]}": p[f"{kind}_{gate}"] for gate in GATES for kind in ("W", "V", "b")}
        wrong = _gate_values(x_t, h_prev, q)
        wrong_c = wrong["f"] * c_prev + wrong["i"] * wrong["g"]
        hint = tr("the gates are read from the fused matrix in the order {label}; torch.nn.LSTM "
                  "stacks i, f, g, o", label=label)
        c_mistakes[hint] = wrong_c
        h_mistakes[hint] = wrong["o"] * np.tanh(wrong_c)
    sig_g = ref["f"] * c_prev + ref["i"] * sigmoid(ref["pre"]["g"])
    tanh_f = np.tanh(ref["pre"]["f"]) * c_prev + ref["i"] * ref["g"]
    for hint, wrong_c in {tr("sigmoid used where g_t (the candidate, block 3 of i, f, g, o) needs tanh"): sig_g,
                          tr("tanh used where f_t (the forget gate, block 2 of i, f, g, o) needs sigmoid"):
                              tanh_f}.items():
        c_mistakes[hint] = wrong_c
        h_mistakes[hint] = ref["o"] * np.tanh(wrong_c)
    h_t, c_t = result
    assert_close(tr("c_t (the cell update)"), c_t, want_c, FLOAT64, c_mistakes)
    assert_close(tr("h_t (the output)"), h_t, want_h, FLOAT64, h_mistakes)
    check_gradients(readout(h_t, c_t), ours, {k: t.grad for k, t in theirs.items()}, tr("your lstm_cell_fused"))
    passed(tr("lstm_cell_fused matches torch.nn.LSTMCell with the gates stacked i, f, g, o, "
              "forward and gradients (float64, {describe})", describe=describe()))


@depends_on(lstm_cell_fused=check_lstm_cell_fused)
def check_lstm_layer(lstm_layer, seed: int = 0, N: int = 2, T: int = 5, D: int = 3, H: int = 4,
                     name: str = "lstm_layer"):
    """Forward and gradients against torch.nn.LSTM in float64; forward again in float32, whose tolerance
    depends on the device (cuDNN's TF32 on a GPU). `name` is the function's name in the notebook."""
    expect_callable(lstm_layer, name)
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    W, V, b = fuse(p, GATES)
    x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    R, r_h, r_c = rng.normal(size=(N, T, H)), rng.normal(size=(N, H)), rng.normal(size=(N, H))

    lstm = torch_lstm(W, V, b, cell=False)
    x_ref = as_tensor(x, requires_grad=True)
    out, (h_T, c_T) = lstm(x_ref, (as_tensor(h0)[None], as_tensor(c0)[None]))
    ((out * as_tensor(R)).sum() + (h_T[0] * as_tensor(r_h)).sum() + (c_T[0] * as_tensor(r_c)).sum()).backward()
    want_grads = {"W": lstm.weight_ih_l0.grad, "V": lstm.weight_hh_l0.grad, "b": lstm.bias_ih_l0.grad,
                  "x": x_ref.grad}

    args = {k: as_tensor(v, requires_grad=True) for k, v in (("x", x), ("W", W), ("V", V), ("b", b))}
    result = learner(name, lstm_layer, args["x"], (as_tensor(h0), as_tensor(c0)),
                     args["W"], args["V"], args["b"])
    if not returns(result, 2) or not returns(result[1], 2):
        fail(tr("{name} must return (outputs, (h_T, c_T))", name=name))
    got_out, (got_h, got_c) = result
    with torch.no_grad():
        state0 = (as_tensor(h0), as_tensor(c0))
        twice = torch_lstm(W, V, 2 * b, cell=False)(as_tensor(x), tuple(s[None] for s in state0))[0]
        no_bias = torch_lstm(W, V, 0 * b, cell=False)(as_tensor(x), tuple(s[None] for s in state0))[0]
        cell = torch_lstm(W, V, b, cell=True)
        frozen = torch.stack([cell(as_tensor(x[:, t]), state0)[0] for t in range(T)], dim=1)
    assert_close(tr("outputs (h_t at every step)"), got_out, out, FLOAT64, {
        tr("outputs hold the cell states c_t; they must be the hidden states h_t"): _c_sequence(p, x, h0, c0),
        tr("the bias b is added twice (once in the input projections, again in the step)"): twice,
        tr("the bias b is missing: the gates' pre-activations are x_t W^T + h_{t-1} V^T + b"): no_bias,
        tr("every step starts from the initial state (h_0, c_0): carry h_t and c_t on to "
           "the next step"): frozen,
    })
    assert_close("h_T", got_h, h_T[0])
    assert_close("c_T", got_c, c_T[0])
    loss = (got_out * as_tensor(R)).sum() + (got_h * as_tensor(r_h)).sum() + (got_c * as_tensor(r_c)).sum()
    f32 = [as_tensor(a, dtype=torch.float32) for a in (x, h0, c0, W, V, b)]
    tol = check_backward_and_float32(
        loss, args, want_grads, lambda: learner(name, lstm_layer, f32[0], (f32[1], f32[2]), *f32[3:])[0], out)
    passed(tr("{name} matches torch.nn.LSTM forward and backward (float64), and forward in "
              "float32 (rtol {rtol}), on {describe}; N={n} T={t} H={h}", name=name, rtol=tol.rtol,
              describe=describe(), n=N, t=T, h=H))


def _c_sequence(p, x, h0, c0):
    """All cell states by the equations, numpy: used to recognise outputs that hold c instead of h."""
    h, c, cs = h0, c0, []
    for t in range(x.shape[1]):
        g = _gate_values(x[:, t], h, p)
        c = g["f"] * c + g["i"] * g["g"]
        h = g["o"] * np.tanh(c)
        cs.append(c)
    return np.stack(cs, axis=1)


def _random_torch_lstm(D: int, H: int, seed: int) -> torch.nn.LSTM:
    torch.manual_seed(seed)
    return torch.nn.LSTM(D, H, batch_first=True).to(device(), torch.float64)


def check_gates_from_torch(gates_from_torch, seed: int = 0, D: int = 3, H: int = 4):
    expect_callable(gates_from_torch, "gates_from_torch")
    check_blocks_from_torch(gates_from_torch, _random_torch_lstm(D, H, seed), GATES)


def check_gates_to_torch(gates_to_torch, seed: int = 0, D: int = 3, H: int = 4, N: int = 2, T: int = 4):
    expect_callable(gates_to_torch, "gates_to_torch")
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    lstm = _random_torch_lstm(D, H, seed + 100)  # random weights and biases, to be overwritten
    old_b_hh = to_numpy(lstm.bias_hh_l0).copy()
    result = learner("gates_to_torch", gates_to_torch, as_tensors(p), lstm)
    if result is not None and result is not lstm:
        fail(tr("gates_to_torch must write into the module it is given (with torch.no_grad(): "
                "....copy_(...)), not build a new one"))
    W, V, b = fuse(p, GATES)
    x = rng.normal(size=(N, T, D))
    with torch.no_grad():
        got, _ = lstm(as_tensor(x))
        want, _ = torch_lstm(W, V, b, cell=False)(as_tensor(x))
    wrong = {}
    for label, order in {"i, f, o, g": ("i", "f", "o", "g"), "f, i, g, o": ("f", "i", "g", "o")}.items():
        with torch.no_grad():
            wrong[tr("the gates were stacked in the order {label}; torch.nn.LSTM expects i, f, g, o",
                     label=label)] = \
                torch_lstm(*fuse(p, order), cell=False)(as_tensor(x))[0]
    with torch.no_grad():
        wrong[tr("bias_hh was left as it was: torch adds it to bias_ih, so set it to zero")] = \
            torch_lstm(W, V, b + old_b_hh, cell=False)(as_tensor(x))[0]
    assert_close(tr("the module's output after gates_to_torch"), got, want, FLOAT64, wrong)
    passed(tr("gates_to_torch writes the four gates into torch.nn.LSTM in the order i, f, g, "
              "o: same outputs"))


readable_tracebacks(globals())
