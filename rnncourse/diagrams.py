"""Pictures of the cells and of the RNN forms, drawn with matplotlib by this code (no copied image).

Every label is a symbol of the notebooks' equations: boxes are layers with weights (σ or tanh of W x_t + V h_{t-1}
+ b), circles are element-wise operations (⊙ the Hadamard product, + the sum, 1- one minus), arrows carry vectors.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyBboxPatch

from grader.i18n import tr

LAYER, OPERATION, STATE = "#f6d55c", "#ed553b", "#3caea3"


def _box(ax, xy, text, color=LAYER, w=0.8, h=0.5):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=color, ec="k", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=11)


def _op(ax, xy, text):
    ax.add_patch(Circle(xy, 0.22, fc=OPERATION, ec="k", lw=1, alpha=0.85))
    ax.text(*xy, text, ha="center", va="center", fontsize=11, color="white", weight="bold")


def _wire(ax, *points, label=None, at=0.5, arrow=True, offset=(0.12, 0.08)):
    """A line through `points` with an arrowhead at the end and, optionally, a label near a fraction `at` of it."""
    xs, ys = zip(*points, strict=True)
    ax.plot(xs[:-1], ys[:-1], color="k", lw=1.2)
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops={"arrowstyle": "-|>" if arrow else "-", "color": "k", "lw": 1.2, "shrinkA": 0,
                            "shrinkB": 0})
    if label:
        k = min(int(at * (len(points) - 1)), len(points) - 2)
        (x0, y0), (x1, y1) = points[k], points[k + 1]
        ax.text((x0 + x1) / 2 + offset[0], (y0 + y1) / 2 + offset[1], label, fontsize=11)


def _frame(ax, title, xlim, ylim):
    ax.set(xlim=xlim, ylim=ylim, aspect="equal", title=title)
    ax.axis("off")


def rnn(ax):
    """h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), y_t = W_hy h_t + b_y (notebook 01)."""
    _box(ax, (3, 1.5), r"$\tanh$", w=1.2)
    _box(ax, (4.3, 3), r"$W_{hy}\,\cdot + b_y$", color=STATE, w=1.4)
    _wire(ax, (0, 1.5), (2.35, 1.5), label=r"$h_{t-1}$", at=0)
    _wire(ax, (3, 0), (3, 1.2), label=r"$x_t$", at=0, offset=(0.1, 0))
    _wire(ax, (3.6, 1.5), (6.5, 1.5), label=r"$h_t$", at=0.9, offset=(-0.2, 0.1))
    _wire(ax, (4.3, 1.5), (4.3, 2.7))
    _wire(ax, (4.3, 3.3), (4.3, 4.2), label=r"$y_t$", offset=(0.1, 0))
    ax.text(3, 2.05, r"$W_{xh} x_t + W_{hh} h_{t-1} + b_h$", ha="center", fontsize=9)
    _frame(ax, tr("RNN (notebooks 01, 02)"), (-0.3, 7), (-0.3, 4.5))


def lstm(ax):
    """c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t, h_t = o_t ⊙ tanh(c_t) (notebook 03)."""
    gates = {"f": (1.5, r"$\sigma$", r"$f_t$"), "i": (2.7, r"$\sigma$", r"$i_t$"), "g": (3.9, r"$\tanh$", r"$g_t$"),
             "o": (5.1, r"$\sigma$", r"$o_t$")}
    _wire(ax, (0, 0.3), (6.3, 0.3), arrow=False)                     # the shared input [h_{t-1}, x_t]
    ax.text(0, 0.42, r"$h_{t-1}$", fontsize=11)
    _wire(ax, (0.8, -0.6), (0.8, 0.3), label=r"$x_t$", at=0, offset=(0.1, 0))
    for x, squash, name in gates.values():
        _wire(ax, (x, 0.3), (x, 1.0))
        _box(ax, (x, 1.25), squash, w=0.7, h=0.45)
        ax.text(x + 0.38, 1.6, name, fontsize=11)
    _wire(ax, (0, 3.2), (1.3, 3.2), label=r"$c_{t-1}$", at=0, offset=(0, 0.12))
    _op(ax, (1.5, 3.2), r"$\odot$")
    _wire(ax, (1.5, 1.5), (1.5, 2.98))
    _op(ax, (3.3, 2.3), r"$\odot$")
    _wire(ax, (2.7, 1.5), (2.7, 2.3), (3.08, 2.3))
    _wire(ax, (3.9, 1.5), (3.9, 2.3), (3.52, 2.3))
    _wire(ax, (1.72, 3.2), (3.08, 3.2))
    _op(ax, (3.3, 3.2), "+")
    _wire(ax, (3.3, 2.52), (3.3, 2.98))
    _wire(ax, (3.52, 3.2), (7.2, 3.2), label=r"$c_t$", at=1, offset=(-0.35, 0.12))
    _box(ax, (5.8, 2.6), r"$\tanh$", color=STATE, w=0.7, h=0.4)
    _wire(ax, (5.8, 3.2), (5.8, 2.8))
    _op(ax, (5.8, 1.9), r"$\odot$")
    _wire(ax, (5.8, 2.4), (5.8, 2.12))
    _wire(ax, (5.1, 1.5), (5.1, 1.9), (5.58, 1.9))
    _wire(ax, (6.02, 1.9), (7.2, 1.9), label=r"$h_t$", at=1, offset=(-0.35, 0.12))
    _frame(ax, tr("LSTM (notebooks 03, 05, 06)"), (-0.3, 7.4), (-0.8, 3.7))


def gru(ax):
    """r_t, z_t; n_t = tanh(W_n x_t + V_n (r_t ⊙ h_{t-1}) + b_n); h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1} (04)."""
    _wire(ax, (0, 3.2), (4.38, 3.2), label=r"$h_{t-1}$", at=0, offset=(0, 0.12))
    _wire(ax, (0.6, 3.2), (0.6, 0.3), (2.7, 0.3), arrow=False)      # [h_{t-1}, x_t] into both gates
    _wire(ax, (0.8, -0.6), (0.8, 0.3), label=r"$x_t$", at=0, offset=(0.1, 0))
    _wire(ax, (0.8, -0.3), (3.4, -0.3), (3.4, 0.98))                 # x_t into the candidate
    for x, name in ((1.5, r"$z_t$"), (2.4, r"$r_t$")):
        _wire(ax, (x, 0.3), (x, 1.0))
        _box(ax, (x, 1.25), r"$\sigma$", w=0.6, h=0.45)
        ax.text(x + 0.33, 1.55, name, fontsize=11)
    _op(ax, (3.4, 2.3), r"$\odot$")                                   # r_t ⊙ h_{t-1}: the original form
    _wire(ax, (3.4, 3.2), (3.4, 2.52))
    _wire(ax, (2.4, 1.5), (2.4, 2.3), (3.18, 2.3))
    _box(ax, (3.4, 1.25), r"$\tanh$", w=0.7, h=0.45)
    _wire(ax, (3.4, 2.08), (3.4, 1.52))
    ax.text(3.8, 0.8, r"$n_t$", fontsize=11)
    _op(ax, (4.6, 3.2), r"$\odot$")                                   # z_t ⊙ h_{t-1}
    _wire(ax, (1.5, 1.5), (1.5, 2.75), (4.6, 2.75), (4.6, 2.98))
    _op(ax, (5.2, 2.3), "1-")
    _wire(ax, (4.6, 2.75), (5.2, 2.75), (5.2, 2.52))
    _op(ax, (5.9, 2.3), r"$\odot$")                                   # (1 - z_t) ⊙ n_t
    _wire(ax, (5.42, 2.3), (5.68, 2.3))
    _wire(ax, (3.77, 1.25), (5.9, 1.25), (5.9, 2.08))
    _op(ax, (5.9, 3.2), "+")
    _wire(ax, (4.82, 3.2), (5.68, 3.2))
    _wire(ax, (5.9, 2.52), (5.9, 2.98))
    _wire(ax, (6.12, 3.2), (7.4, 3.2), label=r"$h_t$", at=1, offset=(-0.35, 0.12))
    ax.text(6.1, 2.5, tr("no tanh on\nthe output"), fontsize=8, style="italic")
    _frame(ax, tr("GRU, original form (notebook 04)"), (-0.3, 7.6), (-0.8, 3.7))


def bidirectional(ax, T: int = 4):
    """Two LSTMs, one reading forward and one backward; each step's output is [h→_t, h←_t] (notebook 05)."""
    for t in range(T):
        x = 1.5 * t
        _wire(ax, (x, 0), (x, 0.75), label=rf"$x_{t + 1}$" if t < T - 1 else r"$x_T$", at=0, offset=(0.1, -0.1))
        _box(ax, (x, 1), "LSTM→", w=1.0, h=0.45)
        _box(ax, (x, 2.1), "LSTM←", color=STATE, w=1.0, h=0.45)
        _wire(ax, (x, 0.45), (x - 0.7, 0.45), (x - 0.7, 1.6), (x - 0.25, 1.6), (x - 0.25, 1.85))  # x_t, read backwards
        _box(ax, (x, 3.2), r"$[\overrightarrow{h}_t ; \overleftarrow{h}_t]$", color="white", w=1.2, h=0.45)
        _wire(ax, (x + 0.3, 1.22), (x + 0.3, 2.95))
        _wire(ax, (x - 0.3, 2.32), (x - 0.3, 2.95))
        if t < T - 1:
            _wire(ax, (x + 0.5, 1), (x + 1.0, 1))
            _wire(ax, (x + 1.0, 2.1), (x + 0.5, 2.1))
    ax.text(-0.9, 1.35, r"$\overrightarrow{h}_t$", fontsize=11)
    ax.text(-0.9, 2.45, r"$\overleftarrow{h}_t$", fontsize=11)
    ax.text(1.5 * (T - 1) + 0.75, 3.2, tr("2H numbers per step"), fontsize=8, va="center", style="italic")
    _frame(ax, tr("Bidirectional LSTM (notebook 05)"), (-1.2, 1.5 * T + 0.8), (-0.5, 3.7))


