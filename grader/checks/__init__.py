"""Checks the notebooks' graded test cells call: one module per notebook.

A check takes the learner's function as its argument, raises AssertionError with a message that
names the wrong quantity and the likely mistake, and prints one line when everything matches.
"""

import contextlib
import functools
import io

import numpy as np
import torch

from grader.device import device


def as_tensor(a, *, dtype=torch.float64, requires_grad: bool = False) -> torch.Tensor:
    """A reference input on the check's device, float64 unless asked otherwise."""
    return torch.tensor(np.asarray(a), dtype=dtype, device=device(), requires_grad=requires_grad)


def expect_callable(fn, name: str) -> None:
    if not callable(fn):
        raise TypeError(f"pass your function {name} itself (not its result), got {type(fn).__name__}")


def passed(what: str) -> None:
    print(f"OK: {what}")


def depends_on(**checks):
    """Decorate a check whose function calls other graded functions of the learner.

    When the check fails, each of those functions (found by name in the learner's namespace) is run
    through its own check, quietly; the ones that fail are named, so the learner fixes the cause first.
    """

    def decorate(check):
        @functools.wraps(check)
        def wrapper(fn, *args, **kwargs):
            try:
                return check(fn, *args, **kwargs)
            except AssertionError as error:
                broken = [name for name, dep_check in checks.items() if _fails(dep_check, fn, name)]
                if not broken:
                    raise
                note = "".join(f"\n  Note: this calls your {name}, which fails its own test: fix {name} first."
                               for name in broken)
                raise AssertionError(f"{error}{note}") from None

        return wrapper

    return decorate


def _fails(dep_check, fn, name: str) -> bool:
    dep = getattr(fn, "__globals__", {}).get(name)
    if not callable(dep):
        return False
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            dep_check(dep)
    except Exception:
        return True
    return False
