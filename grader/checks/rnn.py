"""Checks for notebook 01, the vanilla RNN in numpy.

Each check takes the learner's function, runs it on random float64 inputs (a new draw per seed) and
compares it with a torch reference built from torch.nn modules with copied weights (forward) and
torch.autograd (backward). The visible test in the notebook, the hidden tests and `python -m grader check`
all call these same functions, so they give the same messages.

Layout (batch first, weights as torch stores them):
    x_t: (N, D)   h_t: (N, H)   y_t: (N, V)   x: (N, T, D)   h: (N, T, H)   y: (N, T, V)
    W_xh: (H, D)  W_hh: (H, H)  b_h: (H,)  W_hy: (V, H)  b_y: (V,)
    h_t = tanh(x_t W_xh^T + h_{t-1} W_hh^T + b_h),  y_t = h_t W_hy^T + b_y
"""

import numpy as np
import torch

from grader.checks import as_tensor, depends_on, expect_callable, passed, readable_tracebacks, returns
from grader.device import describe, device
from grader.i18n import tr
from grader.tolerance import assert_close, fail, likely_mistake

PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


# --- inputs ---------------------------------------------------------------------------------------


def make_params(D: int, H: int, V: int, rng: np.random.Generator, scale: float = 0.5) -> dict:
    """Random RNN parameters in the course's layout (float64)."""
    return {
        "W_xh": rng.normal(0, scale, (H, D)),
        "W_hh": rng.normal(0, scale, (H, H)),
        "b_h": rng.normal(0, scale, H),
        "W_hy": rng.normal(0, scale, (V, H)),
        "b_y": rng.normal(0, scale, V),
    }


def copy_params(params: dict) -> dict:
    """A copy the learner's code may modify without touching the reference's inputs."""
    return {k: v.copy() for k, v in params.items()}


# --- torch references (float64, on the GPU when there is one) -------------------------------------


def torch_rnn(params: dict, cell: bool):
    """torch.nn.RNNCell or torch.nn.RNN (batch first) plus the output torch.nn.Linear, weights copied."""
    H, D = params["W_xh"].shape
    V = params["W_hy"].shape[0]
    kw = dict(nonlinearity="tanh", dtype=torch.float64, device=device())
    rnn = torch.nn.RNNCell(D, H, **kw) if cell else torch.nn.RNN(D, H, batch_first=True, **kw)
    out = torch.nn.Linear(H, V, dtype=torch.float64, device=device())
    sfx = "" if cell else "_l0"
    with torch.no_grad():
        getattr(rnn, "weight_ih" + sfx).copy_(as_tensor(params["W_xh"]))
        getattr(rnn, "weight_hh" + sfx).copy_(as_tensor(params["W_hh"]))
        getattr(rnn, "bias_ih" + sfx).copy_(as_tensor(params["b_h"]))
        getattr(rnn, "bias_hh" + sfx).zero_()  # torch has two biases; the course's b_h is their sum
        out.weight.copy_(as_tensor(params["W_hy"]))
        out.bias.copy_(as_tensor(params["b_y"]))
    return rnn, out


def _module_grads(rnn, out, cell: bool) -> dict:
    sfx = "" if cell else "_l0"
    return {
        "W_xh": getattr(rnn, "weight_ih" + sfx).grad,
        "W_hh": getattr(rnn, "weight_hh" + sfx).grad,
        "b_h": getattr(rnn, "bias_ih" + sfx).grad,
        "W_hy": out.weight.grad,
        "b_y": out.bias.grad,
    }


def ref_cell_forward(x_t, h_prev, params):
    rnn, out = torch_rnn(params, cell=True)
    with torch.no_grad():
        h_t = rnn(as_tensor(x_t), as_tensor(h_prev))
        return h_t, out(h_t)


def ref_forward(x, h0, params):
    rnn, out = torch_rnn(params, cell=False)
    with torch.no_grad():
        h, _ = rnn(as_tensor(x), as_tensor(h0)[None])
        return out(h), h


