"""Every solution notebook runs from top to bottom without an error: in grading mode by default,
in full mode (real training) with `-m slow`."""

import re

import pytest

from grader.bench import errors, execute, text
from grader.course import assignments


def final_mse(out: str, *labels: str) -> dict:
    """The held-out MSE that train_adding's summary line printed for each run."""
    return {label: float(out.split(label + ": test MSE ")[1].split()[0]) for label in labels}


def line_of(out: str, words: str) -> str:
    """The first printed line that contains `words`."""
    lines = [line for line in out.splitlines() if words in line]
    assert lines, f"no line printed with {words!r}"
    return lines[0]


def number_after(out: str, words: str) -> float:
    """The number printed right after `words` (a % sign or anything else after it ignored)."""
    m = re.search(re.escape(words) + r"\s*([-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?)", out)
    assert m, f"no number printed after {words!r}"
    return float(m[1])


@pytest.mark.parametrize("assignment", assignments())
def test_solution_notebook_runs_without_errors_in_grading_mode(assignment):
    assert errors(execute(assignment, grading=True)) == []


@pytest.mark.slow
def test_notebook_01_in_full_mode_learns_names_and_hello():
    nb = execute("01_rnn", grading=False)
    assert errors(nb) == []
    out = text(nb)
    assert "the model predicts 'ello'" in out
    held_out = float(out.split("held-out names ")[1].split()[0])
    assert held_out < 2.3, f"loss per character on held-out names after training: {held_out}"
    training = float(out.split("last 100 steps ")[1].split(",")[0])
    assert held_out > training, (held_out, training)  # the markdown explains this gap
    perplexity = float(out.split("perplexity e^loss: last 100 steps ")[1].split(",")[0])
    assert perplexity < 10, perplexity  # "fewer than ten next letters"


@pytest.mark.slow
def test_notebook_02_in_full_mode_rnn_learns_short_and_fails_long():
    nb = execute("02_vanishing_gradients", grading=False)
    assert errors(nb) == []
    out = text(nb)
    mse = final_mse(out, "RNN, T = 10", "RNN, T = 50", "RNN, T = 10, truncate = 2")
    assert mse["RNN, T = 10"] < 0.01, mse          # learnt: far below the baseline 1/6
    assert mse["RNN, T = 50"] > 0.15, mse          # stays at the baseline
    assert mse["RNN, T = 10, truncate = 2"] > 2 * mse["RNN, T = 10"], mse
    assert mse["RNN, T = 10, truncate = 2"] < 0.15, mse  # "it still beats the baseline"
    clipped = float(out.split("T = 10: clipped at ")[1].split("%")[0])
    assert clipped > 0, clipped  # the markdown says clipping capped some steps; the cell prints how many
    after = {label: number_after(line_of(out, label + " "), "after 60 steps:") for label in (
        "rho = 0.8, input scale 0.05", "rho = 1.0, input scale 0.05", "rho = 3.0, input scale 0.05",
        "rho = 1.0, input scale 2.0")}
    assert 1e-7 < after["rho = 0.8, input scale 0.05"] < 1e-5, after      # "about 10^-6"
    assert 0.1 < after["rho = 1.0, input scale 0.05"] < 10, after         # "stays near 1"
    assert after["rho = 3.0, input scale 0.05"] > 1e3, after              # "still explodes"
    assert after["rho = 1.0, input scale 2.0"] < 1e-3, after              # saturated units: it vanishes
    line = line_of(out, "before training  sigma_max")
    assert 0.5 < number_after(line, "spectral radius") < 0.7, line       # "a spectral radius of about 0.6"
    assert 1e-12 < number_after(line, "49 steps back") < 1e-10, line      # "about 10^-11"


