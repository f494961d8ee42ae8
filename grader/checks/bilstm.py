"""Checks for notebook 05, the bidirectional LSTM over padded batches.

A bidirectional layer runs one LSTM forward in time and a second one over the reversed sequence, puts the
second one's outputs back in time order and concatenates: outputs[:, t] = [h_fwd_t ; h_bwd_t] (2H). In a padded
batch each sequence i has its own length L_i: the backward direction must start at x_{L_i}, not at the padding,
and positions t >= L_i of the outputs are 0, as torch.nn.utils.rnn.pad_packed_sequence leaves them. The summary
of a sequence is [h_fwd at L_i ; h_bwd at 1]: each direction's state after reading the whole sequence.

References: torch.nn.LSTM(bidirectional=True) fed with pack_padded_sequence, in float64 on the check's device,
with its two directions' weights copied into the two one-direction nn.LSTM modules the learner's code is given.
"""

import numpy as np
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from grader.checks import as_tensor, depends_on, expect_callable, passed, readable_tracebacks
from grader.device import describe, device
from grader.i18n import tr
from grader.tolerance import FLOAT64, assert_close, fail, to_numpy


def make_lengths(N: int, T: int, rng: np.random.Generator) -> np.ndarray:
    """Lengths in [1, T], the first one T and, when N > 1, the second one shorter: real padding every time."""
    lengths = rng.integers(1, T + 1, size=N)
    lengths[0] = T
    if N > 1:
        lengths[1] = max(1, T // 2)
    return lengths


def reverse_np(x: np.ndarray, lengths) -> np.ndarray:
    """Each sequence's first L_i steps in reverse order, padding left where it is (numpy)."""
    out = x.copy()
    for i, L in enumerate(lengths):
        out[i, :L] = x[i, :L][::-1]
    return out


def mask_np(lengths, T: int) -> np.ndarray:
    """(N, T, 1): 1 at real steps, 0 at padding."""
    return (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[..., None].astype(float)


def torch_bilstm(D: int, H: int, seed: int) -> torch.nn.LSTM:
    torch.manual_seed(seed)
    return torch.nn.LSTM(D, H, batch_first=True, bidirectional=True).to(device(), torch.float64)


def directions(bilstm: torch.nn.LSTM) -> tuple[torch.nn.LSTM, torch.nn.LSTM]:
    """Two one-direction nn.LSTM modules holding the forward and the backward weights of `bilstm`."""
    layers = []
    for suffix in ("", "_reverse"):
        layer = torch.nn.LSTM(bilstm.input_size, bilstm.hidden_size, batch_first=True).to(device(), torch.float64)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(layer, name + "_l0").copy_(getattr(bilstm, f"{name}_l0{suffix}"))
        layers.append(layer)
    return layers[0], layers[1]


def reference(bilstm: torch.nn.LSTM, x: torch.Tensor, lengths) -> tuple[torch.Tensor, torch.Tensor]:
    """torch's bidirectional LSTM on the packed batch: outputs (N, T, 2H) padded with 0, summary (N, 2H)."""
    T = x.shape[1]
    packed = pack_padded_sequence(x, torch.as_tensor(lengths), batch_first=True, enforce_sorted=False)
    out, (h_n, _) = bilstm(packed)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
    return out, torch.cat([h_n[0], h_n[1]], dim=-1)


# --- the checks -----------------------------------------------------------------------------------


def check_reverse_time(reverse_time, seed: int = 0, N: int = 4, T: int = 6, D: int = 3):
    expect_callable(reverse_time, "reverse_time")
    rng = np.random.default_rng(seed)
    x, lengths = rng.normal(size=(N, T, D)), make_lengths(N, T, rng)
    got = reverse_time(as_tensor(x), None)
    assert_close(tr("reverse_time(x, None)"), got, x[:, ::-1], FLOAT64, {tr("x came back unchanged"): x})
    given = torch.as_tensor(lengths)
    got = reverse_time(as_tensor(x), given)
    if not torch.equal(given, torch.as_tensor(lengths)):
        fail(tr("reverse_time changed the lengths it was given"))
    padding = mask_np(lengths, T) == 0
    assert_close(tr("reverse_time(x, lengths)"), got, reverse_np(x, lengths), FLOAT64, {
        tr("the whole padded sequence was reversed, so the padding comes first: reverse "
           "only the first lengths[i] steps of sequence i"): x[:, ::-1],
        tr("x came back unchanged"): x}, regions={
        tr("the real steps (t < lengths[i]), which must come in reverse order"): ~padding,
        tr("the padding positions (t >= lengths[i]), which must stay where they are, "
           "unchanged"): padding})
    passed(tr("reverse_time reverses each sequence within its length and leaves the padding in "
              "place, N={n} T={t}", n=N, t=T))


def _bidirectional_mistakes(fwd, bwd, x, lengths, mask) -> dict:
    """Outputs of the usual mistakes, with the same two one-direction LSTMs (numpy)."""
    with torch.no_grad():
        out_f = to_numpy(fwd(as_tensor(x))[0])
        run_b = lambda xs: to_numpy(bwd(as_tensor(xs))[0])  # noqa: E731
        b_rev = run_b(reverse_np(x, lengths))
        b_full = run_b(x[:, ::-1].copy())
    right_b = reverse_np(b_rev, lengths)
    return {
        tr("the backward outputs are left in reversed order: put them back in time order "
           "(reverse them again)"):
            np.concatenate([out_f, b_rev], -1) * mask,
        tr("the directions are concatenated in the wrong order: outputs[:, t] = [h_fwd_t ; "
           "h_bwd_t]"):
            np.concatenate([right_b, out_f], -1) * mask,
        tr("the backward direction reads the padding: it must start at each sequence's last "
           "real element (reverse within lengths)"): np.concatenate([out_f, b_full[:, ::-1]], -1) * mask,
        tr("the padding positions are not 0: set outputs at t >= lengths[i] to 0, as "
           "pad_packed_sequence does"):
            np.concatenate([out_f, right_b], -1),
    }


@depends_on(reverse_time=check_reverse_time)
def check_bidirectional(bidirectional, seed: int = 0, N: int = 4, T: int = 6, D: int = 3, H: int = 4):
    """Outputs and gradients against torch.nn.LSTM(bidirectional=True), without padding and with it."""
    expect_callable(bidirectional, "bidirectional")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T, D))
    R = rng.normal(size=(N, T, 2 * H))
    for padded in (False, True):
        lengths = make_lengths(N, T, rng) if padded else np.full(N, T)
        what = tr("with padding") if padded else tr("without padding")
        bilstm = torch_bilstm(D, H, seed)
        fwd, bwd = directions(bilstm)
        x_ref, x_ours = as_tensor(x, requires_grad=True), as_tensor(x, requires_grad=True)
        want, _ = reference(bilstm, x_ref, lengths)
        (want * as_tensor(R)).sum().backward()
        got = bidirectional(x_ours, torch.as_tensor(lengths) if padded else None, fwd, bwd)
        mask = mask_np(lengths, T)
        mistakes = _bidirectional_mistakes(fwd, bwd, x, lengths, mask)
        half = np.arange(2 * H) < H
        regions = {tr("the forward direction's half (features :H) at real steps"): (mask > 0) & half,
                   tr("the backward direction's half (features H:) at real steps"): (mask > 0) & ~half}
        if padded:
            regions[tr("the padding positions (t >= lengths[i], which must be 0)")] = mask == 0
        assert_close(f"outputs {what}", got, want, FLOAT64, mistakes, regions)
        loss = (got * as_tensor(R)).sum()
        if not loss.requires_grad:
            fail(tr("the outputs carry no gradient: build them with torch operations (no .detach() "
                    "or .numpy())"))
        loss.backward()
        assert_close(tr("the gradient of x {what} (by autograd through your layer)", what=what),
                     x_ours.grad, x_ref.grad)
        for layer, suffix, name in ((fwd, "", "forward"), (bwd, "_reverse", "backward")):
            assert_close(tr("the gradient of the {name} LSTM's weight_ih {what}", name=name, what=what),
                         layer.weight_ih_l0.grad,
                         getattr(bilstm, "weight_ih_l0" + suffix).grad)
    passed(tr("bidirectional matches torch.nn.LSTM(bidirectional=True) with packed sequences, "
              "forward and backward, padded and unpadded (float64, {describe}); N={n} T={t} "
              "H={h}", describe=describe(), n=N, t=T, h=H))


