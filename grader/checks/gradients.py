"""Checks for notebook 02, vanishing and exploding gradients.

The Jacobians and gradient norms are numpy float64 and are compared with torch.autograd through
torch.nn.RNNCell with copied weights: torch.autograd.functional.jacobian for the Jacobians, and the
.grad of every retained hidden state for the gradient norms. Clipping is compared with
torch.nn.utils.clip_grad_norm_ on copies of the same gradients.

Layout as in notebook 01: h_t = tanh(x_t W_xh^T + h_{t-1} W_hh^T + b_h), batch first, h[:, t] = h_t.
One step's Jacobian, per example: dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh, an (H, H) matrix.
"""

import numpy as np
import torch

from grader.checks import as_tensor, depends_on, expect_callable, passed, readable_tracebacks
from grader.checks.rnn import copy_params, make_params, ref_forward, torch_rnn
from grader.device import describe, device
from grader.i18n import tr
from grader.tolerance import FLOAT32, assert_close, close, fail

# --- torch references -----------------------------------------------------------------------------


def _per_example(jac: torch.Tensor) -> torch.Tensor:
    """(N, H, N, H) Jacobian of a batched map -> the (N, H, H) blocks of each example with itself."""
    N = jac.shape[0]
    return jac[torch.arange(N), :, torch.arange(N), :]


def ref_jacobian(x, h_start, params):
    """d h_T / d h_start, running the cell from h_start over every step of x (N, k, D); k = 0 gives I."""
    cell, _ = torch_rnn(params, cell=True)
    x = as_tensor(x)

    def run(h):
        for t in range(x.shape[1]):
            h = cell(x[:, t], h)
        return h

    return _per_example(torch.autograd.functional.jacobian(run, as_tensor(h_start)))


def ref_hidden_grads(dh_T, x, h0, params):
    """dL/dh_t for every t, where L = sum(h_T * dh_T): autograd through an unrolled nn.RNNCell."""
    cell, _ = torch_rnn(params, cell=True)
    h, states = as_tensor(h0), []
    for t in range(x.shape[1]):
        h = cell(as_tensor(x[:, t]), h)
        h.retain_grad()
        states.append(h)
    (h * as_tensor(dh_T)).sum().backward()
    return torch.stack([s.grad for s in states], dim=1)  # (N, T, H)


# --- inputs ---------------------------------------------------------------------------------------


def _sequence(rng, N, T, D, H):
    """Parameters, inputs, initial state and the reference hidden states h (N, T, H) as numpy."""
    P = make_params(D, H, 1, rng)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    h = ref_forward(x, h0, P)[1].cpu().numpy()
    return P, x, h0, h


def _np_jacobians(h, W, deriv=lambda h: 1 - h**2):
    """diag(deriv(h_t)) W for a batch of states h (N, H): recognition of mistakes only."""
    return deriv(h)[:, :, None] * W


# --- the checks -----------------------------------------------------------------------------------


def check_step_jacobian(step_jacobian, seed: int = 0, N: int = 3, D: int = 4, H: int = 5):
    expect_callable(step_jacobian, "step_jacobian")
    rng = np.random.default_rng(seed)
    P = make_params(D, H, 1, rng)
    x_t, h_prev = rng.normal(size=(N, 1, D)), rng.normal(size=(N, H))
    h_t = ref_forward(x_t, h_prev, P)[1][:, 0].cpu().numpy()
    want = ref_jacobian(x_t, h_prev, P)
    W = P["W_hh"]
    assert_close(tr("step_jacobian(h_t, params)"), step_jacobian(h_t.copy(), copy_params(P)), want, mistakes={
        tr("the tanh derivative diag(1 - h_t^2) is missing: dh_t/dh_{t-1} = diag(1 - h_t^2) "
           "W_hh"):
            np.broadcast_to(W, (N, H, H)),
        tr("W_hh is transposed: row i of the Jacobian is dh_t[i]/dh_{t-1}, which is (1 - "
           "h_t[i]^2) W_hh[i, :]"):
            _np_jacobians(h_t, W.T),
        tr("the derivative scales the columns (W_hh diag(1 - h_t^2)); it must scale the "
           "rows: diag(1 - h_t^2) W_hh"):
            W * (1 - h_t**2)[:, None, :],
        tr("the sigmoid derivative h(1 - h) was used; tanh's derivative is 1 - h_t^2"):
            _np_jacobians(h_t, W, lambda h: h * (1 - h)),
        tr("the derivative is 1 - h_t, not 1 - h_t^2"): _np_jacobians(h_t, W, lambda h: 1 - h),
    })
    passed(tr("step_jacobian matches torch.autograd.functional.jacobian through nn.RNNCell "
              "(float64, {describe}), N={n} H={h}", describe=describe(), n=N, h=H))