@pytest.mark.slow
def test_notebook_03_in_full_mode_lstm_learns_what_the_rnn_cannot():
    nb = execute("03_lstm", grading=False)
    assert errors(nb) == []
    out = text(nb)
    runs = ("RNN", "your LSTM, forget bias 1", "your LSTM, default init")
    mse = final_mse(out, *runs)
    assert mse["RNN"] > 0.15, mse                          # the baseline, as in notebook 02
    accuracy = {label: number_after(line_of(out, label + ": test MSE"), "accuracy") for label in runs}
    assert accuracy["RNN"] < 20 and min(accuracy.values()) == accuracy["RNN"], accuracy
    assert accuracy["your LSTM, forget bias 1"] > 90 and accuracy["your LSTM, default init"] > 90, accuracy
    gate = line_of(out, "forget gate on example 7")
    assert 0.5 < number_after(gate, "from") and number_after(gate, "to") < 1, gate   # "stays high but below 1"
    r2 = line_of(out, "25 steps later")
    assert number_after(r2, "R^2") > 0.8 and number_after(r2, "state,") < 0.2, r2    # carried vs nearly lost
    assert number_after(out, "differs from f_t by at most") < 1e-12
    lstm, rnn = line_of(out, "LSTM f_t "), line_of(out, "RNN singular values ")
    assert number_after(rnn, "below 0.1:") > 50, rnn       # the RNN's step wipes out most directions
    assert number_after(lstm, "below 0.1:") == 0 == number_after(lstm, "above 1:"), lstm  # never nothing, never more
    assert number_after(lstm, "above 0.9:") > 0, lstm      # close to all of it in a few units
    reach = {label: [number_after(line_of(out, label + " "), f"{k} steps back") for k in (25, 49)]
             for label in (f"{run}, {state}" for run in runs for state in ("untrained", "trained"))}
    assert reach["your LSTM, forget bias 1, untrained"][0] > 100 * reach["your LSTM, default init, untrained"][0]
    assert 0.01 < reach["your LSTM, default init, untrained"][0] / reach["RNN, untrained"][0] < 100, reach
    assert min(reach["your LSTM, forget bias 1, trained"] + reach["your LSTM, default init, trained"]) > 0.1, reach
    assert reach["RNN, trained"][0] < 1e-3, reach          # falls off within a few steps, as in notebook 02


@pytest.mark.slow
def test_notebook_04_in_full_mode_gated_cells_solve_the_long_task_and_the_forms_differ():
    nb = execute("04_gru", grading=False)
    assert errors(nb) == []
    out = text(nb)
    mse = final_mse(out, "RNN", "LSTM", "GRU")
    assert mse["RNN"] > 0.15, mse
    assert mse["LSTM"] < 0.01 and mse["GRU"] < 0.01, mse
    assert mse["GRU"] < mse["LSTM"], mse                   # "in 2,000 steps the GRU gets further than the LSTM"
    loss = {label: number_after(out, f"{label}: held-out loss") for label in ("RNN", "LSTM", "GRU")}
    assert max(loss.values()) - min(loss.values()) < 0.15, loss  # "on names the three cells end up close"
    assert number_after(out, "held-out loss after every epoch: largest difference") < 1e-3  # the curves coincide
    before, at, after = (line_of(out, words) for words in ("before the first marked", "at the first marked",
                                                           "after it, before the second"))
    share = {k: number_after(line, "mean 1 - z_t") for k, line in (("before", before), ("at", at), ("after", after))}
    assert share["at"] > share["before"] > share["after"], share                 # jumps at the mark, falls after
    assert number_after(at, "above 0.9:") > 10, at                                # a good part take in nearly all
    assert number_after(after, "below 0.1:") > number_after(before, "below 0.1:"), (before, after)  # more close
    gap = number_after(out, "over 200 steps: mean")
    assert 0.01 < gap < 0.5, gap                           # the two forms are different functions
    names = {label: float(out.split(label + ": held-out loss ")[1].split()[0]) for label in ("GRU", "your GRU")}
    assert max(names.values()) < 2.2, names                # both learnt the names (uniform guess: ln 27 = 3.3)
    mse_torch = float(out.split("nn.GRU")[-1].split("held-out MSE ")[1].split(",")[0])
    mse_ours = float(out.split("your GRU ")[-1].split("held-out MSE ")[1].split(",")[0])
    assert mse_torch == mse_ours, (mse_torch, mse_ours)   # the trained weights load into the learner's GRU


@pytest.mark.slow
def test_notebook_05_in_full_mode_reading_the_future_finds_where_names_end():
    nb = execute("05_bilstm", grading=False)
    assert errors(nb) == []
    out = text(nb)
    f1 = {label: float(out.split(label)[1].split("held-out F1 ")[1].split(",")[0])
          for label in ("one direction :", "bidirectional :")}
    assert f1["bidirectional :"] > f1["one direction :"] + 0.1, f1
    accuracy = float(out.split("BiLSTM classifier: held-out accuracy ")[1].split("%")[0])
    assert accuracy > 80, accuracy                         # the majority class is 77.8%


@pytest.mark.slow
def test_notebook_06_in_full_mode_times_every_variant_against_nn_lstm():
    nb = execute("06_lstm_speed", grading=False)
    assert errors(nb) == []
    out = text(nb)
    assert out.count("same outputs") >= 3 and "DIFFERENT" not in out
    assert "N=64 T=100 D=64 H=256" in out and "| torch.nn.LSTM |" in out
    assert "best of the course's variants" in out
    fused = [line for line in out.splitlines() if line.startswith("fused") and "operations per step" in line][0]
    forward, backward = number_after(fused, "per step:"), number_after(fused, "forward,")
    assert 10 <= forward <= 16 and 17 <= backward <= 25, fused  # "about a dozen forward and twenty backward"
    assert number_after(fused.replace(",", ""), "backward;") > 3000, fused  # "over 3,000 launches" for T = 100