def ref_cell_backward(dh_t, x_t, h_prev, params):
    """Gradients of sum(h_t * dh_t) by autograd: dx_t, dh_prev and the cell's weights."""
    rnn, out = torch_rnn(params, cell=True)
    x_t, h_prev = as_tensor(x_t, requires_grad=True), as_tensor(h_prev, requires_grad=True)
    (rnn(x_t, h_prev) * as_tensor(dh_t)).sum().backward()
    grads = _module_grads(rnn, out, cell=True)
    return x_t.grad, h_prev.grad, {k: grads[k] for k in ("W_xh", "W_hh", "b_h")}


def ref_backward(dy, x, h0, params):
    """Gradients of sum(y * dy) by autograd: all five parameters and dh0."""
    rnn, out = torch_rnn(params, cell=False)
    h0 = as_tensor(h0, requires_grad=True)
    h, _ = rnn(as_tensor(x), h0[None])
    (out(h) * as_tensor(dy)).sum().backward()
    return _module_grads(rnn, out, cell=False), h0.grad


# --- the checks -----------------------------------------------------------------------------------


def check_softmax(softmax, seed: int = 0, N: int = 4, V: int = 5):
    expect_callable(softmax, "softmax")
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 3, (N, V))
    want = torch.softmax(as_tensor(z), dim=-1)
    e = np.exp(z)
    got = softmax(z.copy())
    mistakes = {
        tr("softmax normalised over axis 0 (the batch) instead of the last axis"): e / e.sum(axis=0, keepdims=True),
        tr("the exponentials are not divided by their sum"): e,
        tr("softmax normalised by the sum over the whole array instead of each row"): e / e.sum(),
    }
    if got is not None and not likely_mistake(got, mistakes) and np.shape(got) == z.shape:
        sums = np.asarray(got, dtype=float).sum(axis=-1)
        if not np.allclose(sums, 1.0):
            fail(tr("softmax(z): the rows do not sum to 1 (row sums {sums}): normalise each row over "
                    "the last axis, e / e.sum(axis=-1, keepdims=True)", sums=np.round(sums, 4).tolist()))
    assert_close("softmax(z)", got, want, mistakes=mistakes)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, not as a warning
        big = softmax(z + 1000.0)
    if big is not None and not np.all(np.isfinite(np.asarray(big, dtype=float))):
        raise AssertionError(tr("softmax(z + 1000) contains NaN or inf: np.exp overflows for large scores; "
                                "subtract each row's maximum first"))
    assert_close("softmax(z + 1000)", big, want)
    apart = z.copy()
    apart[1:] += 1000.0  # rows of different scales: each needs its own maximum
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mixed = softmax(apart.copy())
    if mixed is not None and not np.all(np.isfinite(np.asarray(mixed, dtype=float))):
        raise AssertionError(tr("softmax of a batch whose rows differ in scale (rows 1.. shifted by 1000) "
                                "contains NaN or inf: subtract each row's own maximum (z.max(axis=-1, "
                                "keepdims=True)), not one maximum of the whole array"))
    assert_close(tr("softmax of a batch whose rows differ in scale"), mixed, want)
    assert_close(tr("softmax of a single vector z[0]"), softmax(z[0].copy()), want[0])
    passed(tr("softmax matches torch.softmax on {n}x{v} inputs, and stays finite for z + 1000 "
              "and for rows of different scales", n=N, v=V))


