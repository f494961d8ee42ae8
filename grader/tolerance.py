"""The course's tolerance policy, and comparisons that fail with a readable message.

References are computed by torch in float64, so their own error is ~1e-15. What the tolerance must
absorb is the learner's arithmetic:

| learner's arithmetic                     | measured error vs float64  | policy (rtol, atol) |
|------------------------------------------|----------------------------|---------------------|
| numpy or torch float64 (notebooks 01-03) | ~1e-15                     | FLOAT64: 1e-6, 1e-8 |
| torch float32 on CPU, or GPU, TF32 off   | ~2e-7 relative, 1e-5 abs   | FLOAT32: 1e-4, 1e-5 |
| torch float32 on GPU, cuDNN TF32 on      | ~3e-4 relative, 2e-4 abs   | TF32:    5e-3, 2e-3 |

On a GPU, float32 comparisons use TF32 whatever the learner's code does: a layer may be run through cuDNN
(TF32 by default on Ampere and newer) or by matmuls, and the verdict must not depend on which.

Realistic mistakes (sigmoid for tanh, a missing term, swapped gates) move outputs by 0.05 to 1.6,
far beyond every row, so the verdict is the same on CPU and GPU.
"""

from dataclasses import dataclass
from typing import NoReturn

import numpy as np
import torch

from grader.i18n import tr


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


FLOAT64 = Tolerance(rtol=1e-6, atol=1e-8)
FLOAT32 = Tolerance(rtol=1e-4, atol=1e-5)
TF32 = Tolerance(rtol=5e-3, atol=2e-3)


def to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x)


def close(got, want, tol: Tolerance = FLOAT64) -> bool:
    got, want = to_numpy(got), to_numpy(want)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=tol.rtol, atol=tol.atol))


def likely_mistake(got, mistakes: dict | None, tol: Tolerance = FLOAT64) -> str:
    """The description of the first known mistake whose output `got` reproduces, else ""."""
    for description, wrong in (mistakes or {}).items():
        if close(got, wrong, tol):
            return description
    return ""


def assert_close(name: str, got, want, tol: Tolerance = FLOAT64, mistakes: dict | None = None,
                 regions: dict | None = None) -> None:
    """Raise AssertionError naming `name`, the shapes or the largest error, and the likely mistake.

    `mistakes` maps a description of a common mistake to the output that mistake would give. `regions` maps a
    description of a part of the output (the backward half, the padding positions, ...) to a boolean mask of it
    (broadcast to the output's shape): when no known mistake matches, the message says which parts are wrong and
    which are right, so that a mistake outside the catalogue is still located.
    """
    if got is None:
        raise AssertionError(tr("{name}: your function returned None; did you forget `return`?", name=name))
    got_np, want_np = to_numpy(got), to_numpy(want)
    if got_np.dtype == object:
        raise AssertionError(tr("{name}: expected an array of numbers, got {kind}", name=name,
                                kind=type(got).__name__))
    if got_np.shape != want_np.shape:
        raise AssertionError(tr("{name}: expected shape {want}, got {got}", name=name, want=want_np.shape,
                                got=got_np.shape))
    if not np.all(np.isfinite(got_np)):
        raise AssertionError(tr("{name}: contains NaN or inf", name=name))
    if not np.allclose(got_np, want_np, rtol=tol.rtol, atol=tol.atol):
        err = np.abs(got_np - want_np)
        where = np.unravel_index(np.argmax(err), err.shape)
        msg = (
            tr("{name} is wrong: largest error {error:.3g} at index {index} (expected {want:.6g}, got {got:.6g}; "
               "tolerance rtol={rtol}, atol={atol})", name=name, error=err.max(), index=tuple(int(i) for i in where),
               want=want_np[where], got=got_np[where], rtol=tol.rtol, atol=tol.atol)
        )
        hint = likely_mistake(got_np, mistakes, tol)
        if not hint and regions:
            wrong = ~np.isclose(got_np, want_np, rtol=tol.rtol, atol=tol.atol)
            parts = []
            for label, mask in regions.items():
                n = int((wrong & np.broadcast_to(mask, wrong.shape)).sum())
                parts.append(tr("{label}: {n} wrong values", label=label, n=n) if n > 1 else
                             tr("{label}: 1 wrong value", label=label) if n else tr("{label}: right", label=label))
            msg += tr("\n  Where: {parts}", parts="; ".join(parts))
        fail(msg, hint)


def fail(message: str, hint: str = "") -> NoReturn:
    """Raise the AssertionError a test cell shows, with the likely mistake on its own line."""
    raise AssertionError(message + (tr("\n  Likely cause: {hint}", hint=hint) if hint else ""))