@depends_on(step_jacobian=check_step_jacobian)
def check_jacobian_product(jacobian_product, seed: int = 0, N: int = 2, T: int = 6, D: int = 3, H: int = 4,
                           ks: tuple = (0, 1, 3, 6)):
    expect_callable(jacobian_product, "jacobian_product")
    rng = np.random.default_rng(seed)
    P, x, h0, h = _sequence(rng, N, T, D, H)
    J = [_np_jacobians(h[:, s], P["W_hh"]) for s in range(T)]  # J[s] = dh[:, s] / dh[:, s-1]

    def product(steps, newest_first=True):
        out = np.broadcast_to(np.eye(H), (N, H, H))
        for s in steps:
            out = J[s] @ out if newest_first else out @ J[s]
        return out

    for k in ks:
        h_start = h0 if k == T else h[:, T - k - 1]
        want = ref_jacobian(x[:, T - k:], h_start, P)
        got = jacobian_product(h.copy(), copy_params(P), k)
        mistakes = {
            tr("the product is in the wrong order: dh_T/dh_{T-k} = J_T J_{T-1} ... J_{T-k+1}, "
               "the newest step's Jacobian on the left"): product(range(T - k, T), newest_first=False),
        }
        if k < T:
            mistakes[tr("one factor too many: dh_T/dh_{{T-k}} is a product of exactly k = {k} Jacobians", k=k)] = \
                product(range(T - k - 1, T))
        if 0 < k:
            mistakes[tr("one factor too few: dh_T/dh_{{T-k}} is a product of exactly k = {k} Jacobians", k=k)] = \
                product(range(T - k + 1, T))
            mistakes[tr("the states are off by one: the step from h_{s-1} to h_s uses h_s = h[:, s]")] = \
                product(range(T - k - 1, T - 1)) if k < T else None
        assert_close(tr("jacobian_product(h, params, k={k})", k=k), got, want,
                     mistakes={d: m for d, m in mistakes.items() if m is not None})
    passed(tr("jacobian_product matches torch.autograd.functional.jacobian over k = {map} "
              "steps (float64, {describe}), T={t} H={h}", map=', '.join(map(str, ks)), describe=describe(), t=T,
              h=H))


def check_hidden_grad_norms(hidden_grad_norms, seed: int = 0, N: int = 3, T: int = 7, D: int = 3, H: int = 4):
    expect_callable(hidden_grad_norms, "hidden_grad_norms")
    rng = np.random.default_rng(seed)
    P, x, h0, h = _sequence(rng, N, T, D, H)
    dh_T = rng.normal(size=(N, H))
    want = torch.linalg.vector_norm(ref_hidden_grads(dh_T, x, h0, P), dim=(0, 2))
    W = P["W_hh"]

    def by_hand(step, shift=0):
        norms, dh = np.zeros(T), dh_T
        for t in reversed(range(T)):
            norms[t] = np.linalg.norm(dh)
            dh = step(dh, t)
        return np.roll(norms, -shift) if shift else norms

    prev = lambda t: h0 if t == 0 else h[:, t - 1]  # noqa: E731
    got = hidden_grad_norms(dh_T.copy(), h.copy(), copy_params(P))
    assert_close(tr("hidden_grad_norms(dh_T, h, params)"), got, want, mistakes={
        tr("the tanh derivative (1 - h_t^2) is missing when stepping back"): by_hand(lambda dh, t: dh @ W),
        tr("W_hh is transposed: dL/dh_{t-1} = (dL/dh_t * (1 - h_t^2)) W_hh in the course's "
           "row layout"):
            by_hand(lambda dh, t: (dh * (1 - h[:, t] ** 2)) @ W.T),
        tr("the Jacobian is applied, not its transpose: dL/dh_{t-1} = J_t^T dL/dh_t"):
            by_hand(lambda dh, t: (dh @ W.T) * (1 - h[:, t] ** 2)),
        tr("the tanh derivative uses h_{t-1}; stepping back from h_t uses 1 - h_t^2"):
            by_hand(lambda dh, t: (dh * (1 - prev(t) ** 2)) @ W),
        tr("the sigmoid derivative h(1 - h) was used; tanh's derivative is 1 - h_t^2"):
            by_hand(lambda dh, t: (dh * h[:, t] * (1 - h[:, t])) @ W),
    })
    passed(tr("hidden_grad_norms matches the norms of torch.autograd's dL/dh_t through "
              "nn.RNNCell (float64, {describe}), T={t}", describe=describe(), t=T))


# --- clipping -------------------------------------------------------------------------------------


def _with_grads(rng, norms: tuple, none_at: int | None = None) -> list[torch.Tensor]:
    """Parameters whose gradients have the given norms (different shapes); one may have grad None."""
    shapes = [(3, 4), (5,), (2, 2, 3), (6,)]
    params = []
    for i, norm in enumerate(norms):
        p = torch.zeros(shapes[i % len(shapes)], dtype=torch.float64, device=device(), requires_grad=True)
        if i != none_at:
            g = rng.normal(size=p.shape)
            p.grad = as_tensor(g * norm / np.linalg.norm(g))
        params.append(p)
    return params


def _grads(params) -> list:
    return [None if p.grad is None else p.grad.detach().clone() for p in params]


