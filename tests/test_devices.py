"""Device placement is right on any device, proved without a GPU.

On a GPU the checks put their inputs on the GPU (grader.checks.as_tensor, modules moved to device()), while
`lengths` stays on the CPU, where pack_padded_sequence wants it. A function that mixes the two where torch
forbids it fails there only. So every torch-based check runs here once on the CPU with the reference solution,
recording each call it makes to it; each call is then replayed with the inputs placed as the check places them
on a GPU. The GPU is played by torch's `meta` device: on a CPU-only build of torch a fake CUDA tensor cannot be
sliced or moved (FakeTensorMode raises "PyTorch is not linked with support for cuda devices"), while a meta tensor
can, and torch enforces the same rule for it: tensors of two devices meet only as 0-d CPU scalars or CPU indices.
"""

import ast
import copy
import functools
import types

import nbformat
import numpy as np
import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorDeviceMismatchError, FakeTensorMode

import grader.checks
import grader.checks.bilstm
import grader.checks.gradients
import grader.checks.gru
import grader.checks.lstm
import grader.checks.speed
from grader.course import SOLUTIONS
from grader.submissions import solution_code

CHECKS = {"02_vanishing_gradients": grader.checks.gradients, "03_lstm": grader.checks.lstm,
          "04_gru": grader.checks.gru, "05_bilstm": grader.checks.bilstm, "06_lstm_speed": grader.checks.speed}
GPU = torch.device("meta")
MIXED = ("is not on the expected device", "same device", "found at least two devices")


def reference(assignment: str) -> dict:
    """The solution notebook's imports, functions and classes (no other statements: nothing trains)."""
    namespace = {}
    for cell in nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4).cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        tree = ast.parse(solution_code(cell.source))
        kept = ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef
        tree.body = [n for n in tree.body if isinstance(n, kept)]
        exec(compile(tree, assignment, "exec"), namespace)
    return namespace


def graded_checks() -> list:
    """(assignment, check, name of the function it checks) for each test cell of a torch notebook."""
    found = []
    for assignment in CHECKS:
        for cell in nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4).cells:
            if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
                call = next(n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Call))
                found.append((assignment, call.func.id, call.args[0].id))
    return found


@pytest.fixture
def placed(monkeypatch):
    """Tensors made by the checks' as_tensor are marked: on a GPU they are the ones on the GPU."""
    made = grader.checks.as_tensor

    def as_tensor(*args, **kwargs):
        t = made(*args, **kwargs)
        t.on_gpu = True
        return t

    for module in (grader.checks, *CHECKS.values()):
        if hasattr(module, "as_tensor"):
            monkeypatch.setattr(module, "as_tensor", as_tensor)


def on_gpu(value):
    """`value` as the check gives it on a GPU: marked tensors and every module on the GPU, the rest where it is."""
    if isinstance(value, torch.Tensor):
        if not getattr(value, "on_gpu", False):
            return value
        moved = value.detach().to(GPU).requires_grad_(value.requires_grad)
        if value.grad is not None:
            moved.grad = value.grad.detach().to(GPU)
        return moved
    if isinstance(value, torch.nn.Module):
        return copy.deepcopy(value).to(GPU)
    if isinstance(value, dict):
        return {k: on_gpu(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(on_gpu(v) for v in value)
    if isinstance(value, Generator):  # parameters() given as a generator: recorded as a list, replayed as one
        return (on_gpu(v) for v in value.items)
    return value


class Generator:
    """A generator argument, kept so that the replay gets a fresh one."""

    def __init__(self, items):
        self.items = items


def recorded(fn, calls: list):
    """fn, recording the arguments of each call (a class: the arguments of each call of its instances)."""
    if isinstance(fn, type):
        class Recorded(fn):
            def forward(self, *args):
                calls.append((copy.deepcopy(self).to(GPU), args))
                return super().forward(*args)
        return Recorded

    @functools.wraps(fn)
    def call(*args, **kwargs):
        args = tuple(Generator(list(a)) if isinstance(a, types.GeneratorType) else a for a in args)
        calls.append((fn, args))
        return fn(*(iter(a.items) if isinstance(a, Generator) else a for a in args), **kwargs)
    return call


def replay(fn, args) -> str:
    """Run fn with the arguments placed as on a GPU: "" when it ran, the device error's text, or "no meta" when
    an op has no meta kernel or needs values (nothing learnt about placement)."""
    try:
        fn(*on_gpu(args))
    except (RuntimeError, NotImplementedError) as e:
        return str(e) if any(words in str(e) for words in MIXED) else "no meta"
    return ""


@pytest.mark.parametrize(("assignment", "check", "name"), graded_checks())
def test_reference_solutions_keep_their_inputs_on_one_device_as_placed_on_a_gpu(placed, assignment, check, name,
                                                                                 capsys):
    namespace = reference(assignment)
    calls = []
    run = next(getattr(m, check) for m in (CHECKS[assignment], *CHECKS.values()) if hasattr(m, check))
    run(recorded(namespace[name], calls))
    assert calls, f"{check} never called {name}"
    outcomes = [replay(fn, args) for fn, args in list(calls)]
    errors = [error for error in outcomes if error not in ("", "no meta")]
    assert errors == [], f"{name} mixes devices when {check} runs on a GPU: {errors[0]}"
    assert "" in outcomes, f"no call of {name} could be replayed on the meta device: {outcomes}"


def test_notebook_05s_old_mask_recipe_fails_on_a_gpu_and_the_new_one_does_not(placed):
    """The replay can fail: notebook 05's first mask recipe, torch.arange(T, device=x.device) < lengths[:, None],
    mixes devices on a GPU (the checks keep lengths on the CPU), as torch's FakeTensorMode shows with fake CUDA
    tensors too; the recipe the notebook now gives moves lengths to x's device first."""
    namespace = reference("05_bilstm")
    old = "torch.arange(x.shape[1], device=x.device) < lengths[:, None]"
    new = "torch.arange(x.shape[1], device=x.device) < lengths.to(x.device)[:, None]"
    source = solution_code(next(c.source for c in nbformat.read(SOLUTIONS / "05_bilstm" / "05_bilstm.ipynb",
                                                                    as_version=4).cells
                                if c.metadata.get("nbgrader", {}).get("grade_id") == "bidirectional"))
    assert new in source
    exec(source.replace(new, old), namespace)
    calls = []
    grader.checks.bilstm.check_bidirectional(recorded(namespace["bidirectional"], calls))
    assert any(replay(fn, args) not in ("", "no meta") for fn, args in list(calls))
    text = nbformat.read(SOLUTIONS / "05_bilstm" / "05_bilstm.ipynb", as_version=4)
    assert "lengths.to(x.device)[:, None]" in "".join(c.source for c in text.cells if c.cell_type == "markdown")
    lengths = torch.as_tensor(np.array([3, 1]))
    with FakeTensorMode(allow_non_fake_inputs=True), pytest.raises(FakeTensorDeviceMismatchError):
        _ = torch.arange(3, device="cuda") < lengths[:, None]