FORMS = {  # name: (inputs at steps, outputs at steps)
    "one to many": ([0], [0, 1, 2, 3]),
    "many to one": ([0, 1, 2, 3], [3]),
    "many to many, in step": ([0, 1, 2, 3], [0, 1, 2, 3]),
    "many to many, read then write": ([0, 1, 2], [3, 4, 5]),
}
"""The RNN forms of the lecture notes."""


def _form_captions() -> dict:
    """Each form's title and where the course uses it, in the reader's language."""
    return {"one to many": (tr("one to many"), tr("01: sampling, each output fed back")),
            "many to one": (tr("many to one"), tr("02-04: the adding problem; 05: names by sex")),
            "many to many, in step": (tr("many to many, in step"), tr("01: next letter; 05: where names end")),
            "many to many, read then write": (tr("many to many, read then write"),
                                              tr("not in this course (translation)"))}


def forms():
    """The RNN forms: an input below a step, a hidden state in it, an output above it; arrows between steps."""
    fig, axes = plt.subplots(1, len(FORMS), figsize=(15, 2.6))
    captions = _form_captions()
    for ax, (name, (inputs, outputs)) in zip(axes, FORMS.items(), strict=True):
        title, used = captions[name]
        steps = max(inputs + outputs) + 1
        for t in range(steps):
            _box(ax, (t, 1), "h", color=STATE, w=0.5, h=0.5)
            if t in inputs:
                _box(ax, (t, 0), "x", color=LAYER, w=0.5, h=0.4)
                _wire(ax, (t, 0.2), (t, 0.75))
            if t in outputs:
                _box(ax, (t, 2), "y", color=OPERATION, w=0.5, h=0.4)
                _wire(ax, (t, 1.25), (t, 1.8))
            if t < steps - 1:
                _wire(ax, (t + 0.25, 1), (t + 0.75, 1))
        ax.set(xlim=(-0.6, 5.6), ylim=(-0.9, 2.4), aspect="equal")
        ax.axis("off")
        ax.set_title(title, fontsize=11)
        ax.text(2.5, -0.6, used, ha="center", va="top", fontsize=9)
    fig.tight_layout()
    return fig


def draw(name: str, width: float = 7.5):
    """One cell's picture ("rnn", "lstm", "gru", "bidirectional") in a figure of its own."""
    cell = {"rnn": rnn, "lstm": lstm, "gru": gru, "bidirectional": bidirectional}
    if name not in cell:
        raise ValueError(f"no picture named {name!r}; there are {sorted(cell)}")
    fig, ax = plt.subplots(figsize=(width, width * 0.55))
    cell[name](ax)
    fig.tight_layout()
    return fig