def check_summary(summary, seed: int = 0, N: int = 4, T: int = 6, H: int = 3):
    expect_callable(summary, "summary")
    rng = np.random.default_rng(seed)
    out, lengths = rng.normal(size=(N, T, 2 * H)), make_lengths(N, T, rng)
    out = out * mask_np(lengths, T)
    last = out[np.arange(N), lengths - 1]
    first = out[:, 0]
    want = np.concatenate([last[:, :H], first[:, H:]], -1)
    got = summary(as_tensor(out), torch.as_tensor(lengths))
    assert_close("summary", got, want, FLOAT64, {
        tr("the forward half is taken at the last padded step T, not at each sequence's "
           "last element lengths[i] - 1"):
            np.concatenate([out[:, -1, :H], first[:, H:]], -1),
        tr("the backward half is taken at the last step; the backward direction has read "
           "the whole sequence at t = 1 (index 0)"): last,
        tr("the halves are swapped: [h_fwd at its last element ; h_bwd at the first]"):
            np.concatenate([first[:, H:], last[:, :H]], -1),
        tr("the forward half is taken at t = 1 (index 0), where it has read only one element"): first,
    })
    passed(tr("summary takes [h_fwd at each sequence's last element ; h_bwd at its first], "
              "N={n} T={t} H={h}", n=N, t=T, h=H))