def check_rnn_cell_forward(rnn_cell_forward, seed: int = 0, N: int = 3, D: int = 4, H: int = 5, V: int = 6):
    expect_callable(rnn_cell_forward, "rnn_cell_forward")
    rng = np.random.default_rng(seed)
    P = make_params(D, H, V, rng)
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    want_h, want_y = ref_cell_forward(x_t, h_prev, P)
    result = rnn_cell_forward(x_t.copy(), h_prev.copy(), copy_params(P))
    if not returns(result, 2):
        raise AssertionError(tr("rnn_cell_forward must return the pair (h_t, y_t)"))
    h_t, y_t = result

    a = x_t @ P["W_xh"].T + h_prev @ P["W_hh"].T + P["b_h"]
    assert_close("h_t", h_t, want_h, mistakes={
        tr("sigmoid used where h_t needs tanh"): 1 / (1 + np.exp(-a)),
        tr("tanh is missing: h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)"): a,
        tr("the bias b_h is missing"): np.tanh(a - P["b_h"]),
        tr("the recurrent term W_hh h_{t-1} is missing"): np.tanh(a - h_prev @ P["W_hh"].T),
        tr("the input term W_xh x_t is missing"): np.tanh(a - x_t @ P["W_xh"].T),
    })
    h = want_h.cpu().numpy()
    logits = h @ P["W_hy"].T + P["b_y"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert_close("y_t", y_t, want_y, mistakes={
        tr("y_t is computed from h_{t-1}; it must use the new h_t"): h_prev @ P["W_hy"].T + P["b_y"],
        tr("the bias b_y is missing"): logits - P["b_y"],
        tr("softmax applied: rnn_cell_forward returns the logits y_t, not probabilities"): e / e.sum(1, keepdims=True),
        tr("tanh applied to y_t: the output layer is linear"): np.tanh(logits),
    })
    passed(tr("rnn_cell_forward matches torch.nn.RNNCell + nn.Linear (float64, {describe}), "
              "N={n} D={d} H={h}", describe=describe(), n=N, d=D, h=H))


@depends_on(rnn_cell_forward=check_rnn_cell_forward)
def check_rnn_forward(rnn_forward, seed: int = 0, N: int = 2, T: int = 5, D: int = 4, H: int = 3, V: int = 4):
    expect_callable(rnn_forward, "rnn_forward")
    rng = np.random.default_rng(seed)
    P = make_params(D, H, V, rng)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    want_y, want_h = ref_forward(x, h0, P)
    result = rnn_forward(x.copy(), h0.copy(), copy_params(P))
    if not returns(result, 2):
        raise AssertionError(tr("rnn_forward must return the pair (y, h)"))
    y, h = result

    from_h0 = np.tanh(x @ P["W_xh"].T + (h0 @ P["W_hh"].T)[:, None] + P["b_h"])
    ref_h = want_h.cpu().numpy()
    shifted = np.concatenate([h0[:, None], ref_h[:, :-1]], axis=1)
    assert_close(tr("h (all hidden states)"), h, want_h, mistakes={
        tr("h_0 is fed to every step; each step must receive the previous step's h_t"): from_h0,
        tr("h is shifted by one step: h[:, t] must hold h_t, the state after reading x[:, t]"): shifted,
        tr("h holds only zeros: store each step's h_t in h[:, t]"): np.zeros_like(ref_h),
    })
    assert_close(tr("y (all outputs)"), y, want_y, mistakes={
        tr("y[:, t] is computed from the state before step t"): shifted @ P["W_hy"].T + P["b_y"],
    })
    passed(tr("rnn_forward matches torch.nn.RNN + nn.Linear (float64, {describe}), N={n} T={t} "
              "D={d} H={h}", describe=describe(), n=N, t=T, d=D, h=H))


def _np_cell_backward(da, x_t, h_prev, P):
    """Gradients from the pre-activation gradient da: used only to recognise mistakes."""
    return da @ P["W_xh"], da @ P["W_hh"], {"W_xh": da.T @ x_t, "W_hh": da.T @ h_prev, "b_h": da.sum(0)}


def check_rnn_cell_backward(rnn_cell_backward, seed: int = 0, N: int = 3, D: int = 4, H: int = 5, V: int = 3):
    expect_callable(rnn_cell_backward, "rnn_cell_backward")
    rng = np.random.default_rng(seed)
    P = make_params(D, H, V, rng)
    x_t, h_prev, dh_t = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    h_t = ref_cell_forward(x_t, h_prev, P)[0].cpu().numpy()
    want_dx, want_dh_prev, want = ref_cell_backward(dh_t, x_t, h_prev, P)
    result = rnn_cell_backward(dh_t.copy(), x_t.copy(), h_prev.copy(), h_t.copy(), copy_params(P))
    if not returns(result, 3) or not isinstance(result[2], dict):
        raise AssertionError(tr("rnn_cell_backward must return (dx_t, dh_prev, grads) with grads a dict"))
    dx_t, dh_prev, grads = result

    da = dh_t * (1 - h_t**2)
    no_deriv = _np_cell_backward(dh_t, x_t, h_prev, P)
    sigmoid_deriv = _np_cell_backward(dh_t * h_t * (1 - h_t), x_t, h_prev, P)
    prev_deriv = _np_cell_backward(dh_t * (1 - h_prev**2), x_t, h_prev, P)

    def mistakes(i, key=None):
        pick = (lambda r: r[i]) if key is None else (lambda r: r[2][key])
        return {
            tr("the tanh derivative (1 - h_t^2) is missing from the chain rule"): pick(no_deriv),
            tr("the sigmoid derivative h(1 - h) was used; tanh's derivative is 1 - h_t^2"): pick(sigmoid_deriv),
            tr("the tanh derivative uses h_{t-1}; it must use the new h_t"): pick(prev_deriv),
        }

    assert_close("dx_t", dx_t, want_dx, mistakes=mistakes(0))
    assert_close("dh_prev", dh_prev, want_dh_prev, mistakes={
        **mistakes(1), tr("W_hh is transposed: dh_prev = da W_hh, not da W_hh^T"): da @ P["W_hh"].T})
    for key in ("W_xh", "W_hh", "b_h"):
        if key not in grads:
            raise AssertionError(tr("grads has no entry '{key}'; it needs 'W_xh', 'W_hh' and 'b_h'", key=key))
    assert_close("grads['W_xh']", grads["W_xh"], want["W_xh"], mistakes=mistakes(2, "W_xh"))
    assert_close("grads['W_hh']", grads["W_hh"], want["W_hh"], mistakes={
        **mistakes(2, "W_hh"),
        tr("dW_hh is transposed: it is da^T h_{t-1} with shape (H, H)"): h_prev.T @ da,
        tr("dW_hh uses h_t; the weight multiplies h_{t-1}"): da.T @ h_t,
    })
    assert_close("grads['b_h']", grads["b_h"], want["b_h"], mistakes={
        **mistakes(2, "b_h"), tr("db_h is averaged over the batch; it must be summed"): da.mean(0)})
    passed(tr("rnn_cell_backward matches torch.autograd through nn.RNNCell (float64, "
              "{describe})", describe=describe()))


def _np_backward(dy, x, h0, h, P, carry=True, accumulate=True, first_prev=None):
    """Sequence gradients with switches for the classic mistakes (recognition only); `first_prev` is the state
    wrongly used as h_{t-1} at t = 0."""
    grads = {k: np.zeros_like(v) for k, v in P.items()}
    dh_next = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        h_prev = (h0 if first_prev is None else first_prev) if t == 0 else h[:, t - 1]
        step = {"W_hy": dy[:, t].T @ h[:, t], "b_y": dy[:, t].sum(0)}
        dh_t = dy[:, t] @ P["W_hy"] + (dh_next if carry else 0)
        _, dh_next, g = _np_cell_backward(dh_t * (1 - h[:, t] ** 2), x[:, t], h_prev, P)
        step.update(g)
        for k, v in step.items():
            grads[k] = grads[k] + v if accumulate else v
    return grads, dh_next


@depends_on(rnn_cell_backward=check_rnn_cell_backward)
def check_rnn_backward(rnn_backward, seed: int = 0, N: int = 2, T: int = 4, D: int = 3, H: int = 4, V: int = 3):
    expect_callable(rnn_backward, "rnn_backward")
    rng = np.random.default_rng(seed)
    P = make_params(D, H, V, rng)
    x, h0, dy = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, V))
    h = ref_forward(x, h0, P)[1].cpu().numpy()
    want, want_dh0 = ref_backward(dy, x, h0, P)
    result = rnn_backward(dy.copy(), x.copy(), h0.copy(), h.copy(), copy_params(P))
    if not returns(result, 2) or not isinstance(result[0], dict):
        raise AssertionError(tr("rnn_backward must return (grads, dh0) with grads a dict"))
    grads, dh0 = result

    overwritten, _ = _np_backward(dy, x, h0, h, P, accumulate=False)
    no_carry, no_carry_dh0 = _np_backward(dy, x, h0, h, P, carry=False)
    wrapped, _ = _np_backward(dy, x, h0, h, P, first_prev=h[:, -1])
    zeros, _ = _np_backward(dy, x, h0, h, P, first_prev=np.zeros_like(h0))
    for key in PARAM_NAMES:
        if key not in grads:
            raise AssertionError(tr("grads has no entry '{key}'; it needs all of {param_names}", key=key,
                                    param_names=', '.join(PARAM_NAMES)))
        assert_close(f"grads['{key}']", grads[key], want[key], mistakes={
            tr("gradients are overwritten at each step; sum them over all time steps (+=)"): overwritten[key],
            tr("the gradient from step t+1 (dh_next) is not added to dL/dh_t"): no_carry[key],
            tr("only step t = 0 is wrong: there h_{t-1} must be h0, but h[:, t - 1] with t = 0 "
               "is h[:, -1], the last state (Python's negative index)"): wrapped[key],
            tr("only step t = 0 is wrong: there h_{t-1} must be h0, not zeros"): zeros[key],
        })
    assert_close("dh0", dh0, want_dh0, mistakes={
        tr("the gradient from step t+1 (dh_next) is not added to dL/dh_t"): no_carry_dh0,
    })
    passed(tr("rnn_backward matches torch.autograd through nn.RNN (float64, {describe}), T={t}",
              describe=describe(), t=T))


