"""The pictures of the cells carry the symbols of the equations they draw, and the forms say where they are used."""

import matplotlib
import pytest

from rnncourse import diagrams

matplotlib.use("Agg")

SYMBOLS = {
    "rnn": {"$h_{t-1}$", "$x_t$", "$h_t$", "$y_t$", r"$\tanh$"},
    "lstm": {"$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", "$f_t$", "$i_t$", "$g_t$", "$o_t$", r"$\odot$", "+"},
    "gru": {"$h_{t-1}$", "$h_t$", "$x_t$", "$r_t$", "$z_t$", "$n_t$", r"$\odot$", "+", "1-"},
    "bidirectional": {r"$\overrightarrow{h}_t$", r"$\overleftarrow{h}_t$", "LSTM→", "LSTM←"},
}


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for t in fig.texts]


@pytest.mark.parametrize("name", sorted(SYMBOLS))
def test_each_cell_is_drawn_with_the_symbols_of_its_equations(name):
    fig = diagrams.draw(name)
    fig.canvas.draw()  # mathtext is parsed here: a typo in a label fails
    missing = SYMBOLS[name] - set(texts(fig))
    assert not missing, missing


def test_the_lstm_has_three_sigmoid_gates_and_a_tanh_candidate_and_the_gru_no_output_tanh():
    lstm, gru = texts(diagrams.draw("lstm")), texts(diagrams.draw("gru"))
    assert lstm.count(r"$\sigma$") == 3 and lstm.count(r"$\tanh$") == 2  # g_t, and tanh(c_t) before o_t
    assert gru.count(r"$\sigma$") == 2 and gru.count(r"$\tanh$") == 1    # the candidate only


def test_the_forms_figure_names_the_notebook_of_every_form():
    fig = diagrams.forms()
    fig.canvas.draw()
    captions = " ".join(texts(fig))
    for notebook in ("01", "02-04", "05"):
        assert notebook in captions
    assert len(fig.axes) == len(diagrams.FORMS) == 4


def test_an_unknown_picture_is_refused_with_the_names_there_are():
    with pytest.raises(ValueError, match="bidirectional"):
        diagrams.draw("transformer")
