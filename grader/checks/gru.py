"""Checks for notebook 04, the GRU in its two forms, in the lecture notes' notation.

    r_t = σ(W_r x_t + V_r h_{t-1} + b_r)                  reset gate
    z_t = σ(W_z x_t + V_z h_{t-1} + b_z)                  update gate
    n_t = tanh(W_n x_t + V_n (r_t ⊙ h_{t-1}) + b_n)       candidate, Cho et al. 2014: reset before the product
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))   candidate, torch and cuDNN: reset after it
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}                 both forms (z_t keeps the old state)

Layout: batch first, x_t (N, D), h_t (N, H). Cho's form takes a per-gate dict p (W_* (H, D), V_* (H, H),
b_* (H,) for * in r, z, n); torch's form takes torch.nn.GRU's own tensors, stacked r, z, n: W_ih (3H, D),
W_hh (3H, H), b_ih and b_hh (3H,), because its candidate needs the recurrent bias b_hn on its own.

References: torch.nn.GRUCell / torch.nn.GRU with copied weights for torch's form, and the course's own
float64 equations (`gru_step`) for Cho's form, which torch does not implement; tests/test_references.py
checks `gru_step` against torch where the two forms must agree.
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

GATES = ("r", "z", "n")  # torch.nn.GRU's order in the stacked matrices
KEEP_OLD = "torch and Cho et al. keep the old state with z_t: h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}"


# --- the equations, float64 numpy -----------------------------------------------------------------


def gru_step(x_t, h_prev, p: dict, reset: str = "before", keep: str = "z", candidate=np.tanh, gates=sigmoid):
    """One GRU step by the equations, with the choices that tell the forms (and the mistakes) apart.

    p: W_r, V_r, b_r, W_z, V_z, b_z, W_n, V_n, b_n and, for torch's form, b_hn (the part of b_n inside the
    reset; 0 when absent). reset: "before" (Cho), "after" (torch), "after_bias_outside" (b_hn left outside
    the reset), "none" (no reset gate) or "z" (the update gate used as the reset gate). keep: "z" (the old
    state is kept with z_t, torch and Cho) or "1-z" (Chung et al. 2014 and some lecture notes).
    """
    pre = {g: x_t @ p[f"W_{g}"].T + h_prev @ p[f"V_{g}"].T + p[f"b_{g}"] for g in ("r", "z")}
    r_t, z_t = gates(pre["r"]), gates(pre["z"])
    b_hn = p.get("b_hn", 0.0)
    b_in = p["b_n"] - b_hn
    recurrent = {
        "before": (r_t * h_prev) @ p["V_n"].T + b_hn,
        "after": r_t * (h_prev @ p["V_n"].T + b_hn),
        "after_bias_outside": r_t * (h_prev @ p["V_n"].T) + b_hn,
        "none": h_prev @ p["V_n"].T + b_hn,
        "z": (z_t * h_prev) @ p["V_n"].T + b_hn,
    }[reset]
    n_t = candidate(x_t @ p["W_n"].T + b_in + recurrent)
    return (1 - z_t) * n_t + z_t * h_prev if keep == "z" else z_t * n_t + (1 - z_t) * h_prev


def split_torch(W_ih, W_hh, b_ih, b_hh, order: tuple = GATES) -> dict:
    """torch.nn.GRU's stacked tensors (numpy) as the per-gate dict gru_step takes; `order` is the order in
    which the blocks are read. b_n = b_in + b_hn, with b_hn kept apart for torch's form."""
    H = W_hh.shape[1]
    p = {}
    for k, gate in enumerate(order):
        rows = slice(k * H, (k + 1) * H)
        p[f"W_{gate}"], p[f"V_{gate}"], p[f"b_{gate}"] = W_ih[rows], W_hh[rows], b_ih[rows] + b_hh[rows]
        if gate == "n":
            p["b_hn"] = b_hh[rows]
    return p


def make_gate_params(D: int, H: int, rng: np.random.Generator) -> dict:
    """Random per-gate parameters for Cho's form (float64 numpy)."""
    return gate_params(GATES, D, H, rng)