# --- sampling -------------------------------------------------------------------------------------


def _cycle_params(V: int, through_hidden: bool) -> dict:
    """Parameters whose next character is (current + 1) mod V with probability ~1.

    through_hidden=False: the input decides (tests that samples are fed back as inputs).
    through_hidden=True: only the hidden state decides (tests that h is carried between steps).
    """
    shift = np.roll(np.eye(V), 1, axis=0)  # shift @ e_i = e_{i+1}
    big = 30.0
    if through_hidden:
        return {"W_xh": np.zeros((V, V)), "W_hh": big * shift, "b_h": np.zeros(V),
                "W_hy": big * np.eye(V), "b_y": np.zeros(V)}
    return {"W_xh": big * np.eye(V), "W_hh": np.zeros((V, V)), "b_h": np.zeros(V),
            "W_hy": big * shift, "b_y": np.zeros(V)}


def _indices(out, V: int) -> list[int] | None:
    """sample's output as a list of ints, checked before anything is computed from it."""
    if out is None:
        return None
    got = np.asarray(out).ravel()
    if got.dtype.kind not in "iuf" or got.size > 10**6:
        fail(tr("sample must return a list of character indices, got {kind} of {dtype} ({size} "
                "values)", kind=type(out).__name__, dtype=got.dtype, size=got.size))
    bad = got[(got < 0) | (got >= V) | (got != np.round(got))]
    if bad.size:
        fail(tr("sample returned index {item!r}, outside 0..{v}: each index must pick one of the "
                "V characters", item=bad[0].item(), v=V - 1))
    return [int(i) for i in got]