@depends_on(bidirectional=check_bidirectional, summary=check_summary)
def check_classifier(BiLSTMClassifier, seed: int = 0, N: int = 5, T: int = 7, V: int = 11, E: int = 4, H: int = 3,
                     C: int = 3):
    """The seeds' model against embedding + torch.nn.LSTM(bidirectional=True) on packed input + linear + softmax.
    Every parameter of the learner's model is first set to fresh random values (load_state_dict), and the
    reference is built from those values alone, so a model that ignores its input, or whose layers start at 0,
    cannot match it."""
    expect_callable(BiLSTMClassifier, "BiLSTMClassifier")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = BiLSTMClassifier(V, E, H, C).to(device(), torch.float64)
    shapes = {"embed.weight": (V, E), "out.weight": (C, 2 * H), "out.bias": (C,)}
    for name in ("forward_lstm", "backward_lstm"):
        shapes.update({f"{name}.W": (4 * H, E), f"{name}.V": (4 * H, H), f"{name}.b": (4 * H,)})
    held = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if held != shapes:
        fail(tr("BiLSTMClassifier's parameters are {held}; keep the layers __init__ creates "
                "(embed, forward_lstm, backward_lstm, out) so that it holds exactly {shapes}", held=held,
                shapes=shapes))
    fresh = {k: as_tensor(rng.normal(0, 0.5, size=shape)) for k, shape in shapes.items()}
    model.load_state_dict(fresh)
    lengths = make_lengths(N, T, rng)
    ids = rng.integers(1, V, size=(N, T)) * (mask_np(lengths, T)[..., 0] > 0)  # 0 is the padding token
    bilstm = torch.nn.LSTM(E, H, batch_first=True, bidirectional=True).to(device(), torch.float64)
    with torch.no_grad():
        for layer, suffix in (("forward_lstm", ""), ("backward_lstm", "_reverse")):
            getattr(bilstm, "weight_ih_l0" + suffix).copy_(fresh[f"{layer}.W"])
            getattr(bilstm, "weight_hh_l0" + suffix).copy_(fresh[f"{layer}.V"])
            getattr(bilstm, "bias_ih_l0" + suffix).copy_(fresh[f"{layer}.b"])
            getattr(bilstm, "bias_hh_l0" + suffix).zero_()
        ids_t = torch.as_tensor(ids, device=device())
        embedded = torch.nn.functional.embedding(ids_t, fresh["embed.weight"])
        outputs, summary = reference(bilstm, embedded, lengths)
        readout = lambda s: torch.nn.functional.linear(s, fresh["out.weight"], fresh["out.bias"])  # noqa: E731
        logits = readout(summary)
        want = torch.softmax(logits, dim=-1)
        got = model(ids_t, torch.as_tensor(lengths))
    assert_close(tr("class probabilities"), got, want, FLOAT64, {
        tr("these are the logits: the seeds' model ends with a softmax"): logits,
        tr("log-probabilities: the seeds' model ends with a softmax (probabilities that sum "
           "to 1)"):
            torch.log_softmax(logits, dim=-1),
        tr("the summary is read at the padded last step"): torch.softmax(readout(torch.cat(
            [outputs[:, -1, :H], outputs[:, 0, H:]], -1)), dim=-1),
    })
    passed(tr("BiLSTMClassifier matches embedding -> torch.nn.LSTM(bidirectional=True) -> "
              "linear -> softmax (float64, {describe})", describe=describe()))


readable_tracebacks(globals())