def make_torch_params(D: int, H: int, rng: np.random.Generator, scale: float = 0.5) -> tuple:
    """Random W_ih (3H, D), W_hh (3H, H), b_ih, b_hh (3H,), both biases non-zero (numpy)."""
    return (rng.normal(0, scale, (3 * H, D)), rng.normal(0, scale, (3 * H, H)), rng.normal(0, scale, 3 * H),
            rng.normal(0, scale, 3 * H))


def torch_gru(W_ih, W_hh, b_ih, b_hh, cell: bool):
    """torch.nn.GRUCell or torch.nn.GRU (batch first, float64) holding the given tensors."""
    H, D = W_hh.shape[1], W_ih.shape[1]
    module = (torch.nn.GRUCell(D, H) if cell else torch.nn.GRU(D, H, batch_first=True)).to(device(), torch.float64)
    sfx = "" if cell else "_l0"
    with torch.no_grad():
        for name, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(module, name + sfx).copy_(as_tensor(value))
    return module


# --- the checks -----------------------------------------------------------------------------------

def gate_names() -> dict:
    return {"r": tr("r_t (reset gate)"), "z": tr("z_t (update gate)")}


def check_gru_gates(gru_gates, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    """r_t and z_t against their equations, with the mistake named per gate."""
    expect_callable(gru_gates, "gru_gates")
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    result = learner("gru_gates", gru_gates, as_tensor(x_t), as_tensor(h_prev), as_tensors(p))
    if not returns(result, 2):
        fail(tr("gru_gates must return the two gates (r_t, z_t)"))
    pre = {g: x_t @ p[f"W_{g}"].T + h_prev @ p[f"V_{g}"].T + p[f"b_{g}"] for g in ("r", "z")}
    for gate, other, got in (("r", "z", result[0]), ("z", "r", result[1])):
        mistakes = term_mistakes(gate_names()[gate], gate, pre[gate], x_t, h_prev, p, "sigmoid")
        mistakes[tr("this is {names}: the gates are returned in the wrong order; return (r_t, z_t)",
                    names=gate_names()[other])] = \
            sigmoid(pre[other])
        assert_close(gate_names()[gate], got, sigmoid(pre[gate]), FLOAT64, mistakes)
    passed(tr("gru_gates: r_t and z_t follow their equations (float64, {describe}), N={n} "
              "D={d} H={h}", describe=describe(), n=N, d=D, h=H))


def _step_mistakes(x_t, h_prev, p: dict, form: str) -> dict:
    """What the usual mistakes give for h_t, in Cho's form ("before") or torch's ("after")."""
    other = "after" if form == "before" else "before"
    where = {
        "before": tr("Cho's form resets h_{t-1} before the product: V_n (r_t ⊙ h_{t-1})"),
        "after": tr("torch's form resets after the product: r_t ⊙ (W_hn h_{t-1} + b_hn)"),
    }
    mistakes = {
        tr("z_t and 1 − z_t are swapped: {keep_old}", keep_old=KEEP_OLD): gru_step(x_t, h_prev, p, form, keep="1-z"),
        tr("the reset gate is applied in the wrong place for this form: {where}", where=where[form]):
            gru_step(x_t, h_prev, p, other),
        tr("the reset gate is missing from the candidate n_t"): gru_step(x_t, h_prev, p, "none"),
        tr("the candidate uses the update gate z_t where the reset gate r_t belongs"): gru_step(x_t, h_prev, p, "z"),
        tr("sigmoid used where the candidate n_t needs tanh"): gru_step(x_t, h_prev, p, form, candidate=sigmoid),
        tr("tanh used where the gates r_t and z_t need sigmoid"): gru_step(x_t, h_prev, p, form, gates=np.tanh),
    }
    if form == "after":
        mistakes[tr("b_hn is added outside the reset: torch computes r_t ⊙ (W_hn h_{t-1} + b_hn)")] = \
            gru_step(x_t, h_prev, p, "after_bias_outside")
    return mistakes


@depends_on(gru_gates=check_gru_gates)
def check_gru_cell_cho(gru_cell_cho, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    """Cho et al.'s form against the course's float64 equations (torch has no module for it)."""
    expect_callable(gru_cell_cho, "gru_cell_cho")
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    h_t = learner("gru_cell_cho", gru_cell_cho, as_tensor(x_t), as_tensor(h_prev), as_tensors(p))
    assert_close("h_t", h_t, gru_step(x_t, h_prev, p, "before"), FLOAT64, _step_mistakes(x_t, h_prev, p, "before"))
    passed(tr("gru_cell_cho follows Cho et al. 2014, reset before the product (float64, "
              "{describe}), N={n} D={d} H={h}", describe=describe(), n=N, d=D, h=H))


def check_gru_cell_torch(gru_cell_torch, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    """torch's form against torch.nn.GRUCell with the same tensors, in float64, forward and gradients."""
    expect_callable(gru_cell_torch, "gru_cell_torch")
    rng = np.random.default_rng(seed)
    weights = make_torch_params(D, H, rng)
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    r_h = as_tensor(rng.normal(size=(N, H)))
    inputs = dict(zip(("x_t", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh"), (x_t, h_prev, *weights), strict=True))
    ref = {k: as_tensor(v, requires_grad=True) for k, v in inputs.items()}
    want = torch_cell(torch.nn.GRUCell, *(ref[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh", "x_t", "h_prev")))
    (want * r_h).sum().backward()
    want = want.detach()
    ours = {k: as_tensor(v, requires_grad=True) for k, v in inputs.items()}
    h_t = learner("gru_cell_torch", gru_cell_torch, *ours.values())
    p = split_torch(*weights)
    mistakes = _step_mistakes(x_t, h_prev, p, "after")
    for label, order in {"z, r, n (Keras's order)": ("z", "r", "n"), "n, r, z": ("n", "r", "z")}.items():
        mistakes[tr("the blocks are read in the order {label}; torch.nn.GRU stacks r, z, n", label=label)] = \
            gru_step(x_t, h_prev, split_torch(*weights, order=order), "after")
    assert_close("h_t", h_t, want, FLOAT64, mistakes)
    check_gradients((h_t * r_h).sum(), ours, {k: t.grad for k, t in ref.items()}, tr("your gru_cell_torch"))
    passed(tr("gru_cell_torch matches torch.nn.GRUCell, blocks r, z, n, forward and gradients "
              "(float64, {describe}), N={n} D={d} H={h}", describe=describe(), n=N, d=D, h=H))


@depends_on(gru_cell_torch=check_gru_cell_torch)
def check_gru_layer(gru_layer, seed: int = 0, N: int = 2, T: int = 5, D: int = 3, H: int = 4):
    """Forward and gradients against torch.nn.GRU in float64; forward again in float32, whose tolerance
    depends on the device (cuDNN's TF32 on a GPU)."""
    expect_callable(gru_layer, "gru_layer")
    rng = np.random.default_rng(seed)
    weights = make_torch_params(D, H, rng)
    x, h0, R, r_h = (rng.normal(size=s) for s in ((N, T, D), (N, H), (N, T, H), (N, H)))

    gru = torch_gru(*weights, cell=False)
    x_ref, h0_ref = as_tensor(x, requires_grad=True), as_tensor(h0, requires_grad=True)
    out, h_T = gru(x_ref, h0_ref[None])
    ((out * as_tensor(R)).sum() + (h_T[0] * as_tensor(r_h)).sum()).backward()
    names = ("W_ih", "W_hh", "b_ih", "b_hh")
    want_grads = dict(zip(names, (gru.weight_ih_l0.grad, gru.weight_hh_l0.grad, gru.bias_ih_l0.grad,
                                  gru.bias_hh_l0.grad), strict=True))
    want_grads.update(x=x_ref.grad, h_0=h0_ref.grad)

    args = {name: as_tensor(value, requires_grad=True) for name, value in zip(("x", "h_0", *names), (x, h0, *weights),
                                                                             strict=True)}
    result = learner("gru_layer", gru_layer, *args.values())
    if not returns(result, 2):
        fail(tr("gru_layer must return (outputs, h_T)"))
    got_out, got_h = result
    assert_close(tr("outputs (h_t at every step)"), got_out, out, FLOAT64,
                 _layer_mistakes(x, h0, split_torch(*weights)))
    assert_close("h_T", got_h, h_T[0])
    loss = (got_out * as_tensor(R)).sum() + (got_h * as_tensor(r_h)).sum()
    f32 = [as_tensor(a, dtype=torch.float32) for a in (x, h0, *weights)]
    tol = check_backward_and_float32(loss, args, want_grads, lambda: learner("gru_layer", gru_layer, *f32)[0], out)
    passed(tr("gru_layer matches torch.nn.GRU forward and backward (float64), and forward in "
              "float32 (rtol {rtol}), on {describe}; N={n} T={t} H={h}", rtol=tol.rtol, describe=describe(), n=N,
              t=T, h=H))


def _layer_mistakes(x, h0, p: dict) -> dict:
    """Outputs of the usual loop mistakes, by the equations (torch's form)."""
    h, outs, stale, from_h0 = h0, [], [], []
    for t in range(x.shape[1]):
        stale.append(h)
        h = gru_step(x[:, t], h, p, "after")
        outs.append(h)
        from_h0.append(gru_step(x[:, t], h0, p, "after"))
    return {tr("h_0 is fed to every step: carry h_t from one step to the next"): np.stack(from_h0, axis=1),
            tr("outputs are one step late: outputs[:, t] holds h_{t-1}; store h_t after "
               "computing it"):
                np.stack(stale, axis=1)}


def _random_torch_gru(D: int, H: int, seed: int) -> torch.nn.GRU:
    torch.manual_seed(seed)
    return torch.nn.GRU(D, H, batch_first=True).to(device(), torch.float64)


def check_gates_from_torch(gates_from_torch, seed: int = 0, D: int = 3, H: int = 4):
    expect_callable(gates_from_torch, "gates_from_torch")
    check_blocks_from_torch(gates_from_torch, _random_torch_gru(D, H, seed), GATES)


def check_relabel_update_gate(relabel_update_gate, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    """The other convention (h_t = z'_t ⊙ n_t + (1 − z'_t) ⊙ h_{t-1}) with the returned parameters must
    compute exactly what torch's convention computes with the original ones."""
    expect_callable(relabel_update_gate, "relabel_update_gate")
    rng = np.random.default_rng(seed)
    p = make_gate_params(D, H, rng)
    given = as_tensors(p)
    q = learner("relabel_update_gate", relabel_update_gate, given)
    if not isinstance(q, dict):
        fail(tr("relabel_update_gate must return a new dict of parameters"))
    if any(not np.array_equal(to_numpy(given[k]), v) for k, v in p.items()):
        fail(tr("relabel_update_gate changed the dict it was given: build and return a new one"))
    missing = sorted(set(p) - set(q))
    if missing:
        fail(tr("the returned dict has no entries {missing}", missing=missing))
    for kind in ("W", "V", "b"):
        name = f"{kind}_z"
        assert_close(name, q[name], -p[name], FLOAT64, {
            tr("{name} was left as it is: σ(−a) = 1 − σ(a), so z'_t = 1 − z_t needs the update "
               "gate's pre-activation negated", name=name): p[name],
            tr("{name} became 1 − {name}; the gate's value is 1 − z_t, but its parameters are "
               "negated: σ(−a) = 1 − σ(a)", name=name): 1 - p[name]})
        for gate in ("r", "n"):
            assert_close(f"{kind}_{gate}", q[f"{kind}_{gate}"], p[f"{kind}_{gate}"], FLOAT64, {
                tr("{kind}_{gate} was negated too: only the update gate changes its meaning", kind=kind,
                   gate=gate): -p[f"{kind}_{gate}"]})
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    assert_close(tr("h_t in the other convention"), gru_step(x_t, h_prev, {k: to_numpy(v) for k, v in q.items()},
                                                            keep="1-z"), gru_step(x_t, h_prev, p))
    passed(tr("relabel_update_gate: with z' = 1 − z the other convention computes the same h_t"))


readable_tracebacks(globals())