def _call_clip(clip_grad_norm, params, max_norm, as_generator=False):
    """Run the learner's clip on its own copies; return (their gradients after, the value returned)."""
    copies = []
    for p in params:
        c = p.detach().clone().requires_grad_(True)
        c.grad = None if p.grad is None else p.grad.clone()
        copies.append(c)
    try:
        total = clip_grad_norm((c for c in copies) if as_generator else copies, max_norm)
    except (AttributeError, TypeError) as e:
        if any(p.grad is None for p in params) and "NoneType" in str(e):
            fail(tr("{e}: a parameter whose .grad is None (it took no part in the loss) must be "
                    "skipped, as torch.nn.utils.clip_grad_norm_ does", e=e))
        raise
    return _grads(copies), total


def _scaled(grads: list, c: float) -> list:
    return [None if g is None else g * c for g in grads]


def _assert_grads(what: str, got: list, want: list, mistakes: dict) -> None:
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if w is None:
            continue
        wrong = {d: m[i] for d, m in mistakes.items()}
        assert_close(tr("{what}: gradient of parameter {i}", what=what, i=i), g, w, FLOAT32, wrong)


def _returned_norm(total, want: float) -> str:
    """A line that tells whether the norm the learner's function returned is right, to split a wrong clipping
    into a wrong norm or a wrong rescaling."""
    try:
        got = float(total)
    except (TypeError, ValueError):
        return tr("(it returned {kind}, not the total norm {want:.6g})", kind=type(total).__name__, want=want)
    if close(got, want, FLOAT32):
        return tr("The total norm it returned, {got:.6g}, is right: the rescaling of the gradients "
                  "is what is wrong.", got=got)
    return (tr("The total norm it returned, {got:.6g}, is wrong too (expected {want:.6g}, the "
               "global norm before clipping): check the norm first.", got=got, want=want))


def check_clip_grad_norm(clip_grad_norm, seed: int = 0, max_norm: float = 1.0):
    """Compare with torch.nn.utils.clip_grad_norm_ when clipping happens, when it must not, with a
    generator of parameters and with a parameter that has no gradient.

    Tolerance FLOAT32 (rtol 1e-4): torch divides by (norm + 1e-6), a relative difference of ~1e-7 here.
    """
    expect_callable(clip_grad_norm, "clip_grad_norm")
    rng = np.random.default_rng(seed)
    cases = [  # (what, gradient norms in units of max_norm, which has grad None, pass a generator)
        (tr("large gradients (total norm about 8x max_norm)"), (7.9, 0.3, 3.0), None, False),
        (tr("small gradients (total norm about 0.6x max_norm): nothing may change"), (0.5, 0.3), None, False),
        (tr("parameters given as a generator, like model.parameters()"), (5.0, 2.0), None, True),
        (tr("a parameter whose .grad is None"), (4.0, 0.0, 2.0), 1, False),
    ]
    for what, norms, none_at, as_generator in cases:
        params = _with_grads(rng, tuple(n * max_norm for n in norms), none_at)
        before = _grads(params)
        got, total = _call_clip(clip_grad_norm, params, max_norm, as_generator)
        want_total = torch.nn.utils.clip_grad_norm_(params, max_norm)
        want = _grads(params)

        present = [g for g in before if g is not None]
        norm = float(torch.sqrt(sum((g**2).sum() for g in present)))
        per_tensor = [None if g is None else g * min(1.0, max_norm / float(g.norm())) for g in before]
        mistakes = {
            tr("each gradient is clipped by its own norm; clip by the global norm over all "
               "parameters together"):
                per_tensor,
            tr("gradients are clipped by value (clamp); clip_grad_norm rescales all of them by "
               "one factor"):
                [None if g is None else g.clamp(-max_norm, max_norm) for g in before],
            tr("small gradients are scaled up: rescale only when the total norm exceeds max_norm"):
                _scaled(before, max_norm / norm),
            tr("the squared norm is used; the global norm is the square root of the sum of "
               "squares"):
                _scaled(before, min(1.0, max_norm / norm**2)),
        }
        if norm > max_norm:
            unchanged = (tr("the gradients were not changed: modify p.grad in place (p.grad.mul_(c) or "
                            "p.grad *= c)")
                         + (tr("; parameters can be iterated only once when they come from a generator, so make "
                               "a list of them first") if as_generator else ""))
            mistakes = {unchanged: before, **mistakes}
        try:
            _assert_grads(what, got, want, mistakes)
        except AssertionError as e:
            raise AssertionError(f"{e}\n  {_returned_norm(total, float(want_total))}") from None
        if total is None:
            fail(tr("{what}: clip_grad_norm returned None; return the total norm before clipping", what=what))
        if not close(float(total), float(want_total), FLOAT32):
            hint = (tr("the norm after clipping was returned; return the total norm before clipping")
                    if norm > max_norm and abs(float(total) - max_norm) < 1e-4 else "")
            fail(tr("{what}: clip_grad_norm returned {total:.6g}, expected the total norm "
                    "{want_total:.6g} (before clipping)", what=what, total=float(total),
                    want_total=float(want_total)), hint)
    passed(tr("clip_grad_norm matches torch.nn.utils.clip_grad_norm_ (max_norm={max_norm}, "
              "{describe}) when clipping, when not, with a generator and with a missing "
              "gradient", max_norm=max_norm, describe=describe()))


readable_tracebacks(globals())