def _tv(freq: np.ndarray, logits: np.ndarray) -> float:
    """Total variation distance between sampled frequencies and softmax(logits)."""
    return 0.5 * float(np.abs(freq - torch.softmax(as_tensor(logits), dim=0).cpu().numpy()).sum())


@depends_on(softmax=check_softmax, rnn_cell_forward=check_rnn_cell_forward)
def check_sample(sample, seed: int = 0, V: int = 5, n: int = 3000):
    """Feedback of each sample, carried hidden state, reproducibility with rng, and temperature."""
    expect_callable(sample, "sample")
    h_first = np.zeros((1, V))
    h_first[0, 0] = 1.0
    want = [(i + 1) % V for i in range(2 * V)]
    cases = [  # (params, h0, which model, what a constant output means)
        (_cycle_params(V, False), np.zeros((1, V)), tr("that always moves to the next character"),
         tr("each sampled index must be fed back as the next input (one-hot)")),
        (_cycle_params(V, True), h_first, tr("whose next character is decided by the hidden state"),
         tr("the hidden state h must be carried from each step to the next")),
    ]
    for params, h0, model, constant_hint in cases:
        got = _indices(sample(params, h0, 0, 2 * V, 1.0, np.random.default_rng(seed)), V)
        if got is None or len(got) != 2 * V:
            fail(tr("sample(..., n={value}) must return {value} indices, got {got!r}", value=2 * V, got=got))
        if got != want:
            fail(tr("with a model {model}, sample gave {got}, expected {want}", model=model, got=got, want=want),
                 constant_hint if len(set(got)) == 1 else "")

    logits = np.random.default_rng(seed + 1000).normal(0, 1.5, V)
    iid = {"W_xh": np.zeros((V, V)), "W_hh": np.zeros((V, V)), "b_h": np.zeros(V),
           "W_hy": np.zeros((V, V)), "b_y": logits}
    first = sample(copy_params(iid), np.zeros((1, V)), 0, 50, 1.0, np.random.default_rng(seed))
    again = sample(copy_params(iid), np.zeros((1, V)), 0, 50, 1.0, np.random.default_rng(seed))
    if _indices(first, V) != _indices(again, V):
        fail(tr("two runs with generators of the same seed gave different samples: draw with the "
                "`rng` argument (rng.choice), not np.random's global state"))
    for temperature in (0.5, 1.0, 2.0):
        samples = _indices(sample(copy_params(iid), np.zeros((1, V)), 0, n, temperature, np.random.default_rng(seed)),
                           V)
        if samples is None or len(samples) != n:
            fail(tr("sample(..., n={n}) must return {n} indices, got {value}", n=n,
                    value='None' if samples is None else len(samples)))
        freq = np.bincount(np.asarray(samples, dtype=np.int64), minlength=V) / len(samples)
        tv = _tv(freq, logits / temperature)
        if tv > 0.05:  # a correct sampler lands ~0.01 away at n = 3000; mistakes land 0.15 or more away
            hint = ""
            if freq.max() == 1.0:
                hint = tr("every draw is the most likely character: sample from p (rng.choice), not argmax")
            elif _tv(freq, logits * temperature) < 0.05:
                hint = tr("the logits were multiplied by the temperature; divide them: softmax(y / "
                          "temperature)")
            elif _tv(freq, logits) < 0.05:
                hint = tr("the temperature is ignored: use softmax(y / temperature)")
            p = torch.softmax(as_tensor(logits / temperature), dim=0).cpu().numpy()
            fail(tr("at temperature {temperature} the sampled frequencies {freq} are far from "
                    "softmax(y / T) = {p} (total variation {tv:.3f} > 0.05)", temperature=temperature,
                    freq=np.round(freq, 3).tolist(), p=np.round(p, 3).tolist(), tv=tv), hint)
    passed(tr("sample feeds back its samples, carries h, and matches softmax(y / T) at T = "
              "0.5, 1, 2 (n={n})", n=n))


readable_tracebacks(globals())
